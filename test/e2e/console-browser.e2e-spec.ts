import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { needs } from '../support/requirements.js';
import { tokenWithBasic } from '../support/registration.js';
import { createClient, createTestApp, type TestApp } from '../support/test-app.js';

const PASSWORD = 'operator console password';
const DAY = 86_400;
/** Debian's chromium package; playwright-core drives it and downloads no browser of its own. */
const CHROMIUM = '/usr/bin/chromium';
/**
 * Where the screenshots go: CLAVIS_SCREENSHOTS (the README's are made with
 * `CLAVIS_SCREENSHOTS=docs/console`), else a temporary directory.
 */
const SHOTS = process.env.CLAVIS_SCREENSHOTS
  ? resolve(process.env.CLAVIS_SCREENSHOTS)
  : mkdtempSync(join(tmpdir(), 'clavis-console-shots-'));

describe('operator console in a real headless Chromium', needs('chromium'), () => {
  let t: TestApp;
  let context: BrowserContext;
  let page: Page;
  let profile: string;
  const cspViolations: string[] = [];
  let billing: Awaited<ReturnType<typeof createClient>>;
  let inventory: Awaited<ReturnType<typeof createClient>>;

  beforeAll(async () => {
    t = await createTestApp({ env: { CONSOLE_PASSWORD: PASSWORD, CLIENT_SECRET_TTL: String(90 * DAY) } });
    // A few clients; one whose secret expires within 14 days (created 80 days ago).
    inventory = await createClient(t, { tokenEndpointAuthMethod: 'client_secret_post', clientName: 'inventory-sync' });
    t.clock.advance(80 * DAY);
    await createClient(t, {
      tokenEndpointAuthMethod: 'client_secret_basic',
      clientName: 'ledger-export',
      scope: 'statements:read statements:write',
    });
    t.clock.advance(5 * DAY);
    billing = await createClient(t, { tokenEndpointAuthMethod: 'client_secret_basic', clientName: 'billing-service' });
    t.clock.advance(DAY);

    mkdirSync(SHOTS, { recursive: true });
    profile = mkdtempSync(join(tmpdir(), 'clavis-chromium-'));
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
      viewport: { width: 1280, height: 720 },
    });
    page = context.pages()[0] ?? (await context.newPage());
    page.on('console', (m) => {
      if (/Content Security Policy|Refused to/i.test(m.text())) cspViolations.push(m.text());
    });
  }, 120_000);

  afterAll(async () => {
    await context?.close();
    await t?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
  });

  /**
   * The client's row on the clients page. A database shared with other suites (the PostgreSQL pass)
   * can hold more clients than the page shows (the first 200 by name): then the list is searched
   * by the client's id, as an operator would.
   */
  async function listed(clientId: string) {
    await page.goto(`${t.baseUrl}/console/clients`);
    const row = page.locator(`tr[data-client-id="${clientId}"]`);
    if ((await row.count()) === 0) await page.goto(`${t.baseUrl}/console/clients?q=${clientId}`);
    return row;
  }

  it('signs in, shows a client, rotates its secret, shows the old secret still in use, retires it', async () => {
    // Not signed in: the console sends the browser to its sign-in page.
    await page.goto(`${t.baseUrl}/console`);
    expect(new URL(page.url()).pathname).toBe('/console/login');
    await page.fill('#password', 'a wrong password');
    await page.click('button[type=submit]');
    await expect(page.locator('.error').textContent()).resolves.toContain('Wrong password');
    await page.fill('#password', PASSWORD);
    await page.click('button[type=submit]');
    expect(new URL(page.url()).pathname).toBe('/console/clients');
    // The session cookie is HttpOnly: the page's scripts (were there any) could not read it.
    const [cookie] = await context.cookies(`${t.baseUrl}/console/clients`);
    expect(cookie).toMatchObject({ name: 'clavis_console', httpOnly: true, sameSite: 'Strict', path: '/console' });

    // The stylesheet applies under the CSP (style-src 'self'): the header has its background.
    const headerBackground = await page.locator('header').evaluate((el) => getComputedStyle(el).backgroundColor);
    expect(headerBackground).not.toBe('rgba(0, 0, 0, 0)');

    // The client is listed; the one created 80 days ago expires within 14 days.
    await expect((await listed(inventory.clientId)).textContent()).resolves.toContain('expiring soon');
    const row = await listed(billing.clientId);
    await expect(row.textContent()).resolves.toContain('billing-service');

    // The search narrows the list.
    await page.fill('#q', billing.clientId);
    await page.click('form.search button');
    expect(await page.locator('tbody tr').count()).toBe(1);

    // The client's page; the old secret works before the rotation.
    expect((await tokenWithBasic(t, billing.clientId, billing.clientSecret)).status).toBe(200);
    await row.locator('a').click();
    await expect(page.locator('h1').textContent()).resolves.toBe('billing-service');

    // Rotate: the new secret is shown once, and works.
    await page.click('button:has-text("Rotate secret")');
    await expect(page.locator('h1').textContent()).resolves.toContain('New client secret');
    const secret = await page.locator('#once').inputValue();
    expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    await page.screenshot({ path: join(SHOTS, 'secret-rotated.png'), fullPage: true });
    expect((await tokenWithBasic(t, billing.clientId, secret)).status).toBe(200);

    // An old instance still uses the previous secret: the console shows its last use advancing…
    const previousLastUse = async () => {
      await page.reload();
      return page.locator('tr[data-status="previous"] td.last-use time').getAttribute('datetime');
    };
    const iso = () => new Date(Math.floor(t.clock.now() / 1000) * 1000).toISOString();
    await page.click('a:has-text("Done")');
    await expect(page.locator('tr[data-status="previous"]').count()).resolves.toBe(1);
    t.clock.advance(600);
    expect((await tokenWithBasic(t, billing.clientId, billing.clientSecret)).status).toBe(200);
    const firstUse = iso();
    expect(await previousLastUse()).toBe(firstUse);
    t.clock.advance(300);
    expect((await tokenWithBasic(t, billing.clientId, billing.clientSecret)).status).toBe(200);
    const secondUse = iso();
    expect(secondUse).not.toBe(firstUse);
    expect(await previousLastUse()).toBe(secondUse);
    await expect(page.locator('table.events').textContent()).resolves.toContain('client.secret_rotated');
    // …and standing still once no instance uses it any more (the new secret's use is its own).
    t.clock.advance(300);
    expect((await tokenWithBasic(t, billing.clientId, secret)).status).toBe(200);
    expect(await previousLastUse()).toBe(secondUse);
    expect(await page.locator('tr[data-status="current"] td.last-use time').getAttribute('datetime')).toBe(iso());
    await page.screenshot({ path: join(SHOTS, 'client-rotation.png'), fullPage: true });
    const rotation = (await listed(billing.clientId)).locator('td.rotation');
    await expect(rotation.textContent()).resolves.toContain('in progress');
    expect(await rotation.locator('.old-last-use time').getAttribute('datetime')).toBe(secondUse);
    await page.screenshot({ path: join(SHOTS, 'clients.png'), fullPage: true });

    // Retire the previous secret: it stops working at once.
    await page.locator(`tr[data-client-id="${billing.clientId}"] a`).click();
    expect(new URL(page.url()).pathname).toBe(`/console/clients/${billing.clientId}`);
    await page.click('button:has-text("Retire previous secret")');
    await expect(page.locator('.flash').textContent()).resolves.toContain('previous secret is retired');
    expect(await page.locator('tr[data-status="previous"]').count()).toBe(0);
    expect((await tokenWithBasic(t, billing.clientId, billing.clientSecret)).status).toBe(401);
    expect((await tokenWithBasic(t, billing.clientId, secret)).status).toBe(200);

    // Initial access tokens and signing keys.
    await page.click('nav a:has-text("Signing keys")');
    expect(await page.locator('tr[data-state="active"]').count()).toBe(1);
    await page.screenshot({ path: join(SHOTS, 'signing-keys.png'), fullPage: true });

    // Sign out: back to the sign-in page, and the old cookie no longer opens a page.
    await page.click('nav button:has-text("Sign out")');
    expect(new URL(page.url()).pathname).toBe('/console/login');
    await page.goto(`${t.baseUrl}/console/clients`);
    expect(new URL(page.url()).pathname).toBe('/console/login');

    expect(cspViolations).toEqual([]);
  }, 120_000);
});
