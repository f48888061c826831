// Where the SDK sends credentials: the issuer, discovered endpoints and registration_client_uri must
// be https (http only for localhost, or with allowInsecureHttp) and, when discovered, on the issuer's
// origin. Real node:http servers on 127.0.0.1; an in-test fetch stands in for https hosts.
import { startFakeServer, type FakeHttpServer } from '../test/fake-http-server.js';
import { clientSecretPost } from './auth/client-secret-post.js';
import { discoverAuthorizationServer } from './discovery.js';
import { ClavisClientError } from './errors.js';
import type { FetchLike } from './http.js';
import { RegistrationClient } from './registration-client.js';
import { TokenClient } from './token-client.js';

async function rejection(promise: Promise<unknown>): Promise<ClavisClientError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ClavisClientError);
  return error as ClavisClientError;
}

function thrown(make: () => unknown): ClavisClientError {
  try {
    make();
  } catch (e) {
    expect(e).toBeInstanceOf(ClavisClientError);
    return e as ClavisClientError;
  }
  throw new Error('expected a ClavisClientError');
}

/** A fetch that answers from a table of URLs and records every call (an https host without TLS). */
function tableFetch(table: Record<string, unknown>) {
  const calls: { url: string; body?: string }[] = [];
  const fetchFn: FetchLike = async (input, init) => {
    calls.push({ url: String(input), body: init?.body as string | undefined });
    const json = table[String(input)];
    return json === undefined ? new Response('{"error":"not_found"}', { status: 404 }) : Response.json(json);
  };
  return { fetchFn, calls };
}

const NOT_HTTPS = 'must be https (http only for localhost, or with allowInsecureHttp)';

describe('the issuer URL', () => {
  it.each([
    ['javascript:alert(1)', NOT_HTTPS],
    ['http://auth.example.test', NOT_HTTPS],
    ['ftp://auth.example.test', NOT_HTTPS],
    ['file:///etc/passwd', NOT_HTTPS],
    ['data:text/plain,x', NOT_HTTPS],
    ['not a url', 'is not a URL'],
  ])('%s is refused at construction by both clients and by discovery', async (issuer, reason) => {
    const expected = {
      code: 'invalid_url',
      description: `issuer ${JSON.stringify(issuer)} ${reason}`,
    };
    expect(
      thrown(
        () =>
          new TokenClient({
            issuer,
            clientId: 'svc',
            auth: clientSecretPost('svc', 's3cr3t'),
          }),
      ),
    ).toMatchObject(expected);
    expect(thrown(() => new RegistrationClient({ issuer }))).toMatchObject(expected);
    expect(await rejection(discoverAuthorizationServer(issuer))).toMatchObject(expected);
  });

  it('is accepted on https, on http for localhost, and on http anywhere only with allowInsecureHttp', () => {
    const make = (issuer: string, allowInsecureHttp?: boolean) =>
      new TokenClient({
        issuer,
        clientId: 'svc',
        auth: clientSecretPost('svc', 'x'),
        allowInsecureHttp,
      });
    for (const issuer of [
      'https://auth.example.test',
      'http://localhost:3000',
      'http://127.0.0.1:3000',
      'http://[::1]:3000',
    ])
      expect(make(issuer).issuer).toBe(issuer);
    expect(make('http://auth.internal', true).issuer).toBe('http://auth.internal');
    expect(thrown(() => make('javascript:alert(1)', true)).code).toBe('invalid_url');
    expect(
      thrown(
        () =>
          new RegistrationClient({
            issuer: 'https://a.example',
            registrationEndpoint: 'http://a.example/register',
          }),
      ).description,
    ).toBe(`registrationEndpoint "http://a.example/register" ${NOT_HTTPS}`);
  });
});

