import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { AbstractHttpAdapter } from '@nestjs/core';
import { ClientNotFoundError, ClientService } from '../clients/client.service.js';
import type { ClientRecord } from '../clients/client.record.js';
import { OAuthError, StorageUnavailableError } from '../errors/oauth-error.js';
import { SigningKeyService } from '../keys/signing-key.service.js';
import { SERVER_SETTINGS, type ConsoleSettings, type ServerSettings } from '../options/server-settings.js';
import { clientAddress } from '../rate-limit/rate-limit.service.js';
import { RateLimiter } from '../rate-limit/rate-limiter.js';
import { InitialAccessTokenService } from '../registration/initial-access-token.service.js';
import { currentSecret, validSecrets } from '../clients/secret-rotation.js';
import { Clock } from '../shared/clock.js';
import { readForm, type FormParams, type HttpRequest } from '../shared/form-body.js';
import { CONSOLE_CSS } from './console.css.js';
import {
  clientPage,
  clientsPage,
  confirmDeletePage,
  initialAccessTokensPage,
  loginPage,
  messagePage,
  shownOncePage,
  signingKeysPage,
  when,
  type ClientRow,
  type KeyView,
  type Page,
  type PageContext,
  type SecretView,
} from './console-pages.js';
import { verifyConsolePassword } from './console-password.js';
import { ConsoleSessions, type ConsoleSession } from './console-sessions.js';
import { html } from './html.js';
import { RecentAuditEvents } from './recent-audit-events.js';
import { CredentialUsageService } from '../usage/credential-usage.service.js';

/** Headers on every console response (docs/adr/0025-operator-console.md). */
export const CONSOLE_SECURITY_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'Content-Security-Policy':
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'same-origin',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'Permissions-Policy': 'camera=(), microphone=(), geolocation=(), payment=()',
  'Cache-Control': 'no-store',
});

export const CONSOLE_COOKIE = 'clavis_console';
const FORM_LIMIT = 8_192;
/** Rows on the clients page (each reads its secrets). */
const MAX_ROWS = 200;
const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);

type Req = HttpRequest & { params?: Record<string, string> };
type Res = unknown;
interface Authed {
  req: Req;
  res: Res;
  session: ConsoleSession;
  ctx: PageContext;
  url: URL;
}

/** Raised inside a handler: answered with a page of this status. */
class ConsolePageError extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
  ) {
    super(title);
  }
}

/**
 * The operator console's routes, registered on the host's HTTP adapter (Fastify or Express) under
 * `console.path` when the console is on: pages rendered on the server from the same services as
 * the CLI (ClientService, InitialAccessTokenService, SigningKeyService). Outside the host's
 * controllers, guards and global prefix on purpose: the console authenticates its operators itself.
 */
@Injectable()
export class ConsoleRoutes implements OnModuleInit {
  private readonly logger = new Logger('ClavisConsole');
  private adapter!: AbstractHttpAdapter;

  constructor(
    @Inject(SERVER_SETTINGS) private readonly settings: ServerSettings,
    private readonly adapterHost: HttpAdapterHost,
    private readonly sessions: ConsoleSessions,
    private readonly clients: ClientService,
    private readonly initialTokens: InitialAccessTokenService,
    private readonly keys: SigningKeyService,
    private readonly limiter: RateLimiter,
    private readonly clock: Clock,
    private readonly events: RecentAuditEvents,
    private readonly usage: CredentialUsageService,
  ) {}

  private get console(): ConsoleSettings {
    return this.settings.console!;
  }

