/**
 * What the gateway and its SQLite threads (sqlite-worker.js) say to each
 * other: one request per statement, answered by id with the rows or the error.
 */
export type WorkerRequest =
  | { id: number; op: 'open'; file: string; readonly: boolean }
  | { id: number; op: 'query'; sql: string; parameters: readonly unknown[] }
  | { id: number; op: 'close' };

export interface WorkerResult {
  rows: unknown[];
  numAffectedRows?: bigint;
  insertId?: bigint;
}

/** An Error as it crosses the thread boundary: SQLite's `code` (SQLITE_BUSY, ...) kept for db-errors.ts. */
export interface WorkerError {
  message: string;
  name: string;
  code?: string;
}

export type WorkerReply = { id: number; result: WorkerResult } | { id: number; error: WorkerError };
