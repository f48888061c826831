import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import type { ClientRecord, ClientSecretRecord } from '../../clients/client.record.js';
import { ClientStore, ClientVersionConflictError, type ClientWithSecrets } from '../../clients/client.store.js';
import { ClientEntity, ClientSecretEntity } from './client.entity.js';
import { transactional } from './transactional.js';

/** `ClientStore` on the host's TypeORM DataSource. */
@Injectable()
export class TypeOrmClientStore extends ClientStore {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {
    super();
  }

  findById(clientId: string): Promise<ClientRecord | null> {
    return this.dataSource.getRepository(ClientEntity).findOneBy({ clientId });
  }

  async findWithSecrets(clientId: string): Promise<ClientWithSecrets | null> {
    const client = await this.dataSource.getRepository(ClientEntity).findOneBy({ clientId });
    if (!client) return null;
    const secrets = await this.dataSource.getRepository(ClientSecretEntity).find({ where: { clientId }, order: { createdAt: 'DESC', id: 'ASC' } });
    return { client, secrets };
  }

  list(): Promise<ClientRecord[]> {
    return this.dataSource.getRepository(ClientEntity).find({ order: { clientIdIssuedAt: 'ASC' } });
  }

  async create(client: ClientRecord, secrets: ClientSecretRecord[]): Promise<void> {
    await transactional(this.dataSource, async (m) => {
      await m.insert(ClientEntity, { ...client });
      if (secrets.length) await m.insert(ClientSecretEntity, secrets.map((s) => ({ ...s })));
    });
  }

  async update(client: ClientRecord, secrets?: ClientSecretRecord[]): Promise<void> {
    await transactional(this.dataSource, async (m) => {
      const { clientId, version, ...rest } = client;
      const result = await m.update(ClientEntity, { clientId, version: version - 1 }, { ...rest, version });
      if (!result.affected) throw new ClientVersionConflictError(clientId);
      if (secrets) {
        await m.delete(ClientSecretEntity, { clientId });
        if (secrets.length) await m.insert(ClientSecretEntity, secrets.map((s) => ({ ...s })));
      }
    });
  }

  async delete(clientId: string): Promise<boolean> {
    return transactional(this.dataSource, async (m) => {
      await m.delete(ClientSecretEntity, { clientId });
      const result = await m.delete(ClientEntity, { clientId });
      return (result.affected ?? 0) > 0;
    });
  }
}
