import { parseKeks } from '../shared/crypto.js';
import type { ClavisServerOptions, RegistrationMode, SigningAlgorithm } from './clavis-server.options.js';
import type { ServerSettings } from './server-settings.js';
import { SCOPE_TOKEN } from '../shared/scope.js';

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
  rateLimit: {
    enabled: true,
    window: 60,
    tokenPerAddress: 1_200,
    tokenPerClient: 600,
    registerPerAddress: 60,
    authFailuresPerAddress: 60,
  },
} as const satisfies Omit<ClavisServerOptions, 'issuer' | 'keyEncryptionKey'>;

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

  let keyEncryptionKeys: readonly string[] = [];
  const kek = options?.keyEncryptionKey;
  if (typeof kek !== 'string' && !Array.isArray(kek)) problems.push('keyEncryptionKey is required');
  else {
    try {
      parseKeks(kek);
      keyEncryptionKeys = Object.freeze((typeof kek === 'string' ? kek.split(',') : [...kek]).map((k) => k.trim()));
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

  if (options?.redisUrl !== undefined && !/^rediss?:\/\//.test(options.redisUrl))
    problems.push('redisUrl must be a redis:// or rediss:// URL');

  if (problems.length) throw new ClavisConfigurationError(problems);

  return Object.freeze({
    issuer,
    keyEncryptionKeys,
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
    jwksFetch: Object.freeze(jwksFetch),
    limits: Object.freeze(limits),
    rateLimit: Object.freeze(rateLimit),
    redisUrl: options.redisUrl,
    clientCacheStaleness,
    auditSink: options.auditSink,
    clock: options.clock,
    keyRotation: Object.freeze(keyRotation),
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
