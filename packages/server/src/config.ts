import { existsSync, readFileSync } from 'node:fs';
import { parseEnv } from 'node:util';
import { z } from 'zod';
import { type ApiKeyEntry, parseApiKeys } from './auth/api-keys.ts';
import { CACHE_MODES, MAX_TTL_SECONDS, SEMANTIC_THRESHOLD } from './cache/cache-controls.ts';

// 0 asks the OS for a free port (tests).
const port = z.coerce.number().int().min(0).max(65_535);
const positiveMs = z.coerce.number().int().min(1).max(3_600_000);
const bytes = z.coerce
  .number()
  .int()
  .min(1024)
  .max(64 * 1024 * 1024);
const secret = z.string().min(1).optional();

/** Every environment variable the gateway reads, validated once at start-up. */
export const envSchema = z.object({
  PORT: port.default(8000),
  // Loopback by default: until the gateway has API keys, nobody else should reach it.
  HOST: z.string().min(1).default('127.0.0.1'),
  ML_SERVICE_URL: z.url().default('http://127.0.0.1:8001'),
  // Compressing a long prompt on a CPU takes seconds; classifying takes milliseconds.
  ML_TIMEOUT_MS: positiveMs.default(120_000),
  GROQ_API_KEY: secret,
  GROQ_API_BASE_URL: z.url().default('https://api.groq.com/openai/v1'),
  OPENROUTER_API_KEY: secret,
  OPENROUTER_API_BASE_URL: z.url().default('https://openrouter.ai/api/v1'),
  // Reasoning models may think for a long time before their first token.
  GENERATE_FIRST_TOKEN_TIMEOUT_MS: positiveMs.default(60_000),
  GENERATE_IDLE_TIMEOUT_MS: positiveMs.default(30_000),
  // Wall-clock limit for one whole answer, retries included; unlike the two above it
  // keeps running while a slow client reads.
  GENERATE_TOTAL_TIMEOUT_MS: positiveMs.default(600_000),
  // Until a provider answers with response headers.
  UPSTREAM_CONNECT_TIMEOUT_MS: positiveMs.default(10_000),
  // Retries before the first token only (see providers/retry.ts).
  UPSTREAM_RETRY_ATTEMPTS: z.coerce.number().int().min(0).max(10).default(2),
  UPSTREAM_RETRY_BASE_MS: positiveMs.default(250),
  UPSTREAM_RETRY_BUDGET_MS: z.coerce.number().int().min(0).max(3_600_000).default(10_000),
  // Per provider and for the ML service (see providers/breaker.ts).
  BREAKER_FAILURE_THRESHOLD: z.coerce.number().int().min(1).max(1000).default(5),
  BREAKER_COOLDOWN_MS: positiveMs.default(30_000),
  // Sent as a bearer token to the ML service when set.
  ML_SERVICE_TOKEN: z.string().min(16).optional(),
  TOKENFLOW_CATALOG: z.string().min(1).optional(),
  // A team's own categories (the ML service reads the same file); the catalog must rank models for each.
  TOKENFLOW_ROUTES: z.string().min(1).optional(),
  // The ML service's own model as provider "local": routed to only when no remote
  // provider has a key (auto), as a last resort as well (always), or not at all (off).
  LOCAL_PROVIDER: z.enum(['auto', 'always', 'off']).default('auto'),
  // The default head's confidences are calibrated probabilities: 0.5 means "more likely right than wrong".
  ROUTING_CONFIDENCE_THRESHOLD: z.coerce.number().min(0).max(1).default(0.5),
  // selectModel waits this long for a category, then routes to the default one.
  ROUTING_CLASSIFY_TIMEOUT_MS: positiveMs.default(300),
  ROUTING_DEFAULT_MAX_TOKENS: z.coerce.number().int().min(1).max(1_000_000).default(1024),
  WS_MAX_PAYLOAD_BYTES: bytes.default(4 * 1024 * 1024),
  HTTP_MAX_BODY_BYTES: bytes.default(4 * 1024 * 1024),
  WS_PING_MS: positiveMs.default(30_000),
  WS_PONG_WAIT_MS: positiveMs.default(5_000),
  SHUTDOWN_GRACE_MS: positiveMs.default(10_000),
  // GET /metrics asks for an API key like everything else when keys are configured; 1 serves it to anyone.
  METRICS_PUBLIC: z.stringbool().default(false),
  // Access: hashed API keys inline or in a file (see auth/api-keys.ts); without keys the
  // gateway stays on loopback unless TOKENFLOW_ALLOW_NO_AUTH=1 says otherwise.
  TOKENFLOW_API_KEYS: z.string().min(1).optional(),
  TOKENFLOW_API_KEYS_FILE: z.string().min(1).optional(),
  TOKENFLOW_ALLOW_NO_AUTH: z.stringbool().default(false),
  // Limits for keys that set none of their own; unset means unlimited.
  RATE_LIMIT_REQUESTS_PER_MINUTE: z.coerce.number().int().min(1).max(1_000_000).optional(),
  RATE_LIMIT_CONCURRENT_STREAMS: z.coerce.number().int().min(1).max(100_000).optional(),
  RATE_LIMIT_TOKENS_PER_MINUTE: z.coerce.number().int().min(1).max(1_000_000_000).optional(),
  MAX_CONNECTIONS_PER_KEY: z.coerce.number().int().min(1).max(100_000).optional(),
  // Shared rate-limit counters for several gateway instances; in memory when unset.
  REDIS_URL: z.url({ protocol: /^rediss?$/ }).optional(),
  // The request log and budget counters: SQLite in TOKENFLOW_DATA_DIR, or PostgreSQL when
  // DATABASE_URL is set (share it between instances). LEDGER=off keeps no log and allows no budgets.
  LEDGER: z.enum(['on', 'off']).default('on'),
  TOKENFLOW_DATA_DIR: z.string().min(1).default('data'),
  DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/ }).optional(),
  // Rows wait here while the database is slow or down; beyond it the oldest are dropped (and counted).
  LEDGER_BUFFER_ROWS: z.coerce.number().int().min(100).max(10_000_000).default(50_000),
  LEDGER_FLUSH_MS: positiveMs.default(250),
  // Budgets for keys that set none of their own (UTC days and months); unset means no cap.
  BUDGET_USD_PER_DAY: z.coerce.number().positive().max(1_000_000_000).optional(),
  BUDGET_USD_PER_MONTH: z.coerce.number().positive().max(1_000_000_000).optional(),
  BUDGET_TOKENS_PER_DAY: z.coerce.number().int().positive().max(1_000_000_000_000).optional(),
  // The response cache (cache/): off, exact matches only, or exact then similar prompts (selectModel).
  // In memory (an LRU of CACHE_MAX_BYTES), or in Redis when REDIS_URL is set, shared by every instance.
  CACHE_MODE: z.enum(CACHE_MODES).default('off'),
  CACHE_TTL_SECONDS: z.coerce.number().int().min(1).max(MAX_TTL_SECONDS).default(3600),
  CACHE_MAX_BYTES: z.coerce
    .number()
    .int()
    .min(1024 * 1024)
    .max(64 * 1024 ** 3)
    .default(128 * 1024 * 1024),
  // Chosen on the dev split of src/cache/eval/cache-pairs.jsonl (bench/README.md has the curve).
  CACHE_SEMANTIC_THRESHOLD: z.coerce.number().min(0).max(1).default(SEMANTIC_THRESHOLD),
  // Similar-prompt entries kept per partition (key, system prompt, tools, earlier turns, options).
  CACHE_SEMANTIC_ENTRIES: z.coerce.number().int().min(1).max(1000).default(64),
  // `key`: every API key has its own cache; `gateway`: all keys share one (answers may cross keys).
  CACHE_SCOPE: z.enum(['key', 'gateway']).default('key'),
  WS_MAX_SUBSCRIPTIONS_PER_CONNECTION: z.coerce.number().int().min(1).max(100_000).default(1000),
  // Backpressure: above the high-water mark the gateway stops reading the upstream until the
  // client catches up; a client that stays behind this long, or lets this much pile up, is cut off.
  WS_HIGH_WATER_BYTES: bytes.default(1024 * 1024),
  WS_MAX_BUFFERED_BYTES: bytes.default(16 * 1024 * 1024),
  SLOW_CONSUMER_TIMEOUT_MS: positiveMs.default(30_000),
  // The web playground's built files, served at `/`; `off` serves none.
  WEB_DIST_DIR: z.string().min(1).optional(),
  WEB_UI: z.enum(['on', 'off']).default('on'),
  // OpenTelemetry traces, exported over OTLP/HTTP when set (the standard variable names).
  OTEL_EXPORTER_OTLP_ENDPOINT: z.url().optional(),
  OTEL_SERVICE_NAME: z.string().min(1).max(100).default('tokenflow-gateway'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

const SECRET_NAMES = /KEY|_TOKEN$|SECRET|PASSWORD|REDIS_URL|DATABASE_URL/;

/** 127.0.0.0/8, ::1 and localhost: addresses only this machine can reach. */
function isLoopback(host: string) {
  return host === 'localhost' || host === '::1' || /^127(\.\d{1,3}){3}$/.test(host);
}
const EXTRA_PROVIDER = /^TOKENFLOW_PROVIDER_([A-Z0-9_]+)_(BASE_URL|API_KEY)$/;

const BUILT_IN_PROVIDERS = ['groq', 'openrouter', 'local'];

const extraProviderSchema = z.object({
  name: z
    .string()
    .regex(/^[a-z0-9][a-z0-9-]*$/)
    .refine((name) => !BUILT_IN_PROVIDERS.includes(name), {
      message: 'is a built-in provider: set its own variables (e.g. GROQ_API_KEY, GROQ_API_BASE_URL) instead',
    }),
  baseURL: z.url(),
  apiKey: secret,
  keyEnv: z.string(),
});

export type Env = z.infer<typeof envSchema>;
export type ExtraProvider = z.infer<typeof extraProviderSchema>;
export type Config = Env & { extraProviders: ExtraProvider[]; apiKeys: ApiKeyEntry[] };

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/**
 * Extra OpenAI-compatible providers come in pairs of variables, e.g.
 * TOKENFLOW_PROVIDER_TOGETHER_BASE_URL and TOKENFLOW_PROVIDER_TOGETHER_API_KEY
 * (the key is optional, for local servers such as vLLM or Ollama).
 */
function collectExtraProviders(env: Record<string, string | undefined>) {
  const byName = new Map<string, Record<string, string | undefined>>();
  for (const [key, value] of Object.entries(env)) {
    const match = EXTRA_PROVIDER.exec(key);
    if (!match || !value) continue;
    const [, rawName = '', field] = match;
    const entry = byName.get(rawName) ?? { keyEnv: `TOKENFLOW_PROVIDER_${rawName}_API_KEY` };
    entry[field === 'BASE_URL' ? 'baseURL' : 'apiKey'] = value;
    byName.set(rawName, entry);
  }
  return [...byName.entries()].map(([rawName, entry]) => ({
    name: rawName.toLowerCase().replaceAll('_', '-'),
    ...entry,
  }));
}

function describeIssues(error: z.ZodError, source: Record<string, unknown>, prefix = '') {
  return error.issues.map((issue) => {
    const name = `${prefix}${issue.path.join('.')}`;
    const raw = issue.path.length === 1 ? source[String(issue.path[0])] : undefined;
    const shown = raw === undefined || SECRET_NAMES.test(name) ? '' : ` (got ${JSON.stringify(raw)})`;
    return `  ${name}: ${issue.message}${shown}`;
  });
}

/** Validates the environment; throws one ConfigError that lists every bad value. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  // `FOO=` in a .env file means "not set", not "set to the empty string".
  const present = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== ''));
  const problems: string[] = [];

  const parsed = envSchema.safeParse(present);
  if (!parsed.success) problems.push(...describeIssues(parsed.error, present));

  const extraProviders: ExtraProvider[] = [];
  for (const candidate of collectExtraProviders(present)) {
    const extra = extraProviderSchema.safeParse(candidate);
    if (extra.success) extraProviders.push(extra.data);
    else {
      const prefix = `TOKENFLOW_PROVIDER_${candidate.name.toUpperCase().replaceAll('-', '_')} `;
      problems.push(...describeIssues(extra.error, candidate, prefix));
    }
  }

  const keys = parseApiKeys(present.TOKENFLOW_API_KEYS, present.TOKENFLOW_API_KEYS_FILE);
  problems.push(...keys.problems);
  if (
    parsed.success &&
    keys.entries.length === 0 &&
    !isLoopback(parsed.data.HOST) &&
    !parsed.data.TOKENFLOW_ALLOW_NO_AUTH
  ) {
    problems.push(
      `  HOST: ${parsed.data.HOST} is reachable from other machines and no API key is configured: set TOKENFLOW_API_KEYS (npm run keys -- new <name>), or TOKENFLOW_ALLOW_NO_AUTH=1 to serve without auth.`,
    );
  }

  const budgeted =
    keys.entries.some((entry) => entry.budgets !== undefined) ||
    (parsed.success &&
      [parsed.data.BUDGET_USD_PER_DAY, parsed.data.BUDGET_USD_PER_MONTH, parsed.data.BUDGET_TOKENS_PER_DAY].some(
        (value) => value !== undefined,
      ));
  if (parsed.success && parsed.data.LEDGER === 'off' && budgeted) {
    problems.push('  LEDGER: is off, but budgets are set: budgets keep their counters in the ledger database');
  }

  if (!parsed.success || problems.length > 0) {
    throw new ConfigError(`Invalid configuration:\n${problems.join('\n')}`);
  }
  return { ...parsed.data, extraProviders, apiKeys: keys.entries };
}

/**
 * Reads KEY=value lines from a .env file into `env`. Variables already set in
 * the real environment win, so a deployment can always override the file.
 */
export function loadDotEnv(path: string, env: NodeJS.ProcessEnv = process.env): boolean {
  if (!existsSync(path)) return false;
  for (const [key, value] of Object.entries(parseEnv(readFileSync(path, 'utf8')))) {
    if (env[key] === undefined) env[key] = value;
  }
  return true;
}
