import { z } from 'zod';
import type { Needs } from '../routing/needs.ts';

/**
 * The Chat Completions protocol as generate and selectModel take it: messages
 * with tool calls, tool results and images, tool definitions, the tool choice
 * and the response format. Field names are camelCase like every tRPC input;
 * provider-request.ts writes them back in OpenAI's
 * snake_case for the provider, leaving everything inside (JSON Schemas, image
 * URLs, tool arguments) exactly as the caller sent it.
 */
export const CHAT_LIMITS = {
  /** Characters of text in all messages together (tool arguments and results included). */
  promptChars: 400_000,
  messages: 500,
  /** OpenAI's own limit on tool definitions per request. */
  tools: 128,
  toolDescriptionChars: 16_384,
  /** A tool's parameters, or a response format's schema, as JSON. */
  schemaJsonChars: 100_000,
  toolsJsonChars: 1_000_000,
  toolCallIdChars: 256,
  toolCallsPerMessage: 128,
  /** An image as a data: URI (about 3 MB of image); an https URL gets 8,192. */
  imageDataUriChars: 4_000_000,
  imageUrlChars: 8_192,
  imagesPerRequest: 16,
  partsPerMessage: 64,
  nameChars: 64,
  userChars: 256,
} as const;

/** OpenAI's rule for function and schema names. */
const functionName = z
  .string()
  .regex(/^[a-zA-Z0-9_-]{1,64}$/, 'must be 1 to 64 letters, digits, underscores or dashes');

function jsonChars(value: unknown): number {
  try {
    return JSON.stringify(value)?.length ?? 0;
  } catch {
    return Number.POSITIVE_INFINITY; // too deep to serialise: over any limit
  }
}

/**
 * `schema`'s checks, but the value itself goes on as the caller sent it, keys
 * in their order: tool definitions, image URLs and response formats reach the
 * provider byte for byte (a parsed object would list its keys in the
 * schema's order instead).
 */
function asSent<T extends z.ZodType>(schema: T): T {
  return z.unknown().superRefine((value, ctx) => {
    const parsed = schema.safeParse(value);
    if (parsed.success) return;
    for (const issue of parsed.error.issues) ctx.addIssue({ code: 'custom', message: issue.message, path: issue.path });
  }) as unknown as T;
}

/**
 * For checks across fields: run them only on input whose every part is
 * already valid, since `asSent` values reach them as the caller sent them.
 */
export const wellFormed = (payload: { issues: unknown[] }) => payload.issues.length === 0;

/** A JSON Schema object, passed to the provider untouched; only its size is checked here. */
const jsonSchemaObject = z
  .record(z.string(), z.unknown())
  .refine((schema) => jsonChars(schema) <= CHAT_LIMITS.schemaJsonChars, {
    message: `must be at most ${CHAT_LIMITS.schemaJsonChars} characters as JSON`,
  });

const textPart = z.strictObject({ type: z.literal('text'), text: z.string().max(CHAT_LIMITS.promptChars) });

const imageUrl = z
  .string()
  .refine(
    (url) =>
      url.startsWith('data:') ? url.length <= CHAT_LIMITS.imageDataUriChars : url.length <= CHAT_LIMITS.imageUrlChars,
    {
      message: `an https URL of at most ${CHAT_LIMITS.imageUrlChars} characters or a data: URI of at most ${CHAT_LIMITS.imageDataUriChars}`,
    },
  )
  .refine((url) => /^https:\/\/[^\s]+$/.test(url) || /^data:image\/[a-z0-9.+-]+;base64,[A-Za-z0-9+/=]+$/.test(url), {
    message: 'must be an https:// URL or a data:image/...;base64, URI',
  });

const imagePart = z.strictObject({
  type: z.literal('image_url'),
  imageUrl: asSent(z.strictObject({ url: imageUrl, detail: z.enum(['auto', 'low', 'high']).optional() })),
});

export const toolCallSchema = asSent(
  z.strictObject({
    id: z.string().min(1).max(CHAT_LIMITS.toolCallIdChars),
    type: z.literal('function'),
    function: z.strictObject({ name: functionName, arguments: z.string().max(CHAT_LIMITS.promptChars) }),
  }),
);

const name = z.string().min(1).max(CHAT_LIMITS.nameChars).optional();
const text = z.string().max(CHAT_LIMITS.promptChars);

