import type { JWK } from 'jose';
import type { AccessTokenClaims } from './access-token.verifier.js';

/**
 * An in-process source of the authorization server's public signing keys, e.g. an adapter the host
 * application writes around the authorization server's key service. Read once, and again when a
 * token names an unknown `kid` (at most once per `jwksCooldown`).
 * @see RFC 7517 §5
 */
export interface AccessTokenKeySource {
  /** The current public JWK Set: active key, next key and keys retired but still within their tokens' lifetime. */
  getKeySet(): Promise<{ keys: JWK[] }>;
}

/**
 * Source of the current time for the `exp`, `nbf` and `iat` checks; structurally compatible with `@clavis/server`'s `Clock`.
 * @see RFC 7519 §4.1.4
 */
export interface ResourceClock {
  /** Current time in milliseconds since the epoch. */
  now(): number;
}

/**
 * Asymmetric JWS algorithms an access token may be signed with (never `none` or HMAC).
 * @see RFC 7518 §3.1
 * @see RFC 8037 §3.1
 */
export type AccessTokenAlgorithm =
  'RS256' | 'RS384' | 'RS512' | 'PS256' | 'PS384' | 'PS512' | 'ES256' | 'ES384' | 'ES512' | 'EdDSA' | 'Ed25519';

const ASYMMETRIC_ALGORITHMS: readonly string[] = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  'Ed25519',
] satisfies AccessTokenAlgorithm[];

/**
 * Options of `ClavisResourceModule.forRoot()` / `forRootAsync()`. Durations are in seconds.
 * @see RFC 9068 §4
 */
export interface ClavisResourceOptions {
  /**
   * Issuer identifier of the authorization server (RFC 8414 §2), compared exactly with the token's `iss`:
   * an `https` URL (`http` only for localhost), no query or fragment. Required.
   */
  issuer: string;
  /**
   * This API's identifier, expected in the token's `aud` (RFC 9068 §4); a list accepts any of its members.
   * The first one is also the `realm` of `WWW-Authenticate` challenges. Required.
   */
  audience: string | string[];
  /**
   * In-process key source (e.g. the authorization server's key service, wired by the host app).
   * Default: none — keys come from `jwksUri`, or from the `jwks_uri` of the issuer's RFC 8414 metadata.
   */
  keySource?: AccessTokenKeySource;
  /** The issuer's JWK Set URL; skips RFC 8414 discovery. Not together with `keySource`. Default: discovered. */
  jwksUri?: string;
  /** Clock-skew tolerance applied to `exp`, `nbf` and `iat`. Default 30. */
  clockSkew?: number;
  /** Most entries of the verified-token cache (oldest evicted first); 0 turns the cache off. Default 10000. */
  cacheMaxEntries?: number;
  /**
   * Minimum time between key-set re-reads triggered by an unknown `kid`, and the first step of the
   * backoff after a failed fetch (doubling per consecutive failure, at most 300 s or the cooldown if
   * longer). At least 1 with remote keys; 0 is allowed only with `keySource`. Default 10. See ADR 0014.
   */
  jwksCooldown?: number;
  /** Timeout of the discovery and JWK Set requests (headers and body). Default 5. */
  jwksTimeout?: number;
  /**
   * How long a remote key set, once fetched, stays usable for the `kid`s it holds while the issuer
   * cannot be reached: keys are refreshed after `min(600, jwksMaxStale / 2)` seconds, and when every
   * refresh fails, tokens get 503 once the last good fetch is `jwksMaxStale` old. 60 to 86400.
   * Default 3600. See ADR 0014.
   */
  jwksMaxStale?: number;
  /**
   * Origins (`https://keys.example.com`) besides the issuer's on which a `jwks_uri` found through
   * RFC 8414 discovery may be; it must be `https` (`http` only for localhost) in any case. Default: none
   * (the issuer's origin only). Setting `jwksUri` instead skips discovery altogether.
   */
  allowedJwksOrigins?: string[];
  /** Largest metadata document or JWK Set read, in bytes; a larger one is abandoned (503). Default 65536. */
  maxResponseBytes?: number;
  /** Accepted signing algorithms (asymmetric only). Default `['ES256', 'ES384', 'RS256', 'PS256', 'EdDSA']`. */
  algorithms?: AccessTokenAlgorithm[];
  /** Clock; default: the system clock. Tests inject one instead of sleeping. */
  clock?: ResourceClock;
  /**
   * Deny-list hook (e.g. revoked `jti`s): when set, consulted on every request, after the verified-token
   * cache; `true` rejects the token as `invalid_token`. A rejection (the list is unreachable) answers 503.
   * Receives the verified claims too (e.g. to refuse tokens of a deleted client). Default: none.
   */
  isRevoked?: (jti: string, claims: AccessTokenClaims) => Promise<boolean>;
  /**
   * How often `isRevoked` is asked again about a token already verified and found not revoked: at most
   * once per this many seconds per token (a token found revoked stays refused). This is the bound on how
   * late a revocation takes effect on a token in use. 0 asks on every request. 0 to 60. Default 0; the
   * in-process module sets 1. See ADR 0028.
   */
  revocationCheckInterval?: number;
  /**
   * A number that changes whenever the host learns of a revocation (e.g. one made by this process);
   * when it has changed since a cached token was last checked, `isRevoked` is asked again at once,
   * whatever `revocationCheckInterval` says. Default: none.
   */
  revocationGeneration?: () => number;
}

