import type { ClientRegistration } from './registration-client.js';

/**
 * Error codes of {@link ClavisClientError}: the server's RFC 6749 §5.2, RFC 8707 and RFC 7591 §3.2.2
 * codes, passed through, plus the SDK's own codes for failures that have no server code.
 */
export type ClavisClientErrorCode =
  // RFC 6749 §5.2, RFC 8707 §2 (token endpoint)
  | 'invalid_request'
  | 'invalid_client'
  | 'invalid_grant'
  | 'unauthorized_client'
  | 'unsupported_grant_type'
  | 'invalid_scope'
  | 'invalid_target'
  | 'server_error'
  | 'temporarily_unavailable'
  // RFC 7591 §3.2.2, RFC 6750 §3.1 (registration endpoints)
  | 'invalid_client_metadata'
  | 'invalid_redirect_uri'
  | 'invalid_software_statement'
  | 'unapproved_software_statement'
  | 'invalid_token'
  // the SDK's own
  | 'network_error' // no response: connection failure, timeout, abort
  | 'http_error' // an error response without a recognised error code (5xx page, 3xx, 404…)
  | 'invalid_response' // a success response that breaks the protocol (bad JSON, missing fields, issuer mismatch)
  | 'not_registered' // a registration operation before register() or after delete()
  | 'invalid_url' // a URL the SDK will not send to: not https (http only for localhost), or off the issuer's origin
  | 'response_too_large' // a response body over maxResponseBytes; the read was abandoned
  | 'credentials_not_persisted' // onCredentials threw; the new registration is on error.registration (and adopted)
  | 'invalid_key' // a private key that cannot sign, or a public key that does not match it
  | 'credential_unavailable'; // federatedJwt: the platform token could not be read (file missing or empty, function failed)

const SERVER_CODES: ReadonlySet<string> = new Set<ClavisClientErrorCode>([
  'invalid_request',
  'invalid_client',
  'invalid_grant',
  'unauthorized_client',
  'unsupported_grant_type',
  'invalid_scope',
  'invalid_target',
  'server_error',
  'temporarily_unavailable',
  'invalid_client_metadata',
  'invalid_redirect_uri',
  'invalid_software_statement',
  'unapproved_software_statement',
  'invalid_token',
]);

/**
 * The one error type of `@clavis/client`. Switch on `code`; `status` is the HTTP status when there
 * was a response; `description` is the server's `error_description` or the SDK's explanation.
 * @see RFC 6749 §5.2, RFC 7591 §3.2.2
 */
export class ClavisClientError extends Error {
  /**
   * With `credentials_not_persisted`: the registration the server issued and the client adopted,
   * which `onCredentials` failed to store. Not enumerable, so logging the error does not print it.
   */
  declare readonly registration?: ClientRegistration;

  constructor(
    readonly code: ClavisClientErrorCode,
    readonly description: string,
    readonly status?: number,
    options?: { cause?: unknown },
  ) {
    super(`${code}: ${description}`, options);
    this.name = 'ClavisClientError';
  }

  /** Maps a server's `error` value to a code: known codes pass through, anything else is `http_error`. */
  static fromServer(error: unknown, description: unknown, status: number): ClavisClientError {
    const known = typeof error === 'string' && SERVER_CODES.has(error);
    const text = typeof description === 'string' ? printable(description) : '';
    if (known) {
      return new ClavisClientError(error as ClavisClientErrorCode, text, status);
    }
    const detail =
      typeof error === 'string' ? `${printable(error)}${text ? `: ${text}` : ''}` : `unexpected HTTP status ${status}`;
    return new ClavisClientError('http_error', detail, status);
  }
}

/** Server-chosen text as it may appear in a message: no control characters, at most 500 characters. */
function printable(text: string): string {
  const clean = text.replace(/\p{Cc}/gu, ' ');
  return clean.length > 500 ? `${clean.slice(0, 500)}…` : clean;
}
