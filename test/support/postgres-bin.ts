import { existsSync, readdirSync } from 'node:fs';
import { delimiter, join } from 'node:path';

/**
 * The bin directory of a PostgreSQL installation with `initdb` and `pg_ctl`, or undefined: the newest
 * version under /usr/lib/postgresql (Debian and Ubuntu packages, several versions side by side), else
 * the first directory on PATH that holds both (other distributions, Homebrew, source builds).
 */
export function findPostgresBin(): string | undefined {
  const hasBoth = (dir: string) => existsSync(join(dir, 'initdb')) && existsSync(join(dir, 'pg_ctl'));
  const root = '/usr/lib/postgresql';
  if (existsSync(root)) {
    const versions = readdirSync(root)
      .filter((v) => hasBoth(join(root, v, 'bin')))
      .sort((a, b) => Number(b) - Number(a));
    if (versions.length) return join(root, versions[0], 'bin');
  }
  return (process.env.PATH ?? '').split(delimiter).find((dir) => dir && hasBoth(dir));
}
