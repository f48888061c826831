import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FixedClock } from '@clavis/server';
import { cli, useCliEnvironment } from '../support/cli.js';
import { basic, postForm } from '../support/http.js';
import { assertion, generateKey, JWT_BEARER } from '../support/keys.js';
import { needs } from '../support/requirements.js';
import { createClient, createTestApp, freePort, type TestApp } from '../support/test-app.js';

/** The staleness bound the instances run with (CLIENT_CACHE_STALENESS_MS), ms. */
const BOUND = 1_000;
/** Slack for a loaded machine on top of the bound: a refusal later than BOUND + SLACK fails the test. */
const SLACK = 4_000;
/** The listening connection's application_name (client-cache.ts). */
const LISTENER = 'clavis-client-changes';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Several instances on one PostgreSQL database cache the clients they authenticate. A change made
 * anywhere (another instance, the operator CLI) is refused by every instance within the staleness
 * bound: at once through the change notification, and also when the notification is lost or the
 * listening connection is killed (counter check; flush on a dropped channel).
 */
describe('client cache across instances (PostgreSQL)', needs('postgres'), () => {
  let a: TestApp;
  let b: TestApp;
  /** A connection that writes behind Clavis's back: triggers off (session_replication_role = replica). */
  let db: pg.Client;
  /** An operator's plain SQL connection (triggers on). */
  let sql: pg.Client;

  beforeAll(async () => {
    const portA = await freePort();
    const env = { ISSUER: `http://127.0.0.1:${portA}`, CLIENT_CACHE_STALENESS_MS: String(BOUND) };
    const start = Date.now();
    a = await createTestApp({ port: portA, env, clock: new FixedClock(start) });
    b = await createTestApp({ env, clock: new FixedClock(start) });
    db = new pg.Client({ connectionString: process.env.DATABASE_URL });
    await db.connect();
    await db.query('SET session_replication_role = replica');
    sql = new pg.Client({ connectionString: process.env.DATABASE_URL });
    await sql.connect();
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await db?.end();
    await sql?.end();
  });

  const basicAt = (t: TestApp, c: { clientId: string; clientSecret: string }) =>
    postForm(t.tokenEndpoint, { grant_type: 'client_credentials' }, basic(c.clientId, c.clientSecret)).then(
      (r) => r.status,
    );

  /** Polls until `request` answers 401; returns how long that took (fails past BOUND + SLACK). */
  async function refusedWithin(request: () => Promise<number>): Promise<number> {
    const start = performance.now();
    for (;;) {
      const status = await request();
      const elapsed = performance.now() - start;
      if (status === 401) return elapsed;
      expect(status).toBe(200);
      if (elapsed > BOUND + SLACK) throw new Error(`still accepted ${Math.round(elapsed)} ms after the change`);
      await sleep(20);
    }
  }

  /** Polls until `request` answers 200; fails past BOUND + SLACK. */
  async function acceptedWithin(request: () => Promise<number>): Promise<void> {
    const start = performance.now();
    for (;;) {
      const status = await request();
      if (status === 200) return;
      expect(status).toBe(401);
      if (performance.now() - start > BOUND + SLACK) throw new Error('the new secret is still refused');
      await sleep(20);
    }
  }

  /** A secret client that both instances have just authenticated (so both have it cached). */
  async function cachedEverywhere() {
    const c = await createClient(a, { tokenEndpointAuthMethod: 'client_secret_basic' });
    for (const t of [a, b, a, b]) expect(await basicAt(t, c)).toBe(200);
    // An instance opens its listener at its first token request and serves from memory only once that
    // listener has checked the change counter (until then every request reads the database): wait for
    // both, then read once more on each so that both caches hold the client.
    await listenersBack();
    for (const t of [a, b]) expect(await basicAt(t, c)).toBe(200);
    return c;
  }

  /** A change no instance hears of: the rows change, triggers off: no counter, no notification. */
  const deleteSecretsBehindClavis = (clientId: string) =>
    db.query('DELETE FROM clavis_client_secret WHERE client_id = $1', [clientId]);
  const listeners = async () =>
    Number(
      (
        await db.query(
          'SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = $1 AND datname = current_database()',
          [LISTENER],
        )
      ).rows[0].n,
    );
  const killListeners = () =>
    db.query(
      'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1 AND datname = current_database()',
      [LISTENER],
    );
  async function listenersBack() {
    const until = performance.now() + 15_000;
    while ((await listeners()) < 2) {
      if (performance.now() > until) throw new Error('the instances did not resubscribe');
      await sleep(50);
    }
    await sleep(BOUND); // and have checked the counter since
  }

  it('the cache answers: a change no instance hears of is not seen, until the change counter moves (the hard bound)', async () => {
    const c = await cachedEverywhere();
    await deleteSecretsBehindClavis(c.clientId);
    // Served from memory, also after several counter checks (the counter did not move).
    expect(await basicAt(b, c)).toBe(200);
    await sleep(2 * BOUND);
    expect(await basicAt(b, c)).toBe(200);
    expect(await basicAt(a, c)).toBe(200);
    // A write whose notification was lost: only the counter moves. The next check empties the caches.
    await db.query('UPDATE clavis_client_change SET counter = counter + 1 WHERE id = 1');
    await refusedWithin(() => basicAt(b, c));
    await refusedWithin(() => basicAt(a, c));
  });

  it('a client deleted at A is refused by B within the bound', async () => {
    const c = await cachedEverywhere();
    expect(await a.clients.delete(c.clientId)).toBe(true);
    await refusedWithin(() => basicAt(b, c));
  });

  it('a secret rotated at A, then the previous one retired: B refuses the old secret within the bound, takes the new one', async () => {
    const c = await cachedEverywhere();
    const rotated = await a.clients.rotateSecret(c.clientId);
    const fresh = { clientId: c.clientId, clientSecret: rotated.clientSecret! };
    // B learns the new secret within the bound too (until then its cached record knows only the old one).
    await acceptedWithin(() => basicAt(b, fresh));
    expect(await basicAt(b, c)).toBe(200); // overlap window
    expect(await a.clients.retirePreviousSecret(c.clientId)).toBe(true);
    await refusedWithin(() => basicAt(b, c));
    expect(await basicAt(b, fresh)).toBe(200);
  });

  it('a method changed at A (basic → post) is enforced by B within the bound', async () => {
    const c = await cachedEverywhere();
    await a.clients.update(c.clientId, { tokenEndpointAuthMethod: 'client_secret_post', scope: 'statements:read' });
    await refusedWithin(() => basicAt(b, c));
  });

  it("an operator's own SQL on the client tables is heard too (the trigger): refused by both within the bound", async () => {
    const c = await cachedEverywhere();
    await sql.query('DELETE FROM clavis_client_secret WHERE client_id = $1', [c.clientId]);
    await refusedWithin(() => basicAt(b, c));
    await refusedWithin(() => basicAt(a, c));
  });

  it('a client deleted by the operator CLI (its own application and connections) is refused by both within the bound', async () => {
    const c = await cachedEverywhere();
    const env = useCliEnvironment();
    try {
      const r = await cli('clients', 'delete', c.clientId);
      expect(r.code).toBe(0);
    } finally {
      env.restore();
    }
    await refusedWithin(() => basicAt(b, c));
    await refusedWithin(() => basicAt(a, c));
  });

  it('listening connections killed: the caches are emptied and bypassed, a change is refused within the bound, and they resubscribe', async () => {
    const c = await cachedEverywhere();
    const d = await cachedEverywhere();
    expect(await listeners()).toBe(2);
    await killListeners();
    // Nothing announces these changes to B: its notifications are gone, and the first is made behind Clavis.
    await deleteSecretsBehindClavis(c.clientId);
    expect(await a.clients.delete(d.clientId)).toBe(true);
    await refusedWithin(() => basicAt(b, c));
    await refusedWithin(() => basicAt(b, d));
    await refusedWithin(() => basicAt(a, c));

    // Back: both instances listen again, and cache again.
    await listenersBack();
    const e = await cachedEverywhere();
    await deleteSecretsBehindClavis(e.clientId);
    expect(await basicAt(b, e)).toBe(200);
    // And the channel works again: a deletion at A reaches B.
    const f = await cachedEverywhere();
    expect(await a.clients.delete(f.clientId)).toBe(true);
    await refusedWithin(() => basicAt(b, f));
  });

  it('killed while a change is made, with the change counter moved but no notification heard: still refused within the bound', async () => {
    const c = await cachedEverywhere();
    await killListeners();
    await deleteSecretsBehindClavis(c.clientId);
    await db.query('UPDATE clavis_client_change SET counter = counter + 1 WHERE id = 1');
    await refusedWithin(() => basicAt(b, c));
    await refusedWithin(() => basicAt(a, c));
    await listenersBack();
  });
});

