import { Controller, Header, HttpCode, Post, UseFilters } from '@nestjs/common';
import { OAuthError } from '../errors/oauth-error.js';
import { OAuthErrorFilter } from '../errors/oauth-error.filter.js';
import type { FormParams } from '../shared/form-body.js';
import { ClientCredentialsGrant } from './client-credentials.grant.js';
import { Authenticated, ClientAuthenticated } from './client-authentication.decorator.js';
import type { AuthenticatedForm } from './client-authentication.guard.js';

/** RFC 6749 §5.1 successful response. */
export interface TokenResponse {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  scope?: string;
}

/**
 * `POST /token`: the grant type is checked before the client is authenticated (its errors come
 * first), then the client's own rate limit, then the grant runs.
 * @see RFC 6749 §3.2, §4.4
 */
@Controller()
@UseFilters(OAuthErrorFilter)
export class TokenController {
  constructor(private readonly grant: ClientCredentialsGrant) {}

  @Post('token')
  @HttpCode(200)
  @Header('Cache-Control', 'no-store')
  @Header('Pragma', 'no-cache')
  @ClientAuthenticated({ beforeAuthentication: requireClientCredentialsGrant, chargeClient: true })
  async token(@Authenticated() { form, client }: AuthenticatedForm): Promise<TokenResponse> {
    const token = await this.grant.handle(client, form);
    return {
      access_token: token.accessToken,
      token_type: 'Bearer',
      expires_in: token.expiresIn,
      ...(token.scope ? { scope: token.scope } : {}),
    };
  }
}

/** The one grant Clavis serves (RFC 6749 §4.4). */
function requireClientCredentialsGrant(form: FormParams): void {
  const grantType = form.get('grant_type');
  if (!grantType) throw OAuthError.invalidRequest('grant_type is required');
  // Never echoed: a pasted secret must not reach the audit detail (ADR 0012).
  if (grantType !== 'client_credentials')
    throw OAuthError.unsupportedGrantType(`grant_type is not client_credentials (${grantType.length} characters)`);
}
