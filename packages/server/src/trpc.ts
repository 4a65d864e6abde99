import { initTRPC, type TRPCError } from '@trpc/server';
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

/**
 * The message a caller sees: for invalid input, "maxTokens: Too small: expected
 * number to be >=1" instead of a JSON dump of validation issues.
 */
export function publicMessage(error: TRPCError): string {
  const issues = (error.cause as { issues?: Issue[] } | undefined)?.issues;
  if (error.code !== 'BAD_REQUEST' || !Array.isArray(issues)) return error.message;
  const described = issues.map((issue) => {
    const path = (issue.path ?? []).map((part) => String(typeof part === 'object' ? part.key : part)).join('.');
    return path ? `${path}: ${issue.message}` : issue.message;
  });
  return `Invalid input: ${described.join('; ')}`;
}

const t = initTRPC.context<GatewayContext>().create({
  transformer: superjson,
  isDev: process.env.NODE_ENV === 'development',
  errorFormatter({ shape, error }) {
    return {
      ...shape,
      message: publicMessage(error),
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
