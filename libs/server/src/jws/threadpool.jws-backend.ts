import { compactVerify, SignJWT, type CryptoKey, type JWK } from 'jose';
import type { DecodedJws } from './compact-jws.js';
import { JwsBackend, type JwsSigner, type VerificationKey } from './jws-backend.js';

/**
 * jose (WebCrypto), whose signing and verification run on libuv's thread pool: the faster choice
 * when the process has a spare core (`cryptoMode` threadpool). jose re-reads the compact form
 * itself; the shared parser has already refused what jose would refuse, and the assertion corpus
 * proves both backends give every input the same answer.
 */
export class ThreadpoolJwsBackend extends JwsBackend {
  readonly mode = 'threadpool' as const;

  async verify(_jws: DecodedJws, compact: string, alg: string, key: VerificationKey): Promise<boolean> {
    try {
      await compactVerify(compact, key, { algorithms: [alg] });
      return true;
    } catch {
      // Whatever jose refuses (a wrong signature, a key that does not fit the algorithm) is a failed
      // verification, as it is for the inline backend.
      return false;
    }
  }

  signer(_alg: string, _privateJwk: JWK, cryptoKey: CryptoKey): JwsSigner {
    return (header, claims) => new SignJWT(claims).setProtectedHeader(header as { alg: string }).sign(cryptoKey);
  }
}
