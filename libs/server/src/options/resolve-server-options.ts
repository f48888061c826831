import { KeyEncryption } from '../shared/crypto.js';
import {
  hashConsolePassword,
  MIN_CONSOLE_PASSWORD_LENGTH,
  parseConsolePasswordHash,
  type ConsolePasswordHash,
} from '../console/console-password.js';
import type { ClavisServerOptions, RegistrationMode, SigningAlgorithm } from './clavis-server.options.js';
import type { ConsoleSettings, ServerSettings } from './server-settings.js';
import { SCOPE_TOKEN } from '../shared/scope.js';
import { TOKEN_ENDPOINT_AUTH_METHODS, type TokenEndpointAuthMethod } from '../clients/client.record.js';
import { resolveFederatedIssuers } from './federation-options.js';

export const DEFAULT_SERVER_OPTIONS = {
  routePrefix: '',
  accessTokenTtl: 300,
  signingAlgorithm: 'ES256',
  scopes: [] as string[],
  assertionMaxLifetime: 300,
  clockSkew: 30,
  assertionAudience: 'strict',
  clientSecretTtl: 0,
  secretRotationOverlap: 86_400,
  rotateSecretOnUpdate: true,
  clientCacheStaleness: 1_000,
  registration: 'initial_access_token',
  jwksFetch: {
    timeout: 5,
    maxBytes: 65_536,
    allowedHosts: [] as string[],
    cooldown: 10,
    minCacheTtl: 60,
    maxCacheTtl: 86_400,
    staleMax: 86_400,
  },
  limits: {
    formBytes: 16_384,
    jsonBytes: 65_536,
    assertionLength: 8_192,
    jwksKeys: 16,
  },
  keyRotation: { period: 0, announce: 3_600, retainMargin: 300 },
  console: { sessionTtl: 28_800, idleTimeout: 1_800, loginAttemptsPerAddress: 10, loginWindow: 900 },
  rateLimit: {
    enabled: true,
    window: 60,
    tokenPerAddress: 1_200,
    tokenPerClient: 600,
    registerPerAddress: 60,
    authFailuresPerAddress: 60,
  },
} as const satisfies Omit<ClavisServerOptions, 'issuer' | 'keyEncryptionKey' | 'console'> & {
  console: Omit<NonNullable<ClavisServerOptions['console']>, 'path'>;
};

const SIGNING_ALGORITHMS: readonly SigningAlgorithm[] = ['ES256', 'ES384', 'RS256', 'PS256', 'EdDSA'];
const REGISTRATION_MODES: readonly RegistrationMode[] = ['initial_access_token', 'open', 'closed'];

