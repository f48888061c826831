import { Inject, Injectable, Optional } from '@nestjs/common';
import { AuditSink } from '../audit/audit.sink.js';
import { OAuthError } from '../errors/oauth-error.js';
import { SERVER_SETTINGS, type ServerSettings } from '../options/server-settings.js';
import { Clock } from '../shared/clock.js';
import { LocalRevocations } from '../token/local-revocations.js';
import {
  constantEquals,
  hashSecret,
  KeyEncryption,
  randomId,
  randomToken,
  secretMatchesHash,
} from '../shared/crypto.js';
import { validateClientMetadata, type ClientMetadata, type ClientMetadataSettings } from './client-metadata.js';
import { FederatedCredentialTakenError } from './federated-credentials.js';
import {
  assertWithinCeiling,
  ceilingFor,
  membersOutsideCeiling,
  normaliseCeiling,
  widenedToHold,
  type ClientCeiling,
} from './client-ceiling.js';
import {
  usesSecret,
  type ClientRecord,
  type ClientSecretRecord,
  type TokenEndpointAuthMethod,
} from './client.record.js';
import {
  ClientStore,
  ClientVersionConflictError,
  type ClientWithSecrets,
  type ClientWriteCondition,
} from './client.store.js';
import { currentSecret, latestSecret, migrationSecretSet, rotateSecretSet, validSecrets } from './secret-rotation.js';

/** What a create, update or rotation hands back once: the only time a secret is readable. */
export interface IssuedClientCredentials {
  client: ClientRecord;
  /** Present for secret-based clients when a new secret was issued. */
  clientSecret?: string;
  /** `client_secret_expires_at`: 0 = never (RFC 7591 §3.2.1). */
  clientSecretExpiresAt: number;
  /** Present when a new registration access token was issued. */
  registrationAccessToken?: string;
}

export interface UpdateClientOptions {
  /** Rotate the secret of a secret-based client (default: the `rotateSecretOnUpdate` setting). */
  rotateSecret?: boolean;
  /** Issue a new registration access token (RFC 7592 §2.2: on every PUT). Default false. */
  rotateRegistrationToken?: boolean;
  /**
   * The registration access token the client presented: makes this a self-service update (RFC 7592
   * PUT). It is checked against the very row that is written — the write is conditional on the
   * client's version and this token's digest — and the metadata must stay within the client's
   * ceiling. Without it, the update is the operator's: the ceiling widens to hold what is set.
   */
  registrationAccessToken?: string;
  /** A `client_secret` the request presented (RFC 7592 §2.2): must be valid in the row that is written. */
  presentedSecret?: string;
  /** Operator only: set the ceiling (members given replace the stored ones). */
  ceiling?: Partial<ClientCeiling>;
}

export interface CreateClientOptions {
  /** Issue an RFC 7592 registration access token. */
  withRegistrationToken?: boolean;
  via?: 'http' | 'service';
  /**
   * The ceiling set by whoever admits the client (operator, or the initial access token's policy).
   * Members not given: what the client registers with (scope, resources), no restriction (methods).
   * The metadata must lie within it.
   */
  ceiling?: Partial<ClientCeiling>;
  /**
   * Runs once the metadata is valid and within the ceiling, just before the write: what admits the
   * client is used up only by a registration that can succeed (e.g. a one-use initial access token).
   */
  beforeWrite?: () => Promise<void>;
}

/**
 * The client registry: lifecycle, secret hashing/encryption and the rotation window.
 * Every change is an audit event.
 */
@Injectable()
export class ClientService {
  constructor(
    private readonly store: ClientStore,
    private readonly clock: Clock,
    private readonly audit: AuditSink,
    @Inject(SERVER_SETTINGS)
    private readonly settings: ClientMetadataSettings &
      Pick<ServerSettings, 'clientSecretTtl' | 'secretRotationOverlap' | 'rotateSecretOnUpdate' | 'allowedAuthMethods'>,
    private readonly kek: KeyEncryption,
    @Optional() private readonly localRevocations?: LocalRevocations,
  ) {}

