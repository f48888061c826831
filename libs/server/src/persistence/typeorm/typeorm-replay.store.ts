import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { ReplayStore } from '../../client-auth/replay.store.js';
import { hashSecret } from '../../shared/crypto.js';
import { fastSql, type FastSql } from './fast-sql.js';
import { purgeExpiredInChunks } from './purge.js';

const INSERT_JTI = 'INSERT INTO clavis_used_jti (client_id, jti_hash, expires_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING';

/** Replay store in the database: a primary-key insert that fails on a duplicate is the atomic check. */
@Injectable()
export class TypeOrmReplayStore extends ReplayStore {
  private readonly sql: FastSql;

  constructor(@InjectDataSource() dataSource: DataSource) {
    super();
    this.sql = fastSql(dataSource);
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
}