// Messages refuse unknown fields rather than drop them: a typo such as `tool_call_id` must not
// silently lose the link between a tool result and its call.
export const chatMessageSchema = z.discriminatedUnion('role', [
  z.strictObject({ role: z.literal('system'), content: text, name }),
  z.strictObject({
    role: z.literal('user'),
    content: z.union([
      text,
      z
        .array(z.discriminatedUnion('type', [textPart, imagePart]))
        .min(1)
        .max(CHAT_LIMITS.partsPerMessage),
    ]),
    name,
  }),
  z
    .strictObject({
      role: z.literal('assistant'),
      content: text.nullish(),
      toolCalls: z.array(toolCallSchema).min(1).max(CHAT_LIMITS.toolCallsPerMessage).optional(),
      name,
    })
    .refine((m) => typeof m.content === 'string' || m.toolCalls !== undefined, {
      message: 'an assistant message needs content or toolCalls',
      path: ['content'],
    }),
  z.strictObject({
    role: z.literal('tool'),
    toolCallId: z.string().min(1).max(CHAT_LIMITS.toolCallIdChars),
    content: z.union([text, z.array(textPart).min(1).max(CHAT_LIMITS.partsPerMessage)]),
  }),
]);

export const toolSchema = asSent(
  z.strictObject({
    type: z.literal('function'),
    function: z.strictObject({
      name: functionName,
      description: z.string().max(CHAT_LIMITS.toolDescriptionChars).optional(),
      parameters: jsonSchemaObject.optional(),
      strict: z.boolean().nullish(),
    }),
  }),
);

export const toolChoiceSchema = z.union([
  z.enum(['auto', 'none', 'required']),
  z.strictObject({ type: z.literal('function'), function: z.strictObject({ name: functionName }) }),
]);

export const responseFormatSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('text') }),
  z.strictObject({ type: z.literal('json_object') }),
  z.strictObject({
    type: z.literal('json_schema'),
    jsonSchema: asSent(
      z.strictObject({
        name: functionName,
        description: z.string().max(CHAT_LIMITS.toolDescriptionChars).optional(),
        schema: jsonSchemaObject.optional(),
        strict: z.boolean().nullish(),
      }),
    ),
  }),
]);

/** The protocol fields both procedures take besides the messages. */
export const protocolShape = {
  tools: z
    .array(toolSchema)
    .min(1)
    .max(CHAT_LIMITS.tools)
    .refine((tools) => jsonChars(tools) <= CHAT_LIMITS.toolsJsonChars, {
      message: `the tool definitions must be at most ${CHAT_LIMITS.toolsJsonChars} characters as JSON`,
    })
    .refine((tools) => new Set(tools.map((t) => t.function.name)).size === tools.length, {
      message: 'two tools have the same name',
      when: wellFormed,
    })
    .optional(),
  toolChoice: toolChoiceSchema.optional(),
  parallelToolCalls: z.boolean().optional(),
  responseFormat: responseFormatSchema.optional(),
  seed: z
    .number()
    .int()
    .min(-(2 ** 53) + 1)
    .max(2 ** 53 - 1)
    .optional(),
  /** The end user, passed to the provider for its abuse monitoring. */
  user: z.string().min(1).max(CHAT_LIMITS.userChars).optional(),
};

export type ChatMessage = z.infer<typeof chatMessageSchema>;
export type Tool = z.infer<typeof toolSchema>;
export type ToolCall = z.infer<typeof toolCallSchema>;
export type ResponseFormat = z.infer<typeof responseFormatSchema>;
export type Protocol = { [K in keyof typeof protocolShape]?: z.infer<(typeof protocolShape)[K]> };

/** The text of a message: its string content, or its text parts joined (images have none). */
export function textOf(message: ChatMessage): string {
  const { content } = message;
  if (content === null || content === undefined) return '';
  if (typeof content === 'string') return content;
  return content.map((part) => (part.type === 'text' ? part.text : '')).join('');
}

/** Characters a message adds to the prompt: its text and any tool-call arguments. */
export function charsOf(message: ChatMessage): number {
  const calls = message.role === 'assistant' ? (message.toolCalls ?? []) : [];
  return textOf(message).length + calls.reduce((sum, call) => sum + call.function.arguments.length, 0);
}

export const imageCount = (messages: ChatMessage[]) =>
  messages.reduce(
    (sum, m) =>
      sum +
      (m.role === 'user' && Array.isArray(m.content) ? m.content.filter((p) => p.type === 'image_url').length : 0),
    0,
  );

/** What the request needs of the model that answers it; routing and the local provider check these. */
export function needsOf(input: Protocol & { messages: ChatMessage[] }): Needs {
  return {
    // Earlier tool calls and results need a model that understands them, even without new tools.
    tools:
      input.tools !== undefined ||
      input.messages.some((m) => m.role === 'tool' || (m.role === 'assistant' && m.toolCalls)),
    vision: imageCount(input.messages) > 0,
    structuredOutputs: input.responseFormat?.type === 'json_schema',
    jsonMode: input.responseFormat?.type === 'json_object',
  };
}
