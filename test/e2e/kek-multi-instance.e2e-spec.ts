import { decodeProtectedHeader } from 'jose';
import { afterAll, describe, expect, it } from 'vitest';
import { FixedClock, KeyEncryptionKeyMismatchError, KeyEncryptionService } from '@clavis/server';
import { basicToken, hmacToken, kekId, newKek, ownDatabase, type OwnDatabase } from '../support/kek.js';
import { createLoggedTestApp } from '../support/logged-test-app.js';
import { needs } from '../support/requirements.js';
import { createClient, createTestApp, freePort, type TestApp } from '../support/test-app.js';

/**
 * Two instances sharing PostgreSQL (and Redis when REDIS_URL is set) while the key-encryption key
 * rotates from A to B, as the README's procedure runs it: every instance first learns B ("A,B":
 * B readable, A still writes), then moves to "B,A" (B writes), then the data is re-encrypted, then
 * "B" alone. Both instances serve client_secret_jwt, Basic and tokens throughout; the
 * re-encryption runs twice at once, racing a secret rotation, without losing a value.
 */
describe('two instances during a key-encryption key rotation (PostgreSQL)', needs('postgres'), () => {
  let db: OwnDatabase;
  const apps: TestApp[] = [];
  afterAll(async () => {
    for (const t of apps) await t.close().catch(() => undefined);
    await db?.drop();
  });

  it('A → (A,B + B,A) → re-encrypt while both serve → B: no failed request, no lost value; an instance on A alone is refused with one line', async () => {
    db = await ownDatabase();
    const [A, B] = [newKek(), newKek()];
    const [idA, idB] = [kekId(A), kekId(B)];
    const port1 = await freePort();
    const shared = { ...db.env, ISSUER: `http://127.0.0.1:${port1}` };
    const start = Date.now();
    const boot = async (kek: string, port?: number) => {
      const t = await createTestApp({ port, env: { ...shared, CLAVIS_KEK: kek }, clock: new FixedClock(start) });
      apps.push(t);
      return t;
    };
    const close = async (t: TestApp) => {
      apps.splice(apps.indexOf(t), 1);
      await t.close();
    };

    // The fleet on A.
    let i1 = await boot(A, port1);
    const jwt = await createClient(i1, { tokenEndpointAuthMethod: 'client_secret_jwt' });
    const sec = await createClient(i1, { tokenEndpointAuthMethod: 'client_secret_basic' });
    // More values to re-encrypt, so that the two re-encryptions overlap each other and the load.
    const others = await Promise.all(
      Array.from({ length: 30 }, () => createClient(i1, { tokenEndpointAuthMethod: 'client_secret_jwt' })),
    );
    // Step 1: instance 1 restarts knowing B ("A,B": A still encrypts).
    await close(i1);
    i1 = await boot(`${A},${B}`, port1);
    // Step 2: instance 2 comes up on "B,A" (B encrypts); instance 1 keeps running on "A,B".
    const i2 = await boot(`${B},${A}`);
    const instances = [i1, i2];
    // An instance that skipped step 1 (on A alone while another one writes under B), to show why step 1 exists.
    // (Created last: its captured logger is the process-wide one from here on.)
    const stale = await createLoggedTestApp({ env: { ...shared, CLAVIS_KEK: A }, clock: new FixedClock(start) });
    apps.push(stale);

    // Load on both instances, for every client, until the end of the rotation.
    const callers: { name: string; call: (t: TestApp) => Promise<{ status: number; json: any }> }[] = [
      { name: 'jwt', call: (t) => hmacToken(t, jwt.clientId, jwt.clientSecret, shared.ISSUER) },
      { name: 'basic', call: (t) => basicToken(t, sec.clientId, sec.clientSecret) },
    ];
    const failures: string[] = [];
    let requests = 0;
    let stop = false;
    const load = (async () => {
      while (!stop) {
        for (const t of instances)
          for (const c of callers) {
            const r = await c.call(t);
            requests++;
            if (r.status !== 200) failures.push(`${c.name} at ${t.baseUrl}: ${r.status} ${JSON.stringify(r.json)}`);
            else if (
              (
                await fetch(`${(t === i1 ? i2 : i1).baseUrl}/statements`, {
                  headers: { authorization: `Bearer ${r.json.access_token}` },
                })
              ).status !== 200
            )
              failures.push(`${c.name}: token from ${t.baseUrl} refused by the other instance`);
          }
      }
    })();

    try {
      // New values written by instance 2 are under B, and instance 1 reads them.
      const jwt2 = await createClient(i2, { tokenEndpointAuthMethod: 'client_secret_jwt' });
      callers.push({
        name: 'jwt2 (under B)',
        call: (t) => hmacToken(t, jwt2.clientId, jwt2.clientSecret, shared.ISSUER),
      });
      // The instance on A alone cannot read it: a plain 500 server_error, and one log line naming the key ids (no stack).
      const refused = await hmacToken(stale, jwt2.clientId, jwt2.clientSecret, shared.ISSUER);
      expect(refused.status).toBe(500);
      expect(refused.json).toEqual({ error: 'server_error', error_description: expect.any(String) });
      const line = stale.logs.entries.find(
        (e) => e.level === 'error' && e.message.includes(`client_secret:${jwt2.clientId}:`),
      );
      expect(line?.message).toMatch(
        new RegExp(
          `is under key-encryption key ${idB}, but the configured keyEncryptionKey holds ${idA} \\(current\\)`,
        ),
      );
      expect(line?.message).not.toMatch(/\n\s+at /);
      await close(stale);
      const rotated = await i2.keys.rotate({ force: true });
      i1.keys.invalidate(); // (its view refreshes within 10 s; the fixed clock stands still)
      const fresh = await basicToken(i1, sec.clientId, sec.clientSecret);
      expect(decodeProtectedHeader(fresh.json.access_token).kid).toBe(rotated.activeKid); // instance 1 signs with the key encrypted under B

      const service2 = i2.app.get(KeyEncryptionService);
      const before = await service2.status();
      expect(before.keys).toEqual([
        { keyId: idB, role: 'current', values: 2 },
        { keyId: idA, role: 'previous', values: 32 },
      ]);

      // Re-encryption while both serve: twice at once (instance 2, and a third "B,A" process such as
      // the CLI), racing a secret rotation of the client whose secret is being re-encrypted.
      const i3 = await boot(`${B},${A}`);
      const requestsBefore = requests;
      const [r2, r3, newSecret] = await Promise.all([
        service2.reEncrypt(),
        i3.app.get(KeyEncryptionService).reEncrypt(),
        i2.clients.rotateSecret(jwt.clientId),
      ]);
      callers.push({
        name: 'jwt (new secret)',
        call: (t) => hmacToken(t, jwt.clientId, newSecret.clientSecret!, shared.ISSUER),
      });
      const during = requests - requestsBefore;
      expect(during).toBeGreaterThan(0); // requests were served while the values were rewritten
      expect(r2.unreadable + r3.unreadable).toBe(0);
      // Each value rewritten once in all (the other re-encryption found it changed and left it), give or take the one
      // secret row that the rotation, racing both, may write back as it had read it (delete + insert of the client's secrets).
      expect(Math.abs(r2.reEncrypted + r3.reEncrypted - before.pending)).toBeLessThanOrEqual(1);
      let after = await service2.status();
      if (after.pending) after = (await service2.reEncrypt()).status; // a value the rotation wrote back meanwhile
      expect(after.pending).toBe(0);
      expect(after.keys).toEqual([
        { keyId: idB, role: 'current', values: before.total + 1 },
        { keyId: idA, role: 'previous', values: 0 },
      ]);
      await close(i3);

      // Keep serving a little after the re-encryption, then stop the load.
      const served = requests;
      while (requests < served + 12) await new Promise((r) => setImmediate(r));
    } finally {
      stop = true;
      await load;
    }
    expect(failures).toEqual([]);

    // Step 4: the fleet on B alone; the old secret (in its overlap) and the new one both work.
    for (const t of [i1, i2]) await close(t);
    const b1 = await boot(B, port1);
    const b2 = await boot(B);
    for (const t of [b1, b2]) {
      for (const c of callers) expect((await c.call(t)).status, c.name).toBe(200);
    }
    for (const c of others) expect((await hmacToken(b1, c.clientId, c.clientSecret, shared.ISSUER)).status).toBe(200);
    // An instance still on A alone is refused at boot, with the one-line reason.
    await expect(boot(A)).rejects.toThrow(KeyEncryptionKeyMismatchError);
    await expect(boot(A)).rejects.toThrow(
      new RegExp(`under key-encryption key ${idB}, but the configured keyEncryptionKey holds ${idA} \\(current\\)`),
    );
  }, 120_000);
});
