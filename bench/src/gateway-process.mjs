// The gateway in its own process, as in production (`npm start` runs the setup
// step's compiled JavaScript, not the TypeScript), so its CPU and memory can be read.
import { createGateway, createLogger, loadConfig } from '../../packages/server/dist/index.js';

const config = loadConfig();
const gateway = createGateway(config, createLogger('silent'));
const address = await gateway.listen();
console.log(JSON.stringify({ ready: { url: `http://127.0.0.1:${address.port}`, pid: process.pid } }));
process.on('SIGTERM', () => void gateway.close().then(() => process.exit(0)));
