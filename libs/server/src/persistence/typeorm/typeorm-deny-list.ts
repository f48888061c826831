import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { LessThan, type DataSource } from 'typeorm';
import { DenyList } from '../../token/deny-list.js';
import { RevokedTokenEntity } from './security.entity.js';
import { isUniqueViolation } from './unique-violation.js';

@Injectable()
export class TypeOrmDenyList extends DenyList {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {
    super();
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

  async purgeExpired(now: number): Promise<number> {
    const r = await this.dataSource.getRepository(RevokedTokenEntity).delete({ expiresAt: LessThan(now) });
    return r.affected ?? 0;
  }
}
