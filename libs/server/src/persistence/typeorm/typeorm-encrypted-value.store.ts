import { Injectable } from '@nestjs/common';
import { IsNull, MoreThan, Not, type DataSource } from 'typeorm';
import {
  clientSecretContext,
  EncryptedValueStore,
  signingKeyContext,
  type EncryptedValue,
  type EncryptedValueKind,
} from '../../key-encryption/encrypted-value.store.js';
import { ClientSecretEntity } from './client.entity.js';
import { SigningKeyEntity } from './security.entity.js';
import { isDatabaseOutage } from './driver-failures.js';
import { TypeOrmConnection } from './typeorm-connection.js';
import { TranslatesDriverFailures } from '../storage.js';

@Injectable()
@TranslatesDriverFailures('database', isDatabaseOutage)
export class TypeOrmEncryptedValueStore extends EncryptedValueStore {
  private readonly dataSource: DataSource;

  constructor(connection: TypeOrmConnection) {
    super();
    this.dataSource = connection.dataSource;
  }

  async page(kind: EncryptedValueKind, after: string | null, limit: number): Promise<EncryptedValue[]> {
    if (kind === 'signing_key') {
      const rows = await this.dataSource.getRepository(SigningKeyEntity).find({
        select: { kid: true, privateJwkEncrypted: true },
        where: after === null ? {} : { kid: MoreThan(after) },
        order: { kid: 'ASC' },
        take: limit,
      });
      return rows.map((r) => ({
        kind,
        id: r.kid,
        context: signingKeyContext(r.kid),
        ciphertext: r.privateJwkEncrypted,
      }));
    }
    const rows = await this.dataSource.getRepository(ClientSecretEntity).find({
      select: { id: true, clientId: true, secretEncrypted: true },
      where:
        after === null ? { secretEncrypted: Not(IsNull()) } : { secretEncrypted: Not(IsNull()), id: MoreThan(after) },
      order: { id: 'ASC' },
      take: limit,
    });
    return rows.map((r) => ({
      kind,
      id: r.id,
      context: clientSecretContext(r.clientId, r.id),
      ciphertext: r.secretEncrypted!,
    }));
  }

  async replace(value: EncryptedValue, ciphertext: string): Promise<boolean> {
    // One conditional UPDATE: atomic per row, so a concurrent re-encryption, secret rotation or
    // deletion is never overwritten with a stale value.
    const r =
      value.kind === 'signing_key'
        ? await this.dataSource
            .getRepository(SigningKeyEntity)
            .update({ kid: value.id, privateJwkEncrypted: value.ciphertext }, { privateJwkEncrypted: ciphertext })
        : await this.dataSource
            .getRepository(ClientSecretEntity)
            .update({ id: value.id, secretEncrypted: value.ciphertext }, { secretEncrypted: ciphertext });
    return (r.affected ?? 0) > 0;
  }
}
