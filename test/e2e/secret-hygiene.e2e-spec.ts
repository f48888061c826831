import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  clientSecretBasic,
  clientSecretJwt,
  privateKeyJwt,
  RegistrationClient,
  TokenClient,
  type FetchLike,
} from '@clavis/client';
import { assertion, generateKey, JWT_BEARER, type TestKey } from '../support/keys.js';
import { createLoggedTestApp, render, type LoggedTestApp } from '../support/logged-test-app.js';
import { buildServer, newKek, ownDatabase, runServerProcess, type OwnDatabase } from '../support/kek.js';
import { freePort } from '../support/test-app.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/**
 * After a representative run, no issued or presented credential is anywhere it should not be: not in
 * any database row, not in any log line (every level), not in any audit event. Responses carry no
 * stack trace and no X-Powered-By.
 */

const STACK = /\bat .*\.(ts|js|mjs|cjs):\d+|\bat (async )?[\w$.<>]+ \(|node_modules\//;
const sha256 = (v: string) => createHash('sha256').update(v, 'utf8').digest('base64url');
/** The console as it is before the test captures it (for the figures). */
const print = console.info.bind(console);
const wrongValue = () => randomBytes(32).toString('base64url');

interface Recorded {
  what: string;
  status: number;
  headers: Headers;
  text: string;
}

describe('secret hygiene: database dump, logs and audit events hold no credential', () => {
  let t: LoggedTestApp;
  /** Every credential issued or sent: label → value. */
  const credentials = new Map<string, string>();
  /** Every response of the run. */
  const responses: Recorded[] = [];
  /** Output that bypassed the Nest logger (console, stdout, stderr) during the run. */
  const rawOutput: string[] = [];
  const clientIds: string[] = [];
  const deletedClientIds = new Set<string>();
  const spies: { mockRestore(): void }[] = [];

  const keep = (label: string, value: string | undefined) => {
    if (!value) throw new Error(`no value for ${label}`);
    credentials.set(`${label}#${credentials.size}`, value);
    return value;
  };

  /** fetch that records every response (for the SDK and the helpers below). */
  const recordingFetch: FetchLike = async (input, init) => {
    const res = await fetch(input, init);
    const text = await res.clone().text();
    responses.push({
      what: `${init?.method ?? 'GET'} ${String(input)}`,
      status: res.status,
      headers: res.headers,
      text,
    });
    return res;
  };
  async function call(
    what: string,
    url: string,
    init: RequestInit = {},
  ): Promise<{ status: number; json: any; text: string; headers: Headers }> {
    const res = await fetch(url, init);
    const text = await res.text();
    responses.push({ what, status: res.status, headers: res.headers, text });
    let json: any;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    return { status: res.status, json, text, headers: res.headers };
  }
  const form = (what: string, path: string, params: Record<string, string>, headers: Record<string, string> = {}) =>
    call(what, `${t.baseUrl}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      body: new URLSearchParams(params).toString(),
    });
  const json = (what: string, url: string, method: string, body?: unknown, token?: string) =>
    call(what, url, {
      method,
      headers: {
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  const basicHeader = (id: string, secret: string) => {
    const value = Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64');
    keep('basic credential (base64)', value);
    return { authorization: `Basic ${value}` };
  };
  const token = (what: string, params: Record<string, string>, headers: Record<string, string> = {}) =>
    form(what, '/token', { grant_type: 'client_credentials', ...params }, headers);
  const withAssertion = (what: string, a: string) => {
    keep('assertion', a);
    keep('assertion signature', a.split('.')[2]);
    return token(what, { client_assertion_type: JWT_BEARER, client_assertion: a });
  };
  const hmac = (secret: string) => ({ privateKey: new TextEncoder().encode(secret), alg: 'HS256' });

  beforeAll(async () => {
    // Anything printed outside the Nest logger is captured too (and not printed).
    for (const m of ['log', 'info', 'warn', 'error', 'debug', 'trace'] as const)
      spies.push(
        vi.spyOn(console, m).mockImplementation((...a: unknown[]) => void rawOutput.push(a.map(render).join(' '))),
      );
    for (const stream of [process.stdout, process.stderr])
      spies.push(
        vi.spyOn(stream, 'write').mockImplementation(((chunk: unknown, ...rest: unknown[]) => {
          rawOutput.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8'));
          (rest.find((r) => typeof r === 'function') as (() => void) | undefined)?.();
          return true;
        }) as typeof process.stdout.write),
      );
    t = await createLoggedTestApp();
  });
  afterAll(async () => {
    for (const s of spies) s.mockRestore();
    await t?.close();
  });

  it('runs a representative scenario (four methods, registrations, rotations, failures, revocation, introspection, service calls)', async () => {
    const now = () => t.clock.nowSeconds();

    // --- operator path: service calls, no CLI ---
    const iat = keep(
      'initial access token',
      (await t.initialTokens.create({ uses: 10, description: 'hygiene' })).token,
    );
    const doomed = await t.initialTokens.create({ expiresIn: 600 });
    keep('initial access token (revoked)', doomed.token);
    expect(await t.initialTokens.revoke(doomed.record.id)).toBe(true);
    await t.initialTokens.list();
    const svc = {
      basic: await t.clients.create(
        { tokenEndpointAuthMethod: 'client_secret_basic', scope: 'statements:read' },
        { withRegistrationToken: true },
      ),
      post: await t.clients.create(
        { tokenEndpointAuthMethod: 'client_secret_post', scope: 'statements:read' },
        { withRegistrationToken: true },
      ),
      jwt: await t.clients.create(
        { tokenEndpointAuthMethod: 'client_secret_jwt', scope: 'statements:read' },
        { withRegistrationToken: true },
      ),
    };
    for (const [name, issued] of Object.entries(svc)) {
      clientIds.push(issued.client.clientId);
      keep(`service ${name} secret`, issued.clientSecret);
      keep(`service ${name} registration token`, issued.registrationAccessToken);
    }
    const svcBasicOld = svc.basic.clientSecret!;
    const svcBasicNew = keep(
      'service rotated secret',
      (await t.clients.rotateSecret(svc.basic.client.clientId)).clientSecret,
    );
    const svcJwtNew = keep(
      'service rotated hmac secret',
      (await t.clients.rotateSecret(svc.jwt.client.clientId)).clientSecret,
    );
    expect(await t.clients.retirePreviousSecret(svc.basic.client.clientId)).toBe(true);
    keep('service rotated registration token', await t.clients.rotateRegistrationToken(svc.post.client.clientId));
    await t.keys.rotate({ force: true });
    await t.clients.list();

    // --- RFC 7591 registration over HTTP, all four methods ---
    const pkKey: TestKey = await generateKey('ES256');
    const strangerKey: TestKey = await generateKey('ES256');
    const registered: Record<string, any> = {};
    for (const method of ['client_secret_basic', 'client_secret_post', 'client_secret_jwt', 'private_key_jwt']) {
      const body = {
        token_endpoint_auth_method: method,
        scope: 'statements:read',
        client_name: `hygiene ${method}`,
        ...(method === 'private_key_jwt' ? { jwks: { keys: [pkKey.publicJwk] } } : {}),
      };
      const res = await json(`register ${method}`, `${t.baseUrl}/register`, 'POST', body, iat);
      expect(res.status, res.text).toBe(201);
      registered[method] = res.json;
      clientIds.push(res.json.client_id);
      keep(`registration token ${method}`, res.json.registration_access_token);
      if (method !== 'private_key_jwt') keep(`secret ${method}`, res.json.client_secret);
    }
    // The SDK registers one too (its requests and responses recorded).
    const registrar = new RegistrationClient({
      issuer: t.issuer,
      registrationEndpoint: `${t.baseUrl}/register`,
      fetch: recordingFetch,
    });
    const sdkReg = await registrar.register(
      { token_endpoint_auth_method: 'client_secret_basic', scope: 'statements:read' },
      { initialAccessToken: iat },
    );
    clientIds.push(sdkReg.client_id);
    keep('sdk secret', sdkReg.client_secret);
    keep('sdk registration token', sdkReg.registration_access_token);
    const sdkRotated = await registrar.rotateSecret();
    keep('sdk rotated secret', sdkRotated.client_secret);
    keep('sdk rotated registration token', registrar.registration!.registration_access_token);

    // Registration failures.
    expect(
      (
        await json(
          'register, unknown initial token',
          `${t.baseUrl}/register`,
          'POST',
          { scope: 'statements:read' },
          keep('wrong initial token', wrongValue()),
        )
      ).status,
    ).toBe(401);
    expect(
      (
        await json(
          'register, revoked initial token',
          `${t.baseUrl}/register`,
          'POST',
          { scope: 'statements:read' },
          doomed.token,
        )
      ).status,
    ).toBe(401);
    expect(
      (
        await json(
          'register, bad metadata',
          `${t.baseUrl}/register`,
          'POST',
          { token_endpoint_auth_method: 'none' },
          iat,
        )
      ).status,
    ).toBe(400);
    expect(
      (
        await call('register, broken JSON', `${t.baseUrl}/register`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${iat}` },
          body: '{"scope": ',
        })
      ).status,
    ).toBe(400);

    // --- RFC 7592 management: read, rotate by PUT, wrong tokens, delete ---
    const basicReg = registered.client_secret_basic;
    const jwtReg = registered.client_secret_jwt;
    expect(
      (await json('read', basicReg.registration_client_uri, 'GET', undefined, basicReg.registration_access_token))
        .status,
    ).toBe(200);
    expect(
      (
        await json(
          "read with another client's token",
          basicReg.registration_client_uri,
          'GET',
          undefined,
          jwtReg.registration_access_token,
        )
      ).status,
    ).toBe(401);
    const put = async (reg: any, extra: Record<string, unknown> = {}) => {
      const res = await json(
        'rotate by PUT',
        reg.registration_client_uri,
        'PUT',
        {
          client_id: reg.client_id,
          token_endpoint_auth_method: reg.token_endpoint_auth_method,
          scope: 'statements:read',
          ...extra,
        },
        reg.registration_access_token,
      );
      return res;
    };
    const basicOldSecret = basicReg.client_secret;
    const basicOldToken = basicReg.registration_access_token;
    let res = await put(basicReg);
    expect(res.status, res.text).toBe(200);
    basicReg.client_secret = keep('PUT rotated secret', res.json.client_secret);
    basicReg.registration_access_token = keep('PUT rotated registration token', res.json.registration_access_token);
    expect((await put({ ...basicReg, registration_access_token: basicOldToken })).status).toBe(401);
    expect((await put(basicReg, { client_secret: keep('wrong secret in PUT body', wrongValue()) })).status).toBe(400);
    res = await put(basicReg, { client_secret: basicReg.client_secret });
    expect(res.status, res.text).toBe(200);
    const basicPreviousSecret = basicReg.client_secret; // valid during the overlap; the first one is gone (two at most)
    basicReg.client_secret = keep('PUT rotated secret', res.json.client_secret);
    basicReg.registration_access_token = keep('PUT rotated registration token', res.json.registration_access_token);
    res = await put(jwtReg);
    expect(res.status, res.text).toBe(200);
    const jwtOldSecret = jwtReg.client_secret;
    jwtReg.client_secret = keep('PUT rotated hmac secret', res.json.client_secret);
    jwtReg.registration_access_token = keep('PUT rotated registration token', res.json.registration_access_token);
    const doomedReg = registered.client_secret_post;
    deletedClientIds.add(doomedReg.client_id);
    expect(
      (
        await json(
          'delete',
          doomedReg.registration_client_uri,
          'DELETE',
          undefined,
          doomedReg.registration_access_token,
        )
      ).status,
    ).toBe(204);
    expect(
      (
        await json(
          'read after delete',
          doomedReg.registration_client_uri,
          'GET',
          undefined,
          doomedReg.registration_access_token,
        )
      ).status,
    ).toBe(401);

    // --- the token endpoint: all four methods, old and new secrets, and failures ---
    const accessTokens: string[] = [];
    const ok = async (what: string, p: Promise<{ status: number; json: any; text: string }>) => {
      const r = await p;
      expect(r.status, `${what}: ${r.text}`).toBe(200);
      accessTokens.push(keep('access token', r.json.access_token));
      return r.json.access_token as string;
    };
    const fails = async (what: string, p: Promise<{ status: number; text: string }>) => {
      const r = await p;
      expect(r.status, `${what}: ${r.text}`).toBe(401);
    };
    await ok('basic', token('basic', {}, basicHeader(basicReg.client_id, basicReg.client_secret)));
    await ok(
      'basic, previous secret in the overlap',
      token('basic previous', {}, basicHeader(basicReg.client_id, basicPreviousSecret)),
    );
    await fails(
      'basic, secret from two rotations ago',
      token('basic two rotations ago', {}, basicHeader(basicReg.client_id, basicOldSecret)),
    );
    await ok('service basic, new', token('svc basic', {}, basicHeader(svc.basic.client.clientId, svcBasicNew)));
    await fails(
      'service basic, retired',
      token('svc basic retired', {}, basicHeader(svc.basic.client.clientId, svcBasicOld)),
    );
    await ok('post', token('post', { client_id: svc.post.client.clientId, client_secret: svc.post.clientSecret! }));
    await ok(
      'secret_jwt',
      withAssertion(
        'secret_jwt',
        await assertion(jwtReg.client_id, hmac(jwtReg.client_secret), t.issuer, { now: now() }),
      ),
    );
    await ok(
      'secret_jwt, previous secret',
      withAssertion('secret_jwt old', await assertion(jwtReg.client_id, hmac(jwtOldSecret), t.issuer, { now: now() })),
    );
    await ok(
      'service secret_jwt',
      withAssertion(
        'svc secret_jwt',
        await assertion(svc.jwt.client.clientId, hmac(svcJwtNew), t.issuer, { now: now() }),
      ),
    );
    const pkId = registered.private_key_jwt.client_id;
    const pkAssertion = await assertion(pkId, pkKey, t.issuer, { now: now() });
    await ok('private_key_jwt', withAssertion('private_key_jwt', pkAssertion));
    await fails('replayed assertion', withAssertion('replay', pkAssertion));
    await fails(
      'wrong key',
      withAssertion('stranger key', await assertion(pkId, strangerKey, t.issuer, { now: now() })),
    );
    await fails(
      'expired assertion',
      withAssertion('expired', await assertion(pkId, pkKey, t.issuer, { now: now() - 600 })),
    );
    await fails(
      'token endpoint as audience',
      withAssertion('aud', await assertion(pkId, pkKey, t.tokenEndpoint, { now: now() })),
    );
    await fails(
      'wrong hmac',
      withAssertion(
        'wrong hmac',
        await assertion(jwtReg.client_id, hmac(keep('wrong hmac secret', wrongValue())), t.issuer, { now: now() }),
      ),
    );
    await fails(
      'wrong basic secret',
      token('wrong basic', {}, basicHeader(basicReg.client_id, keep('wrong secret', wrongValue()))),
    );
    await fails(
      'wrong post secret',
      token('wrong post', { client_id: svc.post.client.clientId, client_secret: keep('wrong secret', wrongValue()) }),
    );
    await fails(
      "another client's secret",
      token('cross', {}, basicHeader(basicReg.client_id, svc.basic.clientSecret!)),
    );
    await fails(
      'method mismatch',
      token('mismatch', { client_id: basicReg.client_id, client_secret: basicReg.client_secret }),
    );
    await fails('unknown client', token('unknown', {}, basicHeader('nobody', keep('wrong secret', wrongValue()))));
    expect(
      (await token('bad scope', { scope: 'admin' }, basicHeader(basicReg.client_id, basicReg.client_secret))).status,
    ).toBe(400);
    expect(
      (
        await call('token as JSON', `${t.baseUrl}/token`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ grant_type: 'client_credentials', client_secret: basicReg.client_secret }),
        })
      ).status,
    ).toBe(400);

    // The SDK, all four methods (its requests and responses recorded).
    const sdkClients = [
      new TokenClient({
        issuer: t.issuer,
        tokenEndpoint: t.tokenEndpoint,
        clientId: sdkReg.client_id,
        auth: clientSecretBasic(sdkReg.client_id, sdkRotated.client_secret),
        fetch: recordingFetch,
        clock: { now: () => t.clock.now() },
      }),
      new TokenClient({
        issuer: t.issuer,
        tokenEndpoint: t.tokenEndpoint,
        clientId: jwtReg.client_id,
        auth: clientSecretJwt(jwtReg.client_id, jwtReg.client_secret),
        fetch: recordingFetch,
        clock: { now: () => t.clock.now() },
      }),
      new TokenClient({
        issuer: t.issuer,
        tokenEndpoint: t.tokenEndpoint,
        clientId: pkId,
        auth: privateKeyJwt(pkId, pkKey.privateKey, { kid: pkKey.kid, alg: 'ES256' }),
        fetch: recordingFetch,
        clock: { now: () => t.clock.now() },
      }),
    ];
    for (const c of sdkClients) {
      const at = await c.getToken();
      accessTokens.push(keep('sdk access token', at));
      // The statements API, with the token (the resource guard logs at debug level).
      expect((await c.fetch(`${t.baseUrl}/statements`)).status).toBe(200);
    }
    const wrongSdk = new TokenClient({
      issuer: t.issuer,
      tokenEndpoint: t.tokenEndpoint,
      clientId: sdkReg.client_id,
      auth: clientSecretBasic(sdkReg.client_id, keep('wrong secret', wrongValue())),
      fetch: recordingFetch,
    });
    await expect(wrongSdk.getToken()).rejects.toMatchObject({ code: 'invalid_client' });

    // --- introspection and revocation ---
    const basicAuth = basicHeader(basicReg.client_id, basicReg.client_secret);
    const victim = accessTokens[0];
    expect((await form('introspect', '/introspect', { token: victim }, basicAuth)).json).toMatchObject({
      active: true,
    });
    expect(
      (
        await form(
          'introspect, wrong client secret',
          '/introspect',
          { token: victim },
          basicHeader(basicReg.client_id, keep('wrong secret', wrongValue())),
        )
      ).status,
    ).toBe(401);
    expect((await form('revoke', '/revoke', { token: victim }, basicAuth)).status).toBe(200);
    expect((await form('introspect revoked', '/introspect', { token: victim }, basicAuth)).json).toEqual({
      active: false,
    });
    expect(
      (await form('revoke garbage', '/revoke', { token: keep('garbage token', wrongValue()) }, basicAuth)).status,
    ).toBe(200);
    expect(
      (
        await call('statements with revoked token', `${t.baseUrl}/statements`, {
          headers: { authorization: `Bearer ${victim}` },
        })
      ).status,
    ).toBe(401);
    expect(
      (
        await call('statements with garbage token', `${t.baseUrl}/statements`, {
          headers: { authorization: `Bearer ${keep('garbage bearer', wrongValue())}` },
        })
      ).status,
    ).toBe(401);

    // --- odds and ends that produce error pages ---
    expect((await call('unknown route', `${t.baseUrl}/no-such-route`)).status).toBe(404);
    expect((await call('metadata', `${t.baseUrl}/.well-known/oauth-authorization-server`)).status).toBe(200);
    expect((await call('jwks', `${t.baseUrl}/jwks`)).status).toBe(200);
    expect(
      (
        await call('oversized form', `${t.baseUrl}/token`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: `client_secret=${basicReg.client_secret}&x=${'a'.repeat(40_000)}`,
        })
      ).status,
    ).toBeGreaterThanOrEqual(400);

    // Finally: the overlap ends and housekeeping runs; delete via the service.
    t.clock.advance(86_401);
    await fails(
      'basic, previous secret after the overlap',
      token('basic previous after overlap', {}, basicHeader(basicReg.client_id, basicPreviousSecret)),
    );
    await ok(
      'basic, current secret after the overlap',
      token('basic after overlap', {}, basicHeader(basicReg.client_id, basicReg.client_secret)),
    );
    deletedClientIds.add(svc.post.client.clientId);
    expect(await t.clients.delete(svc.post.client.clientId)).toBe(true);

    expect(credentials.size).toBeGreaterThan(60);
    expect(responses.length).toBeGreaterThan(50);
  });

  /** Every row of every table (the whole schema: clavis_* and the migrations table), as text. */
  async function dumpDatabase(): Promise<{ text: string; tables: Record<string, number> }> {
    const ds = t.dataSource;
    const tables: string[] =
      ds.options.type === 'postgres'
        ? (
            await ds.query(
              `SELECT table_name AS name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'`,
            )
          ).map((r: { name: string }) => r.name)
        : (await ds.query(`SELECT name FROM sqlite_master WHERE type = 'table'`)).map((r: { name: string }) => r.name);
    expect(tables.filter((n) => n.startsWith('clavis_')).sort()).toEqual([
      'clavis_client',
      'clavis_client_change',
      'clavis_client_secret',
      'clavis_credential_notice',
      'clavis_credential_usage',
      'clavis_federated_credential',
      'clavis_initial_access_token',
      'clavis_revoked_token',
      'clavis_signing_key',
      'clavis_used_jti',
    ]);
    const parts: string[] = [];
    const counts: Record<string, number> = {};
    for (const name of tables) {
      const rows = await ds.query(`SELECT * FROM "${name.replace(/"/g, '""')}"`);
      counts[name] = rows.length;
      parts.push(
        `-- ${name}\n${rows.map((r: unknown) => JSON.stringify(r, (_k, v) => (typeof v === 'bigint' ? String(v) : Buffer.isBuffer(v) ? v.toString('base64') : v))).join('\n')}`,
      );
    }
    // The shared Redis (replay store, deny list, rate limits) when the app uses it: every key and string value.
    if (process.env.REDIS_URL) {
      const redis = new Redis(process.env.REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
      await redis.connect();
      try {
        const keys: string[] = [];
        let cursor = '0';
        do {
          const [next, batch] = await redis.scan(cursor, 'MATCH', 'clavis:*', 'COUNT', 1000);
          cursor = next;
          keys.push(...batch);
        } while (cursor !== '0');
        counts['redis keys'] = keys.length;
        for (const k of keys) parts.push(`${k} ${(await redis.type(k)) === 'string' ? await redis.get(k) : ''}`);
      } finally {
        redis.disconnect();
      }
    }
    return { text: parts.join('\n'), tables: counts };
  }

  it('the database dump, the logs (all levels) and the audit events contain none of the credentials; positive controls are found', async () => {
    const dump = await dumpDatabase();
    const logs = `${t.logs.text()}\n${rawOutput.join('')}`;
    const audit = JSON.stringify(t.audit.events);
    const haystacks = { database: dump.text, logs, audit };

    // Positive controls: the search does find what is there.
    for (const id of clientIds) {
      if (deletedClientIds.has(id)) expect(dump.text, `deleted client ${id} is gone`).not.toContain(id);
      else expect(dump.text, `client_id ${id} in the dump`).toContain(id);
      expect(audit, `client_id ${id} in the audit events`).toContain(id);
      expect(logs, `client_id ${id} in the logs (audit lines)`).toContain(id);
    }
    const hashedSecret = [...credentials].find(([label]) => label.startsWith('PUT rotated secret'))![1];
    expect(dump.text, 'the hash of a secret is in the dump').toContain(sha256(hashedSecret));
    expect(dump.text, 'the hash of the initial access token is in the dump').toContain(
      sha256([...credentials].find(([label]) => label.startsWith('initial access token#'))![1]),
    );
    expect(logs).toContain('Mapped {/token, POST}');
    expect(logs).toMatch(/client\.authentication_failed/);
    expect(
      t.logs.entries.some((e) => e.level === 'debug'),
      'debug lines are captured',
    ).toBe(true);

    // The real check.
    const found: string[] = [];
    for (const [label, value] of credentials) {
      for (const [where, text] of Object.entries(haystacks))
        if (text.includes(value)) found.push(`${label} in ${where}`);
    }
    print(
      `secret hygiene: searched ${credentials.size} credentials in ${dump.text.length} chars of dump (${JSON.stringify(dump.tables)}), ` +
        `${t.logs.entries.length} log entries + ${rawOutput.length} raw writes, ${t.audit.events.length} audit events; found ${found.length}`,
    );
    expect(found).toEqual([]);
  });

  it('no response carries X-Powered-By or a stack trace, and none is a 5xx', async () => {
    const bad = responses.filter(
      (r) => r.headers.has('x-powered-by') || STACK.test(r.text) || /\n\s+at /.test(r.text) || r.status >= 500,
    );
    expect(
      bad.map((r) => `${r.what} ${r.status} ${r.headers.get('x-powered-by') ?? ''} ${r.text.slice(0, 200)}`),
    ).toEqual([]);
    expect(responses.every((r) => !r.headers.has('x-powered-by'))).toBe(true);
  });
});

