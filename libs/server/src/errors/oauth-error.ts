import type { ClientAuthFailure } from './client-auth-failure.js';

/** RFC 6749 §5.2, RFC 7009 §2.2.1 and RFC 8707 §2 error codes. */
export type OAuthErrorCode =
  | 'invalid_request'
  | 'invalid_client'
  | 'invalid_grant'
  | 'unauthorized_client'
  | 'unsupported_grant_type'
  | 'invalid_scope'
  | 'invalid_target'
  | 'unsupported_token_type'
  | 'temporarily_unavailable'
  | 'server_error';

/** RFC 7591 §3.2.2 error codes, plus 401 for a missing or wrong access token (RFC 6750). */
export type RegistrationErrorCode =
  | 'invalid_client_metadata'
  | 'invalid_redirect_uri'
  | 'invalid_software_statement'
  | 'unapproved_software_statement'
  | 'invalid_request'
  | 'invalid_token';

/**
 * An error of the OAuth endpoints (token family and registration: one class, docs/adr/0020-one-strategy-per-method-and-failure-codes.md).
 * `description` is public: fixed per code at the token family; specific for `invalid_client_metadata`
 * (it helps the developer fix the request and reveals nothing, RFC 7591 §3.2.2); `detail` is the real
 * reason, which goes to the log and the audit sink, never to the response body; `reason`, on a
 * client-authentication failure, is its stable code.
 * @see RFC 6749 §5.2
 */
export class OAuthError extends Error {
  /** Seconds for a `Retry-After` header (429 and 503). */
  retryAfter?: number;
  /** Why a client authentication failed (`invalid_client` only): a stable code, with `detail` as prose. */
  reason?: ClientAuthFailure;

  constructor(
    readonly code: OAuthErrorCode | RegistrationErrorCode,
    readonly description: string,
    readonly status = 400,
    readonly detail?: string,
  ) {
    super(`${code}: ${detail ?? description}`);
    this.name = 'OAuthError';
  }

  static invalidRequest(description: string, detail?: string) {
    return new OAuthError('invalid_request', description, 400, detail);
  }
  /** 401: the client could not be authenticated, for `reason`; `detail` adds what only a log may tell. */
  static invalidClient(reason: ClientAuthFailure, detail?: string) {
    return Object.assign(new OAuthError('invalid_client', 'client authentication failed', 401, detail ?? reason), {
      reason,
    });
  }
  static unauthorizedClient(description: string, detail?: string) {
    return new OAuthError('unauthorized_client', description, 400, detail);
  }
  static unsupportedGrantType(detail?: string) {
    return new OAuthError('unsupported_grant_type', 'the grant type is not supported', 400, detail);
  }
  static invalidScope(detail?: string) {
    return new OAuthError(
      'invalid_scope',
      'the requested scope is invalid or exceeds the registered scope',
      400,
      detail,
    );
  }
  static invalidTarget(detail?: string) {
    return new OAuthError(
      'invalid_target',
      'the requested resource is invalid or not allowed for this client',
      400,
      detail,
    );
  }
  static temporarilyUnavailable(detail?: string) {
    return new OAuthError('temporarily_unavailable', 'the service is temporarily unavailable', 503, detail);
  }
  /** 429: over a rate limit; `retryAfter` seconds go to the `Retry-After` header. */
  static tooManyRequests(retryAfter: number, detail?: string) {
    return Object.assign(new OAuthError('temporarily_unavailable', 'too many requests; retry later', 429, detail), {
      retryAfter,
    });
  }
  static serverError(detail?: string) {
    return new OAuthError('server_error', 'internal server error', 500, detail);
  }
  /** RFC 7591 §3.2.2: a metadata value is invalid; the description names it. */
  static invalidMetadata(description: string) {
    return new OAuthError('invalid_client_metadata', description, 400);
  }
  /** RFC 7592 §2 / RFC 6750 §3: the registration access token is missing, wrong or not for this client. */
  static invalidToken(detail: string) {
    return new OAuthError('invalid_token', 'the access token is missing, invalid or not for this client', 401, detail);
  }
}

/**
 * The registration endpoints' errors are {@link OAuthError}s; this name stays for hosts that import it.
 * @deprecated use OAuthError
 */
export const RegistrationError = OAuthError;
/** @deprecated use OAuthError */
export type RegistrationError = OAuthError;

/** The storage (database or Redis) did not answer: rendered as 503 `temporarily_unavailable`. */
export class StorageUnavailableError extends Error {
  constructor(
    readonly detail: string,
    options?: { cause?: unknown },
  ) {
    super(`storage unavailable: ${detail}`, options);
    this.name = 'StorageUnavailableError';
  }
}
