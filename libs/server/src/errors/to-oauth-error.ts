import { HttpException } from '@nestjs/common';
import { OAuthError, StorageUnavailableError } from './oauth-error.js';
import { KeyEncryptionKeyMismatchError } from '../shared/crypto.js';

/** Network and server-state error codes that mean "the database or Redis is unreachable". */
const OUTAGE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH', 'EAI_AGAIN', '57P01', '57P02', '57P03', '53300', 'SQLITE_BUSY', 'SQLITE_LOCKED', 'SQLITE_IOERR', 'SQLITE_CANTOPEN', 'SQLITE_FULL']);

/** Whether an error means the storage is unreachable (not a bug): 503, not 500. */
export function isStorageOutage(error: unknown): boolean {
  if (error instanceof StorageUnavailableError) return true;
  const e = error as { code?: unknown; driverError?: { code?: unknown }; message?: unknown; name?: unknown } | null;
  if (!e || typeof e !== 'object') return false;
  const code = String(e.driverError?.code ?? e.code ?? '');
  if (OUTAGE_CODES.has(code) || code.startsWith('08')) return true;
  const message = typeof e.message === 'string' ? e.message : '';
  return (
    e.name === 'MaxRetriesPerRequestError' ||
    /Connection terminated|connection is closed|Connection is closed|timeout exceeded when trying to connect|The database connection is not open|Stream isn't writeable|Driver not Connected|enableOfflineQueue/i.test(message)
  );
}

/** Maps anything thrown in a Clavis controller to the error rendered. */
export function toOAuthError(exception: unknown): OAuthError {
  if (exception instanceof OAuthError) return exception;
  if (isStorageOutage(exception)) return OAuthError.temporarilyUnavailable((exception as Error)?.message);
  if (exception instanceof HttpException && exception.getStatus() < 500) {
    return new OAuthError('invalid_request', 'the request is malformed', exception.getStatus(), exception.message);
  }
  // A key-encryption key missing from this instance's configuration: the one-line reason, not a stack.
  if (exception instanceof KeyEncryptionKeyMismatchError) return OAuthError.serverError(exception.message);
  return OAuthError.serverError(exception instanceof Error ? exception.stack ?? exception.message : String(exception));
}
