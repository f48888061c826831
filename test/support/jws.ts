import { createHmac, webcrypto } from 'node:crypto';
import type { CryptoKey } from 'jose';

/**
 * Builds compact JWS by hand, so header and claims can be anything at all (wrong types, `alg`
 * values jose would refuse to sign with, non-JSON payloads) while the signature is still real.
 */
export type Signer =
  | { kind: 'ecdsa'; key: CryptoKey; hash: 'SHA-256' | 'SHA-384' | 'SHA-512' }
  | { kind: 'hmac'; secret: Uint8Array | string; hash: 'sha256' | 'sha384' | 'sha512' }
  | { kind: 'none' }
  | { kind: 'bytes'; bytes: Uint8Array };

const enc = (s: string | Uint8Array) => Buffer.from(s).toString('base64url');

/** `header` and `payload` are JSON-serialised unless given as raw strings (then sent as given). */
export async function rawJws(header: unknown, payload: unknown, signer: Signer): Promise<string> {
  const h = enc(typeof header === 'string' ? header : JSON.stringify(header));
  const p = enc(typeof payload === 'string' ? payload : JSON.stringify(payload));
  const input = `${h}.${p}`;
  return `${input}.${enc(await sign(input, signer))}`;
}

async function sign(input: string, signer: Signer): Promise<Uint8Array> {
  switch (signer.kind) {
    case 'ecdsa':
      return new Uint8Array(
        await webcrypto.subtle.sign(
          { name: 'ECDSA', hash: signer.hash },
          signer.key as unknown as webcrypto.CryptoKey,
          Buffer.from(input),
        ),
      );
    case 'hmac':
      return createHmac(signer.hash, signer.secret).update(input).digest();
    case 'none':
      return new Uint8Array(0);
    case 'bytes':
      return signer.bytes;
  }
}

/** Flips one bit of the decoded signature (so the change is never hidden by base64url leniency). */
export function flipSignatureBit(jws: string, bit: number): string {
  const [h, p, s] = jws.split('.');
  const sig = Buffer.from(s, 'base64url');
  if (sig.length === 0) return `${h}.${p}.AA`;
  const i = bit % (sig.length * 8);
  sig[i >> 3] ^= 1 << (i & 7);
  return `${h}.${p}.${sig.toString('base64url')}`;
}
