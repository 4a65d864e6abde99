import type { GenerateEvent, ModelRef, SelectModelEvent } from '../../generation/events.ts';

type StreamEvent = GenerateEvent | SelectModelEvent;
type Metadata = Extract<StreamEvent, { type: 'metadata' }>;
type Fallback = Extract<SelectModelEvent, { type: 'fallback' }>;
export type AnswerEvent = Extract<StreamEvent, { type: 'text' | 'reasoning' | 'toolCall' }>;
type ToolCallEvent = Extract<AnswerEvent, { type: 'toolCall' }>;
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
  const { cache } = metadata;
  if (cache) {
    headers['x-tokenflow-cache'] = `hit; kind=${cache.hit}; similarity=${cache.similarity.toFixed(4)}`;
    // As HTTP caches say how old a stored response is.
    headers.age = String(Math.floor(cache.ageSeconds));
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

/** What TokenFlow adds to the last chunk: the cost, what compression saved, and whether the cache answered. */
function endExtension(end: EndEvent) {
  return { usage: end.usage, savings: 'savings' in end ? end.savings : null, cache: end.cache ?? null };
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
  const chunk = (delta: Record<string, unknown>, finishReason: string | null = null) => ({
    ...base,
    choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
    ...usageField,
  });
  const started = new Set<number>();
  /**
   * OpenAI's tool-call delta: `id` and `type` on a call's first fragment only
   * (clients that see `type` again may start a new call, and the Python SDK
   * joins repeated ids into one), then the name and argument fragments
   * exactly as they came.
   */
  const toolCall = (event: ToolCallEvent) => {
    const first = !started.has(event.index);
    started.add(event.index);
    const fn = { ...(event.name !== undefined ? { name: event.name } : {}), arguments: event.argumentsDelta };
    return chunk({
      tool_calls: [
        {
          index: event.index,
          ...(first && event.id !== undefined ? { id: event.id } : {}),
          ...(first ? { type: 'function' } : {}),
          function: fn,
        },
      ],
    });
  };
  return {
    /** The role, and how the model was chosen. */
    first: () => ({ ...chunk({ role: 'assistant', content: '' }), tokenflow: tokenflowField(routing) }),
    /** Reasoning goes in `delta.reasoning`, as OpenRouter and Groq send it. */
    answer: (event: AnswerEvent) =>
      event.type === 'toolCall'
        ? toolCall(event)
        : chunk(event.type === 'text' ? { content: event.text } : { reasoning: event.text }),
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
  const toolCalls = answer.end?.toolCalls ?? [];
  // With tool calls and no text, OpenAI answers `content: null`.
  const content = toolCalls.length > 0 && answer.content === '' ? null : answer.content;
  const message: Record<string, unknown> = { role: 'assistant', content, refusal: null };
  if (answer.reasoning) message.reasoning = answer.reasoning;
  if (toolCalls.length > 0) {
    message.tool_calls = toolCalls.map((call) => ({
      id: call.id,
      type: 'function',
      function: { name: call.name, arguments: call.arguments },
    }));
  }
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
