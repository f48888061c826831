import { importJWK, type JSONWebKeySet, type JWK } from 'jose';
import { OAuthError } from '../errors/oauth-error.js';
import type { ServerSettings } from '../options/server-settings.js';
import { isAsymmetricAlg, isHmacAlg, jwkFitsAlg } from '../shared/jose-algorithms.js';
import {
  TOKEN_ENDPOINT_AUTH_METHODS,
  type FederatedCredential,
  type TokenEndpointAuthMethod,
} from './client.record.js';
import { validateFederatedCredentials } from './federated-credentials.js';
import { SCOPE_TOKEN } from '../shared/scope.js';

/** Client metadata as the service takes it (camelCase; every field optional, defaults applied). */
export interface ClientMetadata {
  clientName?: string | null;
  tokenEndpointAuthMethod?: TokenEndpointAuthMethod;
  tokenEndpointAuthSigningAlg?: string | null;
  grantTypes?: string[];
  scope?: string | null;
  resources?: string[];
  jwks?: JSONWebKeySet | null;
  jwksUri?: string | null;
  /** `federated_jwt` only: the platform identities (issuer + subject) the client authenticates as. */
  federatedCredentials?: FederatedCredential[] | null;
  contacts?: string[];
  clientUri?: string | null;
  softwareId?: string | null;
  softwareVersion?: string | null;
}

/** Metadata after validation, every field present. */
export type ValidClientMetadata = {
  [K in keyof ClientMetadata]-?: Exclude<ClientMetadata[K], undefined>;
} & {
  tokenEndpointAuthMethod: TokenEndpointAuthMethod;
  grantTypes: string[];
  scope: string;
  resources: string[];
  federatedCredentials: FederatedCredential[];
  contacts: string[];
};

const MIN_RSA_BITS = 2_048;
const MAX_RSA_BITS = 4_096;
/** C0/C1 controls, DEL, format characters (bidi overrides, zero-width) and any whitespace. */
const URI_FORBIDDEN = /[\s\p{Cc}\p{Cf}]/u;
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];

/** The settings client metadata is checked against. */
export type ClientMetadataSettings = Pick<ServerSettings, 'scopes' | 'limits' | 'jwksFetch' | 'federation'>;

/**
 * Validates client metadata against the server's settings and applies defaults.
 * @throws OAuthError `invalid_client_metadata` naming the first problem.
 * @see RFC 7591 §2
 */