  /**
   * Registers a client. Set `withRegistrationToken` to issue an RFC 7592 registration access token;
   * `ceiling` bounds what the client may later set for itself.
   */
  async create(metadata: ClientMetadata, opts: CreateClientOptions = {}): Promise<IssuedClientCredentials> {
    const valid = await validateClientMetadata(metadata, this.settings);
    this.assertMethodAllowed(valid.tokenEndpointAuthMethod, undefined, opts.via === 'http');
    const ceiling = ceilingFor(valid, normaliseCeiling(opts.ceiling ?? {}, this.settings));
    if (opts.via === 'http') this.denyOutsidePolicy(valid, ceiling);
    else assertWithinCeiling(valid, ceiling, "the given ceiling's");
    await opts.beforeWrite?.();
    const now = this.clock.nowSeconds();
    const registrationAccessToken = opts.withRegistrationToken ? randomToken() : undefined;
    const client: ClientRecord = {
      clientId: randomId(),
      ...valid,
      ...ceiling,
      registrationAccessTokenHash: registrationAccessToken ? hashSecret(registrationAccessToken) : null,
      clientIdIssuedAt: now,
      updatedAt: now,
      version: 1,
    };
    const issued = usesSecret(client.tokenEndpointAuthMethod) ? this.newSecret(client, now) : undefined;
    await this.store.create(client, issued ? [issued.record] : []).catch((e: unknown) => {
      credentialTaken(e);
      throw e;
    });
    this.audit.record({
      type: 'client.registered',
      clientId: client.clientId,
      method: client.tokenEndpointAuthMethod,
      via: opts.via ?? 'service',
    });
    return {
      client,
      clientSecret: issued?.secret,
      clientSecretExpiresAt: issued?.record.expiresAt ?? 0,
      registrationAccessToken,
    };
  }

  find(clientId: string): Promise<ClientRecord | null> {
    if (!couldBeClientId(clientId)) return Promise.resolve(null);
    return this.store.findById(clientId);
  }

  findWithSecrets(clientId: string): Promise<ClientWithSecrets | null> {
    if (!couldBeClientId(clientId)) return Promise.resolve(null);
    return this.store.findWithSecrets(clientId);
  }

  /** The id of the `federated_jwt` client that holds this platform identity, if any. */
  async findIdByFederatedCredential(issuer: string, subject: string): Promise<string | undefined> {
    return (await this.store.findIdByFederatedCredential(issuer, subject)) ?? undefined;
  }

  list(): Promise<ClientRecord[]> {
    return this.store.list();
  }

  /** `client_secret_expires_at` of the current secret (0 = never or no secret). */
  async secretExpiresAt(clientId: string): Promise<number> {
    const found = await this.findWithSecrets(clientId);
    return (found && usesSecret(found.client.tokenEndpointAuthMethod) && latestSecret(found.secrets)?.expiresAt) || 0;
  }

