import type { GenerateEvent, ModelRef, SelectModelEvent, Usage } from '../generation/events.ts';

export interface StreamRecorders {
  request(code: string): void;
  firstToken(ref: ModelRef, seconds: number): void;
  duration(ref: ModelRef, seconds: number): void;
  usage(ref: ModelRef, usage: Usage): void;
  fallback(from: ModelRef, code: string): void;
}

/**
 * Follows one stream's events: metadata and fallback say which model is
 * answering, the first text, reasoning or tool-call delta gives the time to first token,
 * `end` gives the usage. `finish` records the outcome exactly once.
 */
export class StreamMeter {
  private readonly started = performance.now();
  private model: ModelRef | null = null;
  private firstTokenSeen = false;
  private endSeen = false;
  private finished = false;

  constructor(
    readonly procedure: string,
    readonly key: string,
    private readonly record: StreamRecorders,
  ) {}

  private seconds() {
    return (performance.now() - this.started) / 1000;
  }

  event(raw: { type: string }) {
    const event = raw as GenerateEvent | SelectModelEvent;
    switch (event.type) {
      case 'metadata':
        // A cached answer is no provider's latency or spend: tokenflow_cache_* counts it.
        this.model = event.cache ? null : { provider: event.provider, model: event.model };
        break;
      case 'fallback':
        this.record.fallback(event.from, event.code);
        this.model = event.to;
        break;
      case 'text':
      case 'reasoning':
      case 'toolCall':
        if (this.firstTokenSeen || !this.model) break;
        this.firstTokenSeen = true;
        this.record.firstToken(this.model, this.seconds());
        break;
      case 'end': {
        this.endSeen = true;
        // The end event names the model that answered (after any fallback).
        if (event.usage && !event.cache)
          this.record.usage({ provider: event.provider, model: event.model }, event.usage);
        break;
      }
    }
  }

  /** Records how the stream ended ("OK" or a tRPC error code) and, if a model answered, how long it ran. */
  finish(code: string) {
    if (this.finished) return;
    this.finished = true;
    this.record.request(code);
    if (this.model) this.record.duration(this.model, this.seconds());
  }

  /**
   * How a stream that threw nothing ended: "OK" once its end event went out,
   * CLIENT_CLOSED_REQUEST when the caller left before that.
   */
  settle(aborted: boolean) {
    this.finish(!this.endSeen && aborted ? 'CLIENT_CLOSED_REQUEST' : 'OK');
  }

  /** Records a refusal before the stream began and hands the error back to be thrown. */
  refuse<E extends { code: string }>(error: E): E {
    this.finish(error.code);
    return error;
  }
}
