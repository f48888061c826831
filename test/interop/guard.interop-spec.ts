import { decodeJwt, decodeProtectedHeader, SignJWT } from 'jose';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { basic, postForm } from '../support/http.js';
import { generateKey } from '../support/keys.js';
import { createClient, createTestApp, type TestApp } from '../support/test-app.js';

// The demo resource GET /statements (apps/auth-server, @clavis/resource guard, scope statements:read)
// against tokens from Clavis and against forged, tampered, expired and mistyped ones.
// Every rejection must be RFC 6750 §3: exact status, challenge and body.

describe('guard interop: GET /statements on the demo app', () => {
  let t: TestApp;
  let reader: { clientId: string; clientSecret: string };
  let writer: { clientId: string; clientSecret: string };
  let statements: string;

  beforeAll(async () => {
    t = await createTestApp();
    statements = `${t.baseUrl}/statements`;
    reader = await createClient(t, { tokenEndpointAuthMethod: 'client_secret_basic', scope: 'statements:read' });
    writer = await createClient(t, { tokenEndpointAuthMethod: 'client_secret_basic', scope: 'statements:write' });
  });
  afterAll(() => t.close());
  // The demo guard checks exp/iat against the wall clock; keep the server's FixedClock on it.
  beforeEach(() => t.clock.set(Date.now()));

  const tokenFor = async (c: { clientId: string; clientSecret: string }): Promise<string> => {
    const res = await postForm(
      t.tokenEndpoint,
      { grant_type: 'client_credentials' },
      basic(c.clientId, c.clientSecret),
    );
    expect(res.status, res.text).toBe(200);
    return res.json.access_token;
  };
  const get = async (token?: string) => {
    const res = await fetch(statements, token === undefined ? {} : { headers: { authorization: `Bearer ${token}` } });
    const text = await res.text();
    return {
      status: res.status,
      challenge: res.headers.get('www-authenticate'),
      json: text ? JSON.parse(text) : undefined,
    };
  };
  const invalidToken = () => ({
    status: 401,
    challenge: `Bearer realm="${t.issuer}", error="invalid_token", error_description="the access token is invalid or expired"`,
    json: { error: 'invalid_token', error_description: 'the access token is invalid or expired' },
  });
  /** Claims the server would issue to `reader`, at the server's clock. */
  const claims = (overrides: Record<string, unknown> = {}) => {
    const iat = t.clock.nowSeconds();
    return {
      iss: t.issuer,
      sub: reader.clientId,
      client_id: reader.clientId,
      aud: t.issuer,
      scope: 'statements:read',
      jti: randomUUID(),
      iat,
      exp: iat + 300,
      ...overrides,
    };
  };
  /** Signs with the server's own active key, so that only the changed member can be what fails. */
  const signWithServerKey = async (payload: Record<string, unknown>, header: Record<string, unknown> = {}) => {
    const key = await t.keys.activeKey();
    return new SignJWT(payload)
      .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'at+jwt', ...header })
      .sign(key.privateKey);
  };

  it('accepts a Clavis token with the scope and hands the handler the claims', async () => {
    const res = await get(await tokenFor(reader));
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ client_id: reader.clientId, statements: expect.any(Array) });
  });

  it('the control: a token signed here with the server key and the issued claims is accepted', async () => {
    expect((await get(await signWithServerKey(claims()))).status).toBe(200);
  });

  it('no token → 401 with a bare challenge (RFC 6750 §3.1: no error code)', async () => {
    const res = await get();
    expect(res.status).toBe(401);
    expect(res.challenge).toBe(`Bearer realm="${t.issuer}"`);
    expect(res.json).toEqual({ error_description: 'an access token is required' });
  });

  describe('401 invalid_token', () => {
    it('another issuer: its own key and its own iss', async () => {
      const other = await generateKey('ES256');
      const forged = await new SignJWT(claims({ iss: 'https://other-issuer.example' }))
        .setProtectedHeader({ alg: 'ES256', kid: other.kid, typ: 'at+jwt' })
        .sign(other.privateKey);
      expect(await get(forged)).toEqual(invalidToken());
    });

    it('another key claiming our iss and the kid of our active key', async () => {
      const other = await generateKey('ES256');
      const { kid } = await t.keys.activeKey();
      const forged = await new SignJWT(claims())
        .setProtectedHeader({ alg: 'ES256', kid, typ: 'at+jwt' })
        .sign(other.privateKey);
      expect(await get(forged)).toEqual(invalidToken());
    });

    it('our key, but another iss', async () => {
      expect(await get(await signWithServerKey(claims({ iss: 'https://other-issuer.example' })))).toEqual(
        invalidToken(),
      );
    });

    it('tampered payload (scope widened, signature kept)', async () => {
      const [h, p, s] = (await tokenFor(writer)).split('.');
      const payload = {
        ...JSON.parse(Buffer.from(p, 'base64url').toString()),
        scope: 'statements:read statements:write',
      };
      expect(await get(`${h}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.${s}`)).toEqual(
        invalidToken(),
      );
    });

    it('tampered signature', async () => {
      const token = await tokenFor(reader);
      const [h, p, s] = token.split('.');
      const sig = Buffer.from(s, 'base64url');
      sig[sig.length - 1] ^= 0x01;
      expect(await get(`${h}.${p}.${sig.toString('base64url')}`)).toEqual(invalidToken());
    });

    it('tampered header (alg none, signature dropped)', async () => {
      const [, p] = (await tokenFor(reader)).split('.');
      const none = Buffer.from(JSON.stringify({ alg: 'none', typ: 'at+jwt' })).toString('base64url');
      expect(await get(`${none}.${p}.`)).toEqual(invalidToken());
    });

    it('expired: issued by the server more than lifetime + skew ago', async () => {
      // Issued at a server time 400 s in the past (exp = that + 300), checked now. The clock is moved
      // back for the issuing rather than forward for the check: the demo's guard reads the system
      // clock, not the FixedClock given to AppModule (reported; moving t.clock forward does not
      // reach it).
      t.clock.advance(-400);
      let token: string;
      try {
        token = await tokenFor(reader);
      } finally {
        t.clock.advance(400);
      }
      expect(decodeJwt(token).exp! < t.clock.nowSeconds() - 30).toBe(true);
      expect(await get(token)).toEqual(invalidToken());
    });

    it.each([
      ['JWT', 'JWT'],
      ['jwt', 'jwt'],
      ['an ID token-like typ', 'id_token+jwt'],
      ['a client assertion typ', 'client-authentication+jwt'],
    ])('typ %s instead of at+jwt (our key, valid claims)', async (_name, typ) => {
      expect(await get(await signWithServerKey(claims(), { typ }))).toEqual(invalidToken());
    });

    it('no typ at all', async () => {
      expect(await get(await signWithServerKey(claims(), { typ: undefined }))).toEqual(invalidToken());
    });

    it('application/at+jwt is the same media type (RFC 9068 §2.1) and is accepted', async () => {
      expect((await get(await signWithServerKey(claims(), { typ: 'application/at+jwt' }))).status).toBe(200);
    });

    it('aud of another resource', async () => {
      expect(await get(await signWithServerKey(claims({ aud: 'https://other-api.example' })))).toEqual(invalidToken());
    });

    it('missing client_id (RFC 9068 §2.2)', async () => {
      expect(await get(await signWithServerKey(claims({ client_id: undefined })))).toEqual(invalidToken());
    });

    it('a revoked token (RFC 7009) is refused by the demo, which consults the deny list', async () => {
      const token = await tokenFor(reader);
      expect((await get(token)).status).toBe(200);
      const res = await postForm(`${t.baseUrl}/revoke`, { token }, basic(reader.clientId, reader.clientSecret));
      expect(res.status).toBe(200);
      expect(await get(token)).toEqual(invalidToken());
    });
  });

  it('missing scope → 403 insufficient_scope naming the needed scope', async () => {
    const token = await tokenFor(writer);
    expect(decodeJwt(token).scope).toBe('statements:write');
    expect(decodeProtectedHeader(token).typ).toBe('at+jwt');
    expect(await get(token)).toEqual({
      status: 403,
      challenge: `Bearer realm="${t.issuer}", error="insufficient_scope", error_description="the access token lacks the required scope", scope="statements:read"`,
      json: { error: 'insufficient_scope', error_description: 'the access token lacks the required scope' },
    });
  });

  it('a token without any scope → 403 insufficient_scope', async () => {
    expect((await get(await signWithServerKey(claims({ scope: undefined })))).status).toBe(403);
  });
});
