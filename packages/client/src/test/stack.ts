import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  closedPort,
  type GatewayOptions,
  type ReplayUpstream,
  type RunningGateway,
  type RunningMlService,
  type Scenario,
  startGateway,
  startReplayUpstream,
} from '@tokenflow/server/test-utils';
import WebSocket from 'ws';
import { createTokenFlowClient, type TokenFlowClient } from '../index.ts';

export const GROQ_KEY = 'gsk_test_groq_key_0123456789';
export const OPENROUTER_KEY = 'sk-or-test-openrouter-key-0123456789';

export interface Stack {
  upstream: ReplayUpstream;
  /** The ML service given in the options, closed with the stack. */
  ml: RunningMlService | undefined;
  gateway: RunningGateway;
  client: TokenFlowClient;
  /** Another client on its own WebSocket. */
  newClient(): TokenFlowClient;
  close(): Promise<void>;
}

export interface StackOptions extends GatewayOptions {
  /** How the replay upstream answers until a test calls `upstream.use`. */
  scenario?: Scenario;
  /** The ML service behind the gateway, made ready first; by default there is none (a closed port). */
  ml?: RunningMlService | Promise<RunningMlService>;
  /** Written to a file the gateway reads as TOKENFLOW_CATALOG. */
  catalog?: unknown;
}

/**
 * The real thing on loopback: replay upstream <- gateway <- @tokenflow/client over WebSocket.
 * `env` goes on top of the stack's gateway environment; a variable set to undefined is left
 * to the gateway's own default.
 */
export async function startStack(
  env: Record<string, string | undefined> = {},
  options: StackOptions = {},
): Promise<Stack> {
  const ml = await options.ml;
  let upstream: ReplayUpstream | undefined;
  let gateway: RunningGateway;
  try {
    await ml?.ready();
    upstream = await startReplayUpstream(options.scenario);
    gateway = await startGateway(
      {
        // No ML service in this stack unless given, whatever runs on this machine's default port (an `npm start`).
        ML_SERVICE_URL: ml?.url ?? `http://127.0.0.1:${await closedPort()}`,
        GROQ_API_KEY: GROQ_KEY,
        GROQ_API_BASE_URL: upstream.baseURL,
        OPENROUTER_API_KEY: OPENROUTER_KEY,
        OPENROUTER_API_BASE_URL: upstream.baseURL,
        GENERATE_FIRST_TOKEN_TIMEOUT_MS: '1500',
        GENERATE_IDLE_TIMEOUT_MS: '1000',
        ...(options.catalog === undefined ? {} : { TOKENFLOW_CATALOG: writeCatalog(options.catalog) }),
        ...env,
      },
      options,
    );
  } catch (error) {
    // A failed start must not leave the Python process or the upstream behind.
    await upstream?.close();
    await ml?.close();
    throw error;
  }
  const clients: TokenFlowClient[] = [];
  const newClient = () => {
    const client = createTokenFlowClient({ url: gateway.url, WebSocket });
    clients.push(client);
    return client;
  };
  const client = newClient();
  return {
    upstream,
    ml,
    gateway,
    client,
    newClient,
    async close() {
      await Promise.all(clients.map((c) => c.close()));
      await gateway.close();
      await upstream.close();
      await ml?.close();
    },
  };
}

function writeCatalog(catalog: unknown): string {
  const path = join(mkdtempSync(join(tmpdir(), 'tokenflow-catalog-')), 'catalog.json');
  writeFileSync(path, JSON.stringify(catalog));
  return path;
}

export interface MlStack {
  ml: RunningMlService;
  gateway: RunningGateway;
  client: TokenFlowClient;
  close(): Promise<void>;
}

/** The real Python service, once `starting` gives it and it is ready <- gateway <- client over WebSocket. */
export async function startMlStack(
  starting: Promise<RunningMlService>,
  env: Record<string, string> = {},
): Promise<MlStack> {
  const service = await starting;
  let gateway: RunningGateway;
  try {
    await service.ready();
    gateway = await startGateway({ ML_SERVICE_URL: service.url, ...env });
  } catch (error) {
    await service.close(); // a failed start must not leave the Python process behind
    throw error;
  }
  const client = createTokenFlowClient({ url: gateway.url, WebSocket });
  return {
    ml: service,
    gateway,
    client,
    async close() {
      await client.close();
      await gateway.close();
      await service.close();
    },
  };
}
