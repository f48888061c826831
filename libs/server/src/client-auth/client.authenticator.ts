import { observationOf } from '../observability/request-observation.js';
import { Inject, Injectable } from '@nestjs/common';
import { decodeProtectedHeader } from 'jose';
import type { IncomingHttpHeaders } from 'node:http';
import { AuditSink } from '../audit/audit.sink.js';
import type { ClientRecord, TokenEndpointAuthMethod } from '../clients/client.record.js';
import { ClientService } from '../clients/client.service.js';
import type { ClientWithSecrets } from '../clients/client.store.js';
import { migrationSecrets } from '../clients/secret-rotation.js';
import { Clock } from '../shared/clock.js';
import { isHmacAlg } from '../shared/jose-algorithms.js';
import { OAuthError } from '../errors/oauth-error.js';
import type { FormParams, HttpRequest } from '../shared/form-body.js';
import { RateLimitService } from '../rate-limit/rate-limit.service.js';
import { CLIENT_AUTH_STRATEGIES, type ClientAuthStrategy, type PresentedCredentials } from './client-auth.strategy.js';
import { readClientAssertion } from './client-assertion.verifier.js';
import { basicHeaderValue, readBasicCredentials } from './client-secret-basic.strategy.js';
import { readPostCredentials } from './client-secret-post.strategy.js';
import { clientAddress } from '../rate-limit/rate-limit.service.js';
import { CredentialUsageRecorder } from '../usage/credential-usage.recorder.js';

export { JWT_BEARER_ASSERTION } from './client-assertion.verifier.js';
export type { PresentedCredentials } from './client-auth.strategy.js';

/** What `randomId()` issues (32 hex digits): never the shape of a secret (43+ base64url characters). */
const ISSUED_ID_SHAPE = /^[0-9a-f]{32}$/;

/**
 * Authenticates the client of a token, introspection or revocation request with the one method it
 * registered, and only dispatches: reads which method the request uses (refusing mixtures), looks
 * the client up once, and hands it to the strategy of its registered method, which verifies the
 * credential. A failure is audited with its stable reason code and charged to the address's budget.
 * @see RFC 6749 §2.3, RFC 7521 §4.2, RFC 7523 §2.2
 */
@Injectable()
export class ClientAuthenticator {
  private readonly strategies: ReadonlyMap<TokenEndpointAuthMethod, ClientAuthStrategy>;

  constructor(
    private readonly clients: ClientService,
    @Inject(CLIENT_AUTH_STRATEGIES) strategies: ClientAuthStrategy[],
    private readonly audit: AuditSink,
    private readonly rateLimit: RateLimitService,
    private readonly clock: Clock,
    private readonly usage: CredentialUsageRecorder,
  ) {
    this.strategies = new Map(strategies.map((s) => [s.method, s]));
  }

  /** The client a credential without `client_id` names by itself (a JWT-SVID: by its issuer and SPIFFE ID). */
  private async identify(presented: PresentedCredentials): Promise<string | undefined> {
    for (const strategy of this.strategies.values())
      if (strategy.presentedAs === presented.method && strategy.identify) return strategy.identify(presented);
    return undefined;
  }

