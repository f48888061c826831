import { Logger } from '@nestjs/common';
import { performance } from 'node:perf_hooks';
import type { DataSource, EntityManager } from 'typeorm';
import type { ClientWithSecrets } from '../../clients/client.store.js';
import type { HotPathSql } from './hot-path-sql.js';

/** Sized for 100,000 clients in use at once (ADR 0028: flat token throughput with 100,000 clients). */
const CACHE_MAX_CLIENTS = 100_000;

/** The PostgreSQL channel on which every client write announces `<client id> <change counter>`. */
export const CLIENT_CHANGE_CHANNEL = 'clavis_client_change';

/** `application_name` of the listening connection (operators and tests find it in pg_stat_activity). */
export const CLIENT_CHANGE_LISTENER = 'clavis-client-changes';

/**
 * Read at the end of a client write's transaction on PostgreSQL: the counter as this transaction
 * left it (its trigger holds the row's lock, so the value is this write's own).
 */
const WRITTEN_SQL = 'SELECT counter FROM clavis_client_change WHERE id = 1';

const CHECK_SQL = 'SELECT COALESCE((SELECT counter FROM clavis_client_change WHERE id = 1), 0) AS counter';

/** The scalar the client lookup selects beside the record: the counter its snapshot saw. */
export const CHANGE_COUNTER_COLUMN = `(SELECT counter FROM clavis_client_change WHERE id = 1) AS change_counter`;

/**
 * Clients read for authentication, kept in memory (frozen; at most 100 000, oldest dropped first).
 * `TypeOrmClientStore` asks it before reading the database and tells it about every write.
 */
export interface ClientCache {
  /** The cached record, or undefined: not cached, or the cache may not answer now. */
  get(clientId: string): ClientWithSecrets | undefined;
  /** A record just read; `counter`: the change counter the reading statement saw. */
  set(clientId: string, found: ClientWithSecrets, counter: number): void;
  /** A write to `clientId` through this process is about to start. */
  writing(clientId: string): void;
  /** That write has ended; `counter`: the change counter it committed, if it did. */
  written(clientId: string, counter: number | undefined): void;
  close(): Promise<void>;
}

/**
 * At the end of a client write's transaction: the change counter it committed (PostgreSQL: moved
 * on by the trigger on the client tables, which also notified every instance); undefined on
 * SQLite, whose cache needs no counter (`PRAGMA data_version` sees other connections' commits).
 */
export async function writtenChangeCounter(
  dataSource: DataSource,
  manager: EntityManager,
): Promise<number | undefined> {
  if (dataSource.options.type !== 'postgres') return undefined;
  const rows = (await manager.query(WRITTEN_SQL)) as { counter: string | number }[];
  return rows.length ? Number(rows[0]!.counter) : undefined;
}

class Entries {
  private readonly map = new Map<string, ClientWithSecrets>();
  get(clientId: string) {
    return this.map.get(clientId);
  }
  set(clientId: string, found: ClientWithSecrets) {
    if (this.map.size >= CACHE_MAX_CLIENTS && !this.map.has(clientId)) this.map.delete(this.map.keys().next().value!);
    this.map.set(clientId, found);
  }
  delete(clientId: string) {
    this.map.delete(clientId);
  }
  clear() {
    this.map.clear();
  }
}

/**
 * SQLite (one instance): valid for one `PRAGMA data_version` of the connection, which changes when
 * another connection (the operator CLI) commits; emptied by every write through this process.
 * @see docs/adr/0008-sqlite-group-commit-and-client-cache.md
 */
export class SqliteClientCache implements ClientCache {
  private readonly entries = new Entries();
  private version: number | undefined;

  constructor(private readonly sql: HotPathSql) {}

  private current(): boolean {
    const version = this.sql.dataVersion();
    if (version === undefined) return false;
    if (version !== this.version) {
      this.entries.clear();
      this.version = version;
    }
    return true;
  }

