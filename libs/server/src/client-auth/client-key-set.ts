import { createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import { createLocalJWKSet, errors as joseErrors, type JSONWebKeySet, type JWK, type JWTVerifyGetKey } from 'jose';
import { jwkFitsAlg } from '../shared/jose-algorithms.js';

/**
 * One client's verification keys, usable both ways: as a jose key resolver (WebCrypto), and as
 * node:crypto KeyObjects for inline verification — each imported once, on first use.
 */
export class ClientKeySet {
  readonly getKey: JWTVerifyGetKey;
  private readonly imported = new Map<JWK, KeyObject>();

  constructor(readonly jwks: JSONWebKeySet) {
    this.getKey = createLocalJWKSet(jwks);
  }

  /**
   * The keys that may verify a JWS with this header, selected as jose's local JWK Set does: `kid`
   * when the header has one, key type and curve fit for `alg`, and the JWK's own `alg`, `use` and
   * `key_ops` when present.
   * @throws jose `JWKSNoMatchingKey` when none fits (e.g. an unknown `kid`).
   */
  candidates(header: { alg?: unknown; kid?: unknown }): KeyObject[] {
    const alg = typeof header.alg === 'string' ? header.alg : '';
    const fitting = this.jwks.keys.filter(
      (jwk) =>
        (header.kid === undefined || jwk.kid === header.kid) &&
        jwkFitsAlg(jwk, alg) &&
        (jwk.alg === undefined || jwk.alg === alg) &&
        (jwk.use === undefined || jwk.use === 'sig') &&
        (jwk.key_ops === undefined || (Array.isArray(jwk.key_ops) && jwk.key_ops.includes('verify'))),
    );
    if (fitting.length === 0) throw new joseErrors.JWKSNoMatchingKey();
    return fitting.map((jwk) => {
      let key = this.imported.get(jwk);
      if (!key) {
        key = createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' });
        this.imported.set(jwk, key);
      }
      return key;
    });
  }
}
