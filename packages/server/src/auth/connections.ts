import { TRPCError } from '@trpc/server';
import { retryLater } from '../limits/refusal.ts';
import type { Principal } from './api-keys.ts';

/** Open WebSockets per API key, on this gateway instance. */
export class ConnectionCounter {
  private readonly open = new Map<string, number>();

  /** `metrics` counts refusals (tokenflow_rate_limit_rejections_total); GatewayMetrics fits. */
  constructor(private readonly metrics?: { rateLimited(key: string, limit: 'connections'): void }) {}

  /** Counts one more connection for `principal`, or refuses it; the returned function releases it once. */
  take(principal: Principal): () => void {
    const max = principal.limits.maxConnections;
    const current = this.open.get(principal.name) ?? 0;
    if (max !== undefined && current >= max) {
      this.metrics?.rateLimited(principal.name, 'connections');
      throw new TRPCError({
        code: 'TOO_MANY_REQUESTS',
        message: `API key "${principal.name}" already holds its limit of ${max} open connections; close one or reuse it.`,
        cause: retryLater(1000),
      });
    }
    this.open.set(principal.name, current + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.open.get(principal.name) ?? 1) - 1;
      if (left > 0) this.open.set(principal.name, left);
      else this.open.delete(principal.name);
    };
  }
}
