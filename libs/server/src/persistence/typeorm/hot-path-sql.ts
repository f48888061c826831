import type { DataSource } from 'typeorm';

/**
 * Hand-written SQL for the token endpoint's hot path (client lookup, replay insert), bypassing
 * TypeORM's query builder, which cost more than everything else on a token request put together.
 * On SQLite it uses better-sqlite3 prepared statements (cached, synchronous, microseconds); on
 * PostgreSQL parameterised queries through the DataSource's pool. SQL is written with `?`
 * placeholders and numbered for PostgreSQL.
 */
export interface HotPathSql {
  all<T = Record<string, unknown>>(sql: string, params: unknown[]): Promise<T[]>;
  /** Runs a write; returns the number of rows changed. */
  run(sql: string, params: unknown[]): Promise<number>;
  /**
   * Like `run`, but on SQLite the writes queued in one turn of the event loop commit together in
   * one transaction (group commit): each caller still learns its own row count, and only once the
   * commit has succeeded. A commit costs more than an insert, so under load this halves the cost of
   * the replay store's inserts. On PostgreSQL: `run`.
   */
  runGrouped(sql: string, params: unknown[]): Promise<number>;
  /**
   * Inserts one row into `target` unless a row with its key is there; true when it was new, known
   * only once committed. Rows of one turn of the event loop are written together: on SQLite through
   * `runGrouped` (one commit); on PostgreSQL in one multi-row
   * `INSERT … ON CONFLICT DO NOTHING RETURNING <key>` statement (per 1000 rows), its rows in key
   * order so that two instances' statements never wait on each other in a cycle. A key twice in
   * one batch: the first caller gets the database's answer, the others false.
   */
  insertIfAbsent(target: InsertTarget, values: unknown[]): Promise<boolean>;
  /**
   * A number that changes when another connection (another process, such as the operator CLI)
   * has committed to the database since the last call; `undefined` where there is no such cheap
   * signal (PostgreSQL, whose client cache relies on notifications and a change counter instead).
   */
  dataVersion(): number | undefined;
}

/** A table for `insertIfAbsent`: its columns, the first `keyLength` of them (text) its primary key. */
export interface InsertTarget {
  readonly table: string;
  readonly columns: readonly string[];
  readonly keyLength: number;
}

/** Rows per multi-row insert on PostgreSQL (3 columns: 3000 parameters, far below its 65535). */
const PG_INSERT_BATCH = 1000;

interface SqliteStatement {
  all(...params: unknown[]): unknown[];
  run(...params: unknown[]): { changes: number };
  get(...params: unknown[]): unknown;
}

interface SqliteConnection {
  prepare(sql: string): SqliteStatement;
  transaction(fn: () => void): () => void;
}

interface QueuedWrite {
  statement: SqliteStatement;
  params: unknown[];
  resolve(changes: number): void;
  reject(error: unknown): void;
}

/**
 * A new HotPathSql on the DataSource. Build one per DataSource (TypeOrmConnection holds it): on SQLite
 * the write queue must be shared by every store on the connection.
 */
export function hotPathSql(dataSource: DataSource): HotPathSql {
  if (dataSource.options.type === 'better-sqlite3') return sqliteHotPathSql(dataSource);
  const numbered = new Map<string, string>();
  const toPg = (sql: string) => {
    let n = numbered.get(sql);
    if (n === undefined) {
      let i = 0;
      n = sql.replace(/\?/g, () => `$${++i}`);
      numbered.set(sql, n);
    }
    return n;
  };
  const run = async (sql: string, params: unknown[]) => {
    // The structured result carries the driver's row count (what DataSource.query does, plus that).
    const runner = dataSource.createQueryRunner();
    try {
      return (await runner.query(toPg(sql), params, true)).affected ?? 0;
    } finally {
      await runner.release();
    }
  };
  const batchers = new Map<InsertTarget, (values: unknown[]) => Promise<boolean>>();
  return {
    all: async <T>(sql: string, params: unknown[]) => (await dataSource.query(toPg(sql), params)) as T[],
    run,
    runGrouped: run,
    insertIfAbsent: (target, values) => {
      let insert = batchers.get(target);
      if (!insert) batchers.set(target, (insert = pgInsertBatcher(dataSource, target)));
      return insert(values);
    },
    dataVersion: () => undefined,
  };
}

interface QueuedInsert {
  key: string;
  values: unknown[];
  resolve(inserted: boolean): void;
  reject(error: unknown): void;
  failure?: { error: unknown };
}

