import { Inject, Injectable, Logger, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { HttpAdapterHost, Reflector } from '@nestjs/core';
import { AccessTokenVerifier } from './access-token.verifier.js';
import { BearerTokenError } from './bearer-token.error.js';
import { readBearerToken, type BearerTokenRequest } from './bearer-token.reader.js';
import { RequireScopes } from './require-scopes.decorator.js';
import { RESOURCE_SETTINGS, type ResourceSettings } from './resource-options.js';
import { parseScope } from './scopes.js';
import type { ClavisRequest } from './token-claims.decorator.js';

/**
 * Admits a request only with a valid `Authorization: Bearer` access token holding the scopes named by
 * {@link RequireScopes}; hands the claims to {@link TokenClaims}. Failures throw a `BearerTokenError`
 * (401 / 400 / 403 / 503) and set the RFC 6750 `WWW-Authenticate` challenge on the response, on Express
 * and Fastify alike. Per route with `@UseGuards`, or global: `{ provide: APP_GUARD, useClass: BearerTokenGuard }`.
 * @see RFC 6750 §3
 * @example
 * ```ts
 * @Controller('statements')
 * @UseGuards(BearerTokenGuard)
 * export class StatementsController {
 *   @Get() @RequireScopes(['statements:read'])
 *   list(@TokenClaims('client_id') clientId: string) { … }
 * }
 * ```
 */
@Injectable()
export class BearerTokenGuard implements CanActivate {
  private readonly logger = new Logger('ClavisResource');

  constructor(
    private readonly reflector: Reflector,
    private readonly verifier: AccessTokenVerifier,
    private readonly adapterHost: HttpAdapterHost,
    @Inject(RESOURCE_SETTINGS) private readonly settings: ResourceSettings,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const http = context.switchToHttp();
    const request = http.getRequest<BearerTokenRequest & ClavisRequest>();
    const required = this.requiredScopes(context);
    try {
      const token = readBearerToken(request); // 400 invalid_request when malformed
      if (token === undefined) throw BearerTokenError.missingToken(); // 401, no error code
      const claims = await this.verifier.verify(token); // 401 invalid_token, 503
      if (!this.granted(claims, required)) throw BearerTokenError.insufficientScope(required); // 403
      request.clavisClaims = claims;
      return true;
    } catch (e) {
      if (e instanceof BearerTokenError) {
        if (e.detail) this.logger.debug(`${e.code}: ${e.detail}`);
        const challenge = e.challenge(this.settings.realm);
        if (challenge) this.adapterHost.httpAdapter.setHeader(http.getResponse(), 'WWW-Authenticate', challenge);
      }
      throw e;
    }
  }

  /** Each route's required scopes, read from its metadata once (a lookup per request showed in profiles). */
  private readonly required = new WeakMap<object, WeakMap<object, readonly string[]>>();
  /** The scopes of each verified token, parsed once: the verifier's cache hands out the same claims object. */
  private readonly scopes = new WeakMap<object, ReadonlySet<string>>();

  private requiredScopes(context: ExecutionContext): readonly string[] {
    const handler = context.getHandler();
    const cls = context.getClass();
    let byClass = this.required.get(handler);
    if (!byClass) this.required.set(handler, (byClass = new WeakMap()));
    let required = byClass.get(cls);
    if (!required) {
      required = this.reflector.getAllAndOverride(RequireScopes, [handler, cls]) ?? [];
      byClass.set(cls, required);
    }
    return required;
  }

  private granted(claims: object & { scope?: unknown }, required: readonly string[]): boolean {
    if (required.length === 0) return true;
    let granted = this.scopes.get(claims);
    if (!granted) this.scopes.set(claims, (granted = new Set(parseScope(claims.scope))));
    return required.every((scope) => granted.has(scope));
  }
}
