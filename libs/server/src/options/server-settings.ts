import type { AuditSink } from '../audit/audit.sink.js';
import type { Clock } from '../shared/clock.js';
import type { ClavisServerOptions, RegistrationMode, SigningAlgorithm } from './clavis-server.options.js';

/** DI token of the resolved, frozen settings. */
export const SERVER_SETTINGS = 'CLAVIS_SERVER_SETTINGS';

/** The options after validation and defaults. */
export interface ServerSettings {
  readonly issuer: string;
  /** Key-encryption keys, current first (validated; never logged). */
  readonly keyEncryptionKeys: readonly string[];
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
  readonly keyRotation: { readonly period: number; readonly announce: number; readonly retainMargin: number };
}
