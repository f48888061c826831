import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hotPathSql } from './hot-path-sql.js';
import { PURGE_CHUNK, purgeExpiredInChunks } from './purge.js';

/** On SQLite, or on PostgreSQL when DATABASE_URL is set (as in CI's second run). */
describe(`purgeExpiredInChunks (${process.env.DATABASE_URL ? 'PostgreSQL' : 'SQLite'})`, () => {
  let ds: DataSource;
  let dir: string | undefined;
  const table = `purge_spec_${process.pid}`;

  beforeAll(async () => {
    if (process.env.DATABASE_URL)
      ds = await new DataSource({
        type: 'postgres',
        url: process.env.DATABASE_URL,
      }).initialize();
    else {
      dir = mkdtempSync(join(tmpdir(), 'clavis-purge-'));
      ds = await new DataSource({
        type: 'better-sqlite3',
        database: join(dir, 'db.sqlite'),
        enableWAL: true,
      }).initialize();
    }
    await ds.query(
      `CREATE TABLE ${table} (client_id VARCHAR(64) NOT NULL, jti_hash VARCHAR(64) NOT NULL, expires_at BIGINT NOT NULL, PRIMARY KEY (client_id, jti_hash))`,
    );
  });
  afterAll(async () => {
    await ds.query(`DROP TABLE IF EXISTS ${table}`);
    await ds.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('deletes every expired row over several statements, keeps the rest, and lets other work run in between', async () => {
    const expired = PURGE_CHUNK * 2 + 37;
    const values = (from: number, n: number, expiresAt: number) =>
      Array.from({ length: n }, (_, i) => `('c${(from + i) % 3}', 'j${from + i}', ${expiresAt})`).join(', ');
    await ds.query(`INSERT INTO ${table} (client_id, jti_hash, expires_at) VALUES ${values(0, expired, 999)}`);
    await ds.query(
      `INSERT INTO ${table} (client_id, jti_hash, expires_at) VALUES ${values(expired, 25, 1000)}, ${values(expired + 25, 5, 5000)}`,
    );

    let interleaved = 0;
    const ticker = setInterval(() => interleaved++, 0);
    const deleted = await purgeExpiredInChunks(hotPathSql(ds), table, ['client_id', 'jti_hash'], 1000);
    clearInterval(ticker);

    expect(deleted).toBe(expired); // expires_at < now: 1000 itself is kept
    const left = await ds.query(
      `SELECT expires_at, COUNT(*) AS n FROM ${table} GROUP BY expires_at ORDER BY expires_at`,
    );
    expect(
      left.map((r: { expires_at: string | number; n: string | number }) => [Number(r.expires_at), Number(r.n)]),
    ).toEqual([
      [1000, 25],
      [5000, 5],
    ]);
    expect(interleaved).toBeGreaterThan(0);
    expect(await purgeExpiredInChunks(hotPathSql(ds), table, ['client_id', 'jti_hash'], 1000)).toBe(0);
  });
});
