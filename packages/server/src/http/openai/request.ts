import { TRPCError } from '@trpc/server';
import { z } from 'zod';
import type { GenerateInput, SelectModelInput } from '../../generation/input.ts';

/** The model name that asks TokenFlow to choose: selectModel instead of generate. */
export const AUTO_MODEL = 'tokenflow/auto';

const textPart = z.object({
  type: z.literal('text', { error: 'only text parts are supported (no images, audio or files)' }),
  text: z.string(),
});

const messageSchema = z.object({
  // "developer" is the newer name OpenAI gives the system role.
  role: z.enum(['system', 'developer', 'user', 'assistant'], {
    error: 'role must be system, developer, user or assistant (tool and function messages are not supported)',
  }),
  content: z.union([z.string(), z.array(textPart)], {
    error: 'content must be a string or an array of {"type": "text", "text": ...} parts',
  }),
  name: z.string().optional(),
});

/**
 * OpenAI fields that are accepted and ignored: they only steer sampling or
 * bookkeeping that the providers behind TokenFlow do not all honour, and
 * dropping them never changes what kind of answer comes back.
 */
const ignoredShape = {
  user: z.string().nullish(),
  seed: z.number().int().nullish(),
  presence_penalty: z.number().nullish(),
  frequency_penalty: z.number().nullish(),
  logit_bias: z.record(z.string(), z.number()).nullish(),
  logprobs: z.literal(false, { error: 'logprobs are not supported' }).nullish(),
  store: z.boolean().nullish(),
  metadata: z.record(z.string(), z.string()).nullish(),
  service_tier: z.string().nullish(),
  parallel_tool_calls: z.boolean().nullish(),
  response_format: z
    .object({ type: z.literal('text', { error: 'only response_format {"type": "text"} is supported' }) })
    .nullish(),
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
      message: `Unsupported field(s) ${unsupported.map((f) => `"${f}"`).join(', ')}: TokenFlow's OpenAI-compatible endpoint answers text chats (no tools, audio or logprobs).`,
    });
  }
  const parsed = chatCompletionRequestSchema.safeParse(body);
  if (!parsed.success) throw new TRPCError({ code: 'BAD_REQUEST', message: 'Invalid input', cause: parsed.error });
  return parsed.data;
}

const orUndefined = <T>(value: T | null | undefined) => value ?? undefined;

/** The conversation and sampling fields both procedures share; the procedures' schemas check the values. */
function conversation(request: ChatCompletionRequest) {
  const stop = request.stop;
  return {
    messages: request.messages.map((message) => ({
      role: message.role === 'developer' ? ('system' as const) : message.role,
      content: typeof message.content === 'string' ? message.content : message.content.map((p) => p.text).join(''),
    })),
    temperature: orUndefined(request.temperature),
    topP: orUndefined(request.top_p),
    maxTokens: orUndefined(request.max_completion_tokens ?? request.max_tokens),
    stop: Array.isArray(stop) && stop.length === 0 ? undefined : orUndefined(stop),
  };
}

export type ProcedureCall =
  | { procedure: 'selectModel'; input: SelectModelInput }
  | { procedure: 'generate'; input: GenerateInput };

/** `tokenflow/auto` runs selectModel with the extension's options; `provider/model-id` runs generate. */
export function toProcedureCall(request: ChatCompletionRequest): ProcedureCall {
  if (request.model === AUTO_MODEL) {
    // Passed through whole: selectModel refuses unknown or invalid options itself.
    return { procedure: 'selectModel', input: { ...conversation(request), ...request.tokenflow } as SelectModelInput };
  }
  if (request.tokenflow && Object.keys(request.tokenflow).length > 0) {
    throw new TRPCError({
      code: 'BAD_REQUEST',
      message: `The "tokenflow" options (compress, possibleCategories, prefer, ...) apply to model "${AUTO_MODEL}" only, not "${request.model}".`,
    });
  }
  return { procedure: 'generate', input: { ...conversation(request), model: request.model } };
}
