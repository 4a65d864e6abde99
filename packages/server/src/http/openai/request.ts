import { TRPCError } from '@trpc/server';
import { z } from 'zod';
import { cacheAccess, cacheControlsSchema, cacheModeOf } from '../../cache/cache-controls.ts';
import type { GenerateInput, SelectModelInput } from '../../generation/input.ts';

/** The model name that asks TokenFlow to choose: selectModel instead of generate. */
export const AUTO_MODEL = 'tokenflow/auto';

// These schemas read the envelope only: the procedures' own schemas check every value, with
// their limits. Fields OpenAI's SDKs add when they replay an earlier answer (`refusal`,
// `annotations`, ...) are dropped.
const part = z.looseObject({
  type: z.string(),
  text: z.string().optional(),
  // Passed on as sent, keys in their order; the procedures check it.
  image_url: z.unknown().optional(),
});

const toolCall = z.looseObject({
  id: z.string(),
  type: z.literal('function', { error: 'tool calls must be of type "function"' }),
  function: z.looseObject({ name: z.string(), arguments: z.string() }),
});

const messageSchema = z.looseObject({
  // "developer" is the newer name OpenAI gives the system role.
  role: z.enum(['system', 'developer', 'user', 'assistant', 'tool'], {
    error: 'role must be system, developer, user, assistant or tool (function messages are not supported)',
  }),
  content: z
    .union([z.string(), z.array(part)], {
      error: 'content must be a string or an array of text and image_url parts',
    })
    .nullish(),
  name: z.string().optional(),
  tool_calls: z.array(toolCall).nullish(),
  tool_call_id: z.string().optional(),
});

/**
 * OpenAI fields that are accepted and ignored: they only steer sampling or
 * bookkeeping that the providers behind TokenFlow do not all honour, and
 * dropping them never changes what kind of answer comes back.
 */
const ignoredShape = {
  presence_penalty: z.number().nullish(),
  frequency_penalty: z.number().nullish(),
  logit_bias: z.record(z.string(), z.number()).nullish(),
  logprobs: z.literal(false, { error: 'logprobs are not supported' }).nullish(),
  store: z.boolean().nullish(),
  metadata: z.record(z.string(), z.string()).nullish(),
  service_tier: z.string().nullish(),
};

/** Passed to the provider; generate's and selectModel's schemas check them. */
const protocolShape = {
  tools: z.array(z.unknown()).nullish(),
  tool_choice: z.unknown().optional(),
  parallel_tool_calls: z.boolean().nullish(),
  response_format: z.looseObject({ type: z.string(), json_schema: z.unknown().optional() }).nullish(),
  seed: z.number().int().nullish(),
  user: z.string().nullish(),
};

/** The `tokenflow` extension: selectModel's own options, checked by selectModel's schema. */
const extensionSchema = z.record(z.string(), z.unknown());

export const chatCompletionRequestSchema = z.strictObject({
  model: z.string().trim().min(1),
  messages: z.array(messageSchema).min(1),
  stream: z.boolean().nullish(),
  stream_options: z.object({ include_usage: z.boolean().nullish() }).nullish(),
  temperature: z.number().nullish(),
  top_p: z.number().nullish(),
  max_tokens: z.number().nullish(),
  max_completion_tokens: z.number().nullish(),
  stop: z.union([z.string(), z.array(z.string())]).nullish(),
  n: z.literal(1, { error: 'n must be 1: TokenFlow returns one choice' }).nullish(),
  tokenflow: extensionSchema.optional(),
  ...protocolShape,
  ...ignoredShape,
});

export type ChatCompletionRequest = z.infer<typeof chatCompletionRequestSchema>;

/** Reads a chat.completions body, or throws BAD_REQUEST naming what is wrong or unsupported. */
export function parseChatCompletionRequest(body: unknown): ChatCompletionRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new TRPCError({ code: 'BAD_REQUEST', message: 'The body must be a JSON object.' });
  }
  const known = Object.keys(chatCompletionRequestSchema.shape);
  const unsupported = Object.keys(body).filter((field) => !known.includes(field));
  if (unsupported.length > 0) {
    throw new TRPCError({
      code: 'BAD_REQUEST',
      message: `Unsupported field(s) ${unsupported.map((f) => `"${f}"`).join(', ')}: TokenFlow's OpenAI-compatible endpoint takes the Chat Completions fields (no audio, functions or logprobs).`,
    });
  }
  const parsed = chatCompletionRequestSchema.safeParse(body);
  if (!parsed.success) throw new TRPCError({ code: 'BAD_REQUEST', message: 'Invalid input', cause: parsed.error });
  for (const [i, message] of parsed.data.messages.entries()) {
    if (!Array.isArray(message.content)) continue;
    // Only user messages may hold images, as in OpenAI's API.
    const allowed = message.role === 'user' ? ['text', 'image_url'] : ['text'];
    const other = message.content.find((p) => !allowed.includes(p.type));
    if (other) {
      throw new TRPCError({
        code: 'BAD_REQUEST',
        message: `messages[${i}]: a ${message.role} message's content parts must be ${allowed.map((t) => `"${t}"`).join(' or ')}, not "${other.type}".`,
      });
    }
  }
  return parsed.data;
}