  onModuleInit(): void {
    const adapter = this.adapterHost?.httpAdapter;
    if (!adapter || !this.settings.console) return; // the CLI (no HTTP), or the console is off
    this.adapter = adapter;
    const base = this.console.path;
    const get = (path: string, handler: (req: Req, res: Res) => Promise<void>) =>
      adapter.get(`${base}${path}`, (req: Req, res: Res) => void this.guarded(req, res, handler));
    const post = (path: string, handler: (req: Req, res: Res) => Promise<void>) =>
      adapter.post(`${base}${path}`, (req: Req, res: Res) => void this.guarded(req, res, handler));

    get('', async (_req, res) => this.redirect(res, `${base}/clients`));
    get('/', async (_req, res) => this.redirect(res, `${base}/clients`));
    get('/console.css', async (_req, res) => this.send(res, 200, CONSOLE_CSS, 'text/css; charset=utf-8'));
    get('/login', async (req, res) => {
      if (this.sessionOf(req)) return this.redirect(res, `${base}/clients`);
      this.page(res, loginPage(base, { status: 200 }));
    });
    post('/login', (req, res) => this.login(req, res));
    post('/logout', (req, res) =>
      this.action(req, res, async ({ res }) => {
        this.sessions.end(readCookie(req, CONSOLE_COOKIE));
        this.setCookie(req, res, '', 0);
        this.redirect(res, `${base}/login`);
      }),
    );
    get('/clients', (req, res) => this.view(req, res, (a) => this.clientsView(a)));
    get('/clients/:id', (req, res) => this.view(req, res, (a) => this.clientView(a)));
    get('/clients/:id/delete', (req, res) =>
      this.view(req, res, async (a) => this.page(a.res, confirmDeletePage(a.ctx, await this.mustFind(a)))),
    );
    post('/clients/:id/rotate-secret', (req, res) => this.action(req, res, (a) => this.rotateSecret(a)));
    post('/clients/:id/retire-previous-secret', (req, res) =>
      this.action(req, res, async (a) => {
        const retired = await this.clients.retirePreviousSecret(idOf(a.req));
        this.redirect(
          a.res,
          `${base}/clients/${encodeURIComponent(idOf(a.req))}?done=${retired ? 'retired' : 'nothing-retired'}`,
        );
      }),
    );
    post('/clients/:id/rotate-registration-token', (req, res) =>
      this.action(req, res, async (a) => {
        const client = await this.mustFind(a);
        const token = await this.clients.rotateRegistrationToken(client.clientId);
        this.page(
          a.res,
          shownOncePage(a.ctx, {
            title: `New registration access token for ${client.clientName ?? client.clientId}`,
            label: 'registration_access_token',
            value: token,
            notes: html`<p>The previous registration access token stopped working.</p>`,
            back: `${base}/clients/${encodeURIComponent(client.clientId)}`,
          }),
        );
      }),
    );
    post('/clients/:id/delete', (req, res) =>
      this.action(req, res, async (a) => {
        if (!(await this.clients.delete(idOf(a.req)))) throw new ConsolePageError(404, 'No such client');
        this.redirect(a.res, `${base}/clients?done=deleted`);
      }),
    );
    get('/initial-access-tokens', (req, res) =>
      this.view(req, res, async (a) =>
        this.page(a.res, initialAccessTokensPage(a.ctx, await this.initialTokens.list())),
      ),
    );
    post('/initial-access-tokens', (req, res) => this.action(req, res, (a, form) => this.createInitialToken(a, form)));
    get('/signing-keys', (req, res) =>
      this.view(req, res, async (a) => this.page(a.res, signingKeysPage(a.ctx, await this.keys.list()))),
    );
    this.logger.log(`operator console at ${base}`);
  }

  // --- authentication -------------------------------------------------------------------------

  private async login(req: Req, res: Res): Promise<void> {
    const base = this.console.path;
    if (!this.sameOrigin(req))
      return this.page(res, messagePage({ base }, 403, 'Forbidden', 'Cross-origin request refused.'));
    let attempt;
    try {
      attempt = await this.limiter.hit(
        `console-login:ip:${clientAddress(req)}`,
        this.console.loginAttemptsPerAddress,
        this.console.loginWindow,
      );
    } catch (e) {
      // Fails closed: without its limit, the login would be open to guessing.
      this.logger.warn(`rate limiter unavailable, console login refused: ${(e as Error).message}`);
      return this.page(
        res,
        loginPage(base, { status: 503, message: 'Sign-in is unavailable for a moment; try again.' }),
      );
    }
    if (!attempt.allowed) {
      this.adapter.setHeader(res, 'Retry-After', String(attempt.retryAfter));
      return this.page(res, loginPage(base, { status: 429, message: 'Too many attempts; wait and try again.' }));
    }
    const form = await readForm(req, FORM_LIMIT);
    const password = form.get('password') ?? '';
    if (password.length > 1_024 || !(await verifyConsolePassword(password, this.console.passwordHash))) {
      this.logger.warn(`console sign-in failed from ${clientAddress(req)}`);
      return this.page(res, loginPage(base, { status: 401, message: 'Wrong password.' }));
    }
    this.sessions.end(readCookie(req, CONSOLE_COOKIE));
    const { id } = this.sessions.create();
    this.setCookie(req, res, id, this.console.sessionTtl);
    this.logger.log(`console sign-in from ${clientAddress(req)}`);
    this.redirect(res, `${base}/clients`);
  }

  private sessionOf(req: Req): ConsoleSession | null {
    return this.sessions.find(readCookie(req, CONSOLE_COOKIE));
  }

  /** A page for a signed-in operator; anyone else is sent to the sign-in page. */
  private async view(req: Req, res: Res, handler: (a: Authed) => Promise<void>): Promise<void> {
    const session = this.sessionOf(req);
    if (!session) return this.redirect(res, `${this.console.path}/login`);
    await handler(this.authed(req, res, session));
  }

