// One suite, run on Express and Fastify, with keys from the issuer's jwks_uri (RFC 8414 discovery)
// and from an in-process key source. Real jose keys; a node:http issuer on 127.0.0.1.
import { Controller, Get, Module, UseGuards, type INestApplication } from '@nestjs/common';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { AUDIENCE, generateSigningKey, offsetClock, startFakeIssuer, type FakeIssuer } from '../test/fake-issuer.js';
import { BearerTokenGuard, ClavisResourceModule, RequireScopes, TokenClaims, type AccessTokenClaims } from './index.js';

@Controller()
class StatementsController {
  @Get('statements')
  @UseGuards(BearerTokenGuard)
  @RequireScopes(['statements:read'])
  list(@TokenClaims() claims: AccessTokenClaims, @TokenClaims('client_id') clientId: string) {
    return { clientId, sub: claims.sub, scope: claims.scope, frozen: Object.isFrozen(claims) };
  }
}

const REALM = `Bearer realm="${AUDIENCE}"`;
const INVALID_TOKEN = {
  status: 401,
  challenge: `${REALM}, error="invalid_token", error_description="the access token is invalid or expired"`,
  body: { error: 'invalid_token', error_description: 'the access token is invalid or expired' },
};
const MISSING = { status: 401, challenge: REALM, body: { error_description: 'an access token is required' } };
const MALFORMED = {
  status: 400,
  challenge: `${REALM}, error="invalid_request", error_description="the Authorization header is not a valid Bearer credential"`,
  body: { error: 'invalid_request', error_description: 'the Authorization header is not a valid Bearer credential' },
};
const INSUFFICIENT_SCOPE = {
  status: 403,
  challenge: `${REALM}, error="insufficient_scope", error_description="the access token lacks the required scope", scope="statements:read"`,
  body: { error: 'insufficient_scope', error_description: 'the access token lacks the required scope' },
};
const OK = { clientId: 'client-1', sub: 'client-1', scope: 'statements:read', frozen: true };

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

const adapters = [
  ['Express', () => new ExpressAdapter()],
  ['Fastify', () => new FastifyAdapter()],
] as const;
const keyModes = ['jwks_uri discovery', 'in-process key source'] as const;

