import { HttpException } from '@nestjs/common';
import { OAuthError, StorageUnavailableError } from './oauth-error.js';
import { KeyEncryptionKeyMismatchError } from '../shared/crypto.js';

/** Maps anything thrown in a Clavis controller to the error rendered. */
export function toOAuthError(exception: unknown): OAuthError {
  if (exception instanceof OAuthError) return exception;
  // The storage adapters turn their driver's outage failures into this one error (docs/adr/0019-storage-is-a-port.md).
  if (exception instanceof StorageUnavailableError) return OAuthError.temporarilyUnavailable(exception.message);
  if (exception instanceof HttpException && exception.getStatus() < 500) {
    return new OAuthError('invalid_request', 'the request is malformed', exception.getStatus(), exception.message);
  }
  // A key-encryption key missing from this instance's configuration: the one-line reason, not a stack.
  if (exception instanceof KeyEncryptionKeyMismatchError) return OAuthError.serverError(exception.message);
  return OAuthError.serverError(
    exception instanceof Error ? (exception.stack ?? exception.message) : String(exception),
  );
}
