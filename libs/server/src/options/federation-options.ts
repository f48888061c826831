import { isIP } from 'node:net';

/** How often a federated issuer's token may be presented: once (`single-use`), or for its whole lifetime (`reusable`). */
export type FederatedReplayPolicy = 'single-use' | 'reusable';

/**
 * One issuer the operator trusts for `federated_jwt` clients (module option `federation.issuers`).
 * Keys come from `jwksUri`, else from OIDC discovery of `issuer`, else (SPIFFE) from the bundle
 * endpoint of `trustDomain`.
 */
export interface FederatedIssuerOption {
  /**
   * The `iss` of its tokens, exactly. For a SPIFFE trust domain it defaults to `spiffe://<trustDomain>`,
   * the issuer a JWT-SVID without `iss` is taken to have.
   */
  issuer?: string;
  /** Where its JWK Set is (skips discovery). */
  jwksUri?: string;
  /** SPIFFE: the trust domain's bundle endpoint (a JWK Set with `spiffe_refresh_hint`; keys with `use: "jwt-svid"`). */
  spiffeBundleEndpoint?: string;
  /** SPIFFE: the trust domain (`example.org`); its tokens' `sub` must be a SPIFFE ID in it. */
  trustDomain?: string;
  /** Longest accepted `exp − iat` (or, without `iat`, `exp − now`), in seconds. Default 3600. */
  maxLifetime?: number;
  /** Default `single-use`; Kubernetes and SPIFFE tokens are reused by the platform for their lifetime: `reusable`. */
  replay?: FederatedReplayPolicy;
}

/** A trusted issuer after validation. */
export interface FederatedIssuer {
  readonly issuer: string;
  /** How its keys are found. */
  readonly keys:
    | { readonly from: 'jwks_uri'; readonly url: string }
    | { readonly from: 'discovery'; readonly url: string }
    | { readonly from: 'spiffe_bundle'; readonly url: string };
  readonly trustDomain: string | null;
  readonly maxLifetime: number;
  readonly replay: FederatedReplayPolicy;
}

export const DEFAULT_FEDERATED_MAX_LIFETIME = 3_600;
const MAX_ISSUERS = 100;
const KNOWN = new Set(['issuer', 'jwksUri', 'spiffeBundleEndpoint', 'trustDomain', 'maxLifetime', 'replay']);
const TRUST_DOMAIN = /^[a-z0-9._-]{1,255}$/;

/** Whether a host name is a loopback address (or `localhost`): the only hosts plain http is allowed for. */
export function isLoopbackHost(hostname: string): boolean {
  const bare = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (bare === 'localhost') return true;
  if (isIP(bare) === 4) return bare.startsWith('127.');
  return bare === '::1';
}

/**
 * An operator-given URL Clavis fetches from: https, or http on a loopback address (development and
 * tests); no credentials, no fragment. Any address, private ones included: the operator listed it.
 */
export function operatorUrlProblem(value: unknown): string | undefined {
  if (typeof value !== 'string' || value === '') return 'must be a non-empty string';
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'must be a URL';
  }
  if (url.username || url.password || url.hash || /[\s\p{Cc}]/u.test(value))
    return 'must not have credentials, a fragment, whitespace or control characters';
  if (url.protocol === 'https:') return undefined;
  if (url.protocol === 'http:' && isLoopbackHost(url.hostname)) return undefined;
  return 'must be https (http only on a loopback address)';
}

/**
 * Validates `federation.issuers`: pushes every problem (a clear message naming the entry) and returns
 * the issuers that are valid. Unknown members, duplicates and missing key sources are refused.
 */
