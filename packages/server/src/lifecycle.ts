/** Process-wide state the router and the HTTP host share for health and shutdown. */
export class Lifecycle {
  readonly startedAt = Date.now();
  draining = false;
  activeStreams = 0;
  private idleWaiters: Array<() => void> = [];

  streamStarted() {
    this.activeStreams += 1;
  }

  streamEnded() {
    this.activeStreams -= 1;
    if (this.activeStreams === 0) for (const wake of this.idleWaiters.splice(0)) wake();
  }

  /** Resolves once no stream is running, or after `ms`, whichever is first. */
  whenIdle(ms: number): Promise<void> {
    if (this.activeStreams === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.idleWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}
