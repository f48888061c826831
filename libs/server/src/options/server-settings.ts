import type { FederatedIssuer } from './federation-options.js';
import type { AuditSink } from '../audit/audit.sink.js';
import type { Clock } from '../shared/clock.js';
import type { KeyEncryption } from '../shared/crypto.js';
import type { ConsolePasswordHash } from '../console/console-password.js';
import type { ClavisMetricsOptions } from '../observability/clavis-metrics.js';
import type { ClavisServerOptions, RegistrationMode, SigningAlgorithm } from './clavis-server.options.js';
import type { TokenEndpointAuthMethod } from '../clients/client.record.js';

/** DI token of the resolved, frozen settings. */
export const SERVER_SETTINGS = 'CLAVIS_SERVER_SETTINGS';

/** The options after validation and defaults. */
export interface ServerSettings {
  readonly issuer: string;
  /** The key-encryption keys, parsed once (current first; never logged): the module's one `KeyEncryption`. */
  readonly keyEncryption: KeyEncryption;
  readonly routePrefix: string;
  /** The issuer's path (`''` or `/segment…`): where RFC 8414 §3.1 puts the metadata, after `/.well-known/oauth-authorization-server`. */
  readonly issuerPath: string;
  /** Whether the first start prints an initial access token. */
  readonly firstRunInitialAccessToken: boolean;
  /** Origin of the issuer + routePrefix: the base of every endpoint URL. */
  readonly endpointBase: string;
  readonly tokenEndpoint: string;
  readonly accessTokenTtl: number;
  readonly signingAlgorithm: SigningAlgorithm;
  readonly cryptoMode: 'auto' | 'inline' | 'threadpool';
  readonly defaultAudience: string;
  readonly scopes: readonly string[];
  readonly assertionMaxLifetime: number;
  readonly clockSkew: number;
  readonly assertionAudience: 'strict' | 'legacy';
  readonly clientSecretTtl: number;
  readonly secretRotationOverlap: number;
  readonly rotateSecretOnUpdate: boolean;
  readonly registration: RegistrationMode;
  /** Methods a client may choose (registration, change of method); the supported ones in metadata. */
  readonly allowedAuthMethods: readonly TokenEndpointAuthMethod[];
  /** Operator-trusted issuers of `federated_jwt` clients (docs/adr/0022). */
  readonly federation: { readonly issuers: readonly FederatedIssuer[] };
  readonly jwksFetch: {
    readonly timeout: number;
    readonly maxBytes: number;
    readonly allowedHosts: readonly string[];
    readonly cooldown: number;
    readonly minCacheTtl: number;
    readonly maxCacheTtl: number;
    readonly staleMax: number;
  };
  readonly limits: {
    readonly formBytes: number;
    readonly jsonBytes: number;
    readonly assertionLength: number;
    readonly jwksKeys: number;
  };
  readonly rateLimit: {
    readonly enabled: boolean;
    readonly window: number;
    readonly tokenPerAddress: number;
    readonly tokenPerClient: number;
    readonly registerPerAddress: number;
    readonly authFailuresPerAddress: number;
  };
  readonly redisUrl?: string;
  /** Milliseconds: the staleness bound of the PostgreSQL client cache; 0 = no cache there. */
  readonly clientCacheStaleness: number;
  readonly auditSink?: AuditSink;
  readonly clock?: Clock;
  /** The operator console; null when off. */
  readonly console: ConsoleSettings | null;
  readonly metrics?: ClavisMetricsOptions;
  readonly keyRotation: { readonly period: number; readonly announce: number; readonly retainMargin: number };
  readonly usage: { readonly flushInterval: number };
  readonly expiryNotices: {
    /** Seconds, largest first. */
    readonly leadTimes: readonly number[];
    readonly sweepInterval: number;
    /** The webhook, its secret decoded (never logged). */
    readonly webhook?: { readonly url: string; readonly key: Buffer };
  };
}

/** The console's resolved settings: the password only as its scrypt hash. */
export interface ConsoleSettings {
  /** `/segment[/segment…]`, from the root of the origin. */
  readonly path: string;
  readonly passwordHash: ConsolePasswordHash;
  readonly sessionTtl: number;
  readonly idleTimeout: number;
  readonly loginAttemptsPerAddress: number;
  readonly loginWindow: number;
}