describe('endpoints from discovery', () => {
  let issuer: FakeHttpServer;
  let elsewhere: FakeHttpServer;
  let metadata: Record<string, unknown>;
  beforeEach(async () => {
    elsewhere = await startFakeServer((r) =>
      r.path === '/token'
        ? {
            json: { access_token: 'at', token_type: 'Bearer', expires_in: 300 },
          }
        : undefined,
    );
    issuer = await startFakeServer((r, url) =>
      r.path === '/.well-known/oauth-authorization-server' ? { json: { issuer: url, ...metadata } } : undefined,
    );
  });
  afterEach(() => Promise.all([issuer.close(), elsewhere.close()]));

  it('sends no client_secret_post body to a discovered token_endpoint on another origin; a configured one is used', async () => {
    metadata = { token_endpoint: `${elsewhere.url}/token` };
    const options = {
      issuer: issuer.url,
      clientId: 'svc',
      auth: clientSecretPost('svc', 's3cr3t'),
    };
    const error = await rejection(new TokenClient(options).getToken());
    expect(error).toMatchObject({
      code: 'invalid_url',
      description: `token_endpoint "${elsewhere.url}/token" is not on the issuer's origin (configure it explicitly to use another)`,
    });
    expect(elsewhere.requests).toHaveLength(0);
    expect(
      await new TokenClient({
        ...options,
        tokenEndpoint: `${elsewhere.url}/token`,
      }).getToken(),
    ).toBe('at');
    expect(elsewhere.requests).toHaveLength(1);
  });

  it('sends no client_secret_post body to a discovered plain-http token_endpoint of an https issuer', async () => {
    const { fetchFn, calls } = tableFetch({
      'https://auth.example.test/.well-known/oauth-authorization-server': {
        issuer: 'https://auth.example.test',
        token_endpoint: 'http://auth.example.test/token',
      },
    });
    const client = new TokenClient({
      issuer: 'https://auth.example.test',
      clientId: 'svc',
      auth: clientSecretPost('svc', 's3cr3t'),
      fetch: fetchFn,
    });
    expect(await rejection(client.getToken())).toMatchObject({
      code: 'invalid_url',
      description: `token_endpoint "http://auth.example.test/token" ${NOT_HTTPS}`,
    });
    expect(calls.map((c) => c.url)).toEqual(['https://auth.example.test/.well-known/oauth-authorization-server']);
  });

  it('sends no initial access token to a discovered registration_endpoint on another origin', async () => {
    metadata = { registration_endpoint: `${elsewhere.url}/register` };
    const error = await rejection(
      new RegistrationClient({ issuer: issuer.url }).register({}, { initialAccessToken: 'iat-secret' }),
    );
    expect(error).toMatchObject({ code: 'invalid_url' });
    expect(error.description).toContain(
      `registration_endpoint "${elsewhere.url}/register" is not on the issuer's origin`,
    );
    expect(elsewhere.requests).toHaveLength(0);
  });
});

describe('registration_client_uri', () => {
  let server: FakeHttpServer;
  let elsewhere: FakeHttpServer;
  let clientUri: string;
  beforeEach(async () => {
    elsewhere = await startFakeServer(() => ({ json: {} }));
    server = await startFakeServer((r) =>
      r.path === '/register'
        ? {
            status: 201,
            json: {
              client_id: 'c1',
              client_secret: 's1',
              registration_access_token: 'rat-1',
              registration_client_uri: clientUri,
            },
          }
        : undefined,
    );
  });
  afterEach(() => Promise.all([server.close(), elsewhere.close()]));

  it.each([
    ['on another origin', () => `${elsewhere.url}/register/c1`, "is not on the issuer's origin"],
    ['on plain http to another host', () => 'http://auth.example.test/register/c1', NOT_HTTPS],
    ['a javascript: URL', () => 'javascript:alert(1)', NOT_HTTPS],
  ])('from a response, %s, is not adopted and gets no registration access token', async (_, uri, reason) => {
    clientUri = uri();
    const client = new RegistrationClient({ issuer: server.url });
    const error = await rejection(client.register({}));
    expect(error.code).toBe('invalid_url');
    expect(error.description).toContain(`registration_client_uri ${JSON.stringify(clientUri)} ${reason}`);
    expect(client.registration).toBeUndefined();
    expect(elsewhere.requests).toHaveLength(0);
  });

  it('from storage is checked at construction too', () => {
    const registration = {
      client_id: 'c1',
      registration_access_token: 'rat',
      registration_client_uri: 'http://evil.example/register/c1',
    };
    expect(
      thrown(
        () =>
          new RegistrationClient({
            issuer: 'https://auth.example.test',
            registration,
          }),
      ).code,
    ).toBe('invalid_url');
    // A configured registration endpoint on another origin lends its origin to the client URI.
    const ok = new RegistrationClient({
      issuer: 'https://auth.example.test',
      registrationEndpoint: 'https://register.example.test/register',
      registration: {
        ...registration,
        registration_client_uri: 'https://register.example.test/register/c1',
      },
    });
    expect(ok.registration!.client_id).toBe('c1');
  });
});