  get(clientId: string) {
    return this.current() ? this.entries.get(clientId) : undefined;
  }
  set(clientId: string, found: ClientWithSecrets) {
    if (this.current()) this.entries.set(clientId, found);
  }
  writing() {
    this.entries.clear();
  }
  written() {
    this.entries.clear();
  }
  async close() {}
}

/** What the listener needs of a `pg` Client (the driver TypeORM loaded; no import of it here). */
interface PgListenerClient {
  connect(): Promise<unknown>;
  query(sql: string): Promise<{ rows: Record<string, unknown>[] }>;
  end(): Promise<unknown>;
  on(event: 'notification', listener: (message: { channel: string; payload?: string }) => void): unknown;
  on(event: 'error', listener: (error: Error) => void): unknown;
  on(event: 'end', listener: () => void): unknown;
}

/**
 * A new connection like the DataSource's pool's (same URL, credentials, TLS), outside the pool;
 * undefined once the DataSource is destroyed (the cache then closes for good).
 */
export function pgListenerFactory(dataSource: DataSource): () => PgListenerClient | undefined {
  const driver = dataSource.driver as unknown as {
    postgres: { Client: new (options: object) => PgListenerClient };
    master?: { options: object };
  };
  return () =>
    dataSource.isInitialized && driver.master
      ? new driver.postgres.Client({ ...driver.master.options, application_name: CLIENT_CHANGE_LISTENER })
      : undefined;
}

/**
 * PostgreSQL, several instances: a record may be served for at most `bound` ms after a change
 * committed anywhere (another instance, the operator CLI), whatever happens to the notifications.
 *
 * - Every row written to the client tables moves the change counter on and notifies
 *   `<client id> <counter>`, in the writing transaction (a trigger: see the migration
 *   1764700000001). A dedicated connection LISTENs; a notification removes that client at once
 *   (milliseconds after the commit), and a gap in the counters empties the cache.
 * - Every `bound / 2` ms that connection reads the counter. A higher counter than the notifications
 *   brought means some were lost: the cache is emptied. A record is served only while the last
 *   check that confirmed the cache began at most `bound` ms ago, so a change committed at T is
 *   seen by T + `bound` at the latest.
 * - The connection failing or ending (terminated backend, network, database restart) empties the
 *   cache and turns it off until a new connection LISTENs and a check has run.
 * - A record read by a statement that saw an older counter than a change already applied here is
 *   not stored (it may predate that change).
 */
export class PgClientCache implements ClientCache {
  private readonly entries = new Entries();
  private readonly logger = new Logger('ClavisClientCache');
  private listener: PgListenerClient | undefined;
  /** The listener once its LISTEN has completed (checks before that would prove nothing). */
  private listening: PgListenerClient | undefined;
  private checking: PgListenerClient | undefined;
  private started = false;
  private closed = false;
  /** Connected, listening, and checked at least once since. */
  private live = false;
  /** Highest counter whose change has been applied here (notification, check or flush). */
  private heard = -1;
  /** Records read at a lower counter are not stored. */
  private floor = 0;
  /** When the last check that confirmed the cache began (performance.now()). */
  private confirmedAt = -Infinity;
  private failures = 0;
  private interval: NodeJS.Timeout | undefined;
  private reconnect: NodeJS.Timeout | undefined;

  constructor(
    private readonly newListener: () => PgListenerClient | undefined,
    /** Milliseconds. */
    private readonly bound: number,
    /** False once the database the cache belongs to is closed: the cache then closes too. */
    private readonly isOpen: () => boolean = () => true,
  ) {}

  get(clientId: string): ClientWithSecrets | undefined {
    if (!this.started) this.start();
    if (!this.live || performance.now() - this.confirmedAt > this.bound) return undefined;
    return this.entries.get(clientId);
  }

  set(clientId: string, found: ClientWithSecrets, counter: number): void {
    if (this.live && counter >= this.floor) this.entries.set(clientId, found);
  }

  writing(clientId: string): void {
    this.entries.delete(clientId);
  }

