import { Injectable } from '@nestjs/common';
import type { KeyObject } from 'node:crypto';
import type { JSONWebKeySet } from 'jose';
import type { FederatedIssuer } from '../options/federation-options.js';
import { operatorUrlProblem } from '../options/federation-options.js';
import { ClientJwksFetcher } from './client-jwks.fetcher.js';

/**
 * The verification keys of an operator-trusted issuer (docs/adr/0022): from its `jwks_uri`, from
 * OIDC discovery of the issuer (`/.well-known/openid-configuration` → `jwks_uri`, whose `issuer`
 * must be the configured one), or from a SPIFFE bundle endpoint (the keys with `use: "jwt-svid"`,
 * fresh for the bundle's `spiffe_refresh_hint`). One cache, one set of rules with clients'
 * `jwks_uri`: the {@link ClientJwksFetcher}'s timeout, size limit, caching, stale bound and
 * unknown-`kid` refetch.
 */
@Injectable()
export class FederatedIssuerKeys {
  constructor(private readonly fetcher: ClientJwksFetcher) {}

  /** The one key of the issuer that may verify a JWS with this header (see ClientKeySet.key). */
  key(issuer: FederatedIssuer, header: { alg?: unknown; kid?: unknown }): Promise<KeyObject> {
    return this.fetcher.withKeys(
      { id: `federation:${issuer.keys.from}:${issuer.issuer}`, load: () => this.load(issuer) },
      (keys) => keys.key(header),
    );
  }

  private async load(issuer: FederatedIssuer): Promise<{ jwks: JSONWebKeySet; maxAge: number }> {
    const { from, url } = issuer.keys;
    if (from === 'jwks_uri') return this.fetcher.fetchJwks(url, 'operator');
    if (from === 'discovery') {
      const { json } = await this.fetcher.fetchJson(url, 'operator');
      const doc = (json ?? {}) as { issuer?: unknown; jwks_uri?: unknown };
      // OpenID Connect Discovery §4.3: the document must name the issuer it was fetched for.
      if (doc.issuer !== issuer.issuer) throw new Error(`discovery document of ${issuer.issuer} names another issuer`);
      const problem = operatorUrlProblem(doc.jwks_uri);
      if (problem) throw new Error(`discovery document of ${issuer.issuer}: jwks_uri ${problem}`);
      return this.fetcher.fetchJwks(doc.jwks_uri as string, 'operator');
    }
    // SPIFFE bundle (SPIFFE Trust Domain and Bundle §4): a JWK Set whose JWT-SVID keys have use "jwt-svid".
    const { json, cacheControl } = await this.fetcher.fetchJson(url, 'operator', 'application/json');
    const bundle = (json ?? {}) as { keys?: unknown; spiffe_refresh_hint?: unknown };
    if (!Array.isArray(bundle.keys)) throw new Error(`SPIFFE bundle of ${issuer.issuer} has no keys array`);
    const svidKeys = bundle.keys
      .filter((k): k is Record<string, unknown> => typeof k === 'object' && k !== null && k.use === 'jwt-svid')
      .map(({ use: _use, ...k }) => k);
    const jwks = await this.fetcher.usableKeys(url, { keys: svidKeys });
    const hint = bundle.spiffe_refresh_hint;
    const validHint = typeof hint === 'number' && Number.isInteger(hint) && hint > 0 ? hint : undefined;
    return { jwks, maxAge: this.fetcher.cacheTtl(cacheControl, validHint) };
  }
}
