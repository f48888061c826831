import { Inject, Injectable, Optional, type OnApplicationShutdown } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import { SERVER_SETTINGS, type ServerSettings } from '../../options/server-settings.js';
import {
  PgClientCache,
  pgListenerFactory,
  SqliteClientCache,
  writtenChangeCounter,
  type ClientCache,
} from './client-cache.js';
import { hotPathSql, type HotPathSql } from './hot-path-sql.js';

/** The PostgreSQL client cache's staleness bound when no settings are given (ms). */
const DEFAULT_CLIENT_CACHE_STALENESS = 1_000;

/**
 * What the TypeORM stores of one module share on the host's DataSource: the hand-written SQL (on
 * SQLite, its statement cache and group-commit queue), the queue of transactions (SQLite has one
 * connection, on which two interleaved transactions would nest), and the cache of clients read for
 * authentication. One provider, injected into every store, instead of state kept per DataSource.
 */
@Injectable()
export class TypeOrmConnection implements OnApplicationShutdown {
  readonly sql: HotPathSql;
  /**
   * Clients by id: on SQLite while the database is unchanged; on PostgreSQL invalidated across
   * instances within `clientCacheStaleness` ms (none when that is 0). See client-cache.ts.
   */
  readonly clientCache: ClientCache | undefined;
  private chain: Promise<unknown> = Promise.resolve();

  constructor(
    @InjectDataSource() readonly dataSource: DataSource,
    @Optional() @Inject(SERVER_SETTINGS) settings?: Pick<ServerSettings, 'clientCacheStaleness'>,
  ) {
    this.sql = hotPathSql(dataSource);
    const staleness = settings?.clientCacheStaleness ?? DEFAULT_CLIENT_CACHE_STALENESS;
    if (this.sql.dataVersion() !== undefined) this.clientCache = new SqliteClientCache(this.sql);
    else if (dataSource.options.type === 'postgres' && staleness > 0)
      this.clientCache = new PgClientCache(pgListenerFactory(dataSource), staleness);
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

  /** Last in a client write's transaction: the change counter it will commit (PostgreSQL). */
  writtenChangeCounter(manager: EntityManager): Promise<number | undefined> {
    return writtenChangeCounter(this.dataSource, manager);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.clientCache?.close();
  }
}
