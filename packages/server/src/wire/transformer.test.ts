import superjson from 'superjson';
import { describe, expect, it } from 'vitest';
import { transformer } from './transformer.ts';

const samples: Record<string, unknown> = {
  'a text event': { type: 'text', text: 'héllo' },
  'an end event': { type: 'end', finishReason: 'stop', usage: { promptTokens: 1, costUsd: null }, toolCalls: [] },
  'a tracked envelope': { id: 'r:1', data: { type: 'text', text: '' } },
  'a date': { at: new Date(0) },
  'undefined in an object': { a: undefined, b: 1 },
  'NaN and -0': [Number.NaN, -0, Number.POSITIVE_INFINITY],
  'a map and a set': { m: new Map([['k', 1]]), s: new Set([1]) },
  'a bigint': 10n,
  'a bare string': 'x',
  'an object that appears twice': (() => {
    const shared = { k: 1 };
    return { a: shared, b: [shared] };
  })(),
  null: null,
};

describe('the wire transformer', () => {
  for (const [name, value] of Object.entries(samples)) {
    it(`sends ${name} as superjson sends it, and reads it back the same`, () => {
      const ours = transformer.serialize(value);
      expect(JSON.stringify(ours)).toBe(JSON.stringify(superjson.serialize(value as never)));
      const wire = JSON.parse(JSON.stringify(ours));
      expect(transformer.deserialize(wire)).toEqual(superjson.deserialize(JSON.parse(JSON.stringify(ours))));
      expect(superjson.deserialize(JSON.parse(JSON.stringify(ours)))).toEqual(value);
    });
  }
});
