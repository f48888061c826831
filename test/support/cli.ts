import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { vi } from 'vitest';
import { runClavisCli } from '@clavis/server';
import { AppModule } from '../../apps/auth-server/src/app.module.js';
import { TEST_KEK } from './test-app.js';

export interface CliResult {
  code: number;
  /** Everything written to stdout. */
  stdout: string;
  stderr: string;
  /** The JSON document the command printed (undefined when none). */
  json: any;
}

/**
 * Runs the demo's CLI (`runClavisCli` around AppModule, as apps/auth-server/src/main.ts does) in-process with stdout and stderr captured. The CLI prints its result as one
 * pretty-printed JSON document per command; log lines (if any) are skipped when picking it out.
 */
export async function cli(...argv: string[]): Promise<CliResult> {
  const out: string[] = [];
  const err: string[] = [];
  const capture =
    (sink: string[]) =>
    (chunk: unknown, ...rest: unknown[]) => {
      sink.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8'));
      const cb = rest.find((r) => typeof r === 'function') as (() => void) | undefined;
      cb?.();
      return true;
    };
  const stdout = vi.spyOn(process.stdout, 'write').mockImplementation(capture(out) as typeof process.stdout.write);
  const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(capture(err) as typeof process.stderr.write);
  let code: number;
  try {
    code = await runClavisCli(() => AppModule.forRoot({ checkpointInWorker: false }), argv);
  } finally {
    stdout.mockRestore();
    stderr.mockRestore();
  }
  let json: any;
  for (const chunk of out) {
    const trimmed = chunk.trim();
    if (!/^[[{]/.test(trimmed)) continue;
    try {
      json = JSON.parse(trimmed);
    } catch {
      /* a log line that happens to start with a bracket */
    }
  }
  return { code, stdout: out.join(''), stderr: err.join(''), json };
}

const CLI_ENV = ['DATA_DIR', 'CLAVIS_KEK', 'SQLITE_PATH'] as const;

/**
 * Points the CLI (which reads `process.env`) at a fresh temp SQLite file; `restore()` puts the
 * previous values back. With DATABASE_URL set, the CLI (like the server) uses PostgreSQL instead.
 */
export function useCliEnvironment(): { dir: string; sqlitePath: string; restore(): void } {
  const saved = Object.fromEntries(CLI_ENV.map((k) => [k, process.env[k]]));
  const dir = mkdtempSync(join(tmpdir(), 'clavis-cli-'));
  const sqlitePath = join(dir, 'clavis.sqlite');
  process.env.DATA_DIR = dir;
  process.env.CLAVIS_KEK = TEST_KEK;
  process.env.SQLITE_PATH = sqlitePath;
  return {
    dir,
    sqlitePath,
    restore() {
      for (const k of CLI_ENV) {
        if (saved[k] === undefined) delete process.env[k];
        else process.env[k] = saved[k];
      }
    },
  };
}
