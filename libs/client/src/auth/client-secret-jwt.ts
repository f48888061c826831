import { assertionLifetime, signAssertion, type AssertionOptions } from './assertion.js';
import { assertNonEmpty, type ClientAuth } from './client-auth.js';

/**
 * HMAC algorithms of `client_secret_jwt`.
 * @see RFC 7518 §3.2
 */
export type HmacAlgorithm = 'HS256' | 'HS384' | 'HS512';

/**
 * Options of {@link clientSecretJwt}.
 * @see RFC 7523 §3
 */
export interface ClientSecretJwtOptions extends AssertionOptions {
  /** Default `HS256`. */
  alg?: HmacAlgorithm;
}

const HMAC_ALGS: readonly string[] = ['HS256', 'HS384', 'HS512'];

/**
 * A JWT assertion MACed with the client secret, fresh for every request.
 * @see RFC 7523 §2.2, OpenID Connect Core §9
 */
export function clientSecretJwt(
  clientId: string,
  clientSecret: string,
  options: ClientSecretJwtOptions = {},
): ClientAuth {
  assertNonEmpty(clientId, 'clientId');
  assertNonEmpty(clientSecret, 'clientSecret');
  const alg = options.alg ?? 'HS256';
  if (!HMAC_ALGS.includes(alg)) throw new TypeError(`alg must be one of ${HMAC_ALGS.join(', ')}`);
  const lifetime = assertionLifetime(options.lifetime);
  const key = new TextEncoder().encode(clientSecret);
  return {
    method: 'client_secret_jwt',
    clientId,
    authenticate: (context) =>
      signAssertion(clientId, key, { alg }, context, {
        lifetime,
        audience: options.audience,
      }),
  };
}
