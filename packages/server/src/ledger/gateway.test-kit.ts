import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { closedPort, expectedFrom, hashApiKey, type RecordingName } from '../../test-utils/index.ts';
import type { RequestRow } from './request-row.ts';
import type { UsageReport } from './usage-query.ts';

/** A usage report, or the error body in its place. */
type UsageAnswer = UsageReport & { code?: string; message: string };

/** A Groq recording: tokens without a cost, so the catalog's price sets the cost. */
export const RECORDING: RecordingName = 'groq-thinking-part-iter-0';
export const PRICE = { inputPerMTok: 1, outputPerMTok: 10 };
export const RECORDED = expectedFrom(RECORDING);
const usage = RECORDED.usage ?? { promptTokens: 0, completionTokens: 0 };
/** What one request for the recording costs at PRICE. */
export const COST = (usage.promptTokens * PRICE.inputPerMTok + usage.completionTokens * PRICE.outputPerMTok) / 1e6;
/**
 * A prompt the gateway estimates at the recording's prompt tokens, so a
 * request with maxTokens = the recording's completion tokens holds exactly
 * what it then costs.
 */
export const EXACT_PROMPT = 'x'.repeat(usage.promptTokens * 4);
export const EXACT_MAX_TOKENS = usage.completionTokens;

export const KEYS = {
  alice: 'tf_alice_0123456789abcdef',
  bob: 'tf_bob_0123456789abcdef',
  carol: 'tf_carol_0123456789abcdef',
} as const;

/** A catalog with one priced model on the extra provider "t" (TOKENFLOW_PROVIDER_T_BASE_URL). */
export function catalogFile(): string {
  const path = join(mkdtempSync(join(tmpdir(), 'tokenflow-catalog-')), 'catalog.json');
  const model = {
    provider: 't',
    model: RECORDING,
    categories: { general: 1 },
    contextWindow: 100_000,
    price: PRICE,
  };
  writeFileSync(path, JSON.stringify({ defaultCategory: 'general', models: [model] }));
  return path;
}

/** The environment of a gateway in front of `upstreamUrl`: alice (with `aliceBudgets`), bob (no budget), carol (a large one). */
export async function gatewayEnv(upstreamUrl: string, aliceBudgets?: object): Promise<Record<string, string>> {
  const keys = [
    { name: 'alice', hash: hashApiKey(KEYS.alice), ...(aliceBudgets ? { budgets: aliceBudgets } : {}) },
    { name: 'bob', hash: hashApiKey(KEYS.bob) },
    { name: 'carol', hash: hashApiKey(KEYS.carol), budgets: { usdPerMonth: 1000 } },
  ];
  return {
    TOKENFLOW_PROVIDER_T_BASE_URL: upstreamUrl,
    TOKENFLOW_CATALOG: catalogFile(),
    TOKENFLOW_API_KEYS: JSON.stringify(keys),
    LOCAL_PROVIDER: 'off',
    UPSTREAM_RETRY_ATTEMPTS: '0',
    // No ML service: selectModel routes to the default category, classify fails (and is logged).
    ML_SERVICE_URL: `http://127.0.0.1:${await closedPort()}`,
  };
}

export const auth = (key: string) => ({ authorization: `Bearer ${key}` });

/** POSTs a streaming REST call and reads its whole SSE body. */
export async function streamRest(base: string, path: string, key: string, body: object) {
  const response = await fetch(`${base}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...auth(key) },
    body: JSON.stringify(body),
  });
  return { status: response.status, headers: response.headers, text: await response.text() };
}

export const generateBody = (extra: object = {}) => ({
  provider: 't',
  model: RECORDING,
  prompt: EXACT_PROMPT,
  maxTokens: EXACT_MAX_TOKENS,
  ...extra,
});

export async function usageOf(base: string, key: string, query = '') {
  const response = await fetch(`${base}/api/usage${query}`, { headers: auth(key) });
  return { status: response.status, body: (await response.json()) as UsageAnswer };
}

/** The key's rows through the CSV export, parsed back (no field in these tests holds a comma or quote). */
export async function rowsOf(base: string, key: string, query = ''): Promise<Array<Record<string, string>>> {
  const response = await fetch(`${base}/api/usage.csv${query}`, { headers: auth(key) });
  if (response.status !== 200) throw new Error(`GET /api/usage.csv: ${response.status} ${await response.text()}`);
  const [header = '', ...lines] = (await response.text()).trim().split('\r\n').filter(Boolean);
  const columns = header.split(',');
  return lines.map((line) => Object.fromEntries(line.split(',').map((value, i) => [columns[i], value])));
}

export type { RequestRow };