  /**
   * A state-changing request: a live session, the same origin (when the browser says), and the
   * session's synchronizer token in the form (constant-time); else 403 and nothing happens.
   */
  private async action(req: Req, res: Res, handler: (a: Authed, form: FormParams) => Promise<void>): Promise<void> {
    const base = this.console.path;
    const session = this.sessionOf(req);
    if (!session)
      return this.page(res, messagePage({ base }, 403, 'Signed out', 'Your session has ended: sign in again.'));
    if (!this.sameOrigin(req))
      return this.page(res, messagePage({ base }, 403, 'Forbidden', 'Cross-origin request refused.'));
    const form = await readForm(req, FORM_LIMIT);
    if (!this.sessions.csrfMatches(session, form.get('_csrf')))
      return this.page(
        res,
        messagePage(
          { base, csrfToken: session.csrfToken },
          403,
          'Forbidden',
          'The form has expired: reload the page and try again.',
        ),
      );
    await handler(this.authed(req, res, session), form);
  }

  private authed(req: Req, res: Res, session: ConsoleSession): Authed {
    return {
      req,
      res,
      session,
      url: new URL((req.raw ?? req).url ?? '/', 'http://console.invalid'),
      ctx: { base: this.console.path, csrfToken: session.csrfToken, now: this.clock.nowSeconds() },
    };
  }

  /**
   * Origin (or, without it, Sec-Fetch-Site) must name this very host when the browser sends it.
   * A request without either (not from a browser) still needs the session cookie and token.
   */
  private sameOrigin(req: Req): boolean {
    const origin = header(req, 'origin');
    if (origin !== undefined) {
      try {
        return origin !== 'null' && new URL(origin).host === (header(req, 'host') ?? '').toLowerCase();
      } catch {
        return false;
      }
    }
    const site = header(req, 'sec-fetch-site');
    return site === undefined || site === 'same-origin' || site === 'none';
  }

  /** `HttpOnly`, `SameSite=Strict`, scoped to the console's path; `Secure` unless the host is loopback. */
  private setCookie(req: Req, res: Res, value: string, maxAge: number): void {
    const host = (header(req, 'host') ?? '').toLowerCase().replace(/:\d+$/, '');
    const secure = LOOPBACK.has(host) ? '' : '; Secure';
    this.adapter.setHeader(
      res,
      'Set-Cookie',
      `${CONSOLE_COOKIE}=${value}; Path=${this.console.path}; Max-Age=${maxAge}; HttpOnly; SameSite=Strict${secure}`,
    );
  }

  // --- pages and actions ------------------------------------------------------------------------

  private async clientsView(a: Authed): Promise<void> {
    const q = (a.url.searchParams.get('q') ?? '').trim().slice(0, 200);
    const needle = q.toLowerCase();
    const all = (await this.clients.list())
      .filter(
        (c) =>
          !needle ||
          [c.clientId, c.clientName ?? '', c.scope, c.tokenEndpointAuthMethod].some((v) =>
            v.toLowerCase().includes(needle),
          ),
      )
      .sort((x, y) => (x.clientName ?? '').localeCompare(y.clientName ?? '') || x.clientId.localeCompare(y.clientId));
    const rows: ClientRow[] = [];
    for (const c of all.slice(0, MAX_ROWS)) {
      const row = await this.row(c.clientId, a.ctx.now);
      if (row) rows.push(row);
    }
    const done = a.url.searchParams.get('done') ?? undefined;
    this.page(a.res, clientsPage(a.ctx, rows, { q, total: all.length, flash: done }));
  }

  private async clientView(a: Authed): Promise<void> {
    const row = await this.row(idOf(a.req), a.ctx.now);
    if (!row) throw new ConsolePageError(404, 'No such client');
    const done = a.url.searchParams.get('done') ?? undefined;
    this.page(a.res, clientPage(a.ctx, row, this.events.forClient(row.client.clientId), { flash: done }));
  }

  private async rotateSecret(a: Authed): Promise<void> {
    const client = await this.mustFind(a);
    const issued = await this.clients.rotateSecret(client.clientId);
    const row = await this.row(client.clientId, a.ctx.now);
    const previous = row?.secrets.find((s) => s.status === 'previous');
    this.page(
      a.res,
      shownOncePage(a.ctx, {
        title: `New client secret for ${client.clientName ?? client.clientId}`,
        label: 'client_secret',
        value: issued.clientSecret!,
        notes: html`<p>
          Expires: ${when(issued.clientSecretExpiresAt || null, a.ctx.now)}.
          ${
            previous
              ? html`The previous secret keeps working until ${when(previous.record.retiresAt, a.ctx.now)}: retire it
                once no instance uses it.`
              : html`No previous secret stays valid (no overlap).`
          }
        </p>`,
        back: `${this.console.path}/clients/${encodeURIComponent(client.clientId)}`,
      }),
    );
  }

