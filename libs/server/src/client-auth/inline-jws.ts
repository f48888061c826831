import { constants, createHmac, timingSafeEqual, verify, type KeyObject } from 'node:crypto';

/**
 * Compact JWS verification with node:crypto on the main thread, for processes with one core
 * (`cryptoMode` inline), where jose's WebCrypto path costs ~2.5× more per assertion. It accepts
 * exactly what the jose path accepts for client assertions: three base64url segments, JSON objects
 * for header and payload, no `crit` and no `b64` header, a signature of the algorithm's exact form
 * made with a key whose type and curve fit the algorithm. Claims are checked by the caller.
 */
export interface DecodedJws {
  header: Record<string, unknown>;
  payload: Record<string, unknown>;
  signingInput: Buffer;
  signature: Buffer;
}

const B64URL = /^[A-Za-z0-9_-]+$/;

export class InlineJwsError extends Error {}

export function decodeJws(token: string): DecodedJws {
  const parts = token.split('.');
  if (parts.length !== 3 || !parts.every((p) => B64URL.test(p))) throw new InlineJwsError('not a compact JWS');
  const header = parseObject(parts[0], 'header');
  const payload = parseObject(parts[1], 'payload');
  if ('crit' in header) throw new InlineJwsError('crit is not supported');
  if ('b64' in header) throw new InlineJwsError('b64 is not supported');
  return { header, payload, signingInput: Buffer.from(`${parts[0]}.${parts[1]}`, 'ascii'), signature: Buffer.from(parts[2], 'base64url') };
}

function parseObject(segment: string, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
  } catch {
    throw new InlineJwsError(`${what} is not JSON`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new InlineJwsError(`${what} is not a JSON object`);
  return value as Record<string, unknown>;
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
  if (/^RS(256|384|512)$/.test(alg)) return type === 'rsa' && verify(HASH[alg.slice(2)], jws.signingInput, key, jws.signature);
  if (/^PS(256|384|512)$/.test(alg)) {
    const bits = Number(alg.slice(2));
    return (type === 'rsa' || type === 'rsa-pss') && verify(HASH[alg.slice(2)], jws.signingInput, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: bits / 8 }, jws.signature);
  }
  if (alg === 'EdDSA') return (type === 'ed25519' || type === 'ed448') && verify(null, jws.signingInput, key, jws.signature);
  if (alg === 'Ed25519') return type === 'ed25519' && verify(null, jws.signingInput, key, jws.signature);
  return false;
}