export function resolveFederatedIssuers(raw: unknown, problems: string[]): readonly FederatedIssuer[] {
  if (raw === undefined) return Object.freeze([]);
  if (!Array.isArray(raw)) {
    problems.push('federation.issuers must be a list');
    return Object.freeze([]);
  }
  if (raw.length > MAX_ISSUERS) problems.push(`federation.issuers may list at most ${MAX_ISSUERS} issuers`);
  const out: FederatedIssuer[] = [];
  const seen = new Set<string>();
  for (const [i, entry] of raw.entries()) {
    const name = `federation.issuers[${i}]`;
    const before = problems.length;
    const bad = (what: string) => problems.push(`${name}${what}`);
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
      bad(' must be an object');
      continue;
    }
    const e = entry as Record<string, unknown>;
    for (const k of Object.keys(e)) if (!KNOWN.has(k)) bad(` has an unknown member ${JSON.stringify(k)}`);
    const trustDomain = e.trustDomain;
    if (trustDomain !== undefined && (typeof trustDomain !== 'string' || !TRUST_DOMAIN.test(trustDomain)))
      bad('.trustDomain must be a SPIFFE trust domain name (lowercase letters, digits, . _ -)');
    if ((trustDomain === undefined) !== (e.spiffeBundleEndpoint === undefined))
      bad('.trustDomain and .spiffeBundleEndpoint go together (a SPIFFE trust domain and its bundle endpoint)');
    if (e.spiffeBundleEndpoint !== undefined && e.jwksUri !== undefined)
      bad(' must name one key source: jwksUri or spiffeBundleEndpoint');
    const validDomain = typeof trustDomain === 'string' && TRUST_DOMAIN.test(trustDomain);
    const issuer = e.issuer ?? (validDomain ? `spiffe://${trustDomain}` : undefined);
    if (e.issuer === undefined && trustDomain !== undefined && !validDomain) {
      // already reported: the issuer would be derived from the trust domain
    } else if (typeof issuer !== 'string' || issuer === '' || issuer.length > 2048 || /[\s\p{Cc}]/u.test(issuer))
      bad('.issuer must be a non-empty string without whitespace (at most 2048 characters)');
    else if (seen.has(issuer)) bad(`.issuer ${JSON.stringify(issuer)} is listed twice`);
    else seen.add(issuer);
    for (const member of ['jwksUri', 'spiffeBundleEndpoint'] as const) {
      const problem = e[member] === undefined ? undefined : operatorUrlProblem(e[member]);
      if (problem) bad(`.${member} ${problem}`);
    }
    // Without a key source, the issuer must be discoverable: an https URL (OIDC Discovery §4).
    if (e.jwksUri === undefined && e.spiffeBundleEndpoint === undefined && typeof issuer === 'string') {
      const problem = operatorUrlProblem(issuer);
      if (problem) bad(`.issuer ${problem}, or give jwksUri (its keys are found by OIDC discovery otherwise)`);
    }
    const maxLifetime = e.maxLifetime ?? DEFAULT_FEDERATED_MAX_LIFETIME;
    if (typeof maxLifetime !== 'number' || !Number.isInteger(maxLifetime) || maxLifetime < 10 || maxLifetime > 86_400)
      bad('.maxLifetime must be a whole number from 10 to 86400 (seconds)');
    const replay = e.replay ?? 'single-use';
    if (replay !== 'single-use' && replay !== 'reusable') bad('.replay must be single-use or reusable');
    if (problems.length > before) continue;
    const iss = issuer as string;
    out.push(
      Object.freeze({
        issuer: iss,
        keys: Object.freeze(
          e.spiffeBundleEndpoint !== undefined
            ? { from: 'spiffe_bundle' as const, url: new URL(e.spiffeBundleEndpoint as string).href }
            : e.jwksUri !== undefined
              ? { from: 'jwks_uri' as const, url: new URL(e.jwksUri as string).href }
              : { from: 'discovery' as const, url: `${iss.replace(/\/+$/, '')}/.well-known/openid-configuration` },
        ),
        trustDomain: (trustDomain as string | undefined) ?? null,
        maxLifetime: maxLifetime as number,
        replay: replay as FederatedReplayPolicy,
      }),
    );
  }
  return Object.freeze(out);
}
