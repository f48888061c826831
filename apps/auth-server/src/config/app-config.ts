import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { Logger } from '@nestjs/common';
import {
  DEFAULT_REQUEST_TIMEOUT as CLAVIS_REQUEST_TIMEOUT,
  KeyEncryption,
  parseTrustProxy,
  type ClavisServerOptions,
} from '@clavis/server';

/** Everything the demo server reads from the environment (see the README's table). */
export interface AppConfig {
  port: number;
  host?: string;
  /** TRUST_PROXY (`true`, a hop count, or addresses/CIDRs, validated here; see trust-proxy.ts): makes the rate limiter see the real client address. */
  trustProxy?: string;
  /** Seconds a client has to send a whole request (headers and body); slower ones get 408 and are cut off. */
  requestTimeout: number;
  /** MAX_CONNECTIONS_PER_ADDRESS: open connections one peer address may hold (default 100, 0 = no cap). */
  maxConnectionsPerAddress: number;
  production: boolean;
  issuer: string;
  routePrefix: string;
  database: { type: 'sqlite'; path: string } | { type: 'postgres'; url: string };
  redisUrl?: string;
  kek: { value: string; source: 'env' | 'file' | 'generated' };
  server: Omit<ClavisServerOptions, 'issuer' | 'keyEncryptionKey' | 'routePrefix' | 'redisUrl'>;
  resourceAudience: string;
  logLevels: ('log' | 'error' | 'warn' | 'debug' | 'verbose' | 'fatal')[];
}

/** REQUEST_TIMEOUT's default, in seconds: the one of @clavis/server's HTTP helpers. */
export const DEFAULT_REQUEST_TIMEOUT = CLAVIS_REQUEST_TIMEOUT;

