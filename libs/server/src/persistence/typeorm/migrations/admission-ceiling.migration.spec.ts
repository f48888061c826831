import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClavisInitial1764200000000 } from './1764200000000-clavis-initial.js';
import { ClavisAdmissionCeiling1764300000010 } from './1764300000010-clavis-admission-ceiling.js';

/**
 * Upgrading a database that already holds clients: each gets the ceiling of what it holds, so
 * none can widen itself after the upgrade; initial access tokens get no policy. On SQLite, or on
 * PostgreSQL (in a schema of its own) when DATABASE_URL is set.
 */
describe(`migration ClavisAdmissionCeiling (${process.env.DATABASE_URL ? 'PostgreSQL' : 'SQLite'})`, () => {
  let ds: DataSource;
  let dir: string | undefined;
  const schema = `ceiling_spec_${process.pid}`;

  beforeAll(async () => {
    if (process.env.DATABASE_URL) {
      const admin = await new DataSource({
        type: 'postgres',
        url: process.env.DATABASE_URL,
      }).initialize();
      await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE; CREATE SCHEMA ${schema}`);
      await admin.destroy();
      ds = await new DataSource({
        type: 'postgres',
        url: process.env.DATABASE_URL,
        schema,
        extra: { options: `-c search_path=${schema}` },
      }).initialize();
    } else {
      dir = mkdtempSync(join(tmpdir(), 'clavis-migration-'));
      ds = await new DataSource({
        type: 'better-sqlite3',
        database: join(dir, 'db.sqlite'),
      }).initialize();
    }
  });
  afterAll(async () => {
    if (process.env.DATABASE_URL) await ds?.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await ds?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const run = async (m: { up(q: unknown): Promise<void>; down(q: unknown): Promise<void> }, dir: 'up' | 'down') => {
    const q = ds.createQueryRunner();
    try {
      await m[dir](q);
    } finally {
      await q.release();
    }
  };

  it('existing clients get their current scope and resources as ceiling, no method ceiling; tokens no policy; down and up again', async () => {
    await run(new ClavisInitial1764200000000(), 'up');
    await ds.query(
      `INSERT INTO clavis_client (client_id, token_endpoint_auth_method, grant_types, scope, resources, contacts, client_id_issued_at, updated_at, version)
       VALUES ('c1', 'client_secret_basic', '["client_credentials"]', 'statements:read', '["https://a.example/"]', '[]', 1, 1, 1)`,
    );
    await ds.query(`INSERT INTO clavis_initial_access_token (id, token_hash, created_at) VALUES ('t1', 'h1', 1)`);
    const ceiling = new ClavisAdmissionCeiling1764300000010();
    await run(ceiling, 'up');
    expect(
      await ds.query(`SELECT max_scope, max_resources, allowed_methods FROM clavis_client WHERE client_id = 'c1'`),
    ).toEqual([
      {
        max_scope: 'statements:read',
        max_resources: '["https://a.example/"]',
        allowed_methods: null,
      },
    ]);
    expect(
      await ds.query(
        `SELECT allowed_scope, allowed_resources, allowed_methods FROM clavis_initial_access_token WHERE id = 't1'`,
      ),
    ).toEqual([{ allowed_scope: null, allowed_resources: null, allowed_methods: null }]);
    await run(ceiling, 'down');
    await expect(ds.query(`SELECT max_scope FROM clavis_client`)).rejects.toThrow();
    expect(await ds.query(`SELECT client_id, scope FROM clavis_client`)).toEqual([
      { client_id: 'c1', scope: 'statements:read' },
    ]);
    await run(ceiling, 'up');
    expect(await ds.query(`SELECT max_scope FROM clavis_client WHERE client_id = 'c1'`)).toEqual([
      { max_scope: 'statements:read' },
    ]);
  });
});
