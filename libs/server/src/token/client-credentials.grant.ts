import { Inject, Injectable } from '@nestjs/common';
import type { ClientRecord } from '../clients/client.record.js';
import { OAuthError } from '../errors/oauth-error.js';
import { SERVER_SETTINGS, type ServerSettings } from '../options/server-settings.js';
import type { FormParams } from '../shared/form-body.js';
import { AccessTokenIssuer, type IssuedAccessToken } from './access-token.issuer.js';
import { SCOPE_TOKEN } from '../shared/scope.js';

/**
 * The client_credentials grant: scope ⊆ registered scope (none requested → the registered scope),
 * optional RFC 8707 `resource`s the client is allowed, then a JWT access token.
 * @see RFC 6749 §4.4, RFC 8707 §2
 */
@Injectable()
export class ClientCredentialsGrant {
  constructor(
    private readonly issuer: AccessTokenIssuer,
    @Inject(SERVER_SETTINGS) private readonly settings: Pick<ServerSettings, 'defaultAudience' | 'scopes'>,
  ) {}

  async handle(client: ClientRecord, form: FormParams): Promise<IssuedAccessToken> {
    if (!client.grantTypes.includes('client_credentials'))
      throw OAuthError.unauthorizedClient('the client may not use this grant type');
    const scope = grantedScope(form.get('scope'), client.scope, this.settings.scopes);
    const aud = audience(form.getAll('resource'), client.resources, this.settings.defaultAudience);
    return this.issuer.issue(client.clientId, scope, aud);
  }
}

/**
 * The granted scope: the requested one when it is within the registered scope. The error detail
 * names only scopes the server offers (`known`); other requested values are counted, never echoed:
 * they may be a secret pasted into the wrong field (ADR 0012).
 */
export function grantedScope(requested: string | undefined, registered: string, known: readonly string[] = []): string {
  if (requested === undefined) return registered;
  const tokens = requested.split(' ').filter((s) => s !== '');
  if (tokens.some((t) => !SCOPE_TOKEN.test(t))) throw OAuthError.invalidScope('malformed scope');
  const allowed = new Set(registered.split(' ').filter(Boolean));
  const outside = tokens.filter((t) => !allowed.has(t));
  if (outside.length) {
    const named = outside.filter((t) => known.includes(t));
    const unnamed = outside.length - named.length;
    throw OAuthError.invalidScope(
      `not registered: ${[...named, ...(unnamed ? [`${unnamed} value(s) this server does not offer`] : [])].join(', ')}`,
    );
  }
  return [...new Set(tokens)].join(' ');
}

/** The `aud` of the token: the requested resources (each allowed), else the default audience. */
export function audience(requested: string[], allowed: string[], fallback: string): string | string[] {
  if (requested.length === 0) return fallback;
  for (const r of requested) {
    let url: URL;
    try {
      url = new URL(r);
    } catch {
      throw OAuthError.invalidTarget('resource is not an absolute URI');
    }
    if (url.hash || r.includes('#')) throw OAuthError.invalidTarget('resource has a fragment');
    if (!allowed.includes(r)) throw OAuthError.invalidTarget('resource not allowed for this client');
  }
  const unique = [...new Set(requested)];
  return unique.length === 1 ? unique[0] : unique;
}
