import { Test } from '@nestjs/testing';
import type { INestApplication } from '@nestjs/common';
import { decodeJwt, decodeProtectedHeader, SignJWT } from 'jose';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientSecretBasic, privateKeyJwt, TokenClient } from '@clavis/client';
import { AppModule, type StatementsApiOptions } from '../../apps/statements-api/src/app.module.js';
import { basic, postForm } from '../support/http.js';
import { generateKey } from '../support/keys.js';
import { createClient, createTestApp, freePort, type TestApp } from '../support/test-app.js';

// apps/statements-api: a resource server in another "process" (its own Nest app and port) that knows
// only the issuer URL. It is booted in-process here against a Clavis test app; the keys come from the
// issuer's RFC 8414 metadata → jwks_uri, over HTTP.

async function startStatementsApi(options: StatementsApiOptions): Promise<{ url: string; close(): Promise<void> }> {
  const moduleRef = await Test.createTestingModule({ imports: [AppModule.forRoot(options)] }).compile();
  const app: INestApplication = moduleRef.createNestApplication({ logger: process.env.TEST_LOGS ? undefined : false });
  const port = await freePort();
  await app.listen(port, '127.0.0.1');
  return { url: `http://127.0.0.1:${port}/statements`, close: () => app.close() };
}

async function get(url: string, token?: string) {
  const res = await fetch(url, token === undefined ? {} : { headers: { authorization: `Bearer ${token}` } });
  const text = await res.text();
  return {
    status: res.status,
    challenge: res.headers.get('www-authenticate'),
    json: text ? JSON.parse(text) : undefined,
  };
}

