import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { LessThan, type DataSource } from 'typeorm';
import { ReplayStore } from '../../client-auth/replay.store.js';
import { hashSecret } from '../../shared/crypto.js';
import { UsedJtiEntity } from './security.entity.js';
import { isUniqueViolation } from './unique-violation.js';

/** Replay store in the database: a primary-key insert that fails on a duplicate is the atomic check. */
@Injectable()
export class TypeOrmReplayStore extends ReplayStore {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {
    super();
  }

  async consume(clientId: string, jti: string, expiresAt: number): Promise<boolean> {
    try {
      await this.dataSource.getRepository(UsedJtiEntity).insert({ clientId, jtiHash: hashSecret(jti), expiresAt });
      return true;
    } catch (e) {
      if (isUniqueViolation(e)) return false;
      throw e;
    }
  }

  async purgeExpired(now: number): Promise<number> {
    const r = await this.dataSource.getRepository(UsedJtiEntity).delete({ expiresAt: LessThan(now) });
    return r.affected ?? 0;
  }
}
