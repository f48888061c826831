import { Controller, Header, HttpCode, Inject, Post, Req, UseFilters } from '@nestjs/common';
import { AuditSink } from '../audit/audit.sink.js';
import { ClientAuthenticator } from '../client-auth/client.authenticator.js';
import { OAuthError } from '../errors/oauth-error.js';
import { OAuthErrorFilter } from '../errors/oauth-error.filter.js';
import { SERVER_SETTINGS, type ServerSettings } from '../options/server-settings.js';
import { readForm, type HttpRequest } from '../shared/form-body.js';
import { RateLimitService } from '../rate-limit/rate-limit.service.js';
import { AccessTokenInspector } from './access-token.inspector.js';
import { LocalRevocations } from './local-revocations.js';
import { DenyList } from './deny-list.js';

/**
 * `POST /revoke`: a client revokes one of its own access tokens; its `jti` joins the deny list
 * until the token's `exp`. Unknown, invalid or foreign tokens get the same 200 (RFC 7009 §2.2),
 * so the endpoint reveals nothing about tokens the caller does not own.
 * @see RFC 7009 §2
 */
@Controller()
@UseFilters(OAuthErrorFilter)
export class RevocationController {
  constructor(
    private readonly authenticator: ClientAuthenticator,
    private readonly rateLimit: RateLimitService,
    private readonly inspector: AccessTokenInspector,
    private readonly denyList: DenyList,
    private readonly localRevocations: LocalRevocations,
    private readonly audit: AuditSink,
    @Inject(SERVER_SETTINGS) private readonly settings: ServerSettings,
  ) {}

  @Post('revoke')
  @HttpCode(200)
  @Header('Cache-Control', 'no-store')
  async revoke(@Req() req: HttpRequest): Promise<Record<string, never>> {
    await this.rateLimit.checkAddress(req, 'token');
    const form = await readForm(req, this.settings.limits.formBytes);
    const token = form.get('token');
    const client = await this.authenticator.authenticate(req.headers, form, req);
    if (!token) throw OAuthError.invalidRequest('token is required');
    // token_type_hint is only a hint: Clavis issues access tokens only, and an invalid hint is ignored (RFC 7009 §2.1).
    const claims = await this.inspector.verify(token);
    if (claims && claims.client_id === client.clientId) {
      await this.denyList.add(claims.jti!, claims.exp!);
      this.localRevocations.recorded();
      this.audit.record({ type: 'token.revoked', clientId: client.clientId, jti: claims.jti! });
    }
    return {};
  }
}
