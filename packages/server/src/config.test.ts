import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, loadDotEnv } from './config.ts';

describe('loadConfig', () => {
  it('uses the documented defaults when nothing is set', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      PORT: 8000,
      HOST: '127.0.0.1',
      ML_SERVICE_URL: 'http://127.0.0.1:8001',
      GROQ_API_BASE_URL: 'https://api.groq.com/openai/v1',
      OPENROUTER_API_BASE_URL: 'https://openrouter.ai/api/v1',
      extraProviders: [],
    });
    expect(config.GROQ_API_KEY).toBeUndefined();
  });

  it('treats an empty value as unset', () => {
    const config = loadConfig({ GROQ_API_KEY: '', PORT: '' });
    expect(config.GROQ_API_KEY).toBeUndefined();
    expect(config.PORT).toBe(8000);
  });

  it('names every bad variable and its value in one error', () => {
    const attempt = () => loadConfig({ PORT: 'eighty', ML_SERVICE_URL: 'not a url', LOG_LEVEL: 'loud' });
    expect(attempt).toThrow(ConfigError);
    expect(attempt).toThrow(/PORT: .*\(got "eighty"\)/);
    expect(attempt).toThrow(/ML_SERVICE_URL: .*\(got "not a url"\)/);
    expect(attempt).toThrow(/LOG_LEVEL: /);
  });

  it('never prints the value of a secret', () => {
    const error = (() => {
      try {
        loadConfig({ TOKENFLOW_PROVIDER_X_API_KEY: 'super-secret-value' });
      } catch (caught) {
        return caught as Error;
      }
    })();
    expect(error?.message).toMatch(/TOKENFLOW_PROVIDER_X baseURL/);
    expect(error?.message).not.toContain('super-secret-value');
  });

  it('collects extra OpenAI-compatible providers from TOKENFLOW_PROVIDER_<NAME>_* pairs', () => {
    const config = loadConfig({
      TOKENFLOW_PROVIDER_TOGETHER_AI_BASE_URL: 'https://api.together.xyz/v1',
      TOKENFLOW_PROVIDER_TOGETHER_AI_API_KEY: 'tg-key',
      TOKENFLOW_PROVIDER_OLLAMA_BASE_URL: 'http://127.0.0.1:11434/v1',
    });
    expect(config.extraProviders).toEqual([
      {
        name: 'together-ai',
        baseURL: 'https://api.together.xyz/v1',
        apiKey: 'tg-key',
        keyEnv: 'TOKENFLOW_PROVIDER_TOGETHER_AI_API_KEY',
      },
      { name: 'ollama', baseURL: 'http://127.0.0.1:11434/v1', keyEnv: 'TOKENFLOW_PROVIDER_OLLAMA_API_KEY' },
    ]);
  });
});

describe('loadDotEnv', () => {
  it('fills unset variables from the file and never overrides the real environment', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tokenflow-env-'));
    const file = join(dir, '.env');
    writeFileSync(file, 'GROQ_API_KEY=from-file\nPORT=9000\n# a comment\n');
    const env: NodeJS.ProcessEnv = { PORT: '7000' };

    expect(loadDotEnv(file, env)).toBe(true);
    expect(env).toEqual({ PORT: '7000', GROQ_API_KEY: 'from-file' });
    expect(loadDotEnv(join(dir, 'missing.env'), env)).toBe(false);
  });

  it('refuses to listen beyond loopback without API keys', () => {
    expect(() => loadConfig({ HOST: '0.0.0.0' })).toThrow(/HOST: 0.0.0.0 is reachable from other machines/);
    expect(loadConfig({ HOST: '0.0.0.0', TOKENFLOW_ALLOW_NO_AUTH: '1' }).HOST).toBe('0.0.0.0');
    const hash = `sha256:${'a'.repeat(64)}`;
    expect(loadConfig({ HOST: '0.0.0.0', TOKENFLOW_API_KEYS: `ops:${hash}` }).apiKeys).toEqual([{ name: 'ops', hash }]);
    expect(loadConfig({ HOST: '127.0.0.2' }).HOST).toBe('127.0.0.2');
  });

  it('never prints REDIS_URL, which may hold a password', () => {
    expect(() => loadConfig({ REDIS_URL: 'http://user:hunter2@redis:6379' })).toThrow(/REDIS_URL: [^(]*$/m);
  });
});
