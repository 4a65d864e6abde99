import type { MlClient } from '../ml/client.ts';
import { type ClassifyResult, ML_LIMITS } from '../ml/schemas.ts';
import { classifyWithin } from './classify-within.ts';
import type { ChatMessage, SelectModelInput } from './input.ts';

export interface PreparedPrompt {
  /** The messages to send, with the compressed text in place. */
  messages: ChatMessage[];
  /** The text that was classified and (maybe) compressed. */
  focus: string;
  classification: ClassifyResult | null;
  compression: { originTokens: number; compressedTokens: number; ratio: number } | null;
  classificationMs: number;
  compressionMs: number | null;
  notes: string[];
}

export interface PrepareDeps {
  ml: MlClient;
  requestId: string;
  signal: AbortSignal;
  /** Past this, routing goes on without a category rather than wait (busy refusals are retried until then). */
  classifyTimeoutMs: number;
}

/** For messages, the last user message: that is where long context and the question usually are. */
function focusIndex(messages: ChatMessage[]) {
  for (let i = messages.length - 1; i >= 0; i -= 1) if (messages[i]?.role === 'user') return i;
  return messages.length - 1;
}

const since = (start: number) => Math.round((performance.now() - start) * 10) / 10;
const reason = (error: unknown) => (error instanceof Error ? error.message : String(error));

/**
 * Classifies the prompt and, when asked, compresses it, both at once. Neither
 * failing fails the request: a missing classification routes to the default
 * category and a failed compression sends the prompt as it is, and `notes` say so.
 */
export async function preparePrompt(
  input: SelectModelInput,
  messages: ChatMessage[],
  deps: PrepareDeps,
): Promise<PreparedPrompt> {
  const index = focusIndex(messages);
  const focus = messages[index]?.content ?? '';
  const notes: string[] = [];
  const started = performance.now();
  let classificationMs = 0;
  let compressionMs: number | null = null;

  const classifying = classifyWithin(
    deps.ml,
    {
      prompt: focus.slice(0, ML_LIMITS.promptChars),
      possibleCategories: input.possibleCategories,
      multiLabel: input.multiLabel ?? false,
    },
    { requestId: deps.requestId, signal: deps.signal, timeoutMs: deps.classifyTimeoutMs },
  )
    .then(
      (result) => result,
      (error: unknown) => {
        if (!deps.signal.aborted) notes.push(`classification unavailable: ${reason(error)}`);
        return null;
      },
    )
    .finally(() => {
      classificationMs = since(started);
    });

  const compressing = input.compress
    ? deps.ml
        .compress({ ...input.compress, text: focus }, { requestId: deps.requestId, signal: deps.signal })
        .then(
          (result) => result,
          (error: unknown) => {
            if (!deps.signal.aborted) notes.push(`compression unavailable, sent uncompressed: ${reason(error)}`);
            return null;
          },
        )
        .finally(() => {
          compressionMs = since(started);
        })
    : Promise.resolve(null);

  const [classification, compressed] = await Promise.all([classifying, compressing]);
  const sent = compressed
    ? messages.map((message, i) => (i === index ? { ...message, content: compressed.compressedText } : message))
    : messages;
  return {
    messages: sent,
    focus,
    classification,
    compression: compressed && {
      originTokens: compressed.originTokens,
      compressedTokens: compressed.compressedTokens,
      ratio: compressed.ratio,
    },
    classificationMs,
    compressionMs,
    notes,
  };
}
