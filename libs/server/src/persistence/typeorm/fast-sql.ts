import type { DataSource } from 'typeorm';

/**
 * Hand-written SQL for the token endpoint's hot path (client lookup, replay insert), bypassing
 * TypeORM's query builder, which cost more than everything else on a token request put together.
 * On SQLite it uses better-sqlite3 prepared statements (cached, synchronous, microseconds); on
 * PostgreSQL parameterised queries through the DataSource's pool. SQL is written with `?`
 * placeholders and numbered for PostgreSQL.
 */
export interface FastSql {
  all<T = Record<string, unknown>>(sql: string, params: unknown[]): Promise<T[]>;
  /** Runs a write; returns the number of rows changed. */
  run(sql: string, params: unknown[]): Promise<number>;
}

interface SqliteStatement {
  all(...params: unknown[]): unknown[];
  run(...params: unknown[]): { changes: number };
}

export function fastSql(dataSource: DataSource): FastSql {
  if (dataSource.options.type === 'better-sqlite3') {
    const statements = new Map<string, SqliteStatement>();
    const prepare = (sql: string): SqliteStatement => {
      let s = statements.get(sql);
      if (!s) {
        s = (dataSource.driver as unknown as { databaseConnection: { prepare(sql: string): SqliteStatement } }).databaseConnection.prepare(sql);
        statements.set(sql, s);
      }
      return s;
    };
    return {
      all: async <T>(sql: string, params: unknown[]) => prepare(sql).all(...params) as T[],
      run: async (sql, params) => prepare(sql).run(...params).changes,
    };
  }
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
  return {
    all: async <T>(sql: string, params: unknown[]) => (await dataSource.query(toPg(sql), params)) as T[],
    run: async (sql, params) => {
      // RETURNING makes the changed-row count visible through TypeORM's query().
      const rows = (await dataSource.query(`${toPg(sql)} RETURNING 1 AS changed`, params)) as unknown[];
      return rows.length;
    },
  };
}
