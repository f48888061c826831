import { Controller, Header, HttpCode, Post, UseFilters } from '@nestjs/common';
import { AuditSink } from '../audit/audit.sink.js';
import { OAuthError } from '../errors/oauth-error.js';
import { OAuthErrorFilter } from '../errors/oauth-error.filter.js';
import { AccessTokenInspector } from './access-token.inspector.js';
import { Authenticated, ClientAuthenticated } from './client-authentication.decorator.js';
import type { AuthenticatedForm } from './client-authentication.guard.js';
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
    private readonly inspector: AccessTokenInspector,
    private readonly denyList: DenyList,
    private readonly localRevocations: LocalRevocations,
    private readonly audit: AuditSink,
  ) {}

  @Post('revoke')
  @HttpCode(200)
  @Header('Cache-Control', 'no-store')
  @ClientAuthenticated()
  async revoke(@Authenticated() { form, client }: AuthenticatedForm): Promise<Record<string, never>> {
    const token = form.get('token');
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
