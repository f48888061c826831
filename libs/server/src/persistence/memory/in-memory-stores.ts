import { Injectable, Optional } from '@nestjs/common';
import { ReplayStore } from '../../client-auth/replay.store.js';
import type { ClientRecord, ClientSecretRecord } from '../../clients/client.record.js';
import {
  ClientStore,
  ClientVersionConflictError,
  type ClientWithSecrets,
  type ClientWriteCondition,
} from '../../clients/client.store.js';
import {
  clientSecretContext,
  EncryptedValueStore,
  signingKeyContext,
  type EncryptedValue,
  type EncryptedValueKind,
} from '../../key-encryption/encrypted-value.store.js';
import { SigningKeyStore, type SigningKeyRecord } from '../../keys/signing-key.store.js';
import type { InitialAccessTokenRecord } from '../../registration/initial-access-token.store.js';
import { InitialAccessTokenStore } from '../../registration/initial-access-token.store.js';
import { Clock, SystemClock } from '../../shared/clock.js';
import { federatedCredentialKey, FederatedCredentialTakenError } from '../../clients/federated-credentials.js';
import { DenyList } from '../../token/deny-list.js';
import type { CredentialNotice } from '../../expiry/credential-notice.store.js';
import type { CredentialUsageRecord } from '../../usage/credential-usage.js';

/**
 * The "database" of the in-memory adapters: one per module (or shared by several apps, to stand for
 * one database behind several instances). Records go in and come out as copies, as rows would: a
 * caller that changes what it read changes nothing stored.
 */
@Injectable()
export class InMemoryTables {
  readonly clients = new Map<string, ClientRecord>();
  /** Secrets by client id. */
  readonly secrets = new Map<string, ClientSecretRecord[]>();
  /** Client id by federated credential key (the unique index of the database). */
  readonly federatedCredentials = new Map<string, string>();
  readonly signingKeys = new Map<string, SigningKeyRecord>();
  readonly initialAccessTokens = new Map<string, InitialAccessTokenRecord>();
  /** Assertion ids by client and jti, with their expiry (seconds). */
  readonly usedJtis = new Map<string, number>();
  /** Revoked access-token ids, with their expiry (seconds). */
  readonly revoked = new Map<string, number>();
  /** Credential usage by `client id, type, credential id`. */
  readonly credentialUsage = new Map<string, CredentialUsageRecord>();
  /** Expiry notices by id. */
  readonly notices = new Map<string, CredentialNotice>();
}

const copy = <T>(value: T): T => structuredClone(value);
const newestFirst = (a: ClientSecretRecord, b: ClientSecretRecord) =>
  b.createdAt - a.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/** `ClientStore` in memory: the version and token-digest conditions checked in the write, as the database does. */
@Injectable()
export class InMemoryClientStore extends ClientStore {
  constructor(@Optional() private readonly tables: InMemoryTables = new InMemoryTables()) {
    super();
  }

  async findById(clientId: string): Promise<ClientRecord | null> {
    const client = this.tables.clients.get(clientId);
    return client ? copy(client) : null;
  }

  async findWithSecrets(clientId: string): Promise<ClientWithSecrets | null> {
    const client = this.tables.clients.get(clientId);
    if (!client) return null;
    return copy({ client, secrets: [...(this.tables.secrets.get(clientId) ?? [])].sort(newestFirst) });
  }

  async list(): Promise<ClientRecord[]> {
    return copy([...this.tables.clients.values()].sort((a, b) => a.clientIdIssuedAt - b.clientIdIssuedAt));
  }

  async findIdByFederatedCredential(issuer: string, subject: string): Promise<string | null> {
    return this.tables.federatedCredentials.get(federatedCredentialKey({ issuer, subject })) ?? null;
  }

  /** Replaces the client's federated credentials in the index; refuses (changing nothing) one another client holds. */
  private indexCredentials(client: ClientRecord): void {
    const keys = (client.federatedCredentials ?? []).map(federatedCredentialKey);
    if (keys.some((k) => (this.tables.federatedCredentials.get(k) ?? client.clientId) !== client.clientId))
      throw new FederatedCredentialTakenError();
    this.unindexCredentials(client.clientId);
    for (const k of keys) this.tables.federatedCredentials.set(k, client.clientId);
  }

  private unindexCredentials(clientId: string): void {
    for (const [k, id] of this.tables.federatedCredentials)
      if (id === clientId) this.tables.federatedCredentials.delete(k);
  }

  async create(client: ClientRecord, secrets: ClientSecretRecord[]): Promise<void> {
    if (this.tables.clients.has(client.clientId)) throw new Error(`client ${client.clientId} already exists`);
    this.indexCredentials(client);
    this.tables.clients.set(client.clientId, copy(client));
    this.tables.secrets.set(client.clientId, copy(secrets));
  }

