import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { DataSource } from 'typeorm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SqliteWalCheckpointer } from './sqlite-wal-checkpointer.js';

type Pragma = { pragma(s: string, o?: { simple: boolean }): unknown };
const raw = (ds: DataSource) => (ds.driver as unknown as { databaseConnection: Pragma }).databaseConnection;

/** Real SQLite files, a real worker thread. */
describe('SqliteWalCheckpointer', () => {
  let dir: string;
  let file: string;
  let ds: DataSource;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'clavis-wal-'));
    file = join(dir, 'db.sqlite');
    ds = await new DataSource({
      type: 'better-sqlite3',
      database: file,
      enableWAL: true,
    }).initialize();
    await ds.query('CREATE TABLE t (k TEXT PRIMARY KEY, v TEXT NOT NULL)');
    raw(ds).pragma('wal_checkpoint(TRUNCATE)'); // start from an empty WAL
  });
  afterEach(async () => {
    if (ds.isInitialized) await ds.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  const write = (n: number, tag: string) => {
    const db = raw(ds) as Pragma & {
      prepare(s: string): { run(...a: unknown[]): unknown };
      transaction(f: () => void): () => void;
    };
    const ins = db.prepare('INSERT INTO t (k, v) VALUES (?, ?)');
    db.transaction(() => {
      for (let i = 0; i < n; i++) ins.run(`${tag}-${i}`, 'x'.repeat(200));
    })();
  };

  it('turns automatic checkpoints off and checkpoints from the worker: the database file grows without a checkpoint on this connection', async () => {
    const c = new SqliteWalCheckpointer(ds, { intervalMs: 100 });
    expect(c.start()).toBe(true);
    expect(raw(ds).pragma('wal_autocheckpoint', { simple: true })).toBe(0);
    const before = statSync(file).size;
    write(5000, 'a'); // ~1 MB: only in the WAL until someone checkpoints
    expect(statSync(file).size).toBe(before);
    let after = before;
    for (let i = 0; i < 50 && after === before; i++) {
      await sleep(100);
      after = statSync(file).size;
    }
    expect(after).toBeGreaterThan(before + 500_000);
    await c.stop();
    expect(c.running).toBe(false);
    expect(raw(ds).pragma('wal_autocheckpoint', { simple: true })).toBe(1000);
  });

  it('without it, the same writes stay in the WAL (the control for the test above)', async () => {
    raw(ds).pragma('wal_autocheckpoint = 0');
    const before = statSync(file).size;
    write(5000, 'b');
    await sleep(500);
    expect(statSync(file).size).toBe(before);
  });

  it('a failed worker gives the connection its automatic checkpoints back and reports it', async () => {
    const errors: Error[] = [];
    const c = new SqliteWalCheckpointer(ds, {
      intervalMs: 100,
      onError: (e) => errors.push(e),
    });
    expect(c.start()).toBe(true);
    await (c as unknown as { worker: { terminate(): Promise<number> } }).worker.terminate();
    for (let i = 0; i < 20 && errors.length === 0; i++) await sleep(50);
    expect(errors[0]?.message).toMatch(/exited/);
    expect(c.running).toBe(false);
    expect(raw(ds).pragma('wal_autocheckpoint', { simple: true })).toBe(1000);
  });

  it('does nothing for an in-memory database, or when the journal is not WAL', async () => {
    const memory = await new DataSource({
      type: 'better-sqlite3',
      database: ':memory:',
    }).initialize();
    const rollback = await new DataSource({
      type: 'better-sqlite3',
      database: join(dir, 'rollback.sqlite'),
      enableWAL: false,
    }).initialize();
    try {
      expect(new SqliteWalCheckpointer(memory).start()).toBe(false);
      expect(new SqliteWalCheckpointer(rollback).start()).toBe(false);
      expect(raw(rollback).pragma('wal_autocheckpoint', { simple: true })).toBe(1000);
    } finally {
      await memory.destroy();
      await rollback.destroy();
    }
  });
});
