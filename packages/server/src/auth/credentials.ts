import type { IncomingHttpHeaders } from 'node:http';
import { TRPCError } from '@trpc/server';
import type { KeyRing, Principal } from './api-keys.ts';

/** When auth is off every caller shares this principal (and no limits apply to it). */
export const ANONYMOUS: Principal = { name: 'anonymous', limits: {} };

const MAX_KEY_CHARS = 512;

/** The key from `Authorization: Bearer <key>`, undefined when absent, null when malformed. */
export function bearerKey(headers: IncomingHttpHeaders): string | undefined | null {
  const header = headers.authorization;
  if (header === undefined) return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1] && match[1].length <= MAX_KEY_CHARS ? match[1] : null;
}

/**
 * Who is calling, or UNAUTHORIZED. `presented` is the key from a header or the
 * WebSocket connection params; messages never repeat it.
 */
export function authenticate(keys: KeyRing, presented: string | undefined | null, where: string): Principal {
  if (!keys.enabled) return ANONYMOUS;
  if (presented === undefined) {
    throw new TRPCError({ code: 'UNAUTHORIZED', message: `An API key is required: ${where}.` });
  }
  const principal = presented === null ? null : keys.verify(presented);
  if (!principal) throw new TRPCError({ code: 'UNAUTHORIZED', message: 'The API key is not valid.' });
  return principal;
}
