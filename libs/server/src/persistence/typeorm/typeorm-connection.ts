import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import type { ClientWithSecrets } from '../../clients/client.store.js';
import { hotPathSql, type HotPathSql } from './hot-path-sql.js';

const CACHE_MAX_CLIENTS = 10_000;

/**
 * What the TypeORM stores of one module share on the host's DataSource: the hand-written SQL (on
 * SQLite, its statement cache and group-commit queue), the queue of transactions (SQLite has one
 * connection, on which two interleaved transactions would nest), and the cache of clients read for
 * authentication. One provider, injected into every store, instead of state kept per DataSource.
 */
@Injectable()
export class TypeOrmConnection {
  readonly sql: HotPathSql;
  /** Clients by id, while the SQLite database is unchanged; none on PostgreSQL (other instances write). */
  readonly clientCache: ClientCache | undefined;
  private chain: Promise<unknown> = Promise.resolve();

  constructor(@InjectDataSource() readonly dataSource: DataSource) {
    this.sql = hotPathSql(dataSource);
    if (this.sql.dataVersion() !== undefined) this.clientCache = new ClientCache();
  }

  /**
   * Runs `work` in a transaction. On SQLite (better-sqlite3, one connection) transactions are
   * queued one after another ("cannot start a transaction within a transaction"); PostgreSQL uses its pool.
   */
  transaction<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    if (this.dataSource.options.type !== 'better-sqlite3') return this.dataSource.transaction(work);
    const run = this.chain.then(() => this.dataSource.transaction(work));
    this.chain = run.catch(() => undefined);
    return run;
  }
}

/** Frozen clients by id, valid for one `data_version` of the connection; oldest dropped first. */
export class ClientCache {
  private readonly entries = new Map<string, ClientWithSecrets>();
  private version: number | undefined;

  /** The cache, emptied first if the database changed since; none if the version is unknown. */
  at(version: number | undefined): this | undefined {
    if (version === undefined) return undefined;
    if (version !== this.version) {
      this.entries.clear();
      this.version = version;
    }
    return this;
  }

  get(clientId: string): ClientWithSecrets | undefined {
    return this.entries.get(clientId);
  }

  set(clientId: string, found: ClientWithSecrets): void {
    if (this.entries.size >= CACHE_MAX_CLIENTS) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(clientId, found);
  }

  clear(): void {
    this.entries.clear();
  }
}
