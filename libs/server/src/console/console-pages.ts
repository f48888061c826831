import type { ClientRecord, ClientSecretRecord } from '../clients/client.record.js';
import type { InitialAccessTokenRecord } from '../registration/initial-access-token.store.js';
import type { SigningKeyRecord } from '../keys/signing-key.store.js';
import { html, type SafeHtml } from './html.js';
import type { RecordedAuditEvent } from './recent-audit-events.js';

/** Secrets that expire (or, previous, retire) within this many seconds are "expiring soon". */
export const EXPIRING_SOON = 14 * 86_400;

/** What every page of a signed-in operator needs. */
export interface PageContext {
  /** The console's path, e.g. `/console`. */
  base: string;
  /** The session's synchronizer token, put in every form. */
  csrfToken: string;
  /** Now, in seconds. */
  now: number;
}

/** A client secret as the console shows it. */
export interface SecretView {
  record: ClientSecretRecord;
  status: 'current' | 'previous';
  /** When it was last used (seconds); null = never; undefined = not tracked. */
  lastUsedAt?: number | null;
  /** Successful authentications with it (approximate). */
  useCount?: number;
  /** The address of its last use. */
  lastAddress?: string | null;
}

/** A key of a `private_key_jwt` client (registered, or seen from its `jwks_uri`) with its use. */
export interface KeyView {
  kid: string;
  lastUsedAt: number | null;
  useCount: number;
  lastAddress: string | null;
}

/** One row of the clients page. */
export interface ClientRow {
  client: ClientRecord;
  secrets: SecretView[];
  keys: KeyView[];
}

export interface Page {
  status: number;
  body: SafeHtml;
}

const FLASH: Record<string, string> = {
  retired: 'The previous secret is retired: only the current secret works now.',
  'nothing-retired': 'There was no previous secret to retire.',
  deleted: 'The client was deleted.',
};

