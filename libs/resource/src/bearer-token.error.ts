import { HttpException, HttpStatus } from '@nestjs/common';

/**
 * RFC 6750 §3.1 error codes, plus `temporarily_unavailable` (RFC 6749 §4.1.2.1) for a 503 when the
 * token cannot be checked right now (key set or deny list unreachable).
 * @see RFC 6750 §3.1
 */
export type BearerErrorCode = 'invalid_request' | 'invalid_token' | 'insufficient_scope' | 'temporarily_unavailable';

/**
 * Response body of a {@link BearerTokenError}; `error` is absent when the request carried no token.
 * @see RFC 6750 §3.1
 */
export interface BearerErrorBody {
  error?: BearerErrorCode;
  error_description: string;
}

const DESCRIPTIONS = {
  missing: 'an access token is required',
  malformed: 'the Authorization header is not a valid Bearer credential',
  misplaced: 'the access token must be sent in the Authorization header only',
  invalid: 'the access token is invalid or expired',
  scope: 'the access token lacks the required scope',
  unavailable: 'the access token cannot be checked right now',
} as const;

/**
 * A failed bearer-token check. The body is `{ error, error_description }` with a fixed description per
 * case; the real reason is in `detail`, for logs only. `challenge()` renders the `WWW-Authenticate` value,
 * which `BearerTokenGuard` sets (exception filters do not).
 * @see RFC 6750 §3
 */
export class BearerTokenError extends HttpException {
  constructor(
    /** Error code; `undefined` when the request carried no token. */
    readonly code: BearerErrorCode | undefined,
    readonly description: string,
    status: number,
    /** Scopes the resource needs (`insufficient_scope` only). */
    readonly scope: readonly string[] = [],
    /** The real reason, never sent. */
    readonly detail?: string,
  ) {
    super(
      (code
        ? { error: code, error_description: description }
        : { error_description: description }) satisfies BearerErrorBody,
      status,
    );
    this.name = 'BearerTokenError';
  }

  /** 401 without an error code: the request has no bearer token (RFC 6750 §3.1). */
  static missingToken(): BearerTokenError {
    return new BearerTokenError(undefined, DESCRIPTIONS.missing, HttpStatus.UNAUTHORIZED);
  }
  /** 400 `invalid_request`: a malformed `Authorization` header, or a token outside it (RFC 6750 §2, §3.1). */
  static invalidRequest(reason: 'malformed' | 'misplaced', detail?: string): BearerTokenError {
    return new BearerTokenError('invalid_request', DESCRIPTIONS[reason], HttpStatus.BAD_REQUEST, [], detail);
  }
  /** 401 `invalid_token`: bad signature, wrong `typ`/`iss`/`aud`, expired, revoked… (RFC 6750 §3.1). */
  static invalidToken(detail?: string): BearerTokenError {
    return new BearerTokenError('invalid_token', DESCRIPTIONS.invalid, HttpStatus.UNAUTHORIZED, [], detail);
  }
  /** 403 `insufficient_scope`, naming the scopes the resource needs (RFC 6750 §3.1). */
  static insufficientScope(scope: readonly string[]): BearerTokenError {
    return new BearerTokenError('insufficient_scope', DESCRIPTIONS.scope, HttpStatus.FORBIDDEN, scope);
  }
  /** 503 `temporarily_unavailable`: the keys or the deny list could not be read; no challenge. */
  static unavailable(detail?: string): BearerTokenError {
    return new BearerTokenError(
      'temporarily_unavailable',
      DESCRIPTIONS.unavailable,
      HttpStatus.SERVICE_UNAVAILABLE,
      [],
      detail,
    );
  }

  /** The `WWW-Authenticate` value for this error, or `undefined` when none applies (503). */
  challenge(realm: string): string | undefined {
    if (this.code === 'temporarily_unavailable') return undefined;
    const params: [string, string][] = [['realm', realm]];
    if (this.code) params.push(['error', this.code], ['error_description', this.description]);
    if (this.scope.length) params.push(['scope', this.scope.join(' ')]);
    return `Bearer ${params.map(([name, value]) => `${name}=${quote(value)}`).join(', ')}`;
  }
}

// RFC 9110 §5.6.4 quoted-string.
function quote(value: string): string {
  return `"${value.replace(/[\\"]/g, '\\$&')}"`;
}
