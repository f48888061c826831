import type { AuditSink } from '../audit/audit.sink.js';
import type { Clock } from '../shared/clock.js';

/** Server signing algorithms for access tokens. */
export type SigningAlgorithm = 'ES256' | 'ES384' | 'RS256' | 'PS256' | 'EdDSA';

/** Who may call `POST /register`. */
export type RegistrationMode = 'initial_access_token' | 'open' | 'closed';

/** Options of `ClavisServerModule.forRoot()` / `forRootAsync()`. Durations are in seconds. */
export interface ClavisServerOptions {
  /** Issuer identifier (RFC 8414 §2): an `https` URL (or `http://localhost…` in development), no query or fragment. Required. */
  issuer: string;
  /**
   * Key-encryption key: 32 random bytes, base64url or hex. Encrypts server signing keys and
   * `client_secret_jwt` secrets at rest. Required. During a rotation, the current key first and
   * then previous keys (at most 8): an array, or one string with the keys separated by commas.
   * New values are encrypted with the current key; previous keys only decrypt, until
   * `KeyEncryptionService.reEncrypt()` has moved everything to the current key.
   * @see docs/adr/0013-key-encryption-key-rotation.md
   */
  keyEncryptionKey: string | readonly string[];
  /**
   * Path prefix of every Clavis route, e.g. `/oauth`. Default `''` (routes at the root). An issuer
   * with a path must equal it or lie above it (issuer `https://host/oauth`, prefix `/oauth`): the
   * metadata is then also served at the RFC 8414 §3.1 location `/.well-known/oauth-authorization-server/oauth`.
   */
  routePrefix?: string;
  /**
   * `{ print: true }`: on the very first start of the server (no client, no initial access token
   * yet) create one initial access token, valid 7 days, and print it once on stdout, so that a
   * developer can register a client straight away. Only with `registration: 'initial_access_token'`,
   * and only when serving HTTP (never in the CLI). Default: off.
   */
  firstRunInitialAccessToken?: { print: boolean };
  /** Lifetime of access tokens. Default 300. */
  accessTokenTtl?: number;
  /** Access-token signing algorithm of new server keys. Default `ES256`. */
  signingAlgorithm?: SigningAlgorithm;
  /**
   * Where the token endpoint's signature work runs (signing access tokens, verifying client
   * assertions): `threadpool` (jose/WebCrypto, off the main thread: best with a spare core),
   * `inline` (node:crypto on the main thread: best on one core), or `auto` (default: by
   * `os.availableParallelism()`, which honours CPU affinity).
   */
  cryptoMode?: 'auto' | 'inline' | 'threadpool';
  /** `aud` of access tokens when the request names no `resource`. Default: the issuer. */
  defaultAudience?: string;
  /** Every scope the server knows (metadata `scopes_supported`; registration must stay within it). Default `[]` (any scope). */
  scopes?: string[];
  /**
   * How long an assertion is usable after it was made: `now − iat` at most this (plus skew) when it
   * has `iat`, else `exp` at most this far ahead. Default 300.
   */
  assertionMaxLifetime?: number;
  /** Clock-skew tolerance applied to `exp`, `nbf` and `iat`. Default 30. */
  clockSkew?: number;
  /**
   * `strict` (default): an assertion's `aud` must be the issuer identifier, alone.
   * `legacy`: the token endpoint URL is accepted too (still as the sole value), for old clients.
   */
  assertionAudience?: 'strict' | 'legacy';
  /** Lifetime of a client secret; 0 = the secret never expires. Default 0. */
  clientSecretTtl?: number;
  /** How long the previous secret keeps working after a rotation; 0 = no overlap. Default 86400. */
  secretRotationOverlap?: number;
  /** Whether an RFC 7592 `PUT` on a secret-based client rotates its secret. Default true. */
  rotateSecretOnUpdate?: boolean;
  /** Who may register: an initial access token (default), anyone (`open`), or nobody over HTTP (`closed`). */
  registration?: RegistrationMode;
  /** Fetching of clients' `jwks_uri`. */
  jwksFetch?: {
    /** Request timeout. Default 5. */
    timeout?: number;
    /** Largest accepted response, in bytes. Default 65536. */
    maxBytes?: number;
    /** Host names (or IP literals) that may resolve to private or loopback addresses, e.g. `localhost` in development. Default `[]`. */
    allowedHosts?: string[];
    /** Minimum time between refetches triggered by an unknown `kid`. Default 10. */
    cooldown?: number;
    /** Bounds applied to the response's Cache-Control max-age. Defaults 60 and 86400; 300 when absent. */
    minCacheTtl?: number;
    maxCacheTtl?: number;
    /**
     * Longest time keys fetched from a `jwks_uri` stay trusted after the last successful fetch,
     * while the `jwks_uri` cannot be reached (also caps the Cache-Control max-age). Default 86400.
     */
    staleMax?: number;
  };
  /** Limits on request inputs. */
  limits?: {
    /** Largest request body, in bytes. Default 16384 for forms and 65536 for registration JSON. */
    formBytes?: number;
    jsonBytes?: number;
    /** Longest accepted client assertion, in characters. Default 8192. */
    assertionLength?: number;
    /** Most keys in a client's JWKS. Default 16. */
    jwksKeys?: number;
  };
  /**
   * Rate limits (fixed windows; shared through Redis when `redisUrl` is set). Over a limit the
   * answer is 429 with `Retry-After`.
   */
  rateLimit?: {
    /** Default true. Set false when something in front of Clavis already limits. */
    enabled?: boolean;
    /** Window length. Default 60. */
    window?: number;
    /** Requests to /token, /introspect and /revoke per source address per window. Default 1200. */
    tokenPerAddress?: number;
    /** Successfully authenticated /token requests per client per window. Default 600. */
    tokenPerClient?: number;
    /** Requests to /register (all methods) per source address per window. Default 60. */
    registerPerAddress?: number;
    /**
     * Failed client authentications (/token, /introspect, /revoke) per source address per window;
     * past it, that address gets 429 before its credentials are checked. Default 60.
     */
    authFailuresPerAddress?: number;
  };
  /** Redis connection URL for the replay store and the token deny list. Default: the database. */
  redisUrl?: string;
  /**
   * On PostgreSQL, the longest time (milliseconds) an instance may still authenticate a client as it
   * was before a change committed by another instance or process (deletion, secret rotation or
   * retirement, method change): the bound of the cross-instance client cache, which is invalidated by
   * PostgreSQL notifications within milliseconds and re-validated against the database at least this
   * often. 0 turns the cache off (every token request reads the client). Default 1000. SQLite ignores it
   * (its cache is exact).
   */
  clientCacheStaleness?: number;
  /** Audit sink; default: Nest Logger (`ClavisAudit`). */
  auditSink?: AuditSink;
  /** Clock; default: the system clock. Tests inject a fixed clock. */
  clock?: Clock;
  /** Signing-key rotation. */
  keyRotation?: {
    /** Rotate the active key every this many seconds; 0 = only on demand. Default 0 (on demand). */
    period?: number;
    /** How long a next key is published before it signs. Default 3600 (min: the JWKS cache time of resource servers). */
    announce?: number;
    /** Extra time a retired key stays published after the last token it signed expired. Default 300. */
    retainMargin?: number;
  };
}
