import { execFile, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { keyEncryptionKeyId } from '@clavis/server/testing';
import { assertion, JWT_BEARER } from './keys.js';
import { basic, postForm } from './http.js';
import type { TestApp } from './test-app.js';

/** A fresh key-encryption key (32 random bytes, base64url). */
export function newKek(): string {
  return randomBytes(32).toString('base64url');
}

/** The public id of a key-encryption key, as ciphertexts and messages name it. */
export function kekId(kek: string): string {
  return keyEncryptionKeyId(Buffer.from(kek, 'base64url'));
}

/** A database of the test's own, kept across app restarts: env for createTestApp / the CLI. */
export interface OwnDatabase {
  kind: 'sqlite' | 'postgres';
  env: Record<string, string>;
  /** Runs SQL directly (not through the app). */
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
  drop(): Promise<void>;
}

/**
 * SQLite: a temp file. PostgreSQL (DATABASE_URL set): a schema of its own in that database (its
 * `search_path` set in the URL), so that data encrypted with the test's keys never meets the other
 * test files' data, which is under TEST_KEK. Dropped at the end.
 */
export async function ownDatabase(): Promise<OwnDatabase> {
  const url = process.env.DATABASE_URL;
  const dir = mkdtempSync(join(tmpdir(), 'clavis-kek-'));
  if (!url) {
    const path = join(dir, 'clavis.sqlite');
    const { default: Database } = await import('better-sqlite3');
    return {
      kind: 'sqlite',
      env: { SQLITE_PATH: path, DATA_DIR: dir },
      async query<T>(sql: string, params: unknown[] = []) {
        const db = new Database(path);
        try {
          const stmt = db.prepare(sql.replace(/\$\d+/g, '?'));
          return (stmt.reader ? stmt.all(...params) : (stmt.run(...params), [])) as T[];
        } finally {
          db.close();
        }
      },
      async drop() {},
    };
  }
  const schema = `kek_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query(`CREATE SCHEMA ${schema}`);
  await admin.query(`SET search_path TO ${schema}`);
  const own = `${url}${url.includes('?') ? '&' : '?'}options=${encodeURIComponent(`-c search_path=${schema}`)}`;
  return {
    kind: 'postgres',
    env: { DATABASE_URL: own, DATA_DIR: dir },
    async query<T>(sql: string, params: unknown[] = []) {
      return (await admin.query(sql, params)).rows as T[];
    },
    async drop() {
      await admin.query(`DROP SCHEMA ${schema} CASCADE`);
      await admin.end();
    },
  };
}

/** A `client_secret_jwt` token request (HS256 assertion made with the secret). */
export async function hmacToken(t: TestApp, clientId: string, secret: string, issuer = t.issuer) {
  const jwt = await assertion(clientId, { privateKey: new TextEncoder().encode(secret), alg: 'HS256' }, issuer, {
    now: t.clock.nowSeconds(),
  });
  return postForm(`${t.baseUrl}/token`, {
    grant_type: 'client_credentials',
    client_assertion_type: JWT_BEARER,
    client_assertion: jwt,
  });
}

/** A `client_secret_basic` token request. */
export function basicToken(t: TestApp, clientId: string, secret: string) {
  return postForm(`${t.baseUrl}/token`, { grant_type: 'client_credentials' }, basic(clientId, secret));
}

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
let built = false;

/** Builds the demo server once per test process (`nest build auth-server`, as `npm run cli` does). */
export function buildServer(): void {
  if (built) return;
  execFileSync(
    process.execPath,
    [join(ROOT, 'node_modules', '@nestjs', 'cli', 'bin', 'nest.js'), 'build', 'auth-server'],
    { cwd: ROOT, stdio: 'ignore', timeout: 180_000 },
  );
  built = true;
}

/**
 * Runs the built server (`node dist/apps/auth-server/main.js [args]`: the CLI with arguments, the
 * server without) as a real process with exactly `env` (plus PATH); resolves when it exits, or kills
 * it after `timeoutMs` (code null then).
 */
export function runServerProcess(
  args: string[],
  env: Record<string, string>,
  timeoutMs = 90_000,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(ROOT, 'dist', 'apps', 'auth-server', 'main.js'), ...args],
      {
        cwd: ROOT,
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env },
        timeout: timeoutMs,
        killSignal: 'SIGKILL',
        maxBuffer: 16 * 1024 * 1024,
      },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : null) : 0;
        resolve({ code: error?.killed ? null : code, stdout: String(stdout), stderr: String(stderr) });
      },
    );
  });
}
