import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { behindOf, sendInBatches } from './write-batching.ts';

const closers: Array<() => void> = [];
afterEach(() => {
  for (const close of closers.splice(0)) close();
});

/** A WebSocket server whose sockets send in batches, and one client connected to it. */
async function connectedPair() {
  const wss = new WebSocketServer({ port: 0 });
  let serverSide: WebSocket | undefined;
  wss.on('connection', (ws, req) => {
    sendInBatches(ws, req.socket);
    serverSide = ws;
  });
  await once(wss, 'listening');
  const client = new WebSocket(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}`);
  const received: string[] = [];
  client.on('message', (data) => received.push(String(data)));
  await once(client, 'open');
  while (!serverSide) await new Promise((resolve) => setTimeout(resolve, 5));
  closers.push(() => {
    client.terminate();
    wss.close();
  });
  return { server: serverSide, client, received };
}

const settle = (ms = 20) => new Promise((resolve) => setTimeout(resolve, ms));

describe('sending in batches', () => {
  it('delivers every message of a turn whole and in order', async () => {
    const { server, received } = await connectedPair();
    const sent = Array.from({ length: 500 }, (_, i) => `{"id":${i},"text":"${'x'.repeat(i % 50)}"}`);
    for (const message of sent) server.send(message);
    while (received.length < sent.length) await settle(5);
    expect(received).toEqual(sent);
  });

  it("hands a turn's messages to the kernel in one write, after the turn", async () => {
    const { server, received } = await connectedPair();
    type Writer = (...args: unknown[]) => unknown;
    const socket = (server as unknown as { _socket: { _writev: Writer; _write: Writer } })._socket;
    const writes = { writev: 0, write: 0 };
    const { _writev: writev, _write: write } = socket;
    socket._writev = function (this: unknown, ...args: unknown[]) {
      writes.writev += 1;
      return writev.apply(this, args);
    };
    socket._write = function (this: unknown, ...args: unknown[]) {
      writes.write += 1;
      return write.apply(this, args);
    };
    for (let i = 0; i < 100; i += 1) server.send(`m${i}`);
    expect(writes).toEqual({ writev: 0, write: 0 }); // nothing yet: the turn is not over
    // Nor does this turn's own batch count as the client being behind.
    expect(behindOf(server)()).toBe(false);
    while (received.length < 100) await settle(5);
    expect(writes).toEqual({ writev: 1, write: 0 });
  });

  it('says the client is behind only while bytes it has not read stay queued', async () => {
    const { server, client, received } = await connectedPair();
    const behind = behindOf(server);
    server.send('hello');
    await settle();
    expect(received).toEqual(['hello']);
    expect(behind()).toBe(false);

    // The client stops reading: what does not fit in the kernel's buffers stays queued here.
    (client as unknown as { _socket: { pause(): void; resume(): void } })._socket.pause();
    const big = 'y'.repeat(64 * 1024);
    for (let i = 0; i < 200 && !behind(); i += 1) {
      server.send(big);
      await settle(1);
    }
    expect(behind()).toBe(true);

    (client as unknown as { _socket: { resume(): void } })._socket.resume();
    while (server.bufferedAmount > 0) await settle(5);
    expect(behind()).toBe(false);
  });
});
