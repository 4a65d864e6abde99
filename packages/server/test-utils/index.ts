export * from './ml-service.ts';
export * from './recordings.ts';
export * from './replay-upstream.ts';
export * from './start-gateway.ts';
