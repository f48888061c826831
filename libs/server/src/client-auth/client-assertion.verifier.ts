import { Inject, Injectable } from '@nestjs/common';
import type { JWTPayload } from 'jose';
import type { ClientRecord } from '../clients/client.record.js';
import type { ClientAuthFailure } from '../errors/client-auth-failure.js';
import { OAuthError } from '../errors/oauth-error.js';
import { decodeJws, JwsFormatError, type DecodedJws } from '../jws/compact-jws.js';
import { JwsBackend, type VerificationKey } from '../jws/jws-backend.js';
import { SERVER_SETTINGS, type ServerSettings } from '../options/server-settings.js';
import { Clock } from '../shared/clock.js';
import type { FormParams } from '../shared/form-body.js';
import type { PresentedCredentials } from './client-auth.strategy.js';
import { ReplayStore } from './replay.store.js';

export const JWT_BEARER_ASSERTION = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
/** A SPIFFE JWT-SVID as client assertion (draft-ietf-oauth-spiffe-client-auth). */
export const JWT_SPIFFE_ASSERTION = 'urn:ietf:params:oauth:client-assertion-type:jwt-spiffe';

const ACCEPTED_TYP = new Set(['jwt', 'client-authentication+jwt', 'application/client-authentication+jwt']);

/** An assertion whose form and header passed: decoded once, verified with the key its method picks. */
export interface OpenedAssertion {
  readonly compact: string;
  readonly jws: DecodedJws;
  readonly alg: string;
  /** The protected header: what the method selects its key by (`alg`, `kid`). */
  readonly header: { alg?: unknown; typ?: unknown; kid?: unknown };
}

/** An assertion that passed every rule, and the key (one of those the method gave) that verified it. */
export interface VerifiedAssertion {
  payload: JWTPayload;
  key: VerificationKey;
}

/**
 * Reads a client assertion and its subject from the form (RFC 7521 §4.2, RFC 7523 §2.2). A jwt-bearer
 * assertion whose subject is not the form's `client_id`, and any jwt-spiffe assertion, can only be
 * a platform token of a `federated_jwt` client (docs/adr/0022); the authenticator refuses it as
 * `client_id_mismatch` for any other client.
 */
export function readClientAssertion(
  form: FormParams,
): Extract<PresentedCredentials, { method: 'jwt' } | { method: 'federated_jwt' }> {
  const type = form.get('client_assertion_type');
  if (type !== JWT_BEARER_ASSERTION && type !== JWT_SPIFFE_ASSERTION)
    throw OAuthError.invalidClient('assertion_type_unsupported', 'unsupported client_assertion_type');
  const assertion = form.get('client_assertion');
  if (!assertion) throw OAuthError.invalidClient('assertion_type_unsupported', 'client_assertion missing');
  const formClientId = form.get('client_id');
  if (type === JWT_SPIFFE_ASSERTION)
    return { method: 'federated_jwt', clientId: formClientId, assertion, assertionType: 'jwt-spiffe' };
  const clientId = peekClientId(assertion);
  if (formClientId !== undefined && formClientId !== clientId)
    return { method: 'federated_jwt', clientId: formClientId, assertion, assertionType: 'jwt-bearer' };
  return { method: 'jwt', clientId, assertion };
}

/** The unverified `sub` (else `iss`) of an assertion, to find the client; or a failure. */
export function peekClientId(assertion: string): string {
  try {
    const [, payload] = assertion.split('.');
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as JWTPayload;
    if (typeof claims.sub === 'string' && claims.sub !== '') return claims.sub;
    if (typeof claims.iss === 'string' && claims.iss !== '') return claims.iss;
  } catch {
    /* fall through */
  }
  throw OAuthError.invalidClient('assertion_malformed', 'client_assertion is not a decodable JWT with iss/sub');
}

/**
 * The rules of a client assertion shared by the JWT methods (RFC 7523 §3, draft-ietf-oauth-rfc7523bis),
 * in two steps around the method's key selection, so that a request runs straight through:
 * `open()` — length, one JWS parser for both backends, the method's algorithm family, the registered
 * algorithm, `typ`; then the method picks its keys from the header; then `verify()` — signature by
 * those keys (through the process's {@link JwsBackend}), `iss` = `sub` = client_id, `aud` = the issuer
 * as its sole value, `exp` required, usable for at most `assertionMaxLifetime` after `iat` (or,
 * without `iat`, `exp` at most that far ahead), `nbf` honoured, `jti` required and consumed
 * atomically (single use per client). Every failure is `invalid_client` with a stable reason code.
 */
@Injectable()
export class ClientAssertionVerifier {
  private readonly audiences: ReadonlySet<string>;

  constructor(
    @Inject(SERVER_SETTINGS)
    private readonly settings: Pick<
      ServerSettings,
      'issuer' | 'tokenEndpoint' | 'assertionAudience' | 'assertionMaxLifetime' | 'clockSkew' | 'limits'
    >,
    private readonly clock: Clock,
    private readonly replay: ReplayStore,
    private readonly jws: JwsBackend,
  ) {
    this.audiences = new Set(
      settings.assertionAudience === 'legacy' ? [settings.issuer, settings.tokenEndpoint] : [settings.issuer],
    );
  }