  /**
   * Replaces a client's metadata (RFC 7592 §2.2: omitted fields reset to defaults). Rotates the
   * secret of a secret-based client unless told not to, and the registration token when asked.
   * A change of authentication method between secret and key methods issues or drops secrets.
   *
   * With `registrationAccessToken` (a self-service update), the authorisation holds at the moment
   * of the write: the token and a presented secret are checked against the row read for the write,
   * and the write is conditional on that row's version and token digest — a token rotated or a
   * client deleted meanwhile gives 401 `invalid_token` and changes nothing. The metadata must stay
   * within the client's ceiling (400 `invalid_client_metadata` naming what lies outside).
   */
  async update(
    clientId: string,
    metadata: ClientMetadata,
    opts: UpdateClientOptions = {},
  ): Promise<IssuedClientCredentials> {
    const selfService = opts.registrationAccessToken !== undefined;
    if (selfService && opts.ceiling) throw new Error('a self-service update cannot set the ceiling');
    const valid = await validateClientMetadata(metadata, this.settings);
    const givenCeiling = opts.ceiling ? normaliseCeiling(opts.ceiling, this.settings) : {};
    // Read for the write only now: everything slow (the request body, key checks) is behind us.
    const found = selfService
      ? await this.findAuthorised(clientId, opts.registrationAccessToken!)
      : await this.mustFind(clientId);
    // Keeping its method is always allowed; choosing one is within the operator's policy.
    if (valid.tokenEndpointAuthMethod !== found.client.tokenEndpointAuthMethod)
      this.assertMethodAllowed(valid.tokenEndpointAuthMethod, clientId, selfService);
    if (opts.presentedSecret !== undefined && !this.isValidSecret(found, opts.presentedSecret))
      throw OAuthError.invalidMetadata('client_secret does not match a currently valid secret');
    const stored: ClientCeiling = {
      maxScope: found.client.maxScope,
      maxResources: found.client.maxResources,
      allowedMethods: found.client.allowedMethods,
    };
    let ceiling: ClientCeiling;
    if (selfService) {
      ceiling = stored;
      this.denyOutsideCeiling(clientId, valid, ceiling);
    } else {
      // An explicit ceiling must hold what is set; the members not given widen to hold it.
      assertWithinCeiling(
        valid,
        { maxScope: null, maxResources: null, allowedMethods: null, ...givenCeiling },
        "the given ceiling's",
      );
      ceiling = widenedToHold({ ...stored, ...givenCeiling }, valid);
    }
    const now = this.clock.nowSeconds();
    const client: ClientRecord = {
      ...found.client,
      ...valid,
      ...ceiling,
      updatedAt: now,
      version: found.client.version + 1,
    };
    const registrationAccessToken = opts.rotateRegistrationToken ? randomToken() : undefined;
    if (registrationAccessToken) client.registrationAccessTokenHash = hashSecret(registrationAccessToken);

    let secrets: ClientSecretRecord[] | undefined;
    let clientSecret: string | undefined;
    const wasSecret = usesSecret(found.client.tokenEndpointAuthMethod);
    const isSecret = usesSecret(client.tokenEndpointAuthMethod);
    const switchedSecretKind =
      wasSecret &&
      isSecret &&
      (found.client.tokenEndpointAuthMethod === 'client_secret_jwt') !==
        (client.tokenEndpointAuthMethod === 'client_secret_jwt');
    if (!isSecret)
      // Secret → key or federation: the secret keeps working with the previous method for the overlap (ADR 0021).
      secrets = wasSecret
        ? migrationSecretSet(
            found.secrets,
            found.client.tokenEndpointAuthMethod,
            now,
            this.settings.secretRotationOverlap,
          )
        : undefined;
    else if (!wasSecret || switchedSecretKind) {
      // A secret stored as a hash cannot become an HMAC key (nor the reverse): issue a fresh one, no overlap.
      const issued = this.newSecret(client, now);
      secrets = [issued.record];
      clientSecret = issued.secret;
    } else if (opts.rotateSecret ?? this.settings.rotateSecretOnUpdate) {
      const issued = this.newSecret(client, now);
      secrets = rotateSecretSet(found.secrets, issued.record, now, this.settings.secretRotationOverlap);
      clientSecret = issued.secret;
    }
    const condition = selfService
      ? { registrationAccessTokenHash: hashSecret(opts.registrationAccessToken!) }
      : undefined;
    await this.saveOrConflict(client, secrets, condition);
    this.audit.record({ type: 'client.updated', clientId });
    if (wasSecret && !isSecret)
      this.audit.record({
        type: 'client.method_migrated',
        clientId,
        from: found.client.tokenEndpointAuthMethod,
        to: client.tokenEndpointAuthMethod,
        previousSecretValidUntil: secrets?.[0]?.retiresAt ?? null,
      });
    if (clientSecret && secrets && secrets.length > 1)
      this.audit.record({ type: 'client.secret_rotated', clientId, previousSecretValidUntil: secrets[1].retiresAt });
    else if (clientSecret)
      this.audit.record({ type: 'client.secret_rotated', clientId, previousSecretValidUntil: null });
    if (registrationAccessToken) this.audit.record({ type: 'client.registration_token_rotated', clientId });
    const current = secrets ? secrets[0] : latestSecret(found.secrets);
    return {
      client,
      clientSecret,
      clientSecretExpiresAt: (isSecret && current?.expiresAt) || 0,
      registrationAccessToken,
    };
  }

