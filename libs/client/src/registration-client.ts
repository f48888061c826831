import type { JSONWebKeySet, JWK } from 'jose';
import type { ClientAuth, TokenEndpointAuthMethod } from './auth/client-auth.js';
import { privateKeyJwt, type PrivateKey, type PrivateKeyJwtOptions } from './auth/private-key-jwt.js';
import { isKeyPair, publicPart } from './auth/key-pair.js';
import { discoverAuthorizationServer } from './discovery.js';
import { ClavisClientError } from './errors.js';
import { byteLimit, DEFAULT_TIMEOUT, errorFrom, readJsonObject, send, type FetchLike } from './http.js';
import { deepFreeze, type TokenClient } from './token-client.js';
import { checkUrl } from './url-policy.js';

/**
 * Client metadata, with the RFC names used on the wire; other members pass through.
 * @see RFC 7591 §2
 */
export interface ClientMetadata {
  client_name?: string;
  token_endpoint_auth_method?: TokenEndpointAuthMethod;
  token_endpoint_auth_signing_alg?: string;
  grant_types?: string[];
  scope?: string;
  jwks?: JSONWebKeySet;
  jwks_uri?: string;
  /** `federated_jwt`: the platform identities (token `iss` and `sub`, exactly) the client authenticates as, 1 to 20. */
  federated_credentials?: { issuer: string; subject: string }[];
  contacts?: string[];
  client_uri?: string;
  software_id?: string;
  software_version?: string;
  software_statement?: string;
  [parameter: string]: unknown;
}

/**
 * A registered client: its metadata plus the credentials the server issued.
 * @see RFC 7591 §3.2.1, RFC 7592 §3
 */
export interface ClientRegistration extends ClientMetadata {
  client_id: string;
  client_secret?: string;
  client_id_issued_at?: number;
  /** Expiry of `client_secret` (epoch seconds; 0 = never). */
  client_secret_expires_at?: number;
  registration_access_token: string;
  registration_client_uri: string;
}

/**
 * Options of {@link RegistrationClient}.
 * @see RFC 7591 §3, RFC 7592 §2
 */
export interface RegistrationClientOptions {
  /** Issuer identifier of the authorization server (`https`, `http` only for localhost unless `allowInsecureHttp`). Required. */
  issuer: string;
  /**
   * Registration endpoint URL (`https`; any origin, which `registration_client_uri` may then be on too).
   * Default: `registration_endpoint` from discovery, fetched once, which must be on the issuer's origin.
   */
  registrationEndpoint?: string;
  /** A registration persisted earlier, to manage an existing client. Default: none (call `register()`). */
  registration?: ClientRegistration;
  /**
   * Persists a new registration state (new `registration_access_token`, rotated `client_secret`…).
   * Called after the client has adopted it in memory (the server has already replaced the old
   * credentials, so the new ones are the only ones that work). When it throws, the operation rejects
   * with `ClavisClientError` `credentials_not_persisted`, whose `registration` holds the new state and
   * whose `cause` is the callback's error: store `error.registration` yourself. See ADR 0014.
   * Default: none (state lives in memory only).
   */
  onCredentials?: (registration: ClientRegistration) => void | Promise<void>;
  /** `fetch` implementation. Default: the global `fetch`. */
  fetch?: FetchLike;
  /** Request timeout, in seconds. Default 10. */
  timeout?: number;
  /** Accept plain `http` URLs on any host: for tests only. Default false (`http` only for localhost). */
  allowInsecureHttp?: boolean;
  /** Largest response body read, in bytes. Default 65536. */
  maxResponseBytes?: number;
}

const METADATA_MEMBERS = ['kid', 'alg', 'use'];
/** A credential as it may go into a header: visible ASCII, no space or control character. */
const VISIBLE_ASCII = /^[\x21-\x7e]+$/;

/**
 * The new key of {@link RegistrationClient.rollKeys}.
 * @see RFC 7591 §2 (`jwks`)
 */