/**
 * Defaults of the optional {@link ClavisResourceOptions}.
 * @see RFC 9068 §4
 */
export const DEFAULT_RESOURCE_OPTIONS = {
  clockSkew: 30,
  cacheMaxEntries: 10_000,
  jwksCooldown: 10,
  jwksTimeout: 5,
  jwksMaxStale: 3_600,
  maxResponseBytes: 65_536,
  revocationCheckInterval: 0,
  algorithms: ['ES256', 'ES384', 'RS256', 'PS256', 'EdDSA'] as AccessTokenAlgorithm[],
} as const satisfies Partial<ClavisResourceOptions>;

/**
 * Validated, frozen options with defaults applied.
 * @see RFC 9068 §4
 */
export interface ResourceSettings {
  readonly issuer: string;
  readonly audience: readonly string[];
  /** `realm` of the `WWW-Authenticate` challenges: the first audience. */
  readonly realm: string;
  readonly keySource?: AccessTokenKeySource;
  readonly jwksUri?: string;
  /** RFC 8414 §3.1 metadata URLs to try, in order. */
  readonly discoveryUrls: readonly string[];
  readonly clockSkew: number;
  readonly cacheMaxEntries: number;
  readonly jwksCooldown: number;
  readonly jwksTimeout: number;
  readonly jwksMaxStale: number;
  /** Origins a discovered `jwks_uri` may be on: the issuer's plus `allowedJwksOrigins`. */
  readonly jwksOrigins: readonly string[];
  readonly maxResponseBytes: number;
  readonly algorithms: readonly AccessTokenAlgorithm[];
  readonly clock: ResourceClock;
  readonly isRevoked?: (jti: string, claims: AccessTokenClaims) => Promise<boolean>;
  readonly revocationCheckInterval: number;
  readonly revocationGeneration?: () => number;
}

/** DI token of the {@link ResourceSettings} (exported by the module for the guard, not by the barrel). */
export const RESOURCE_SETTINGS = 'CLAVIS_RESOURCE_SETTINGS';

/**
 * Thrown at boot when the options are wrong; lists every problem at once.
 * @see RFC 8414 §2
 */
