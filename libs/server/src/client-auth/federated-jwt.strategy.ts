import { Inject, Injectable } from '@nestjs/common';
import { createHash } from 'node:crypto';
import type { JWTPayload } from 'jose';
import type { ClientRecord } from '../clients/client.record.js';
import { ClientService } from '../clients/client.service.js';
import type { ClientWithSecrets } from '../clients/client.store.js';
import type { ClientAuthFailure } from '../errors/client-auth-failure.js';
import { OAuthError } from '../errors/oauth-error.js';
import { decodeJws, JwsFormatError, type DecodedJws } from '../jws/compact-jws.js';
import { JwsBackend } from '../jws/jws-backend.js';
import type { FederatedIssuer } from '../options/federation-options.js';
import { SERVER_SETTINGS, type ServerSettings } from '../options/server-settings.js';
import { Clock } from '../shared/clock.js';
import { isAsymmetricAlg } from '../shared/jose-algorithms.js';
import type { AuthenticatedClient, ClientAuthStrategy, PresentedCredentials } from './client-auth.strategy.js';
import { federatedCredentialKey } from '../clients/federated-credentials.js';
import { FederatedIssuerKeys } from './federated-issuer-keys.js';
import { keyFailure } from './private-key-jwt.strategy.js';
import { ReplayStore } from './replay.store.js';

type Presented = Extract<PresentedCredentials, { method: 'federated_jwt' }>;

