import { TRPCError } from '@trpc/server';
import type { Config } from '../config.ts';
import { Breaker, type BreakerSnapshot, breakerOptions } from './breaker.ts';
import type { RetryPolicy } from './retry.ts';
import { UpstreamClient } from './upstream-client.ts';

export const LOCAL_PROVIDER = 'local';

/** How every provider call is retried and bounded in time (the same for all providers). */
export interface UpstreamPolicy {
  retry: RetryPolicy;
  /** Until the provider answers with response headers (UPSTREAM_CONNECT_TIMEOUT_MS). */
  connectTimeoutMs: number;
  /** Wall-clock limit for a whole answer, retries included (GENERATE_TOTAL_TIMEOUT_MS). */
  totalTimeoutMs: number;
}

export interface Provider {
  name: string;
  baseURL: string;
  /** The variable that holds this provider's key, named in "not configured" errors. */
  keyEnv: string;
  /** Null when the provider is known but has no key, so it cannot be called. */
  client: UpstreamClient | null;
  breaker: Breaker;
  policy: UpstreamPolicy;
}

export interface ProviderTarget {
  provider: Provider & { client: UpstreamClient };
  model: string;
}

export interface ProviderRegistry {
  list(): Array<{ name: string; baseURL: string; configured: boolean }>;
  isConfigured(name: string): boolean;
  /** Whether selectModel may route to this provider (see LOCAL_PROVIDER). */
  isRoutable(name: string): boolean;
  /** True when no remote provider (anything but "local") has a key. */
  onlyLocal(): boolean;
  /** Finds the provider for a request, or throws a TRPCError that says why not. */
  resolve(request: { model: string; provider?: string | undefined }): ProviderTarget;
  /** The circuit breaker of every configured provider, by name. */
  breakers(): Record<string, BreakerSnapshot>;
}

export function upstreamPolicy(config: Config): UpstreamPolicy {
  return {
    retry: {
      attempts: config.UPSTREAM_RETRY_ATTEMPTS,
      baseMs: config.UPSTREAM_RETRY_BASE_MS,
      budgetMs: config.UPSTREAM_RETRY_BUDGET_MS,
    },
    connectTimeoutMs: config.UPSTREAM_CONNECT_TIMEOUT_MS,
    totalTimeoutMs: config.GENERATE_TOTAL_TIMEOUT_MS,
  };
}

export function createProviderRegistry(config: Config): ProviderRegistry {
  const providers = new Map<string, Provider>();
  const policy = upstreamPolicy(config);
  const add = (name: string, baseURL: string, keyEnv: string, apiKey: string | undefined, keyless = false) => {
    const usable = apiKey ?? (keyless ? 'unused' : undefined);
    providers.set(name, {
      name,
      baseURL,
      keyEnv,
      // Retries and timeouts are the gateway's own policy (chat-stream.ts, retry.ts).
      client: usable ? new UpstreamClient(baseURL, usable) : null,
      breaker: new Breaker(name, `Provider "${name}"`, breakerOptions(config)),
      policy,
    });
  };

  add('groq', config.GROQ_API_BASE_URL, 'GROQ_API_KEY', config.GROQ_API_KEY);
  add('openrouter', config.OPENROUTER_API_BASE_URL, 'OPENROUTER_API_KEY', config.OPENROUTER_API_KEY);
  if (config.LOCAL_PROVIDER !== 'off') {
    // The ML service's OpenAI-compatible endpoint: SmolLM2 running on this machine.
    // Its /v1 is behind the same ML_SERVICE_TOKEN as the rest of the service.
    add(
      LOCAL_PROVIDER,
      `${config.ML_SERVICE_URL.replace(/\/+$/, '')}/v1`,
      'LOCAL_PROVIDER',
      config.ML_SERVICE_TOKEN,
      true,
    );
  }
  for (const extra of config.extraProviders) {
    // An extra provider may be a keyless local server (vLLM, Ollama, llama.cpp).
    add(extra.name, extra.baseURL, extra.keyEnv, extra.apiKey, true);
  }

  const configuredNames = () => [...providers.values()].filter((p) => p.client).map((p) => p.name);

  function require(name: string): Provider & { client: UpstreamClient } {
    const provider = providers.get(name);
    if (!provider) {
      throw new TRPCError({
        code: 'NOT_FOUND',
        message: `Unknown provider "${name}". Known providers: ${[...providers.keys()].join(', ')}.`,
      });
    }
    if (!provider.client) {
      throw new TRPCError({
        code: 'PRECONDITION_FAILED',
        message: `Provider "${name}" is not configured: set ${provider.keyEnv} on the gateway.`,
      });
    }
    return provider as Provider & { client: UpstreamClient };
  }

  const isConfigured = (name: string) => Boolean(providers.get(name)?.client);
  const onlyLocal = () => configuredNames().every((name) => name === LOCAL_PROVIDER);
  return {
    isConfigured,
    onlyLocal,
    isRoutable: (name) =>
      name === LOCAL_PROVIDER
        ? isConfigured(name) && (config.LOCAL_PROVIDER === 'always' || onlyLocal())
        : isConfigured(name),
    list: () =>
      [...providers.values()].map((p) => ({ name: p.name, baseURL: p.baseURL, configured: p.client !== null })),
    breakers: () =>
      Object.fromEntries([...providers.values()].filter((p) => p.client).map((p) => [p.name, p.breaker.snapshot()])),

    resolve({ model, provider }) {
      if (provider) return { provider: require(provider), model };
      // "groq/llama-3.1-8b-instant" is shorthand for provider + model. Model ids
      // may contain slashes themselves ("openai/gpt-oss-120b"), so only a prefix
      // that names a known provider counts.
      const slash = model.indexOf('/');
      const prefix = slash > 0 ? model.slice(0, slash) : '';
      if (providers.has(prefix)) return { provider: require(prefix), model: model.slice(slash + 1) };

      // Without a provider name, a lone remote provider is meant (local is named explicitly).
      const configured = configuredNames().filter((name) => name !== LOCAL_PROVIDER);
      if (configured.length === 1 && configured[0]) return { provider: require(configured[0]), model };
      throw new TRPCError({
        code: 'BAD_REQUEST',
        message:
          configured.length === 0
            ? `No remote provider is configured: name the local model (local/smollm2-135m-instruct) or set GROQ_API_KEY or OPENROUTER_API_KEY on the gateway.`
            : `Say which provider serves "${model}": pass provider (one of ${configured.join(', ')}) or write the model as provider/model.`,
      });
    },
  };
}
