import type { ClientAuth } from './auth/client-auth.js';
import { systemClock, type Clock } from './clock.js';
import { discoverAuthorizationServer } from './discovery.js';
import { ClavisClientError } from './errors.js';
import {
  bearerChallenge,
  byteLimit,
  DEFAULT_TIMEOUT,
  errorFrom,
  readJsonObject,
  send,
  type FetchLike,
} from './http.js';
import { checkUrl } from './url-policy.js';

/**
 * Options of {@link TokenClient}. Durations are in seconds.
 * @see RFC 6749 §4.4.2
 */
export interface TokenClientOptions {
  /**
   * Issuer identifier of the authorization server; the `aud` of client assertions. Required.
   * `https` (`http` only for localhost, unless `allowInsecureHttp`).
   */
  issuer: string;
  /**
   * Token endpoint URL (`https`, `http` only for localhost unless `allowInsecureHttp`; any origin).
   * Default: `token_endpoint` from `${issuer}/.well-known/oauth-authorization-server`, fetched once,
   * which must be on the issuer's origin.
   */
  tokenEndpoint?: string;
  /** The client's `client_id`; must be the one `auth` was made for. Required. */
  clientId: string;
  /** Client authentication: `clientSecretBasic()`, `clientSecretPost()`, `clientSecretJwt()` or `privateKeyJwt()`. Required. */
  auth: ClientAuth;
  /** Requested scope (space-separated string or list). Default: none, i.e. the registered scope. */
  scope?: string | string[];
  /** Resource indicator(s) of the requested token (RFC 8707). Default: none. */
  resource?: string | string[];
  /** `fetch` implementation for every request. Default: the global `fetch`. */
  fetch?: FetchLike;
  /** Clock for token expiry and assertion times. Default: the system clock. */
  clock?: Clock;
  /** Refresh this long before the token expires (capped at half its lifetime). Default 30. */
  refreshSkew?: number;
  /** Timeout of discovery and token requests. Default 10. */
  timeout?: number;
  /** Accept plain `http` URLs on any host: for tests only. Default false (`http` only for localhost). */
  allowInsecureHttp?: boolean;
  /** Largest response body read (metadata, token, error), in bytes. Default 65536. */
  maxResponseBytes?: number;
}

/** Longest `expires_in` adopted: one year. */
const MAX_EXPIRES_IN = 31_536_000;
/** An access token as it may go into an `Authorization` header: visible ASCII, no space or control character. */
const VISIBLE_ASCII = /^[\x21-\x7e]+$/;

/**
 * A successful token response, as received.
 * @see RFC 6749 §5.1
 */
export interface TokenEndpointResponse {
  access_token: string;
  token_type: string;
  expires_in?: number;
  scope?: string;
  [parameter: string]: unknown;
}

interface CachedToken {
  response: TokenEndpointResponse;
  /** When to stop serving it (ms); -Infinity when the server gave no `expires_in`. */
  refreshAt: number;
}

/**
 * Obtains access tokens with the client credentials grant and caches them until shortly before they
 * expire. Concurrent callers share one in-flight request; every request carries a fresh assertion.
 * @example
 * const tokens = new TokenClient({ issuer, clientId, auth: privateKeyJwt(clientId, key, { kid }), scope: 'statements:read' });
 * const res = await tokens.fetch('https://api.example.com/statements');
 * @see RFC 6749 §4.4
 */
export class TokenClient {
  readonly issuer: string;
  readonly clientId: string;
  #auth: ClientAuth;
  readonly #options: TokenClientOptions;
  readonly #fetch: FetchLike;
  readonly #clock: Clock;
  readonly #skew: number;
  readonly #timeout: number;
  #tokenEndpoint?: Promise<string>;
  #cached?: CachedToken;
  #pending?: Promise<TokenEndpointResponse>;
  #generation = 0;

  readonly #limit: number;

  constructor(options: TokenClientOptions) {
    checkUrl(options.issuer, 'issuer', options);
    if (options.tokenEndpoint !== undefined) checkUrl(options.tokenEndpoint, 'tokenEndpoint', options);
    this.issuer = options.issuer;
    this.clientId = options.clientId;
    this.#options = options;
    this.#fetch = options.fetch ?? ((input, init) => fetch(input, init));
    this.#clock = options.clock ?? systemClock;
    this.#skew = nonNegative(options.refreshSkew ?? 30, 'refreshSkew');
    this.#timeout = nonNegative(options.timeout ?? DEFAULT_TIMEOUT, 'timeout');
    this.#limit = byteLimit(options.maxResponseBytes);
    if (options.tokenEndpoint !== undefined) this.#tokenEndpoint = Promise.resolve(options.tokenEndpoint);
    this.#auth = this.#checkAuth(options.auth);
  }

  /** The client authentication strategy in use. */
  get auth(): ClientAuth {
    return this.#auth;
  }

  /** Switches the client authentication (a rotated secret, a new signing key); the cached token stays. */
  setAuth(auth: ClientAuth): void {
    this.#auth = this.#checkAuth(auth);
  }

  /**
   * A valid access token: the cached one, or a new one when it is within `refreshSkew` of expiry.
   * @throws ClavisClientError with the server's code (`invalid_client`, `invalid_scope`…) or the SDK's.
   */
  async getToken(): Promise<string> {
    return (await this.getTokenResponse()).access_token;
  }

