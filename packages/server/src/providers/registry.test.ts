import { describe, expect, it } from 'vitest';
import { loadConfig } from '../config.ts';
import { createProviderRegistry } from './registry.ts';

const registry = (env: Record<string, string>) => createProviderRegistry(loadConfig(env));
const resolved = (target: ReturnType<ReturnType<typeof registry>['resolve']>) => [target.provider.name, target.model];

describe('provider registry', () => {
  const both = registry({ GROQ_API_KEY: 'g-key-123456', OPENROUTER_API_KEY: 'or-key-123456' });

  it('uses the provider the request names, keeping slashes in model ids', () => {
    expect(resolved(both.resolve({ model: 'openai/gpt-oss-120b', provider: 'groq' }))).toEqual([
      'groq',
      'openai/gpt-oss-120b',
    ]);
  });

  it('reads provider/model shorthand only when the prefix is a known provider', () => {
    expect(resolved(both.resolve({ model: 'openrouter/openai/gpt-4o' }))).toEqual(['openrouter', 'openai/gpt-4o']);
    expect(() => both.resolve({ model: 'openai/gpt-4o' })).toThrow(/Say which provider serves "openai\/gpt-4o"/);
  });

  it('uses the only configured provider when none is named', () => {
    const onlyGroq = registry({ GROQ_API_KEY: 'g-key-123456' });
    expect(resolved(onlyGroq.resolve({ model: 'openai/gpt-oss-120b' }))).toEqual(['groq', 'openai/gpt-oss-120b']);
  });

  it('says which variable to set for a known provider without a key', () => {
    const onlyGroq = registry({ GROQ_API_KEY: 'g-key-123456' });
    expect(() => onlyGroq.resolve({ model: 'x', provider: 'openrouter' })).toThrow(
      'Provider "openrouter" is not configured: set OPENROUTER_API_KEY on the gateway.',
    );
  });

  it('rejects an unknown provider with NOT_FOUND and lists the known ones', () => {
    expect(() => both.resolve({ model: 'x', provider: 'acme' })).toThrow(
      expect.objectContaining({ code: 'NOT_FOUND', message: expect.stringContaining('groq, openrouter') }),
    );
  });

  it('lists providers without their keys', () => {
    const listed = both.list();
    expect(listed).toEqual(expect.arrayContaining([expect.objectContaining({ name: 'groq', configured: true })]));
    expect(JSON.stringify(listed)).not.toContain('g-key-123456');
  });

  describe("the local provider (the ML service's own model)", () => {
    it('is routed to only while no remote provider has a key (LOCAL_PROVIDER=auto)', () => {
      expect(registry({}).isRoutable('local')).toBe(true);
      expect(registry({ GROQ_API_KEY: 'g-key-123456' }).isRoutable('local')).toBe(false);
      expect(registry({ GROQ_API_KEY: 'g-key-123456' }).isConfigured('local')).toBe(true);
    });

    it('stays a last resort with LOCAL_PROVIDER=always and disappears with off', () => {
      expect(registry({ GROQ_API_KEY: 'g-key-123456', LOCAL_PROVIDER: 'always' }).isRoutable('local')).toBe(true);
      expect(registry({ LOCAL_PROVIDER: 'off' }).isConfigured('local')).toBe(false);
    });

    it("talks to the ML service's OpenAI-compatible endpoint", () => {
      const local = registry({ ML_SERVICE_URL: 'http://127.0.0.1:9999/' })
        .list()
        .find((p) => p.name === 'local');
      expect(local).toEqual({ name: 'local', baseURL: 'http://127.0.0.1:9999/v1', configured: true });
    });

    it('is never picked for a model without a provider name', () => {
      expect(resolved(registry({ GROQ_API_KEY: 'g-key-123456' }).resolve({ model: 'llama-3.1-8b-instant' }))).toEqual([
        'groq',
        'llama-3.1-8b-instant',
      ]);
      expect(() => registry({}).resolve({ model: 'x' })).toThrow(
        /name the local model \(local\/smollm2-135m-instruct\)/,
      );
    });
  });
});
