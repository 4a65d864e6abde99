/** A WebSocket, or null for a request over plain HTTP. */
export type Connection = object | null;

/** Process-wide state the router and the HTTP host share for health and shutdown. */
export class Lifecycle {
  readonly startedAt = Date.now();
  draining = false;
  activeStreams = 0;
  /** Called, while draining, for each connection whose last stream has just ended. */
  onConnectionIdle: ((connection: object) => void) | null = null;
  private readonly perConnection = new Map<object, number>();
  private idleWaiters = new Set<() => void>();

  streamStarted(connection: Connection) {
    this.activeStreams += 1;
    if (connection) this.perConnection.set(connection, (this.perConnection.get(connection) ?? 0) + 1);
  }

  streamEnded(connection: Connection) {
    this.activeStreams -= 1;
    if (connection) {
      const left = (this.perConnection.get(connection) ?? 1) - 1;
      if (left > 0) this.perConnection.set(connection, left);
      else {
        this.perConnection.delete(connection);
        if (this.draining) this.onConnectionIdle?.(connection);
      }
    }
    if (this.activeStreams === 0) for (const wake of this.idleWaiters) wake();
  }

  hasStreams(connection: object) {
    return this.perConnection.has(connection);
  }

  streamsOn(connection: object) {
    return this.perConnection.get(connection) ?? 0;
  }

  /** Resolves once no stream is running, or after `ms`, whichever is first. */
  whenIdle(ms: number): Promise<void> {
    if (this.activeStreams === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.idleWaiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.idleWaiters.add(done);
    });
  }
}