  /** The form and header rules; `allows` is the method's algorithm family (HMAC or asymmetric). */
  open(client: ClientRecord, assertion: string, allows: (alg: unknown) => boolean): OpenedAssertion {
    if (assertion.length > this.settings.limits.assertionLength)
      throw OAuthError.invalidClient('assertion_too_long', 'too long');

    // One parser for both backends, so that both accept exactly the same JWS forms (docs/adr/0011-one-key-per-assertion.md).
    let jws: DecodedJws;
    try {
      jws = decodeJws(assertion);
    } catch (e) {
      throw OAuthError.invalidClient('assertion_malformed', e instanceof JwsFormatError ? e.message : 'malformed JWS');
    }
    const header = jws.header as { alg?: unknown; typ?: unknown; kid?: unknown };
    const alg = header.alg;
    if (!allows(alg))
      throw OAuthError.invalidClient(
        'assertion_alg_not_allowed',
        `alg ${String(alg)} not allowed for ${client.tokenEndpointAuthMethod}`,
      );
    if (client.tokenEndpointAuthSigningAlg && alg !== client.tokenEndpointAuthSigningAlg)
      throw OAuthError.invalidClient(
        'assertion_alg_not_allowed',
        `alg ${alg as string} differs from the registered ${client.tokenEndpointAuthSigningAlg}`,
      );
    if (header.typ !== undefined && (typeof header.typ !== 'string' || !ACCEPTED_TYP.has(header.typ.toLowerCase())))
      throw OAuthError.invalidClient('assertion_typ_not_accepted', `typ ${String(header.typ)} not accepted`);
    return { compact: assertion, jws, alg: alg as string, header };
  }

  /**
   * The signature by one of `keys` (each valid HMAC secret, or the one public key the header
   * selects), the claim rules, then single use. Returns the claims and the key that verified.
   */
  async verify(
    client: ClientRecord,
    opened: OpenedAssertion,
    keys: readonly VerificationKey[],
  ): Promise<VerifiedAssertion> {
    let verified: VerificationKey | undefined;
    for (const key of keys)
      if (await this.jws.verify(opened.jws, opened.compact, opened.alg, key)) {
        verified = key;
        break;
      }
    if (!verified) throw OAuthError.invalidClient('signature_invalid', 'signature verification failed');

    const payload = opened.jws.payload as JWTPayload;
    const problem = this.claimProblem(client, payload);
    if (problem) throw OAuthError.invalidClient(problem[0], problem[1]);
    // Single use, atomically, per client; remembered until the assertion can no longer be accepted.
    if (!(await this.replay.consume(client.clientId, payload.jti as string, this.rememberUntil(payload))))
      throw OAuthError.invalidClient('jti_replayed', 'jti already used');
    return { payload, key: verified };
  }

  /**
   * Until when a used `jti` must be remembered: the last second at which its assertion could still
   * be accepted, min(exp, iat + cap) + skew. A NumericDate may have a fraction (RFC 7519 §2); the
   * stores keep whole seconds (bigint, Redis EX), so it is rounded up.
   */
  rememberUntil(payload: JWTPayload): number {
    const exp = payload.exp as number;
    const last =
      payload.iat === undefined ? exp : Math.min(exp, (payload.iat as number) + this.settings.assertionMaxLifetime);
    return Math.ceil(last) + this.settings.clockSkew;
  }

  /** The claim rules (RFC 7523 §3 and Clavis's stricter ones): the code and detail of the first failure, or undefined. */
  private claimProblem(client: ClientRecord, payload: JWTPayload): [ClientAuthFailure, string] | undefined {
    const now = this.clock.nowSeconds();
    const skew = this.settings.clockSkew;
    const cap = this.settings.assertionMaxLifetime;
    const isTime = (v: unknown) => typeof v === 'number' && Number.isFinite(v);
    if (payload.iss !== client.clientId) return ['assertion_subject_not_client', 'iss is not the client_id'];
    if (payload.sub !== client.clientId) return ['assertion_subject_not_client', 'sub is not the client_id'];
    if (!isTime(payload.exp)) return ['assertion_exp_missing', 'exp missing or not a number'];
    if ((payload.exp as number) <= now - skew) return ['assertion_expired', 'expired'];
    if (payload.nbf !== undefined && (!isTime(payload.nbf) || (payload.nbf as number) > now + skew))
      return ['assertion_not_yet_valid', 'nbf invalid or in the future'];
    if (payload.iat !== undefined && (!isTime(payload.iat) || (payload.iat as number) > now + skew))
      return ['assertion_not_yet_valid', 'iat invalid or in the future'];
    // Usable for at most `cap` after it was made: by iat when present (exp may lie further ahead,
    // as authlib's default of +3600 s does), else by exp (docs/adr/0011-one-key-per-assertion.md).
    if (payload.iat !== undefined) {
      if (now - (payload.iat as number) > cap + skew)
        return ['assertion_lifetime_exceeded', `iat more than ${cap}s ago`];
    } else if ((payload.exp as number) > now + cap + skew)
      return ['assertion_lifetime_exceeded', `exp more than ${cap}s ahead (and no iat)`];
    const aud = payload.aud;
    const sole = typeof aud === 'string' ? aud : Array.isArray(aud) && aud.length === 1 ? aud[0] : undefined;
    if (typeof sole !== 'string' || !this.audiences.has(sole))
      return ['assertion_aud_not_issuer', 'aud must be the issuer identifier as its sole value'];
    if (typeof payload.jti !== 'string' || payload.jti === '' || payload.jti.length > 256)
      return ['assertion_jti_invalid', 'jti missing or invalid'];
    return undefined;
  }
}