export async function validateClientMetadata(
  input: ClientMetadata,
  settings: ClientMetadataSettings,
): Promise<ValidClientMetadata> {
  const bad = (description: string) => OAuthError.invalidMetadata(description);
  // PostgreSQL cannot store a NUL character in a text column (the insert fails: a 500); no metadata needs one.
  const texts: [string, unknown][] = [
    ['client_name', input.clientName],
    ['software_id', input.softwareId],
    ['software_version', input.softwareVersion],
    ['client_uri', input.clientUri],
    ['jwks_uri', input.jwksUri],
    ['contacts', input.contacts],
    ['resources', input.resources],
  ];
  for (const [name, value] of texts)
    if ((Array.isArray(value) ? value : [value]).some((v) => typeof v === 'string' && v.includes('\u0000')))
      throw bad(`${name} must not contain NUL characters`);
  // URI members end up in log lines and in other parties' requests: no control characters, no whitespace (ADR 0012).
  const uris: [string, unknown][] = [
    ['client_uri', input.clientUri],
    ['jwks_uri', input.jwksUri],
    ['resources', input.resources],
  ];
  for (const [name, value] of uris)
    if ((Array.isArray(value) ? value : [value]).some((v) => typeof v === 'string' && URI_FORBIDDEN.test(v)))
      throw bad(`${name} must not contain control characters or whitespace`);
  const method = input.tokenEndpointAuthMethod ?? 'client_secret_basic';
  if (!TOKEN_ENDPOINT_AUTH_METHODS.includes(method))
    throw bad(`token_endpoint_auth_method must be one of ${TOKEN_ENDPOINT_AUTH_METHODS.join(', ')}`);

  const grantTypes = input.grantTypes ?? ['client_credentials'];
  if (grantTypes.length === 0 || grantTypes.some((g) => g !== 'client_credentials'))
    throw bad('grant_types may only contain client_credentials');

  const scope = normaliseScope(input.scope ?? '');
  if (scope === null) throw bad('scope must be a space-separated list of scope tokens');
  if (settings.scopes.length) {
    const unknown = scope.split(' ').filter((s) => s && !settings.scopes.includes(s));
    if (unknown.length) throw bad(`scope contains values this server does not offer: ${unknown.join(' ')}`);
  }

  const resources = input.resources ?? [];
  for (const r of resources)
    if (!isAbsoluteUriWithoutFragment(r)) throw bad('resources must be absolute URIs without a fragment');

  const alg = input.tokenEndpointAuthSigningAlg ?? null;
  if (alg !== null) {
    if (method === 'private_key_jwt' && !isAsymmetricAlg(alg))
      throw bad('token_endpoint_auth_signing_alg must be an asymmetric algorithm for private_key_jwt');
    else if (method === 'client_secret_jwt' && !isHmacAlg(alg))
      throw bad('token_endpoint_auth_signing_alg must be HS256, HS384 or HS512 for client_secret_jwt');
    else if (method !== 'private_key_jwt' && method !== 'client_secret_jwt')
      throw bad('token_endpoint_auth_signing_alg applies only to client_secret_jwt and private_key_jwt');
  }

  const jwks = input.jwks ?? null;
  const jwksUri = input.jwksUri ?? null;
  if (method === 'private_key_jwt') {
    if (jwks && jwksUri) throw bad('jwks and jwks_uri are mutually exclusive');
    if (!jwks && !jwksUri) throw bad('private_key_jwt requires jwks or jwks_uri');
  } else if (jwks || jwksUri) throw bad('jwks and jwks_uri apply only to private_key_jwt');
  if (jwks) await validateJwks(jwks, alg, settings.limits.jwksKeys);
  if (jwksUri !== null && !isHttpsUrl(jwksUri, settings)) throw bad('jwks_uri must be an https URL');
  const federatedCredentials = validateFederatedCredentials(input.federatedCredentials, method, settings);

  const contacts = input.contacts ?? [];
  if (!Array.isArray(contacts) || contacts.some((c) => typeof c !== 'string' || c.length > 320))
    throw bad('contacts must be a list of strings');
  const clientUri = input.clientUri ?? null;
  if (clientUri !== null && !isHttpUrl(clientUri)) throw bad('client_uri must be an http(s) URL');

  return {
    clientName: input.clientName ?? null,
    tokenEndpointAuthMethod: method,
    tokenEndpointAuthSigningAlg: alg,
    grantTypes: [...new Set(grantTypes)],
    scope,
    resources: [...new Set(resources)],
    jwks,
    jwksUri: jwksUri === null ? null : new URL(jwksUri).href,
    federatedCredentials,
    contacts,
    clientUri: clientUri === null ? null : new URL(clientUri).href,
    softwareId: input.softwareId ?? null,
    softwareVersion: input.softwareVersion ?? null,
  };
}

/**
 * Checks a client JWKS: an object with a `keys` array of public, well-formed signing keys
 * (RSA 2048–4096 bits with exponent 65537, EC P-256/384/521, OKP Ed25519/Ed448), no private members, no symmetric keys,
 * unique `kid`s, `use` = `sig` when present, and every key fit for the registered algorithm.
 */