  private async createInitialToken(a: Authed, form: FormParams): Promise<void> {
    const num = (name: string): number | undefined => {
      const v = form.get(name)?.trim();
      if (!v) return undefined;
      if (!/^\d{1,9}$/.test(v) || Number(v) === 0)
        throw new ConsolePageError(400, `${name} must be a positive whole number`);
      return Number(v);
    };
    const description = form.get('description')?.trim().slice(0, 200) || undefined;
    const { token, record } = await this.initialTokens.create({
      description,
      expiresIn: num('expires_in'),
      uses: num('uses'),
      allowedScope: form.get('scope')?.trim() || undefined,
    });
    this.page(
      a.res,
      shownOncePage(a.ctx, {
        title: 'New initial access token',
        label: 'initial_access_token',
        value: token,
        notes: html`<p>
          Id <code>${record.id}</code>; expires ${when(record.expiresAt, a.ctx.now)}; uses:
          ${record.usesRemaining ?? 'unlimited'}.
        </p>`,
        back: `${this.console.path}/initial-access-tokens`,
      }),
    );
  }

  private async mustFind(a: Authed): Promise<ClientRecord> {
    const client = await this.clients.find(idOf(a.req));
    if (!client) throw new ConsolePageError(404, 'No such client');
    return client;
  }

  /** A client with its valid secrets (current, previous) and keys, each with its recorded use. */
  private async row(clientId: string, now: number): Promise<ClientRow | null> {
    const found = await this.clients.findWithSecrets(clientId);
    if (!found) return null;
    const current = currentSecret(found.secrets, now);
    const secrets: SecretView[] = validSecrets(found.secrets, now).map((record) => ({
      record,
      status: record === current ? 'current' : 'previous',
    }));
    if (!current && found.secrets[0] && !secrets.length) secrets.push({ record: found.secrets[0], status: 'current' }); // an expired current secret still shows
    // Usage as every instance flushed it, plus what this instance has not flushed yet.
    const views = await this.usage.viewsOf(found);
    for (const s of secrets) {
      const v = views.find((u) => u.type === 'client_secret' && u.id === s.record.id);
      s.lastUsedAt = v?.last_used_at ?? null;
      s.useCount = v?.use_count ?? 0;
      s.lastAddress = v?.last_address ?? null;
    }
    const keys: KeyView[] = views
      .filter((v) => v.type === 'jwk')
      .map((v) => ({
        kid: v.kid ?? v.id ?? '',
        lastUsedAt: v.last_used_at,
        useCount: v.use_count,
        lastAddress: v.last_address,
      }));
    return { client: found.client, secrets, keys };
  }

  // --- responses ----------------------------------------------------------------------------------

  private async guarded(req: Req, res: Res, handler: (req: Req, res: Res) => Promise<void>): Promise<void> {
    try {
      await handler(req, res);
    } catch (e) {
      const base = this.console.path;
      const session = this.sessionOf(req);
      const ctx = { base, csrfToken: session?.csrfToken };
      if (e instanceof ConsolePageError) return this.page(res, messagePage(ctx, e.status, e.title, e.title));
      if (e instanceof ClientNotFoundError)
        return this.page(res, messagePage(ctx, 404, 'No such client', 'No such client.'));
      if (e instanceof OAuthError)
        return this.page(
          res,
          messagePage(ctx, e.status >= 500 ? e.status : e.status === 413 ? 413 : 400, 'Not done', e.description),
        );
      if (e instanceof StorageUnavailableError)
        return this.page(res, messagePage(ctx, 503, 'Unavailable', 'The database is unavailable; try again.'));
      this.logger.error(`console request failed: ${(e as Error).stack ?? String(e)}`);
      this.page(res, messagePage(ctx, 500, 'Error', 'Something went wrong; see the server log.'));
    }
  }

  private page(res: Res, page: Page): void {
    this.send(res, page.status, page.body.value, 'text/html; charset=utf-8');
  }

  private send(res: Res, status: number, body: string, type: string): void {
    for (const [name, value] of Object.entries(CONSOLE_SECURITY_HEADERS)) this.adapter.setHeader(res, name, value);
    this.adapter.setHeader(res, 'Content-Type', type);
    this.adapter.reply(res, body, status);
  }

  /** 303 See Other: after a form, the browser follows with a GET. */
  private redirect(res: Res, location: string): void {
    this.adapter.setHeader(res, 'Location', location);
    this.send(res, 303, '', 'text/plain; charset=utf-8');
  }
}

function header(req: Req, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function idOf(req: Req): string {
  return req.params?.id ?? '';
}

/** One cookie's value from the Cookie header (the first of that name). */
export function readCookie(req: Req, name: string): string | undefined {
  const raw = header(req, 'cookie');
  if (!raw) return undefined;
  for (const part of raw.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}
