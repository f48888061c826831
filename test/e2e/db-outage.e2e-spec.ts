import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLAVIS_ENTITIES, CLAVIS_MIGRATIONS, ClientService, FixedClock, SigningKeyService } from '@clavis/server';
import { resolveServerOptions } from '@clavis/server/testing';
import { MemoryAuditSink } from '@clavis/server/testing';
import { TypeOrmClientStore } from '../../libs/server/src/persistence/typeorm/typeorm-client.store.js';
import { TypeOrmSigningKeyStore } from '../../libs/server/src/persistence/typeorm/typeorm-signing-key.store.js';
import { TypeOrmConnection } from '../../libs/server/src/persistence/typeorm/typeorm-connection.js';
import { basic, postForm } from '../support/http.js';
import { assertion, generateKey, JWT_BEARER, type TestKey } from '../support/keys.js';
import { startPrivatePostgres, type PrivatePostgres } from '../support/private-postgres.js';
import { needs } from '../support/requirements.js';
import { jsonRequest } from '../support/registration.js';
import { createClient, createTestApp, TEST_KEK, type TestApp } from '../support/test-app.js';
import { createJwsBackend } from '../../libs/server/src/jws/create-jws-backend.js';

/**
 * The database goes away under load and comes back. Runs in every mode: it brings its own
 * PostgreSQL cluster (initdb into a temp dir), so stopping it disturbs no other test.
 */

const UNAVAILABLE = { error: 'temporarily_unavailable', error_description: 'the service is temporarily unavailable' };
const STACK = /\bat .*\.(ts|js|mjs|cjs):\d+|node_modules|Error: .*\n\s+at /;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

type Kind = 'basic' | 'post' | 'secret_jwt' | 'private_key_jwt' | 'register' | 'rotate' | 'introspect';
type Phase = 'before' | 'outage' | 'transition' | 'recovery';
interface Sample {
  kind: Kind;
  status: number;
  text: string;
  json: any;
  retryAfter: string | null;
  sentAt: number;
  doneAt: number;
}