export interface NewSigningKey {
  /** Public JWK to publish; its `kid` is set to `kid`. */
  publicJwk: JWK;
  privateKey: PrivateKey;
  kid: string;
}

/**
 * Options of {@link RegistrationClient.rollKeys}.
 * @see RFC 7592 §2.2
 */
export interface RollKeysOptions {
  newKey: NewSigningKey;
  /** Token client to switch to the new key; it fetches a token with it before the old key is dropped. */
  tokenClient?: TokenClient;
  /** Assertion options for the new key (`alg`, `lifetime`, `audience`). */
  assertion?: Omit<PrivateKeyJwtOptions, 'kid'>;
}

/**
 * Options of {@link RegistrationClient.migrateToPrivateKeyJwt}.
 * @see RFC 7592 §2.2, RFC 7523 §2.2
 */
export interface MigrateToPrivateKeyJwtOptions {
  /** The key the client will sign its assertions with; its public part is registered as `jwks`. */
  newKey: NewSigningKey;
  /** Token client to switch to the key once the server has it; it fetches a token with it to prove it. */
  tokenClient?: TokenClient;
  /** Assertion options for the key (`alg`, `lifetime`, `audience`). */
  assertion?: Omit<PrivateKeyJwtOptions, 'kid'>;
  /** `token_endpoint_auth_signing_alg` to register. Default: none (any asymmetric algorithm the key fits). */
  signingAlg?: string;
}

/** A workload identity a client trusts to authenticate as itself: the platform token's `iss` and `sub`. */
export interface FederatedCredential {
  issuer: string;
  subject: string;
}

/**
 * Options of {@link RegistrationClient.migrateToFederated}.
 * @see RFC 7592 §2.2
 */
export interface MigrateToFederatedOptions {
  /** The platform identities (1–20) the client authenticates with; the issuers must be ones the server trusts. */
  federatedCredentials: FederatedCredential[];
  /** Token client to switch once the server has them; it fetches a token with `auth` to prove it. */
  tokenClient?: TokenClient;
  /** The federated client authentication `tokenClient` switches to. Required with `tokenClient`. */
  auth?: ClientAuth;
}

/** Methods whose client holds a server-issued secret. */
const SECRET_METHODS: readonly string[] = ['client_secret_basic', 'client_secret_post', 'client_secret_jwt'];

/** Members of a registration response that never go back in an RFC 7592 PUT. */
const SERVER_ONLY = [
  'registration_access_token',
  'registration_client_uri',
  'client_secret',
  'client_secret_expires_at',
  'client_id_issued_at',
];

/**
 * Registers a client and manages it: read, update, rotate the secret, roll `private_key_jwt` keys,
 * delete. Every new state is checked, adopted, then handed to `onCredentials` (a throwing callback yields
 * `credentials_not_persisted` carrying the new state, ADR 0014);
 * operations run one at a time, since each PUT rotates the registration access token.
 * @example
 * const registrar = new RegistrationClient({ issuer, onCredentials: (r) => vault.save(r) });
 * const { client_id, client_secret } = await registrar.register({ scope: 'statements:read' }, { initialAccessToken });
 * @see RFC 7591, RFC 7592
 */
export class RegistrationClient {
  readonly issuer: string;
  readonly #options: RegistrationClientOptions;
  readonly #fetch: FetchLike;
  readonly #timeout: number;
  readonly #limit: number;
  /** Origins `registration_client_uri` may be on: the issuer's, and a configured registration endpoint's. */
  readonly #origins: string[];
  #registration?: ClientRegistration;
  #queue: Promise<unknown> = Promise.resolve();

  constructor(options: RegistrationClientOptions) {
    this.#origins = [checkUrl(options.issuer, 'issuer', options).origin];
    if (options.registrationEndpoint !== undefined)
      this.#origins.push(checkUrl(options.registrationEndpoint, 'registrationEndpoint', options).origin);
    this.issuer = options.issuer;
    this.#options = options;
    this.#fetch = options.fetch ?? ((input, init) => fetch(input, init));
    this.#timeout = options.timeout ?? DEFAULT_TIMEOUT;
    this.#limit = byteLimit(options.maxResponseBytes);
    if (options.registration) {
      const problem = registrationProblem(options.registration);
      if (problem) throw new TypeError(`registration ${problem}`);
      this.#checkClientUri(options.registration.registration_client_uri);
      this.#registration = structuredClone(options.registration);
    }
  }

