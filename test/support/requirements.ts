import { spawnSync } from 'node:child_process';
import { findPostgresBin } from './postgres-bin.js';

/**
 * Suites that need something outside Node (a binary, a database) declare it here instead of skipping
 * themselves silently (docs/adr/0015-ci-fails-on-skipped-suites.md):
 *
 * ```ts
 * describe('Redis outage …', needs('redis-server'), () => { … });   // or it('…', needs('redis'), …)
 * ```
 *
 * Locally a missing requirement skips the suite with a warning. When `CLAVIS_REQUIRE` lists the
 * requirement (`.ci/run` sets it per pass), a missing requirement fails the file instead, and the
 * skip-guard reporter fails the run for any skipped test that `needs` did not skip for a requirement
 * the pass leaves out.
 */
export const REQUIREMENTS = {
  initdb: {
    description:
      'PostgreSQL server binaries initdb and pg_ctl, under /usr/lib/postgresql/<version>/bin or on PATH, for a private throw-away cluster',
    probe: () => findPostgresBin() !== undefined,
  },
  'redis-server': {
    description: 'a redis-server binary on PATH; the suite starts and stops its own',
    probe: () => spawnSync('redis-server', ['--version']).status === 0,
  },
  postgres: {
    description: 'DATABASE_URL: the suite runs against the shared PostgreSQL database',
    probe: () => Boolean(process.env.DATABASE_URL),
  },
  redis: {
    description: 'REDIS_URL: the suite runs against the shared Redis',
    probe: () => Boolean(process.env.REDIS_URL),
  },
  'python-authlib': {
    description:
      "/usr/bin/python3 with authlib and requests, Debian's python3-authlib and python3-requests, for interop with a Python client",
    probe: () => spawnSync('/usr/bin/python3', ['-c', 'import authlib, requests']).status === 0,
  },
  chromium: {
    description:
      "Debian's chromium package (/usr/bin/chromium), driven headless by playwright-core for the operator console's browser test",
    probe: () => spawnSync('/usr/bin/chromium', ['--version']).status === 0,
  },
} satisfies Record<string, { description: string; probe: () => boolean }>;

export type Requirement = keyof typeof REQUIREMENTS;

/** The tag `needs` puts on what it guards; the reporter reads it back. */
export const requirementTag = (name: Requirement): string => `needs:${name}`;

/** Requirements this pass must meet (`CLAVIS_REQUIRE`, comma- or space-separated); undefined outside CI. */
export function requiredOnThisPass(env: NodeJS.ProcessEnv = process.env): Set<string> | undefined {
  const raw = env.CLAVIS_REQUIRE;
  if (raw === undefined) return undefined;
  const names = raw.split(/[\s,]+/).filter(Boolean);
  const unknown = names.filter((n) => !(n in REQUIREMENTS));
  if (unknown.length) {
    throw new Error(
      `CLAVIS_REQUIRE names unknown requirement(s): ${unknown.join(', ')} (known: ${Object.keys(REQUIREMENTS).join(', ')})`,
    );
  }
  return new Set(names);
}

const probed = new Map<Requirement, boolean>();

/**
 * Test options for `describe`/`it`: skip when a requirement is missing, unless this pass requires it
 * (then throw: the file fails with the reason). The tags let the reporter tell a declared skip from
 * any other.
 */
export function needs(...names: Requirement[]): { skip: boolean; tags: string[] } {
  const required = requiredOnThisPass();
  const missing = names.filter((name) => {
    if (!probed.has(name)) probed.set(name, REQUIREMENTS[name].probe());
    return !probed.get(name);
  });
  const explain = (list: Requirement[]) => list.map((n) => `"${n}" (${REQUIREMENTS[n].description})`).join(', ');
  const mustRun = missing.filter((name) => required?.has(name));
  if (mustRun.length) {
    throw new Error(
      `this CI pass requires ${explain(mustRun)}, and it is missing. ` +
        `Install it, or take it out of CLAVIS_REQUIRE for this pass in .ci/run.`,
    );
  }
  if (missing.length) console.warn(`SKIPPED: missing ${explain(missing)}`);
  return { skip: missing.length > 0, tags: names.map(requirementTag) };
}