const orUndefined = <T>(value: T | null | undefined) => value ?? undefined;

/** Leaves absent fields out, so the procedures see exactly what the caller set. */
const withoutUndefined = <T extends object>(value: T) =>
  Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;

type Message = z.infer<typeof messageSchema>;
type Part = z.infer<typeof part>;

const joinText = (parts: Part[]) => parts.map((p) => p.text ?? '').join('');

/** A user message keeps its parts when it has an image; text-only parts are joined, as before. */
function userContent(content: Message['content']) {
  if (!Array.isArray(content)) return content;
  if (content.every((p) => p.type === 'text')) return joinText(content);
  return content.map((p) =>
    p.type === 'image_url'
      ? { type: 'image_url' as const, imageUrl: p.image_url }
      : { type: 'text' as const, text: p.text },
  );
}

/** One OpenAI message in the procedures' camelCase; what is inside (arguments, URLs) is kept as sent. */
function toMessage(message: Message) {
  const content = Array.isArray(message.content) ? joinText(message.content) : message.content;
  const name = message.name === undefined ? {} : { name: message.name };
  switch (message.role) {
    case 'developer':
    case 'system':
      return { role: 'system' as const, content, ...name };
    case 'user':
      return { role: 'user' as const, content: userContent(message.content), ...name };
    case 'assistant':
      return {
        role: 'assistant' as const,
        content,
        ...(message.tool_calls?.length
          ? {
              toolCalls: message.tool_calls.map((call) => ({
                id: call.id,
                type: call.type,
                function: { name: call.function.name, arguments: call.function.arguments },
              })),
            }
          : {}),
        ...name,
      };
    case 'tool':
      return { role: 'tool' as const, toolCallId: message.tool_call_id, content };
  }
}

function responseFormat(format: ChatCompletionRequest['response_format']) {
  if (!format) return undefined;
  const { json_schema, ...rest } = format;
  return json_schema === undefined ? rest : { ...rest, jsonSchema: json_schema };
}

/** The conversation, sampling and protocol fields both procedures share; the procedures' schemas check the values. */
function conversation(request: ChatCompletionRequest) {
  const stop = request.stop;
  return {
    messages: request.messages.map(toMessage),
    temperature: orUndefined(request.temperature),
    topP: orUndefined(request.top_p),
    maxTokens: orUndefined(request.max_completion_tokens ?? request.max_tokens),
    stop: Array.isArray(stop) && stop.length === 0 ? undefined : orUndefined(stop),
    tools: orUndefined(request.tools),
    toolChoice: orUndefined(request.tool_choice),
    parallelToolCalls: orUndefined(request.parallel_tool_calls),
    responseFormat: responseFormat(request.response_format),
    seed: orUndefined(request.seed),
    user: orUndefined(request.user),
  };
}

export type ProcedureCall =
  | { procedure: 'selectModel'; input: SelectModelInput }
  | { procedure: 'generate'; input: GenerateInput };

/**
 * The `tokenflow.cache` extension narrowed by the request's Cache-Control:
 * `no-cache` does not read a stored answer, `no-store` does not store this
 * one. An invalid extension is passed on as sent, for the procedure's schema
 * to refuse with the field's name.
 */
function cacheOptions(extension: unknown, cacheControl: string | undefined): unknown {
  const directives = new Set((cacheControl ?? '').split(',').map((d) => d.trim().toLowerCase()));
  const noCache = directives.has('no-cache');
  const noStore = directives.has('no-store');
  if (!noCache && !noStore) return extension;
  if (extension !== undefined && (typeof extension !== 'object' || extension === null)) return extension;
  const asked = (extension ?? {}) as { mode?: unknown };
  const mode = cacheControlsSchema.shape.mode.safeParse(asked.mode ?? 'read-write');
  if (!mode.success || mode.data === undefined) return extension;
  const { reads, writes } = cacheAccess(mode.data);
  return { ...asked, mode: cacheModeOf(reads && !noCache, writes && !noStore) };
}

/** `tokenflow/auto` runs selectModel with the extension's options; `provider/model-id` runs generate. */
export function toProcedureCall(request: ChatCompletionRequest, cacheControl?: string): ProcedureCall {
  const { cache, ...extension } = request.tokenflow ?? {};
  const cacheField = { cache: cacheOptions(cache, cacheControl) };
  if (request.model === AUTO_MODEL) {
    // Passed through whole: selectModel refuses unknown or invalid options itself.
    return {
      procedure: 'selectModel',
      input: withoutUndefined({ ...conversation(request), ...extension, ...cacheField }) as SelectModelInput,
    };
  }
  if (Object.keys(extension).length > 0) {
    throw new TRPCError({
      code: 'BAD_REQUEST',
      message: `The "tokenflow" options (compress, possibleCategories, prefer, ...) apply to model "${AUTO_MODEL}" only, not "${request.model}"; only "cache" applies to every model.`,
    });
  }
  return {
    procedure: 'generate',
    input: withoutUndefined({ ...conversation(request), model: request.model, ...cacheField }) as GenerateInput,
  };
}
