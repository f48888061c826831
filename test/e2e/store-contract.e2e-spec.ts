import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { DataSource, type DataSourceOptions } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CLAVIS_ENTITIES,
  CLAVIS_MIGRATIONS,
  FixedClock,
  StorageUnavailableError,
  type ClientRecord,
} from '@clavis/server';
import {
  ClientStore,
  DenyList,
  ReplayStore,
  type ClientSecretRecord,
  type SigningKeyRecord,
  InMemoryClientStore,
  InMemoryDenyList,
  InMemoryEncryptedValueStore,
  InMemoryInitialAccessTokenStore,
  InMemoryReplayStore,
  InMemorySigningKeyStore,
  InMemoryTables,
} from '@clavis/server/testing';
import { ClientVersionConflictError } from '../../libs/server/src/clients/client.store.js';
import { FederatedCredentialTakenError } from '../../libs/server/src/clients/federated-credentials.js';
import { EncryptedValueStore } from '../../libs/server/src/key-encryption/encrypted-value.store.js';
import { SigningKeyStore } from '../../libs/server/src/keys/signing-key.store.js';
import { InitialAccessTokenStore } from '../../libs/server/src/registration/initial-access-token.store.js';
import { RedisDenyList, RedisReplayStore } from '../../libs/server/src/persistence/redis/redis-stores.js';
import { TypeOrmClientStore } from '../../libs/server/src/persistence/typeorm/typeorm-client.store.js';
import { TypeOrmConnection } from '../../libs/server/src/persistence/typeorm/typeorm-connection.js';
import { TypeOrmDenyList } from '../../libs/server/src/persistence/typeorm/typeorm-deny-list.js';
import { TypeOrmEncryptedValueStore } from '../../libs/server/src/persistence/typeorm/typeorm-encrypted-value.store.js';
import { TypeOrmInitialAccessTokenStore } from '../../libs/server/src/persistence/typeorm/typeorm-initial-access-token.store.js';
import { TypeOrmReplayStore } from '../../libs/server/src/persistence/typeorm/typeorm-replay.store.js';
import { TypeOrmSigningKeyStore } from '../../libs/server/src/persistence/typeorm/typeorm-signing-key.store.js';
import { needs } from '../support/requirements.js';

/**
 * One contract for every storage adapter (docs/adr/0019-storage-is-a-port.md): what the core relies
 * on — conditional writes that one caller wins, single-use assertion ids, expiry — holds the same in
 * memory, on SQLite, on PostgreSQL (DATABASE_URL) and, for the replay store and deny list, in Redis (REDIS_URL).
 */
interface Stores {
  clients: ClientStore;
  keys: SigningKeyStore;
  initialTokens: InitialAccessTokenStore;
  encrypted: EncryptedValueStore;
  replay: ReplayStore;
  denyList: DenyList;
}
interface Backend {
  stores: Stores;
  /** Whether purgeExpired counts what it removed (Redis expires keys itself and reports 0). */
  purges: boolean;
  close(): Promise<void>;
}

const NOW = 1_800_000_000;
/** An id that fits every id column (32 characters at most). */
const uid = () => randomUUID().replace(/-/g, '').slice(0, 24);
const clock = new FixedClock(NOW * 1000);

function memory(): Backend {
  const tables = new InMemoryTables();
  return {
    stores: {
      clients: new InMemoryClientStore(tables),
      keys: new InMemorySigningKeyStore(tables),
      initialTokens: new InMemoryInitialAccessTokenStore(tables),
      encrypted: new InMemoryEncryptedValueStore(tables),
      replay: new InMemoryReplayStore(tables, clock),
      denyList: new InMemoryDenyList(tables, clock),
    },
    purges: true,
    close: async () => undefined,
  };
}

async function typeorm(
  options: DataSourceOptions,
  after: (ds: DataSource) => Promise<void> = async () => undefined,
): Promise<Backend> {
  const ds = await new DataSource({
    ...options,
    entities: [...CLAVIS_ENTITIES],
    migrations: [...CLAVIS_MIGRATIONS],
    migrationsRun: true,
    synchronize: false,
  } as DataSourceOptions).initialize();
  const c = new TypeOrmConnection(ds);
  return {
    stores: {
      clients: new TypeOrmClientStore(c),
      keys: new TypeOrmSigningKeyStore(c),
      initialTokens: new TypeOrmInitialAccessTokenStore(c),
      encrypted: new TypeOrmEncryptedValueStore(c),
      replay: new TypeOrmReplayStore(c),
      denyList: new TypeOrmDenyList(c),
    },
    purges: true,
    close: async () => {
      await after(ds);
      await ds.destroy();
    },
  };
}

