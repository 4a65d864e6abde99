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

/** Starts a real gateway on a free loopback port with the given environment. */
export async function startGateway(
  env: Record<string, string | undefined>,
  options: GatewayOptions = {},
): Promise<RunningGateway> {
  const config = loadConfig({ PORT: '0', LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent', ...env });
  const gateway = createGateway(config, options.logger ?? createLogger(config.LOG_LEVEL));
  const address = await gateway.listen();
  return { gateway, config, url: `http://127.0.0.1:${address.port}`, close: () => gateway.close() };
}
