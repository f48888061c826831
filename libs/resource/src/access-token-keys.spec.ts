// Remote key sets under attack and outage: discovered jwks_uri rules, fetch backoff, the bound on
// stale keys, body size and read timeouts. Real node:http issuers on 127.0.0.1, real jose keys.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JWK } from 'jose';
import { AUDIENCE, generateSigningKey, startFakeIssuer, type FakeIssuer } from '../test/fake-issuer.js';
import { readLimited, ResponseTooLargeError } from './access-token-keys.js';
import { AccessTokenVerifier } from './access-token.verifier.js';
import { BearerTokenError } from './bearer-token.error.js';
import { resolveResourceOptions, type ClavisResourceOptions } from './resource-options.js';

const T0 = Date.UTC(2030, 0, 1);

function fixedClock(now = T0) {
  return { now: () => now, advance: (seconds: number) => void (now += seconds * 1000) };
}

async function failure(promise: Promise<unknown>) {
  const e = await promise.then(
    () => undefined,
    (error: unknown) => error,
  );
  expect(e).toBeInstanceOf(BearerTokenError);
  const error = e as BearerTokenError;
  return { status: error.getStatus(), code: error.code, detail: error.detail };
}

describe('remote key set', () => {
  let issuer: FakeIssuer;
  let other: FakeIssuer;
  const clock = fixedClock();
  const remote = (options: Partial<ClavisResourceOptions> = {}) =>
    new AccessTokenVerifier(resolveResourceOptions({ issuer: issuer.url, audience: AUDIENCE, clock, ...options }));
  const token = (options: Parameters<FakeIssuer['token']>[0] = {}) => issuer.token({ now: clock.now(), ...options });

  beforeAll(async () => {
    [issuer, other] = await Promise.all([startFakeIssuer(), startFakeIssuer()]);
  });
  afterAll(() => Promise.all([issuer.close(), other.close()]));

  describe('a jwks_uri from discovery', () => {
    const withJwksUri = async (jwksUri: string, run: () => Promise<void>) => {
      issuer.metadata.jwks_uri = jwksUri;
      try {
        await run();
      } finally {
        issuer.metadata.jwks_uri = `${issuer.url}/jwks`;
      }
    };

    it.each([
      ['plain http to a non-loopback host', 'http://keys.example.test/jwks', 'is not https (http only for localhost)'],
      ['a javascript: URL', 'javascript:alert(1)', 'is not https (http only for localhost)'],
      ['a file: URL', 'file:///etc/passwd', 'is not https (http only for localhost)'],
    ])('is refused when it is %s, before any request', async (_, jwksUri, reason) => {
      await withJwksUri(jwksUri, async () => {
        const result = await failure(remote().verify(await token()));
        expect(result).toMatchObject({ status: 503, code: 'temporarily_unavailable' });
        expect(result.detail).toContain(`jwks_uri ${JSON.stringify(jwksUri)} ${reason}`);
      });
    });

    it("is refused on another origin than the issuer's, unless allowedJwksOrigins names that origin", async () => {
      // The other origin serves keys that would verify: only the origin rule stops them.
      const forged = await token({ key: other.key });
      await withJwksUri(`${other.url}/jwks`, async () => {
        const before = other.counts.jwks;
        const result = await failure(remote().verify(forged));
        expect(result).toMatchObject({ status: 503, code: 'temporarily_unavailable' });
        expect(result.detail).toContain(`jwks_uri "${other.url}/jwks" is not on the issuer's origin`);
        expect(other.counts.jwks - before).toBe(0);
        expect((await remote({ allowedJwksOrigins: [other.url] }).verify(forged)).sub).toBe('client-1');
      });
    });
  });

  it('shares one fetch among concurrent requests naming a key the issuer has just published', async () => {
    const v = remote({ jwksUri: `${issuer.url}/jwks` });
    expect((await v.verify(await token())).sub).toBe('client-1');
    const next = await generateSigningKey(`next-${Date.now()}`);
    issuer.publish(next);
    clock.advance(10);
    const before = issuer.counts.jwks;
    const tokens = await Promise.all(Array.from({ length: 10 }, () => token({ key: next })));
    const claims = await Promise.all(tokens.map((t) => v.verify(t)));
    expect(claims.map((c) => c.sub)).toEqual(Array(10).fill('client-1'));
    expect(issuer.counts.jwks - before).toBe(1);
  });

  describe('while the issuer fails', () => {
    it('fetches the key set once per backoff step, not once per request with an unknown kid', async () => {
      const v = remote({ jwksUri: `${issuer.url}/jwks`, jwksCooldown: 10 });
      const before = issuer.counts.jwks;
      const fetches = () => issuer.counts.jwks - before;
      issuer.outage.mode = 'error';
      try {
        for (let i = 0; i < 100; i++) {
          const result = await failure(v.verify(await token({ header: { kid: `garbage-${i}` } })));
          expect(result).toMatchObject({ status: 503, code: 'temporarily_unavailable' });
        }
        expect(fetches()).toBe(1);
        // Backoff: 10 s after the first failure, then 20 s, then 40 s.
        const at = async (seconds: number, expected: number) => {
          clock.advance(seconds);
          await failure(v.verify(await token({ header: { kid: 'garbage' } })));
          expect(fetches()).toBe(expected);
        };
        await at(9, 1);
        await at(1, 2);
        await at(19, 2);
        await at(1, 3);
        await at(39, 3);
        await at(1, 4);
      } finally {
        issuer.outage.mode = undefined;
      }
      clock.advance(80);
      expect((await v.verify(await token())).sub).toBe('client-1');
      expect(fetches()).toBe(5);
    });

    it('keeps the last good keys for their kids until jwksMaxStale, then answers 503; recovers with the issuer', async () => {
      const v = remote({ jwksUri: `${issuer.url}/jwks`, jwksMaxStale: 3_600 });
      const before = issuer.counts.jwks;
      const fetches = () => issuer.counts.jwks - before;
      expect((await v.verify(await token())).sub).toBe('client-1');
      issuer.outage.mode = 'error';
      try {
        clock.advance(20 * 60); // past the 10-minute refresh: one refresh, which fails
        for (let i = 0; i < 10; i++) expect((await v.verify(await token())).sub).toBe('client-1');
        expect(fetches()).toBe(2);
        clock.advance(3_600 - 20 * 60 - 1); // 1 s before the bound: still served
        expect((await v.verify(await token())).sub).toBe('client-1');
        clock.advance(1); // the last good fetch is jwksMaxStale old
        expect(await failure(v.verify(await token()))).toMatchObject({
          status: 503,
          code: 'temporarily_unavailable',
          detail: `${issuer.url}/jwks answered 500`,
        });
      } finally {
        issuer.outage.mode = undefined;
      }
      clock.advance(300);
      expect((await v.verify(await token())).sub).toBe('client-1');
    });

    it('backs off after an invalid JWK Set just as after an error status', async () => {
      const v = remote({ jwksUri: `${issuer.url}/jwks` });
      const before = issuer.counts.jwks;
      issuer.published.push('not a key' as unknown as JWK);
      try {
        for (let i = 0; i < 5; i++)
          expect(await failure(v.verify(await token()))).toMatchObject({
            status: 503,
            code: 'temporarily_unavailable',
            detail: expect.stringContaining(`${issuer.url}/jwks: not a JWK Set`),
          });
        expect(issuer.counts.jwks - before).toBe(1);
      } finally {
        issuer.published.pop();
      }
      clock.advance(10);
      expect((await v.verify(await token())).sub).toBe('client-1');
    });

    it('reports a metadata document that stops arriving as a timeout, not as an issuer mismatch', async () => {
      issuer.outage.mode = 'stall';
      try {
        const result = await failure(remote({ jwksTimeout: 1 }).verify(await token()));
        expect(result).toMatchObject({ status: 503, code: 'temporarily_unavailable' });
        expect(result.detail).toContain('authorization server metadata read timed out');
        expect(result.detail).not.toContain('issuer does not match');
      } finally {
        issuer.outage.mode = undefined;
      }
    });
  });

  describe('response size', () => {
    it('abandons a metadata document larger than maxResponseBytes', async () => {
      issuer.metadata.padding = 'x'.repeat(100_000);
      try {
        const result = await failure(remote().verify(await token()));
        expect(result).toMatchObject({ status: 503, code: 'temporarily_unavailable' });
        expect(result.detail).toBe(
          `${issuer.url}/.well-known/oauth-authorization-server: authorization server metadata larger than 65536 bytes`,
        );
        expect((await remote({ maxResponseBytes: 200_000 }).verify(await token())).sub).toBe('client-1');
      } finally {
        delete issuer.metadata.padding;
      }
    });

    it('abandons a JWK Set larger than maxResponseBytes', async () => {
      issuer.published.push({ kty: 'EC', kid: 'padding', x5c: ['A'.repeat(70_000)] });
      try {
        const result = await failure(remote({ jwksUri: `${issuer.url}/jwks` }).verify(await token()));
        expect(result).toMatchObject({ status: 503, code: 'temporarily_unavailable' });
        expect(result.detail).toBe(`${issuer.url}/jwks: JWK Set larger than 65536 bytes`);
      } finally {
        issuer.published.pop();
      }
    });

    it('stops reading a stream without Content-Length as soon as it passes the limit', async () => {
      let pulled = 0;
      const stream = new ReadableStream<Uint8Array>({
        pull(controller) {
          pulled++;
          controller.enqueue(new Uint8Array(10_000));
        },
      });
      await expect(readLimited(new Response(stream), 65_536)).rejects.toBeInstanceOf(ResponseTooLargeError);
      expect(pulled).toBeLessThanOrEqual(9);
      expect(await readLimited(new Response('{"keys":[]}'), 11)).toBe('{"keys":[]}');
    });
  });

  it('hands out claims frozen all the way down, so one request cannot change what the next one sees', async () => {
    const v = remote({ jwksUri: `${issuer.url}/jwks` });
    const t = await token({ claims: { cnf: { jkt: 'thumbprint' }, roles: ['reader'], aud: [AUDIENCE] } });
    const claims = await v.verify(t);
    const cnf = claims.cnf as { jkt: string };
    expect(() => {
      cnf.jkt = 'changed';
    }).toThrow(TypeError);
    expect(() => (claims.roles as string[]).push('admin')).toThrow(TypeError);
    expect(() => (claims.aud as string[]).push('https://evil.example')).toThrow(TypeError);
    const again = await v.verify(t);
    expect(again.cnf).toEqual({ jkt: 'thumbprint' });
    expect(again.roles).toEqual(['reader']);
  });
});