  /** `req`, when given, is the request whose address pays for a failure (its own rate-limit budget). */
  async authenticate(headers: IncomingHttpHeaders, form: FormParams, req?: HttpRequest): Promise<ClientRecord> {
    let presented: PresentedCredentials | undefined;
    let known: string | undefined;
    try {
      presented = readCredentials(headers, form);
      const clientId = presented.clientId ?? (await this.identify(presented));
      const found = clientId === undefined ? null : await this.clients.findWithSecrets(clientId);
      known = found?.client.clientId ?? (clientId && ISSUED_ID_SHAPE.test(clientId) ? clientId : undefined);
      if (!found) throw OAuthError.invalidClient('client_unknown', 'unknown client');
      const registered = found.client.tokenEndpointAuthMethod;
      // A jwt-bearer assertion about another subject than client_id: only a federated client's platform token may be that.
      if (
        presented.method === 'federated_jwt' &&
        registered !== 'federated_jwt' &&
        presented.assertionType === 'jwt-bearer'
      )
        throw OAuthError.invalidClient('client_id_mismatch', 'client_id differs from the assertion subject');
      const observation = observationOf(req);
      if (observation) observation.method = registered;
      const { strategy, credential: selected } = this.select(found, presented);
      // During a migration overlap the previous method's strategy answers: the metrics name that one.
      if (observation) observation.method = strategy.method;
      const { client, credential } = await strategy.verify(selected, presented);
      // After success only: one Map update, flushed later (docs/adr/0024-credential-usage-and-expiry-notices.md).
      this.usage.record(client.clientId, credential, req ? clientAddress(req) : undefined);
      return client;
    } catch (e) {
      if (e instanceof OAuthError && e.code === 'invalid_client') {
        const observation = observationOf(req);
        if (observation && presented) observation.method ??= presentedMethodLabel(presented.method);
        // The presented client_id only when it names a client or has the shape of an issued id: anything
        // else may be a secret sent in the wrong field (ADR 0012).
        this.audit.record({
          type: 'client.authentication_failed',
          clientId: known,
          method: presented?.method,
          reason: e.reason ?? 'credentials_malformed',
          detail: e.detail !== e.reason ? e.detail : undefined,
        });
        if (req) await this.rateLimit.authenticationFailed(req);
      }
      throw e;
    }
  }

  /**
   * The strategy of the registered method, or, during a migration's overlap (ADR 0021), the one of
   * the previous method with the secret kept for it — and that secret only. Both JWT methods take a
   * `client_assertion`: an HMAC-signed one goes to `client_secret_jwt`.
   */
  private select(
    found: ClientWithSecrets,
    presented: PresentedCredentials,
  ): { strategy: ClientAuthStrategy; credential: ClientWithSecrets } {
    const registered = found.client.tokenEndpointAuthMethod;
    const own = this.strategies.get(registered);
    const ownFits = own?.presentedAs === presented.method;
    // Most clients are not migrating: their secrets name no previous method, and the clock is not read.
    const migrating = found.secrets.some((s) => s.method !== null && s.method !== undefined);
    for (const secret of migrating ? migrationSecrets(found.secrets, this.clock.nowSeconds()) : []) {
      const previous = this.strategies.get(secret.method!);
      if (previous?.presentedAs !== presented.method) continue;
      if (
        ownFits &&
        presented.method === 'jwt' &&
        hmacSigned(presented.assertion) !== (secret.method === 'client_secret_jwt')
      )
        continue;
      const client = { ...found.client, tokenEndpointAuthMethod: secret.method!, tokenEndpointAuthSigningAlg: null };
      return { strategy: previous, credential: { client, secrets: [secret] } };
    }
    if (!own || !ownFits)
      throw OAuthError.invalidClient('method_mismatch', `presented ${presented.method}, registered ${registered}`);
    return { strategy: own, credential: found };
  }
}

/** Whether a client assertion's header names an HMAC algorithm (false when it cannot be read). */
function hmacSigned(assertion: string): boolean {
  try {
    const { alg } = decodeProtectedHeader(assertion);
    return typeof alg === 'string' && isHmacAlg(alg);
  } catch {
    return false;
  }
}

/**
 * Reads exactly one set of client credentials from the request (RFC 6749 §2.3: one method only),
 * with the reader of the method's own file.
 */
export function readCredentials(headers: IncomingHttpHeaders, form: FormParams): PresentedCredentials {
  const basic = basicHeaderValue(headers);
  const post = form.get('client_secret') !== undefined;
  const assertion = form.get('client_assertion') !== undefined || form.get('client_assertion_type') !== undefined;
  const used = [basic !== undefined, post, assertion].filter(Boolean).length;
  if (used > 1)
    throw OAuthError.invalidRequest(
      'only one client authentication method may be used',
      'several authentication methods presented',
    );
  if (used === 0)
    throw OAuthError.invalidClient(
      'credentials_missing',
      form.get('client_id') ? 'no client credentials presented' : 'no client authentication',
    );
  if (basic !== undefined) return readBasicCredentials(basic, form);
  if (post) return readPostCredentials(form);
  return readClientAssertion(form);
}

/** The metrics label of a request whose client was not found: how it presented its credential. */
function presentedMethodLabel(method: PresentedCredentials['method']): string {
  return method === 'jwt' ? 'client_assertion' : method;
}