/**
 * The real server process in production (`NODE_ENV=production`: JSON log lines, as
 * `node dist/apps/auth-server/main.js` runs): registration, tokens, a failed authentication, a
 * registration update (the registration access token rotates), a secret rotation, revocation and a
 * deletion; then every line it wrote is a JSON object, audit events are structured fields, and no
 * credential of the run appears anywhere in its output.
 */
describe('secret hygiene: the production process logs JSON lines without credentials', () => {
  const SLOW = 240_000;
  let db: OwnDatabase;
  let server: ChildProcess | undefined;
  let output = '';

  beforeAll(async () => {
    buildServer();
    db = await ownDatabase();
  }, SLOW);
  afterAll(async () => {
    server?.kill('SIGKILL');
    await db?.drop();
  });

  it(
    'every stdout/stderr line is JSON; audit events are fields; no secret, token, assertion or key in any of them',
    async () => {
      const port = await freePort();
      const base = `http://127.0.0.1:${port}`;
      const kek = newKek();
      const env = {
        ...db.env,
        ...(process.env.REDIS_URL ? { REDIS_URL: process.env.REDIS_URL } : {}),
        NODE_ENV: 'production',
        // The Redis rate-limit counters are shared with the other suites of a PostgreSQL + Redis pass,
        // all from 127.0.0.1: limits out of reach, as in every test app (test/support/test-app.ts).
        RATE_LIMIT_TOKEN_PER_ADDRESS: '1000000',
        RATE_LIMIT_TOKEN_PER_CLIENT: '1000000',
        RATE_LIMIT_REGISTER_PER_ADDRESS: '1000000',
        RATE_LIMIT_AUTH_FAILURES_PER_ADDRESS: '1000000',
        CLAVIS_KEK: kek,
        ISSUER: base,
        PORT: String(port),
        HOST: '127.0.0.1',
      };
      const secrets = new Set<string>([kek]);
      const created = await runServerProcess(['initial-tokens', 'create', '--uses', '5'], env);
      expect(created.code, created.stderr).toBe(0);
      const iat: string = JSON.parse(created.stdout.slice(created.stdout.indexOf('{'))).initial_access_token;
      secrets.add(iat);

      server = spawn(process.execPath, ['dist/apps/auth-server/main.js'], {
        cwd: ROOT,
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const exited = new Promise<void>((resolve) => server!.once('exit', () => resolve()));
      server.stdout!.on('data', (d) => (output += d));
      server.stderr!.on('data', (d) => (output += d));
      for (let i = 0; i < 600 && !/"message":"listening"/.test(output); i++)
        await new Promise((r) => setTimeout(r, 100));
      expect(output).toMatch(/"message":"listening"/);

      const call = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
        const form = body instanceof URLSearchParams;
        const res = await fetch(`${base}${path}`, {
          method,
          headers: {
            ...(body === undefined
              ? {}
              : { 'content-type': form ? 'application/x-www-form-urlencoded' : 'application/json' }),
            ...headers,
          },
          body: body === undefined ? undefined : form ? body.toString() : JSON.stringify(body),
        });
        const text = await res.text();
        return { status: res.status, json: text ? JSON.parse(text) : undefined };
      };
      const basicOf = (id: string, secret: string) => {
        const value = Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64');
        secrets.add(value);
        return { authorization: `Basic ${value}` };
      };
      const tokenForm = () => new URLSearchParams({ grant_type: 'client_credentials' });

      const reg = await call(
        'POST',
        '/register',
        { scope: 'statements:read', client_name: 'prod' },
        { authorization: `Bearer ${iat}` },
      );
      expect(reg.status).toBe(201);
      const {
        client_id: id,
        client_secret: secret,
        registration_access_token: rat,
        registration_client_uri: uri,
      } = reg.json;
      secrets.add(secret).add(rat);
      const path = new URL(uri).pathname;
      const tok = await call('POST', '/token', tokenForm(), basicOf(id, secret));
      expect(tok.status).toBe(200);
      secrets.add(tok.json.access_token).add(tok.json.access_token.split('.')[2]);
      const wrong = randomBytes(32).toString('base64url');
      secrets.add(wrong);
      expect((await call('POST', '/token', tokenForm(), basicOf(id, wrong))).status).toBe(401);
      expect((await call('POST', '/register', {}, { authorization: `Bearer ${wrong}` })).status).toBe(401);
      // RFC 7592 update (the current secret confirmed): the secret and the registration access token rotate.
      const read = await call('GET', path, undefined, { authorization: `Bearer ${rat}` });
      expect(read.status).toBe(200);
      const {
        registration_access_token: _t,
        registration_client_uri: _u,
        client_secret_expires_at: _e,
        client_id_issued_at: _i,
        ...metadata
      } = read.json;
      const put = await call(
        'PUT',
        path,
        { ...metadata, client_name: 'prod 2', client_secret: secret },
        { authorization: `Bearer ${rat}` },
      );
      expect(put.status, JSON.stringify(put.json)).toBe(200);
      const rat2 = put.json.registration_access_token;
      const rotated = put.json.client_secret;
      secrets.add(rat2).add(rotated);
      // The old secret still works in the overlap; the new one too.
      expect((await call('POST', '/token', tokenForm(), basicOf(id, secret))).status).toBe(200);
      const tok2 = await call('POST', '/token', tokenForm(), basicOf(id, rotated));
      expect(tok2.status).toBe(200);
      secrets.add(tok2.json.access_token);
      expect(
        (await call('POST', '/revoke', new URLSearchParams({ token: tok2.json.access_token }), basicOf(id, rotated)))
          .status,
      ).toBe(200);
      expect((await call('DELETE', path, undefined, { authorization: `Bearer ${rat2}` })).status).toBe(204);

      server.kill('SIGTERM');
      await exited;
      server = undefined;

      const lines = output.split('\n').filter((l) => l.trim());
      expect(lines.length).toBeGreaterThan(5);
      const records = lines.map((l) => {
        let record: any;
        expect(() => (record = JSON.parse(l)), `not a JSON line: ${l.slice(0, 200)}`).not.toThrow();
        expect(record).toMatchObject({ level: expect.any(String), message: expect.anything() });
        return record;
      });
      const audit = records.filter((r) => r.context === 'ClavisAudit');
      expect(audit.every((r) => r.audit && r.audit.type === r.message)).toBe(true);
      const types = audit.map((r) => r.audit.type);
      for (const type of [
        'client.registered',
        'client.authentication_failed',
        'registration.denied',
        'client.updated',
        'client.deleted',
      ])
        expect(types, type).toContain(type);
      expect(audit.find((r) => r.audit.type === 'client.authentication_failed')).toMatchObject({
        level: 'warn',
        audit: { clientId: id, reason: 'secret_mismatch', method: 'client_secret_basic' },
      });
      for (const value of secrets) expect(output.includes(value), 'a credential is in the output').toBe(false);
    },
    SLOW,
  );
});