  /**
   * Operator action: sets the client's ceiling (members given replace the stored ones; null = no
   * ceiling). What the client holds now is narrowed to fit (scopes and resources outside are
   * dropped); a current authentication method outside the new ceiling is refused — change it first.
   */
  async setCeiling(clientId: string, ceiling: Partial<ClientCeiling>): Promise<ClientRecord> {
    const given = normaliseCeiling(ceiling, this.settings);
    const found = await this.mustFind(clientId);
    const next: ClientCeiling = {
      maxScope: found.client.maxScope,
      maxResources: found.client.maxResources,
      allowedMethods: found.client.allowedMethods,
      ...given,
    };
    if (next.allowedMethods !== null && !next.allowedMethods.includes(found.client.tokenEndpointAuthMethod)) {
      throw OAuthError.invalidRequest(
        `the client uses ${found.client.tokenEndpointAuthMethod}, which the new ceiling does not allow; change its method first`,
      );
    }
    const allowedScope = next.maxScope === null ? null : new Set(next.maxScope.split(' '));
    const scope =
      allowedScope === null
        ? found.client.scope
        : found.client.scope
            .split(' ')
            .filter((s) => s && allowedScope.has(s))
            .join(' ');
    const resources =
      next.maxResources === null
        ? found.client.resources
        : found.client.resources.filter((r) => next.maxResources!.includes(r));
    const client: ClientRecord = {
      ...found.client,
      ...next,
      scope,
      resources,
      updatedAt: this.clock.nowSeconds(),
      version: found.client.version + 1,
    };
    await this.saveOrConflict(client);
    this.audit.record({ type: 'client.updated', clientId });
    return client;
  }

  /**
   * Operator rotation: issues a new secret; the previous one keeps working for the overlap window
   * (`overlap` overrides the setting). At most two secrets stay valid.
   */
  async rotateSecret(
    clientId: string,
    overlap = this.settings.secretRotationOverlap,
  ): Promise<IssuedClientCredentials> {
    const found = await this.mustFind(clientId);
    if (!usesSecret(found.client.tokenEndpointAuthMethod))
      throw OAuthError.invalidMetadata('this client authenticates with private_key_jwt and has no secret');
    const now = this.clock.nowSeconds();
    const client = { ...found.client, updatedAt: now, version: found.client.version + 1 };
    const issued = this.newSecret(client, now);
    const secrets = rotateSecretSet(found.secrets, issued.record, now, overlap);
    await this.saveOrConflict(client, secrets);
    this.audit.record({
      type: 'client.secret_rotated',
      clientId,
      previousSecretValidUntil: secrets[1]?.retiresAt ?? null,
    });
    return { client, clientSecret: issued.secret, clientSecretExpiresAt: issued.record.expiresAt ?? 0 };
  }

  /** Ends the overlap window now: only the current secret stays valid. */
  async retirePreviousSecret(clientId: string): Promise<boolean> {
    const found = await this.mustFind(clientId);
    const now = this.clock.nowSeconds();
    // The current secret stays, even once expired: it still tells the client when it expired.
    const current = currentSecret(found.secrets, now) ?? latestSecret(found.secrets);
    const keep = current ? [current] : [];
    if (keep.length === found.secrets.length) return false;
    await this.saveOrConflict({ ...found.client, updatedAt: now, version: found.client.version + 1 }, keep);
    this.audit.record({ type: 'client.previous_secret_retired', clientId });
    return true;
  }

  /** Issues a new registration access token; the old one stops working at once. */
  async rotateRegistrationToken(clientId: string): Promise<string> {
    const found = await this.mustFind(clientId);
    const token = randomToken();
    await this.saveOrConflict({
      ...found.client,
      registrationAccessTokenHash: hashSecret(token),
      updatedAt: this.clock.nowSeconds(),
      version: found.client.version + 1,
    });
    this.audit.record({ type: 'client.registration_token_rotated', clientId });
    return token;
  }

