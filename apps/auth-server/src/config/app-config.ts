import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { Logger } from '@nestjs/common';
import {
  DEFAULT_REQUEST_TIMEOUT as CLAVIS_REQUEST_TIMEOUT,
  KeyEncryption,
  parseTrustProxy,
  TOKEN_ENDPOINT_AUTH_METHODS,
  type ClavisServerOptions,
  type TokenEndpointAuthMethod,
  type FederatedIssuerOption,
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
  /** LOG_FORMAT: `json` (one JSON object a line; the default with NODE_ENV=production) or `text`. */
  logFormat: 'json' | 'text';
  /** METRICS (default true): Clavis's metrics on the `/metrics` registry (false: only the process metrics). */
  metrics: boolean;
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

  /** Durations as whole seconds or with a unit: `90`, `30m`, `12h`, `14d`. */
  const durations = (name: string): number[] | undefined => {
    const items = list(name);
    if (!items) return undefined;
    const unit: Record<string, number> = { s: 1, m: 60, h: 3_600, d: 86_400 };
    const parsed = items.map((i) => /^(\d+)([smhd]?)$/.exec(i));
    if (parsed.some((m) => !m)) {
      problems.push(`${name} must be durations such as 14d,3d,1d (units s, m, h, d)`);
      return undefined;
    }
    return parsed.map((m) => Number(m![1]) * unit[m![2] || 's']);
  };
  const webhookUrl = env.WEBHOOK_URL || undefined;
  if (webhookUrl && !env.WEBHOOK_SECRET) problems.push('WEBHOOK_SECRET is required with WEBHOOK_URL (whsec_…)');

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

  const allowedAuthMethods = (
    env.ALLOWED_AUTH_METHODS !== undefined && env.ALLOWED_AUTH_METHODS !== ''
      ? env.ALLOWED_AUTH_METHODS.split(/[\s,]+/).filter(Boolean)
      : undefined
  ) as TokenEndpointAuthMethod[] | undefined;
  const unknownMethods = allowedAuthMethods?.filter((m) => !TOKEN_ENDPOINT_AUTH_METHODS.includes(m)) ?? [];
  if (allowedAuthMethods?.length === 0) problems.push('ALLOWED_AUTH_METHODS must name at least one method');
  if (unknownMethods.length)
    problems.push(
      `ALLOWED_AUTH_METHODS names unknown method(s) ${unknownMethods.join(', ')}: a comma-separated list of ${TOKEN_ENDPOINT_AUTH_METHODS.join(', ')}`,
    );
  // The operator console: on at CONSOLE_PATH (default /console) when an operator password is configured.
  const consolePassword = env.CONSOLE_PASSWORD || undefined;
  const consolePasswordHash = env.CONSOLE_PASSWORD_HASH || undefined;
  if (consolePassword && consolePasswordHash) problems.push('set CONSOLE_PASSWORD or CONSOLE_PASSWORD_HASH, not both');
  if (env.CONSOLE_PATH && !consolePassword && !consolePasswordHash)
    problems.push('CONSOLE_PATH needs CONSOLE_PASSWORD or CONSOLE_PASSWORD_HASH');
  const consoleOptions =
    consolePassword || consolePasswordHash
      ? {
          path: env.CONSOLE_PATH || '/console',
          ...(consolePasswordHash ? { passwordHash: consolePasswordHash } : { password: consolePassword }),
          sessionTtl: int('CONSOLE_SESSION_TTL'),
          idleTimeout: int('CONSOLE_IDLE_TIMEOUT'),
          loginAttemptsPerAddress: int('CONSOLE_LOGIN_ATTEMPTS_PER_ADDRESS'),
          loginWindow: int('CONSOLE_LOGIN_WINDOW'),
        }
      : undefined;

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
      allowedAuthMethods,
      federation: federatedIssuers(env.FEDERATED_ISSUERS, problems),
      jwksFetch: {
        allowedHosts: list('JWKS_ALLOWED_HOSTS'),
        timeout: int('JWKS_FETCH_TIMEOUT'),
        cooldown: int('JWKS_COOLDOWN'),
        staleMax: int('JWKS_STALE_MAX'),
      },
      console: consoleOptions,
      keyRotation: {
        period: int('KEY_ROTATION_PERIOD'),
        announce: int('KEY_ROTATION_ANNOUNCE'),
        retainMargin: int('KEY_RETAIN_MARGIN'),
      },
      usage: { flushInterval: int('USAGE_FLUSH_INTERVAL') },
      expiryNotices: {
        leadTimes: durations('EXPIRY_NOTICE_LEAD_TIMES'),
        sweepInterval: int('EXPIRY_NOTICE_SWEEP_INTERVAL'),
        // The secret goes to the module only: it is never logged nor part of an error message.
        webhook: webhookUrl ? { url: webhookUrl, secret: env.WEBHOOK_SECRET ?? '' } : undefined,
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
    metrics: bool('METRICS') ?? true,
    logFormat: env.LOG_FORMAT === 'text' || (!env.LOG_FORMAT && !production) ? 'text' : 'json',
  };
  if (env.LOG_FORMAT && env.LOG_FORMAT !== 'json' && env.LOG_FORMAT !== 'text')
    problems.push('LOG_FORMAT must be json or text');
  if (env.LOG_LEVEL && config.logLevels.length === 0)
    problems.push('LOG_LEVEL must be one of fatal, error, warn, log, debug, verbose');
  if (problems.length) throw new EnvironmentError(problems);
  return config;
}

const FEDERATED_MEMBERS: Record<string, string> = {
  issuer: 'issuer',
  jwks_uri: 'jwksUri',
  spiffe_bundle_endpoint: 'spiffeBundleEndpoint',
  trust_domain: 'trustDomain',
  max_lifetime: 'maxLifetime',
  replay: 'replay',
};

/**
 * `FEDERATED_ISSUERS`: inline JSON (it starts with `[`) or the path of a JSON file, a list of
 * `{ issuer, jwks_uri?, spiffe_bundle_endpoint?, trust_domain?, max_lifetime?, replay? }`; mapped to
 * the module option `federation.issuers`, which validates the entries (unknown members are passed on
 * unmapped, so that the module names them).
 */
function federatedIssuers(
  raw: string | undefined,
  problems: string[],
): { issuers: FederatedIssuerOption[] } | undefined {
  if (raw === undefined || raw.trim() === '') return undefined;
  let text = raw.trim();
  if (!text.startsWith('[')) {
    try {
      text = readFileSync(text, 'utf8');
    } catch (e) {
      problems.push(`FEDERATED_ISSUERS: not inline JSON, and the file cannot be read (${(e as Error).message})`);
      return undefined;
    }
  }
  let list: unknown;
  try {
    list = JSON.parse(text);
  } catch (e) {
    problems.push(`FEDERATED_ISSUERS is not valid JSON (${(e as Error).message})`);
    return undefined;
  }
  if (!Array.isArray(list)) {
    problems.push('FEDERATED_ISSUERS must be a JSON list of issuers');
    return undefined;
  }
  return {
    issuers: list.map((entry: unknown) =>
      typeof entry === 'object' && entry !== null && !Array.isArray(entry)
        ? Object.fromEntries(Object.entries(entry).map(([k, v]) => [FEDERATED_MEMBERS[k] ?? k, v]))
        : entry,
    ) as FederatedIssuerOption[],
  };
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
