import { initTRPC } from '@trpc/server';
import type { Logger } from 'pino';
import superjson from 'superjson';
import type { Config } from './config.ts';
import type { Connection, Lifecycle } from './lifecycle.ts';
import type { MlClient } from './ml/client.ts';
import { UpstreamFailure } from './providers/errors.ts';
import type { ProviderRegistry } from './providers/registry.ts';
import type { Catalog } from './routing/catalog.ts';

/** The services every procedure may use; built once and shared by HTTP and WebSocket. */
export interface GatewayContext {
  config: Config;
  registry: ProviderRegistry;
  ml: MlClient;
  catalog: Catalog;
  lifecycle: Lifecycle;
  logger: Logger;
  /** The WebSocket a subscription runs on (null over HTTP), so shutdown can move idle sockets first. */
  connection: Connection;
}

type Issue = { path?: ReadonlyArray<PropertyKey | { key: PropertyKey }>; message: string };

/** "maxTokens: Too small: expected number to be >=1" instead of a JSON dump of issues. */
function describeIssues(issues: Issue[]) {
  return issues
    .map((issue) => {
      const path = (issue.path ?? []).map((part) => String(typeof part === 'object' ? part.key : part)).join('.');
      return path ? `${path}: ${issue.message}` : issue.message;
    })
    .join('; ');
}

const t = initTRPC.context<GatewayContext>().create({
  transformer: superjson,
  isDev: process.env.NODE_ENV === 'development',
  errorFormatter({ shape, error }) {
    const issues = (error.cause as { issues?: Issue[] } | undefined)?.issues;
    const invalidInput = error.code === 'BAD_REQUEST' && Array.isArray(issues);
    return {
      ...shape,
      message: invalidInput ? `Invalid input: ${describeIssues(issues)}` : shape.message,
      data: {
        ...shape.data,
        upstream: error.cause instanceof UpstreamFailure ? error.cause.details : null,
      },
    };
  },
});

export const router = t.router;
export const publicProcedure = t.procedure;
export const createCallerFactory = t.createCallerFactory;
