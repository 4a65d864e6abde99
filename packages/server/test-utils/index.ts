export { hashApiKey } from '../src/auth/api-keys.ts';
export * from './fault-proxy.ts';
export * from './ml-service.ts';
export * from './postgres-server.ts';
export * from './recordings.ts';
export * from './redis-server.ts';
export * from './replay-upstream.ts';
export * from './start-gateway.ts';
