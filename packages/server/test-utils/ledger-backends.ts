// What the ledger's tests share: the two databases every specification runs against, rows, and a log to read.
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import pg from 'pg';
import pino from 'pino';
import { afterAll, beforeAll } from 'vitest';
import { SQLITE_FILE } from '../src/ledger/database.ts';
import type { RequestRow } from '../src/ledger/request-row.ts';
import { type RunningPostgresServer, startPostgresServer } from './postgres-server.ts';

export interface LedgerTarget {
  databaseUrl?: string;
  dataDir: string;
}

export interface Backend {
  name: 'sqlite' | 'postgres';
  /** Where a new, empty ledger database goes. */
  fresh(): Promise<LedgerTarget>;
  /** Makes `target`'s database refuse writes; the returned function ends the outage. */
  outage(target: LedgerTarget): Promise<() => Promise<void>>;
}

/**
 * SQLite in a temporary directory and a real PostgreSQL server (one per test
 * file, started in beforeAll), for `describe.each`. Each fresh() is a new
 * SQLite file or PostgreSQL schema, so tests never see each other's rows.
 */
export function ledgerBackends(): Backend[] {
  let server: RunningPostgresServer | undefined;
  const dirs: string[] = [];
  let schemas = 0;
  beforeAll(async () => {
    server = await startPostgresServer();
  }, 30_000);
  afterAll(async () => {
    await server?.stop();
    await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
  });
  const tempDir = async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tokenflow-ledger-'));
    dirs.push(dir);
    return dir;
  };
  const postgres = () => {
    if (!server) throw new Error('the PostgreSQL server has not started');
    return server;
  };

  return [
    {
      name: 'sqlite',
      fresh: async () => ({ dataDir: await tempDir() }),
      async outage(target) {
        // Another connection holding the write lock: every insert fails with SQLITE_BUSY.
        const holder = new SQLite(join(target.dataDir, SQLITE_FILE));
        holder.exec('begin exclusive');
        return async () => {
          holder.exec('commit');
          holder.close();
        };
      },
    },
    {
      name: 'postgres',
      async fresh() {
        // A schema, not a database: CREATE DATABASE copies a template and takes half a second.
        schemas += 1;
        const name = `ledger_${schemas}`;
        const admin = new pg.Client(postgres().url);
        await admin.connect();
        await admin.query(`create schema ${name}`);
        await admin.end();
        const options = encodeURIComponent(`-c search_path=${name}`);
        return { databaseUrl: `${postgres().url}?options=${options}`, dataDir: await tempDir() };
      },
      async outage() {
        await postgres().pause();
        return () => postgres().resume();
      },
    },
  ];
}

let rows = 0;

/** A complete, answered generate row at `ts`; override any field. */
export function requestRow(overrides: Partial<RequestRow> = {}): RequestRow {
  rows += 1;
  const ts = overrides.ts ?? Date.parse('2026-03-01T12:00:00Z') + rows;
  return {
    id: randomUUID(),
    ts,
    day: new Date(ts).toISOString().slice(0, 10),
    key: 'alice',
    procedure: 'generate',
    surface: 'ws',
    category: null,
    routing: null,
    provider: 'openai',
    model: 'gpt-4o-mini',
    cache: null,
    cacheSavedUsd: 0,
    fallbacks: [],
    promptTokens: 100,
    completionTokens: 20,
    tokensSource: 'provider',
    costUsd: 0.001,
    costSource: 'provider',
    tokensSaved: 0,
    usdSaved: 0,
    ttftMs: 150,
    totalMs: 900,
    outcome: 'OK',
    finishReason: 'stop',
    ...overrides,
  };
}

/** A logger whose lines the test can read, as parsed JSON. */
export function capturedLogger() {
  const lines: Array<{ level: number; msg: string; [field: string]: unknown }> = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line)) });
  return { logger, lines, messages: () => lines.map((line) => line.msg) };
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `check` until it is true or `ms` have passed. */
export async function eventually(check: () => boolean | Promise<boolean>, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`not true within ${ms} ms`);
    await sleep(20);
  }
}