describe.each(adapters.flatMap(([name, adapter]) => keyModes.map((mode) => [name, mode, adapter] as const)))(
  'BearerTokenGuard on %s with %s',
  (_, mode, createAdapter) => {
    const remote = mode === 'jwks_uri discovery';
    const clock = offsetClock();
    const revoked = new Set<string>();
    let issuer: FakeIssuer;
    let app: INestApplication;
    const keyReads = () => (remote ? issuer.counts.jwks : issuer.counts.keySource);

    beforeAll(async () => {
      issuer = await startFakeIssuer();
      const options = () => ({
        issuer: issuer.url,
        audience: remote ? AUDIENCE : [AUDIENCE, 'https://other-api.example.test'], // the first one is the realm
        keySource: remote ? undefined : issuer.keySource,
        clock,
        isRevoked: async (jti: string) => revoked.has(jti),
      });
      @Module({
        imports: [
          remote ? ClavisResourceModule.forRoot(options()) : ClavisResourceModule.forRootAsync({ useFactory: options }),
        ],
        controllers: [StatementsController],
      })
      class AppModule {}
      const moduleRef = await Test.createTestingModule({ imports: [AppModule] }).compile();
      app = moduleRef.createNestApplication(createAdapter(), { logger: false });
      await app.init();
      if (createAdapter === adapters[1][1])
        await (app.getHttpAdapter().getInstance() as { ready(): Promise<void> }).ready();
    });

    afterAll(async () => {
      await app?.close();
      await issuer?.close();
    });

    const get = (authorization?: string, path = '/statements') => {
      const req = request(app.getHttpServer()).get(path);
      return authorization === undefined ? req : req.set('Authorization', authorization);
    };
    const expectAnswer = async (
      res: request.Response,
      expected: { status: number; challenge: string; body: object },
    ) => {
      expect({ status: res.status, challenge: res.headers['www-authenticate'], body: res.body }).toEqual(expected);
      expect(res.headers['content-type']).toMatch(/^application\/json/);
    };
    const token = (options?: Parameters<FakeIssuer['token']>[0]) => issuer.token({ now: clock.now(), ...options });

    it('admits a valid token and hands the handler its claims', async () => {
      const res = await get(`Bearer ${await token()}`);
      expect(res.status).toBe(200);
      expect(res.body).toEqual(OK);
      expect(res.headers['www-authenticate']).toBeUndefined();
    });

    it('accepts typ application/at+jwt, a lower-case scheme and extra scopes', async () => {
      const t = await token({
        header: { typ: 'application/at+jwt' },
        claims: { scope: 'statements:write statements:read' },
      });
      const res = await get(`bearer ${t}`);
      expect(res.status).toBe(200);
      expect(res.body.scope).toBe('statements:write statements:read');
    });

    it('answers 401 with a bare challenge when there is no token', async () => {
      await expectAnswer(await get(), MISSING);
    });

    it('answers 401 with a bare challenge to another scheme (Basic)', async () => {
      await expectAnswer(await get('Basic Y2xpZW50OnNlY3JldA=='), MISSING);
    });

    it.each([['Bearer'], ['Bearer a.b.c d.e.f'], ['Bearer "a.b.c"']])(
      'answers 400 invalid_request to %j',
      async (header) => {
        await expectAnswer(await get(header), MALFORMED);
      },
    );

    it('answers 400 invalid_request to a token also in the query', async () => {
      const t = await token();
      await expectAnswer(await get(`Bearer ${t}`, `/statements?access_token=${t}`), {
        status: 400,
        challenge: `${REALM}, error="invalid_request", error_description="the access token must be sent in the Authorization header only"`,
        body: {
          error: 'invalid_request',
          error_description: 'the access token must be sent in the Authorization header only',
        },
      });
    });

    it('rejects a token signed by another key under the same kid', async () => {
      const impostor = await generateSigningKey('k1');
      await expectAnswer(await get(`Bearer ${await token({ key: impostor })}`), INVALID_TOKEN);
    });

    it('rejects a tampered token', async () => {
      const [header, , signature] = (await token({ claims: { scope: 'nothing' } })).split('.');
      const payload = b64({ ...JSON.parse(Buffer.from((await token()).split('.')[1], 'base64url').toString()) });
      await expectAnswer(await get(`Bearer ${header}.${payload}.${signature}`), INVALID_TOKEN);
    });

    it('rejects an expired token, also once it is cached', async () => {
      await expectAnswer(await get(`Bearer ${await token({ now: clock.now() - 400_000 })}`), INVALID_TOKEN);
      const t = await token();
      expect((await get(`Bearer ${t}`)).status).toBe(200);
      try {
        // Relative to the token's own exp (the clock keeps running in real time meanwhile): within the 30 s skew.
        const { exp } = JSON.parse(Buffer.from(t.split('.')[1], 'base64url').toString()) as { exp: number };
        clock.advance(exp + 29.5 - clock.now() / 1000);
        expect((await get(`Bearer ${t}`)).status).toBe(200);
        clock.advance(1);
        await expectAnswer(await get(`Bearer ${t}`), INVALID_TOKEN);
      } finally {
        clock.reset();
      }
    });

    it('rejects a token not yet valid (nbf)', async () => {
      await expectAnswer(
        await get(`Bearer ${await token({ claims: { nbf: Math.floor(clock.now() / 1000) + 60 } })}`),
        INVALID_TOKEN,
      );
    });

    it('rejects a token of another issuer', async () => {
      await expectAnswer(
        await get(`Bearer ${await token({ claims: { iss: 'https://evil.example' } })}`),
        INVALID_TOKEN,
      );
    });

    it('rejects a token for another audience, and accepts an aud list holding ours', async () => {
      await expectAnswer(
        await get(`Bearer ${await token({ claims: { aud: 'https://elsewhere.example' } })}`),
        INVALID_TOKEN,
      );
      const res = await get(`Bearer ${await token({ claims: { aud: ['https://elsewhere.example', AUDIENCE] } })}`);
      expect(res.status).toBe(200);
    });

    it('rejects typ JWT and a missing typ (RFC 9068 §4)', async () => {
      await expectAnswer(await get(`Bearer ${await token({ header: { typ: 'JWT' } })}`), INVALID_TOKEN);
      await expectAnswer(await get(`Bearer ${await token({ header: { typ: undefined } })}`), INVALID_TOKEN);
    });

    it('rejects alg none', async () => {
      const payload = (await token()).split('.')[1];
      await expectAnswer(
        await get(`Bearer ${b64({ alg: 'none', typ: 'at+jwt', kid: 'k1' })}.${payload}.`),
        INVALID_TOKEN,
      );
    });

    it('rejects an HS256 token', async () => {
      const hmac = { kid: 'k1', alg: 'HS256', privateKey: new TextEncoder().encode('a'.repeat(32)), jwk: {} };
      await expectAnswer(await get(`Bearer ${await token({ key: hmac })}`), INVALID_TOKEN);
    });

    it('rejects a token without client_id or sub', async () => {
      await expectAnswer(await get(`Bearer ${await token({ claims: { client_id: undefined } })}`), INVALID_TOKEN);
      await expectAnswer(await get(`Bearer ${await token({ claims: { sub: undefined } })}`), INVALID_TOKEN);
    });

    it('answers 403 insufficient_scope naming the needed scope', async () => {
      await expectAnswer(
        await get(`Bearer ${await token({ claims: { scope: 'statements:write' } })}`),
        INSUFFICIENT_SCOPE,
      );
      await expectAnswer(await get(`Bearer ${await token({ claims: { scope: undefined } })}`), INSUFFICIENT_SCOPE);
    });

    it('rejects a revoked token (isRevoked), even when cached', async () => {
      const t = await token();
      expect((await get(`Bearer ${t}`)).status).toBe(200);
      revoked.add(JSON.parse(Buffer.from(t.split('.')[1], 'base64url').toString()).jti);
      await expectAnswer(await get(`Bearer ${t}`), INVALID_TOKEN);
    });

    it('re-reads the keys once per cooldown for an unknown kid, and accepts a newly published key', async () => {
      vi.useFakeTimers({ toFake: ['Date'] }); // jose's remote-set cooldown reads Date.now(); the clock follows it
      try {
        expect((await get(`Bearer ${await token()}`)).status).toBe(200);
        const reads = keyReads();
        const next = await generateSigningKey('k2');
        const rotated = await token({ key: next });

        vi.setSystemTime(Date.now() + 11_000); // past the 10 s cooldown: an unknown kid triggers one re-read
        await expectAnswer(await get(`Bearer ${rotated}`), INVALID_TOKEN);
        expect(keyReads() - reads).toBe(1);

        issuer.publish(next); // still cooling down: no re-read yet
        await expectAnswer(await get(`Bearer ${rotated}`), INVALID_TOKEN);
        expect(keyReads() - reads).toBe(1);

        vi.setSystemTime(Date.now() + 11_000);
        expect((await get(`Bearer ${rotated}`)).body).toEqual(OK);
        expect((await get(`Bearer ${await token()}`)).status).toBe(200); // the old key still works
        expect(keyReads() - reads).toBe(2);
      } finally {
        vi.useRealTimers();
      }
    });

    if (remote)
      it('fetched the metadata once', () => {
        expect(issuer.counts.discovery).toBe(1);
      });
  },
);