  /** The current registration (credentials included), or undefined before `register()` and after `delete()`. */
  get registration(): Readonly<ClientRegistration> | undefined {
    return this.#registration && Object.freeze(structuredClone(this.#registration));
  }

  /**
   * Registers a new client (POST to the registration endpoint) and adopts it.
   * @see RFC 7591 §3.1
   */
  register(metadata: ClientMetadata, options: { initialAccessToken?: string } = {}): Promise<ClientRegistration> {
    const { initialAccessToken } = options;
    // It goes into a header: refuse what would break it, without showing the value.
    if (
      initialAccessToken !== undefined &&
      (typeof initialAccessToken !== 'string' || !VISIBLE_ASCII.test(initialAccessToken))
    )
      return Promise.reject(new TypeError('initialAccessToken must be a string of visible ASCII'));
    return this.#exclusive(async () => {
      const endpoint = this.#options.registrationEndpoint ?? (await this.#discoverEndpoint());
      const response = await this.#send(endpoint, 'POST', options.initialAccessToken, metadata);
      return this.#adopt(undefined, await readJsonObject(response, this.#limit));
    });
  }

  /**
   * Reads the client's current registration from the server and adopts it.
   * @see RFC 7592 §2.1
   */
  read(): Promise<ClientRegistration> {
    return this.#exclusive(async () => {
      const current = this.#current();
      const response = await this.#send(current.registration_client_uri, 'GET', current.registration_access_token);
      return this.#adopt(current, await readJsonObject(response, this.#limit));
    });
  }

  /**
   * Updates the client's metadata. `changes` is merged onto the current metadata, because the PUT
   * replaces the whole document (omitted fields reset on the server); set a field to `undefined` to
   * drop it. Adopts the new registration access token and, when returned, the new secret and its
   * expiry, together.
   * @see RFC 7592 §2.2
   */
  update(changes: ClientMetadata): Promise<ClientRegistration> {
    return this.#exclusive(() => this.#put(changes));
  }

  /**
   * Rotates the client secret: a PUT of the unchanged metadata, which makes the server issue a new
   * secret. The previous secret keeps working for the server's overlap window.
   * @throws ClavisClientError `invalid_response` when the server did not issue a new secret (the
   * rest of its response, e.g. a new registration access token, is adopted nonetheless).
   * @see RFC 7592 §2.2
   */
  rotateSecret(): Promise<{
    client_secret: string;
    client_secret_expires_at: number;
  }> {
    return this.#exclusive(async () => {
      const previous = this.#current().client_secret;
      const { client_secret, client_secret_expires_at } = await this.#put({});
      if (client_secret === undefined || client_secret === previous) {
        throw new ClavisClientError('invalid_response', 'the server did not issue a new client_secret');
      }
      return {
        client_secret,
        client_secret_expires_at: client_secret_expires_at ?? 0,
      };
    });
  }

  /**
   * Rolls the `private_key_jwt` signing key without downtime: publishes the old keys plus the new
   * one, switches `tokenClient` to the new key (and proves it by fetching a token), then publishes
   * only the new key. A failure before the last step leaves the old key working.
   * @see RFC 7592 §2.2, RFC 7523 §2.2
   */
  rollKeys(options: RollKeysOptions): Promise<ClientRegistration> {
    return this.#exclusive(async () => {
      const current = this.#current();
      const { newKey, tokenClient } = options;
      const oldKeys = current.jwks?.keys;
      if (!Array.isArray(oldKeys)) {
        throw new TypeError('rollKeys needs a client registered with jwks (not jwks_uri)');
      }
      if (typeof newKey.kid !== 'string' || newKey.kid === '')
        throw new TypeError('newKey.kid must be a non-empty string');
      if (tokenClient && tokenClient.clientId !== current.client_id)
        throw new TypeError('tokenClient belongs to another client');
      // Only public members are published, whatever the JWK carries, and only for the private key's pair.
      const publicJwk = publicMembers(newKey.publicJwk, newKey.kid);
      checkKeyPair(publicJwk, newKey.privateKey);
      const auth = privateKeyJwt(current.client_id, newKey.privateKey, {
        ...options.assertion,
        kid: newKey.kid,
      });

      await this.#put({
        jwks: {
          keys: [...oldKeys.filter((k) => k.kid !== newKey.kid), publicJwk],
        },
      });
      if (tokenClient) {
        const previous = tokenClient.auth;
        tokenClient.setAuth(auth);
        try {
          tokenClient.invalidate();
          await tokenClient.getToken();
        } catch (error) {
          tokenClient.setAuth(previous);
          throw error;
        }
      }
      return this.#put({ jwks: { keys: [publicJwk] } });
    });
  }

  /**
   * Moves a secret client to `private_key_jwt` without downtime, in one call: registers the public
   * part of `newKey` and the method in one PUT, stores the new registration (`onCredentials`) before
   * anything switches, then switches `tokenClient` to the key and proves it by fetching a token. The
   * server keeps the previous secret working, with the previous method only, for its rotation overlap
   * window, so the other instances of the service can switch one at a time. A failure of the switch
   * puts `tokenClient` back on the secret (still valid).
   * @see RFC 7592 §2.2, RFC 7523 §2.2
   */
  migrateToPrivateKeyJwt(options: MigrateToPrivateKeyJwtOptions): Promise<ClientRegistration> {
    return this.#exclusive(async () => {
      const current = this.#current();
      const { newKey, tokenClient } = options;
      if (typeof newKey?.kid !== 'string' || newKey.kid === '')
        throw new TypeError('newKey.kid must be a non-empty string');
      if (tokenClient && tokenClient.clientId !== current.client_id)
        throw new TypeError('tokenClient belongs to another client');
      const publicJwk = publicMembers(newKey.publicJwk, newKey.kid);
      checkKeyPair(publicJwk, newKey.privateKey);
      const auth = privateKeyJwt(current.client_id, newKey.privateKey, { ...options.assertion, kid: newKey.kid });
      const registration = await this.#put({
        token_endpoint_auth_method: 'private_key_jwt',
        token_endpoint_auth_signing_alg: options.signingAlg,
        jwks: { keys: [publicJwk] },
        jwks_uri: undefined,
      });
      if (tokenClient) await switchAuth(tokenClient, auth);
      return registration;
    });
  }

  /**
   * Moves a client to `federated_jwt` (its platform identity: a Kubernetes service-account token, a
   * GitHub Actions OIDC token, a SPIFFE JWT-SVID) without downtime, as {@link migrateToPrivateKeyJwt}:
   * registers `federatedCredentials` and the method in one PUT, stores the new registration, then
   * switches `tokenClient` to `auth` and proves it. A secret client's previous secret keeps working,
   * with its previous method only, for the server's rotation overlap window.
   * @see RFC 7592 §2.2
   */
  migrateToFederated(options: MigrateToFederatedOptions): Promise<ClientRegistration> {
    return this.#exclusive(async () => {
      const current = this.#current();
      const { federatedCredentials, tokenClient, auth } = options;
      if (
        !Array.isArray(federatedCredentials) ||
        federatedCredentials.length === 0 ||
        federatedCredentials.some(
          (c) => typeof c?.issuer !== 'string' || c.issuer === '' || typeof c.subject !== 'string' || c.subject === '',
        )
      )
        throw new TypeError('federatedCredentials must be a non-empty list of { issuer, subject } strings');
      if (tokenClient && tokenClient.clientId !== current.client_id)
        throw new TypeError('tokenClient belongs to another client');
      if (tokenClient && (!auth || auth.clientId !== current.client_id))
        throw new TypeError('auth (the federated authentication of this client) is required with tokenClient');
      const registration = await this.#put({
        token_endpoint_auth_method: 'federated_jwt' as TokenEndpointAuthMethod,
        federated_credentials: federatedCredentials.map(({ issuer, subject }) => ({ issuer, subject })),
        token_endpoint_auth_signing_alg: undefined,
        jwks: undefined,
        jwks_uri: undefined,
      });
      if (tokenClient) await switchAuth(tokenClient, auth!);
      return registration;
    });
  }

  /**
   * Deletes the client on the server and forgets its registration.
   * @see RFC 7592 §2.3
   */
  delete(): Promise<void> {
    return this.#exclusive(async () => {
      const current = this.#current();
      await this.#send(current.registration_client_uri, 'DELETE', current.registration_access_token);
      this.#registration = undefined;
    });
  }

  async #put(changes: ClientMetadata): Promise<ClientRegistration> {
    const current = this.#current();
    const body: Record<string, unknown> = {
      ...current,
      ...changes,
      client_id: current.client_id,
    };
    for (const name of SERVER_ONLY) delete body[name];
    const response = await this.#send(current.registration_client_uri, 'PUT', current.registration_access_token, body);
    return this.#adopt(current, await readJsonObject(response, this.#limit));
  }

  /**
   * Merges a response into the state, checks it (nothing invalid is adopted), adopts it, then hands
   * it to `onCredentials`; when that throws, the error carries the new state (ADR 0014).
   */
  async #adopt(
    previous: ClientRegistration | undefined,
    response: Record<string, unknown>,
  ): Promise<ClientRegistration> {
    const next = { ...response } as ClientRegistration;
    if (previous) {
      if (next.client_id !== previous.client_id) {
        throw new ClavisClientError('invalid_response', 'the response names another client_id');
      }
      // RFC 7592 §2.1/§2.2: the server may keep the registration access token; keep the old one then.
      next.registration_access_token ??= previous.registration_access_token;
      next.registration_client_uri ??= previous.registration_client_uri;
      // A secret and its expiry travel together: without a new secret, the old pair stays — unless the
      // client moved to a method without a secret (the server keeps the old one only for the overlap).
      const secretless =
        typeof next.token_endpoint_auth_method === 'string' &&
        !SECRET_METHODS.includes(next.token_endpoint_auth_method);
      if (secretless) {
        delete next.client_secret;
        delete next.client_secret_expires_at;
      } else if (next.client_secret === undefined) {
        delete next.client_secret_expires_at;
        if (previous.client_secret !== undefined) next.client_secret = previous.client_secret;
        if (previous.client_secret_expires_at !== undefined)
          next.client_secret_expires_at = previous.client_secret_expires_at;
      }
    }
    const problem = registrationProblem(next);
    if (problem) {
      throw new ClavisClientError('invalid_response', `registration response ${problem}`);
    }
    this.#checkClientUri(next.registration_client_uri);
    this.#registration = next;
    try {
      await this.#options.onCredentials?.(structuredClone(next));
    } catch (cause) {
      const error = new ClavisClientError(
        'credentials_not_persisted',
        'onCredentials failed: the server has issued new credentials, adopted by this client and found on error.registration; store them',
        undefined,
        { cause },
      );
      Object.defineProperty(error, 'registration', {
        value: deepFreeze(structuredClone(next)),
        enumerable: false,
      });
      throw error;
    }
    return structuredClone(next);
  }

  async #send(url: string, method: string, bearer: string | undefined, json?: unknown): Promise<Response> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (bearer) headers.authorization = `Bearer ${bearer}`;
    if (json !== undefined) headers['content-type'] = 'application/json';
    const response = await send(
      this.#fetch,
      url,
      {
        method,
        headers,
        body: json === undefined ? undefined : JSON.stringify(json),
      },
      this.#timeout,
    );
    if (!response.ok) throw await errorFrom(response, this.#limit);
    return response;
  }

  async #discoverEndpoint(): Promise<string> {
    const metadata = await discoverAuthorizationServer(this.issuer, {
      fetch: this.#fetch,
      timeout: this.#timeout,
      allowInsecureHttp: this.#options.allowInsecureHttp,
      maxResponseBytes: this.#limit,
    });
    if (!metadata.registration_endpoint) {
      throw new ClavisClientError('invalid_response', 'metadata has no registration_endpoint');
    }
    // The initial access token goes there: the issuer's origin only, unless configured (ADR 0014).
    checkUrl(metadata.registration_endpoint, 'registration_endpoint', {
      allowInsecureHttp: this.#options.allowInsecureHttp,
      origins: [new URL(this.issuer).origin],
    });
    return metadata.registration_endpoint;
  }

  /** `registration_client_uri` receives the registration access token: the URL rule, and a known origin. */
  #checkClientUri(uri: string): void {
    checkUrl(uri, 'registration_client_uri', {
      allowInsecureHttp: this.#options.allowInsecureHttp,
      origins: this.#origins,
    });
  }

  #current(): ClientRegistration {
    if (!this.#registration) {
      throw new ClavisClientError('not_registered', 'no client is registered: call register() first');
    }
    return this.#registration;
  }

  /** Runs operations one after another: each PUT invalidates the registration access token the next one needs. */
  #exclusive<T>(operation: () => Promise<T>): Promise<T> {
    const result = this.#queue.then(operation);
    this.#queue = result.catch(() => undefined);
    return result;
  }
}

