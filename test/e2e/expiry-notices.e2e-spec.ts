import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FixedClock } from '@clavis/server';
import { ExpiryNoticeService } from '../../libs/server/src/expiry/expiry-notice.service.js';
import { createLoggedTestApp } from '../support/logged-test-app.js';
import { tokenWithBasic } from '../support/registration.js';
import { needs } from '../support/requirements.js';
import { createClient, createTestApp, freePort, type TestApp } from '../support/test-app.js';

const DAY = 86_400;
const SECRET_KEY = randomBytes(32);
const WEBHOOK_SECRET = `whsec_${SECRET_KEY.toString('base64')}`;

interface Delivery {
  id: string;
  timestamp: number;
  body: any;
}

/**
 * A webhook receiver on 127.0.0.1 (node:http) that checks each message's Standard Webhooks
 * signature (HMAC-SHA256 over "id.timestamp.body" with the shared secret) and keeps the valid ones.
 * `failNext` answers that many requests 503; `hang` holds requests without answering.
 */
async function startReceiver() {
  const delivered: Delivery[] = [];
  const requests: string[] = [];
  const rejected: string[] = [];
  const sockets = new Set<Socket>();
  const held: ServerResponse[] = [];
  const state = { failNext: 0, hang: false };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const id = String(req.headers['webhook-id']);
      const timestamp = String(req.headers['webhook-timestamp']);
      requests.push(id);
      if (state.hang) {
        held.push(res);
        return;
      }
      if (state.failNext > 0) {
        state.failNext--;
        res.writeHead(503).end();
        return;
      }
      const expected = createHmac('sha256', SECRET_KEY).update(`${id}.${timestamp}.${body}`).digest();
      const presented = String(req.headers['webhook-signature'] ?? '')
        .split(' ')
        .filter((s) => s.startsWith('v1,'))
        .map((s) => Buffer.from(s.slice(3), 'base64'));
      const valid =
        req.headers['content-type'] === 'application/json' &&
        /^msg_[0-9a-f]{32}$/.test(id) &&
        /^\d+$/.test(timestamp) &&
        presented.some((p) => p.length === expected.length && timingSafeEqual(p, expected));
      if (!valid) {
        rejected.push(dataId(body));
        res.writeHead(400).end();
        return;
      }
      delivered.push({ id, timestamp: Number(timestamp), body: JSON.parse(body) });
      res.writeHead(204).end();
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}/hooks/clavis`,
    delivered,
    requests,
    rejected,
    state,
    /** Deliveries per (credential id, type, lead). */
    keys: () => delivered.map((d) => `${d.body.data.id} ${d.body.type} ${d.body.data.lead_time ?? '-'}`),
    async close() {
      for (const r of held) r.destroy();
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/** The credential id a message is about (whatever its signature). */
function dataId(body: string): string {
  try {
    return String(JSON.parse(body).data.id);
  } catch {
    return '?';
  }
}

type Receiver = Awaited<ReturnType<typeof startReceiver>>;

const notices = (t: TestApp) => t.app.get(ExpiryNoticeService);

/**
 * Two instances on one database and a restart of one of them: each expiry notice (per credential,
 * lead time, and the expiry itself) reaches the audit sinks and the webhook exactly once.
 */
function exactlyOnce(database: () => Record<string, string>) {
  let a: TestApp | undefined;
  let b: TestApp | undefined;
  let receiver: Receiver | undefined;
  afterEach(async () => {
    await a?.close();
    await b?.close();
    await receiver?.close();
  });

  it('exactly once per lead time, across two instances and a restart, signed', async () => {
    receiver = await startReceiver();
    const env = {
      ...database(),
      CLIENT_SECRET_TTL: String(20 * DAY),
      WEBHOOK_URL: receiver.url,
      WEBHOOK_SECRET,
    };
    const port = await freePort();
    const start = Date.now();
    a = await createTestApp({
      port,
      env: { ...env, ISSUER: `http://127.0.0.1:${port}` },
      clock: new FixedClock(start),
    });
    const issuer = a.issuer;
    const startB = () => createTestApp({ env: { ...env, ISSUER: issuer }, clock: new FixedClock(a!.clock.now()) });
    b = await startB();
    const c = await createClient(a, { tokenEndpointAuthMethod: 'client_secret_basic' });
    const secretId = (await a.clients.findWithSecrets(c.clientId))!.secrets[0].id;
    const iat = await a.initialTokens.create({ expiresIn: 5 * DAY, description: 'expires in 5 days' });

    const before: TestApp[] = []; // instances stopped on the way (their audit sinks count too)
    const step = DAY / 2;
    for (let at = 0; at <= 21 * DAY; at += step) {
      a.clock.set(start + at * 1000);
      b.clock.set(start + at * 1000);
      // Both instances sweep (and deliver) at the same moment, twice.
      await Promise.all([notices(a).runOnce(), notices(b).runOnce(), notices(a).runOnce(), notices(b).runOnce()]);
      if (at === 10 * DAY) {
        await b.close(); // a restart: the ledger, not memory, decides what was sent
        before.push(b);
        b = await startB();
      }
    }

    // The database may hold other tests' credentials (PostgreSQL is shared): only ours are counted.
    const ours = (id: string) => id === secretId || id === iat.record.id;
    const expected = [
      `${iat.record.id} credential.expiring ${14 * DAY}`,
      `${iat.record.id} credential.expiring ${3 * DAY}`,
      `${iat.record.id} credential.expiring ${DAY}`,
      `${iat.record.id} credential.expired -`,
      `${secretId} credential.expiring ${14 * DAY}`,
      `${secretId} credential.expiring ${3 * DAY}`,
      `${secretId} credential.expiring ${DAY}`,
      `${secretId} credential.expired -`,
    ];
    expect(receiver.rejected.filter(ours)).toEqual([]);
    const mine = receiver.delivered.filter((d) => ours(d.body.data.id));
    expect(
      receiver
        .keys()
        .filter((k) => ours(k.split(' ')[0]))
        .sort(),
    ).toEqual(expected.sort());
    expect(new Set(mine.map((d) => d.id)).size).toBe(mine.length); // no message delivered twice
    const secretNotice = receiver.delivered.find((d) => d.body.data.id === secretId && d.body.data.lead_time === DAY)!;
    expect(secretNotice.body).toEqual({
      type: 'credential.expiring',
      timestamp: expect.any(String),
      data: {
        credential_type: 'client_secret',
        id: secretId,
        client_id: c.clientId,
        status: 'current',
        expires_at: Math.floor(start / 1000) + 20 * DAY,
        lead_time: DAY,
      },
    });
    // The audit sinks of all the instances together saw each notice once, too.
    const audited = [a, b, ...before]
      .flatMap((t) => t!.audit.events)
      .filter((e) => (e.type === 'credential.expiring' || e.type === 'credential.expired') && ours(e.credentialId));
    expect(audited).toHaveLength(expected.length);
    expect(JSON.stringify(audited)).not.toContain(c.clientSecret);
  });
}

