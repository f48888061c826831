import { createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import { errors as joseErrors, type JSONWebKeySet, type JWK } from 'jose';
import { jwkFitsAlg } from '../shared/jose-algorithms.js';
import { jwkCredentialId } from '../usage/credential-sources.js';

/** The usage name of every key a ClientKeySet imported (its `kid`, else its thumbprint), computed once per import. */
const credentialIds = new WeakMap<KeyObject, string>();

/** How usage names the key that verified an assertion. */
export function keyCredentialId(key: KeyObject): string {
  return credentialIds.get(key) ?? 'unknown';
}

/** A `jwks_uri` gave no key set to select from (never fetched successfully, or stale beyond `staleMax`). */
export class ClientKeysUnavailableError extends Error {}

/**
 * One client's verification keys as node:crypto KeyObjects, each imported once, on first use.
 * Both JWS backends verify with the key selected here, so that one rule decides which key verifies an
 * assertion (see docs/adr/0011-one-key-per-assertion.md); jose accepts the KeyObject and caches
 * the CryptoKey it derives from it.
 */
export class ClientKeySet {
  private readonly imported = new Map<JWK, KeyObject>();

  constructor(readonly jwks: JSONWebKeySet) {}

  /**
   * The one key that may verify a JWS with this header: `kid` when the header has one, key type
   * and curve fit for `alg`, and the JWK's own `alg`, `use` and `key_ops` when present. At most one
   * key is ever tried: without a `kid`, exactly one key may fit the algorithm.
   * @throws jose `JWKSNoMatchingKey` when none fits (e.g. an unknown `kid`: the caller may refetch),
   *   `JWKSMultipleMatchingKeys` when several fit a header without `kid`.
   */
  key(header: { alg?: unknown; kid?: unknown }): KeyObject {
    const alg = typeof header.alg === 'string' ? header.alg : '';
    if (header.kid !== undefined && typeof header.kid !== 'string')
      throw new joseErrors.JWKSNoMatchingKey('kid is not a string');
    const fitting = this.jwks.keys.filter(
      (jwk) =>
        (header.kid === undefined || jwk.kid === header.kid) &&
        jwkFitsAlg(jwk, alg) &&
        (jwk.alg === undefined || jwk.alg === alg) &&
        (jwk.use === undefined || jwk.use === 'sig') &&
        (jwk.key_ops === undefined || (Array.isArray(jwk.key_ops) && jwk.key_ops.includes('verify'))),
    );
    if (fitting.length === 0) throw new joseErrors.JWKSNoMatchingKey();
    if (fitting.length > 1)
      throw new joseErrors.JWKSMultipleMatchingKeys(
        header.kid === undefined
          ? `${fitting.length} keys fit ${alg} and the assertion names no kid`
          : 'several keys share the kid',
      );
    const jwk = fitting[0];
    let key = this.imported.get(jwk);
    if (!key) {
      key = createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' });
      this.imported.set(jwk, key);
      credentialIds.set(key, jwkCredentialId(jwk));
    }
    return key;
  }
}
