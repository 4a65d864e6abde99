import { describe, expect, it, vi } from 'vitest';
import { csvFileName, fetchUsageCsv } from './csv-export.ts';

const ORIGIN = 'http://gateway.test';
const FROM = '2026-12-01T00:00:00.000Z';

function answering(response: Response) {
  return vi.fn<typeof fetch>(async () => response);
}

describe('fetchUsageCsv', () => {
  it('asks /api/usage.csv for the filters given, with the key as a bearer token', async () => {
    const fetchImpl = answering(new Response('id,ts\n1,2\n', { headers: { 'content-type': 'text/csv' } }));

    const result = await fetchUsageCsv(ORIGIN, 'tf_secret', { from: FROM, model: 'groq/x' }, fetchImpl);

    expect(result.ok && (await result.blob.text())).toBe('id,ts\n1,2\n');
    const [url, init] = fetchImpl.mock.calls[0] ?? [];
    expect(url).toBe(`${ORIGIN}/api/usage.csv?from=${encodeURIComponent(FROM)}&model=groq%2Fx`);
    expect(new Headers(init?.headers).get('authorization')).toBe('Bearer tf_secret');
  });

  it('sends no authorization header and no empty filters without a key', async () => {
    const fetchImpl = answering(new Response(''));

    await fetchUsageCsv(ORIGIN, null, { from: undefined, model: '' }, fetchImpl);

    const [url, init] = fetchImpl.mock.calls[0] ?? [];
    expect(url).toBe(`${ORIGIN}/api/usage.csv`);
    expect(new Headers(init?.headers).has('authorization')).toBe(false);
  });

  it("returns the gateway's code and message when it refuses", async () => {
    const body = { code: 'UNAUTHORIZED', message: 'A valid API key is required.', upstream: null, retryAfterMs: null };
    const fetchImpl = answering(new Response(JSON.stringify(body), { status: 401 }));

    const result = await fetchUsageCsv(ORIGIN, null, {}, fetchImpl);

    expect(result).toEqual({
      ok: false,
      error: { code: 'UNAUTHORIZED', message: 'A valid API key is required.', detail: null, retryAfterMs: null },
    });
  });

  it('names the status when the error is not the gateway’s JSON, and the cause when the network fails', async () => {
    const proxied = await fetchUsageCsv(ORIGIN, null, {}, answering(new Response('Bad Gateway', { status: 502 })));
    expect(proxied.ok ? null : proxied.error.message).toBe('The export failed with HTTP 502: Bad Gateway');

    const offline = await fetchUsageCsv(ORIGIN, null, {}, async () => {
      throw new TypeError('Failed to fetch');
    });
    expect(offline.ok ? null : offline.error.message).toBe('The export failed: Failed to fetch');
  });
});

describe('csvFileName', () => {
  it('names the file after the days it covers', () => {
    expect(csvFileName({ from: FROM }, Date.parse('2026-12-07T18:00:00Z'))).toBe(
      'tokenflow-usage-2026-12-01-to-2026-12-07.csv',
    );
    expect(csvFileName({}, Date.parse('2026-12-07T18:00:00Z'))).toBe('tokenflow-usage-2026-12-07.csv');
  });
});
