import { execFile, execFileSync } from 'node:child_process';
import { chownSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { findPostgresBin } from './postgres-bin.js';
import { freePort } from './test-app.js';

export { findPostgresBin };

/**
 * A throw-away PostgreSQL cluster of its own (initdb into a temp dir, trust auth, user `postgres`),
 * for tests that stop and restart the database. The shared server on 5432 is never touched.
 */
export interface PrivatePostgres {
  port: number;
  dir: string;
  /** postgres://postgres@127.0.0.1:port/<db> */
  url: string;
  start(): Promise<void>;
  /** `pg_ctl stop -m <mode>` (default immediate: no shutdown checkpoint, connections cut). */
  stop(mode?: 'immediate' | 'fast' | 'smart'): Promise<void>;
  /** A direct connection to the database (not through the app under test). */
  connect(): Promise<pg.Client>;
  /** Stops the cluster and removes its directory. */
  destroy(): Promise<void>;
}

/** initdb refuses to run as root: run the server binaries as the `postgres` OS user then. */
function runAs(): { uid: number; gid: number } | undefined {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return undefined;
  const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
  const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
  return { uid, gid };
}

function run(
  bin: string,
  args: string[],
  user: { uid: number; gid: number } | undefined,
  timeout = 30_000,
): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      bin,
      args,
      { timeout, env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LC_ALL: 'C', LANG: 'C', TZ: 'UTC' }, ...user },
      (error, stdout, stderr) => {
        if (error) reject(new Error(`${bin} ${args.join(' ')} failed: ${error.message}\n${stdout}\n${stderr}`));
        else resolve(stdout);
      },
    );
  });
}

/**
 * initdb + start + CREATE DATABASE. fsync is off (the data is thrown away, and an immediate stop is
 * not an OS crash: written WAL survives it); synchronous_commit stays on, so a commit that was
 * acknowledged survives `stop -m immediate`.
 */
export async function startPrivatePostgres(opts: { database?: string } = {}): Promise<PrivatePostgres> {
  const bin = findPostgresBin();
  if (!bin) throw new Error('no PostgreSQL server binaries (initdb, pg_ctl) under /usr/lib/postgresql or on PATH');
  const user = runAs();
  const dir = mkdtempSync(join(tmpdir(), 'clavis-pg-'));
  if (user) chownSync(dir, user.uid, user.gid);
  const data = join(dir, 'data');
  const port = await freePort();
  const database = opts.database ?? 'clavis';
  await run(
    join(bin, 'initdb'),
    ['-D', data, '-A', 'trust', '-U', 'postgres', '-E', 'UTF8', '--no-sync', '--no-instructions'],
    user,
    60_000,
  );
  const serverOptions = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off -c max_connections=50`;
  const pgCtl = (...args: string[]) => run(join(bin, 'pg_ctl'), ['-D', data, ...args], user);
  const state: PrivatePostgres = {
    port,
    dir,
    url: `postgres://postgres@127.0.0.1:${port}/${database}`,
    start: async () => {
      await pgCtl('-o', serverOptions, '-l', join(dir, 'server.log'), '-w', '-t', '30', 'start');
    },
    stop: async (mode = 'immediate') => {
      await pgCtl('-m', mode, '-w', '-t', '30', 'stop');
    },
    connect: async () => {
      const client = new pg.Client({ connectionString: state.url, connectionTimeoutMillis: 5_000 });
      client.on('error', () => undefined);
      await client.connect();
      return client;
    },
    destroy: async () => {
      await pgCtl('-m', 'immediate', '-w', 'stop').catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
  await state.start();
  const admin = new pg.Client({ connectionString: `postgres://postgres@127.0.0.1:${port}/postgres` });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${database}`);
  } finally {
    await admin.end();
  }
  return state;
}
