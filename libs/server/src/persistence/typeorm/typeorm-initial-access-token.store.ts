import { Injectable } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import {
  InitialAccessTokenStore,
  type InitialAccessTokenRecord,
} from '../../registration/initial-access-token.store.js';
import { InitialAccessTokenEntity } from './security.entity.js';
import { isDatabaseOutage } from './driver-failures.js';
import { TypeOrmConnection } from './typeorm-connection.js';
import { TranslatesDriverFailures } from '../storage.js';

@Injectable()
@TranslatesDriverFailures('database', isDatabaseOutage)
export class TypeOrmInitialAccessTokenStore extends InitialAccessTokenStore {
  private readonly dataSource: DataSource;

  constructor(connection: TypeOrmConnection) {
    super();
    this.dataSource = connection.dataSource;
  }

  async insert(record: InitialAccessTokenRecord): Promise<void> {
    await this.dataSource.getRepository(InitialAccessTokenEntity).insert({ ...record });
  }

  async isUsable(tokenHash: string, now: number): Promise<boolean> {
    return (await this.findUsable(tokenHash, now)) !== null;
  }

  async findUsable(tokenHash: string, now: number): Promise<InitialAccessTokenRecord | null> {
    const t = await this.dataSource.getRepository(InitialAccessTokenEntity).findOneBy({ tokenHash });
    return t && (t.usesRemaining === null || t.usesRemaining > 0) && (t.expiresAt === null || t.expiresAt > now)
      ? t
      : null;
  }

  async consume(tokenHash: string, now: number): Promise<boolean> {
    // One conditional UPDATE: the use count can never go below zero, even under concurrency.
    const result = await this.dataSource
      .createQueryBuilder()
      .update(InitialAccessTokenEntity)
      .set({
        usesRemaining: () => 'CASE WHEN uses_remaining IS NULL THEN NULL ELSE uses_remaining - 1 END',
      })
      .where('token_hash = :tokenHash', { tokenHash })
      .andWhere('(uses_remaining IS NULL OR uses_remaining > 0)')
      .andWhere('(expires_at IS NULL OR expires_at > :now)', { now })
      .execute();
    return (result.affected ?? 0) > 0;
  }

  async refund(tokenHash: string): Promise<void> {
    await this.dataSource
      .createQueryBuilder()
      .update(InitialAccessTokenEntity)
      .set({ usesRemaining: () => 'uses_remaining + 1' })
      .where('token_hash = :tokenHash', { tokenHash })
      .andWhere('uses_remaining IS NOT NULL')
      .execute();
  }

  list(): Promise<InitialAccessTokenRecord[]> {
    return this.dataSource.getRepository(InitialAccessTokenEntity).find({ order: { createdAt: 'ASC' } });
  }

  async delete(id: string): Promise<boolean> {
    return ((await this.dataSource.getRepository(InitialAccessTokenEntity).delete({ id })).affected ?? 0) > 0;
  }
}
