import { subscribe } from 'node:diagnostics_channel';
import type { EventEmitter } from 'node:events';
import { readdirSync } from 'node:fs';
import type { Server } from 'node:http';
import { WebSocketServer } from 'ws';

// The gateway runs in this process (startGateway), so this process's fds, timers
// and listeners are the gateway's. Its http.Server and WebSocketServer are not
// exported, so they are picked up as they are used: every HTTP server that
// handles a request here (gateway, replay upstream, fault proxy), and every
// WebSocketServer that accepts an upgrade.
const servers = new Set<Server>();
const socketServers = new Set<WebSocketServer>();
subscribe('http.server.request.start', (message) => {
  servers.add((message as { server: Server }).server);
});
const handleUpgrade = WebSocketServer.prototype.handleUpgrade;
WebSocketServer.prototype.handleUpgrade = function (this: WebSocketServer, ...args) {
  socketServers.add(this);
  return handleUpgrade.apply(this, args);
};

export interface Snapshot {
  fds: number;
  /** process.getActiveResourcesInfo() counted by type: Timeout, TCPWRAP, ... */
  resources: Record<string, number>;
  /** Listener totals on process, the HTTP servers, the WebSocketServers and their sockets. */
  listeners: Record<string, number>;
  /** Open WebSockets on the gateway side. */
  webSockets: number;
  heapUsed: number;
}

export interface Tolerance {
  fds: number;
  resources: number;
  listeners: number;
  webSockets: number;
  heapBytes: number;
}

/** What one failure mode may leave behind: nothing, but the heap may wobble. */
export const DEFAULT_TOLERANCE: Tolerance = {
  fds: 0,
  resources: 0,
  listeners: 0,
  webSockets: 0,
  heapBytes: 8 * 1024 * 1024,
};

export interface Leak {
  what: string;
  before: number;
  after: number;
}

const listenerTotal = (emitter: EventEmitter) =>
  emitter.eventNames().reduce((sum, name) => sum + emitter.listenerCount(name), 0);

function collectGarbage() {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run with --expose-gc (vitest.config.ts sets execArgv) to measure the heap');
  gc();
  gc();
}

/** Closes keep-alive connections nobody is using, so an idle pooled socket is not counted as a leak. */
export function closeIdleConnections() {
  for (const server of servers) if (server.listening) server.closeIdleConnections();
}

export function snapshot(): Snapshot {
  const resources: Record<string, number> = {};
  for (const type of process.getActiveResourcesInfo()) resources[type] = (resources[type] ?? 0) + 1;
  const listeners: Record<string, number> = { process: listenerTotal(process) };
  let i = 0;
  for (const server of servers) if (server.listening) listeners[`httpServer#${i++}`] = listenerTotal(server);
  let webSockets = 0;
  let j = 0;
  for (const wss of socketServers) {
    listeners[`webSocketServer#${j}`] = listenerTotal(wss);
    listeners[`webSocketServer#${j++}.sockets`] = [...wss.clients].reduce((sum, ws) => sum + listenerTotal(ws), 0);
    webSockets += wss.clients.size;
  }
  collectGarbage();
  return {
    fds: readdirSync('/proc/self/fd').length,
    resources,
    listeners,
    webSockets,
    heapUsed: process.memoryUsage().heapUsed,
  };
}

/** Only growth counts: a socket that closed during the case is not a leak. */
export function diff(before: Snapshot, after: Snapshot, tolerance: Tolerance = DEFAULT_TOLERANCE): Leak[] {
  const leaks: Leak[] = [];
  const check = (what: string, a: number, b: number, allowed: number) => {
    if (b - a > allowed) leaks.push({ what, before: a, after: b });
  };
  check('fds', before.fds, after.fds, tolerance.fds);
  for (const type of new Set([...Object.keys(before.resources), ...Object.keys(after.resources)])) {
    check(`resource ${type}`, before.resources[type] ?? 0, after.resources[type] ?? 0, tolerance.resources);
  }
  for (const key of Object.keys(after.listeners)) {
    // A server that first showed up during the case starts from zero.
    check(`listeners ${key}`, before.listeners[key] ?? 0, after.listeners[key] ?? 0, tolerance.listeners);
  }
  check('webSockets', before.webSockets, after.webSockets, tolerance.webSockets);
  check('heapUsed', before.heapUsed, after.heapUsed, tolerance.heapBytes);
  return leaks;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Compares against `before` until nothing has grown or `waitMs` passes:
 * sockets and timers close a few ticks after the request that used them.
 */
export async function leaksSince(
  before: Snapshot,
  tolerance: Tolerance = DEFAULT_TOLERANCE,
  waitMs = 3000,
): Promise<Leak[]> {
  const deadline = Date.now() + waitMs;
  let leaks: Leak[] = [];
  for (let delay = 10; ; delay = Math.min(delay * 2, 250)) {
    closeIdleConnections();
    await sleep(delay);
    leaks = diff(before, snapshot(), tolerance);
    if (leaks.length === 0 || Date.now() > deadline) return leaks;
  }
}

/** A snapshot taken once idle connections are closed and have gone. */
export async function settledSnapshot(): Promise<Snapshot> {
  closeIdleConnections();
  await sleep(20);
  return snapshot();
}
