import { Injectable } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { DenyList } from '../../token/deny-list.js';
import { RevokedTokenEntity } from './security.entity.js';
import type { HotPathSql } from './hot-path-sql.js';
import { isDatabaseOutage, isUniqueViolation } from './driver-failures.js';
import { TypeOrmConnection } from './typeorm-connection.js';
import { TranslatesDriverFailures } from '../storage.js';
import { purgeExpiredInChunks } from './purge.js';

@Injectable()
@TranslatesDriverFailures('database', isDatabaseOutage)
export class TypeOrmDenyList extends DenyList {
  private readonly sql: HotPathSql;

  private readonly dataSource: DataSource;

  constructor(connection: TypeOrmConnection) {
    super();
    this.dataSource = connection.dataSource;
    this.sql = connection.sql;
  }

  async add(jti: string, expiresAt: number): Promise<void> {
    try {
      await this.dataSource.getRepository(RevokedTokenEntity).insert({ jti, expiresAt });
    } catch (e) {
      if (!isUniqueViolation(e)) throw e;
    }
  }

  async isRevoked(jti: string): Promise<boolean> {
    return (await this.dataSource.getRepository(RevokedTokenEntity).countBy({ jti })) > 0;
  }

  purgeExpired(now: number): Promise<number> {
    return purgeExpiredInChunks(this.sql, 'clavis_revoked_token', ['jti'], now);
  }

  /** A range scan of the expiry index. */
  async count(now: number): Promise<number> {
    const [row] = await this.sql.all<{ n: number | string }>(
      'SELECT COUNT(*) AS n FROM clavis_revoked_token WHERE expires_at > ?',
      [now],
    );
    return Number(row?.n ?? 0);
  }
}
