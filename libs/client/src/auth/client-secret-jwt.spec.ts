import { decodeProtectedHeader, jwtVerify } from 'jose';
import { JWT_BEARER_ASSERTION_TYPE } from './assertion.js';
import { clientSecretJwt } from './client-secret-jwt.js';

const issuer = 'https://as.example/tenant';
const now = Date.UTC(2030, 0, 1, 12);
const secret = 'a-secret-of-at-least-thirty-two-bytes-0123456789';
const key = new TextEncoder().encode(secret);

async function claimsOf(assertion: string, algorithms = ['HS256']) {
  const { payload } = await jwtVerify(assertion, key, {
    algorithms,
    currentDate: new Date(now),
  });
  return payload;
}

describe('clientSecretJwt', () => {
  it('signs an HS256 assertion with iss = sub = client_id, aud = issuer (a string), exp - iat = 60', async () => {
    const { headers, body } = await clientSecretJwt('svc', secret).authenticate({ issuer, now });
    expect(headers).toEqual({});
    expect(body).toMatchObject({
      client_id: 'svc',
      client_assertion_type: JWT_BEARER_ASSERTION_TYPE,
    });
    expect(decodeProtectedHeader(body.client_assertion)).toEqual({
      alg: 'HS256',
    });
    const claims = await claimsOf(body.client_assertion);
    expect(claims).toMatchObject({
      iss: 'svc',
      sub: 'svc',
      aud: issuer,
      iat: now / 1000,
      nbf: now / 1000,
      exp: now / 1000 + 60,
    });
    expect(typeof claims.aud).toBe('string');
  });

  it('uses a fresh jti of at least 128 random bits on every call', async () => {
    const auth = clientSecretJwt('svc', secret);
    const jtis = await Promise.all(
      Array.from(
        { length: 20 },
        async () => (await claimsOf((await auth.authenticate({ issuer, now })).body.client_assertion)).jti!,
      ),
    );
    expect(new Set(jtis).size).toBe(20);
    for (const jti of jtis) expect(Buffer.from(jti, 'base64url').length).toBeGreaterThanOrEqual(16);
  });

  it('honours alg, a shorter lifetime and an audience override', async () => {
    const auth = clientSecretJwt('svc', secret, {
      alg: 'HS512',
      lifetime: 30,
      audience: 'https://as.example/token',
    });
    const { body } = await auth.authenticate({ issuer, now });
    expect(decodeProtectedHeader(body.client_assertion).alg).toBe('HS512');
    const claims = await claimsOf(body.client_assertion, ['HS512']);
    expect(claims.aud).toBe('https://as.example/token');
    expect(claims.exp! - claims.iat!).toBe(30);
  });

  it('refuses lifetimes above 60 s, non-HMAC algorithms and empty secrets', () => {
    expect(() => clientSecretJwt('svc', secret, { lifetime: 61 })).toThrow(TypeError);
    expect(() => clientSecretJwt('svc', secret, { lifetime: 0 })).toThrow(TypeError);
    expect(() => clientSecretJwt('svc', secret, { alg: 'RS256' as never })).toThrow(TypeError);
    expect(() => clientSecretJwt('svc', '')).toThrow(TypeError);
  });
});
