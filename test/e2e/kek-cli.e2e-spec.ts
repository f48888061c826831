import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildServer, kekId, newKek, ownDatabase, runServerProcess, type OwnDatabase } from '../support/kek.js';
import { freePort } from '../support/test-app.js';

/**
 * The real process (`node dist/apps/auth-server/main.js`, as `npm start` / `npm run cli` run it):
 * a key-encryption key that does not match the database is one line on stderr and a non-zero exit,
 * at boot and in the CLI — no stack trace; `kek status` / `kek re-encrypt` carry a rotation through.
 */
// Each run starts a Node process that loads the whole server: seconds each on a busy machine.
const SLOW = 180_000;

describe(`key-encryption key in the real process (${process.env.DATABASE_URL ? 'PostgreSQL' : 'SQLite'})`, () => {
  let db: OwnDatabase;
  const [A, B] = [newKek(), newKek()];
  const [idA, idB] = [kekId(A), kekId(B)];
  const env = (extra: Record<string, string>) => ({
    ...db.env,
    ...(process.env.REDIS_URL ? { REDIS_URL: process.env.REDIS_URL } : {}),
    ...extra,
  });
  const expectOneLine = (stderr: string) => {
    expect(stderr.endsWith('\n')).toBe(true);
    expect(stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(stderr).not.toMatch(/^\s+at /m);
    for (const k of [A, B]) expect(stderr).not.toContain(k);
  };

  beforeAll(async () => {
    buildServer();
    db = await ownDatabase();
    // Data under A, written by the real CLI: the first signing key and a client_secret_jwt client.
    const created = await runServerProcess(
      ['clients', 'create', '--method', 'client_secret_jwt', '--scope', 'statements:read'],
      env({ CLAVIS_KEK: A }),
    );
    expect(created.code, created.stderr).toBe(0);
  }, 240_000);
  afterAll(async () => {
    await db?.drop();
  });

  it(
    'CLI with another CLAVIS_KEK: exit 1, one line on stderr naming the cause, both key ids and the ways out',
    async () => {
      const r = await runServerProcess(['clients', 'list'], env({ CLAVIS_KEK: B }));
      expect(r.code).toBe(1);
      expect(r.stdout).toBe('');
      expectOneLine(r.stderr);
      expect(r.stderr).toMatch(
        /^error: the database's data was encrypted with another key-encryption key: (signing_key|client_secret):\S+ needs key id [0-9a-f]{16}, but CLAVIS_KEK holds key id\(s\) [0-9a-f]{16} \(current\)\. Ways out: set CLAVIS_KEK to the key with id [0-9a-f]{16}; or, when rotating, keep it as a previous key after the new one \(CLAVIS_KEK=<new key>,<old key>\); or, for a development database only, start over/,
      );
      expect(r.stderr).toContain(`needs key id ${idA}`);
      expect(r.stderr).toContain(`holds key id(s) ${idB} (current)`);
    },
    SLOW,
  );

  it(
    'server boot with another CLAVIS_KEK: exit 1, one line on stderr ("Clavis cannot start: …"), no stack trace',
    async () => {
      const r = await runServerProcess([], env({ CLAVIS_KEK: B, PORT: String(await freePort()), HOST: '127.0.0.1' }));
      expect(r.code).toBe(1);
      expectOneLine(r.stderr);
      expect(r.stderr).toMatch(
        new RegExp(
          `^Clavis cannot start: the database's data was encrypted with another key-encryption key: \\S+ needs key id ${idA}, but CLAVIS_KEK holds key id\\(s\\) ${idB} \\(current\\)\\. Ways out: `,
        ),
      );
      expect(r.stdout).not.toContain('Clavis listening');
    },
    SLOW,
  );

  it(
    'no CLAVIS_KEK and a re-generated development key (data/ removed, database kept): the line says so and names data/dev-kek',
    async () => {
      const fresh = await ownDatabase();
      try {
        const run = (dataDir: string, args: string[]) => runServerProcess(args, { ...fresh.env, DATA_DIR: dataDir });
        const first = fresh.env.DATA_DIR!;
        expect((await run(first, ['keys', 'list'])).code).toBe(0); // generates first/dev-kek, and a signing key under it
        const second = `${first}/removed-and-recreated`; // a new DATA_DIR: a new development key, the same database
        const r = await run(second, ['keys', 'list']);
        expect(r.code).toBe(1);
        expect(
          r.stderr
            .trimEnd()
            .split('\n')
            .filter((l) => !/generated a development key-encryption key/.test(l)),
        ).toHaveLength(1);
        expect(r.stderr).toContain(`CLAVIS_KEK is not set and the development key in ${second}/dev-kek has key id`);
        expect(r.stderr).toContain(`(or restore ${second}/dev-kek)`);
        expect(r.stderr).not.toMatch(/^\s+at /m);
      } finally {
        await fresh.drop();
      }
    },
    SLOW,
  );

  it(
    'rotation through the CLI: "B,A" → kek status (pending under A) → kek re-encrypt → "B" alone: nothing pending, previous key removable',
    async () => {
      const before = await runServerProcess(['kek', 'status'], env({ CLAVIS_KEK: `${B},${A}` }));
      expect(before.code, before.stderr).toBe(0);
      const status = JSON.parse(before.stdout.slice(before.stdout.indexOf('{')));
      expect(status).toMatchObject({
        current_key_id: idB,
        keys: [
          { key_id: idB, role: 'current', values: 0 },
          { key_id: idA, role: 'previous', values: 2 },
        ],
        pending: 2,
        unknown: [],
        previous_keys_removable: false,
      });
      // The boot warns about what is still under a previous key.
      expect(before.stdout + before.stderr).toMatch(
        new RegExp(`2 stored value\\(s\\) are not under the current key-encryption key ${idB}: ${idA} \\(2\\)`),
      );

      const re = await runServerProcess(['kek', 're-encrypt'], env({ CLAVIS_KEK: `${B},${A}` }));
      expect(re.code, re.stderr).toBe(0);
      expect(JSON.parse(re.stdout.slice(re.stdout.indexOf('{')))).toMatchObject({
        re_encrypted: 2,
        changed_meanwhile: 0,
        unreadable: 0,
        status: { pending: 0, previous_keys_removable: true },
      });

      const after = await runServerProcess(['kek', 'status'], env({ CLAVIS_KEK: B }));
      expect(after.code, after.stderr).toBe(0);
      expect(after.stderr).toBe('');
      expect(JSON.parse(after.stdout.slice(after.stdout.indexOf('{')))).toEqual({
        current_key_id: idB,
        keys: [{ key_id: idB, role: 'current', values: 2 }],
        without_key_id: 0,
        pending: 0,
        unknown: [],
        total: 2,
        previous_keys_removable: true,
      });
      expect((await runServerProcess(['clients', 'list'], env({ CLAVIS_KEK: B }))).code).toBe(0);
    },
    SLOW,
  );
});