describe('expiry notices on one SQLite file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'clavis-notices-'));
  let n = 0;
  exactlyOnce(() => ({ SQLITE_PATH: join(dir, `notices-${++n}.sqlite`), DATABASE_URL: '' }));
});

describe('expiry notices on PostgreSQL', needs('postgres'), () => {
  exactlyOnce(() => ({}));
});

/** A database of the test's own (in-memory SQLite), so that no other test's notice is delivered here. */
const ALONE = { DATABASE_URL: '', SQLITE_PATH: ':memory:' };

describe('webhook delivery', () => {
  let t: TestApp | undefined;
  let receiver: Receiver | undefined;
  afterEach(async () => {
    await t?.close();
    await receiver?.close();
  });

  it('a previous secret in its overlap is announced; the receiver failing a few times gets it on a later attempt, with backoff', async () => {
    receiver = await startReceiver();
    t = await createTestApp({
      env: {
        ...ALONE,
        WEBHOOK_URL: receiver.url,
        WEBHOOK_SECRET,
        EXPIRY_NOTICE_LEAD_TIMES: '2h',
        SECRET_ROTATION_OVERLAP: '3600',
      },
    });
    const c = await createClient(t, { tokenEndpointAuthMethod: 'client_secret_basic' });
    const previousId = (await t.clients.findWithSecrets(c.clientId))!.secrets[0].id;
    await t.clients.rotateSecret(c.clientId);
    receiver.state.failNext = 3;
    await notices(t).runOnce();
    expect(receiver.requests).toHaveLength(1);
    await notices(t).runOnce(); // not due yet: no new attempt
    expect(receiver.requests).toHaveLength(1);
    for (const wait of [30, 60, 120]) {
      t.clock.advance(wait);
      await notices(t).runOnce();
    }
    expect(receiver.requests).toHaveLength(4);
    expect(new Set(receiver.requests).size).toBe(1); // the same message id every attempt
    expect(receiver.delivered.map((d) => d.body.data)).toEqual([
      expect.objectContaining({ id: previousId, status: 'previous', lead_time: 7_200 }),
    ]);
    expect(t.audit.ofType('webhook.delivery_failed').map((e) => [e.attempts, e.reason])).toEqual([
      [1, 'HTTP 503'],
      [2, 'HTTP 503'],
      [3, 'HTTP 503'],
    ]);
    t.clock.advance(3_600);
    await notices(t).runOnce();
    expect(receiver.keys()).toEqual([`${previousId} credential.expiring 7200`, `${previousId} credential.expired -`]);
  });

  it('token requests are unaffected while the receiver hangs or is down', async () => {
    receiver = await startReceiver();
    receiver.state.hang = true;
    t = await createTestApp({
      env: { ...ALONE, WEBHOOK_URL: receiver.url, WEBHOOK_SECRET, CLIENT_SECRET_TTL: String(DAY) },
    });
    const c = await createClient(t, { tokenEndpointAuthMethod: 'client_secret_basic' });
    const pass = notices(t).runOnce(); // the delivery hangs in the background
    await expect.poll(() => receiver!.requests.length, { timeout: 10_000 }).toBe(1);
    for (let i = 0; i < 5; i++) expect((await tokenWithBasic(t, c.clientId, c.clientSecret)).status).toBe(200);
    await receiver.close(); // now down: connections refused
    await pass;
    t.clock.advance(30);
    await notices(t).runOnce();
    for (let i = 0; i < 5; i++) expect((await tokenWithBasic(t, c.clientId, c.clientSecret)).status).toBe(200);
    expect(t.audit.ofType('webhook.delivery_failed')).toHaveLength(2);
    receiver = undefined;
  });

  it('the webhook secret is never logged, and a malformed one is refused at boot without echoing it', async () => {
    receiver = await startReceiver();
    const logged = await createLoggedTestApp({
      env: { ...ALONE, WEBHOOK_URL: receiver.url, WEBHOOK_SECRET, CLIENT_SECRET_TTL: String(DAY) },
    });
    t = logged;
    await createClient(t, { tokenEndpointAuthMethod: 'client_secret_basic' });
    receiver.state.failNext = 1;
    await notices(t).runOnce();
    t.clock.advance(30);
    await notices(t).runOnce();
    expect(receiver.delivered).toHaveLength(1);
    expect(logged.logs.text()).toContain('credential.expiring');
    expect(logged.logs.text()).not.toContain(WEBHOOK_SECRET.slice(6, 30));
    const bad = `whsec_${'A'.repeat(10)}`;
    const err = await createTestApp({ env: { ...ALONE, WEBHOOK_URL: receiver.url, WEBHOOK_SECRET: bad } }).catch(
      (e: Error) => e,
    );
    expect(err).toBeInstanceOf(Error);
    expect(String((err as Error).message)).toContain('expiryNotices.webhook.secret');
    expect(String((err as Error).message)).not.toContain(bad);
  });
});
