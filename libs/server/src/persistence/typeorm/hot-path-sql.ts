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
   * A number that changes when another connection (another process, such as the operator CLI)
   * has committed to the database since the last call; `undefined` where there is no such cheap
   * signal (PostgreSQL), so nothing may be cached from the database.
   */
  dataVersion(): number | undefined;
}

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
  return {
    all: async <T>(sql: string, params: unknown[]) => (await dataSource.query(toPg(sql), params)) as T[],
    run,
    runGrouped: run,
    dataVersion: () => undefined,
  };
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
  return {
    all: async <T>(sql: string, params: unknown[]) => prepare(sql).all(...params) as T[],
    run: async (sql, params) => prepare(sql).run(...params).changes,
    runGrouped: (sql, params) =>
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
      }),
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
