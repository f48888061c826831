import { Controller, Header, HttpCode, Inject, Post, Req, UseFilters } from '@nestjs/common';
import { ClientAuthenticator } from '../client-auth/client.authenticator.js';
import { OAuthError } from '../errors/oauth-error.js';
import { OAuthErrorFilter } from '../errors/oauth-error.filter.js';
import { SERVER_SETTINGS, type ServerSettings } from '../options/server-settings.js';
import { readForm, type HttpRequest } from '../shared/form-body.js';
import { ClientCredentialsGrant } from './client-credentials.grant.js';
import { RateLimitService } from '../rate-limit/rate-limit.service.js';

/** RFC 6749 §5.1 successful response. */
export interface TokenResponse {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  scope?: string;
}

/**
 * `POST /token`: read the form, check the grant type, authenticate the client, run the grant.
 * @see RFC 6749 §3.2, §4.4
 */
@Controller()
@UseFilters(OAuthErrorFilter)
export class TokenController {
  constructor(
    private readonly authenticator: ClientAuthenticator,
    private readonly grant: ClientCredentialsGrant,
    private readonly rateLimit: RateLimitService,
    @Inject(SERVER_SETTINGS) private readonly settings: ServerSettings,
  ) {}

  @Post('token')
  @HttpCode(200)
  @Header('Cache-Control', 'no-store')
  @Header('Pragma', 'no-cache')
  async token(@Req() req: HttpRequest): Promise<TokenResponse> {
    await this.rateLimit.checkAddress(req, 'token');
    const form = await readForm(req, this.settings.limits.formBytes);
    const grantType = form.get('grant_type');
    if (!grantType) throw OAuthError.invalidRequest('grant_type is required');
    // Never echoed: a pasted secret must not reach the audit detail (ADR 0012).
    if (grantType !== 'client_credentials')
      throw OAuthError.unsupportedGrantType(`grant_type is not client_credentials (${grantType.length} characters)`);
    const client = await this.authenticator.authenticate(req.headers, form, req);
    await this.rateLimit.checkClient(client.clientId);
    const token = await this.grant.handle(client, form);
    return {
      access_token: token.accessToken,
      token_type: 'Bearer',
      expires_in: token.expiresIn,
      ...(token.scope ? { scope: token.scope } : {}),
    };
  }
}
