import {
  constants,
  createHmac,
  createPrivateKey,
  sign,
  timingSafeEqual,
  verify,
  type JsonWebKey,
  type KeyObject,
} from 'node:crypto';
import type { CryptoKey, JWK } from 'jose';
import type { DecodedJws } from './compact-jws.js';
import { JwsBackend, type JwsSigner, type VerificationKey } from './jws-backend.js';

/**
 * node:crypto on the main thread, for processes with one core (`cryptoMode` inline), where jose's
 * WebCrypto path costs ~2.5× more per assertion and per token (docs/adr/0007-hot-path-costs.md).
 * It accepts exactly what {@link ThreadpoolJwsBackend} accepts: a signature of the algorithm's exact
 * form made with a key whose type and curve fit the algorithm.
 */
export class InlineJwsBackend extends JwsBackend {
  readonly mode = 'inline' as const;

  async verify(jws: DecodedJws, _compact: string, alg: string, key: VerificationKey): Promise<boolean> {
    return key instanceof Uint8Array ? verifyHmac(alg, jws, key) : verifyAsymmetric(alg, jws, key);
  }

  signer(alg: string, privateJwk: JWK, _cryptoKey: CryptoKey): JwsSigner {
    const key = createPrivateKey({ key: privateJwk as JsonWebKey, format: 'jwk' });
    const signature = inlineSignature(alg, key);
    return async (header, claims) => {
      const input = `${b64(JSON.stringify(header))}.${b64(JSON.stringify(claims))}`;
      return `${input}.${signature(Buffer.from(input, 'ascii')).toString('base64url')}`;
    };
  }
}

const HASH: Record<string, string> = { '256': 'sha256', '384': 'sha384', '512': 'sha512' };
const EC: Record<string, { curve: string; size: number }> = {
  ES256: { curve: 'prime256v1', size: 64 },
  ES384: { curve: 'secp384r1', size: 96 },
  ES512: { curve: 'secp521r1', size: 132 },
};

/** Verifies an HMAC JWS signature (HS256/384/512) in constant time. */
export function verifyHmac(alg: string, jws: DecodedJws, secret: Uint8Array): boolean {
  if (!/^HS(256|384|512)$/.test(alg)) return false;
  const mac = createHmac(HASH[alg.slice(2)], secret).update(jws.signingInput).digest();
  return mac.length === jws.signature.length && timingSafeEqual(mac, jws.signature);
}

/** Verifies an asymmetric JWS signature; false for a key that does not fit the algorithm. */
export function verifyAsymmetric(alg: string, jws: DecodedJws, key: KeyObject): boolean {
  try {
    return verifyWith(alg, jws, key);
  } catch {
    return false; // node:crypto throws on some malformed signatures: a failed verification
  }
}

function verifyWith(alg: string, jws: DecodedJws, key: KeyObject): boolean {
  const type = key.asymmetricKeyType;
  if (key.type !== 'public') return false;
  if (alg in EC) {
    const { curve, size } = EC[alg];
    if (type !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== curve || jws.signature.length !== size) return false;
    return verify(HASH[alg.slice(2)], jws.signingInput, { key, dsaEncoding: 'ieee-p1363' }, jws.signature);
  }
  if (/^RS(256|384|512)$/.test(alg))
    return type === 'rsa' && verify(HASH[alg.slice(2)], jws.signingInput, key, jws.signature);
  if (/^PS(256|384|512)$/.test(alg)) {
    const bits = Number(alg.slice(2));
    return (
      (type === 'rsa' || type === 'rsa-pss') &&
      verify(
        HASH[alg.slice(2)],
        jws.signingInput,
        { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: bits / 8 },
        jws.signature,
      )
    );
  }
  if (alg === 'EdDSA')
    return (type === 'ed25519' || type === 'ed448') && verify(null, jws.signingInput, key, jws.signature);
  if (alg === 'Ed25519') return type === 'ed25519' && verify(null, jws.signingInput, key, jws.signature);
  return false;
}

function b64(json: string): string {
  return Buffer.from(json, 'utf8').toString('base64url');
}

/** RFC 7518 §3: the node:crypto call for each JWS algorithm Clavis signs with. */
function inlineSignature(alg: string, key: KeyObject): (data: Buffer) => Buffer {
  switch (alg) {
    case 'ES256':
      return (d) => sign('sha256', d, { key, dsaEncoding: 'ieee-p1363' });
    case 'ES384':
      return (d) => sign('sha384', d, { key, dsaEncoding: 'ieee-p1363' });
    case 'RS256':
      return (d) => sign('sha256', d, key);
    case 'PS256':
      return (d) => sign('sha256', d, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 });
    case 'EdDSA':
      return (d) => sign(null, d, key);
    default:
      throw new Error(`unsupported signing algorithm ${alg}`);
  }
}
