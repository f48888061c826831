import type { KeyObject } from 'node:crypto';
import { availableParallelism } from 'node:os';
import type { CryptoKey, JWK } from 'jose';
import type { DecodedJws } from './compact-jws.js';

/** Signs the access token's compact JWS. */
export type JwsSigner = (header: Record<string, unknown>, claims: Record<string, unknown>) => Promise<string>;

/** An HMAC secret or a public key, already selected by the caller (at most one key per assertion). */
export type VerificationKey = Uint8Array | KeyObject;

/**
 * How JWS are signed and verified: `threadpool`, jose (WebCrypto, libuv's thread pool), the faster
 * choice when the process has a spare core; `inline`, node:crypto on the main thread, which avoids
 * the thread hop and WebCrypto's per-call overhead — about 2.5× cheaper per token and per assertion
 * with a single core (docs/adr/0007-hot-path-costs.md). `auto` (default) picks by
 * `os.availableParallelism()`, which honours CPU affinity.
 */
export type CryptoMode = 'auto' | 'inline' | 'threadpool';

export function resolveCryptoMode(mode: CryptoMode): 'inline' | 'threadpool' {
  if (mode !== 'auto') return mode;
  return availableParallelism() > 1 ? 'threadpool' : 'inline';
}

/**
 * The one crypto backend of the process, chosen once at module start from `cryptoMode` (the
 * `JwsBackend` provider): access-token signing (`keys/`) and client-assertion verification
 * (`client-auth/`) both go through it. Parsing (`decodeJws`), key selection and the claim rules
 * are the callers', the same code for both backends.
 */
export abstract class JwsBackend {
  abstract readonly mode: 'inline' | 'threadpool';

  /**
   * Whether `key` made the signature of this JWS with `alg`; false for a key whose type or curve does
   * not fit `alg`. `jws` is `compact` decoded by {@link decodeJws}.
   */
  abstract verify(jws: DecodedJws, compact: string, alg: string, key: VerificationKey): Promise<boolean>;

  /** A signer for one server key, its private part imported once. */
  abstract signer(alg: string, privateJwk: JWK, cryptoKey: CryptoKey): JwsSigner;
}
