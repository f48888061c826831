/** Asymmetric JWS algorithms accepted for `private_key_jwt`. */
export const ASYMMETRIC_ALGS = [
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
] as const;
/** HMAC JWS algorithms accepted for `client_secret_jwt`. */
export const HMAC_ALGS = ['HS256', 'HS384', 'HS512'] as const;

export type AsymmetricAlg = (typeof ASYMMETRIC_ALGS)[number];
export type HmacAlg = (typeof HMAC_ALGS)[number];

export function isAsymmetricAlg(alg: unknown): alg is AsymmetricAlg {
  return typeof alg === 'string' && (ASYMMETRIC_ALGS as readonly string[]).includes(alg);
}
export function isHmacAlg(alg: unknown): alg is HmacAlg {
  return typeof alg === 'string' && (HMAC_ALGS as readonly string[]).includes(alg);
}

/** Whether a public JWK may verify `alg` (key type and curve must fit the algorithm). */
export function jwkFitsAlg(jwk: { kty?: unknown; crv?: unknown }, alg: string): boolean {
  switch (alg) {
    case 'RS256':
    case 'RS384':
    case 'RS512':
    case 'PS256':
    case 'PS384':
    case 'PS512':
      return jwk.kty === 'RSA';
    case 'ES256':
      return jwk.kty === 'EC' && jwk.crv === 'P-256';
    case 'ES384':
      return jwk.kty === 'EC' && jwk.crv === 'P-384';
    case 'ES512':
      return jwk.kty === 'EC' && jwk.crv === 'P-521';
    case 'EdDSA':
      return jwk.kty === 'OKP' && (jwk.crv === 'Ed25519' || jwk.crv === 'Ed448');
    case 'Ed25519':
      return jwk.kty === 'OKP' && jwk.crv === 'Ed25519';
    default:
      return false;
  }
}
