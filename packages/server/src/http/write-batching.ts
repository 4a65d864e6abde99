import type { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';

const NEVER_BEHIND = () => false;
const behindBySocket = new WeakMap<WebSocket, () => boolean>();

/**
 * Sends everything a WebSocket sends during one turn of the event loop in one
 * write (one `writev` syscall) instead of one per message.
 *
 * One socket carries many streams, and each upstream chunk arrives in its own
 * I/O callback: `process.nextTick` would flush after every callback, while
 * `setImmediate` runs once the loop has handled all the I/O that was ready,
 * so the messages of every stream that advanced in this turn go out together,
 * each still a frame of its own and in the order it was sent. Nothing waits
 * for a timer: the flush comes at the end of the same turn. `bufferedAmount`
 * counts the corked bytes too, so backpressure (router/backpressure.ts) may
 * wait for a turn's own batch once it passes WS_HIGH_WATER_BYTES.
 */
export function sendInBatches(ws: WebSocket, socket: Duplex) {
  let corked = false;
  // Bytes the kernel had not taken yet when this turn's batch began.
  let queuedBefore = 0;
  const flush = () => {
    corked = false;
    socket.uncork();
  };
  const send = ws.send;
  ws.send = function batchedSend(this: WebSocket, ...args: Parameters<WebSocket['send']>) {
    if (!corked && !socket.destroyed) {
      corked = true;
      queuedBefore = socket.writableLength;
      socket.cork();
      setImmediate(flush);
    }
    return send.apply(this, args);
  } as WebSocket['send'];
  // Uncorked, a socket's queue empties as soon as the kernel takes it: what is
  // left is what the client has not read. Within a turn, this turn's own batch is not counted.
  behindBySocket.set(ws, () => (corked ? queuedBefore : socket.writableLength) > 0);
}

/** Whether a WebSocket that sends in batches is behind its reader (see sendInBatches). */
export function behindOf(ws: WebSocket): () => boolean {
  return behindBySocket.get(ws) ?? NEVER_BEHIND;
}