/** PostgreSQL in a schema of its own (dropped afterwards): the signing-key rule "one active key" is table-wide. */
async function postgres(): Promise<Backend> {
  const url = process.env.DATABASE_URL!;
  const schema = `clavis_contract_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
  const admin = await new DataSource({ type: 'postgres', url }).initialize();
  await admin.query(`CREATE SCHEMA ${schema}`);
  await admin.destroy();
  return typeorm(
    { type: 'postgres', url, schema, extra: { options: `-c search_path=${schema}` } },
    async (ds) => void (await ds.query(`DROP SCHEMA ${schema} CASCADE`)),
  );
}

async function redisOn(base: Backend): Promise<Backend> {
  const redis = new Redis(process.env.REDIS_URL!, { keyPrefix: `clavis:contract:${randomUUID()}:` });
  return {
    stores: {
      ...base.stores,
      replay: new RedisReplayStore(redis, () => clock.nowSeconds()),
      denyList: new RedisDenyList(redis, () => clock.nowSeconds()),
    },
    purges: false,
    close: async () => {
      await redis.quit();
      await base.close();
    },
  };
}

const client = (clientId: string, over: Partial<ClientRecord> = {}): ClientRecord => ({
  clientId,
  clientName: null,
  tokenEndpointAuthMethod: 'client_secret_basic',
  tokenEndpointAuthSigningAlg: null,
  grantTypes: ['client_credentials'],
  scope: 'a',
  resources: [],
  jwks: null,
  jwksUri: null,
  federatedCredentials: [],
  contacts: [],
  clientUri: null,
  softwareId: null,
  softwareVersion: null,
  maxScope: null,
  maxResources: null,
  allowedMethods: null,
  registrationAccessTokenHash: 'rat-1',
  clientIdIssuedAt: NOW,
  updatedAt: NOW,
  version: 1,
  ...over,
});
const secret = (
  clientId: string,
  id: string,
  createdAt: number,
  secretEncrypted: string | null = null,
): ClientSecretRecord => ({
  id,
  clientId,
  secretHash: secretEncrypted ? null : `h-${id}`,
  secretEncrypted,
  createdAt,
  expiresAt: null,
  retiresAt: null,
  method: null,
});
const key = (kid: string, state: SigningKeyRecord['state']): SigningKeyRecord => ({
  kid,
  alg: 'ES256',
  state,
  publicJwk: { kty: 'EC' },
  privateJwkEncrypted: `enc-${kid}`,
  createdAt: NOW,
  activatedAt: state === 'active' ? NOW : null,
  retiredAt: null,
  removeAt: null,
});
const settled = async (ps: Promise<unknown>[]) =>
  (await Promise.allSettled(ps)).map((r) =>
    r.status === 'fulfilled' ? r.value : r.reason instanceof ClientVersionConflictError ? 'conflict' : r.reason,
  );

const BACKENDS: [string, () => Promise<Backend>, object][] = [
  ['memory', async () => memory(), {}],
  ['SQLite', () => typeorm({ type: 'better-sqlite3', database: ':memory:' }), {}],
  ['PostgreSQL', postgres, needs('postgres')],
  [
    'SQLite + Redis',
    async () => redisOn(await typeorm({ type: 'better-sqlite3', database: ':memory:' })),
    needs('redis'),
  ],
];

for (const [name, open, requirement] of BACKENDS) {
  describe(`storage contract: ${name}`, requirement, () => {
    let b: Backend;
    let s: Stores;
    beforeAll(async () => {
      b = await open();
      s = b.stores;
    });
    afterAll(() => b?.close());

    it('replay: a jti is consumed once, even by concurrent callers; per client; forgotten only after its expiry', async () => {
      const jti = randomUUID();
      const results = await Promise.all(Array.from({ length: 20 }, () => s.replay.consume('c1', jti, NOW + 60)));
      expect(results.filter(Boolean)).toHaveLength(1);
      expect(await s.replay.consume('c1', jti, NOW + 60)).toBe(false);
      expect(await s.replay.consume('c2', jti, NOW + 60)).toBe(true);
      if (b.purges) {
        const old = randomUUID();
        expect(await s.replay.consume('c1', old, NOW - 10)).toBe(true);
        expect(await s.replay.purgeExpired(NOW)).toBeGreaterThanOrEqual(1);
        expect(await s.replay.consume('c1', jti, NOW + 60)).toBe(false); // not expired: kept by the purge
      }
    });

    it('deny list: a revoked jti stays revoked until its expiry', async () => {
      const jti = randomUUID();
      expect(await s.denyList.isRevoked(jti)).toBe(false);
      await s.denyList.add(jti, NOW + 300);
      await s.denyList.add(jti, NOW + 300); // twice is fine
      expect(await s.denyList.isRevoked(jti)).toBe(true);
      expect(await s.denyList.purgeExpired(NOW)).toBeGreaterThanOrEqual(0);
      expect(await s.denyList.isRevoked(jti)).toBe(true);
    });

    it('clients: secrets newest first; a read is a copy; concurrent updates of one version: one wins, the others conflict', async () => {
      const id = uid();
      await s.clients.create(client(id), [secret(id, 'a', NOW), secret(id, 'b', NOW + 5)]);
      const read = await s.clients.findWithSecrets(id);
      expect(read!.secrets.map((x) => x.id)).toEqual(['b', 'a']);
      const mine = await s.clients.findById(id);
      mine!.scope = 'changed locally';
      expect((await s.clients.findById(id))!.scope).toBe('a');
      const outcomes = await settled(
        [1, 2, 3, 4].map((n) =>
          s.clients.update(client(id, { scope: `s${n}`, version: 2 }), [secret(id, `n${n}`, NOW + 10)]),
        ),
      );
      expect(outcomes.filter((o) => o === undefined)).toHaveLength(1);
      expect(outcomes.filter((o) => o === 'conflict')).toHaveLength(3);
      const after = await s.clients.findWithSecrets(id);
      const winner = outcomes.indexOf(undefined) + 1;
      expect({
        scope: after!.client.scope,
        version: after!.client.version,
        secrets: after!.secrets.map((x) => x.id),
      }).toEqual({ scope: `s${winner}`, version: 2, secrets: [`n${winner}`] });
    });

    it('clients: the registration-token condition is checked in the write and the delete', async () => {
      const id = uid();
      await s.clients.create(client(id), []);
      await expect(
        s.clients.update(client(id, { version: 2 }), undefined, { registrationAccessTokenHash: 'other' }),
      ).rejects.toBeInstanceOf(ClientVersionConflictError);
      await s.clients.update(client(id, { version: 2, registrationAccessTokenHash: 'rat-2' }), undefined, {
        registrationAccessTokenHash: 'rat-1',
      });
      expect(await s.clients.delete(id, { registrationAccessTokenHash: 'rat-1' })).toBe(false);
      expect(await s.clients.delete(id, { registrationAccessTokenHash: 'rat-2' })).toBe(true);
      expect(await s.clients.findById(id)).toBeNull();
      expect(await s.clients.delete(id)).toBe(false);
      await expect(s.clients.update(client(id, { version: 3 }))).rejects.toBeInstanceOf(ClientVersionConflictError);
    });

    it('clients: a federated credential (issuer + subject) is held by one client only, also under concurrent registrations; an update and a delete move and free it', async () => {
      const fed = (sub: string) => ({
        tokenEndpointAuthMethod: 'federated_jwt' as const,
        federatedCredentials: [{ issuer: 'https://issuer.example', subject: sub }],
      });
      const sub = `system:serviceaccount:ns:${uid()}`;
      const ids = [uid(), uid(), uid(), uid(), uid()];
      const outcomes = await Promise.allSettled(ids.map((id) => s.clients.create(client(id, fed(sub)), [])));
      expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
      for (const o of outcomes)
        if (o.status === 'rejected') expect(o.reason).toBeInstanceOf(FederatedCredentialTakenError);
      const holder = ids[outcomes.findIndex((o) => o.status === 'fulfilled')];
      expect(await s.clients.findIdByFederatedCredential('https://issuer.example', sub)).toBe(holder);
      expect((await s.clients.findWithSecrets(holder))!.client.federatedCredentials).toEqual(
        fed(sub).federatedCredentials,
      );
      expect(await s.clients.findIdByFederatedCredential('https://issuer.example', `${sub}x`)).toBeNull();
      // Another client cannot take it by an update either; the holder can move to another subject.
      const other = uid();
      await s.clients.create(client(other), []);
      await expect(s.clients.update(client(other, { ...fed(sub), version: 2 }))).rejects.toBeInstanceOf(
        FederatedCredentialTakenError,
      );
      await s.clients.update(client(holder, { ...fed(`${sub}-moved`), version: 2 }));
      expect(await s.clients.findIdByFederatedCredential('https://issuer.example', sub)).toBeNull();
      await s.clients.update(client(other, { ...fed(sub), version: 2 }));
      expect(await s.clients.findIdByFederatedCredential('https://issuer.example', sub)).toBe(other);
      expect(await s.clients.delete(other)).toBe(true);
      expect(await s.clients.findIdByFederatedCredential('https://issuer.example', sub)).toBeNull();
    });

    it('initial access tokens: concurrent uses never exceed the limit; refund gives one back; expiry ends it', async () => {
      const hash = randomUUID();
      await s.initialTokens.insert({
        id: uid(),
        tokenHash: hash,
        description: null,
        createdAt: NOW,
        expiresAt: NOW + 100,
        usesRemaining: 2,
        allowedScope: null,
        allowedResources: null,
        allowedMethods: null,
      });
      const uses = await Promise.all(Array.from({ length: 6 }, () => s.initialTokens.consume(hash, NOW)));
      expect(uses.filter(Boolean)).toHaveLength(2);
      expect(await s.initialTokens.findUsable(hash, NOW)).toBeNull();
      await s.initialTokens.refund(hash);
      expect(await s.initialTokens.isUsable(hash, NOW)).toBe(true);
      expect(await s.initialTokens.consume(hash, NOW + 100)).toBe(false); // expired
      expect(await s.initialTokens.consume(hash, NOW)).toBe(true);
    });

    it('signing keys: one active and one next at most; concurrent promotions: one wins', async () => {
      expect(await s.keys.insert(key('k1', 'active'))).toBe(true);
      expect(await s.keys.insert(key('k0', 'active'))).toBe(false);
      expect(await s.keys.insert(key('k2', 'next'))).toBe(true);
      expect(await s.keys.insert(key('k3', 'next'))).toBe(false);
      const wins = await Promise.all([0, 1, 2].map(() => s.keys.promote('k2', { kid: 'k1', removeAt: NOW + 10 }, NOW)));
      expect(wins.filter(Boolean)).toHaveLength(1);
      const states = Object.fromEntries((await s.keys.list()).map((k) => [k.kid, k.state]));
      expect(states).toEqual({ k1: 'retired', k2: 'active' });
      expect(await s.keys.purgeRetired(NOW + 10)).toBe(0);
      expect(await s.keys.purgeRetired(NOW + 11)).toBe(1);
    });

    it('encrypted values: replace is a compare-and-set on the stored ciphertext', async () => {
      const id = uid();
      const secretId = uid();
      await s.clients.create(client(id, { tokenEndpointAuthMethod: 'client_secret_jwt' }), [
        secret(id, secretId, NOW, 'v1'),
      ]);
      const page = (await s.encrypted.page('client_secret', null, 10_000)).filter((v) => v.id === secretId);
      expect(page).toEqual([
        { kind: 'client_secret', id: secretId, context: `client_secret:${id}:${secretId}`, ciphertext: 'v1' },
      ]);
      expect(await s.encrypted.replace(page[0]!, 'v2')).toBe(true);
      expect(await s.encrypted.replace(page[0]!, 'v3')).toBe(false); // stale: the row holds v2 now
      expect((await s.clients.findWithSecrets(id))!.secrets[0]!.secretEncrypted).toBe('v2');
      const keys = await s.encrypted.page('signing_key', null, 10);
      expect(keys.map((k) => k.id)).toEqual(['k2']);
    });
  });
}

describe('storage contract: driver failures become StorageUnavailableError in the adapters', () => {
  it('SQLite closed under the stores: StorageUnavailableError, nothing driver-specific', async () => {
    const b = await typeorm({ type: 'better-sqlite3', database: ':memory:' });
    await b.close();
    await expect(b.stores.clients.findWithSecrets('x')).rejects.toBeInstanceOf(StorageUnavailableError);
    await expect(b.stores.replay.consume('c', 'j', NOW + 1)).rejects.toBeInstanceOf(StorageUnavailableError);
    await expect(b.stores.keys.list()).rejects.toBeInstanceOf(StorageUnavailableError);
  });
  it('a conflict is not an outage: ClientVersionConflictError passes unchanged', async () => {
    const b = await typeorm({ type: 'better-sqlite3', database: ':memory:' });
    await expect(b.stores.clients.update(client('missing', { version: 2 }))).rejects.toBeInstanceOf(
      ClientVersionConflictError,
    );
    await b.close();
  });
});