export async function validateJwks(jwks: unknown, alg: string | null, maxKeys: number): Promise<void> {
  const bad = (description: string) => OAuthError.invalidMetadata(description);
  if (!isPlainObject(jwks) || !Array.isArray((jwks as { keys?: unknown }).keys))
    throw bad('jwks must be a JWK Set: an object with a keys array');
  const keys = (jwks as { keys: unknown[] }).keys;
  if (keys.length === 0) throw bad('jwks must contain at least one key');
  if (keys.length > maxKeys) throw bad(`jwks may contain at most ${maxKeys} keys`);
  const kids = new Set<string>();
  for (const [index, key] of keys.entries()) {
    if (!isPlainObject(key)) throw bad('every jwks key must be a JSON object');
    const jwk = key as JWK;
    if (PRIVATE_MEMBERS.some((m) => m in jwk))
      throw bad('jwks must contain public keys only (private key members found)');
    if (jwk.kty !== 'RSA' && jwk.kty !== 'EC' && jwk.kty !== 'OKP')
      throw bad('jwks keys must be RSA, EC or OKP public keys');
    if (jwk.use !== undefined && jwk.use !== 'sig') throw bad('jwks keys must be signing keys (use "sig")');
    // The verifier (jose) skips a key whose key_ops lack "verify" or whose ext is not a boolean: it could never authenticate.
    const ops = jwk.key_ops as unknown;
    if (
      ops !== undefined &&
      (!Array.isArray(ops) ||
        !ops.includes('verify') ||
        ops.some((o) => typeof o !== 'string') ||
        new Set(ops).size !== ops.length)
    )
      throw bad('key_ops must be a list that includes "verify"');
    if (jwk.ext !== undefined && typeof jwk.ext !== 'boolean') throw bad('ext must be a boolean');
    if (jwk.kid !== undefined) {
      if (typeof jwk.kid !== 'string' || jwk.kid === '') throw bad('kid must be a non-empty string');
      if (kids.has(jwk.kid)) throw bad('kid values in jwks must be unique');
      kids.add(jwk.kid);
    }
    const keyAlg = jwk.alg ?? alg ?? defaultAlgFor(jwk);
    if (!keyAlg || !isAsymmetricAlg(keyAlg) || !jwkFitsAlg(jwk, keyAlg))
      throw bad('a jwks key does not fit its algorithm');
    if (alg && jwk.alg && jwk.alg !== alg)
      throw bad('a jwks key names an algorithm other than token_endpoint_auth_signing_alg');
    if (alg && !jwkFitsAlg(jwk, alg)) throw bad('a jwks key cannot be used with token_endpoint_auth_signing_alg');
    // Node's JWK import skips characters outside the alphabet and accepts any exponent: check first.
    for (const m of jwk.kty === 'RSA' ? ['n', 'e'] : jwk.kty === 'EC' ? ['x', 'y'] : ['x']) {
      const v = (jwk as Record<string, unknown>)[m];
      if (typeof v !== 'string' || !/^[A-Za-z0-9_-]+$/.test(v) || v.length % 4 === 1)
        throw bad(`a jwks key member ${m} is not base64url`);
    }
    // RSA 2048–4096 bits, exponent 65537 only: a larger key or exponent costs far more per verification (docs/adr/0011-one-key-per-assertion.md).
    if (jwk.kty === 'RSA') {
      const name = `jwks key ${index}${typeof jwk.kid === 'string' ? ` (kid ${JSON.stringify(jwk.kid.slice(0, 64))})` : ''}`;
      const e = Buffer.from(jwk.e!, 'base64url');
      if (e.length > 8 || BigInt(`0x${e.toString('hex') || '0'}`) !== 65_537n)
        throw bad(`${name}: the RSA public exponent must be 65537`);
      const modulus = Buffer.from(jwk.n!, 'base64url');
      if (modulus[0] === 0) throw bad(`${name}: the RSA modulus must not have leading zero octets (RFC 7518 §6.3.1.1)`);
      const bits = rsaModulusBits(modulus);
      if (bits < MIN_RSA_BITS || bits > MAX_RSA_BITS)
        throw bad(
          `${name}: RSA keys must have a modulus of ${MIN_RSA_BITS} to ${MAX_RSA_BITS} bits (this one has ${bits})`,
        );
    }
    try {
      await importJWK({ ...jwk, ext: true }, keyAlg);
    } catch {
      throw bad('a jwks key is malformed');
    }
  }
}

/** Bit length of an unsigned big-endian integer (leading zero bytes do not count). */
function rsaModulusBits(n: Buffer): number {
  let i = 0;
  while (i < n.length && n[i] === 0) i++;
  return i === n.length ? 0 : (n.length - i - 1) * 8 + n[i].toString(2).length;
}

function defaultAlgFor(jwk: JWK): string | undefined {
  if (jwk.kty === 'RSA') return 'RS256';
  if (jwk.kty === 'EC')
    return ({ 'P-256': 'ES256', 'P-384': 'ES384', 'P-521': 'ES512' } as Record<string, string>)[jwk.crv ?? ''];
  if (jwk.kty === 'OKP') return 'EdDSA';
  return undefined;
}

/** Space-separated scope tokens, deduplicated, in order; null when malformed. */
export function normaliseScope(scope: string): string | null {
  if (typeof scope !== 'string') return null;
  const tokens = scope.split(' ').filter((s) => s !== '');
  if (tokens.some((t) => !SCOPE_TOKEN.test(t))) return null;
  return [...new Set(tokens)].join(' ');
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isHttpUrl(value: string): boolean {
  try {
    const u = new URL(value);
    return u.protocol === 'https:' || u.protocol === 'http:';
  } catch {
    return false;
  }
}

/** `https` URL; `http` only for hosts on the jwks allow-list (local development). */
function isHttpsUrl(value: string, settings: Pick<ServerSettings, 'jwksFetch'>): boolean {
  try {
    const u = new URL(value);
    if (u.username || u.password || u.hash) return false;
    return (
      u.protocol === 'https:' ||
      (u.protocol === 'http:' && settings.jwksFetch.allowedHosts.includes(u.hostname.toLowerCase()))
    );
  } catch {
    return false;
  }
}

function isAbsoluteUriWithoutFragment(value: unknown): boolean {
  if (typeof value !== 'string') return false;
  try {
    const u = new URL(value);
    return !u.hash && !value.includes('#');
  } catch {
    return false;
  }
}