/** Thrown when the environment is wrong; lists every problem. */
export class EnvironmentError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid environment:\n - ${problems.join('\n - ')}`);
    this.name = 'EnvironmentError';
  }
}

/**
 * Maps environment variables to the app's configuration, validating all of them at once.
 * In development (NODE_ENV ≠ production) a missing CLAVIS_KEK is generated once and kept in
 * `data/dev-kek`; production refuses to start without it.
 */
export function loadConfig(env: Record<string, string | undefined>): AppConfig {
  const problems: string[] = [];
  const production = env.NODE_ENV === 'production';
  const int = (name: string, fallback?: number): number | undefined => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    if (!/^\d+$/.test(raw)) {
      problems.push(`${name} must be a whole number`);
      return fallback;
    }
    return Number(raw);
  };
  const bool = (name: string): boolean | undefined => {
    const raw = env[name]?.toLowerCase();
    if (raw === undefined || raw === '') return undefined;
    if (['true', '1', 'yes', 'on'].includes(raw)) return true;
    if (['false', '0', 'no', 'off'].includes(raw)) return false;
    problems.push(`${name} must be true or false`);
    return undefined;
  };
  const list = (name: string): string[] | undefined =>
    env[name] ? env[name]!.split(/[\s,]+/).filter(Boolean) : undefined;
  const oneOf = <T extends string>(name: string, values: readonly T[]): T | undefined => {
    const raw = env[name];
    if (raw === undefined || raw === '') return undefined;
    if (!values.includes(raw as T)) problems.push(`${name} must be one of ${values.join(', ')}`);
    return raw as T;
  };

  const port = int('PORT', 3000)!;
  const requestTimeout = int('REQUEST_TIMEOUT', DEFAULT_REQUEST_TIMEOUT)!;
  if (requestTimeout < 1 || requestTimeout > 300) problems.push('REQUEST_TIMEOUT must be between 1 and 300 (seconds)');
  const issuer = env.ISSUER || `http://localhost:${port}`;
  try {
    parseTrustProxy(env.TRUST_PROXY);
  } catch (e) {
    problems.push((e as Error).message);
  }
  const dataDir = env.DATA_DIR || 'data';
  const database = env.DATABASE_URL
    ? ({ type: 'postgres', url: env.DATABASE_URL } as const)
    : ({ type: 'sqlite', path: env.SQLITE_PATH || `${dataDir}/clavis.sqlite` } as const);
  if (env.DATABASE_URL && !/^postgres(ql)?:\/\//.test(env.DATABASE_URL))
    problems.push('DATABASE_URL must be a postgres:// URL');

  let kek: AppConfig['kek'];
  if (env.CLAVIS_KEK) {
    kek = { value: env.CLAVIS_KEK, source: 'env' };
    try {
      new KeyEncryption(env.CLAVIS_KEK); // the current key, then previous keys, comma-separated
    } catch (e) {
      problems.push(
        `${(e as Error).message.replace(/^keyEncryptionKey/, 'CLAVIS_KEK')} (CLAVIS_KEK=<current key>[,<previous key>…])`,
      );
    }
  } else if (production) {
    problems.push(
      'CLAVIS_KEK is required when NODE_ENV=production (32 random bytes, base64url: openssl rand -base64 32 | tr "+/" "-_" | tr -d "=")',
    );
    kek = { value: '', source: 'env' };
  } else kek = developmentKek(`${dataDir}/dev-kek`);

  const config: AppConfig = {
    port,
    host: env.HOST || undefined,
    trustProxy: env.TRUST_PROXY || undefined,
    requestTimeout,
    maxConnectionsPerAddress: int('MAX_CONNECTIONS_PER_ADDRESS', 100)!,
    production,
    issuer,
    routePrefix: env.ROUTE_PREFIX ?? '',
    database,
    redisUrl: env.REDIS_URL || undefined,
    kek,
    server: {
      accessTokenTtl: int('ACCESS_TOKEN_TTL'),
      signingAlgorithm: oneOf('SIGNING_ALG', ['ES256', 'ES384', 'RS256', 'PS256', 'EdDSA'] as const),
      cryptoMode: oneOf('CRYPTO_MODE', ['auto', 'inline', 'threadpool'] as const),
      scopes: list('SCOPES') ?? ['statements:read', 'statements:write'],
      assertionMaxLifetime: int('ASSERTION_MAX_LIFETIME'),
      clockSkew: int('CLOCK_SKEW'),
      assertionAudience: oneOf('ASSERTION_AUDIENCE', ['strict', 'legacy'] as const),
      clientSecretTtl: int('CLIENT_SECRET_TTL'),
      secretRotationOverlap: int('SECRET_ROTATION_OVERLAP'),
      rotateSecretOnUpdate: bool('ROTATE_SECRET_ON_UPDATE'),
      clientCacheStaleness: int('CLIENT_CACHE_STALENESS_MS'),
      registration: oneOf('REGISTRATION_MODE', ['initial_access_token', 'open', 'closed'] as const),
      jwksFetch: {
        allowedHosts: list('JWKS_ALLOWED_HOSTS'),
        timeout: int('JWKS_FETCH_TIMEOUT'),
        cooldown: int('JWKS_COOLDOWN'),
        staleMax: int('JWKS_STALE_MAX'),
      },
      keyRotation: {
        period: int('KEY_ROTATION_PERIOD'),
        announce: int('KEY_ROTATION_ANNOUNCE'),
        retainMargin: int('KEY_RETAIN_MARGIN'),
      },
      rateLimit: {
        enabled: bool('RATE_LIMIT'),
        window: int('RATE_LIMIT_WINDOW'),
        tokenPerAddress: int('RATE_LIMIT_TOKEN_PER_ADDRESS'),
        tokenPerClient: int('RATE_LIMIT_TOKEN_PER_CLIENT'),
        registerPerAddress: int('RATE_LIMIT_REGISTER_PER_ADDRESS'),
        authFailuresPerAddress: int('RATE_LIMIT_AUTH_FAILURES_PER_ADDRESS'),
      },
    },
    resourceAudience: env.RESOURCE_AUDIENCE || issuer,
    logLevels: (env.LOG_LEVEL
      ? ['fatal', 'error', 'warn', 'log', 'debug', 'verbose'].slice(
          0,
          ['fatal', 'error', 'warn', 'log', 'debug', 'verbose'].indexOf(env.LOG_LEVEL) + 1,
        )
      : ['fatal', 'error', 'warn', 'log']) as AppConfig['logLevels'],
  };
  if (env.LOG_LEVEL && config.logLevels.length === 0)
    problems.push('LOG_LEVEL must be one of fatal, error, warn, log, debug, verbose');
  if (problems.length) throw new EnvironmentError(problems);
  return config;
}

/** Development only: a KEK generated on first start and kept beside the SQLite file. */
function developmentKek(path: string): AppConfig['kek'] {
  if (existsSync(path)) return { value: readFileSync(path, 'utf8').trim(), source: 'file' };
  mkdirSync(dirname(path), { recursive: true });
  const value = randomBytes(32).toString('base64url');
  writeFileSync(path, `${value}\n`, { mode: 0o600 });
  new Logger('ClavisConfig').warn(
    `CLAVIS_KEK is not set: generated a development key-encryption key in ${path}. Set CLAVIS_KEK (and NODE_ENV=production) for any real deployment.`,
  );
  return { value, source: 'generated' };
}
