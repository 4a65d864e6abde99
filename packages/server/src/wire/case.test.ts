import { describe, expect, it } from 'vitest';
import { camelCase, snakeCase, toCamelKeys, toSnakeKeys } from './case.ts';

describe('case mapping between the gateway and snake_case wires', () => {
  it('renames field names both ways, digits included', () => {
    expect(['possibleCategories', 'forceTokens', 'top2Labels'].map(snakeCase)).toEqual([
      'possible_categories',
      'force_tokens',
      'top2_labels',
    ]);
    expect(['top_category', 'elapsed_ms', 'top2_labels'].map(camelCase)).toEqual([
      'topCategory',
      'elapsedMs',
      'top2Labels',
    ]);
  });

  it('renames only the top level: nested objects are data whose keys stay as they are', () => {
    const wire = { top_category: 'code', by_model: { 'groq/llama_3': { elapsed_ms: 3 } } };

    expect(toCamelKeys(wire)).toEqual({ topCategory: 'code', byModel: { 'groq/llama_3': { elapsed_ms: 3 } } });
  });

  it('leaves undefined fields out of a snake_case body, and round-trips the rest', () => {
    const input = { text: 'a', forceTokens: ['x'], targetTokens: undefined };

    expect(toSnakeKeys(input)).toEqual({ text: 'a', force_tokens: ['x'] });
    expect('target_tokens' in toSnakeKeys(input)).toBe(false);
    expect(toCamelKeys(toSnakeKeys({ forceTokens: ['x'], ratio: 0.5 }))).toEqual({ forceTokens: ['x'], ratio: 0.5 });
  });

  it('keeps a "__proto__" key as a plain field, never as the prototype', () => {
    const body = JSON.parse('{"__proto__": {"polluted": true}, "top_category": "code"}');

    const renamed = toCamelKeys(body) as Record<string, unknown>;

    expect(Object.getPrototypeOf(renamed)).toBe(Object.prototype);
    expect(renamed.polluted).toBeUndefined();
    expect(Object.keys(renamed)).toHaveLength(2); // both fields kept as own data
    expect(renamed.topCategory).toBe('code');
  });
});
