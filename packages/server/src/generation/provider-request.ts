import type {
  ChatCompletionContentPart,
  ChatCompletionMessageParam,
  ChatCompletionCreateParamsStreaming as Params,
} from 'openai/resources/chat/completions';
import { type ChatMessage, type Protocol, textOf } from './chat-schema.ts';

/** The request body fields a provider gets from the caller's protocol options (OpenAI's names). */
export type ProviderOptions = Pick<
  Params,
  'tools' | 'tool_choice' | 'parallel_tool_calls' | 'response_format' | 'seed' | 'user'
>;

type UserPart = Exclude<Extract<ChatMessage, { role: 'user' }>['content'], string>[number];

function part(p: UserPart): ChatCompletionContentPart {
  return p.type === 'text' ? p : { type: 'image_url', image_url: p.imageUrl };
}

const isText = (p: { type: string }): p is { type: 'text'; text: string } => p.type === 'text';

/**
 * Parts that are all text are sent as one string, which means the same to
 * every provider and is the only form some take (the local model); parts
 * with an image go as parts.
 */
function userContent(message: Extract<ChatMessage, { role: 'user' }>): string | ChatCompletionContentPart[] {
  const { content } = message;
  if (typeof content === 'string' || content.every(isText)) return textOf(message);
  return content.map(part);
}

/**
 * One message in OpenAI's shape. Only the envelope is renamed (toolCalls ->
 * tool_calls, imageUrl -> image_url): arguments, URLs and text go as they came.
 */
export function toProviderMessage(message: ChatMessage): ChatCompletionMessageParam {
  const name = 'name' in message && message.name !== undefined ? { name: message.name } : {};
  switch (message.role) {
    case 'system':
      return { role: 'system', content: message.content, ...name };
    case 'user':
      return {
        role: 'user',
        content: userContent(message),
        ...name,
      };
    case 'assistant':
      return {
        role: 'assistant',
        content: message.content ?? null,
        ...(message.toolCalls ? { tool_calls: message.toolCalls } : {}),
        ...name,
      };
    case 'tool':
      return {
        role: 'tool',
        tool_call_id: message.toolCallId,
        content: textOf(message),
      };
  }
}

/** The protocol options under OpenAI's names; absent ones stay absent so the provider's defaults apply. */
export function toProviderOptions(input: Protocol): ProviderOptions {
  const options: ProviderOptions = {};
  if (input.tools) options.tools = input.tools;
  if (input.toolChoice !== undefined) options.tool_choice = input.toolChoice;
  if (input.parallelToolCalls !== undefined) options.parallel_tool_calls = input.parallelToolCalls;
  if (input.responseFormat) {
    const format = input.responseFormat;
    options.response_format =
      format.type === 'json_schema' ? { type: 'json_schema', json_schema: format.jsonSchema } : format;
  }
  if (input.seed !== undefined) options.seed = input.seed;
  if (input.user !== undefined) options.user = input.user;
  return options;
}