/** Thrown at boot when the options are wrong; lists every problem at once. */
export class ClavisConfigurationError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid Clavis server options:\n - ${problems.join('\n - ')}`);
    this.name = 'ClavisConfigurationError';
  }
}

/** Validates the options once, applies defaults, and returns frozen settings. */
export function resolveServerOptions(options: ClavisServerOptions): ServerSettings {
  const problems: string[] = [];
  const d = DEFAULT_SERVER_OPTIONS;

  let issuer = options?.issuer;
  if (typeof issuer !== 'string' || issuer === '') {
    problems.push('issuer is required');
    issuer = 'http://invalid';
  } else {
    try {
      const url = new URL(issuer);
      const local = url.hostname === 'localhost' || url.hostname === '127.0.0.1' || url.hostname === '[::1]';
      if (url.protocol !== 'https:' && !(url.protocol === 'http:' && local))
        problems.push('issuer must be an https URL (http only for localhost)');
      if (url.search || url.hash) problems.push('issuer must not have a query or fragment');
      issuer = issuer.replace(/\/+$/, '');
    } catch {
      problems.push('issuer must be a URL');
    }
  }

  // Parsed here, once: the module provides this instance to every service that encrypts.
  let keyEncryption: KeyEncryption | undefined;
  const kek = options?.keyEncryptionKey;
  if (typeof kek !== 'string' && !Array.isArray(kek)) problems.push('keyEncryptionKey is required');
  else {
    try {
      keyEncryption = new KeyEncryption(kek);
    } catch (e) {
      problems.push((e as Error).message);
    }
  }

  const routePrefix = normalisePrefix(options?.routePrefix ?? d.routePrefix);
  if (routePrefix !== '' && !/^(\/[A-Za-z0-9._~-]+)+$/.test(routePrefix))
    problems.push('routePrefix must look like /segment[/segment…]');
  // The issuer and the routes must describe one server: an issuer with a path names where the
  // endpoints live, so the route prefix must be that path or lie under it (docs/adr/0018).
  const issuerPath = issuerPathOf(issuer);
  if (issuerPath !== '' && routePrefix !== issuerPath && !routePrefix.startsWith(`${issuerPath}/`))
    problems.push(
      `routePrefix must be the issuer's path (${issuerPath}) or lie under it, so that the issuer describes this server; it is ${routePrefix === '' ? "'' (the root)" : routePrefix}`,
    );
  if (issuerPath !== '' && !/^(\/[A-Za-z0-9._~-]+)+$/.test(issuerPath))
    problems.push("the issuer's path must look like /segment[/segment…]");

  const boundedInteger = (
    name: string,
    value: number | undefined,
    fallback: number,
    min: number,
    max: number,
  ): number => {
    const v = value ?? fallback;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max)
      problems.push(`${name} must be a whole number from ${min} to ${max}`);
    return v;
  };
  const accessTokenTtl = boundedInteger('accessTokenTtl', options?.accessTokenTtl, d.accessTokenTtl, 10, 86_400);
  const assertionMaxLifetime = boundedInteger(
    'assertionMaxLifetime',
    options?.assertionMaxLifetime,
    d.assertionMaxLifetime,
    10,
    3_600,
  );
  const clockSkew = boundedInteger('clockSkew', options?.clockSkew, d.clockSkew, 0, 300);
  const clientSecretTtl = boundedInteger(
    'clientSecretTtl',
    options?.clientSecretTtl,
    d.clientSecretTtl,
    0,
    10 * 365 * 86_400,
  );
  const secretRotationOverlap = boundedInteger(
    'secretRotationOverlap',
    options?.secretRotationOverlap,
    d.secretRotationOverlap,
    0,
    90 * 86_400,
  );

  const allowedAuthMethods = options?.allowedAuthMethods ?? [...TOKEN_ENDPOINT_AUTH_METHODS];
  if (!Array.isArray(allowedAuthMethods) || allowedAuthMethods.length === 0)
    problems.push(`allowedAuthMethods must be a non-empty list of ${TOKEN_ENDPOINT_AUTH_METHODS.join(', ')}`);
  else {
    const unknown = allowedAuthMethods.filter((m) => !TOKEN_ENDPOINT_AUTH_METHODS.includes(m));
    if (unknown.length)
      problems.push(
        `allowedAuthMethods: unknown method ${unknown.map((m) => JSON.stringify(String(m))).join(', ')}; known: ${TOKEN_ENDPOINT_AUTH_METHODS.join(', ')}`,
      );
  }
  const clientCacheStaleness = boundedInteger(
    'clientCacheStaleness',
    options?.clientCacheStaleness,
    d.clientCacheStaleness,
    0,
    60_000,
  );

  const signingAlgorithm = options?.signingAlgorithm ?? d.signingAlgorithm;
  if (!SIGNING_ALGORITHMS.includes(signingAlgorithm))
    problems.push(`signingAlgorithm must be one of ${SIGNING_ALGORITHMS.join(', ')}`);
  const cryptoMode = options?.cryptoMode ?? 'auto';
  if (!['auto', 'inline', 'threadpool'].includes(cryptoMode))
    problems.push('cryptoMode must be auto, inline or threadpool');
  const registration = options?.registration ?? d.registration;
  if (!REGISTRATION_MODES.includes(registration))
    problems.push(`registration must be one of ${REGISTRATION_MODES.join(', ')}`);
  const assertionAudience = options?.assertionAudience ?? d.assertionAudience;
  if (assertionAudience !== 'strict' && assertionAudience !== 'legacy')
    problems.push('assertionAudience must be strict or legacy');

  const scopes = options?.scopes ?? d.scopes;
  if (!Array.isArray(scopes) || scopes.some((s) => typeof s !== 'string' || !SCOPE_TOKEN.test(s)))
    problems.push('scopes must be a list of RFC 6749 scope tokens');

  const jf = { ...d.jwksFetch, ...options?.jwksFetch };
  const jwksFetch = {
    timeout: boundedInteger('jwksFetch.timeout', jf.timeout, d.jwksFetch.timeout, 1, 60),
    maxBytes: boundedInteger('jwksFetch.maxBytes', jf.maxBytes, d.jwksFetch.maxBytes, 1_024, 1_048_576),
    allowedHosts: Object.freeze([...(jf.allowedHosts ?? [])].map((h) => h.toLowerCase())),
    cooldown: boundedInteger('jwksFetch.cooldown', jf.cooldown, d.jwksFetch.cooldown, 0, 3_600),
    minCacheTtl: boundedInteger('jwksFetch.minCacheTtl', jf.minCacheTtl, d.jwksFetch.minCacheTtl, 0, 86_400),
    maxCacheTtl: boundedInteger('jwksFetch.maxCacheTtl', jf.maxCacheTtl, d.jwksFetch.maxCacheTtl, 0, 7 * 86_400),
    staleMax: boundedInteger('jwksFetch.staleMax', jf.staleMax, d.jwksFetch.staleMax, 60, 30 * 86_400),
  };
  const federation = Object.freeze({ issuers: resolveFederatedIssuers(options?.federation?.issuers, problems) });
  const lm = { ...d.limits, ...options?.limits };
  const limits = {
    formBytes: boundedInteger('limits.formBytes', lm.formBytes, d.limits.formBytes, 1_024, 1_048_576),
    jsonBytes: boundedInteger('limits.jsonBytes', lm.jsonBytes, d.limits.jsonBytes, 1_024, 4_194_304),
    assertionLength: boundedInteger(
      'limits.assertionLength',
      lm.assertionLength,
      d.limits.assertionLength,
      256,
      65_536,
    ),
    jwksKeys: boundedInteger('limits.jwksKeys', lm.jwksKeys, d.limits.jwksKeys, 1, 100),
  };
  const kr = { ...d.keyRotation, ...options?.keyRotation };
  const keyRotation = {
    period: boundedInteger('keyRotation.period', kr.period, d.keyRotation.period, 0, 365 * 86_400),
    announce: boundedInteger('keyRotation.announce', kr.announce, d.keyRotation.announce, 0, 30 * 86_400),
    retainMargin: boundedInteger(
      'keyRotation.retainMargin',
      kr.retainMargin,
      d.keyRotation.retainMargin,
      0,
      30 * 86_400,
    ),
  };
  if (keyRotation.period !== 0 && keyRotation.period <= keyRotation.announce)
    problems.push('keyRotation.period must be longer than keyRotation.announce');

  const rl = { ...d.rateLimit, ...options?.rateLimit };
  const rateLimit = {
    enabled: rl.enabled !== false,
    window: boundedInteger('rateLimit.window', rl.window, d.rateLimit.window, 1, 86_400),
    tokenPerAddress: boundedInteger(
      'rateLimit.tokenPerAddress',
      rl.tokenPerAddress,
      d.rateLimit.tokenPerAddress,
      1,
      100_000_000,
    ),
    tokenPerClient: boundedInteger(
      'rateLimit.tokenPerClient',
      rl.tokenPerClient,
      d.rateLimit.tokenPerClient,
      1,
      100_000_000,
    ),
    registerPerAddress: boundedInteger(
      'rateLimit.registerPerAddress',
      rl.registerPerAddress,
      d.rateLimit.registerPerAddress,
      1,
      100_000_000,
    ),
    authFailuresPerAddress: boundedInteger(
      'rateLimit.authFailuresPerAddress',
      rl.authFailuresPerAddress,
      d.rateLimit.authFailuresPerAddress,
      1,
      100_000_000,
    ),
  };

  let consoleSettings: ConsoleSettings | null = null;
  const co = options?.console;
  if (co !== undefined && co !== null) {
    const path = normalisePrefix(co.path ?? '');
    if (path === '' || !/^(\/[A-Za-z0-9._~-]+)+$/.test(path))
      problems.push('console.path must look like /segment[/segment…]');
    let passwordHash: ConsolePasswordHash | undefined;
    if ((co.password === undefined) === (co.passwordHash === undefined))
      problems.push('console needs exactly one of password and passwordHash');
    else if (co.password !== undefined) {
      if (typeof co.password !== 'string' || [...co.password].length < MIN_CONSOLE_PASSWORD_LENGTH)
        problems.push(`console.password must have at least ${MIN_CONSOLE_PASSWORD_LENGTH} characters`);
      else passwordHash = parseConsolePasswordHash(hashConsolePassword(co.password));
    } else {
      try {
        passwordHash = parseConsolePasswordHash(co.passwordHash!);
      } catch (e) {
        problems.push((e as Error).message);
      }
    }
    const dc = d.console;
    const settings = {
      path,
      sessionTtl: boundedInteger('console.sessionTtl', co.sessionTtl, dc.sessionTtl, 60, 7 * 86_400),
      idleTimeout: boundedInteger('console.idleTimeout', co.idleTimeout, dc.idleTimeout, 60, 7 * 86_400),
      loginAttemptsPerAddress: boundedInteger(
        'console.loginAttemptsPerAddress',
        co.loginAttemptsPerAddress,
        dc.loginAttemptsPerAddress,
        1,
        10_000,
      ),
      loginWindow: boundedInteger('console.loginWindow', co.loginWindow, dc.loginWindow, 1, 86_400),
    };
    if (passwordHash) consoleSettings = Object.freeze({ ...settings, passwordHash: Object.freeze(passwordHash) });
  }
  const usage = {
    flushInterval: boundedInteger('usage.flushInterval', options?.usage?.flushInterval, 60, 1, 3_600),
  };
  const en = options?.expiryNotices ?? {};
  const leadTimes = en.leadTimes ?? [14 * 86_400, 3 * 86_400, 86_400];
  if (!Array.isArray(leadTimes) || leadTimes.some((l) => !Number.isInteger(l) || l < 60 || l > 365 * 86_400))
    problems.push('expiryNotices.leadTimes must be whole numbers of seconds from 60 to 31536000');
  let webhook: { url: string; key: Buffer } | undefined;
  if (en.webhook !== undefined) {
    const { url, secret } = en.webhook;
    if (typeof url !== 'string' || !/^https?:\/\//.test(url) || !URL.canParse(url))
      problems.push('expiryNotices.webhook.url must be an http(s) URL');
    const key =
      typeof secret === 'string' && /^whsec_[A-Za-z0-9+/]+={0,2}$/.test(secret)
        ? Buffer.from(secret.slice(6), 'base64')
        : undefined;
    if (!key || key.length < 24 || key.length > 64)
      problems.push('expiryNotices.webhook.secret must be whsec_ followed by base64 of 24 to 64 random bytes');
    else webhook = { url, key };
  }
  const expiryNotices = {
    leadTimes: Object.freeze([...new Set(Array.isArray(leadTimes) ? leadTimes : [])].sort((a, b) => b - a)),
    sweepInterval: boundedInteger('expiryNotices.sweepInterval', en.sweepInterval, 60, 1, 3_600),
    webhook: webhook && Object.freeze(webhook),
  };

  if (options?.redisUrl !== undefined && !/^rediss?:\/\//.test(options.redisUrl))
    problems.push('redisUrl must be a redis:// or rediss:// URL');

  if (problems.length) throw new ClavisConfigurationError(problems);

  return Object.freeze({
    issuer,
    keyEncryption: keyEncryption!,
    routePrefix,
    issuerPath,
    firstRunInitialAccessToken: options.firstRunInitialAccessToken?.print === true,
    endpointBase: `${new URL(issuer).origin}${routePrefix}`,
    tokenEndpoint: `${new URL(issuer).origin}${routePrefix}/token`,
    accessTokenTtl,
    signingAlgorithm,
    cryptoMode,
    defaultAudience: options.defaultAudience ?? issuer,
    scopes: Object.freeze([...scopes]),
    assertionMaxLifetime,
    clockSkew,
    assertionAudience,
    clientSecretTtl,
    secretRotationOverlap,
    rotateSecretOnUpdate: options.rotateSecretOnUpdate ?? d.rotateSecretOnUpdate,
    registration,
    // In the order of the known methods, whatever order they were given in.
    allowedAuthMethods: Object.freeze(
      TOKEN_ENDPOINT_AUTH_METHODS.filter((m) => (allowedAuthMethods as TokenEndpointAuthMethod[]).includes(m)),
    ),
    federation,
    jwksFetch: Object.freeze(jwksFetch),
    limits: Object.freeze(limits),
    rateLimit: Object.freeze(rateLimit),
    redisUrl: options.redisUrl,
    clientCacheStaleness,
    auditSink: options.auditSink,
    clock: options.clock,
    metrics: options.metrics,
    keyRotation: Object.freeze(keyRotation),
    console: consoleSettings,
    usage: Object.freeze(usage),
    expiryNotices: Object.freeze(expiryNotices),
  });
}

/** The path of a (syntactically valid) issuer, without a trailing slash; '' for none. */
function issuerPathOf(issuer: string): string {
  try {
    return new URL(issuer).pathname.replace(/\/+$/, '');
  } catch {
    return '';
  }
}

function normalisePrefix(prefix: string): string {
  if (typeof prefix !== 'string') return '!';
  const p = prefix.trim().replace(/\/+$/, '');
  return p === '' ? '' : p.startsWith('/') ? p : `/${p}`;
}
