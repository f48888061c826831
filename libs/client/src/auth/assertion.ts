import { randomBytes } from 'node:crypto';
import { SignJWT, type CryptoKey, type KeyObject } from 'jose';
import type { ClientAuthContext, ClientAuthParams } from './client-auth.js';

/**
 * Options shared by the two assertion strategies.
 * @see RFC 7523 §3
 */
export interface AssertionOptions {
  /** Seconds from `iat` to `exp`, 1 to 60. Default 60. */
  lifetime?: number;
  /**
   * The `aud` claim. Default: the issuer identifier, as draft-ietf-oauth-rfc7523bis requires.
   * Set it (e.g. to the token endpoint URL) only for legacy servers that reject the issuer.
   */
  audience?: string;
}

/**
 * `client_assertion_type` of JWT client assertions.
 * @see RFC 7523 §2.2
 */
export const JWT_BEARER_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

const MAX_LIFETIME = 60;

/** Validated assertion lifetime, in seconds. */
export function assertionLifetime(lifetime: number = MAX_LIFETIME): number {
  if (!Number.isInteger(lifetime) || lifetime < 1 || lifetime > MAX_LIFETIME) {
    throw new TypeError(`lifetime must be an integer from 1 to ${MAX_LIFETIME} seconds`);
  }
  return lifetime;
}

/**
 * Signs a fresh client assertion (unique 256-bit `jti`, `iss` = `sub` = client_id, `aud` = issuer)
 * and returns the form parameters that carry it.
 * @see RFC 7523 §3, RFC 7521 §4.2
 */
export async function signAssertion(
  clientId: string,
  key: CryptoKey | KeyObject | Uint8Array,
  header: { alg: string; kid?: string },
  context: ClientAuthContext,
  options: { lifetime: number; audience?: string },
): Promise<ClientAuthParams> {
  const now = Math.floor(context.now / 1000);
  const assertion = await new SignJWT({})
    .setProtectedHeader(header)
    .setIssuer(clientId)
    .setSubject(clientId)
    .setAudience(options.audience ?? context.issuer)
    .setJti(randomBytes(32).toString('base64url'))
    .setIssuedAt(now)
    .setNotBefore(now)
    .setExpirationTime(now + options.lifetime)
    .sign(key);
  return {
    headers: {},
    body: {
      client_id: clientId,
      client_assertion_type: JWT_BEARER_ASSERTION_TYPE,
      client_assertion: assertion,
    },
  };
}
