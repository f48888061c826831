import { generateKeyPair, jwtVerify } from 'jose';
import {
  gate,
  metadataFor,
  startFakeServer,
  TestClock,
  type FakeHttpServer,
  type FakeResponse,
  type RecordedRequest,
} from '../test/fake-http-server.js';
import { clientSecretBasic } from './auth/client-secret-basic.js';
import { clientSecretPost } from './auth/client-secret-post.js';
import { privateKeyJwt } from './auth/private-key-jwt.js';
import { ClavisClientError } from './errors.js';
import { TokenClient, type TokenClientOptions } from './token-client.js';

const TOKEN = '/token';
let server: FakeHttpServer;
let respond: (request: RecordedRequest) => FakeResponse | undefined | Promise<FakeResponse | undefined>;
let issued = 0;

/** A token response with a counter, so tests can tell tokens apart. */
function tokenResponse(extra: Record<string, unknown> = {}): FakeResponse {
  return {
    json: {
      access_token: `at-${++issued}`,
      token_type: 'Bearer',
      expires_in: 300,
      ...extra,
    },
    headers: { 'cache-control': 'no-store' },
  };
}

beforeEach(async () => {
  issued = 0;
  respond = (r) => (r.path === TOKEN ? tokenResponse() : undefined);
  server = await startFakeServer((r) => respond(r));
});
afterEach(() => server.close());

function client(options: Partial<TokenClientOptions> = {}): TokenClient {
  return new TokenClient({
    issuer: server.url,
    clientId: 'svc',
    auth: clientSecretBasic('svc', 's3cr3t'),
    ...options,
  });
}

async function rejection(promise: Promise<unknown>): Promise<ClavisClientError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ClavisClientError);
  return error as ClavisClientError;
}

