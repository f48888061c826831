import { createPrivateKey, createPublicKey, KeyObject, randomBytes, sign, verify } from 'node:crypto';
import type { JWK } from 'jose';
import { ClavisClientError } from '../errors.js';

/**
 * Public members of a JWK per `kty` (RFC 7518 §6, RFC 8037 §2): what may be published and what
 * identifies the public key.
 */
export const PUBLIC_JWK_MEMBERS: Readonly<Record<string, readonly string[]>> = {
  RSA: ['kty', 'n', 'e'],
  EC: ['kty', 'crv', 'x', 'y'],
  OKP: ['kty', 'crv', 'x'],
};

/** Only the members of `jwk` that {@link PUBLIC_JWK_MEMBERS} lists for its `kty`, or undefined for another `kty`. */
export function publicPart(jwk: JWK): JWK | undefined {
  const members = PUBLIC_JWK_MEMBERS[jwk?.kty ?? ''];
  if (!members) return undefined;
  const part: Record<string, unknown> = {};
  for (const name of members)
    if ((jwk as Record<string, unknown>)[name] !== undefined) part[name] = (jwk as Record<string, unknown>)[name];
  return part as JWK;
}

/**
 * Whether `privateKey` (a KeyObject, CryptoKey or private JWK) and the public JWK belong together:
 * a random probe signed with the one must verify with the other. Throws `invalid_key` when either
 * cannot be used at all.
 */
export function isKeyPair(privateKey: KeyObject | CryptoKey | JWK, publicJwk: JWK, what: string): boolean {
  let signer: KeyObject;
  let verifier: KeyObject;
  try {
    signer =
      privateKey instanceof KeyObject
        ? privateKey
        : typeof (privateKey as JWK).kty === 'string'
          ? createPrivateKey({ key: privateKey as JWK, format: 'jwk' })
          : KeyObject.from(privateKey as CryptoKey);
    verifier = createPublicKey({ key: publicPart(publicJwk)!, format: 'jwk' });
  } catch (cause) {
    throw new ClavisClientError('invalid_key', `${what} cannot be imported`, undefined, { cause });
  }
  const digest = (signer.asymmetricKeyType ?? '').startsWith('ed') ? null : 'sha256';
  const probe = randomBytes(32);
  try {
    return verify(digest, probe, verifier, sign(digest, probe, signer));
  } catch {
    return false;
  }
}