/**
 * Replay protection in the database (no Redis): two instances batch their `jti` inserts (one
 * multi-row statement per event-loop turn), and an assertion is still accepted exactly once
 * across them under concurrent load.
 */
describe('jti exactly once across instances, replay store in PostgreSQL (batched inserts)', needs('postgres'), () => {
  let a: TestApp;
  let b: TestApp;

  beforeAll(async () => {
    const portA = await freePort();
    const env = { ISSUER: `http://127.0.0.1:${portA}`, REDIS_URL: '' };
    const start = Date.now();
    a = await createTestApp({ port: portA, env, clock: new FixedClock(start) });
    b = await createTestApp({ env, clock: new FixedClock(start) });
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
  });

  it('60 assertions, each sent 3 times at once over both instances (180 requests in flight): exactly 60 tokens, one per jti', async () => {
    const key = await generateKey();
    const pk = await createClient(a, { tokenEndpointAuthMethod: 'private_key_jwt', jwks: { keys: [key.publicJwk] } });
    const jwts = await Promise.all(
      Array.from({ length: 60 }, () => assertion(pk.clientId, key, a.issuer, { now: a.clock.nowSeconds() })),
    );
    const sends = jwts.flatMap((jwt, i) => [0, 1, 2].map((copy) => ({ jwt, at: (i + copy) % 2 === 0 ? a : b })));
    const results = await Promise.all(
      sends.map(({ jwt, at }) =>
        postForm(at.tokenEndpoint, {
          grant_type: 'client_credentials',
          client_assertion_type: JWT_BEARER,
          client_assertion: jwt,
        }).then((r) => ({ jwt, status: r.status })),
      ),
    );
    expect(results.filter((r) => r.status === 200)).toHaveLength(60);
    expect(results.filter((r) => r.status !== 200 && r.status !== 401)).toEqual([]);
    const accepted = new Map<string, number>();
    for (const r of results) if (r.status === 200) accepted.set(r.jwt, (accepted.get(r.jwt) ?? 0) + 1);
    expect([...accepted.values()].every((n) => n === 1)).toBe(true);
    expect(accepted.size).toBe(60);
  });
});