  async update(client: ClientRecord, secrets?: ClientSecretRecord[], condition?: ClientWriteCondition): Promise<void> {
    const stored = this.tables.clients.get(client.clientId);
    if (
      !stored ||
      stored.version !== client.version - 1 ||
      (condition && stored.registrationAccessTokenHash !== condition.registrationAccessTokenHash)
    ) {
      throw new ClientVersionConflictError(client.clientId);
    }
    this.indexCredentials(client);
    this.tables.clients.set(client.clientId, copy(client));
    if (secrets) this.tables.secrets.set(client.clientId, copy(secrets));
  }

  async delete(clientId: string, condition?: ClientWriteCondition): Promise<boolean> {
    const stored = this.tables.clients.get(clientId);
    if (!stored || (condition && stored.registrationAccessTokenHash !== condition.registrationAccessTokenHash))
      return false;
    this.tables.clients.delete(clientId);
    this.tables.secrets.delete(clientId);
    this.unindexCredentials(clientId);
    return true;
  }

  async countSecretsEndingBetween(from: number, to: number): Promise<number> {
    const within = (t: number | null) => t !== null && t > from && t <= to;
    let n = 0;
    for (const secrets of this.tables.secrets.values())
      for (const s of secrets) if (within(s.expiresAt) || within(s.retiresAt)) n++;
    return n;
  }
}

/** `SigningKeyStore` in memory: at most one `active` and one `next` key, as the database's unique index. */
@Injectable()
export class InMemorySigningKeyStore extends SigningKeyStore {
  constructor(@Optional() private readonly tables: InMemoryTables = new InMemoryTables()) {
    super();
  }

  async list(): Promise<SigningKeyRecord[]> {
    return copy([...this.tables.signingKeys.values()].sort((a, b) => a.createdAt - b.createdAt));
  }

  async insert(key: SigningKeyRecord): Promise<boolean> {
    if (this.tables.signingKeys.has(key.kid) || (key.state !== 'retired' && this.inState(key.state))) return false;
    this.tables.signingKeys.set(key.kid, copy(key));
    return true;
  }

  async promote(activate: string, retire: { kid: string; removeAt: number } | null, now: number): Promise<boolean> {
    const next = this.tables.signingKeys.get(activate);
    if (!next || next.state !== 'next') return false;
    const active = this.inState('active');
    if (retire ? active?.kid !== retire.kid : active) return false;
    if (active && retire) Object.assign(active, { state: 'retired', retiredAt: now, removeAt: retire.removeAt });
    Object.assign(next, { state: 'active', activatedAt: now });
    return true;
  }

  async purgeRetired(now: number): Promise<number> {
    let n = 0;
    for (const [kid, k] of this.tables.signingKeys)
      if (k.state === 'retired' && k.removeAt !== null && k.removeAt < now && this.tables.signingKeys.delete(kid)) n++;
    return n;
  }

  private inState(state: SigningKeyRecord['state']): SigningKeyRecord | undefined {
    for (const k of this.tables.signingKeys.values()) if (k.state === state) return k;
    return undefined;
  }
}

/** `InitialAccessTokenStore` in memory: a use is taken only while one is left and the token has not expired. */
@Injectable()
export class InMemoryInitialAccessTokenStore extends InitialAccessTokenStore {
  constructor(@Optional() private readonly tables: InMemoryTables = new InMemoryTables()) {
    super();
  }

  async insert(record: InitialAccessTokenRecord): Promise<void> {
    if (this.tables.initialAccessTokens.has(record.id) || this.byHash(record.tokenHash))
      throw new Error('initial access token already exists');
    this.tables.initialAccessTokens.set(record.id, copy(record));
  }

  async isUsable(tokenHash: string, now: number): Promise<boolean> {
    return (await this.findUsable(tokenHash, now)) !== null;
  }

  async findUsable(tokenHash: string, now: number): Promise<InitialAccessTokenRecord | null> {
    const t = this.byHash(tokenHash);
    return t && usable(t, now) ? copy(t) : null;
  }

  async consume(tokenHash: string, now: number): Promise<boolean> {
    const t = this.byHash(tokenHash);
    if (!t || !usable(t, now)) return false;
    if (t.usesRemaining !== null) t.usesRemaining--;
    return true;
  }

  async refund(tokenHash: string): Promise<void> {
    const t = this.byHash(tokenHash);
    if (t && t.usesRemaining !== null) t.usesRemaining++;
  }

