import { Injectable } from '@nestjs/common';
import { ReplayStore } from '../../client-auth/replay.store.js';
import { hashSecret } from '../../shared/crypto.js';
import type { HotPathSql } from './hot-path-sql.js';
import { isDatabaseOutage } from './driver-failures.js';
import { TypeOrmConnection } from './typeorm-connection.js';
import { TranslatesDriverFailures } from '../storage.js';
import { purgeExpiredInChunks } from './purge.js';

const INSERT_JTI =
  'INSERT INTO clavis_used_jti (client_id, jti_hash, expires_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING';

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
   * One insert that does nothing on a duplicate primary key: 1 row changed = first use, known only
   * once committed. On SQLite, inserts of one event-loop turn share a commit (`runGrouped`).
   */
  async consume(clientId: string, jti: string, expiresAt: number): Promise<boolean> {
    return (await this.sql.runGrouped(INSERT_JTI, [clientId, hashSecret(jti), expiresAt])) === 1;
  }

  purgeExpired(now: number): Promise<number> {
    return purgeExpiredInChunks(this.sql, 'clavis_used_jti', ['client_id', 'jti_hash'], now);
  }

  /** A range scan of the expiry index. */
  async count(now: number): Promise<number> {
    const [row] = await this.sql.all<{ n: number | string }>(
      'SELECT COUNT(*) AS n FROM clavis_used_jti WHERE expires_at >= ?',
      [now],
    );
    return Number(row?.n ?? 0);
  }
}
