import { Injectable } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import type { ClientRecord, ClientSecretRecord } from '../../clients/client.record.js';
import {
  ClientStore,
  ClientVersionConflictError,
  type ClientWithSecrets,
  type ClientWriteCondition,
} from '../../clients/client.store.js';
import { ClientEntity, ClientSecretEntity } from './client.entity.js';
import type { HotPathSql } from './hot-path-sql.js';
import { isDatabaseOutage } from './driver-failures.js';
import { TypeOrmConnection } from './typeorm-connection.js';
import { CHANGE_COUNTER_COLUMN, type ClientCache } from './client-cache.js';
import { TranslatesDriverFailures } from '../storage.js';

/**
 * `ClientStore` on the host's TypeORM DataSource.
 *
 * The client a token request authenticates is served from memory (`ClientCache`, client-cache.ts).
 * On SQLite while the database is unchanged: the cache is emptied by every write through this
 * store, and whenever another connection (the operator CLI, another process) has committed —
 * `PRAGMA data_version`, a few microseconds, is checked on every lookup — so a deletion or a
 * rotation takes effect on the next request. On PostgreSQL every write announces itself in its
 * transaction (a trigger moves the change counter on and notifies), and every instance drops the
 * client on the notification, or empties its cache within the staleness bound when notifications
 * are lost.
 */
@Injectable()
@TranslatesDriverFailures('database', isDatabaseOutage)
export class TypeOrmClientStore extends ClientStore {
  private readonly dataSource: DataSource;
  private readonly sql: HotPathSql;
  private readonly cache: ClientCache | undefined;

  constructor(private readonly connection: TypeOrmConnection) {
    super();
    this.dataSource = connection.dataSource;
    this.sql = connection.sql;
    this.cache = connection.clientCache;
  }

  findById(clientId: string): Promise<ClientRecord | null> {
    return this.dataSource.getRepository(ClientEntity).findOneBy({ clientId });
  }

  /** The hot path of every client authentication: one hand-written query, no query builder. */
  async findWithSecrets(clientId: string): Promise<ClientWithSecrets | null> {
    const hit = this.cache?.get(clientId);
    if (hit) return hit;
    const rows = await this.sql.all<ClientRow & SecretRow>(FIND_WITH_SECRETS, [clientId]);
    if (rows.length === 0) return null; // unknown ids are not cached: they would crowd out real ones
    const found: ClientWithSecrets = deepFreeze({
      client: toClient(rows[0]!),
      secrets: rows.filter((r) => r.s_id !== null).map(toSecret),
    });
    this.cache?.set(clientId, found, Number(rows[0]!.change_counter ?? 0));
    return found;
  }

  list(): Promise<ClientRecord[]> {
    return this.dataSource.getRepository(ClientEntity).find({ order: { clientIdIssuedAt: 'ASC' } });
  }

  async create(client: ClientRecord, secrets: ClientSecretRecord[]): Promise<void> {
    await this.writing(client.clientId, () =>
      this.connection.transaction(async (m) => {
        await m.insert(ClientEntity, { ...client });
        if (secrets.length)
          await m.insert(
            ClientSecretEntity,
            secrets.map((s) => ({ ...s })),
          );
        return { result: undefined, counter: await this.connection.writtenChangeCounter(m) };
      }),
    );
  }

  async update(client: ClientRecord, secrets?: ClientSecretRecord[], condition?: ClientWriteCondition): Promise<void> {
    await this.writing(client.clientId, () =>
      this.connection.transaction(async (m) => {
        const { clientId, version, ...rest } = client;
        // One conditional UPDATE: the version, and the presented registration token's digest when given.
        const where = condition
          ? {
              clientId,
              version: version - 1,
              registrationAccessTokenHash: condition.registrationAccessTokenHash,
            }
          : { clientId, version: version - 1 };
        const result = await m.update(ClientEntity, where, {
          ...rest,
          version,
        });
        if (!result.affected) throw new ClientVersionConflictError(clientId);
        if (secrets) {
          await m.delete(ClientSecretEntity, { clientId });
          if (secrets.length)
            await m.insert(
              ClientSecretEntity,
              secrets.map((s) => ({ ...s })),
            );
        }
        return { result: undefined, counter: await this.connection.writtenChangeCounter(m) };
      }),
    );
  }

  async delete(clientId: string, condition?: ClientWriteCondition): Promise<boolean> {
    return this.writing(clientId, () =>
      this.connection.transaction(async (m) => {
        const where = condition
          ? {
              clientId,
              registrationAccessTokenHash: condition.registrationAccessTokenHash,
            }
          : { clientId };
        const result = await m.delete(ClientEntity, where);
        if (!result.affected) return { result: false, counter: undefined };
        await m.delete(ClientSecretEntity, { clientId });
        return { result: true, counter: await this.connection.writtenChangeCounter(m) };
      }),
    );
  }

  /**
   * A write drops the client from the cache before it starts and once it has ended, committed or
   * not; the counter it committed keeps reads that started before it out of the cache.
   */
  private async writing<T>(
    clientId: string,
    write: () => Promise<{ result: T; counter: number | undefined }>,
  ): Promise<T> {
    this.cache?.writing(clientId);
    let counter: number | undefined;
    try {
      const done = await write();
      counter = done.counter;
      return done.result;
    } finally {
      this.cache?.written(clientId, counter);
    }
  }
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

const FIND_WITH_SECRETS = `SELECT c.client_id, c.client_name, c.token_endpoint_auth_method, c.token_endpoint_auth_signing_alg, c.grant_types, c.scope,
  c.resources, c.jwks, c.jwks_uri, c.contacts, c.client_uri, c.software_id, c.software_version, c.registration_access_token_hash,
  c.max_scope, c.max_resources, c.allowed_methods,
  c.client_id_issued_at, c.updated_at, c.version, ${CHANGE_COUNTER_COLUMN},
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
  max_scope: string | null;
  max_resources: string | null;
  allowed_methods: string | null;
  client_id_issued_at: number | string;
  updated_at: number | string;
  version: number;
  change_counter: number | string | null;
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
    maxScope: r.max_scope,
    maxResources: r.max_resources === null ? null : JSON.parse(r.max_resources),
    allowedMethods: r.allowed_methods === null ? null : JSON.parse(r.allowed_methods),
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