/** `typ` values of platform tokens (Kubernetes and GitHub send JWT; JWT-SVIDs JWT or JOSE). */
const ACCEPTED_TYP = new Set(['jwt', 'jose']);
/** A SPIFFE ID: `spiffe://<trust domain>/<path>` (SPIFFE ID §2). */
const SPIFFE_ID = /^spiffe:\/\/([a-z0-9._-]+)(\/[A-Za-z0-9._~!$&'()*+,;=:@%/-]*)?$/;

/**
 * `federated_jwt` (workload identity federation, docs/adr/0022): the client authenticates with a
 * token its platform issued it — a Kubernetes service-account token, a GitHub Actions OIDC token, a
 * SPIFFE JWT-SVID — presented as a jwt-bearer assertion with `client_id`, or as a jwt-spiffe
 * assertion (draft-ietf-oauth-spiffe-client-auth), where `client_id` is optional.
 *
 * The token's issuer must be one the operator trusts, its `iss` + `sub` one of the client's federated
 * credentials exactly; signed with an asymmetric algorithm by that issuer's keys only; `aud` the
 * issuer identifier of this server as its sole value; `exp` required, `nbf`/`iat` honoured with the
 * clock skew, `exp − iat` at most the issuer's `max_lifetime`; used once unless the issuer's replay
 * policy is `reusable`. Every refusal is `invalid_client` with a stable reason.
 */
@Injectable()
export class FederatedJwtStrategy implements ClientAuthStrategy<'federated_jwt'> {
  readonly method = 'federated_jwt' as const;
  readonly presentedAs = 'federated_jwt' as const;
  private readonly issuers: ReadonlyMap<string, FederatedIssuer>;

  constructor(
    @Inject(SERVER_SETTINGS) private readonly settings: ServerSettings,
    private readonly clock: Clock,
    private readonly keys: FederatedIssuerKeys,
    private readonly jws: JwsBackend,
    private readonly replay: ReplayStore,
    private readonly clients: ClientService,
  ) {
    this.issuers = new Map(settings.federation.issuers.map((i) => [i.issuer, i]));
  }

  /** The client a JWT-SVID presented without `client_id` names: by its (unverified) issuer and SPIFFE ID. */
  async identify(credentials: Presented): Promise<string | undefined> {
    const { payload } = this.decode(credentials.assertion);
    const identity = this.identity(payload, credentials.assertionType);
    return this.clients.findIdByFederatedCredential(identity.issuer.issuer, identity.subject);
  }

  async verify(found: ClientWithSecrets, credentials: Presented): Promise<AuthenticatedClient> {
    const client = found.client;
    const { jws, header, payload } = this.decode(credentials.assertion);
    const alg = header.alg;
    if (!isAsymmetricAlg(alg)) fail('assertion_alg_not_allowed', `alg ${String(alg)} not allowed for federated_jwt`);
    if (header.typ !== undefined && (typeof header.typ !== 'string' || !ACCEPTED_TYP.has(header.typ.toLowerCase())))
      fail('assertion_typ_not_accepted', `typ ${String(header.typ)} not accepted`);

    // Who the token says it is, checked against the operator's trust and the client's credentials
    // before any key is fetched: an untrusted issuer costs no outbound request.
    const { issuer, subject } = this.identity(payload, credentials.assertionType);
    if (!client.federatedCredentials.some((c) => c.issuer === issuer.issuer && c.subject === subject))
      fail('federated_credential_mismatch', 'iss and sub match none of the federated credentials');

    let key;
    try {
      key = await this.keys.key(issuer, header);
    } catch (e) {
      throw keyFailure(e, header.kid !== undefined);
    }
    if (!(await this.jws.verify(jws, credentials.assertion, alg as string, key)))
      fail('signature_invalid', 'signature verification failed');

    const problem = this.claimProblem(payload, issuer);
    if (problem) fail(problem[0], problem[1]);
    if (issuer.replay === 'single-use') {
      // Per issuer and token: its jti, or (JWT-SVIDs may have none) the digest of the token itself.
      const id =
        typeof payload.jti === 'string' && payload.jti !== ''
          ? `jti:${payload.jti}`
          : `token:${digest(credentials.assertion)}`;
      const remembered = `federated:${digest(`${issuer.issuer}\n${id}`)}`;
      if (
        !(await this.replay.consume(
          client.clientId,
          remembered,
          Math.ceil(payload.exp as number) + this.settings.clockSkew,
        ))
      )
        fail('jti_replayed', 'platform token already used (the issuer is single-use)');
    }
    return {
      client,
      credential: { type: 'federated', id: federatedCredentialKey({ issuer: issuer.issuer, subject }) },
    };
  }

  private decode(assertion: string): {
    jws: DecodedJws;
    header: { alg?: unknown; typ?: unknown; kid?: unknown };
    payload: JWTPayload;
  } {
    if (assertion.length > this.settings.limits.assertionLength) fail('assertion_too_long', 'too long');
    let jws: DecodedJws;
    try {
      jws = decodeJws(assertion);
    } catch (e) {
      fail('assertion_malformed', e instanceof JwsFormatError ? e.message : 'malformed JWS');
    }
    const payload = jws.payload as JWTPayload;
    if (typeof payload !== 'object' || payload === null || Array.isArray(payload))
      fail('assertion_malformed', 'payload is not a JSON object');
    return { jws, header: jws.header as { alg?: unknown; typ?: unknown; kid?: unknown }, payload };
  }

  /**
   * The trusted issuer and subject of a token. A JWT-SVID may omit `iss`: its issuer is then
   * `spiffe://<trust domain of sub>`; a SPIFFE issuer's tokens must name a SPIFFE ID in its trust domain.
   */
  private identity(
    payload: JWTPayload,
    type: Presented['assertionType'],
  ): { issuer: FederatedIssuer; subject: string } {
    const subject = payload.sub;
    if (typeof subject !== 'string' || subject === '') fail('assertion_malformed', 'sub missing');
    const spiffe = SPIFFE_ID.exec(subject);
    if (type === 'jwt-spiffe' && !spiffe) fail('federated_not_spiffe', 'sub is not a SPIFFE ID');
    const iss = payload.iss ?? (spiffe ? `spiffe://${spiffe[1]}` : undefined);
    if (typeof iss !== 'string' || iss === '') fail('assertion_malformed', 'iss missing');
    const issuer = this.issuers.get(iss);
    if (!issuer) fail('federated_issuer_untrusted', 'iss is not a trusted issuer');
    if (issuer.trustDomain !== null && spiffe?.[1] !== issuer.trustDomain)
      fail('federated_issuer_untrusted', "sub is not a SPIFFE ID in the issuer's trust domain");
    if (type === 'jwt-spiffe' && issuer.trustDomain === null)
      fail('federated_not_spiffe', 'jwt-spiffe from an issuer that is no SPIFFE trust domain');
    return { issuer, subject };
  }

  private claimProblem(payload: JWTPayload, issuer: FederatedIssuer): [ClientAuthFailure, string] | undefined {
    const now = this.clock.nowSeconds();
    const skew = this.settings.clockSkew;
    const isTime = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
    if (!isTime(payload.exp)) return ['assertion_exp_missing', 'exp missing or not a number'];
    if (payload.exp <= now - skew) return ['assertion_expired', 'expired'];
    if (payload.nbf !== undefined && (!isTime(payload.nbf) || payload.nbf > now + skew))
      return ['assertion_not_yet_valid', 'nbf invalid or in the future'];
    if (payload.iat !== undefined && (!isTime(payload.iat) || payload.iat > now + skew))
      return ['assertion_not_yet_valid', 'iat invalid or in the future'];
    if (
      payload.iat !== undefined
        ? payload.exp - payload.iat > issuer.maxLifetime
        : payload.exp - now > issuer.maxLifetime + skew
    )
      return [
        'federated_lifetime_exceeded',
        `lifetime longer than the issuer's max_lifetime of ${issuer.maxLifetime}s`,
      ];
    const aud = payload.aud;
    const sole = typeof aud === 'string' ? aud : Array.isArray(aud) && aud.length === 1 ? aud[0] : undefined;
    if (sole !== this.settings.issuer)
      return ['assertion_aud_not_issuer', 'aud must be the issuer identifier as its sole value'];
    return undefined;
  }
}

function fail(reason: ClientAuthFailure, detail: string): never {
  throw OAuthError.invalidClient(reason, detail);
}

function digest(value: string): string {
  return createHash('sha256').update(value).digest('base64url');
}