  written(clientId: string, counter: number | undefined): void {
    this.entries.delete(clientId);
    if (counter !== undefined && counter > this.floor) this.floor = counter;
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.interval);
    clearTimeout(this.reconnect);
    const listener = this.listener;
    this.listener = undefined;
    this.listening = undefined;
    this.live = false;
    await listener?.end().catch(() => undefined);
  }

  private start(): void {
    this.started = true;
    this.interval = setInterval(() => void this.check(), Math.max(10, Math.floor(this.bound / 2)));
    this.interval.unref();
    void this.subscribe();
  }

  private async subscribe(): Promise<void> {
    if (this.closed) return;
    let client: PgListenerClient | undefined;
    try {
      client = this.newListener();
    } catch (e) {
      this.logger.warn(`client change notifications: cannot open a connection (${String(e)}); client cache off`);
    }
    if (!client) {
      // The DataSource is gone (or unusable): nothing to listen to any more.
      await this.close();
      return;
    }
    this.listener = client;
    client.on('notification', (m) => {
      if (client === this.listener && m.channel === CLIENT_CHANGE_CHANNEL) this.notified(m.payload ?? '');
    });
    client.on('error', (e) => this.drop(client, e.message));
    client.on('end', () => this.drop(client, 'connection ended'));
    try {
      await client.connect();
      if (client !== this.listener) return;
      await client.query(`LISTEN ${CLIENT_CHANGE_CHANNEL}`);
      if (client !== this.listener) return;
      this.listening = client;
      await this.check();
      if (this.live && client === this.listener) this.failures = 0;
    } catch (e) {
      this.drop(client, e instanceof Error ? e.message : String(e));
    }
  }

  private notified(payload: string): void {
    const space = payload.lastIndexOf(' ');
    const counter = Number(payload.slice(space + 1));
    this.entries.delete(payload.slice(0, space));
    if (space < 0 || !Number.isSafeInteger(counter)) {
      this.flush(this.heard);
      return;
    }
    // Counters follow commit order, and so do notifications: a jump means one went missing.
    if (this.heard >= 0 && counter > this.heard + 1) this.flush(counter);
    if (counter > this.heard) this.heard = counter;
    if (counter > this.floor) this.floor = counter;
  }

  private async check(): Promise<void> {
    if (!this.isOpen()) {
      await this.close();
      return;
    }
    const client = this.listener;
    if (!client || client !== this.listening || this.checking === client || this.closed) return;
    this.checking = client;
    const began = performance.now();
    // A connection that stops answering is as good as lost (the cache already stops serving after `bound`).
    const deadline = setTimeout(() => this.drop(client, 'change check timed out'), Math.max(5_000, this.bound));
    try {
      const { rows } = await client.query(CHECK_SQL);
      if (client !== this.listener) return;
      const counter = Number(rows[0]!.counter);
      if (counter > this.heard) this.flush(counter);
      if (counter > this.floor) this.floor = counter;
      this.confirmedAt = began;
      this.live = true;
    } catch (e) {
      this.drop(client, e instanceof Error ? e.message : String(e));
    } finally {
      clearTimeout(deadline);
      if (this.checking === client) this.checking = undefined;
    }
  }

  private flush(counter: number): void {
    this.entries.clear();
    if (counter > this.heard) this.heard = counter;
    if (counter > this.floor) this.floor = counter;
  }

  /** The channel is gone: empty and off until a new connection has subscribed and checked. */
  private drop(client: PgListenerClient, reason: string): void {
    if (client !== this.listener) return;
    this.listener = undefined;
    this.listening = undefined;
    this.live = false;
    this.entries.clear();
    this.heard = -1;
    client.on('error', () => undefined);
    void client.end().catch(() => undefined);
    if (this.closed) return;
    this.logger.warn(`client change notifications interrupted (${reason}): client cache off until resubscribed`);
    const delay = Math.min(2_000, 100 * 2 ** this.failures++);
    this.reconnect = setTimeout(() => void this.subscribe(), delay);
    this.reconnect.unref();
  }
}