describe('apps/statements-api against a Clavis issuer', () => {
  let t: TestApp;
  let api: { url: string; close(): Promise<void> };
  let reader: { clientId: string; clientSecret: string };
  let writer: { clientId: string; clientSecret: string };

  const tokenFor = async (
    c: { clientId: string; clientSecret: string },
    extra: Record<string, string> = {},
  ): Promise<string> => {
    const res = await postForm(
      t.tokenEndpoint,
      { grant_type: 'client_credentials', ...extra },
      basic(c.clientId, c.clientSecret),
    );
    expect(res.status, res.text).toBe(200);
    return res.json.access_token;
  };
  const invalidToken = (realm = t.issuer) => ({
    status: 401,
    challenge: `Bearer realm="${realm}", error="invalid_token", error_description="the access token is invalid or expired"`,
    json: { error: 'invalid_token', error_description: 'the access token is invalid or expired' },
  });

  beforeAll(async () => {
    t = await createTestApp();
    // Only the issuer URL: discovery finds the jwks_uri. The test clock drives exp checks.
    api = await startStatementsApi({ issuer: t.issuer, audience: t.issuer, clock: t.clock });
    reader = await createClient(t, { tokenEndpointAuthMethod: 'client_secret_basic', scope: 'statements:read' });
    writer = await createClient(t, { tokenEndpointAuthMethod: 'client_secret_basic', scope: 'statements:write' });
  });
  afterAll(async () => {
    await api?.close();
    await t?.close();
  });

  it('without a token: 401 with a bare challenge whose realm is the audience', async () => {
    expect(await get(api.url)).toEqual({
      status: 401,
      challenge: `Bearer realm="${t.issuer}"`,
      json: { error_description: 'an access token is required' },
    });
  });

  it('serves /statements for a Clavis token with statements:read', async () => {
    const res = await get(api.url, await tokenFor(reader));
    expect(res.status).toBe(200);
    expect(res.json).toEqual({
      client_id: reader.clientId,
      served_by: 'statements-api',
      statements: [
        { id: 'st_2026_10', period: '2026-10', balance: '1204.50' },
        { id: 'st_2026_11', period: '2026-11', balance: '1311.20' },
      ],
    });
  });

  it('through the SDK: TokenClient.fetch with client_secret_basic and private_key_jwt', async () => {
    const key = await generateKey('ES256');
    const pk = await createClient(t, { tokenEndpointAuthMethod: 'private_key_jwt', jwks: { keys: [key.publicJwk] } });
    for (const tokens of [
      new TokenClient({
        issuer: t.issuer,
        clientId: reader.clientId,
        auth: clientSecretBasic(reader.clientId, reader.clientSecret),
        clock: t.clock,
      }),
      new TokenClient({
        issuer: t.issuer,
        clientId: pk.clientId,
        auth: privateKeyJwt(pk.clientId, key.privateKey, { kid: key.kid }),
        clock: t.clock,
      }),
    ]) {
      const res = await tokens.fetch(api.url);
      expect(res.status).toBe(200);
      expect((await res.json()).client_id).toBe(tokens.clientId);
    }
  });

  it('a token without statements:read → 403 insufficient_scope', async () => {
    expect(await get(api.url, await tokenFor(writer))).toEqual({
      status: 403,
      challenge: `Bearer realm="${t.issuer}", error="insufficient_scope", error_description="the access token lacks the required scope", scope="statements:read"`,
      json: { error: 'insufficient_scope', error_description: 'the access token lacks the required scope' },
    });
  });

  it('a token of another issuer (its own key and iss) → 401 invalid_token', async () => {
    const other = await generateKey('ES256');
    const now = t.clock.nowSeconds();
    const forged = await new SignJWT({
      iss: 'https://other-issuer.example',
      sub: reader.clientId,
      client_id: reader.clientId,
      aud: t.issuer,
      scope: 'statements:read',
      jti: randomUUID(),
      iat: now,
      exp: now + 300,
    })
      .setProtectedHeader({ alg: 'ES256', kid: other.kid, typ: 'at+jwt' })
      .sign(other.privateKey);
    expect(await get(api.url, forged)).toEqual(invalidToken());
  });

  it('a tampered token → 401 invalid_token', async () => {
    const [h, p, s] = (await tokenFor(writer)).split('.');
    const widened = Buffer.from(
      JSON.stringify({ ...JSON.parse(Buffer.from(p, 'base64url').toString()), scope: 'statements:read' }),
    ).toString('base64url');
    expect(await get(api.url, `${h}.${widened}.${s}`)).toEqual(invalidToken());
  });

  it('a token accepted (and cached) while valid is refused once expired (exp + 30 s skew)', async () => {
    const token = await tokenFor(reader);
    expect((await get(api.url, token)).status).toBe(200);
    t.clock.advance(300 + 29);
    try {
      expect((await get(api.url, token)).status).toBe(200);
      t.clock.advance(2);
      expect(await get(api.url, token)).toEqual(invalidToken());
    } finally {
      t.clock.advance(-331);
    }
  });

  it('does not see revocation: a JWT stays valid at a remote resource until exp (the demo, in-process, does)', async () => {
    const token = await tokenFor(reader);
    const revoked = await postForm(`${t.baseUrl}/revoke`, { token }, basic(reader.clientId, reader.clientSecret));
    expect(revoked.status).toBe(200);
    expect((await get(`${t.baseUrl}/statements`, token)).status).toBe(401);
    expect((await get(api.url, token)).status).toBe(200);
  });

  describe('with its own audience (RFC 8707 resource indicator)', () => {
    const audience = 'https://statements.example.com';
    let own: { url: string; close(): Promise<void> };
    let resourceClient: { clientId: string; clientSecret: string };
    beforeAll(async () => {
      own = await startStatementsApi({ issuer: t.issuer, audience, clock: t.clock });
      resourceClient = await createClient(t, { tokenEndpointAuthMethod: 'client_secret_basic', resources: [audience] });
    });
    afterAll(() => own.close());

    it('accepts a token issued for resource=its audience', async () => {
      const token = await tokenFor(resourceClient, { resource: audience });
      expect(decodeJwt(token).aud).toBe(audience);
      expect((await get(own.url, token)).status).toBe(200);
    });

    it('refuses a token for the default audience (the issuer) with realm = its audience', async () => {
      expect(await get(own.url, await tokenFor(reader))).toEqual(invalidToken(audience));
    });
  });

  describe('when the issuer cannot be reached', () => {
    let orphan: { url: string; close(): Promise<void> };
    beforeAll(async () => {
      orphan = await startStatementsApi({
        issuer: `http://127.0.0.1:${await freePort()}`,
        audience: 'https://statements.example.com',
      });
    });
    afterAll(() => orphan.close());

    it('boots anyway (discovery is lazy) and answers 503 temporarily_unavailable without a challenge', async () => {
      const res = await get(orphan.url, await tokenFor(reader));
      expect(res).toEqual({
        status: 503,
        challenge: null,
        json: { error: 'temporarily_unavailable', error_description: 'the access token cannot be checked right now' },
      });
    });
  });

  // Last: it changes the issuer's keys. The resource learns keys when it first needs them, so a key
  // must be announced (published as `next`) before it signs, as Clavis does without `force`.
  describe('signing-key rotation at the issuer', () => {
    it('an announced key is known before it signs: old and new tokens both pass', async () => {
      const old = await tokenFor(reader);
      // Announce a next key (rotate() without force publishes one; if a database shared with other tests
      // already had an announced key past its announce period, that one is promoted and a new one announced).
      if ((await t.keys.rotate()).rotated) expect((await t.keys.rotate()).rotated).toBe(false);
      const next = (await t.keys.list()).find((k) => k.state === 'next')!;
      const published = (await (await fetch(`${t.issuer}/jwks`)).json()).keys.map((k: { kid: string }) => k.kid);
      expect(published).toContain(next.kid);
      expect(published).toContain(decodeProtectedHeader(old).kid);

      const fresh = await startStatementsApi({ issuer: t.issuer, audience: t.issuer, clock: t.clock });
      try {
        expect((await get(fresh.url, old)).status).toBe(200); // first request: discovery, then the JWK Set with both keys
        const { activeKid, rotated } = await t.keys.rotate({ force: true }); // promote the announced key now
        expect(rotated).toBe(true);
        expect(activeKid).toBe(next.kid);
        const after = await tokenFor(reader);
        expect(decodeProtectedHeader(after).kid).toBe(activeKid);
        expect((await get(fresh.url, after)).status).toBe(200);
        expect((await get(fresh.url, old)).status).toBe(200); // the retired key stays published until its tokens expire
      } finally {
        await fresh.close();
      }
    });
  });
});