  async list(): Promise<InitialAccessTokenRecord[]> {
    return copy([...this.tables.initialAccessTokens.values()].sort((a, b) => a.createdAt - b.createdAt));
  }

  async delete(id: string): Promise<boolean> {
    return this.tables.initialAccessTokens.delete(id);
  }

  private byHash(tokenHash: string): InitialAccessTokenRecord | undefined {
    for (const t of this.tables.initialAccessTokens.values()) if (t.tokenHash === tokenHash) return t;
    return undefined;
  }
}

const usable = (t: InitialAccessTokenRecord, now: number) =>
  (t.usesRemaining === null || t.usesRemaining > 0) && (t.expiresAt === null || t.expiresAt > now);

/**
 * `ReplayStore` in memory: single use by one check-and-set in the same synchronous step (no await
 * between them), forgotten by time (the Clock) only, never by size.
 */
@Injectable()
export class InMemoryReplayStore extends ReplayStore {
  constructor(
    @Optional() private readonly tables: InMemoryTables = new InMemoryTables(),
    @Optional() private readonly clock: Clock = new SystemClock(),
  ) {
    super();
  }

  async consume(clientId: string, jti: string, expiresAt: number): Promise<boolean> {
    const key = `${clientId}\u0000${jti}`;
    const seen = this.tables.usedJtis.get(key);
    if (seen !== undefined && seen >= this.clock.nowSeconds()) return false;
    this.tables.usedJtis.set(key, expiresAt);
    return true;
  }

  async purgeExpired(now: number): Promise<number> {
    let n = 0;
    for (const [k, exp] of this.tables.usedJtis) if (exp < now && this.tables.usedJtis.delete(k)) n++;
    return n;
  }

  async count(now: number): Promise<number> {
    let n = 0;
    for (const exp of this.tables.usedJtis.values()) if (exp >= now) n++;
    return n;
  }
}

/** `DenyList` in memory: an entry counts until its token's `exp` (by the Clock), as a Redis TTL would. */
@Injectable()
export class InMemoryDenyList extends DenyList {
  constructor(
    @Optional() private readonly tables: InMemoryTables = new InMemoryTables(),
    @Optional() private readonly clock: Clock = new SystemClock(),
  ) {
    super();
  }

  async add(jti: string, expiresAt: number): Promise<void> {
    if (expiresAt > this.clock.nowSeconds()) this.tables.revoked.set(jti, expiresAt);
  }

  async isRevoked(jti: string): Promise<boolean> {
    const exp = this.tables.revoked.get(jti);
    return exp !== undefined && exp > this.clock.nowSeconds();
  }

  async purgeExpired(now: number): Promise<number> {
    let n = 0;
    for (const [jti, exp] of this.tables.revoked) if (exp < now && this.tables.revoked.delete(jti)) n++;
    return n;
  }

  async count(now: number): Promise<number> {
    let n = 0;
    for (const exp of this.tables.revoked.values()) if (exp > now) n++;
    return n;
  }
}

/** `EncryptedValueStore` over the in-memory signing keys and client secrets: compare-and-set per value. */
@Injectable()
export class InMemoryEncryptedValueStore extends EncryptedValueStore {
  constructor(@Optional() private readonly tables: InMemoryTables = new InMemoryTables()) {
    super();
  }

  async page(kind: EncryptedValueKind, after: string | null, limit: number): Promise<EncryptedValue[]> {
    const values: EncryptedValue[] =
      kind === 'signing_key'
        ? [...this.tables.signingKeys.values()].map((k) => ({
            kind,
            id: k.kid,
            context: signingKeyContext(k.kid),
            ciphertext: k.privateJwkEncrypted,
          }))
        : [...this.tables.secrets.values()]
            .flat()
            .flatMap((s) =>
              s.secretEncrypted === null
                ? []
                : [{ kind, id: s.id, context: clientSecretContext(s.clientId, s.id), ciphertext: s.secretEncrypted }],
            );
    return values
      .filter((v) => after === null || v.id > after)
      .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
      .slice(0, limit);
  }

  async replace(value: EncryptedValue, ciphertext: string): Promise<boolean> {
    if (value.kind === 'signing_key') {
      const k = this.tables.signingKeys.get(value.id);
      if (!k || k.privateJwkEncrypted !== value.ciphertext) return false;
      k.privateJwkEncrypted = ciphertext;
      return true;
    }
    for (const secrets of this.tables.secrets.values()) {
      const s = secrets.find((x) => x.id === value.id);
      if (s) {
        if (s.secretEncrypted !== value.ciphertext) return false;
        s.secretEncrypted = ciphertext;
        return true;
      }
    }
    return false;
  }
}
