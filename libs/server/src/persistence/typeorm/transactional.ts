import type { DataSource, EntityManager } from 'typeorm';

const chains = new WeakMap<DataSource, Promise<unknown>>();

/**
 * Runs `work` in a transaction. SQLite (better-sqlite3) has one connection per DataSource, on which
 * two interleaved async transactions would nest ("cannot start a transaction within a
 * transaction"): there, transactions are queued one after another. PostgreSQL uses its pool.
 */
export function transactional<T>(dataSource: DataSource, work: (manager: EntityManager) => Promise<T>): Promise<T> {
  if (dataSource.options.type !== 'better-sqlite3') return dataSource.transaction(work);
  const previous = chains.get(dataSource) ?? Promise.resolve();
  const run = previous.catch(() => undefined).then(() => dataSource.transaction(work));
  chains.set(dataSource, run.catch(() => undefined));
  return run;
}
