import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { JWK } from 'jose';
import { expect } from 'vitest';
import { postForm } from './http.js';
import type { TestApp } from './test-app.js';

export interface JsonResponse {
  status: number;
  headers: Headers;
  json: any;
  text: string;
}

/**
 * One request with a JSON body (or a raw string body with its own content type), optional
 * `Authorization: Bearer`. Returns status, headers, the parsed JSON (undefined when not JSON) and the text.
 */
export async function jsonRequest(
  url: string,
  opts: {
    method?: string;
    token?: string;
    body?: unknown;
    rawBody?: string;
    contentType?: string | null;
    headers?: Record<string, string>;
  } = {},
): Promise<JsonResponse> {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.token !== undefined) headers.authorization = `Bearer ${opts.token}`;
  let body: string | undefined;
  if (opts.rawBody !== undefined) body = opts.rawBody;
  else if (opts.body !== undefined) body = JSON.stringify(opts.body);
  if (body !== undefined && opts.contentType !== null) headers['content-type'] = opts.contentType ?? 'application/json';
  const res = await fetch(url, { method: opts.method ?? (body === undefined ? 'GET' : 'POST'), headers, body });
  const text = await res.text();
  let json: any;
  try {
    json = text === '' ? undefined : JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, json, text };
}

/** Asserts an exact RFC 7591 §3.2.2 / RFC 6750 error response of the registration endpoints. */
export function expectRegistrationError(res: JsonResponse, status: number, error: string): void {
  expect({ status: res.status, error: res.json?.error }).toEqual({ status, error });
  expect(Object.keys(res.json).sort()).toEqual(['error', 'error_description']);
  expect(typeof res.json.error_description).toBe('string');
  expect(res.headers.get('cache-control')).toBe('no-store');
  expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  if (status === 401) expect(res.headers.get('www-authenticate')).toBe('Bearer error="invalid_token"');
  expect(res.text).not.toMatch(/\bat .*\.(ts|js):\d+/); // no stack trace
}

/** The registration endpoint and helpers bound to one test app. */
export function registrationApi(t: TestApp) {
  const endpoint = `${t.issuer}/register`;
  return {
    endpoint,
    /** POST /register with an initial access token (or none when `token` is undefined). */
    register: (body: unknown, token?: string) => jsonRequest(endpoint, { method: 'POST', body, token }),
    read: (uri: string, token?: string) => jsonRequest(uri, { method: 'GET', token }),
    update: (uri: string, body: unknown, token?: string) => jsonRequest(uri, { method: 'PUT', body, token }),
    remove: (uri: string, token?: string) => jsonRequest(uri, { method: 'DELETE', token }),
    /** Registers with a fresh one-use initial access token; asserts 201. */
    async registerOk(body: Record<string, unknown>): Promise<any> {
      const { token } = await t.initialTokens.create({ uses: 1 });
      const res = await jsonRequest(endpoint, { method: 'POST', body, token });
      expect(res.status, res.text).toBe(201);
      return res.json;
    },
  };
}

/** POST /token with client_secret_basic; the Basic credential per RFC 6749 §2.3.1. */
export function tokenWithBasic(t: TestApp, clientId: string, secret: string, extra: Record<string, string> = {}) {
  const enc = (s: string) => encodeURIComponent(s).replace(/%20/g, '+');
  return postForm(
    t.tokenEndpoint,
    { grant_type: 'client_credentials', ...extra },
    { authorization: `Basic ${Buffer.from(`${enc(clientId)}:${enc(secret)}`).toString('base64')}` },
  );
}

/** POST /token with client_secret_post. */
export function tokenWithPost(t: TestApp, clientId: string, secret: string) {
  return postForm(t.tokenEndpoint, { grant_type: 'client_credentials', client_id: clientId, client_secret: secret });
}

/** POST /token with a client assertion. */
export function tokenWithAssertion(t: TestApp, assertion: string) {
  return postForm(t.tokenEndpoint, {
    grant_type: 'client_credentials',
    client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
    client_assertion: assertion,
  });
}

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/**
 * A local JWKS publisher on 127.0.0.1 (node:http). `/jwks` serves `keys` with a Cache-Control
 * max-age; other paths can be given handlers. Counts requests per path and TCP connections.
 */
export interface JwksServer {
  port: number;
  /** http://127.0.0.1:port + path */
  url(path?: string): string;
  /** Keys published at /jwks. */
  keys: JWK[];
  cacheControl: string;
  /** Requests seen, by path. */
  hits: Map<string, number>;
  /** TCP connections accepted (also those that never became an HTTP request, e.g. a TLS hello). */
  connections: number;
  route(path: string, handler: Handler): void;
  /** Stops listening and drops open connections. */
  stop(): Promise<void>;
}

export async function startJwksServer(): Promise<JwksServer> {
  const routes = new Map<string, Handler>();
  const sockets = new Set<Socket>();
  const state: JwksServer = {
    port: 0,
    url: (path = '/jwks') => `http://127.0.0.1:${state.port}${path}`,
    keys: [],
    cacheControl: 'public, max-age=300',
    hits: new Map(),
    connections: 0,
    route: (path, handler) => routes.set(path, handler),
    stop: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        if (!server.listening) return resolve();
        server.close(() => resolve());
      }),
  };
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    state.hits.set(path, (state.hits.get(path) ?? 0) + 1);
    const handler = routes.get(path);
    if (handler) return handler(req, res);
    if (path === '/jwks') {
      res.writeHead(200, { 'content-type': 'application/jwk-set+json', 'cache-control': state.cacheControl });
      res.end(JSON.stringify({ keys: state.keys }));
      return;
    }
    res.writeHead(404).end();
  });
  server.on('connection', (s) => {
    state.connections++;
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.port = (server.address() as AddressInfo).port;
  return state;
}
