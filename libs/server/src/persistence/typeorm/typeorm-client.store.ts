import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import type { ClientRecord, ClientSecretRecord } from '../../clients/client.record.js';
import { ClientStore, ClientVersionConflictError, type ClientWithSecrets } from '../../clients/client.store.js';
import { ClientEntity, ClientSecretEntity } from './client.entity.js';
import { transactional } from './transactional.js';
import { fastSql, type FastSql } from './fast-sql.js';

/** `ClientStore` on the host's TypeORM DataSource. */
@Injectable()
export class TypeOrmClientStore extends ClientStore {
  private readonly sql: FastSql;

  constructor(@InjectDataSource() private readonly dataSource: DataSource) {
    super();
    this.sql = fastSql(dataSource);
  }

  findById(clientId: string): Promise<ClientRecord | null> {
    return this.dataSource.getRepository(ClientEntity).findOneBy({ clientId });
  }

  /** The hot path of every client authentication: one hand-written query, no query builder. */
  async findWithSecrets(clientId: string): Promise<ClientWithSecrets | null> {
    const rows = await this.sql.all<ClientRow & SecretRow>(FIND_WITH_SECRETS, [clientId]);
    if (rows.length === 0) return null;
    const client = toClient(rows[0]);
    const secrets = rows.filter((r) => r.s_id !== null).map(toSecret);
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

const FIND_WITH_SECRETS = `SELECT c.client_id, c.client_name, c.token_endpoint_auth_method, c.token_endpoint_auth_signing_alg, c.grant_types, c.scope,
  c.resources, c.jwks, c.jwks_uri, c.contacts, c.client_uri, c.software_id, c.software_version, c.registration_access_token_hash,
  c.client_id_issued_at, c.updated_at, c.version,
  s.id AS s_id, s.secret_hash AS s_secret_hash, s.secret_encrypted AS s_secret_encrypted, s.created_at AS s_created_at,
  s.expires_at AS s_expires_at, s.retires_at AS s_retires_at
FROM clavis_client c LEFT JOIN clavis_client_secret s ON s.client_id = c.client_id
WHERE c.client_id = ?
ORDER BY s.created_at DESC, s.id ASC`;

interface ClientRow {
  client_id: string;
  client_name: string | null;
  token_endpoint_auth_method: ClientRecord['tokenEndpointAuthMethod'];
  token_endpoint_auth_signing_alg: string | null;
  grant_types: string;
  scope: string;
  resources: string;
  jwks: string | null;
  jwks_uri: string | null;
  contacts: string;
  client_uri: string | null;
  software_id: string | null;
  software_version: string | null;
  registration_access_token_hash: string | null;
  client_id_issued_at: number | string;
  updated_at: number | string;
  version: number;
}
interface SecretRow {
  s_id: string | null;
  s_secret_hash: string | null;
  s_secret_encrypted: string | null;
  s_created_at: number | string;
  s_expires_at: number | string | null;
  s_retires_at: number | string | null;
}

const num = (v: number | string | null): number | null => (v === null ? null : Number(v));

function toClient(r: ClientRow): ClientRecord {
  return {
    clientId: r.client_id,
    clientName: r.client_name,
    tokenEndpointAuthMethod: r.token_endpoint_auth_method,
    tokenEndpointAuthSigningAlg: r.token_endpoint_auth_signing_alg,
    grantTypes: JSON.parse(r.grant_types),
    scope: r.scope,
    resources: JSON.parse(r.resources),
    jwks: r.jwks === null ? null : JSON.parse(r.jwks),
    jwksUri: r.jwks_uri,
    contacts: JSON.parse(r.contacts),
    clientUri: r.client_uri,
    softwareId: r.software_id,
    softwareVersion: r.software_version,
    registrationAccessTokenHash: r.registration_access_token_hash,
    clientIdIssuedAt: Number(r.client_id_issued_at),
    updatedAt: Number(r.updated_at),
    version: Number(r.version),
  };
}

function toSecret(r: ClientRow & SecretRow): ClientSecretRecord {
  return {
    id: r.s_id!,
    clientId: r.client_id,
    secretHash: r.s_secret_hash,
    secretEncrypted: r.s_secret_encrypted,
    createdAt: Number(r.s_created_at),
    expiresAt: num(r.s_expires_at),
    retiresAt: num(r.s_retires_at),
  };
}
