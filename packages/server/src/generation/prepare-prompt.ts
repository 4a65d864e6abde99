import type { MlClient } from '../ml/client.ts';
import { type ClassifyResult, ML_LIMITS } from '../ml/schemas.ts';
import { type ChatMessage, textOf } from './chat-schema.ts';
import { classifyWithin } from './classify-within.ts';
import type { SelectModelInput } from './input.ts';
import { compressible, padding, type Segment, segments } from './prose.ts';

export interface PreparedPrompt {
  /** The messages to send, with the compressed text in place. */
  messages: ChatMessage[];
  /** The text that was classified (the last user message). */
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
  /** Ask the classifier for the last user turn's embedding too (the semantic cache's key). */
  returnEmbedding?: boolean | undefined;
}

/**
 * Prose segments compressed per request, the longest first, one after another:
 * each is a call to the ML service, whose queue is shared by every request.
 */
const MAX_COMPRESSED_SEGMENTS = 4;

/** The last message of one of `roles`: that is where long context and the question usually are. */
function lastIndex(messages: ChatMessage[], roles: ReadonlyArray<ChatMessage['role']>) {
  for (let i = messages.length - 1; i >= 0; i -= 1) {
    const role = messages[i]?.role;
    if (role && roles.includes(role)) return i;
  }
  return messages.length - 1;
}

const since = (start: number) => Math.round((performance.now() - start) * 10) / 10;
const reason = (error: unknown) => (error instanceof Error ? error.message : String(error));

type CompressOptions = NonNullable<SelectModelInput['compress']>;
type Compress = (
  text: string,
  options: CompressOptions,
) => Promise<{ compressedText: string; originTokens: number; compressedTokens: number }>;
type Compressed = NonNullable<PreparedPrompt['compression']> & { message: ChatMessage };

/**
 * The message with the prose of its text compressed: code blocks, JSON and
 * images stay as they are, and so does everything outside this message (tool
 * definitions, tool-call arguments). Null when it has no prose. A token
 * budget (targetTokens) is shared among the segments by their length.
 */
async function compressMessage(
  message: ChatMessage,
  options: CompressOptions,
  compress: Compress,
): Promise<Compressed | null> {
  if (message.role === 'assistant' || message.content === null || message.content === undefined) return null;
  const texts =
    typeof message.content === 'string' ? [message.content] : message.content.map((p) => ('text' in p ? p.text : ''));
  const pieces: Segment[][] = texts.map(segments);
  const chosen = pieces
    .flat()
    .filter(compressible)
    .sort((a, b) => b.text.length - a.text.length)
    .slice(0, MAX_COMPRESSED_SEGMENTS);
  if (chosen.length === 0) return null;
  const chosenChars = chosen.reduce((sum, s) => sum + s.text.length, 0);
  const results = new Map<Segment, Awaited<ReturnType<Compress>>>();
  for (const segment of chosen) {
    const { core } = padding(segment.text);
    const share =
      options.targetTokens === undefined
        ? {}
        : { targetTokens: Math.max(1, Math.round((options.targetTokens * segment.text.length) / chosenChars)) };
    results.set(segment, await compress(core, { ...options, ...share }));
  }
  const rewrite = (list: Segment[]) =>
    list
      .map((s) => {
        const result = results.get(s);
        if (!result) return s.text;
        const { before, after } = padding(s.text);
        return before + result.compressedText + after;
      })
      .join('');
  const originTokens = [...results.values()].reduce((sum, r) => sum + r.originTokens, 0);
  const compressedTokens = [...results.values()].reduce((sum, r) => sum + r.compressedTokens, 0);
  const content =
    typeof message.content === 'string'
      ? rewrite(pieces[0] ?? [])
      : message.content.map((part, i) => (part.type === 'text' ? { ...part, text: rewrite(pieces[i] ?? []) } : part));
  return {
    message: { ...message, content } as ChatMessage,
    originTokens,
    compressedTokens,
    ratio: originTokens > 0 ? compressedTokens / originTokens : 1,
  };
}

/**
 * Classifies the prompt and, when asked, compresses it, both at once. Neither
 * failing fails the request: a missing classification routes to the default
 * category and a failed compression sends the prompt as it is, and `notes` say
 * so. A request with tools is not classified: its tools say what it is.
 */
export async function preparePrompt(
  input: SelectModelInput,
  messages: ChatMessage[],
  deps: PrepareDeps,
): Promise<PreparedPrompt> {
  const focusAt = lastIndex(messages, ['user']);
  const focus = messages[focusAt] ? textOf(messages[focusAt]) : '';
  // In an agent loop the newest long text is often a tool result.
  const compressAt = lastIndex(messages, ['user', 'tool']);
  const notes: string[] = [];
  if (input.tools && input.possibleCategories) {
    notes.push('possibleCategories not used: a request with tools is routed as function-calling');
  }
  const started = performance.now();
  let classificationMs = 0;
  let compressionMs: number | null = null;

  const classifying = input.tools
    ? Promise.resolve(null)
    : classifyWithin(
        deps.ml,
        {
          prompt: focus.slice(0, ML_LIMITS.promptChars),
          possibleCategories: input.possibleCategories,
          multiLabel: input.multiLabel ?? false,
        },
        {
          requestId: deps.requestId,
          signal: deps.signal,
          timeoutMs: deps.classifyTimeoutMs,
          returnEmbedding: deps.returnEmbedding,
        },
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

  const options = input.compress;
  const target = messages[compressAt];
  const compressing =
    options && target
      ? compressMessage(target, options, (text, segmentOptions) =>
          deps.ml.compress({ ...segmentOptions, text }, { requestId: deps.requestId, signal: deps.signal }),
        )
          .then(
            (result) => {
              if (!result)
                notes.push('compression skipped: the message has no prose to compress (only code, JSON or images)');
              return result;
            },
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
  return {
    messages: compressed ? messages.map((message, i) => (i === compressAt ? compressed.message : message)) : messages,
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
