import { Injectable } from '@nestjs/common';
import { ReplayStore } from '../../client-auth/replay.store.js';
import { hashSecret } from '../../shared/crypto.js';
import type { HotPathSql, InsertTarget } from './hot-path-sql.js';
import { isDatabaseOutage } from './driver-failures.js';
import { TypeOrmConnection } from './typeorm-connection.js';
import { TranslatesDriverFailures } from '../storage.js';
import { purgeExpiredInChunks } from './purge.js';

const USED_JTI: InsertTarget = {
  table: 'clavis_used_jti',
  columns: ['client_id', 'jti_hash', 'expires_at'],
  keyLength: 2,
};

/** Replay store in the database: a primary-key insert that fails on a duplicate is the atomic check. */
@Injectable()
@TranslatesDriverFailures('database', isDatabaseOutage)
export class TypeOrmReplayStore extends ReplayStore {
  private readonly sql: HotPathSql;

  constructor(connection: TypeOrmConnection) {
    super();
    this.sql = connection.sql;
  }

  /**
   * An insert that does nothing on a duplicate primary key: a new row = first use, known only once
   * committed. Inserts of one event-loop turn are written together (`insertIfAbsent`): one commit on
   * SQLite, one multi-row statement on PostgreSQL.
   */
  consume(clientId: string, jti: string, expiresAt: number): Promise<boolean> {
    return this.sql.insertIfAbsent(USED_JTI, [clientId, hashSecret(jti), expiresAt]);
  }

  purgeExpired(now: number): Promise<number> {
    return purgeExpiredInChunks(this.sql, 'clavis_used_jti', ['client_id', 'jti_hash'], now);
  }
}
