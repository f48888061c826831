import { Injectable } from '@nestjs/common';
import type { IncomingHttpHeaders } from 'node:http';
import { AuditSink } from '../audit/audit.sink.js';
import type { ClientRecord, TokenEndpointAuthMethod } from '../clients/client.record.js';
import { ClientService } from '../clients/client.service.js';
import { OAuthError } from '../errors/oauth-error.js';
import type { FormParams, HttpRequest } from '../shared/form-body.js';
import { RateLimitService } from '../rate-limit/rate-limit.service.js';
import { AssertionVerifier } from './assertion.verifier.js';

export const JWT_BEARER_ASSERTION = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

/** The credentials a request presented, before any lookup. */
export type PresentedCredentials =
  | { method: 'client_secret_basic'; clientId: string; secret: string }
  | { method: 'client_secret_post'; clientId: string; secret: string }
  | { method: 'jwt'; clientId: string; assertion: string };

/**
 * Authenticates the client of a token, introspection or revocation request with the one method
 * it registered. One shared component, a small step per method (cf. node-oidc-provider).
 * @see RFC 6749 §2.3, RFC 7521 §4.2, RFC 7523 §2.2
 */
/** What `randomId()` issues (32 hex digits): never the shape of a secret (43+ base64url characters). */
const ISSUED_ID_SHAPE = /^[0-9a-f]{32}$/;

@Injectable()
export class ClientAuthenticator {
  constructor(
    private readonly clients: ClientService,
    private readonly assertions: AssertionVerifier,
    private readonly audit: AuditSink,
    private readonly rateLimit: RateLimitService,
  ) {}

  /** `req`, when given, is the request whose address pays for a failure (its own rate-limit budget). */
  async authenticate(headers: IncomingHttpHeaders, form: FormParams, req?: HttpRequest): Promise<ClientRecord> {
    let presented: PresentedCredentials | undefined;
    let known: string | undefined;
    try {
      presented = readCredentials(headers, form);
      const found = await this.clients.findWithSecrets(presented.clientId);
      known = found?.client.clientId ?? (ISSUED_ID_SHAPE.test(presented.clientId) ? presented.clientId : undefined);
      if (!found) throw OAuthError.invalidClient('unknown client');
      const registered = found.client.tokenEndpointAuthMethod;
      if (!methodMatches(presented, registered)) throw OAuthError.invalidClient(`presented ${presented.method}, registered ${registered}`);
      if (presented.method === 'jwt') {
        const keys = registered === 'private_key_jwt' ? ({ kind: 'asymmetric' } as const) : ({ kind: 'hmac', secrets: this.clients.hmacKeys(found) } as const);
        await this.assertions.verify(found.client, presented.assertion, keys);
      } else if (!this.clients.secretMatches(found, presented.secret)) throw OAuthError.invalidClient('secret does not match a valid secret');
      return found.client;
    } catch (e) {
      if (e instanceof OAuthError && e.code === 'invalid_client') {
        // The presented client_id only when it names a client or has the shape of an issued id: anything
        // else may be a secret sent in the wrong field (ADR 0012).
        this.audit.record({ type: 'client.authentication_failed', clientId: known, method: presented?.method, reason: e.detail ?? e.description });
        if (req) await this.rateLimit.authenticationFailed(req);
      }
      throw e;
    }
  }
}

function methodMatches(presented: PresentedCredentials, registered: TokenEndpointAuthMethod): boolean {
  if (presented.method === 'jwt') return registered === 'private_key_jwt' || registered === 'client_secret_jwt';
  return presented.method === registered;
}

/** Reads exactly one set of client credentials from the request (RFC 6749 §2.3: one method only). */
export function readCredentials(headers: IncomingHttpHeaders, form: FormParams): PresentedCredentials {
  const authorization = headers.authorization;
  const basic = typeof authorization === 'string' && /^basic /i.test(authorization.trimStart()) ? authorization.trimStart().slice(6).trim() : undefined;
  const assertionType = form.get('client_assertion_type');
  const assertion = form.get('client_assertion');
  const postSecret = form.get('client_secret');
  const formClientId = form.get('client_id');

  const used = [basic !== undefined, postSecret !== undefined, assertion !== undefined || assertionType !== undefined].filter(Boolean).length;
  if (used > 1) throw OAuthError.invalidRequest('only one client authentication method may be used', 'several authentication methods presented');
  if (used === 0) throw OAuthError.invalidClient(formClientId ? 'no client credentials presented' : 'no client authentication');

  if (basic !== undefined) {
    const decoded = Buffer.from(basic, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(basic) || colon < 0) throw OAuthError.invalidClient('malformed Basic credentials');
    const clientId = formDecode(decoded.slice(0, colon));
    const secret = formDecode(decoded.slice(colon + 1));
    if (!clientId || !secret) throw OAuthError.invalidClient('malformed Basic credentials');
    if (formClientId !== undefined && formClientId !== clientId) throw OAuthError.invalidRequest('client_id does not match the authenticated client', 'client_id mismatch');
    return { method: 'client_secret_basic', clientId, secret };
  }
  if (postSecret !== undefined) {
    if (!formClientId) throw OAuthError.invalidClient('client_secret without client_id');
    return { method: 'client_secret_post', clientId: formClientId, secret: postSecret };
  }
  if (assertionType !== JWT_BEARER_ASSERTION) throw OAuthError.invalidClient(`unsupported client_assertion_type`);
  if (!assertion) throw OAuthError.invalidClient('client_assertion missing');
  const clientId = AssertionVerifier.peekClientId(assertion);
  if (formClientId !== undefined && formClientId !== clientId) throw OAuthError.invalidClient('client_id differs from the assertion subject');
  return { method: 'jwt', clientId, assertion };
}

/** application/x-www-form-urlencoded decoding of a Basic credential part (RFC 6749 §2.3.1). */
function formDecode(value: string): string | undefined {
  try {
    return decodeURIComponent(value.replace(/\+/g, ' '));
  } catch {
    return undefined;
  }
}
