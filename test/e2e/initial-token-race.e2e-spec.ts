import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { expectRegistrationError, type JsonResponse } from '../support/registration.js';
import { createTestApp, type TestApp } from '../support/test-app.js';

/**
 * The initial access token's use count holds under a real race: every contender has seen the
 * token as usable before any of them uses it, so only the atomic condition of the use (one
 * conditional UPDATE) can keep a one-use token to one registration. On SQLite and, with
 * DATABASE_URL, on PostgreSQL (where the contenders run on separate pooled connections).
 */
describe('initial access token: uses under a real race', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.close());

  /** A gate that opens once `n` parties have arrived; every party waits for all of them. */
  function barrier(n: number): () => Promise<void> {
    let arrived = 0;
    let open!: () => void;
    const opened = new Promise<void>((resolve) => (open = resolve));
    return async () => {
      if (++arrived === n) open();
      await opened;
    };
  }

  const usesLeft = async (id: string) => (await t.initialTokens.list()).find((r) => r.id === id)!.usesRemaining;

  describe('at the store (the real TypeORM store)', () => {
    it.each([
      [1, 8],
      [3, 12],
    ])(
      'a token with %i use(s), %i contenders that all saw it usable, then use it at once → exactly that many succeed',
      async (uses, contenders) => {
        const { token, record } = await t.initialTokens.create({ uses });
        const allHaveRead = barrier(contenders);
        const results = await Promise.all(
          Array.from({ length: contenders }, async () => {
            expect(await t.initialTokens.isUsable(token)).toBe(true);
            await allHaveRead(); // nobody uses the token before everybody has read it
            return t.initialTokens.consume(token);
          }),
        );
        expect(results.filter(Boolean)).toHaveLength(uses);
        expect(await usesLeft(record.id)).toBe(0);
        expect(await t.initialTokens.consume(token)).toBe(false);
        expect(await usesLeft(record.id)).toBe(0); // never below zero
      },
    );

    it('an unlimited token is used by every contender and stays unlimited', async () => {
      const { token, record } = await t.initialTokens.create();
      const go = barrier(6);
      const results = await Promise.all(
        Array.from({ length: 6 }, async () => (await go(), t.initialTokens.consume(token))),
      );
      expect(results).toEqual(Array(6).fill(true));
      expect(await usesLeft(record.id)).toBeNull();
    });
  });

  describe('over HTTP', () => {
    /**
     * POST /register whose body is held back until `release` resolves: the server has checked the
     * token (before reading the body) by then, so every contender passes the early check.
     */
    function heldRegistration(token: string, release: Promise<void>): Promise<JsonResponse> {
      const body = JSON.stringify({ client_name: 'contender', scope: 'statements:read' });
      const url = new URL(`${t.baseUrl}/register`);
      return new Promise((resolve, reject) => {
        const req = httpRequest(
          {
            host: url.hostname,
            port: url.port,
            path: url.pathname,
            method: 'POST',
            headers: {
              authorization: `Bearer ${token}`,
              'content-type': 'application/json',
              'content-length': Buffer.byteLength(body),
            },
          },
          (res) => {
            let text = '';
            res.setEncoding('utf8');
            res.on('data', (d) => (text += d));
            res.on('end', () => {
              const headers = new Headers();
              for (const [k, v] of Object.entries(res.headers)) if (typeof v === 'string') headers.set(k, v);
              let json: any;
              try {
                json = JSON.parse(text);
              } catch {
                json = undefined;
              }
              resolve({ status: res.statusCode!, headers, json, text });
            });
          },
        );
        req.on('error', reject);
        req.flushHeaders();
        req.write(body.slice(0, 5));
        void release.then(() => req.end(body.slice(5)));
      });
    }

    it('8 registrations with a one-use token, all past the token check before any body arrives → exactly one 201', async () => {
      const contenders = 8;
      const { token, record } = await t.initialTokens.create({ uses: 1 });
      // Pass-through spy: counts the server's early token checks (all see the token usable).
      let checked = 0;
      let allChecked!: () => void;
      const released = new Promise<void>((resolve) => (allChecked = resolve));
      const findUsable = t.initialTokens.findUsable.bind(t.initialTokens);
      const spy = vi.spyOn(t.initialTokens, 'findUsable').mockImplementation(async (presented: string) => {
        const found = await findUsable(presented);
        if (presented === token) {
          expect(found).not.toBeNull();
          if (++checked === contenders) allChecked();
        }
        return found;
      });
      const mark = t.audit.events.length;
      let results: JsonResponse[];
      try {
        results = await Promise.all(Array.from({ length: contenders }, () => heldRegistration(token, released)));
      } finally {
        spy.mockRestore();
      }
      expect(checked).toBe(contenders);
      const created = results.filter((r) => r.status === 201);
      expect(created, results.map((r) => r.status).join(' ')).toHaveLength(1);
      for (const r of results.filter((x) => x.status !== 201)) expectRegistrationError(r, 401, 'invalid_token');
      expect(await usesLeft(record.id)).toBe(0);
      expect(t.audit.events.slice(mark).filter((e) => e.type === 'client.registered')).toHaveLength(1);
    });
  });
});
