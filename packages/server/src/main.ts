import { join } from 'node:path';
import { ConfigError, loadConfig, loadDotEnv } from './config.ts';
import { createGateway } from './http/gateway.ts';
import { createLogger } from './logger.ts';
import { CatalogError } from './routing/catalog.ts';

loadDotEnv(process.env.TOKENFLOW_ENV_FILE ?? join(process.cwd(), '.env'));

let config: ReturnType<typeof loadConfig>;
try {
  config = loadConfig();
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  console.error(error.message);
  process.exit(1);
}

const logger = createLogger(config.LOG_LEVEL);
let gateway: ReturnType<typeof createGateway>;
try {
  gateway = createGateway(config, logger);
} catch (error) {
  if (!(error instanceof CatalogError)) throw error;
  console.error(error.message);
  process.exit(1);
}
const address = await gateway.listen().catch((error: Error) => {
  // The request log's database could not be opened or migrated (or the port is taken): say so, plainly.
  console.error(`The gateway could not start: ${error.message}`);
  process.exit(1);
});
const url = `http://${address.address}:${address.port}`;
logger.info({ url, trpc: `${url}/trpc`, ws: `ws://${address.address}:${address.port}/trpc` }, 'gateway listening');
if (
  config.GROQ_API_KEY === undefined &&
  config.OPENROUTER_API_KEY === undefined &&
  config.extraProviders.length === 0
) {
  logger.warn(
    config.LOCAL_PROVIDER === 'off'
      ? 'No provider key is set and LOCAL_PROVIDER=off: generate and selectModel have no model. Add GROQ_API_KEY=gsk_... to .env.'
      : 'No provider key is set: the local SmolLM2-135M model in the ML service answers every generate and selectModel request. To use Groq, add this line to .env: GROQ_API_KEY=gsk_...',
  );
}

let stopping = false;
const stop = async (signal: string) => {
  if (stopping) return;
  stopping = true;
  logger.info({ signal, activeStreams: gateway.lifecycle.activeStreams }, 'shutting down');
  await gateway.close();
  logger.info('stopped');
  process.exit(0);
};
process.on('SIGINT', () => void stop('SIGINT'));
process.on('SIGTERM', () => void stop('SIGTERM'));
