import { observationOf } from '../observability/request-observation.js';
import { Inject, Injectable } from '@nestjs/common';
import type { IncomingHttpHeaders } from 'node:http';
import { AuditSink } from '../audit/audit.sink.js';
import type { ClientRecord, TokenEndpointAuthMethod } from '../clients/client.record.js';
import { ClientService } from '../clients/client.service.js';
import { OAuthError } from '../errors/oauth-error.js';
import type { FormParams, HttpRequest } from '../shared/form-body.js';
import { RateLimitService } from '../rate-limit/rate-limit.service.js';
import { CLIENT_AUTH_STRATEGIES, type ClientAuthStrategy, type PresentedCredentials } from './client-auth.strategy.js';
import { readClientAssertion } from './client-assertion.verifier.js';
import { basicHeaderValue, readBasicCredentials } from './client-secret-basic.strategy.js';
import { readPostCredentials } from './client-secret-post.strategy.js';

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
  ) {
    this.strategies = new Map(strategies.map((s) => [s.method, s]));
  }

  /** `req`, when given, is the request whose address pays for a failure (its own rate-limit budget). */
  async authenticate(headers: IncomingHttpHeaders, form: FormParams, req?: HttpRequest): Promise<ClientRecord> {
    let presented: PresentedCredentials | undefined;
    let known: string | undefined;
    try {
      presented = readCredentials(headers, form);
      const found = await this.clients.findWithSecrets(presented.clientId);
      known = found?.client.clientId ?? (ISSUED_ID_SHAPE.test(presented.clientId) ? presented.clientId : undefined);
      if (!found) throw OAuthError.invalidClient('client_unknown', 'unknown client');
      const registered = found.client.tokenEndpointAuthMethod;
      const strategy = this.strategies.get(registered);
      const observation = observationOf(req);
      if (observation) observation.method = registered;
      if (!strategy || strategy.presentedAs !== presented.method)
        throw OAuthError.invalidClient('method_mismatch', `presented ${presented.method}, registered ${registered}`);
      return await strategy.verify(found, presented);
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