  /**
   * Like {@link getToken}, but the whole token response (as received, so `expires_in` is not counted
   * down). Deeply frozen: every caller shares it.
   */
  getTokenResponse(): Promise<TokenEndpointResponse> {
    const cached = this.#cached;
    if (cached && this.#clock.now() < cached.refreshAt) return Promise.resolve(cached.response);
    return (this.#pending ??= this.#request());
  }

  /** Drops the cached token (and forgets an in-flight request), so the next call asks the server. */
  invalidate(): void {
    this.#cached = undefined;
    this.#pending = undefined;
    this.#generation++;
  }

  /**
   * `fetch` with `Authorization: Bearer <token>`. When the resource server answers 401 with
   * `WWW-Authenticate: Bearer error="invalid_token"`, gets a fresh token and retries exactly once.
   * The body must be replayable (a string, buffer, form or blob, not a stream).
   * @see RFC 6750 §2.1, §3.1
   */
  async fetch(input: string | URL, init: RequestInit = {}): Promise<Response> {
    const token = await this.getToken();
    const response = await this.#fetch(input, withBearer(init, token));
    if (response.status !== 401 || bearerChallenge(response.headers.get('www-authenticate'))?.error !== 'invalid_token')
      return response;
    await response.body?.cancel();
    // Another caller may already have replaced the rejected token; drop it only if it is still cached.
    if (this.#cached?.response.access_token === token) this.invalidate();
    return this.#fetch(input, withBearer(init, await this.getToken()));
  }

  #checkAuth(auth: ClientAuth): ClientAuth {
    if (typeof auth?.authenticate !== 'function') {
      throw new TypeError('auth must be a client authentication strategy such as clientSecretBasic()');
    }
    if (auth.clientId !== this.clientId) {
      throw new TypeError(`auth was made for client ${auth.clientId}, not ${this.clientId}`);
    }
    return auth;
  }

  #request(): Promise<TokenEndpointResponse> {
    const generation = this.#generation;
    return this.#requestToken().then(
      (cached) => {
        if (generation === this.#generation) [this.#cached, this.#pending] = [cached, undefined];
        return cached.response;
      },
      (error: unknown) => {
        if (generation === this.#generation) this.#pending = undefined;
        throw error;
      },
    );
  }

  async #requestToken(): Promise<CachedToken> {
    const endpoint = await this.#endpoint();
    const sentAt = this.#clock.now();
    const { headers, body } = await this.#auth.authenticate({
      issuer: this.issuer,
      now: sentAt,
    });
    const form = new URLSearchParams({ grant_type: 'client_credentials' });
    const { scope, resource } = this.#options;
    if (scope !== undefined) form.set('scope', typeof scope === 'string' ? scope : scope.join(' '));
    for (const r of typeof resource === 'string' ? [resource] : (resource ?? [])) form.append('resource', r);
    for (const [name, value] of Object.entries(body)) form.set(name, value);

    const response = await send(
      this.#fetch,
      endpoint,
      {
        method: 'POST',
        headers: {
          ...headers,
          'content-type': 'application/x-www-form-urlencoded',
          accept: 'application/json',
        },
        body: form.toString(),
      },
      this.#timeout,
    );
    if (!response.ok) throw await errorFrom(response, this.#limit);
    const json = await readJsonObject(response, this.#limit);
    const invalid = (what: string) =>
      new ClavisClientError('invalid_response', `token response ${what}`, response.status);
    if (typeof json.access_token !== 'string' || json.access_token === '') throw invalid('has no access_token');
    // Never adopted, so never sent in a header or printed in an error: the value is not shown.
    if (!VISIBLE_ASCII.test(json.access_token)) throw invalid('access_token has characters other than visible ASCII');
    if (typeof json.token_type !== 'string' || json.token_type.toLowerCase() !== 'bearer')
      throw invalid('token_type is not Bearer');
    const expiresIn = json.expires_in;
    if (
      expiresIn !== undefined &&
      (typeof expiresIn !== 'number' || !(expiresIn > 0) || !(expiresIn <= MAX_EXPIRES_IN))
    )
      throw invalid(`expires_in is not a positive number of seconds up to ${MAX_EXPIRES_IN}`);
    // Counted from when the request was sent; half the lifetime at most, so short-lived tokens are still reused.
    const refreshAt =
      expiresIn === undefined ? -Infinity : sentAt + (expiresIn - Math.min(this.#skew, expiresIn / 2)) * 1000;
    return { response: deepFreeze(json) as TokenEndpointResponse, refreshAt };
  }

  #endpoint(): Promise<string> {
    if (!this.#tokenEndpoint) {
      const discovery = discoverAuthorizationServer(this.issuer, {
        fetch: this.#fetch,
        timeout: this.#timeout,
        allowInsecureHttp: this.#options.allowInsecureHttp,
        maxResponseBytes: this.#limit,
      }).then((metadata) => {
        if (!metadata.token_endpoint) {
          throw new ClavisClientError('invalid_response', 'metadata has no token_endpoint');
        }
        // A discovered endpoint gets the client's credentials: the issuer's origin only (ADR 0014).
        checkUrl(metadata.token_endpoint, 'token_endpoint', {
          allowInsecureHttp: this.#options.allowInsecureHttp,
          origins: [new URL(this.issuer).origin],
        });
        return metadata.token_endpoint;
      });
      // A failed discovery is not cached: the next call tries again.
      discovery.catch(() => {
        if (this.#tokenEndpoint === discovery) this.#tokenEndpoint = undefined;
      });
      this.#tokenEndpoint = discovery;
    }
    return this.#tokenEndpoint;
  }
}

function withBearer(init: RequestInit, token: string): RequestInit {
  const headers = new Headers(init.headers);
  headers.set('authorization', `Bearer ${token}`);
  return { ...init, headers };
}

function nonNegative(value: number, name: string): number {
  if (typeof value !== 'number' || !(value >= 0) || !Number.isFinite(value))
    throw new TypeError(`${name} must be a non-negative number of seconds`);
  return value;
}

/** Freezes a parsed JSON value and everything in it. */
export function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const member of Object.values(value)) deepFreeze(member);
  }
  return value;
}