/** Switches `tokenClient` to `auth` and proves it with a fresh token; puts the previous one back on failure. */
async function switchAuth(tokenClient: TokenClient, auth: ClientAuth): Promise<void> {
  const previous = tokenClient.auth;
  tokenClient.setAuth(auth);
  try {
    tokenClient.invalidate();
    await tokenClient.getToken();
  } catch (error) {
    tokenClient.setAuth(previous);
    throw error;
  }
}

function registrationProblem(registration: ClientRegistration): string | undefined {
  for (const name of ['client_id', 'registration_access_token', 'registration_client_uri'] as const) {
    if (typeof registration[name] !== 'string' || registration[name] === '') return `has no ${name}`;
  }
  if (!URL.canParse(registration.registration_client_uri)) return 'has an invalid registration_client_uri';
  // Credentials go into headers and bodies: nothing but visible ASCII (the values are never shown).
  if (!VISIBLE_ASCII.test(registration.registration_access_token))
    return 'registration_access_token has characters other than visible ASCII';
  if (
    registration.client_secret !== undefined &&
    (typeof registration.client_secret !== 'string' || !VISIBLE_ASCII.test(registration.client_secret))
  )
    return 'client_secret is not a string of visible ASCII';
  const expiresAt = registration.client_secret_expires_at;
  if (expiresAt !== undefined && (typeof expiresAt !== 'number' || !Number.isSafeInteger(expiresAt) || expiresAt < 0))
    return 'client_secret_expires_at is not a whole number of seconds';
  return undefined;
}

/** The public members of `jwk` (by `kty`) plus `kid`, `alg`, `use`; a symmetric or unknown key type is refused. */
function publicMembers(jwk: JWK, kid: string): JWK {
  const publicJwk = publicPart(jwk);
  if (!publicJwk) {
    throw new ClavisClientError('invalid_key', 'newKey.publicJwk must be an RSA, EC or OKP public key');
  }
  for (const name of METADATA_MEMBERS) {
    const value = (jwk as Record<string, unknown>)[name];
    if (value !== undefined) (publicJwk as Record<string, unknown>)[name] = value;
  }
  publicJwk.kid = kid;
  return publicJwk;
}

/** Refuses a public JWK that is not the public half of `privateKey` (a probe signed with one must verify with the other). */
function checkKeyPair(publicJwk: JWK, privateKey: PrivateKey): void {
  if (!isKeyPair(privateKey, publicJwk, 'newKey')) {
    throw new ClavisClientError('invalid_key', 'newKey.publicJwk is not the public key of newKey.privateKey');
  }
}
