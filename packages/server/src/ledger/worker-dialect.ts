import {
  type CompiledQuery,
  type DatabaseConnection,
  type DatabaseIntrospector,
  type Dialect,
  type DialectAdapter,
  type Driver,
  type Kysely,
  type QueryCompiler,
  type QueryResult,
  SelectQueryNode,
  SqliteAdapter,
  SqliteIntrospector,
  SqliteQueryCompiler,
} from 'kysely';
import { SqliteThread } from './sqlite-thread.ts';

/**
 * The ledger's SQLite connections, each in its own thread: one that writes
 * (and holds every transaction) and readers for the usage reports, so that
 * neither the event loop nor the writer waits for a long report. WAL mode lets
 * the readers read while the writer writes.
 */
export interface SqliteThreads {
  writer: SqliteThread;
  readers: SqliteThread[];
}

/** Starts the threads and opens `file` in each; rejects with SQLite's own error when it cannot. */
export async function openSqliteThreads(file: string, options: { readers?: number } = {}): Promise<SqliteThreads> {
  const writer = new SqliteThread('writer');
  const readers: SqliteThread[] = [];
  try {
    // The writer first: it creates the file and turns WAL on, which read-only connections cannot do.
    await writer.run({ op: 'open', file, readonly: false });
    for (let i = 0; i < Math.max(1, options.readers ?? 1); i++) readers.push(new SqliteThread(`reader ${i + 1}`));
    await Promise.all(readers.map((reader) => reader.run({ op: 'open', file, readonly: true })));
    return { writer, readers };
  } catch (error) {
    await closeSqliteThreads({ writer, readers }).catch(() => {});
    throw error;
  }
}

async function closeSqliteThreads({ writer, readers }: SqliteThreads): Promise<void> {
  // Readers first: the writer, closing last, checkpoints the WAL into the database file.
  await Promise.allSettled(readers.map((reader) => reader.close()));
  await writer.close();
}

/**
 * Kysely's SQLite dialect over SqliteThreads rather than a better-sqlite3
 * handle on the event loop. Kysely's SqliteAdapter says "one connection",
 * which would make a report and a write wait for each other; ours says
 * "several", and the driver routes: SELECTs to a reader, everything else to
 * the writer one statement at a time, a transaction to the writer for its
 * whole length.
 */
export class WorkerSqliteDialect implements Dialect {
  constructor(private readonly threads: SqliteThreads) {}

  createDriver(): Driver {
    return new WorkerSqliteDriver(this.threads);
  }
  createQueryCompiler(): QueryCompiler {
    return new SqliteQueryCompiler();
  }
  createAdapter(): DialectAdapter {
    return new MultiConnectionSqliteAdapter();
  }
  createIntrospector(db: Kysely<unknown>): DatabaseIntrospector {
    return new SqliteIntrospector(db);
  }
}

class MultiConnectionSqliteAdapter extends SqliteAdapter {
  override get supportsMultipleConnections(): boolean {
    return true;
  }
}

/** A FIFO lock: the writer's connection runs one statement or one transaction at a time. */
class Mutex {
  private tail: Promise<void> = Promise.resolve();

  /** Resolves, once the lock is ours, with the function that releases it. */
  lock(): Promise<() => void> {
    let release!: () => void;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const acquired = this.tail.then(() => release);
    this.tail = this.tail.then(() => held);
    return acquired;
  }
}

class WorkerSqliteDriver implements Driver {
  private readonly writeLock = new Mutex();
  private readonly transactions = new WeakMap<WorkerSqliteConnection, () => void>();

  constructor(private readonly threads: SqliteThreads) {}

  async init(): Promise<void> {
    // openSqliteThreads already opened the database, so that a bad DATA_DIR fails at start-up.
  }

  async acquireConnection(): Promise<DatabaseConnection> {
    return new WorkerSqliteConnection(this);
  }

  async beginTransaction(connection: WorkerSqliteConnection): Promise<void> {
    const release = await this.writeLock.lock();
    try {
      await this.threads.writer.run({ op: 'query', sql: 'begin', parameters: [] });
    } catch (error) {
      release();
      throw error;
    }
    this.transactions.set(connection, release);
  }

  async commitTransaction(connection: WorkerSqliteConnection): Promise<void> {
    await this.threads.writer.run({ op: 'query', sql: 'commit', parameters: [] });
    // A failed COMMIT (SQLITE_BUSY) leaves the transaction open: Kysely rolls it back next, which unlocks.
    this.endTransaction(connection);
  }

  async rollbackTransaction(connection: WorkerSqliteConnection): Promise<void> {
    try {
      await this.threads.writer.run({ op: 'query', sql: 'rollback', parameters: [] });
    } finally {
      this.endTransaction(connection);
    }
  }

  async releaseConnection(connection: WorkerSqliteConnection): Promise<void> {
    // A transaction left open would hold the writer forever: roll it back.
    if (this.transactions.has(connection)) await this.rollbackTransaction(connection).catch(() => {});
  }

  async destroy(): Promise<void> {
    // Kysely does not wait for queries in flight: take the write lock, so a transaction that began
    // (a budget settle) commits or rolls back before the threads close, rather than losing its end.
    // Bounded: a statement that never answers must not hold a shutdown forever.
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.writeLock.lock(),
      new Promise((resolve) => {
        timer = setTimeout(resolve, 2000);
      }),
    ]);
    clearTimeout(timer);
    await closeSqliteThreads(this.threads);
  }

  async execute<R>(
    connection: WorkerSqliteConnection,
    { sql, parameters, query }: CompiledQuery,
  ): Promise<QueryResult<R>> {
    const request = { op: 'query', sql, parameters } as const;
    if (this.transactions.has(connection)) return (await this.threads.writer.run(request)) as QueryResult<R>;
    if (SelectQueryNode.is(query)) return (await this.leastBusyReader().run(request)) as QueryResult<R>;
    const release = await this.writeLock.lock();
    try {
      return (await this.threads.writer.run(request)) as QueryResult<R>;
    } finally {
      release();
    }
  }

  private endTransaction(connection: WorkerSqliteConnection) {
    this.transactions.get(connection)?.();
    this.transactions.delete(connection);
  }

  private leastBusyReader(): SqliteThread {
    const [first, ...rest] = this.threads.readers;
    if (!first) return this.threads.writer;
    return rest.reduce((best, reader) => (reader.load < best.load ? reader : best), first);
  }
}

class WorkerSqliteConnection implements DatabaseConnection {
  constructor(private readonly driver: WorkerSqliteDriver) {}

  executeQuery<R>(compiledQuery: CompiledQuery): Promise<QueryResult<R>> {
    return this.driver.execute<R>(this, compiledQuery);
  }

  // biome-ignore lint/correctness/useYield: it refuses before its first row
  async *streamQuery<R>(): AsyncIterableIterator<QueryResult<R>> {
    // The ledger pages its export itself (exportUsageRows); a stream would pin a reader to one caller.
    throw new Error('the SQLite ledger does not support .stream(): page with limit and a seq cursor instead');
  }
}
