import { TRPCError } from '@trpc/server';

/** The parts of a `ws` WebSocket that tell how far behind its reader is. */
interface SocketLike {
  readonly bufferedAmount: number;
  readonly readyState: number;
}

export interface BackpressureLimits {
  highWaterBytes: number;
  maxBufferedBytes: number;
  slowConsumerTimeoutMs: number;
}

const OPEN = 1;
// `ws` emits no event when its buffer shrinks, so a paused stream looks again this often.
const POLL_MS = 10;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function isSocket(connection: object | null): connection is SocketLike {
  return connection !== null && typeof (connection as SocketLike).bufferedAmount === 'number';
}

/**
 * Waits, before the next event is sent, until the client has read enough of
 * what is queued for it. While this waits the upstream stream is not read, so
 * the provider's socket fills and TCP slows it down: the gateway never buffers
 * more than about the high-water mark per client. A client that stays behind
 * for the timeout, or lets the hard limit pile up, loses the stream.
 */
export async function waitForReader(connection: object | null, limits: BackpressureLimits, signal: AbortSignal) {
  if (!isSocket(connection) || connection.bufferedAmount <= limits.highWaterBytes) return;
  const tooMuch = () =>
    new TRPCError({
      code: 'PAYLOAD_TOO_LARGE',
      message: `More than ${limits.maxBufferedBytes} bytes waited to be sent to this client (WS_MAX_BUFFERED_BYTES); the stream was ended.`,
    });
  if (connection.bufferedAmount > limits.maxBufferedBytes) throw tooMuch();
  const started = Date.now();
  // Resume at half the mark, so a reader at the edge does not flip the stream on and off per event.
  while (connection.bufferedAmount > limits.highWaterBytes / 2) {
    if (signal.aborted || connection.readyState !== OPEN) return;
    if (Date.now() - started > limits.slowConsumerTimeoutMs) {
      throw new TRPCError({
        code: 'TIMEOUT',
        message: `The client read too slowly: ${connection.bufferedAmount} bytes stayed queued for ${limits.slowConsumerTimeoutMs} ms (SLOW_CONSUMER_TIMEOUT_MS); the stream was ended.`,
      });
    }
    await sleep(POLL_MS);
  }
}
