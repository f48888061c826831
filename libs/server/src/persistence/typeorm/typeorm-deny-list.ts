import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { DenyList } from '../../token/deny-list.js';
import { RevokedTokenEntity } from './security.entity.js';
import { isUniqueViolation } from './unique-violation.js';
import { fastSql, type FastSql } from './fast-sql.js';
import { purgeExpiredInChunks } from './purge.js';

@Injectable()
export class TypeOrmDenyList extends DenyList {
  private readonly sql: FastSql;

  constructor(@InjectDataSource() private readonly dataSource: DataSource) {
    super();
    this.sql = fastSql(dataSource);
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
}
