import { InlineJwsBackend } from './inline.jws-backend.js';
import { resolveCryptoMode, type CryptoMode, type JwsBackend } from './jws-backend.js';
import { ThreadpoolJwsBackend } from './threadpool.jws-backend.js';

/** The backend for a `cryptoMode` (`auto` resolved here, once). */
export function createJwsBackend(mode: CryptoMode): JwsBackend {
  return resolveCryptoMode(mode) === 'inline' ? new InlineJwsBackend() : new ThreadpoolJwsBackend();
}
