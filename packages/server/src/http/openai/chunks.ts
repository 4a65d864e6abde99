import type { GenerateEvent, ModelRef, SelectModelEvent } from '../../generation/events.ts';

type StreamEvent = GenerateEvent | SelectModelEvent;
type Metadata = Extract<StreamEvent, { type: 'metadata' }>;
type Fallback = Extract<SelectModelEvent, { type: 'fallback' }>;
export type AnswerEvent = Extract<StreamEvent, { type: 'text' | 'reasoning' }>;
export type EndEvent = Extract<StreamEvent, { type: 'end' }>;

/** How the answering model was chosen: everything a stream says before its first token. */
export interface Routing {
  metadata: Metadata;
  fallbacks: Fallback[];
}

const refName = (ref: ModelRef) => `${ref.provider}/${ref.model}`;

/** The model that answers: the metadata's, or the last fallback's. */
export function answeringModel({ metadata, fallbacks }: Routing): ModelRef {
  return fallbacks.at(-1)?.to ?? metadata;
}

/** The `tokenflow` field of the first chunk (and of a whole completion). */
export function tokenflowField(routing: Routing) {
  const { type: _type, ...metadata } = routing.metadata;
  return { ...metadata, fallbacks: routing.fallbacks.map(({ type: _t, ...fallback }) => fallback) };
}

/** Header values must be visible ASCII; catalog category names need not be. */
const headerValue = (value: string) => (/^[\x20-\x7e]*$/.test(value) ? value : encodeURIComponent(value));

/** The `x-tokenflow-*` headers: which model answers and, for tokenflow/auto, why. */
export function routingHeaders(routing: Routing): Record<string, string> {
  const { metadata } = routing;
  const answering = answeringModel(routing);
  const headers: Record<string, string> = {
    'x-tokenflow-request-id': metadata.requestId,
    'x-tokenflow-provider': headerValue(answering.provider),
    'x-tokenflow-model': headerValue(answering.model),
  };
  if ('category' in metadata) {
    headers['x-tokenflow-category'] = headerValue(metadata.category);
    headers['x-tokenflow-routing'] = headerValue(metadata.routing);
    if (metadata.confidence !== null) headers['x-tokenflow-confidence'] = String(metadata.confidence);
    if (metadata.compression) {
      headers['x-tokenflow-origin-tokens'] = String(metadata.compression.originTokens);
      headers['x-tokenflow-compressed-tokens'] = String(metadata.compression.compressedTokens);
    }
    if (routing.fallbacks.length > 0) headers['x-tokenflow-fallbacks'] = String(routing.fallbacks.length);
  }
  return headers;
}

function openAiUsage(end: EndEvent) {
  if (!end.usage) return null;
  return {
    prompt_tokens: end.usage.promptTokens,
    completion_tokens: end.usage.completionTokens,
    total_tokens: end.usage.totalTokens,
  };
}

/** What TokenFlow adds to the last chunk: the cost, and what compression saved. */
function endExtension(end: EndEvent) {
  return { usage: end.usage, savings: 'savings' in end ? end.savings : null };
}

/** `chat.completion.chunk` objects, as OpenAI streams them, from one stream's events. */
export function chunkEncoder(routing: Routing, options: { includeUsage: boolean; created: number }) {
  const base = {
    id: `chatcmpl-${routing.metadata.requestId}`,
    object: 'chat.completion.chunk' as const,
    created: options.created,
    model: refName(answeringModel(routing)),
    system_fingerprint: null,
  };
  // With include_usage, OpenAI sends `usage: null` on every chunk but the last.
  const usageField = options.includeUsage ? { usage: null } : {};
  const chunk = (delta: Record<string, string>, finishReason: string | null = null) => ({
    ...base,
    choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
    ...usageField,
  });
  return {
    /** The role, and how the model was chosen. */
    first: () => ({ ...chunk({ role: 'assistant', content: '' }), tokenflow: tokenflowField(routing) }),
    /** Reasoning goes in `delta.reasoning`, as OpenRouter and Groq send it. */
    answer: (event: AnswerEvent) => chunk(event.type === 'text' ? { content: event.text } : { reasoning: event.text }),
    end(event: EndEvent) {
      const last = { ...chunk({}, event.finishReason ?? 'stop'), tokenflow: endExtension(event) };
      const usage = openAiUsage(event);
      if (!options.includeUsage) return [last];
      return [last, { ...base, choices: [], usage }];
    },
  };
}

/** A whole `chat.completion`, for requests without `stream: true`. */
export function completion(
  routing: Routing,
  answer: { content: string; reasoning: string; end: EndEvent | null },
  created: number,
) {
  const message: Record<string, unknown> = { role: 'assistant', content: answer.content, refusal: null };
  if (answer.reasoning) message.reasoning = answer.reasoning;
  return {
    id: `chatcmpl-${routing.metadata.requestId}`,
    object: 'chat.completion' as const,
    created,
    model: refName(answeringModel(routing)),
    system_fingerprint: null,
    choices: [{ index: 0, message, logprobs: null, finish_reason: answer.end?.finishReason ?? 'stop' }],
    usage: answer.end ? openAiUsage(answer.end) : null,
    tokenflow: { ...tokenflowField(routing), ...(answer.end ? endExtension(answer.end) : {}) },
  };
}
