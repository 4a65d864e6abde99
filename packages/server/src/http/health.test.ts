import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closedPort } from '../../test-utils/index.ts';
import { loadConfig } from '../config.ts';
import { Lifecycle } from '../lifecycle.ts';
import { createMlClient, mlClientOptions } from '../ml/client.ts';
import { streamChat } from '../providers/chat-stream.ts';
import { createProviderRegistry } from '../providers/registry.ts';
import { readiness } from './health.ts';

// An ML service whose models are all loaded.
let mlServer: Server;
let mlUrl: string;
beforeAll(async () => {
  mlServer = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ ready: true, models: {} }));
  });
  mlServer.listen(0, '127.0.0.1');
  await once(mlServer, 'listening');
  mlUrl = `http://127.0.0.1:${(mlServer.address() as AddressInfo).port}`;
});
afterAll(() => {
  mlServer.close();
});

describe('/readyz', () => {
  it('reports every breaker, and an open one does not make the gateway unready', async () => {
    const port = await closedPort();
    const config = loadConfig({
      ML_SERVICE_URL: mlUrl,
      TOKENFLOW_PROVIDER_DOWN_BASE_URL: `http://127.0.0.1:${port}/v1`,
      LOCAL_PROVIDER: 'off',
      BREAKER_FAILURE_THRESHOLD: '1',
      UPSTREAM_RETRY_ATTEMPTS: '0',
    });
    const registry = createProviderRegistry(config);
    const failing = streamChat({
      target: registry.resolve({ model: 'm', provider: 'down' }),
      body: { messages: [{ role: 'user', content: 'hi' }] },
      timeouts: { firstTokenMs: 5000, idleMs: 5000 },
      signal: new AbortController().signal,
    });
    await expect(failing.next()).rejects.toMatchObject({ code: 'SERVICE_UNAVAILABLE' });

    const ready = await readiness(new Lifecycle(), createMlClient(mlClientOptions(config)), registry);

    expect(ready.ready).toBe(true);
    expect(ready.breakers).toEqual({
      down: { state: 'open', failures: 1, retryInMs: expect.any(Number) },
      'ml-service': { state: 'closed', failures: 0, retryInMs: null },
    });
    expect(ready.breakers.down?.retryInMs).toBeGreaterThan(29_000);
  });
});
