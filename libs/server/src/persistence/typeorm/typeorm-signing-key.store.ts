import { Injectable } from '@nestjs/common';
import { LessThan, type DataSource } from 'typeorm';
import { SigningKeyStore, type SigningKeyRecord } from '../../keys/signing-key.store.js';
import { SigningKeyEntity } from './security.entity.js';
import { isDatabaseOutage, isUniqueViolation } from './driver-failures.js';
import { TypeOrmConnection } from './typeorm-connection.js';
import { TranslatesDriverFailures } from '../storage.js';

@Injectable()
@TranslatesDriverFailures('database', isDatabaseOutage)
export class TypeOrmSigningKeyStore extends SigningKeyStore {
  private readonly dataSource: DataSource;

  constructor(private readonly connection: TypeOrmConnection) {
    super();
    this.dataSource = connection.dataSource;
  }

  list(): Promise<SigningKeyRecord[]> {
    return this.dataSource.getRepository(SigningKeyEntity).find({ order: { createdAt: 'ASC' } });
  }

  async insert(key: SigningKeyRecord): Promise<boolean> {
    try {
      await this.dataSource.getRepository(SigningKeyEntity).insert({ ...key } as never);
      return true;
    } catch (e) {
      if (isUniqueViolation(e)) return false;
      throw e;
    }
  }

  async promote(activate: string, retire: { kid: string; removeAt: number } | null, now: number): Promise<boolean> {
    try {
      return await this.connection.transaction(async (m) => {
        if (retire) {
          const r = await m.update(
            SigningKeyEntity,
            { kid: retire.kid, state: 'active' },
            { state: 'retired', retiredAt: now, removeAt: retire.removeAt },
          );
          if (!r.affected) return false;
        }
        const a = await m.update(
          SigningKeyEntity,
          { kid: activate, state: 'next' },
          { state: 'active', activatedAt: now },
        );
        if (!a.affected) throw new RollbackSignal();
        return true;
      });
    } catch (e) {
      if (e instanceof RollbackSignal || isUniqueViolation(e)) return false;
      throw e;
    }
  }

  async purgeRetired(now: number): Promise<number> {
    const r = await this.dataSource
      .getRepository(SigningKeyEntity)
      .delete({ state: 'retired', removeAt: LessThan(now) });
    return r.affected ?? 0;
  }
}

class RollbackSignal extends Error {}
