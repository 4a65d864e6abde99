// @ts-check
// The thread that owns one better-sqlite3 connection, so that its synchronous
// calls (a 100k-row report, a batch insert, a busy wait) never stall the
// gateway's event loop. Plain JavaScript, checked through JSDoc: the same file
// runs from src/ under vitest and tsx and from dist/ under node, with no loader.
import { parentPort } from 'node:worker_threads';
import SQLite from 'better-sqlite3';

/**
 * @typedef {import('./sqlite-messages.ts').WorkerRequest} WorkerRequest
 * @typedef {import('./sqlite-messages.ts').WorkerResult} WorkerResult
 * @typedef {import('./sqlite-messages.ts').WorkerReply} WorkerReply
 */

if (!parentPort) throw new Error('sqlite-worker.js runs as a worker thread');
const port = parentPort;

/** @type {SQLite.Database | undefined} */
let db;

/** @param {string} file @param {boolean} readonly */
function open(file, readonly) {
  const opened = new SQLite(file, { readonly, fileMustExist: readonly });
  try {
    if (!readonly) {
      // WAL: readers (usage queries) never block the writer and a crash loses no committed batch.
      opened.pragma('journal_mode = WAL');
      // NORMAL is durable across a process crash in WAL mode; only an OS crash may lose the last commits.
      opened.pragma('synchronous = NORMAL');
    }
    // Another process (a backup, the sqlite3 shell) may hold the write lock for a moment. Short even
    // though the wait is now off the event loop: a write that fails is retried by the ledger's writer,
    // while a budget hold waiting here would delay its request.
    opened.pragma('busy_timeout = 100');
  } catch (error) {
    opened.close();
    throw error;
  }
  return opened;
}

/** structured clone turns a Buffer into a Uint8Array; better-sqlite3 binds blobs only from Buffers. */
const bindable = (/** @type {unknown} */ value) =>
  value instanceof Uint8Array && !Buffer.isBuffer(value)
    ? Buffer.from(value.buffer, value.byteOffset, value.byteLength)
    : value;

/** The same choice as Kysely's SqliteDriver: statements that return rows are read, the rest run. */
function query(/** @type {string} */ sql, /** @type {readonly unknown[]} */ parameters) {
  if (!db) throw new Error('the SQLite ledger is not open');
  const stmt = db.prepare(sql);
  const values = parameters.map(bindable);
  if (stmt.reader) return { rows: stmt.all(values) };
  const { changes, lastInsertRowid } = stmt.run(values);
  return {
    rows: [],
    insertId: lastInsertRowid != null ? BigInt(lastInsertRowid) : undefined,
    numAffectedRows: changes != null ? BigInt(changes) : undefined,
  };
}

/** @param {WorkerRequest} request @returns {WorkerResult} */
function handle(request) {
  switch (request.op) {
    case 'open':
      db = open(request.file, request.readonly);
      return { rows: [] };
    case 'query':
      return query(request.sql, request.parameters);
    case 'close':
      db?.close();
      db = undefined;
      return { rows: [] };
  }
}

port.on('message', (/** @type {WorkerRequest} */ request) => {
  /** @type {WorkerReply} */
  let reply;
  try {
    reply = { id: request.id, result: handle(request) };
  } catch (caught) {
    // SqliteError's code (SQLITE_BUSY, SQLITE_CONSTRAINT_…) is what db-errors.ts classifies; keep it.
    const error = caught instanceof Error ? caught : new Error(String(caught));
    const code = /** @type {{ code?: unknown }} */ (error).code;
    reply = {
      id: request.id,
      error: { message: error.message, name: error.name, ...(typeof code === 'string' ? { code } : {}) },
    };
  }
  port.postMessage(reply);
});
