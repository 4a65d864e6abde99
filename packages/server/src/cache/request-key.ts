import { createHash } from 'node:crypto';
import { type ChatMessage, textOf } from '../generation/chat-schema.ts';
import { type GenerateInput, type SelectModelInput, toMessages } from '../generation/input.ts';

/** Bumped when the key's recipe or the stored entry's shape changes, so old entries are never read. */
const KEY_VERSION = 2;

export type CachedProcedure = 'generate' | 'selectModel';

/** JSON with every object's keys sorted: two requests that differ only in key order are one request. */
export function canonicalJson(value: unknown): string {
  if (value === undefined) return 'null';
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('base64url');

export interface RequestKeys {
  /** Everything that shapes the answer: messages, model or routing options, sampling, tools, format. */
  exact: string;
  /**
   * The same without the last user turn's text: requests in one partition
   * differ only in that turn, so a semantic match never crosses a system
   * prompt, tools, earlier turns or options. Null when the conversation does
   * not end with a text-only user turn (a tool result, an image).
   */
  partition: string | null;
  /** The last user turn's text, which semantic matching and its guard compare. */
  lastUserText: string | null;
}

/** A user message of text only, the kind a semantic match may compare. */
function textOnlyUser(message: ChatMessage | undefined): message is Extract<ChatMessage, { role: 'user' }> {
  if (message?.role !== 'user') return false;
  return typeof message.content === 'string' || message.content.every((part) => part.type === 'text');
}

/**
 * The cache keys of one request, normalised: `prompt` is the one-message
 * conversation it stands for, and the fields that do not shape the answer
 * (the cache's own controls, a resubscription id) are left out.
 */
export function requestKeys(
  procedure: CachedProcedure,
  input: GenerateInput | SelectModelInput,
  /** Whether the semantic partition is needed (semantic mode, selectModel): it costs a second hash. */
  semantic = true,
): RequestKeys {
  const { prompt: _prompt, messages: _messages, cache: _cache, lastEventId: _lastEventId, ...options } = input;
  const messages = toMessages(input);
  const shape = { v: KEY_VERSION, procedure, options, messages };
  const exact = sha256(canonicalJson(shape));
  const last = messages.at(-1);
  if (!semantic || !textOnlyUser(last)) return { exact, partition: null, lastUserText: null };
  const { content: _content, ...lastWithoutText } = last;
  const partition = sha256(canonicalJson({ ...shape, messages: [...messages.slice(0, -1), lastWithoutText] }));
  return { exact, partition, lastUserText: textOf(last) };
}

/** A short stable name for an API key in storage keys (key names may hold any character). */
export const keySpace = (apiKey: string) => sha256(`tokenflow-cache:${apiKey}`).slice(0, 16);
