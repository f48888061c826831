import { Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ClientAuthenticator } from '../client-auth/client.authenticator.js';
import type { ClientRecord } from '../clients/client.record.js';
import { SERVER_SETTINGS, type ServerSettings } from '../options/server-settings.js';
import { RateLimitService } from '../rate-limit/rate-limit.service.js';
import { readForm, type FormParams, type HttpRequest } from '../shared/form-body.js';

/** What an endpoint adds to the shared preamble. */
export interface ClientAuthenticationOptions {
  /** Form checks whose errors come before the client's (the token endpoint's `grant_type`). */
  readonly beforeAuthentication?: (form: FormParams) => void;
  /** Whether the authenticated client's own rate limit is charged too (the token endpoint). */
  readonly chargeClient?: boolean;
}

/** What the guard hands the handler: the form it read and the client it authenticated. */
export interface AuthenticatedForm {
  readonly form: FormParams;
  readonly client: ClientRecord;
}

/** Where the guard leaves its {@link AuthenticatedForm} on the request. */
export const AUTHENTICATED_FORM = Symbol('clavis.authenticatedForm');

/** The per-route options, set by `@ClientAuthenticated()`. */
export const CLIENT_AUTHENTICATION_OPTIONS = Reflector.createDecorator<ClientAuthenticationOptions>();

const NO_OPTIONS: ClientAuthenticationOptions = {};

/**
 * The preamble of the endpoints a client calls with its credentials (token, introspection,
 * revocation), in the order whose errors the clients see: the address's rate limit (and its
 * failed-authentication budget), the form (size, content type, repeated parameters), the
 * endpoint's own early checks, the client's authentication, then the client's own rate limit.
 * Errors reach the controller's `OAuthErrorFilter` like the handler's own.
 * @see RFC 6749 §2.3, §3.2, RFC 7009 §2.1, RFC 7662 §2.1
 */
@Injectable()
export class ClientAuthenticationGuard implements CanActivate {
  private readonly formBytes: number;
  /** Each handler's options, read from its metadata once (a metadata lookup per request showed in profiles). */
  private readonly options = new WeakMap<object, ClientAuthenticationOptions>();

  constructor(
    private readonly reflector: Reflector,
    private readonly rateLimit: RateLimitService,
    private readonly authenticator: ClientAuthenticator,
    @Inject(SERVER_SETTINGS) settings: Pick<ServerSettings, 'limits'>,
  ) {
    this.formBytes = settings.limits.formBytes;
  }

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const req = context.getArgByIndex<HttpRequest & { [AUTHENTICATED_FORM]?: AuthenticatedForm }>(0);
    const options = this.optionsOf(context.getHandler());
    await this.rateLimit.checkAddress(req, 'token');
    const form = await readForm(req, this.formBytes);
    options.beforeAuthentication?.(form);
    const client = await this.authenticator.authenticate(req.headers, form, req);
    if (options.chargeClient) await this.rateLimit.checkClient(client.clientId);
    req[AUTHENTICATED_FORM] = { form, client };
    return true;
  }

  private optionsOf(handler: object): ClientAuthenticationOptions {
    let options = this.options.get(handler);
    if (!options) {
      options = this.reflector.get(CLIENT_AUTHENTICATION_OPTIONS, handler as never) ?? NO_OPTIONS;
      this.options.set(handler, options);
    }
    return options;
  }
}