/** The PostgreSQL side of `insertIfAbsent`: the inserts of one event-loop turn in multi-row statements. */
function pgInsertBatcher(dataSource: DataSource, target: InsertTarget): (values: unknown[]) => Promise<boolean> {
  const { table, columns, keyLength } = target;
  const keyColumns = columns.slice(0, keyLength);
  const keyOf = (values: readonly unknown[]) => JSON.stringify(values.slice(0, keyLength).map(String));
  const statement = (rows: number) => {
    const tuples: string[] = [];
    for (let r = 0, p = 0; r < rows; r++) tuples.push(`(${columns.map(() => `$${++p}`).join(', ')})`);
    return `INSERT INTO ${table} (${columns.join(', ')}) VALUES ${tuples.join(', ')} ON CONFLICT DO NOTHING RETURNING ${keyColumns.join(', ')}`;
  };

  const insertChunk = async (chunk: QueuedInsert[]): Promise<void> => {
    try {
      const returned = (await dataSource.query(
        statement(chunk.length),
        chunk.flatMap((w) => w.values),
      )) as Record<string, unknown>[];
      const inserted = new Set(returned.map((row) => keyOf(keyColumns.map((c) => row[c]))));
      for (const w of chunk) w.resolve(inserted.has(w.key));
    } catch (error) {
      for (const w of chunk) {
        w.failure = { error };
        w.reject(error);
      }
    }
  };

  let queue: QueuedInsert[] = [];
  const flush = async () => {
    const batch = queue;
    queue = [];
    const first = new Map<string, QueuedInsert>();
    const repeats: QueuedInsert[] = [];
    for (const w of batch) {
      if (first.has(w.key)) repeats.push(w);
      else first.set(w.key, w);
    }
    // One lock order for every instance: rows sorted by key.
    const unique = [...first.values()].sort((x, y) => (x.key < y.key ? -1 : x.key > y.key ? 1 : 0));
    const chunks: Promise<void>[] = [];
    for (let i = 0; i < unique.length; i += PG_INSERT_BATCH)
      chunks.push(insertChunk(unique.slice(i, i + PG_INSERT_BATCH)));
    await Promise.all(chunks);
    // A repeat of a key in the same batch is never new; it waits for the batch so that an outage
    // answers it as it answers the first.
    for (const w of repeats) {
      const original = first.get(w.key)!;
      if (original.failure) w.reject(original.failure.error);
      else w.resolve(false);
    }
  };

  return (values) =>
    new Promise<boolean>((resolve, reject) => {
      if (queue.length === 0) setImmediate(() => void flush());
      queue.push({ key: keyOf(values), values, resolve, reject });
    });
}

function sqliteHotPathSql(dataSource: DataSource): HotPathSql {
  const connection = () =>
    (dataSource.driver as unknown as { databaseConnection: SqliteConnection }).databaseConnection;
  const statements = new Map<string, SqliteStatement>();
  const prepare = (sql: string): SqliteStatement => {
    let s = statements.get(sql);
    if (!s) {
      s = connection().prepare(sql);
      statements.set(sql, s);
    }
    return s;
  };

  let queue: QueuedWrite[] = [];
  const flush = () => {
    const batch = queue;
    queue = [];
    const results: (number | { error: unknown })[] = [];
    try {
      // A statement that fails rejects its own caller only; a failed commit rejects them all.
      connection().transaction(() => {
        for (const w of batch) {
          try {
            results.push(w.statement.run(...w.params).changes);
          } catch (error) {
            results.push({ error });
          }
        }
      })();
    } catch (error) {
      for (const w of batch) w.reject(error);
      return;
    }
    batch.forEach((w, i) => {
      const r = results[i]!;
      if (typeof r === 'number') w.resolve(r);
      else w.reject(r.error);
    });
  };

  let dataVersion: SqliteStatement | undefined;
  const inserts = new Map<InsertTarget, string>();
  const runGrouped = (sql: string, params: unknown[]) =>
    new Promise<number>((resolve, reject) => {
      let statement: SqliteStatement;
      try {
        statement = prepare(sql);
      } catch (error) {
        reject(error);
        return;
      }
      if (queue.length === 0) setImmediate(flush);
      queue.push({ statement, params, resolve, reject });
    });
  return {
    all: async <T>(sql: string, params: unknown[]) => prepare(sql).all(...params) as T[],
    run: async (sql, params) => prepare(sql).run(...params).changes,
    runGrouped,
    insertIfAbsent: async (target, values) => {
      let sql = inserts.get(target);
      if (sql === undefined) {
        sql = `INSERT INTO ${target.table} (${target.columns.join(', ')}) VALUES (${target.columns.map(() => '?').join(', ')}) ON CONFLICT DO NOTHING`;
        inserts.set(target, sql);
      }
      return (await runGrouped(sql, values)) === 1;
    },
    dataVersion: () => {
      try {
        dataVersion ??= prepare('PRAGMA data_version');
        return (dataVersion.get() as { data_version: number }).data_version;
      } catch {
        return undefined;
      }
    },
  };
}
