import { KeyObject } from 'node:crypto';
import { importJWK, type CryptoKey, type JWK } from 'jose';
import { assertionLifetime, signAssertion, type AssertionOptions } from './assertion.js';
import { ClavisClientError } from '../errors.js';
import { assertNonEmpty, type ClientAuth } from './client-auth.js';
import { isKeyPair } from './key-pair.js';

/**
 * A private signing key: a Web Crypto key, a Node.js key object, or a private JWK.
 * @see RFC 7517 §4
 */
export type PrivateKey = CryptoKey | KeyObject | JWK;

/**
 * Options of {@link privateKeyJwt}.
 * @see RFC 7523 §3
 */
export interface PrivateKeyJwtOptions extends AssertionOptions {
  /** JWS algorithm. Default: the JWK's `alg`, else derived from the key (RSA → RS256, P-256 → ES256, Ed25519 → EdDSA…). */
  alg?: string;
  /** `kid` header, so the server picks the right key during a rollover. Default: the JWK's `kid`. */
  kid?: string;
}

const ASYMMETRIC_ALGS: readonly string[] = [
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
];
const CURVE_ALGS: Record<string, string> = {
  'P-256': 'ES256',
  'P-384': 'ES384',
  'P-521': 'ES512',
  prime256v1: 'ES256',
  secp384r1: 'ES384',
  secp521r1: 'ES512',
};

/**
 * A JWT assertion signed with the client's private key, fresh for every request. The key is imported
 * once, not per request; a private JWK that cannot be imported throws `ClavisClientError`
 * `invalid_key` here.
 * @see RFC 7523 §2.2, OpenID Connect Core §9
 */
export function privateKeyJwt(clientId: string, key: PrivateKey, options: PrivateKeyJwtOptions = {}): ClientAuth {
  assertNonEmpty(clientId, 'clientId');
  const lifetime = assertionLifetime(options.lifetime);
  const jwk = isJwk(key) ? key : undefined;
  const alg = options.alg ?? jwk?.alg ?? inferAlg(key);
  if (!alg || !ASYMMETRIC_ALGS.includes(alg)) {
    const algs = ASYMMETRIC_ALGS.join(', ');
    throw new TypeError(`alg must be one of ${algs}; pass it when the key does not tell`);
  }
  const isPrivate = jwk ? typeof jwk.d === 'string' : (key as { type?: string }).type === 'private';
  if (!isPrivate) throw new TypeError('key must be a private key');
  // A broken JWK fails here, as a ClavisClientError, not at the first token request: it must import,
  // and sign a probe that its own public members verify.
  if (jwk && !isKeyPair(jwk, jwk, 'the private JWK')) {
    throw new ClavisClientError('invalid_key', 'the private JWK cannot be imported');
  }
  const kid = options.kid ?? jwk?.kid;
  let signingKey: Promise<CryptoKey | KeyObject> | undefined = jwk
    ? undefined
    : Promise.resolve(key as CryptoKey | KeyObject);
  return {
    method: 'private_key_jwt',
    clientId,
    authenticate: async (context) => {
      signingKey ??= importJWK(jwk!, alg).then((k) => k as CryptoKey);
      return signAssertion(clientId, await signingKey, kid ? { alg, kid } : { alg }, context, {
        lifetime,
        audience: options.audience,
      });
    },
  };
}

function isJwk(key: PrivateKey): key is JWK {
  return !(key instanceof KeyObject) && typeof (key as JWK).kty === 'string';
}

function inferAlg(key: PrivateKey): string | undefined {
  if (key instanceof KeyObject) {
    const details = key.asymmetricKeyDetails;
    switch (key.asymmetricKeyType) {
      case 'rsa':
        return 'RS256';
      case 'rsa-pss':
        return 'PS256';
      case 'ec':
        return CURVE_ALGS[details?.namedCurve ?? ''];
      case 'ed25519':
        return 'EdDSA';
      default:
        return undefined;
    }
  }
  if (isJwk(key)) {
    if (key.kty === 'RSA') return 'RS256';
    if (key.kty === 'EC') return CURVE_ALGS[key.crv ?? ''];
    if (key.kty === 'OKP' && key.crv === 'Ed25519') return 'EdDSA';
    return undefined;
  }
  const algorithm = key.algorithm as {
    name: string;
    namedCurve?: string;
    hash?: { name: string };
  };
  const bits = algorithm.hash?.name.replace('SHA-', '');
  switch (algorithm.name) {
    case 'RSASSA-PKCS1-v1_5':
      return `RS${bits}`;
    case 'RSA-PSS':
      return `PS${bits}`;
    case 'ECDSA':
      return CURVE_ALGS[algorithm.namedCurve ?? ''];
    case 'Ed25519':
      return 'EdDSA';
    default:
      return undefined;
  }
}