export function layout(title: string, content: SafeHtml, ctx: { base: string; csrfToken?: string }): SafeHtml {
  const nav = ctx.csrfToken
    ? html`<nav>
        <a href="${ctx.base}/clients">Clients</a>
        <a href="${ctx.base}/initial-access-tokens">Initial access tokens</a>
        <a href="${ctx.base}/signing-keys">Signing keys</a>
        <form method="post" action="${ctx.base}/logout" class="inline">
          ${csrfField(ctx.csrfToken)}<button type="submit" class="link">Sign out</button>
        </form>
      </nav>`
    : null;
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>${title} — Clavis console</title>
        <link rel="stylesheet" href="${ctx.base}/console.css" />
      </head>
      <body>
        <header><span class="brand">Clavis console</span>${nav}</header>
        <main>${content}</main>
      </body>
    </html> `;
}

function csrfField(token: string): SafeHtml {
  return html`<input type="hidden" name="_csrf" value="${token}" />`;
}

/** A date in UTC, to the second, with how long ago or ahead it is. */
export function when(at: number | null | undefined, now: number, none = 'never'): SafeHtml {
  if (at === null || at === undefined) return html`<span class="muted">${none}</span>`;
  const iso = new Date(at * 1000)
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, ' UTC');
  return html`<time datetime="${new Date(at * 1000).toISOString()}" title="${iso}">${iso}</time>
    <span class="muted">(${relative(at - now)})</span>`;
}

/** "3 h ago", "in 2 d". */
export function relative(delta: number): string {
  const abs = Math.abs(delta);
  const text =
    abs < 60
      ? `${abs} s`
      : abs < 3_600
        ? `${Math.floor(abs / 60)} min`
        : abs < 86_400
          ? `${Math.floor(abs / 3_600)} h`
          : `${Math.floor(abs / 86_400)} d`;
  return delta === 0 ? 'now' : delta < 0 ? `${text} ago` : `in ${text}`;
}

function age(since: number, now: number): string {
  return relative(since - now).replace(/ ago$/, '');
}

/** The moment a secret stops working (expiry or end of overlap), or null. */
function endOf(s: ClientSecretRecord): number | null {
  const ends = [s.expiresAt, s.retiresAt].filter((v): v is number => v !== null);
  return ends.length ? Math.min(...ends) : null;
}

function lastUse(
  s: { lastUsedAt?: number | null; useCount?: number; lastAddress?: string | null },
  now: number,
): SafeHtml {
  if (s.lastUsedAt === undefined) return html`<span class="muted">not tracked</span>`;
  if (s.lastUsedAt === null) return html`<span class="muted">never</span>`;
  const uses = `~${s.useCount ?? 0} use${s.useCount === 1 ? '' : 's'}`;
  return html`${when(s.lastUsedAt, now)}
    <span class="muted">· ${uses}${s.lastAddress ? ` · from ${s.lastAddress}` : ''}</span>`;
}

export function loginPage(base: string, opts: { status: number; message?: string }): Page {
  return {
    status: opts.status,
    body: layout(
      'Sign in',
      html`<section class="login">
        <h1>Sign in</h1>
        ${opts.message ? html`<p class="error" role="alert">${opts.message}</p>` : null}
        <form method="post" action="${base}/login">
          <label for="password">Operator password</label>
          <input id="password" name="password" type="password" autocomplete="current-password" required autofocus />
          <button type="submit">Sign in</button>
        </form>
      </section>`,
      { base },
    ),
  };
}

export function messagePage(
  ctx: { base: string; csrfToken?: string },
  status: number,
  title: string,
  message: string,
): Page {
  return {
    status,
    body: layout(
      title,
      html`<h1>${title}</h1>
        <p class="error" role="alert">${message}</p>
        <p><a href="${ctx.base}/clients">Back to the clients</a></p>`,
      ctx,
    ),
  };
}

export function clientsPage(
  ctx: PageContext,
  rows: ClientRow[],
  opts: { q: string; total: number; flash?: string },
): Page {
  const { now, base } = ctx;
  const rotating = rows.filter((r) => r.secrets.some((s) => s.status === 'previous')).length;
  const expiring = rows.filter((r) => r.secrets.some((s) => isExpiringSoon(s, now))).length;
  const body = html`<h1>Clients</h1>
    ${flash(opts.flash)}
    <form method="get" action="${base}/clients" class="search" role="search">
      <label for="q">Search</label>
      <input id="q" name="q" type="search" value="${opts.q}" placeholder="name, client_id, scope or method" />
      <button type="submit">Search</button>
    </form>
    <p class="summary">
      ${opts.total} client${opts.total === 1 ? '' : 's'}${opts.q ? ' matching' : ''}; ${rotating}
      rotation${rotating === 1 ? '' : 's'} in progress; ${expiring} with a secret expiring within
      ${EXPIRING_SOON / 86_400} days.
      ${rows.length < opts.total ? html`Showing the first ${rows.length}: narrow the search.` : null}
    </p>
    <table class="clients">
      <thead>
        <tr>
          <th>Name</th>
          <th>client_id</th>
          <th>Method</th>
          <th>Scopes</th>
          <th>Secret age</th>
          <th>Expires</th>
          <th>Rotation</th>
          <th>Last use</th>
        </tr>
      </thead>
      <tbody>
        ${rows.map((r) => clientRow(ctx, r))}
      </tbody>
    </table>`;
  return { status: 200, body: layout('Clients', body, ctx) };
}

function isExpiringSoon(s: SecretView, now: number): boolean {
  return s.status === 'current' && s.record.expiresAt !== null && s.record.expiresAt - now < EXPIRING_SOON;
}

function clientRow(ctx: PageContext, r: ClientRow): SafeHtml {
  const { now, base } = ctx;
  const current = r.secrets.find((s) => s.status === 'current');
  const previous = r.secrets.find((s) => s.status === 'previous');
  const used = [...r.secrets, ...r.keys].map((s) => s.lastUsedAt).filter((v): v is number => typeof v === 'number');
  const tracked = r.keys.length > 0 || r.secrets.some((s) => s.lastUsedAt !== undefined);
  return html`<tr data-client-id="${r.client.clientId}">
    <td>
      <a href="${base}/clients/${encodeURIComponent(r.client.clientId)}">${r.client.clientName ?? '(no name)'}</a>
    </td>
    <td><code>${r.client.clientId}</code></td>
    <td>${r.client.tokenEndpointAuthMethod}</td>
    <td>${r.client.scope || html`<span class="muted">none</span>`}</td>
    <td>${current ? age(current.record.createdAt, now) : html`<span class="muted">no secret</span>`}</td>
    <td>
      ${current ? when(current.record.expiresAt, now) : null}
      ${current && isExpiringSoon(current, now) ? html`<span class="badge warn">expiring soon</span>` : null}
    </td>
    <td class="rotation">
      ${
        previous
          ? html`<span class="badge">in progress</span> old secret valid until ${when(endOf(previous.record), now)};
              <span class="old-last-use">last used ${lastUse(previous, now)}</span>`
          : html`<span class="muted">none</span>`
      }
    </td>
    <td>
      ${
        used.length
          ? when(Math.max(...used), now)
          : tracked
            ? html`<span class="muted">never</span>`
            : html`<span class="muted">not tracked</span>`
      }
    </td>
  </tr>`;
}

function flash(key: string | undefined): SafeHtml | null {
  const message = key ? FLASH[key] : undefined;
  return message ? html`<p class="flash" role="status">${message}</p>` : null;
}

function dl(entries: [string, SafeHtml | string | null][]): SafeHtml {
  return html`<dl>
    ${entries.map(
      ([k, v]) =>
        html`<dt>${k}</dt>
          <dd>${v === null || v === '' ? html`<span class="muted">—</span>` : v}</dd>`,
    )}
  </dl>`;
}

export function clientPage(
  ctx: PageContext,
  row: ClientRow,
  events: RecordedAuditEvent[],
  opts: { flash?: string },
): Page {
  const { base, now } = ctx;
  const c = row.client;
  const id = encodeURIComponent(c.clientId);
  const secretBased = c.tokenEndpointAuthMethod !== 'private_key_jwt';
  const hasPrevious = row.secrets.some((s) => s.status === 'previous');
  const body = html`<p><a href="${base}/clients">← Clients</a></p>
    <h1>${c.clientName ?? '(no name)'}</h1>
    ${flash(opts.flash)}
    ${dl([
      ['client_id', html`<code>${c.clientId}</code>`],
      ['Method', c.tokenEndpointAuthMethod],
      ['Signing alg', c.tokenEndpointAuthSigningAlg],
      ['Scopes', c.scope],
      ['Resources', c.resources.join(' ')],
      ['jwks_uri', c.jwksUri],
      ['client_uri', c.clientUri],
      ['Contacts', c.contacts.join(', ')],
      ['Software', [c.softwareId, c.softwareVersion].filter(Boolean).join(' ')],
      ['Registered', when(c.clientIdIssuedAt, now)],
      ['Updated', when(c.updatedAt, now)],
      ['Ceiling: scope', c.maxScope ?? 'any'],
      ['Ceiling: methods', c.allowedMethods?.join(' ') ?? 'any'],
      ['Registration access token', c.registrationAccessTokenHash ? 'issued' : 'none'],
    ])}
    <h2>Credentials</h2>
    <table class="credentials">
      <thead>
        <tr>
          <th>Type</th>
          <th>Id</th>
          <th>Status</th>
          <th>Created</th>
          <th>Expires</th>
          <th>Valid until</th>
          <th>Last use</th>
        </tr>
      </thead>
      <tbody>
        ${row.secrets.map(
          (s) =>
            html`<tr data-status="${s.status}">
              <td>client_secret</td>
              <td><code>${s.record.id}</code></td>
              <td>${s.status}</td>
              <td>${when(s.record.createdAt, now)}</td>
              <td>${when(s.record.expiresAt, now)}</td>
              <td>${s.status === 'previous' ? when(s.record.retiresAt, now) : html`<span class="muted">—</span>`}</td>
              <td class="last-use">${lastUse(s, now)}</td>
            </tr>`,
        )}
        ${row.keys.map(
          (k) =>
            html`<tr data-kid="${k.kid}">
              <td>key</td>
              <td><code>${k.kid}</code></td>
              <td>current</td>
              <td colspan="3"><span class="muted">${c.jwksUri ? 'seen at the jwks_uri' : 'registered jwks'}</span></td>
              <td class="last-use">${lastUse(k, now)}</td>
            </tr>`,
        )}
        ${
          c.jwksUri
            ? html`<tr>
                <td>keys</td>
                <td colspan="6">published at <code>${c.jwksUri}</code></td>
              </tr>`
            : null
        }
      </tbody>
    </table>
    <h2>Actions</h2>
    <div class="actions">
      ${
        secretBased
          ? html`<form method="post" action="${base}/clients/${id}/rotate-secret">
              ${csrfField(ctx.csrfToken)}<button type="submit">Rotate secret</button>
            </form>`
          : null
      }
      ${
        hasPrevious
          ? html`<form method="post" action="${base}/clients/${id}/retire-previous-secret">
              ${csrfField(ctx.csrfToken)}<button type="submit">Retire previous secret</button>
            </form>`
          : null
      }
      <form method="post" action="${base}/clients/${id}/rotate-registration-token">
        ${csrfField(ctx.csrfToken)}<button type="submit">Rotate registration token</button>
      </form>
      <a class="button danger" href="${base}/clients/${id}/delete">Delete…</a>
    </div>
    <h2>Recent audit events</h2>
    <p class="muted">This instance's most recent events for this client (kept in memory, not across restarts).</p>
    ${
      events.length
        ? html`<table class="events">
            <thead>
              <tr>
                <th>Time</th>
                <th>Event</th>
                <th>Details</th>
              </tr>
            </thead>
            <tbody>
              ${events.map(
                (e) =>
                  html`<tr>
                    <td>${when(e.at, now)}</td>
                    <td>${e.event.type}</td>
                    <td><code>${details(e)}</code></td>
                  </tr>`,
              )}
            </tbody>
          </table>`
        : html`<p class="muted">No events recorded by this instance since it started.</p>`
    }`;
  return { status: 200, body: layout(c.clientName ?? c.clientId, body, ctx) };
}

function details(e: RecordedAuditEvent): string {
  const { type: _type, clientId: _clientId, ...rest } = e.event as { type: string; clientId?: string };
  return Object.keys(rest).length ? JSON.stringify(rest) : '';
}

/** A value shown exactly once (a new secret or token): the response is not stored anywhere. */
export function shownOncePage(
  ctx: PageContext,
  opts: { title: string; label: string; value: string; notes: SafeHtml; back: string },
): Page {
  const body = html`<h1>${opts.title}</h1>
    <p class="warn">Copy it now: it is shown once and cannot be read again.</p>
    <p>
      <label for="once">${opts.label}</label>
      <input id="once" class="once" type="text" readonly value="${opts.value}" />
    </p>
    ${opts.notes}
    <p><a href="${opts.back}">Done</a></p>`;
  return { status: 200, body: layout(opts.title, body, ctx) };
}

export function confirmDeletePage(ctx: PageContext, client: ClientRecord): Page {
  const id = encodeURIComponent(client.clientId);
  const body = html`<h1>Delete ${client.clientName ?? client.clientId}?</h1>
    <p>
      The client <code>${client.clientId}</code> and its secrets are deleted; its access tokens stop working at once.
      This cannot be undone.
    </p>
    <form method="post" action="${ctx.base}/clients/${id}/delete">
      ${csrfField(ctx.csrfToken)}
      <button type="submit" class="danger">Delete the client</button>
      <a href="${ctx.base}/clients/${id}">Cancel</a>
    </form>`;
  return { status: 200, body: layout('Delete client', body, ctx) };
}

export function initialAccessTokensPage(ctx: PageContext, tokens: InitialAccessTokenRecord[]): Page {
  const { now, base } = ctx;
  const body = html`<h1>Initial access tokens</h1>
    <table class="tokens">
      <thead>
        <tr>
          <th>Id</th>
          <th>Description</th>
          <th>Created</th>
          <th>Expires</th>
          <th>Uses left</th>
          <th>Policy</th>
        </tr>
      </thead>
      <tbody>
        ${tokens.map(
          (t) =>
            html`<tr class="${t.expiresAt !== null && t.expiresAt <= now ? 'expired' : ''}">
              <td><code>${t.id}</code></td>
              <td>${t.description ?? ''}</td>
              <td>${when(t.createdAt, now)}</td>
              <td>${when(t.expiresAt, now)}</td>
              <td>${t.usesRemaining ?? 'unlimited'}</td>
              <td>
                ${
                  [
                    t.allowedScope !== null ? `scope: ${t.allowedScope}` : '',
                    t.allowedResources !== null ? `resources: ${t.allowedResources.join(' ')}` : '',
                    t.allowedMethods !== null ? `methods: ${t.allowedMethods.join(' ')}` : '',
                  ]
                    .filter(Boolean)
                    .join('; ') || html`<span class="muted">none</span>`
                }
              </td>
            </tr>`,
        )}
      </tbody>
    </table>
    <h2>Create an initial access token</h2>
    <form method="post" action="${base}/initial-access-tokens" class="grid">
      ${csrfField(ctx.csrfToken)}
      <label for="description">Description</label>
      <input id="description" name="description" maxlength="200" />
      <label for="expires_in">Expires in (seconds)</label>
      <input id="expires_in" name="expires_in" inputmode="numeric" pattern="[0-9]*" value="86400" />
      <label for="uses">Uses (empty: unlimited)</label>
      <input id="uses" name="uses" inputmode="numeric" pattern="[0-9]*" value="1" />
      <label for="scope">Policy: allowed scope (space-separated, empty: any)</label>
      <input id="scope" name="scope" />
      <span></span><button type="submit">Create</button>
    </form>`;
  return { status: 200, body: layout('Initial access tokens', body, ctx) };
}

export function signingKeysPage(ctx: PageContext, keys: SigningKeyRecord[]): Page {
  const { now } = ctx;
  const order = { active: 0, next: 1, retired: 2 } as const;
  const body = html`<h1>Signing keys</h1>
    <table class="keys">
      <thead>
        <tr>
          <th>kid</th>
          <th>alg</th>
          <th>State</th>
          <th>Created</th>
          <th>Activated</th>
          <th>Retired</th>
          <th>Removed from the JWKS</th>
        </tr>
      </thead>
      <tbody>
        ${[...keys]
          .sort((a, b) => order[a.state] - order[b.state] || b.createdAt - a.createdAt)
          .map(
            (k) =>
              html`<tr data-state="${k.state}">
                <td><code>${k.kid}</code></td>
                <td>${k.alg}</td>
                <td>${k.state}</td>
                <td>${when(k.createdAt, now)}</td>
                <td>${when(k.activatedAt, now, '—')}</td>
                <td>${when(k.retiredAt, now, '—')}</td>
                <td>${when(k.removeAt, now, '—')}</td>
              </tr>`,
          )}
      </tbody>
    </table>
    <p class="muted">Rotate with <code>clavis keys rotate</code> or the rotation schedule.</p>`;
  return { status: 200, body: layout('Signing keys', body, ctx) };
}
