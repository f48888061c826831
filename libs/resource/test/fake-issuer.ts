// Test fixture: an authorization server stand-in serving RFC 8414 metadata and a JWK Set on 127.0.0.1,
// plus an in-process key source over the same published keys, and a token factory.
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK, type JWTHeaderParameters } from 'jose';
import type { AccessTokenKeySource } from '../src/index.js';

export const AUDIENCE = 'https://api.example.test';

export interface SigningKey {
  kid: string;
  alg: string;
  privateKey: CryptoKey | Uint8Array;
  jwk: JWK;
}

export async function generateSigningKey(kid: string, alg = 'ES256'): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  return { kid, alg, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } };
}

/** A clock that follows `Date.now()` (so faking Date moves it too) plus an adjustable offset. */
export function offsetClock() {
  let offset = 0;
  return {
    now: () => Date.now() + offset,
    advance: (seconds: number) => void (offset += seconds * 1000),
    reset: () => void (offset = 0),
  };
}

export interface FakeIssuer {
  url: string;
  /** The key that signs by default (`k1`), published. */
  key: SigningKey;
  published: JWK[];
  counts: { discovery: number; jwks: number; keySource: number };
  keySource: AccessTokenKeySource;
  /** Metadata served at the discovery URL; tests may change it. */
  metadata: Record<string, unknown>;
  /** Outage switch: while `'error'`, metadata and JWK Set answer 500; while `'stall'`, they send headers and part of a body, then nothing. */
  outage: { mode?: 'error' | 'stall' };
  publish(key: SigningKey): void;
  /** Signs an access token: sensible RFC 9068 claims (scope statements:read), overridable; `undefined` removes a claim. */
  token(options?: {
    claims?: Record<string, unknown>;
    header?: Partial<JWTHeaderParameters>;
    key?: SigningKey;
    now?: number;
  }): Promise<string>;
  close(): Promise<void>;
}

export async function startFakeIssuer(): Promise<FakeIssuer> {
  const key = await generateSigningKey('k1');
  const counts = { discovery: 0, jwks: 0, keySource: 0 };
  const published: JWK[] = [key.jwk];
  const metadata: Record<string, unknown> = {};
  const outage: { mode?: 'error' | 'stall' } = {};

  const server: Server = createServer((req, res) => {
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    const known = req.url === '/.well-known/oauth-authorization-server' || req.url === '/jwks';
    if (known && outage.mode === 'error') {
      if (req.url === '/jwks') counts.jwks++;
      else counts.discovery++;
      return send(500, { error: 'server_error' });
    }
    if (known && outage.mode === 'stall') {
      res.writeHead(200, { 'content-type': 'application/json' });
      return void res.write('{"issuer":');
    }
    if (req.url === '/.well-known/oauth-authorization-server') {
      counts.discovery++;
      return send(200, metadata);
    }
    if (req.url === '/jwks') {
      counts.jwks++;
      return send(200, { keys: published });
    }
    send(404, { error: 'not_found' });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  Object.assign(metadata, { issuer: url, jwks_uri: `${url}/jwks`, token_endpoint: `${url}/token` });

  return {
    url,
    key,
    published,
    counts,
    metadata,
    outage,
    keySource: {
      getKeySet: async () => {
        counts.keySource++;
        return { keys: structuredClone(published) };
      },
    },
    publish: (k) => void published.push(k.jwk),
    async token({ claims = {}, header = {}, key: signer = key, now = Date.now() } = {}) {
      const t = Math.floor(now / 1000);
      const payload: Record<string, unknown> = {
        iss: url,
        sub: 'client-1',
        client_id: 'client-1',
        aud: AUDIENCE,
        scope: 'statements:read',
        jti: randomUUID(),
        iat: t,
        exp: t + 300,
        ...claims,
      };
      for (const name of Object.keys(payload)) if (payload[name] === undefined) delete payload[name];
      return new SignJWT(payload)
        .setProtectedHeader({ alg: signer.alg, typ: 'at+jwt', kid: signer.kid, ...header })
        .sign(signer.privateKey);
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((e) => (e ? reject(e) : resolve()));
      }),
  };
}
