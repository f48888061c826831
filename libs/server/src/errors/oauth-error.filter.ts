import { Catch, Inject, Logger, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { AuditSink } from '../audit/audit.sink.js';
import { escapeLogText } from '../audit/log-text.js';
import { SERVER_SETTINGS, type ServerSettings } from '../options/server-settings.js';
import { OAuthError } from './oauth-error.js';
import { toOAuthError } from './to-oauth-error.js';
import { observationOf } from '../observability/request-observation.js';

/**
 * Renders every error of the Clavis controllers as RFC 6749 §5.2 / RFC 7591 §3.2.2 JSON with
 * `Cache-Control: no-store`. The private `detail` is logged, never sent; an unexpected error
 * becomes 500 `server_error` with its stack in the log only.
 */
@Catch()
export class OAuthErrorFilter implements ExceptionFilter {
  private readonly logger = new Logger('Clavis');

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    @Inject(SERVER_SETTINGS) private readonly settings: Pick<ServerSettings, 'issuer'>,
    private readonly audit: AuditSink,
  ) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const { httpAdapter } = this.adapterHost;
    const http = host.switchToHttp();
    const req = http.getRequest<{ headers: Record<string, string | undefined>; method?: string; url?: string }>();
    const res = http.getResponse();
    const error = toOAuthError(exception);
    const observation = observationOf(req);
    if (observation) observation.error = error.code;

    if (error.status >= 500) {
      // The URL and the detail may carry request bytes: escaped, so that they cannot forge log lines.
      const where = escapeLogText(`${req.method} ${req.url}`);
      if (error.code === 'server_error') this.logger.error(`${where}: ${escapeLogText(String(error.detail))}`);
      else this.logger.warn(`${where}: ${error.code} (${escapeLogText(String(error.detail))})`);
    } else if (error.detail && !(error instanceof OAuthError && error.code === 'invalid_client')) {
      // invalid_client reasons are recorded by the authenticator as audit events.
      this.audit.record({ type: 'request.failed', code: error.code, detail: escapeLogText(error.detail) });
    }

    if (
      error instanceof OAuthError &&
      error.code === 'invalid_client' &&
      /^\s*basic /i.test(req.headers.authorization ?? '')
    ) {
      httpAdapter.setHeader(res, 'WWW-Authenticate', `Basic realm="${this.settings.issuer}", charset="UTF-8"`); // RFC 6749 §5.2
    }
    if (error.code === 'invalid_token') {
      httpAdapter.setHeader(res, 'WWW-Authenticate', 'Bearer error="invalid_token"'); // RFC 6750 §3
    }
    if (error.status === 503 || error.status === 429)
      httpAdapter.setHeader(res, 'Retry-After', String((error instanceof OAuthError && error.retryAfter) || 5));
    httpAdapter.setHeader(res, 'Cache-Control', 'no-store');
    httpAdapter.setHeader(res, 'Pragma', 'no-cache');
    httpAdapter.reply(res, { error: error.code, error_description: error.description }, error.status);
  }
}
