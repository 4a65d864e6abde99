import superjson from 'superjson';

/**
 * True when JSON carries `value` exactly: nothing superjson would annotate
 * (undefined, -0, NaN, Dates, Maps, classes…, or an object that appears twice,
 * which superjson sends once with a reference).
 */
function isPlainJson(value: unknown, seen: Set<object>, depth = 0): boolean {
  if (depth > 32) return false;
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return true;
    case 'number':
      return Number.isFinite(value) && !Object.is(value, -0);
    case 'object': {
      if (value === null) return true;
      if (seen.has(value)) return false;
      seen.add(value);
      if (Array.isArray(value)) {
        for (const item of value) if (!isPlainJson(item, seen, depth + 1)) return false;
        return true;
      }
      const proto = Object.getPrototypeOf(value);
      if (proto !== Object.prototype && proto !== null) return false;
      for (const key in value) {
        if (!isPlainJson((value as Record<string, unknown>)[key], seen, depth + 1)) return false;
      }
      return true;
    }
    default:
      return false;
  }
}

type Serialized = { json: unknown; meta?: unknown };

/**
 * superjson's wire format, without its cost where it adds nothing. Nearly
 * every message is plain JSON (a stream's events are): superjson would walk
 * and copy each into `{ json }` on the way out, and deep-copy it again on the
 * way in. Here a plain value is sent as `{ json: value }` after a read-only
 * check, and a message without `meta` is taken as parsed. Anything else
 * (a Date, a Map, undefined in an object) goes through superjson itself, so the
 * bytes are the same and a client on plain superjson reads them unchanged.
 */
export const transformer = {
  serialize(value: unknown): Serialized {
    return isPlainJson(value, new Set())
      ? { json: value }
      : superjson.serialize(value as Parameters<typeof superjson.serialize>[0]);
  },
  deserialize(payload: Serialized): unknown {
    // A payload fresh off the wire belongs to no one else: no copy needed.
    if (payload && typeof payload === 'object' && payload.meta === undefined) return payload.json;
    return superjson.deserialize(payload as Parameters<typeof superjson.deserialize>[0]);
  },
};