export class ClavisResourceConfigurationError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid Clavis resource options:\n - ${problems.join('\n - ')}`);
    this.name = 'ClavisResourceConfigurationError';
  }
}

const systemClock: ResourceClock = { now: () => Date.now() };

/**
 * Validates the options once, applies defaults, and returns frozen settings (with the RFC 8414 §3.1
 * metadata URLs derived from the issuer).
 * @see RFC 8414 §3.1
 */
export function resolveResourceOptions(options: ClavisResourceOptions): ResourceSettings {
  const problems: string[] = [];
  const d = DEFAULT_RESOURCE_OPTIONS;

  const issuer = options?.issuer;
  let discoveryUrls: string[] = [];
  let issuerOrigin: string | undefined;
  if (typeof issuer !== 'string' || issuer === '') problems.push('issuer is required');
  else {
    const url = parseHttpUrl(issuer);
    if (!url) problems.push('issuer must be an https URL (http only for localhost)');
    else if (url.search || url.hash || issuer.includes('?') || issuer.includes('#'))
      problems.push('issuer must not have a query or fragment');
    else [discoveryUrls, issuerOrigin] = [metadataUrls(url), url.origin];
  }

  const audience = typeof options?.audience === 'string' ? [options.audience] : options?.audience;
  if (!Array.isArray(audience) || audience.length === 0 || audience.some((a) => typeof a !== 'string' || a === ''))
    problems.push('audience is required: a non-empty string or list of strings');

  const keySource = options?.keySource;
  if (keySource !== undefined && typeof keySource?.getKeySet !== 'function')
    problems.push('keySource must have a getKeySet() method');
  const jwksUri = options?.jwksUri;
  if (jwksUri !== undefined && !parseHttpUrl(jwksUri))
    problems.push('jwksUri must be an https URL (http only for localhost)');
  if (keySource !== undefined && jwksUri !== undefined) problems.push('set keySource or jwksUri, not both');

  const whole = (
    name: string,
    value: number | undefined,
    fallback: number,
    min: number,
    max: number,
    unit = 'seconds',
  ): number => {
    const v = value ?? fallback;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max)
      problems.push(`${name} must be a whole number of ${unit} from ${min} to ${max}`);
    return v;
  };
  const clockSkew = whole('clockSkew', options?.clockSkew, d.clockSkew, 0, 300);
  const cacheMaxEntries = whole(
    'cacheMaxEntries',
    options?.cacheMaxEntries,
    d.cacheMaxEntries,
    0,
    1_000_000,
    'entries',
  );
  // An unknown kid costs the issuer a fetch at most once per cooldown: below one second only for the
  // in-process key source, which is the host's own (ADR 0014).
  const jwksCooldown = whole(
    'jwksCooldown',
    options?.jwksCooldown,
    d.jwksCooldown,
    keySource === undefined ? 1 : 0,
    3_600,
  );
  const jwksTimeout = whole('jwksTimeout', options?.jwksTimeout, d.jwksTimeout, 1, 60);
  const jwksMaxStale = whole('jwksMaxStale', options?.jwksMaxStale, d.jwksMaxStale, 60, 86_400);
  const maxResponseBytes = whole(
    'maxResponseBytes',
    options?.maxResponseBytes,
    d.maxResponseBytes,
    1_024,
    10_485_760,
    'bytes',
  );

  const revocationCheckInterval = whole(
    'revocationCheckInterval',
    options?.revocationCheckInterval,
    d.revocationCheckInterval,
    0,
    60,
  );

  const allowed = options?.allowedJwksOrigins ?? [];
  const jwksOrigins: string[] = issuerOrigin ? [issuerOrigin] : [];
  if (!Array.isArray(allowed)) problems.push('allowedJwksOrigins must be a list of origins');
  else
    for (const origin of allowed) {
      const url = typeof origin === 'string' ? parseHttpUrl(origin) : undefined;
      if (!url || url.origin !== origin.replace(/\/$/, ''))
        problems.push(
          `allowedJwksOrigins: ${JSON.stringify(origin)} must be an origin such as https://keys.example.com (http only for localhost)`,
        );
      else jwksOrigins.push(url.origin);
    }

  const algorithms = options?.algorithms ?? d.algorithms;
  if (
    !Array.isArray(algorithms) ||
    algorithms.length === 0 ||
    algorithms.some((a) => !ASYMMETRIC_ALGORITHMS.includes(a))
  )
    problems.push(`algorithms must be a non-empty list of ${ASYMMETRIC_ALGORITHMS.join(', ')}`);

  const clock = options?.clock ?? systemClock;
  if (typeof clock?.now !== 'function') problems.push('clock must have a now() method');
  if (options?.isRevoked !== undefined && typeof options.isRevoked !== 'function')
    problems.push('isRevoked must be a function');
  if (options?.revocationGeneration !== undefined && typeof options.revocationGeneration !== 'function')
    problems.push('revocationGeneration must be a function');

  if (problems.length) throw new ClavisResourceConfigurationError(problems);

  return Object.freeze({
    issuer,
    audience: Object.freeze([...(audience as string[])]),
    realm: (audience as string[])[0],
    keySource,
    jwksUri,
    discoveryUrls: Object.freeze(discoveryUrls),
    clockSkew,
    cacheMaxEntries,
    jwksCooldown,
    jwksTimeout,
    jwksMaxStale,
    jwksOrigins: Object.freeze(jwksOrigins),
    maxResponseBytes,
    algorithms: Object.freeze([...algorithms]),
    clock,
    isRevoked: options.isRevoked,
    revocationCheckInterval,
    revocationGeneration: options.revocationGeneration,
  });
}

/**
 * `value` as a URL the guard may fetch: `https`, or `http` to localhost (127.0.0.1, [::1]); the rule of
 * the `issuer`, `jwksUri` and a discovered `jwks_uri` alike.
 */
export function parseHttpUrl(value: string): URL | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return undefined;
  }
  const local = url.hostname === 'localhost' || url.hostname === '127.0.0.1' || url.hostname === '[::1]';
  return url.protocol === 'https:' || (url.protocol === 'http:' && local) ? url : undefined;
}

// RFC 8414 §3.1: the well-known segment goes between the host and the issuer's path. For an issuer
// with a path, `${issuer}/.well-known/…` (what some servers serve under a route prefix) is tried second.
function metadataUrls(issuer: URL): string[] {
  const path = issuer.pathname.replace(/\/+$/, '');
  const wellKnown = '/.well-known/oauth-authorization-server';
  if (path === '') return [`${issuer.origin}${wellKnown}`];
  return [`${issuer.origin}${wellKnown}${path}`, `${issuer.origin}${path}${wellKnown}`];
}
