import * as oauth from 'oauth4webapi';
import * as openid from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClavisClientError, clientSecretBasic, discoverAuthorizationServer, TokenClient } from '@clavis/client';
import { ClavisConfigurationError } from '@clavis/server';
import { basic, postForm } from '../support/http.js';
import { createClient, createTestApp, freePort, type TestApp } from '../support/test-app.js';

/**
 * An issuer with a path (`http://127.0.0.1:port/oauth`, routes under `/oauth`): its metadata is at
 * the RFC 8414 §3.1 location `/.well-known/oauth-authorization-server/oauth` and at the prefixed
 * one, and @clavis/client, openid-client and oauth4webapi discover it from the issuer alone.
 */
describe.each(['fastify', 'express'] as const)('an issuer with a path (%s)', (adapter) => {
  let t: TestApp;
  let issuer: string;
  let base: string;
  let client: { clientId: string; clientSecret: string };
  const fetched: string[] = [];
  const recordingFetch = (input: string | URL | Request, init?: RequestInit) => {
    fetched.push(String(input instanceof Request ? input.url : input));
    return fetch(input, init);
  };

  beforeAll(async () => {
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    issuer = `${base}/oauth`;
    t = await createTestApp({ adapter, port, env: { ISSUER: issuer, ROUTE_PREFIX: '/oauth' } });
    client = await createClient(t, { tokenEndpointAuthMethod: 'client_secret_basic' });
  });
  afterAll(() => t?.close());

  it('GET /.well-known/oauth-authorization-server/oauth (RFC 8414 §3.1) → the metadata, endpoints under /oauth', async () => {
    const res = await fetch(`${base}/.well-known/oauth-authorization-server/oauth`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(res.headers.get('cache-control')).toBe('public, max-age=300');
    const doc = await res.json();
    expect(doc).toMatchObject({
      issuer,
      token_endpoint: `${issuer}/token`,
      jwks_uri: `${issuer}/jwks`,
      registration_endpoint: `${issuer}/register`,
    });
  });

  it('the prefixed location serves the same document; the root location and other paths do not', async () => {
    const rfc = await (await fetch(`${base}/.well-known/oauth-authorization-server/oauth`)).json();
    const prefixed = await fetch(`${issuer}/.well-known/oauth-authorization-server`);
    expect(prefixed.status).toBe(200);
    expect(await prefixed.json()).toEqual(rfc);
    expect((await fetch(`${base}/.well-known/oauth-authorization-server`)).status).toBe(404);
    expect((await fetch(`${base}/.well-known/oauth-authorization-server/other`)).status).toBe(404);
  });

  it('the token endpoint it names issues a token', async () => {
    const res = await postForm(
      `${issuer}/token`,
      { grant_type: 'client_credentials' },
      basic(client.clientId, client.clientSecret),
    );
    expect(res.status, res.text).toBe(200);
  });

  it('@clavis/client discovers it at the RFC 8414 §3.1 URL first and gets a token', async () => {
    fetched.length = 0;
    const tokens = new TokenClient({
      issuer,
      clientId: client.clientId,
      auth: clientSecretBasic(client.clientId, client.clientSecret),
      clock: t.clock,
      fetch: recordingFetch,
    });
    expect(typeof (await tokens.getToken())).toBe('string');
    expect(fetched).toEqual([`${base}/.well-known/oauth-authorization-server/oauth`, `${issuer}/token`]);
  });

  it('@clavis/client: no metadata → an error naming both URLs it tried', async () => {
    const error = await discoverAuthorizationServer(`${base}/nothing`).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ClavisClientError);
    expect((error as ClavisClientError).status).toBe(404);
    expect((error as ClavisClientError).description).toBe(
      `no authorization server metadata: ${base}/.well-known/oauth-authorization-server/nothing and ${base}/nothing/.well-known/oauth-authorization-server answered 404`,
    );
  });

  it('openid-client discovers it (algorithm oauth2) and gets a token', async () => {
    const config = await openid.discovery(
      new URL(issuer),
      client.clientId,
      {},
      openid.ClientSecretBasic(client.clientSecret),
      { algorithm: 'oauth2', execute: [openid.allowInsecureRequests] },
    );
    expect(config.serverMetadata().issuer).toBe(issuer);
    expect(config.serverMetadata().token_endpoint).toBe(`${issuer}/token`);
    const token = await openid.clientCredentialsGrant(config, { scope: 'statements:read' });
    expect(typeof token.access_token).toBe('string');
  });

  it('oauth4webapi discovers it (algorithm oauth2, RFC 8414 §3.1 URL) and accepts the document', async () => {
    const url = new URL(issuer);
    const response = await oauth.discoveryRequest(url, { algorithm: 'oauth2', [oauth.allowInsecureRequests]: true });
    expect(response.url).toBe(`${base}/.well-known/oauth-authorization-server/oauth`);
    const as = await oauth.processDiscoveryResponse(url, response);
    expect(as.token_endpoint).toBe(`${issuer}/token`);
  });
});

describe('an issuer with a path and routes elsewhere: boot error', () => {
  it('issuer …/oauth with routes at the root → ClavisConfigurationError naming both', async () => {
    const port = await freePort();
    const error = await createTestApp({ port, env: { ISSUER: `http://127.0.0.1:${port}/oauth` } }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ClavisConfigurationError);
    expect((error as ClavisConfigurationError).problems).toEqual([
      "routePrefix must be the issuer's path (/oauth) or lie under it, so that the issuer describes this server; it is '' (the root)",
    ]);
  });
  it('issuer …/oauth with routes under /api → the same error', async () => {
    const port = await freePort();
    const error = await createTestApp({
      port,
      env: { ISSUER: `http://127.0.0.1:${port}/oauth`, ROUTE_PREFIX: '/api' },
    }).catch((e: unknown) => e);
    expect((error as ClavisConfigurationError).problems).toEqual([
      "routePrefix must be the issuer's path (/oauth) or lie under it, so that the issuer describes this server; it is /api",
    ]);
  });
  it('issuer …/oauth with routes under /oauth/v1 is fine (the endpoints lie under the issuer)', async () => {
    const port = await freePort();
    const t = await createTestApp({
      port,
      env: { ISSUER: `http://127.0.0.1:${port}/oauth`, ROUTE_PREFIX: '/oauth/v1' },
    });
    try {
      const doc = await (await fetch(`http://127.0.0.1:${port}/.well-known/oauth-authorization-server/oauth`)).json();
      expect(doc.token_endpoint).toBe(`http://127.0.0.1:${port}/oauth/v1/token`);
    } finally {
      await t.close();
    }
  });
});

describe('an issuer without a path, routes under a prefix', () => {
  it('the metadata is at /.well-known/oauth-authorization-server (RFC 8414 §3) and under the prefix', async () => {
    const t = await createTestApp({ env: { ROUTE_PREFIX: '/oauth' } });
    try {
      const root = await fetch(`${t.baseUrl}/.well-known/oauth-authorization-server`);
      expect(root.status).toBe(200);
      const doc = await root.json();
      expect(doc).toMatchObject({ issuer: t.baseUrl, token_endpoint: `${t.baseUrl}/oauth/token` });
      expect(await (await fetch(`${t.baseUrl}/oauth/.well-known/oauth-authorization-server`)).json()).toEqual(doc);
    } finally {
      await t.close();
    }
  });
});
