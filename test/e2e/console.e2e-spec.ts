import { randomInt } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tokenWithBasic, registrationApi } from '../support/registration.js';
import { createClient, createTestApp, type TestApp } from '../support/test-app.js';
import { consoleLogin, csrfOf, rawRequest, sessionCookie, type RawResponse } from '../support/console.js';

const PASSWORD = 'correct horse battery staple';
const HOSTILE_NAME = `<script>alert("xss")</script>"><img src=x onerror=alert(1)>'\``;

function expectSecurityHeaders(res: RawResponse): void {
  expect(res.headers['content-security-policy']).toBe(
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  );
  expect(res.headers['x-content-type-options']).toBe('nosniff');
  expect(res.headers['x-frame-options']).toBe('DENY');
  expect(res.headers['referrer-policy']).toBe('same-origin');
  expect(res.headers['cache-control']).toBe('no-store');
}

describe('operator console: off by default', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t?.close());

  it('serves nothing at /console without a password configured', async () => {
    const res = await rawRequest(t.baseUrl, 'GET', '/console/login');
    expect(res.status).toBe(404);
  });
});

describe('operator console: authentication, CSRF, headers, escaping', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ env: { CONSOLE_PASSWORD: PASSWORD } });
  });
  afterAll(() => t?.close());

  it('sends a request without a session to the sign-in page, with the security headers', async () => {
    for (const path of ['/console', '/console/clients', '/console/signing-keys', '/console/clients/x']) {
      const res = await rawRequest(t.baseUrl, 'GET', path, {});
      expect(res.status, path).toBe(303);
      expect(res.headers.location, path).toBe(path === '/console' ? '/console/clients' : '/console/login');
      expectSecurityHeaders(res);
    }
    const login = await rawRequest(t.baseUrl, 'GET', '/console/login');
    expect(login.status).toBe(200);
    expect(login.headers['content-type']).toBe('text/html; charset=utf-8');
    expectSecurityHeaders(login);
    expect(login.body).toContain('type="password"');
    const css = await rawRequest(t.baseUrl, 'GET', '/console/console.css');
    expect(css.status).toBe(200);
    expect(css.headers['content-type']).toBe('text/css; charset=utf-8');
  });

  it('refuses a wrong password with 401 and no cookie; the right one sets a strict session cookie', async () => {
    const wrong = await rawRequest(t.baseUrl, 'POST', '/console/login', { form: { password: 'not the password' } });
    expect(wrong.status).toBe(401);
    expect(wrong.headers['set-cookie']).toBeUndefined();
    expect(wrong.body).toContain('Wrong password');
    expectSecurityHeaders(wrong);

    const right = await rawRequest(t.baseUrl, 'POST', '/console/login', { form: { password: PASSWORD } });
    expect(right.status).toBe(303);
    expect(right.headers.location).toBe('/console/clients');
    const cookie = String(right.headers['set-cookie']);
    expect(cookie).toMatch(
      /^clavis_console=[A-Za-z0-9_-]{43}; Path=\/console; Max-Age=28800; HttpOnly; SameSite=Strict$/,
    );
    const page = await rawRequest(t.baseUrl, 'GET', '/console/clients', { headers: { cookie: sessionCookie(right)! } });
    expect(page.status).toBe(200);
    expect(page.body).toContain('<h1>Clients</h1>');
  });

  it('marks the cookie Secure when the console is not reached on localhost', async () => {
    const res = await rawRequest(t.baseUrl, 'POST', '/console/login', {
      form: { password: PASSWORD },
      headers: { host: 'clavis.example.com' },
    });
    expect(res.status).toBe(303);
    expect(String(res.headers['set-cookie'])).toMatch(/; HttpOnly; SameSite=Strict; Secure$/);
  });

  it('ignores a forged or unknown cookie', async () => {
    const res = await rawRequest(t.baseUrl, 'GET', '/console/clients', {
      headers: { cookie: 'clavis_console=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' },
    });
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe('/console/login');
  });

  it('refuses an action without the CSRF token, with a wrong one, or from another origin (403, nothing done)', async () => {
    const c = await createClient(t, { tokenEndpointAuthMethod: 'client_secret_basic', clientName: 'csrf target' });
    const { cookie, csrf } = await consoleLogin(t.baseUrl, PASSWORD);
    const path = `/console/clients/${c.clientId}/rotate-secret`;
    const attempts: { form: Record<string, string>; headers?: Record<string, string> }[] = [
      { form: {} },
      { form: { _csrf: 'x'.repeat(43) } },
      { form: { _csrf: csrf.slice(0, -1) } },
      { form: { _csrf: csrf }, headers: { origin: 'https://evil.example' } },
      { form: { _csrf: csrf }, headers: { origin: 'null' } },
      { form: { _csrf: csrf }, headers: { 'sec-fetch-site': 'cross-site' } },
    ];
    t.audit.clear();
    for (const a of attempts) {
      const res = await rawRequest(t.baseUrl, 'POST', path, { form: a.form, headers: { cookie, ...a.headers } });
      expect(res.status, JSON.stringify(a)).toBe(403);
      expectSecurityHeaders(res);
    }
    // Without a session at all, even with a token.
    const noSession = await rawRequest(t.baseUrl, 'POST', path, { form: { _csrf: csrf } });
    expect(noSession.status).toBe(403);
    expect(t.audit.ofType('client.secret_rotated')).toEqual([]);
    expect((await tokenWithBasic(t, c.clientId, c.clientSecret)).status).toBe(200);

    // The same request with the token and this origin works.
    const ok = await rawRequest(t.baseUrl, 'POST', path, {
      form: { _csrf: csrf },
      headers: { cookie, origin: t.baseUrl },
    });
    expect(ok.status).toBe(200);
    expect(t.audit.ofType('client.secret_rotated')).toHaveLength(1);
  });

  it('escapes a hostile client_name and software_id on every page', async () => {
    const c = await createClient(t, {
      tokenEndpointAuthMethod: 'client_secret_basic',
      clientName: HOSTILE_NAME,
      softwareId: '"><script>alert(2)</script>',
    });
    const { cookie, csrf } = await consoleLogin(t.baseUrl, PASSWORD);
    const pages = [
      await rawRequest(t.baseUrl, 'GET', '/console/clients', { headers: { cookie } }),
      await rawRequest(t.baseUrl, 'GET', `/console/clients?q=${encodeURIComponent(HOSTILE_NAME)}`, {
        headers: { cookie },
      }),
      await rawRequest(t.baseUrl, 'GET', `/console/clients/${c.clientId}`, { headers: { cookie } }),
      await rawRequest(t.baseUrl, 'GET', `/console/clients/${c.clientId}/delete`, { headers: { cookie } }),
      await rawRequest(t.baseUrl, 'POST', `/console/clients/${c.clientId}/rotate-secret`, {
        headers: { cookie },
        form: { _csrf: csrf },
      }),
    ];
    for (const page of pages) {
      expect(page.status).toBe(200);
      expect(page.body).not.toContain('<script>');
      expect(page.body).not.toContain('<img');
      expect(page.body).toContain('&lt;script&gt;alert(&quot;xss&quot;)&lt;/script&gt;&quot;&gt;&lt;img src=x');
    }
    // The search box echoes the query, escaped, and finds the client.
    expect(pages[1]!.body).toContain(`data-client-id="${c.clientId}"`);
    expect(pages[1]!.body).toContain('value="&lt;script&gt;');
    expect(pages[2]!.body).toContain('&quot;&gt;&lt;script&gt;alert(2)&lt;/script&gt;');
  });

  it('rotates a secret (shown once, working), retires the previous one, rotates the registration token', async () => {
    const c = await createClient(t, { tokenEndpointAuthMethod: 'client_secret_basic', clientName: 'billing' });
    const { cookie, csrf } = await consoleLogin(t.baseUrl, PASSWORD);
    const post = (action: string) =>
      rawRequest(t.baseUrl, 'POST', `/console/clients/${c.clientId}/${action}`, {
        headers: { cookie },
        form: { _csrf: csrf },
      });

    const rotated = await post('rotate-secret');
    expect(rotated.status).toBe(200);
    const secret = /id="once" class="once" type="text" readonly value="([^"]+)"/.exec(rotated.body)![1]!;
    expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect((await tokenWithBasic(t, c.clientId, secret)).status).toBe(200);
    expect((await tokenWithBasic(t, c.clientId, c.clientSecret)).status).toBe(200); // overlap

    const list = await rawRequest(t.baseUrl, 'GET', `/console/clients?q=${c.clientId}`, { headers: { cookie } });
    expect(list.body).toMatch(/class="rotation">\s*<span class="badge">in progress<\/span>/);
    const page = await rawRequest(t.baseUrl, 'GET', `/console/clients/${c.clientId}`, { headers: { cookie } });
    expect(page.body).toContain('data-status="previous"');
    expect(page.body).toContain('client.secret_rotated');
    expect(page.body).not.toContain(secret);

    const retired = await post('retire-previous-secret');
    expect(retired.status).toBe(303);
    expect(retired.headers.location).toBe(`/console/clients/${c.clientId}?done=retired`);
    expect((await tokenWithBasic(t, c.clientId, c.clientSecret)).status).toBe(401);
    expect((await tokenWithBasic(t, c.clientId, secret)).status).toBe(200);
    const after = await rawRequest(t.baseUrl, 'GET', retired.headers.location as string, { headers: { cookie } });
    expect(after.body).toContain('The previous secret is retired');
    expect(after.body).not.toContain('data-status="previous"');

    const token = await post('rotate-registration-token');
    expect(token.status).toBe(200);
    const rat = /readonly value="([^"]+)"/.exec(token.body)![1]!;
    const api = registrationApi(t);
    expect((await api.read(`${t.baseUrl}/register/${c.clientId}`, c.registrationAccessToken)).status).toBe(401);
    expect((await api.read(`${t.baseUrl}/register/${c.clientId}`, rat)).status).toBe(200);
  });

  it('deletes a client after a confirmation page', async () => {
    const c = await createClient(t, { tokenEndpointAuthMethod: 'client_secret_basic', clientName: 'to delete' });
    const { cookie, csrf } = await consoleLogin(t.baseUrl, PASSWORD);
    const confirm = await rawRequest(t.baseUrl, 'GET', `/console/clients/${c.clientId}/delete`, {
      headers: { cookie },
    });
    expect(confirm.status).toBe(200);
    expect(confirm.body).toContain(`action="/console/clients/${c.clientId}/delete"`);
    const deleted = await rawRequest(t.baseUrl, 'POST', `/console/clients/${c.clientId}/delete`, {
      headers: { cookie },
      form: { _csrf: csrfOf(confirm.body) },
    });
    expect(deleted.status).toBe(303);
    expect(deleted.headers.location).toBe('/console/clients?done=deleted');
    expect(await t.clients.find(c.clientId)).toBeNull();
    const again = await rawRequest(t.baseUrl, 'POST', `/console/clients/${c.clientId}/delete`, {
      headers: { cookie },
      form: { _csrf: csrf },
    });
    expect(again.status).toBe(404);
    const missing = await rawRequest(t.baseUrl, 'GET', `/console/clients/${c.clientId}`, { headers: { cookie } });
    expect(missing.status).toBe(404);
  });

  it('creates an initial access token (shown once) that registers a client; lists tokens and signing keys', async () => {
    const { cookie, csrf } = await consoleLogin(t.baseUrl, PASSWORD);
    const created = await rawRequest(t.baseUrl, 'POST', '/console/initial-access-tokens', {
      headers: { cookie },
      form: { _csrf: csrf, description: 'team <b>payments</b>', expires_in: '3600', uses: '1', scope: '' },
    });
    expect(created.status).toBe(200);
    const iat = /readonly value="([^"]+)"/.exec(created.body)![1]!;
    const reg = await registrationApi(t).register({ scope: 'statements:read' }, iat);
    expect(reg.status).toBe(201);
    const list = await rawRequest(t.baseUrl, 'GET', '/console/initial-access-tokens', { headers: { cookie } });
    expect(list.body).toContain('team &lt;b&gt;payments&lt;/b&gt;');
    expect(list.body).not.toContain(iat);

    const bad = await rawRequest(t.baseUrl, 'POST', '/console/initial-access-tokens', {
      headers: { cookie },
      form: { _csrf: csrf, uses: '-1' },
    });
    expect(bad.status).toBe(400);

    const keys = await rawRequest(t.baseUrl, 'GET', '/console/signing-keys', { headers: { cookie } });
    expect(keys.status).toBe(200);
    const active = (await t.keys.list()).find((k) => k.state === 'active')!;
    expect(keys.body).toContain(active.kid);
    expect(keys.body).not.toContain('privateJwk');
  });

  it('ends a session on sign-out and after the idle timeout', async () => {
    const a = await consoleLogin(t.baseUrl, PASSWORD);
    const out = await rawRequest(t.baseUrl, 'POST', '/console/logout', {
      headers: { cookie: a.cookie },
      form: { _csrf: a.csrf },
    });
    expect(out.status).toBe(303);
    expect(String(out.headers['set-cookie'])).toMatch(/^clavis_console=; Path=\/console; Max-Age=0;/);
    expect((await rawRequest(t.baseUrl, 'GET', '/console/clients', { headers: { cookie: a.cookie } })).status).toBe(
      303,
    );

    const b = await consoleLogin(t.baseUrl, PASSWORD);
    t.clock.advance(1_801);
    const idle = await rawRequest(t.baseUrl, 'GET', '/console/clients', { headers: { cookie: b.cookie } });
    expect(idle.status).toBe(303);
    expect(idle.headers.location).toBe('/console/login');
  });
});

