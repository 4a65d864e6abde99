import superjson from 'superjson';
import WebSocket from 'ws';

export interface RawSocket {
  ws: WebSocket;
  /** Every message the gateway sent, parsed. */
  received: Array<Record<string, unknown>>;
  send(frame: string | Buffer): void;
  /** Resolves with the first message from index `from` on that matches, within `seconds`. */
  waitFor(
    match: (message: Record<string, unknown>) => boolean,
    seconds: number,
    from?: number,
  ): Promise<Record<string, unknown>>;
}

/** A tRPC subscription request as the tRPC client would send it, input through superjson. */
export function subscriptionMessage(id: number, path: string, input: unknown) {
  return JSON.stringify({ id, method: 'subscription', params: { path, input: superjson.serialize(input) } });
}

/** A `ws` client on the gateway's /trpc that speaks tRPC's JSON-RPC by hand, for frames no client would send. */
export async function openRawSocket(gatewayUrl: string): Promise<RawSocket> {
  const ws = new WebSocket(`${gatewayUrl.replace(/^http/, 'ws')}/trpc`);
  const received: Array<Record<string, unknown>> = [];
  let wake: (() => void) | null = null;
  ws.on('message', (data) => {
    try {
      received.push(JSON.parse(data.toString()) as Record<string, unknown>);
    } catch {
      received.push({ unparsed: data.toString() });
    }
    wake?.();
  });
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  return {
    ws,
    received,
    send: (frame) => ws.send(frame),
    async waitFor(match, seconds, from = 0) {
      const deadline = Date.now() + seconds * 1000;
      for (let seen = from; ; ) {
        for (; seen < received.length; seen += 1) {
          const message = received[seen];
          if (message && match(message)) return message;
        }
        const left = deadline - Date.now();
        if (left <= 0)
          throw new Error(`no matching message in ${seconds} s; got ${JSON.stringify(received.slice(from))}`);
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, left);
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }
    },
  };
}