  /**
   * Deletes a client. With `registrationAccessToken` (RFC 7592 DELETE), the delete is conditional
   * on that token's digest in the delete itself: a token rotated meanwhile gives 401 `invalid_token`.
   */
  async delete(clientId: string, opts: { registrationAccessToken?: string } = {}): Promise<boolean> {
    if (!couldBeClientId(clientId)) return false;
    const condition =
      opts.registrationAccessToken !== undefined
        ? { registrationAccessTokenHash: hashSecret(opts.registrationAccessToken) }
        : undefined;
    const deleted = await this.store.delete(clientId, condition);
    if (deleted) {
      this.localRevocations?.recorded(); // its tokens: refused by this instance's guard at once
      this.audit.record({ type: 'client.deleted', clientId });
    } else if (condition) this.denyToken(clientId, 'registration access token no longer matches at the delete');
    return deleted;
  }

  /** Whether `presented` equals one of the client's valid hashed secrets (constant-time per comparison). */
  secretMatches(found: ClientWithSecrets, presented: string): boolean {
    return this.matchingSecret(found, presented) !== undefined;
  }

  /** The valid hashed secret `presented` equals, if any (every valid secret is compared, constant-time each). */
  matchingSecret(found: ClientWithSecrets, presented: string): ClientSecretRecord | undefined {
    let match: ClientSecretRecord | undefined;
    for (const s of validSecrets(found.secrets, this.clock.nowSeconds()))
      if (s.secretHash && secretMatchesHash(presented, s.secretHash)) match = s;
    return match;
  }

  /** The HMAC keys of a `client_secret_jwt` client: current first, previous during the overlap. */
  hmacKeys(found: ClientWithSecrets): Uint8Array[] {
    return this.hmacSecrets(found).map((s) => s.key);
  }

  /** The HMAC keys of a `client_secret_jwt` client with the secret each comes from. */
  hmacSecrets(found: ClientWithSecrets): { secret: ClientSecretRecord; key: Uint8Array }[] {
    return validSecrets(found.secrets, this.clock.nowSeconds())
      .filter((s) => s.secretEncrypted)
      .map((s) => ({
        secret: s,
        key: new TextEncoder().encode(this.kek.decrypt(s.secretEncrypted!, `client_secret:${s.clientId}:${s.id}`)),
      }));
  }

  /** Whether `presented` is one of the client's valid secrets, whatever the method stores. */
  isValidSecret(found: ClientWithSecrets, presented: string): boolean {
    if (found.client.tokenEndpointAuthMethod !== 'client_secret_jwt') return this.secretMatches(found, presented);
    let match = false;
    for (const key of this.hmacKeys(found)) {
      if (constantEquals(presented, new TextDecoder().decode(key))) match = true;
    }
    return match;
  }

  private newSecret(client: ClientRecord, now: number): { secret: string; record: ClientSecretRecord } {
    const id = randomId();
    // HS512 needs a key of at least 512 bits (RFC 7518 §3.2); comparison secrets need 256.
    const secret = randomToken(client.tokenEndpointAuthMethod === 'client_secret_jwt' ? 64 : 32);
    const hmac = client.tokenEndpointAuthMethod === 'client_secret_jwt';
    return {
      secret,
      record: {
        id,
        clientId: client.clientId,
        secretHash: hmac ? null : hashSecret(secret),
        secretEncrypted: hmac ? this.kek.encrypt(secret, `client_secret:${client.clientId}:${id}`) : null,
        createdAt: now,
        expiresAt: this.settings.clientSecretTtl ? now + this.settings.clientSecretTtl : null,
        retiresAt: null,
        method: null,
      },
    };
  }

  private async mustFind(clientId: string): Promise<ClientWithSecrets> {
    const found = await this.store.findWithSecrets(clientId);
    if (!found) throw new ClientNotFoundError(clientId);
    return found;
  }

  /** The client with its secrets, when `token` is its registration access token (constant-time); else 401. */
  private async findAuthorised(clientId: string, token: string): Promise<ClientWithSecrets> {
    const found = couldBeClientId(clientId) ? await this.store.findWithSecrets(clientId) : null;
    const hash = found?.client.registrationAccessTokenHash;
    if (!found || !hash || !secretMatchesHash(token, hash))
      this.denyToken(found ? clientId : undefined, 'registration access token does not match at the write');
    return found;
  }