describe('operator console: sign-in attempts are limited per address', () => {
  let t: TestApp;
  beforeAll(async () => {
    // The address comes from X-Forwarded-For (a fresh one per run: with REDIS_URL the count is shared and outlives the app).
    t = await createTestApp({
      env: { CONSOLE_PASSWORD: PASSWORD, CONSOLE_LOGIN_ATTEMPTS_PER_ADDRESS: '10', TRUST_PROXY: 'loopback' },
    });
  });
  afterAll(() => t?.close());

  it('answers 429 with Retry-After past 10 attempts in the window, even with the right password; other addresses still sign in', async () => {
    const address = `10.${randomInt(256)}.${randomInt(256)}.${randomInt(1, 255)}`;
    const from = (password: string, ip = address) =>
      rawRequest(t.baseUrl, 'POST', '/console/login', { form: { password }, headers: { 'x-forwarded-for': ip } });
    for (let i = 0; i < 10; i++) expect((await from(`guess ${i}`)).status).toBe(401);
    const over = await from(PASSWORD);
    expect(over.status).toBe(429);
    expect(Number(over.headers['retry-after'])).toBeGreaterThan(0);
    expect(Number(over.headers['retry-after'])).toBeLessThanOrEqual(900);
    expect(over.headers['set-cookie']).toBeUndefined();
    expect((await from(PASSWORD, `${address.split('.').slice(0, 3).join('.')}.0`)).status).toBe(303);
  });
});
