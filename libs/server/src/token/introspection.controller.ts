import { Controller, Header, HttpCode, Post, UseFilters } from '@nestjs/common';
import { OAuthError } from '../errors/oauth-error.js';
import { OAuthErrorFilter } from '../errors/oauth-error.filter.js';
import { AccessTokenInspector } from './access-token.inspector.js';
import { Authenticated, ClientAuthenticated } from './client-authentication.decorator.js';
import type { AuthenticatedForm } from './client-authentication.guard.js';

/**
 * `POST /introspect`: any authenticated client (typically a resource server) may ask whether a
 * token is active; inactive, unknown, expired, revoked or foreign tokens are all `{active:false}`.
 * @see RFC 7662 §2
 */
@Controller()
@UseFilters(OAuthErrorFilter)
export class IntrospectionController {
  constructor(private readonly inspector: AccessTokenInspector) {}

  @Post('introspect')
  @HttpCode(200)
  @Header('Cache-Control', 'no-store')
  @ClientAuthenticated()
  async introspect(@Authenticated() { form }: AuthenticatedForm): Promise<Record<string, unknown>> {
    const token = form.get('token');
    if (!token) throw OAuthError.invalidRequest('token is required');
    const claims = await this.inspector.inspect(token);
    if (!claims) return { active: false };
    return { active: true, token_type: 'Bearer', ...claims };
  }
}