describe('TokenClient requests', () => {
  it('discovers the token endpoint once and posts a client_credentials form with Basic authentication', async () => {
    const tokens = client({
      scope: ['statements:read', 'statements:write'],
      resource: ['https://api.example/a', 'https://api.example/b'],
    });
    expect(await tokens.getToken()).toBe('at-1');
    tokens.invalidate();
    expect(await tokens.getToken()).toBe('at-2');

    expect(server.requestsTo('/.well-known/oauth-authorization-server')).toHaveLength(1);
    const [request] = server.requestsTo(TOKEN);
    expect(request.method).toBe('POST');
    expect(request.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(request.headers.authorization).toBe(`Basic ${Buffer.from('svc:s3cr3t').toString('base64')}`);
    expect(request.body).toBe(
      'grant_type=client_credentials&scope=statements%3Aread+statements%3Awrite&resource=https%3A%2F%2Fapi.example%2Fa&resource=https%3A%2F%2Fapi.example%2Fb',
    );
  });

  it('uses a configured token endpoint without discovery', async () => {
    const tokens = client({
      tokenEndpoint: `${server.url}/custom`,
      auth: clientSecretPost('svc', 's3cr3t'),
    });
    respond = (r) => (r.path === '/custom' ? tokenResponse() : undefined);
    await tokens.getToken();
    expect(server.requests.map((r) => r.path)).toEqual(['/custom']);
    expect(Object.fromEntries(server.requests[0].form)).toEqual({
      grant_type: 'client_credentials',
      client_id: 'svc',
      client_secret: 's3cr3t',
    });
    expect(server.requests[0].headers.authorization).toBeUndefined();
  });

  it('sends a fresh private_key_jwt assertion per request: aud = issuer, exp - iat ≤ 60, unique jti', async () => {
    const { privateKey, publicKey } = await generateKeyPair('ES256');
    const clock = new TestClock();
    const tokens = client({
      clock,
      auth: privateKeyJwt('svc', privateKey, { kid: 'k1' }),
    });
    for (let i = 0; i < 3; i++) {
      await tokens.getToken();
      tokens.invalidate();
    }
    const jtis = new Set();
    for (const request of server.requestsTo(TOKEN)) {
      expect(request.form.get('client_assertion_type')).toBe('urn:ietf:params:oauth:client-assertion-type:jwt-bearer');
      const { payload } = await jwtVerify(request.form.get('client_assertion')!, publicKey, {
        currentDate: new Date(clock.now()),
      });
      expect(payload).toMatchObject({
        iss: 'svc',
        sub: 'svc',
        aud: server.url,
        iat: clock.now() / 1000,
      });
      expect(payload.exp! - payload.iat!).toBeLessThanOrEqual(60);
      jtis.add(payload.jti);
    }
    expect(jtis.size).toBe(3);
  });

  it('refuses a strategy made for another client', () => {
    expect(() => client({ clientId: 'other' })).toThrow(TypeError);
    expect(() => client().setAuth(clientSecretBasic('other', 'x'))).toThrow(TypeError);
  });
});

describe('TokenClient cache', () => {
  it('serves the cached token until expires_in - refreshSkew, then fetches a new one', async () => {
    const clock = new TestClock();
    const tokens = client({ clock });
    expect(await tokens.getToken()).toBe('at-1');
    clock.advance(269);
    expect(await tokens.getToken()).toBe('at-1');
    clock.advance(1);
    expect(await tokens.getToken()).toBe('at-2');
    expect(server.requestsTo(TOKEN)).toHaveLength(2);
  });

  it('honours a custom refreshSkew, capped at half the token lifetime', async () => {
    const clock = new TestClock();
    const tokens = client({ clock, refreshSkew: 60 });
    respond = (r) => (r.path === TOKEN ? tokenResponse({ expires_in: 100 }) : undefined);
    await tokens.getToken();
    clock.advance(49);
    expect(await tokens.getToken()).toBe('at-1');
    clock.advance(1);
    expect(await tokens.getToken()).toBe('at-2');
  });

  it('does not cache a token without expires_in', async () => {
    respond = (r) => (r.path === TOKEN ? tokenResponse({ expires_in: undefined }) : undefined);
    const tokens = client();
    expect(await tokens.getToken()).toBe('at-1');
    expect(await tokens.getToken()).toBe('at-2');
  });

  it('shares one in-flight request among 10 concurrent callers', async () => {
    const release = gate();
    respond = async (r) => {
      if (r.path !== TOKEN) return undefined;
      await release.promise;
      return tokenResponse();
    };
    const tokens = client();
    const all = Promise.all(Array.from({ length: 10 }, () => tokens.getToken()));
    await vi.waitFor(() => expect(server.requestsTo(TOKEN)).toHaveLength(1));
    release.open();
    expect(await all).toEqual(Array(10).fill('at-1'));
    expect(server.requestsTo(TOKEN)).toHaveLength(1);
  });

  it('shares a failure among concurrent callers, and does not cache it', async () => {
    respond = (r) => (r.path === TOKEN ? { status: 503, json: { error: 'temporarily_unavailable' } } : undefined);
    const tokens = client();
    const errors = await Promise.all(Array.from({ length: 5 }, () => rejection(tokens.getToken())));
    expect(new Set(errors).size).toBe(1);
    expect(server.requestsTo(TOKEN)).toHaveLength(1);
    respond = (r) => (r.path === TOKEN ? tokenResponse() : undefined);
    expect(await tokens.getToken()).toBe('at-1');
  });

  it('invalidate() drops the cached token', async () => {
    const tokens = client();
    await tokens.getToken();
    tokens.invalidate();
    expect(await tokens.getToken()).toBe('at-2');
  });

  it('returns the whole token response', async () => {
    respond = (r) => (r.path === TOKEN ? tokenResponse({ scope: 'a b' }) : undefined);
    expect(await client().getTokenResponse()).toEqual({
      access_token: 'at-1',
      token_type: 'Bearer',
      expires_in: 300,
      scope: 'a b',
    });
  });
});

describe('TokenClient errors', () => {
  it.each([
    [
      {
        status: 401,
        json: {
          error: 'invalid_client',
          error_description: 'client authentication failed',
        },
      },
      'invalid_client',
      401,
      'client authentication failed',
    ],
    [
      {
        status: 400,
        json: { error: 'invalid_scope', error_description: 'bad scope' },
      },
      'invalid_scope',
      400,
      'bad scope',
    ],
    [{ status: 400, json: { error: 'invalid_target' } }, 'invalid_target', 400, ''],
    [{ status: 400, json: { error: 'made_up', error_description: 'x' } }, 'http_error', 400, 'made_up: x'],
    [{ status: 502, body: '<html>bad gateway</html>' }, 'http_error', 502, 'unexpected HTTP status 502'],
    [
      { status: 302, headers: { location: 'https://elsewhere.example/token' } },
      'http_error',
      302,
      'unexpected HTTP status 302',
    ],
    [{ status: 200, body: 'not json' }, 'invalid_response', 200, 'response body is not JSON'],
    [{ status: 200, json: ['x'] }, 'invalid_response', 200, 'response body is not a JSON object'],
    [{ status: 200, json: { token_type: 'Bearer' } }, 'invalid_response', 200, 'token response has no access_token'],
    [
      { status: 200, json: { access_token: 'x', token_type: 'DPoP' } },
      'invalid_response',
      200,
      'token response token_type is not Bearer',
    ],
    [
      {
        status: 200,
        json: { access_token: 'x', token_type: 'bearer', expires_in: '300' },
      },
      'invalid_response',
      200,
      'token response expires_in is not a positive number of seconds up to 31536000',
    ],
  ] as const)('%j → %s', async (answer, code, status, description) => {
    respond = (r) => (r.path === TOKEN ? (answer as FakeResponse) : undefined);
    const error = await rejection(client().getToken());
    expect({
      code: error.code,
      status: error.status,
      description: error.description,
    }).toEqual({ code, status, description });
  });

  it('reports an unreachable server as network_error', async () => {
    const url = server.url;
    await server.close();
    const error = await rejection(
      new TokenClient({
        issuer: url,
        tokenEndpoint: `${url}/token`,
        clientId: 'svc',
        auth: clientSecretBasic('svc', 'x'),
      }).getToken(),
    );
    expect(error.code).toBe('network_error');
    expect(error.status).toBeUndefined();
    server = await startFakeServer(() => undefined); // for afterEach
  });

  it('rejects metadata for another issuer, and retries discovery on the next call', async () => {
    respond = (r) => (r.path === TOKEN ? tokenResponse() : { json: metadataFor('https://evil.example') });
    const tokens = client();
    expect((await rejection(tokens.getToken())).code).toBe('invalid_response');
    respond = (r) => (r.path === TOKEN ? tokenResponse() : undefined);
    expect(await tokens.getToken()).toBe('at-1');
    expect(server.requestsTo('/.well-known/oauth-authorization-server')).toHaveLength(2);
  });
});

describe('TokenClient.fetch', () => {
  const API = '/api/statements';
  const invalidToken = {
    status: 401,
    headers: {
      'www-authenticate': 'Bearer realm="api", error="invalid_token", error_description="token revoked"',
    },
  };

  it('adds the bearer token and keeps the caller’s headers', async () => {
    respond = (r) => (r.path === TOKEN ? tokenResponse() : r.path === API ? { json: { ok: true } } : undefined);
    const response = await client().fetch(`${server.url}${API}`, {
      headers: { 'x-trace': '1' },
    });
    expect(await response.json()).toEqual({ ok: true });
    const [request] = server.requestsTo(API);
    expect(request.headers).toMatchObject({
      authorization: 'Bearer at-1',
      'x-trace': '1',
    });
  });

  it('retries exactly once with a fresh token on 401 invalid_token', async () => {
    respond = (r) =>
      r.path === TOKEN
        ? tokenResponse()
        : r.path === API
          ? r.headers.authorization === 'Bearer at-1'
            ? invalidToken
            : { json: { ok: true } }
          : undefined;
    const response = await client().fetch(`${server.url}${API}`, {
      method: 'POST',
      body: 'payload',
    });
    expect(response.status).toBe(200);
    expect(server.requestsTo(API).map((r) => [r.headers.authorization, r.body])).toEqual([
      ['Bearer at-1', 'payload'],
      ['Bearer at-2', 'payload'],
    ]);
  });

  it('returns the second 401 without retrying again', async () => {
    respond = (r) => (r.path === TOKEN ? tokenResponse() : r.path === API ? invalidToken : undefined);
    const response = await client().fetch(`${server.url}${API}`);
    expect(response.status).toBe(401);
    expect(server.requestsTo(API)).toHaveLength(2);
    expect(server.requestsTo(TOKEN)).toHaveLength(2);
  });

  it.each([
    [{ status: 401, headers: { 'www-authenticate': 'Bearer realm="api"' } }],
    [
      {
        status: 401,
        headers: {
          'www-authenticate': 'Basic realm="api", Bearer error="invalid_request"',
        },
      },
    ],
    [
      {
        status: 403,
        headers: {
          'www-authenticate': 'Bearer error="insufficient_scope", scope="statements:write"',
        },
      },
    ],
  ])('does not retry %j', async (answer) => {
    respond = (r) => (r.path === TOKEN ? tokenResponse() : r.path === API ? answer : undefined);
    const response = await client().fetch(`${server.url}${API}`);
    expect(response.status).toBe(answer.status);
    expect(server.requestsTo(API)).toHaveLength(1);
  });

  it('finds invalid_token in the Bearer challenge among several', async () => {
    const multi = {
      status: 401,
      headers: {
        'www-authenticate': 'Basic realm="x", Bearer realm="api", error="invalid_token", DPoP algs="ES256"',
      },
    };
    respond = (r) => (r.path === TOKEN ? tokenResponse() : r.path === API ? multi : undefined);
    await client().fetch(`${server.url}${API}`);
    expect(server.requestsTo(API)).toHaveLength(2);
  });
});

describe('TokenClient.setAuth', () => {
  it('signs later requests with the new key, keeping the cached token', async () => {
    const [a, b] = [await generateKeyPair('ES256'), await generateKeyPair('ES256')];
    const tokens = client({
      auth: privateKeyJwt('svc', a.privateKey, { kid: 'a' }),
    });
    await tokens.getToken();
    tokens.setAuth(privateKeyJwt('svc', b.privateKey, { kid: 'b' }));
    expect(await tokens.getToken()).toBe('at-1');
    tokens.invalidate();
    await tokens.getToken();
    const kidOf = (r: RecordedRequest) =>
      JSON.parse(Buffer.from(r.form.get('client_assertion')!.split('.')[0], 'base64url').toString()).kid;
    expect(server.requestsTo(TOKEN).map(kidOf)).toEqual(['a', 'b']);
    await jwtVerify(server.requestsTo(TOKEN)[1].form.get('client_assertion')!, b.publicKey);
  });
});

describe('TokenClient response checks', () => {
  it('abandons a token response larger than maxResponseBytes (default 64 KiB), success or error', async () => {
    const big = 'x'.repeat(1_000_000);
    respond = (r) => (r.path === TOKEN ? tokenResponse({ padding: big }) : undefined);
    const error = await rejection(client().getToken());
    expect(error).toMatchObject({ code: 'response_too_large', status: 200 });
    expect(error.description).toBe(`response from ${server.url}/token is larger than 65536 bytes`);
    expect(await client({ maxResponseBytes: 2_000_000 }).getToken()).toBe('at-2');
    respond = (r) =>
      r.path === TOKEN
        ? {
            status: 400,
            json: { error: 'invalid_scope', error_description: big },
          }
        : undefined;
    expect((await rejection(client().getToken())).code).toBe('response_too_large');
  });

  it.each([1e308, 31_536_001, Number.MAX_VALUE])(
    'refuses expires_in %d, which would cache the token for ever',
    async (expiresIn) => {
      respond = (r) => (r.path === TOKEN ? tokenResponse({ expires_in: expiresIn }) : undefined);
      expect(await rejection(client().getToken())).toMatchObject({
        code: 'invalid_response',
        description: 'token response expires_in is not a positive number of seconds up to 31536000',
      });
    },
  );

  it('accepts expires_in of exactly one year', async () => {
    respond = (r) => (r.path === TOKEN ? tokenResponse({ expires_in: 31_536_000 }) : undefined);
    expect(await client().getToken()).toBe('at-1');
  });

  it.each([
    ['CR/LF', 'good\r\nX-Injected: 1'],
    ['a space', 'two words'],
    ['a control character', 'tab\there'],
    ['non-ASCII', 'tökén'],
  ])('does not adopt an access_token with %s, and never shows it', async (_, accessToken) => {
    respond = (r) => (r.path === TOKEN ? tokenResponse({ access_token: accessToken }) : undefined);
    const c = client();
    const error = await rejection(c.getToken());
    expect(error).toMatchObject({
      code: 'invalid_response',
      description: 'token response access_token has characters other than visible ASCII',
    });
    expect(error.message).not.toContain(accessToken);
    respond = (r) => (r.path === TOKEN ? tokenResponse() : undefined);
    expect(await c.getToken()).toMatch(/^at-\d+$/); // nothing was cached
  });

  it('hands every caller the same deeply frozen response: one caller cannot change what the next sees', async () => {
    respond = (r) =>
      r.path === TOKEN
        ? tokenResponse({
            authorization_details: [{ type: 'x', actions: ['read'] }],
          })
        : undefined;
    const c = client();
    const first = await c.getTokenResponse();
    expect(() => {
      (first as { access_token: string }).access_token = 'changed';
    }).toThrow(TypeError);
    expect(() => (first.authorization_details as { actions: string[] }[])[0].actions.push('write')).toThrow(TypeError);
    const second = await c.getTokenResponse();
    expect(second.access_token).toBe('at-1');
    expect(second.authorization_details).toEqual([{ type: 'x', actions: ['read'] }]);
  });
});

describe('TokenClient error text', () => {
  it('strips control characters from server-chosen text and cuts it at 500 characters', async () => {
    respond = (r) =>
      r.path === TOKEN
        ? {
            status: 400,
            json: {
              error: 'invalid_scope',
              error_description: `bad\r\nX-Injected: 1${'y'.repeat(600)}`,
            },
          }
        : undefined;
    const error = await rejection(client().getToken());
    expect(error.description).toBe(`bad  X-Injected: 1${'y'.repeat(482)}…`);
  });
});

describe('TokenClient timeouts', () => {
  it('reports metadata whose body stops arriving as a timeout, not as a bad or mismatched document', async () => {
    const { createServer } = await import('node:http');
    const stalling = createServer((_, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"issuer":');
    });
    await new Promise<void>((resolve) => stalling.listen(0, '127.0.0.1', resolve));
    const { port } = stalling.address() as { port: number };
    const issuer = `http://127.0.0.1:${port}`;
    try {
      const error = await rejection(client({ issuer, timeout: 1 }).getToken());
      expect(error).toMatchObject({
        code: 'network_error',
        description: `reading the response from ${issuer}/.well-known/oauth-authorization-server timed out`,
      });
    } finally {
      stalling.closeAllConnections();
      stalling.close();
    }
  });
});