describe(
  'PostgreSQL outage under load (private cluster): 503, recovery without restart, nothing half-applied',
  needs('initdb'),
  () => {
    let db: PrivatePostgres;
    let t: TestApp;
    let pkKey: TestKey;
    let basicClient: { clientId: string; clientSecret: string };
    let postClient: { clientId: string; clientSecret: string };
    let jwtClient: { clientId: string; clientSecret: string };
    let pkClient: { clientId: string };
    let initialToken: string;
    const samples: Sample[] = [];
    /** What the load saw, kept for the database checks. */
    const registered = new Set<string>();
    let registrationOutages = 0;
    const rotators: {
      clientId: string;
      uri: string;
      token: string;
      secret: string;
      ok: number;
      ambiguous: boolean;
      history: string[];
    }[] = [];
    const keyRotations = { ok: 0, failed: 0 };
    let recoveredAt = 0;

    beforeAll(async () => {
      db = await startPrivatePostgres();
      t = await createTestApp({ env: { DATABASE_URL: db.url } });
      pkKey = await generateKey('ES256');
      basicClient = await createClient(t, { tokenEndpointAuthMethod: 'client_secret_basic' });
      postClient = await createClient(t, { tokenEndpointAuthMethod: 'client_secret_post' });
      jwtClient = await createClient(t, { tokenEndpointAuthMethod: 'client_secret_jwt' });
      pkClient = await createClient(t, {
        tokenEndpointAuthMethod: 'private_key_jwt',
        jwks: { keys: [pkKey.publicJwk] },
      });
      initialToken = (await t.initialTokens.create({ description: 'db-outage load' })).token;
      for (let i = 0; i < 3; i++) {
        const res = await jsonRequest(`${t.issuer}/register`, {
          method: 'POST',
          token: initialToken,
          body: { scope: 'statements:read', client_name: `rotator-${i}` },
        });
        expect(res.status, res.text).toBe(201);
        rotators.push({
          clientId: res.json.client_id,
          uri: res.json.registration_client_uri,
          token: res.json.registration_access_token,
          secret: res.json.client_secret,
          ok: 0,
          ambiguous: false,
          history: [],
        });
      }
    }, 60_000);

    afterAll(async () => {
      await t?.close();
      await db?.destroy();
    });

    /** Timeline of the outage (ms): the stop begins, the cluster is down, the restart begins, it is up. */
    const timeline = { stopBegin: Infinity, stopped: Infinity, restartBegin: Infinity, restarted: Infinity };

    /**
     * before: answered before the stop began; outage: sent once the cluster was down and answered before
     * its restart began; recovery: sent after the restart; transition: straddles a boundary.
     */
    const phaseOf = (s: Sample): Phase =>
      s.doneAt < timeline.stopBegin
        ? 'before'
        : s.sentAt >= timeline.stopped && s.doneAt < timeline.restartBegin
          ? 'outage'
          : s.sentAt >= timeline.restarted
            ? 'recovery'
            : 'transition';

    async function sample(
      kind: Kind,
      send: () => Promise<{ status: number; text: string; json: any; headers: Headers }>,
    ): Promise<Sample> {
      const sentAt = Date.now();
      const res = await send();
      const s: Sample = {
        kind,
        status: res.status,
        text: res.text,
        json: res.json,
        retryAfter: res.headers.get('retry-after'),
        sentAt,
        doneAt: Date.now(),
      };
      samples.push(s);
      return s;
    }

    const tokenRequest = async (kind: Kind): Promise<Sample> => {
      const now = t.clock.nowSeconds();
      switch (kind) {
        case 'basic':
          return sample(kind, () =>
            postForm(
              t.tokenEndpoint,
              { grant_type: 'client_credentials' },
              basic(basicClient.clientId, basicClient.clientSecret),
            ),
          );
        case 'post':
          return sample(kind, () =>
            postForm(t.tokenEndpoint, {
              grant_type: 'client_credentials',
              client_id: postClient.clientId,
              client_secret: postClient.clientSecret,
            }),
          );
        case 'secret_jwt': {
          const a = await assertion(
            jwtClient.clientId,
            { privateKey: new TextEncoder().encode(jwtClient.clientSecret), alg: 'HS256' },
            t.issuer,
            { now },
          );
          return sample(kind, () =>
            postForm(t.tokenEndpoint, {
              grant_type: 'client_credentials',
              client_assertion_type: JWT_BEARER,
              client_assertion: a,
            }),
          );
        }
        case 'private_key_jwt': {
          const a = await assertion(pkClient.clientId, pkKey, t.issuer, { now });
          return sample(kind, () =>
            postForm(t.tokenEndpoint, {
              grant_type: 'client_credentials',
              client_assertion_type: JWT_BEARER,
              client_assertion: a,
            }),
          );
        }
        default:
          throw new Error(kind);
      }
    };

    it('load → stop PostgreSQL mid-load → only 503 JSON (never 500, never a stack) → restart → service resumes without an app restart', async () => {
      let stop = false;
      const PER_WORKER_CAP = 600;
      const tokenKinds: Kind[] = ['basic', 'post', 'secret_jwt', 'private_key_jwt'];
      const tokenWorker = async (offset: number) => {
        for (let i = 0; !stop && i < PER_WORKER_CAP; i++) {
          const s = await tokenRequest(tokenKinds[(i + offset) % tokenKinds.length]);
          if (s.status === 200 && Math.random() < 0.1) {
            // Introspection (a client-authenticated call that reads the deny list).
            await sample('introspect', () =>
              postForm(
                `${t.baseUrl}/introspect`,
                { token: s.json.access_token },
                basic(basicClient.clientId, basicClient.clientSecret),
              ),
            );
          }
          if (s.status === 503) await sleep(20);
        }
      };
      const registerWorker = async () => {
        for (let i = 0; !stop && i < PER_WORKER_CAP / 4; i++) {
          const s = await sample('register', () =>
            jsonRequest(`${t.issuer}/register`, {
              method: 'POST',
              token: initialToken,
              body: { scope: 'statements:read', client_name: `load-${i}` },
            }),
          );
          if (s.status === 201) registered.add(s.json.client_id);
          else if (s.status === 503) registrationOutages++;
          await sleep(s.status === 503 ? 40 : 10);
        }
      };
      const rotateWorker = async (r: (typeof rotators)[number]) => {
        let lastWasOutage = false;
        for (let i = 0; !stop && i < PER_WORKER_CAP / 4 && !r.ambiguous; i++) {
          const s = await sample('rotate', () =>
            jsonRequest(r.uri, {
              method: 'PUT',
              token: r.token,
              body: { client_id: r.clientId, scope: 'statements:read', client_name: 'rotator' },
            }),
          );
          r.history.push(`${s.status}@${phaseOf(s)}`);
          if (s.status === 200) {
            r.token = s.json.registration_access_token;
            r.secret = s.json.client_secret;
            r.ok++;
          } else if (s.status === 401 && lastWasOutage) {
            // The PUT before committed but its answer was lost with the connection: the client holds a stale token.
            r.ambiguous = true;
          }
          lastWasOutage = s.status === 503;
          await sleep(s.status === 503 ? 40 : 15);
        }
      };
      const keyWorker = async () => {
        while (!stop) {
          try {
            await t.keys.rotate({ force: true });
            keyRotations.ok++;
          } catch {
            keyRotations.failed++;
          }
          await sleep(150);
        }
      };

      const workers = [0, 1, 2, 3, 4, 5]
        .map((i) => tokenWorker(i))
        .concat([registerWorker(), ...rotators.map(rotateWorker), keyWorker()]);
      const started = Date.now();
      await sleep(1_500);
      const beforeCount = samples.length;

      timeline.stopBegin = Date.now();
      await db.stop('immediate');
      timeline.stopped = Date.now();
      await sleep(2_000);
      timeline.restartBegin = Date.now();
      await db.start();
      timeline.restarted = Date.now();
      const restartedAt = timeline.restarted;

      // Recovery: a bounded number of retries of one plain token request, same process, no restart.
      let tries = 0;
      let status = 0;
      for (; tries < 100 && status !== 200; tries++) {
        status = (await tokenRequest('basic')).status;
        if (status !== 200) await sleep(100);
      }
      recoveredAt = Date.now();
      expect(status, `no 200 within ${tries} tries after the restart`).toBe(200);
      // Let every kind of request succeed again, then stop the load.
      const recoverDeadline = Date.now() + 10_000;
      const kindsOk = (since: number) =>
        new Set(samples.filter((s) => s.sentAt >= since && s.status >= 200 && s.status < 300).map((s) => s.kind));
      while (Date.now() < recoverDeadline && kindsOk(restartedAt).size < 7) await sleep(100);
      await sleep(300);
      stop = true;
      await Promise.all(workers);

      // ---- the figures ----
      const by = (phase: Phase) => {
        const counts: Record<string, number> = {};
        for (const s of samples.filter((x) => phaseOf(x) === phase))
          counts[`${s.kind}:${s.status}`] = (counts[`${s.kind}:${s.status}`] ?? 0) + 1;
        return counts;
      };
      const outage = samples.filter((s) => phaseOf(s) === 'outage');
      const statusCounts = (list: Sample[]) =>
        list.reduce<Record<number, number>>((acc, s) => ((acc[s.status] = (acc[s.status] ?? 0) + 1), acc), {});
      console.log(
        JSON.stringify(
          {
            loadBeforeStopMs: timeline.stopBegin - started,
            requestsBeforeStop: beforeCount,
            pgStopMs: timeline.stopped - timeline.stopBegin,
            outageMs: timeline.restartBegin - timeline.stopped,
            pgRestartMs: timeline.restarted - timeline.restartBegin,
            timeToRecoveryMs: recoveredAt - restartedAt,
            recoveryTries: tries,
            totalRequests: samples.length,
            outageStatuses: statusCounts(outage),
            outageByKind: by('outage'),
            transitionByKind: by('transition'),
            recoveryStatuses: statusCounts(samples.filter((s) => phaseOf(s) === 'recovery')),
            kindsOkAfterRestart: [...kindsOk(restartedAt)].sort(),
            keyRotations,
            rotations: rotators.map((r) => ({
              ok: r.ok,
              ambiguous: r.ambiguous,
              ...(r.ambiguous ? { lastAnswers: r.history.slice(-6) } : {}),
            })),
            registrations: { ok: registered.size, unavailable: registrationOutages },
          },
          null,
          1,
        ),
      );

      // ---- never a 500, never a stack: every response is a normal answer or the exact 503 ----
      for (const s of samples) {
        expect(s.text, `${s.kind} ${s.status}`).not.toMatch(STACK);
        expect(s.status, `${s.kind} answered ${s.status}: ${s.text}`).not.toBe(500);
        if (s.status >= 500) {
          expect({ kind: s.kind, status: s.status, body: s.json, retryAfter: s.retryAfter }).toEqual({
            kind: s.kind,
            status: 503,
            body: UNAVAILABLE,
            retryAfter: '5',
          });
        }
      }
      // Before the stop, everything succeeded.
      for (const s of samples.filter((x) => phaseOf(x) === 'before'))
        expect(s.status, `${s.kind} before the outage: ${s.text}`).toBeLessThan(300);
      // During the outage every request that needs the database answered 503 (the token requests of valid clients
      // are never told they are invalid: a storage failure is not an authentication failure).
      expect(outage.length).toBeGreaterThan(10);
      for (const s of outage) expect([s.kind, s.status]).toEqual([s.kind, 503]);
      // Once it is back, every kind of request works again, in the same process.
      expect([...kindsOk(restartedAt)].sort()).toEqual([
        'basic',
        'introspect',
        'post',
        'private_key_jwt',
        'register',
        'rotate',
        'secret_jwt',
      ]);
      // Rotation 401s only ever follow a lost answer (a PUT that committed while its connection died).
      for (const s of samples.filter((x) => x.kind === 'rotate' && x.status === 401))
        expect(phaseOf(s)).not.toBe('before');
    }, 60_000);

    it('the database afterwards: no half-applied registration, rotation or key change', async () => {
      const c = await db.connect();
      try {
        const now = t.clock.nowSeconds();
        const clients = (
          await c.query(
            'SELECT client_id, token_endpoint_auth_method, registration_access_token_hash, version FROM clavis_client',
          )
        ).rows;
        const secrets = (
          await c.query(
            'SELECT id, client_id, secret_hash, secret_encrypted, expires_at, retires_at FROM clavis_client_secret',
          )
        ).rows;
        const keys = (await c.query('SELECT kid, state FROM clavis_signing_key')).rows;
        const ids = new Set(clients.map((r) => r.client_id as string));

        // Every registration that was answered 201 is there; at most the 503-answered ones may have committed besides.
        for (const id of registered) expect(ids.has(id), id).toBe(true);
        const expected = 4 + rotators.length + registered.size;
        expect(clients.length).toBeGreaterThanOrEqual(expected);
        expect(clients.length - expected).toBeLessThanOrEqual(registrationOutages);

        for (const client of clients) {
          expect(client.registration_access_token_hash, client.client_id).toMatch(/^[A-Za-z0-9_-]{43}$/);
          const own = secrets.filter((s) => s.client_id === client.client_id);
          const valid = own.filter(
            (s) =>
              (s.expires_at === null || Number(s.expires_at) > now) &&
              (s.retires_at === null || Number(s.retires_at) > now),
          );
          if (client.token_endpoint_auth_method === 'private_key_jwt') expect(own).toEqual([]);
          else {
            expect(own.length, `${client.client_id} has ${own.length} secrets`).toBeLessThanOrEqual(2);
            expect(valid.length, `${client.client_id} has no valid secret`).toBeGreaterThanOrEqual(1);
            // Exactly one current secret (not being retired): a rotation either happened whole or not at all.
            expect(own.filter((s) => s.retires_at === null).length, client.client_id).toBe(1);
            for (const s of own)
              expect(
                client.token_endpoint_auth_method === 'client_secret_jwt' ? s.secret_encrypted : s.secret_hash,
                s.id,
              ).toBeTruthy();
          }
        }
        // No orphan secrets.
        expect(secrets.filter((s) => !ids.has(s.client_id))).toEqual([]);
        // Exactly one active signing key, at most one next.
        expect(keys.filter((k) => k.state === 'active')).toHaveLength(1);
        expect(keys.filter((k) => k.state === 'next').length).toBeLessThanOrEqual(1);
      } finally {
        await c.end();
      }

      // The credentials the load last received work (unless the answer of a committed PUT was lost).
      for (const r of rotators.filter((x) => !x.ambiguous)) {
        const tok = await postForm(t.tokenEndpoint, { grant_type: 'client_credentials' }, basic(r.clientId, r.secret));
        expect(tok.status, tok.text).toBe(200);
        const read = await jsonRequest(r.uri, { token: r.token });
        expect(read.status, read.text).toBe(200);
      }
      // The active key signs and /jwks publishes it.
      const jwks = await (await fetch(`${t.baseUrl}/jwks`)).json();
      const active = (await t.keys.activeKey()).kid;
      expect(jwks.keys.map((k: { kid: string }) => k.kid)).toContain(active);
    });

    it('a failing statement inside the transaction rolls back the whole change (PUT over HTTP on PostgreSQL)', async () => {
      // A trigger makes every secret insert fail: the rotation's client update (new version, new registration
      // token hash) and the deletion of the old secrets must roll back with it.
      const r = rotators.find((x) => !x.ambiguous)!;
      const c = await db.connect();
      try {
        const before = await snapshot(c, r.clientId);
        await c.query(PG_FAIL_SECRET_INSERT);
        try {
          const res = await jsonRequest(r.uri, {
            method: 'PUT',
            token: r.token,
            body: { client_id: r.clientId, scope: 'statements:read', client_name: 'rotator' },
          });
          expect(res.status).toBe(500);
          expect(res.json).toEqual({ error: 'server_error', error_description: 'internal server error' });
          expect(res.text).not.toMatch(STACK);
        } finally {
          await c.query(PG_DROP_FAIL_TRIGGERS);
        }
        expect(await snapshot(c, r.clientId)).toEqual(before);
        // The registration access token was not rotated, and the secret still works.
        expect((await jsonRequest(r.uri, { token: r.token })).status).toBe(200);
        expect(
          (await postForm(t.tokenEndpoint, { grant_type: 'client_credentials' }, basic(r.clientId, r.secret))).status,
        ).toBe(200);
      } finally {
        await c.end();
      }
    });

    it('a registration that fails after its one-use initial access token was used gives the use back', async () => {
      const { token } = await t.initialTokens.create({ uses: 1 });
      const body = { client_name: 'refund', scope: 'statements:read' };
      const c = await db.connect();
      try {
        await c.query(PG_FAIL_SECRET_INSERT);
        try {
          const res = await jsonRequest(`${t.baseUrl}/register`, { method: 'POST', token, body });
          expect(res.status).toBe(500);
          expect(res.text).not.toMatch(STACK);
        } finally {
          await c.query(PG_DROP_FAIL_TRIGGERS);
        }
      } finally {
        await c.end();
      }
      // The same one-use token still registers, once.
      expect((await jsonRequest(`${t.baseUrl}/register`, { method: 'POST', token, body })).status).toBe(201);
      expect((await jsonRequest(`${t.baseUrl}/register`, { method: 'POST', token, body })).status).toBe(401);
    });

    describe.each(['better-sqlite3', 'postgres'] as const)(
      'atomicity with a real DataSource (%s): a constraint breaks the second statement',
      (driver) => {
        let ds: DataSource;
        let clients: ClientService;
        let keyService: SigningKeyService;
        const clock = new FixedClock(Date.now());
        // better-sqlite3 runs one statement per call.
        const fail = async (sql: string | string[]) => {
          for (const stmt of Array.isArray(sql) ? sql : [sql]) await ds.query(stmt);
        };

        beforeAll(async () => {
          let options: ConstructorParameters<typeof DataSource>[0];
          if (driver === 'postgres') {
            const admin = await db.connect();
            const name = `atomic_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
            await admin.query(`CREATE DATABASE ${name}`);
            await admin.end();
            options = {
              type: 'postgres',
              url: db.url.replace(/\/[^/]+$/, `/${name}`),
              entities: [...CLAVIS_ENTITIES],
              migrations: [...CLAVIS_MIGRATIONS],
              migrationsRun: true,
              synchronize: false,
            };
          } else {
            options = {
              type: 'better-sqlite3',
              database: ':memory:',
              entities: [...CLAVIS_ENTITIES],
              migrations: [...CLAVIS_MIGRATIONS],
              migrationsRun: true,
              synchronize: false,
            };
          }
          ds = await new DataSource(options).initialize();
          const settings = resolveServerOptions({ issuer: 'http://127.0.0.1:1', keyEncryptionKey: TEST_KEK });
          const audit = new MemoryAuditSink();
          const connection = new TypeOrmConnection(ds);
          clients = new ClientService(
            new TypeOrmClientStore(connection),
            clock,
            audit,
            settings,
            settings.keyEncryption,
          );
          keyService = new SigningKeyService(
            new TypeOrmSigningKeyStore(connection),
            clock,
            audit,
            settings,
            settings.keyEncryption,
            createJwsBackend(settings.cryptoMode),
          );
          await keyService.onApplicationBootstrap();
        });
        afterAll(async () => {
          await ds?.destroy();
        });

        const rows = async () => ({
          clients: await ds.query('SELECT * FROM clavis_client ORDER BY client_id'),
          secrets: await ds.query('SELECT * FROM clavis_client_secret ORDER BY id'),
          keys: await ds.query('SELECT kid, state, activated_at, retired_at FROM clavis_signing_key ORDER BY kid'),
        });
        const failSecretInsert = () => fail(driver === 'postgres' ? PG_FAIL_SECRET_INSERT : SQLITE_FAIL_SECRET_INSERT);
        const dropTriggers = () => fail(driver === 'postgres' ? PG_DROP_FAIL_TRIGGERS : SQLITE_DROP_FAIL_TRIGGERS);

        it('rotation: the client update and the deletion of the old secrets roll back when the new secret cannot be inserted', async () => {
          const issued = await clients.create(
            { tokenEndpointAuthMethod: 'client_secret_basic', scope: '' },
            { withRegistrationToken: true },
          );
          clock.advance(10);
          const before = await rows();
          await failSecretInsert();
          try {
            await expect(clients.rotateSecret(issued.client.clientId)).rejects.toThrow(/injected failure/);
            await expect(
              clients.update(
                issued.client.clientId,
                { tokenEndpointAuthMethod: 'client_secret_basic', scope: '' },
                { rotateRegistrationToken: true },
              ),
            ).rejects.toThrow(/injected failure/);
          } finally {
            await dropTriggers();
          }
          expect(await rows()).toEqual(before);
          const found = (await clients.findWithSecrets(issued.client.clientId))!;
          expect(clients.isValidSecret(found, issued.clientSecret!)).toBe(true);
          // And without the trigger the same rotation goes through whole.
          const rotated = await clients.rotateSecret(issued.client.clientId);
          const after = (await clients.findWithSecrets(issued.client.clientId))!;
          expect(after.client.version).toBe(issued.client.version + 1);
          expect(after.secrets).toHaveLength(2);
          expect(clients.isValidSecret(after, rotated.clientSecret!)).toBe(true);
        });

        it('registration: no client row without its secret', async () => {
          const before = await rows();
          await failSecretInsert();
          try {
            await expect(
              clients.create(
                { tokenEndpointAuthMethod: 'client_secret_post', scope: '' },
                { withRegistrationToken: true },
              ),
            ).rejects.toThrow(/injected failure/);
          } finally {
            await dropTriggers();
          }
          expect(await rows()).toEqual(before);
        });

        it('signing key rotation: the retirement of the active key rolls back when the next key cannot be activated', async () => {
          await keyService.rotate({ force: true }); // there is a retired key now, and the announce step created a next key once
          const before = await rows();
          const activeBefore = before.keys.filter((k: { state: string }) => k.state === 'active');
          expect(activeBefore).toHaveLength(1);
          // Make sure a `next` key exists, so the rotation reaches the promotion (retire, then activate).
          await keyService.rotate({ force: false }).catch(() => undefined);
          const staged = await rows();
          expect(staged.keys.filter((k: { state: string }) => k.state === 'next')).toHaveLength(1);
          await fail(driver === 'postgres' ? PG_FAIL_KEY_ACTIVATION : SQLITE_FAIL_KEY_ACTIVATION);
          try {
            await expect(keyService.rotate({ force: true })).rejects.toThrow(/injected failure/);
          } finally {
            await dropTriggers();
          }
          expect(await rows()).toEqual(staged);
          keyService.invalidate();
          expect((await keyService.activeKey()).kid).toBe(activeBefore[0].kid);
        });
      },
    );
  },
);

async function snapshot(c: pg.Client, clientId: string) {
  return {
    client: (await c.query('SELECT * FROM clavis_client WHERE client_id = $1', [clientId])).rows,
    secrets: (await c.query('SELECT * FROM clavis_client_secret WHERE client_id = $1 ORDER BY id', [clientId])).rows,
  };
}

const PG_FAIL_SECRET_INSERT = `
  CREATE OR REPLACE FUNCTION clavis_test_fail() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'injected failure'; END $$ LANGUAGE plpgsql;
  CREATE TRIGGER clavis_test_fail_secret BEFORE INSERT ON clavis_client_secret FOR EACH ROW EXECUTE FUNCTION clavis_test_fail();`;
const PG_FAIL_KEY_ACTIVATION = `
  CREATE OR REPLACE FUNCTION clavis_test_fail() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'injected failure'; END $$ LANGUAGE plpgsql;
  CREATE TRIGGER clavis_test_fail_key BEFORE UPDATE ON clavis_signing_key FOR EACH ROW WHEN (NEW.state = 'active') EXECUTE FUNCTION clavis_test_fail();`;
const PG_DROP_FAIL_TRIGGERS = `
  DROP TRIGGER IF EXISTS clavis_test_fail_secret ON clavis_client_secret;
  DROP TRIGGER IF EXISTS clavis_test_fail_key ON clavis_signing_key;`;
const SQLITE_FAIL_SECRET_INSERT = `CREATE TRIGGER clavis_test_fail_secret BEFORE INSERT ON clavis_client_secret BEGIN SELECT RAISE(ABORT, 'injected failure'); END`;
const SQLITE_FAIL_KEY_ACTIVATION = `CREATE TRIGGER clavis_test_fail_key BEFORE UPDATE ON clavis_signing_key WHEN NEW.state = 'active' BEGIN SELECT RAISE(ABORT, 'injected failure'); END`;
const SQLITE_DROP_FAIL_TRIGGERS = [
  'DROP TRIGGER IF EXISTS clavis_test_fail_secret',
  'DROP TRIGGER IF EXISTS clavis_test_fail_key',
];
