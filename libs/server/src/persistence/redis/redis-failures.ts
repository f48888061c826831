import { NETWORK_FAILURE_CODES } from '../storage.js';

/** ioredis's messages while Redis is down (no offline queue, retries exhausted, socket closed). */
const REDIS_OUTAGE_MESSAGE = /Connection is closed|Stream isn't writeable|enableOfflineQueue/i;

/** Whether an ioredis failure means Redis is unreachable. */
export function isRedisOutage(error: unknown): boolean {
  const e = error as { code?: unknown; message?: unknown; name?: unknown } | null;
  if (!e || typeof e !== 'object') return false;
  if (e.name === 'MaxRetriesPerRequestError' || (typeof e.code === 'string' && NETWORK_FAILURE_CODES.has(e.code)))
    return true;
  return typeof e.message === 'string' && REDIS_OUTAGE_MESSAGE.test(e.message);
}
