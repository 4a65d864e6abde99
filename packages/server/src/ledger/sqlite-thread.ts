import { Worker } from 'node:worker_threads';
import type { WorkerError, WorkerReply, WorkerRequest, WorkerResult } from './sqlite-messages.ts';

type Request = WorkerRequest extends infer R ? (R extends WorkerRequest ? Omit<R, 'id'> : never) : never;

interface Pending {
  resolve: (result: WorkerResult) => void;
  reject: (error: Error) => void;
}

/**
 * One better-sqlite3 connection in its own worker thread (sqlite-worker.js),
 * answering one request at a time in the order sent. The same `.js` file sits
 * next to this one in src/ and, through allowJs, in dist/: no loader needed.
 */
export class SqliteThread {
  private readonly worker = new Worker(new URL('./sqlite-worker.js', import.meta.url));
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  /** Set once the thread has died: every later request fails with it. */
  private failure: Error | undefined;

  constructor(readonly name: string) {
    // Idle, the thread must not keep the process alive (a script that forgets close() still ends).
    this.worker.unref();
    this.worker.on('message', (reply: WorkerReply) => this.settle(reply));
    this.worker.on('error', (error) => this.fail(new Error(`the SQLite ${name} thread failed: ${error.message}`)));
    this.worker.on('exit', (code) => this.fail(new Error(`the SQLite ${name} thread exited (code ${code})`)));
  }

  /** Requests queued in the thread, for choosing the least busy reader. */
  get load(): number {
    return this.pending.size;
  }

  run(request: Request): Promise<WorkerResult> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise<WorkerResult>((resolve, reject) => {
      if (this.pending.size === 0) this.worker.ref();
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ ...request, id } satisfies WorkerRequest);
    });
  }

  /** Closes the connection in the thread, then ends the thread. */
  async close(): Promise<void> {
    try {
      if (!this.failure) await this.run({ op: 'close' });
    } finally {
      this.failure ??= new Error(`the SQLite ${this.name} thread is closed`);
      await this.worker.terminate();
    }
  }

  private settle(reply: WorkerReply) {
    const pending = this.pending.get(reply.id);
    if (!pending) return;
    this.pending.delete(reply.id);
    if (this.pending.size === 0) this.worker.unref();
    if ('error' in reply) pending.reject(errorFrom(reply.error));
    else pending.resolve(reply.result);
  }

  private fail(error: Error) {
    this.failure ??= error;
    for (const pending of this.pending.values()) pending.reject(this.failure);
    this.pending.clear();
  }
}

/** The worker's error as the caller's Error: same message, name and `code` (db-errors.ts reads it). */
function errorFrom({ message, name, code }: WorkerError): Error {
  const error = new Error(message);
  error.name = name;
  if (code !== undefined) Object.assign(error, { code });
  return error;
}
