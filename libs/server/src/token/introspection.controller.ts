import { Controller, Header, HttpCode, Inject, Post, Req, UseFilters } from '@nestjs/common';
import { ClientAuthenticator } from '../client-auth/client.authenticator.js';
import { OAuthError } from '../errors/oauth-error.js';
import { OAuthErrorFilter } from '../errors/oauth-error.filter.js';
import { SERVER_SETTINGS, type ServerSettings } from '../options/server-settings.js';
import { readForm, type HttpRequest } from '../shared/form-body.js';
import { RateLimitService } from '../rate-limit/rate-limit.service.js';
import { AccessTokenInspector } from './access-token.inspector.js';

/**
 * `POST /introspect`: any authenticated client (typically a resource server) may ask whether a
 * token is active; inactive, unknown, expired, revoked or foreign tokens are all `{active:false}`.
 * @see RFC 7662 §2
 */
@Controller()
@UseFilters(OAuthErrorFilter)
export class IntrospectionController {
  constructor(
    private readonly authenticator: ClientAuthenticator,
    private readonly rateLimit: RateLimitService,
    private readonly inspector: AccessTokenInspector,
    @Inject(SERVER_SETTINGS) private readonly settings: ServerSettings,
  ) {}

  @Post('introspect')
  @HttpCode(200)
  @Header('Cache-Control', 'no-store')
  async introspect(@Req() req: HttpRequest): Promise<Record<string, unknown>> {
    await this.rateLimit.checkAddress(req, 'token');
    const form = await readForm(req, this.settings.limits.formBytes);
    const token = form.get('token');
    await this.authenticator.authenticate(req.headers, form, req);
    if (!token) throw OAuthError.invalidRequest('token is required');
    const claims = await this.inspector.inspect(token);
    if (!claims) return { active: false };
    return { active: true, token_type: 'Bearer', ...claims };
  }
}
