import { afterEach, describe, expect, it, vi } from 'vitest';
import { needs, requiredOnThisPass } from './requirements.js';
import { checkSkips, type ModuleResult } from './skip-guard.reporter.js';

type Fake = { name: string; state: 'passed' | 'failed' | 'skipped'; tags?: string[]; mode?: string; note?: string };

function file(relativeModuleId: string, tests: Fake[], state = 'passed'): ModuleResult {
  return {
    relativeModuleId,
    state: () => state,
    children: {
      allTests: () =>
        tests.map((t) => ({
          fullName: t.name,
          tags: t.tags ?? [],
          options: { mode: t.mode ?? 'run' },
          result: () => ({ state: t.state, note: t.note }),
        })),
    },
  };
}

const SQLITE_PASS = new Set(['initdb', 'redis-server']);
const POSTGRES_PASS = new Set(['initdb', 'redis-server', 'postgres', 'redis']);
const multiInstance = file('test/e2e/multi-instance.e2e-spec.ts', [
  { name: 'several instances > one token', state: 'skipped', tags: ['needs:postgres'], mode: 'skip' },
  { name: 'several instances > rotation', state: 'skipped', tags: ['needs:postgres'], mode: 'skip' },
]);

describe('skip guard: which skips fail a CI pass', () => {
  it('a suite that needs(...) a requirement the pass does not list may skip; it is listed, not failed', () => {
    const report = checkSkips(
      [multiInstance, file('test/e2e/token.e2e-spec.ts', [{ name: 'a', state: 'passed' }])],
      SQLITE_PASS,
    );
    expect(report.violations).toEqual([]);
    expect(report.declared).toEqual(new Map([['test/e2e/multi-instance.e2e-spec.ts', new Set(['postgres'])]]));
  });

  it('the same suite skipped on a pass that requires it fails, named in one line', () => {
    expect(checkSkips([multiInstance], POSTGRES_PASS).violations).toEqual([
      'test/e2e/multi-instance.e2e-spec.ts: skipped entirely (2 tests)',
    ]);
  });

  it('a suite skipped without needs(...) (describe.skipIf, it.skip) fails even when the pass requires nothing', () => {
    const redisOutage = file('test/e2e/redis-outage.e2e-spec.ts', [
      { name: 'Redis outage > up', state: 'skipped', mode: 'skip' },
      { name: 'Redis outage > down', state: 'skipped', mode: 'skip' },
    ]);
    expect(checkSkips([redisOutage], new Set()).violations).toEqual([
      'test/e2e/redis-outage.e2e-spec.ts: skipped entirely (2 tests)',
    ]);
  });

  it('single skipped tests in a file that ran are named with how they were skipped', () => {
    const mixed = file('test/e2e/rate-limit.e2e-spec.ts', [
      { name: 'runs', state: 'passed' },
      { name: 'redis limiter', state: 'skipped', mode: 'skip' },
      { name: 'later', state: 'skipped', mode: 'todo' },
      { name: 'dynamic', state: 'skipped', note: 'no REDIS_URL' },
    ]);
    expect(checkSkips([mixed], SQLITE_PASS).violations).toEqual([
      'test/e2e/rate-limit.e2e-spec.ts > redis limiter: skipped (skip)',
      'test/e2e/rate-limit.e2e-spec.ts > later: skipped (todo)',
      'test/e2e/rate-limit.e2e-spec.ts > dynamic: skipped (no REDIS_URL)',
    ]);
  });

  it('a file that loaded but reported no tests fails; one that failed to load is left to its own error', () => {
    const report = checkSkips(
      [file('test/e2e/empty.e2e-spec.ts', []), file('test/e2e/broken.e2e-spec.ts', [], 'failed')],
      SQLITE_PASS,
    );
    expect(report.violations).toEqual(['test/e2e/empty.e2e-spec.ts: reported no tests']);
    expect(report.unloaded).toBe(1);
  });
});

describe('needs(...) and CLAVIS_REQUIRE', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
    vi.restoreAllMocks();
  });

  it('reads the pass requirements, and refuses a name it does not know', () => {
    expect(requiredOnThisPass({})).toBeUndefined();
    expect(requiredOnThisPass({ CLAVIS_REQUIRE: '' })).toEqual(new Set());
    expect(requiredOnThisPass({ CLAVIS_REQUIRE: 'initdb, redis-server postgres' })).toEqual(
      new Set(['initdb', 'redis-server', 'postgres']),
    );
    expect(() => requiredOnThisPass({ CLAVIS_REQUIRE: 'initdb redis-srever' })).toThrow(
      /unknown requirement\(s\): redis-srever/,
    );
  });

  it('a missing requirement skips (tagged) locally and on a pass that does not list it, and throws on a pass that does', () => {
    vi.stubEnv('DATABASE_URL', ''); // probed once per file, on the first call
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    vi.stubEnv('CLAVIS_REQUIRE', undefined);
    expect(needs('postgres')).toEqual({ skip: true, tags: ['needs:postgres'] });
    expect(warn).toHaveBeenCalledWith(expect.stringContaining('SKIPPED: missing "postgres"'));
    vi.stubEnv('CLAVIS_REQUIRE', 'initdb redis-server');
    expect(needs('postgres')).toEqual({ skip: true, tags: ['needs:postgres'] });
    vi.stubEnv('CLAVIS_REQUIRE', 'initdb postgres');
    expect(() => needs('postgres')).toThrow(/this CI pass requires "postgres" \(DATABASE_URL: .*\), and it is missing/);
  });

  it('a requirement that is there runs, whatever the pass lists', () => {
    vi.stubEnv('REDIS_URL', 'redis://127.0.0.1:6379/15');
    vi.stubEnv('CLAVIS_REQUIRE', 'redis');
    expect(needs('redis')).toEqual({ skip: false, tags: ['needs:redis'] });
  });
});
