import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { hotPathSql } from './hot-path-sql.js';
import { TypeOrmConnection } from './typeorm-connection.js';
import { needs } from '../../../../../test/support/requirements.js';

const INSERT = 'INSERT INTO t (k, v) VALUES (?, ?) ON CONFLICT DO NOTHING';

/** The SQLite side of HotPathSql on a real file, with a second connection as "another process". */
describe('hotPathSql on SQLite', () => {
  let dir: string;
  let ds: DataSource;
  let other: DataSource;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'clavis-fastsql-'));
    const database = join(dir, 'db.sqlite');
    ds = await new DataSource({
      type: 'better-sqlite3',
      database,
      enableWAL: true,
    }).initialize();
    await ds.query('CREATE TABLE t (k TEXT PRIMARY KEY, v INTEGER NOT NULL)');
    other = await new DataSource({
      type: 'better-sqlite3',
      database,
      enableWAL: true,
    }).initialize();
  });
  afterEach(async () => {
    await ds.destroy();
    await other.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it('TypeOrmConnection queues the transactions of its stores on the one SQLite connection (no nesting)', async () => {
    const connection = new TypeOrmConnection(ds);
    const write = (k: string) =>
      connection.transaction(async (m) => {
        await m.query('INSERT INTO t (k, v) VALUES (?, 1)', [k]);
        await new Promise((r) => setImmediate(r)); // another transaction would start here without the queue
        await m.query('UPDATE t SET v = v + 1 WHERE k = ?', [k]);
      });
    await Promise.all([write('a'), write('b'), write('c')]);
    expect(await ds.query('SELECT k, v FROM t ORDER BY k')).toEqual([
      { k: 'a', v: 2 },
      { k: 'b', v: 2 },
      { k: 'c', v: 2 },
    ]);
  });

  it('grouped writes of one turn: each caller gets its own row count, duplicates included, all committed', async () => {
    const sql = hotPathSql(ds);
    const keys = Array.from({ length: 60 }, (_, i) => `k${i % 40}`); // 20 duplicates
    const counts = await Promise.all(keys.map((k, i) => sql.runGrouped(INSERT, [k, i])));
    expect(counts.filter((c) => c === 1)).toHaveLength(40);
    expect(counts.slice(40)).toEqual(Array(20).fill(0)); // the second of each pair lost
    // Visible to another connection: committed, not merely pending.
    expect(await other.query('SELECT COUNT(*) AS n FROM t')).toEqual([{ n: 40 }]);
  });

  it('a failing statement rejects only its own caller; the others commit', async () => {
    const sql = hotPathSql(ds);
    const results = await Promise.allSettled([
      sql.runGrouped(INSERT, ['a', 1]),
      sql.runGrouped(INSERT, ['b', null]),
      sql.runGrouped(INSERT, ['c', 3]),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((results[1] as PromiseRejectedResult).reason.message).toMatch(/NOT NULL/);
    expect(await other.query('SELECT k FROM t ORDER BY k')).toEqual([{ k: 'a' }, { k: 'c' }]);
  });

  it('when the database is locked by another connection, every grouped write is rejected and nothing is written', async () => {
    const sql = hotPathSql(ds);
    const raw = (
      ds.driver as unknown as {
        databaseConnection: { pragma(s: string): unknown };
      }
    ).databaseConnection;
    raw.pragma('busy_timeout = 0');
    const lockHolder = other.createQueryRunner();
    await lockHolder.query('BEGIN IMMEDIATE');
    try {
      const results = await Promise.allSettled([sql.runGrouped(INSERT, ['x', 1]), sql.runGrouped(INSERT, ['y', 2])]);
      expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    } finally {
      await lockHolder.query('ROLLBACK');
      await lockHolder.release();
    }
    expect(await other.query('SELECT COUNT(*) AS n FROM t')).toEqual([{ n: 0 }]);
  });

  it('dataVersion changes when another connection commits, not when this one does', async () => {
    const sql = hotPathSql(ds);
    const v0 = sql.dataVersion();
    expect(typeof v0).toBe('number');
    await sql.run(INSERT, ['own', 1]);
    expect(sql.dataVersion()).toBe(v0);
    await other.query("INSERT INTO t (k, v) VALUES ('theirs', 2)");
    expect(sql.dataVersion()).not.toBe(v0);
  });
});

/** The PostgreSQL side of insertIfAbsent: multi-row statements, two DataSources as two instances. */
describe('hotPathSql.insertIfAbsent on PostgreSQL', needs('postgres'), () => {
  let ds: DataSource;
  let other: DataSource;
  const table = `t_insert_${process.pid}`;
  const target = { table, columns: ['k', 'j', 'v'], keyLength: 2 };

  beforeEach(async () => {
    const url = process.env.DATABASE_URL;
    ds = await new DataSource({ type: 'postgres', url }).initialize();
    other = await new DataSource({ type: 'postgres', url }).initialize();
    await ds.query(`DROP TABLE IF EXISTS ${table}`);
    await ds.query(`CREATE TABLE ${table} (k text, j text, v bigint NOT NULL, PRIMARY KEY (k, j))`);
  });
  afterEach(async () => {
    await ds.query(`DROP TABLE IF EXISTS ${table}`);
    await ds.destroy();
    await other.destroy();
  });

  it('one turn = one statement; each caller learns whether its own row was new, repeats in the batch included', async () => {
    const statements: string[] = [];
    const query = ds.query.bind(ds);
    ds.query = ((sql: string, params?: unknown[]) => {
      statements.push(sql);
      return query(sql, params);
    }) as typeof ds.query;
    const sql = hotPathSql(ds);
    await sql.insertIfAbsent(target, ['c', 'pre', 1]);
    statements.length = 0;
    const keys = Array.from({ length: 50 }, (_, i) => `j${i % 30}`).concat('pre'); // 20 repeats + one already there
    const results = await Promise.all(keys.map((j) => sql.insertIfAbsent(target, ['c', j, 1])));
    expect(statements).toHaveLength(1);
    expect(statements[0]).toMatch(/ON CONFLICT DO NOTHING RETURNING k, j$/);
    expect(results.slice(0, 30)).toEqual(Array(30).fill(true));
    expect(results.slice(30)).toEqual(Array(21).fill(false));
    expect(Number((await other.query(`SELECT count(*) AS n FROM ${table}`))[0].n)).toBe(31);
  });

  it('two instances inserting the same keys at once, in opposite orders: each key new exactly once, no deadlock', async () => {
    const mine = hotPathSql(ds);
    const theirs = hotPathSql(other);
    const keys = Array.from({ length: 400 }, (_, i) => `j${i}`);
    const results = await Promise.all([
      ...keys.map((j) => mine.insertIfAbsent(target, ['c', j, 1])),
      ...[...keys].reverse().map((j) => theirs.insertIfAbsent(target, ['c', j, 1])),
    ]);
    expect(results.filter(Boolean)).toHaveLength(400);
    const won = keys.map((_, i) => Number(results[i]) + Number(results[2 * keys.length - 1 - i]));
    expect(won.every((n) => n === 1)).toBe(true);
  });

  it('a failed statement rejects every caller of its batch, repeats included', async () => {
    const sql = hotPathSql(ds);
    const results = await Promise.allSettled([
      sql.insertIfAbsent(target, ['c', 'x', 1]),
      sql.insertIfAbsent(target, ['c', 'x', 1]),
      sql.insertIfAbsent(target, ['c', 'y', 'not a number']),
    ]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected', 'rejected']);
    expect(Number((await other.query(`SELECT count(*) AS n FROM ${table}`))[0].n)).toBe(0);
  });
});