  private denyToken(clientId: string | undefined, reason: string): never {
    this.audit.record({ type: 'registration.denied', clientId, reason });
    throw OAuthError.invalidToken(reason);
  }

  /** 400 `invalid_client_metadata` naming a method the operator's policy does not let clients choose. */
  private assertMethodAllowed(method: TokenEndpointAuthMethod, clientId: string | undefined, audited: boolean): void {
    if (this.settings.allowedAuthMethods.includes(method)) return;
    if (audited)
      this.audit.record({
        type: 'registration.denied',
        clientId,
        reason: `token_endpoint_auth_method ${method} not allowed by the server's policy`,
      });
    throw OAuthError.invalidMetadata(
      `token_endpoint_auth_method ${method} is not allowed by this server; allowed: ${this.settings.allowedAuthMethods.join(', ')}`,
    );
  }

  /** A registration outside the initial access token's policy: audited with the members only (their values come from the request). */
  private denyOutsidePolicy(held: Parameters<typeof assertWithinCeiling>[0], ceiling: ClientCeiling): void {
    try {
      assertWithinCeiling(held, ceiling, "the initial access token's");
    } catch (e) {
      this.audit.record({
        type: 'registration.denied',
        reason: `registration outside the initial access token's policy: ${membersOutsideCeiling(held, ceiling)}`,
      });
      throw e;
    }
  }

  private denyOutsideCeiling(
    clientId: string,
    held: Parameters<typeof assertWithinCeiling>[0],
    ceiling: ClientCeiling,
  ): void {
    try {
      assertWithinCeiling(held, ceiling, "this client's");
    } catch (e) {
      this.audit.record({
        type: 'registration.denied',
        clientId,
        reason: `self-service update outside the ceiling: ${membersOutsideCeiling(held, ceiling)}`,
      });
      throw e;
    }
  }

  /**
   * Writes conditionally (version, and the token digest for a self-service write). When the
   * condition fails, a token no longer valid (or a client gone) is a 401; another concurrent change
   * a 400 asking to retry.
   */
  private async saveOrConflict(
    client: ClientRecord,
    secrets?: ClientSecretRecord[],
    condition?: ClientWriteCondition,
  ): Promise<void> {
    try {
      await this.store.update(client, secrets, condition);
    } catch (e) {
      credentialTaken(e);
      if (!(e instanceof ClientVersionConflictError)) throw e;
      if (condition) {
        const now = await this.store.findById(client.clientId);
        if (
          !now ||
          now.registrationAccessTokenHash === null ||
          !constantEquals(now.registrationAccessTokenHash, condition.registrationAccessTokenHash)
        ) {
          this.denyToken(now ? client.clientId : undefined, 'registration access token no longer matches at the write');
        }
      }
      throw OAuthError.invalidRequest('the client was modified concurrently; read it again and retry');
    }
  }
}

/**
 * Whether a presented id can name a stored client (a non-empty string of at most 64 characters
 * without NUL). Anything else is unknown without asking the database: PostgreSQL rejects a NUL
 * byte in a text parameter with an error, which must not surface as a 500.
 */
function couldBeClientId(clientId: unknown): clientId is string {
  return typeof clientId === 'string' && clientId.length > 0 && clientId.length <= 64 && !clientId.includes('\u0000');
}

/**
 * Another client holds one of the federated credentials: 400 `invalid_client_metadata` (RFC 7591
 * §3.2.2 has no conflict status; the metadata is what the server cannot accept, docs/adr/0022).
 */
function credentialTaken(e: unknown): void {
  if (e instanceof FederatedCredentialTakenError)
    throw OAuthError.invalidMetadata('a federated credential (issuer + subject) is already held by another client');
}

/** No client with that id. */
export class ClientNotFoundError extends Error {
  constructor(readonly clientId: string) {
    super(`no client ${clientId}`);
    this.name = 'ClientNotFoundError';
  }
}
