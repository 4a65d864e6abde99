import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { type Config, loadConfig } from '../src/config.ts';
import { createGateway, type Gateway } from '../src/http/gateway.ts';
import { createLogger } from '../src/logger.ts';

export interface RunningGateway {
  gateway: Gateway;
  config: Config;
  /** http://127.0.0.1:PORT */
  url: string;
  close(): Promise<void>;
}

export interface GatewayOptions {
  /** To read the gateway's logs. */
  logger?: Logger;
}

/**
 * Starts a real gateway on a free loopback port with the given environment.
 * Its request log is a SQLite file in a temporary folder of its own, removed
 * when it closes, unless `env` names a TOKENFLOW_DATA_DIR (to restart on the
 * same history) or a DATABASE_URL.
 */
export async function startGateway(
  env: Record<string, string | undefined>,
  options: GatewayOptions = {},
): Promise<RunningGateway> {
  const ownDir = env.TOKENFLOW_DATA_DIR ? null : mkdtempSync(join(tmpdir(), 'tokenflow-ledger-'));
  const config = loadConfig({
    PORT: '0',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    ...(ownDir ? { TOKENFLOW_DATA_DIR: ownDir } : {}),
    ...env,
  });
  const gateway = createGateway(config, options.logger ?? createLogger(config.LOG_LEVEL));
  const address = await gateway.listen();
  const close = async () => {
    await gateway.close();
    if (ownDir) rmSync(ownDir, { recursive: true, force: true });
  };
  return { gateway, config, url: `http://127.0.0.1:${address.port}`, close };
}
