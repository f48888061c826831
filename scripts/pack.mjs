// `npm run pack`: builds @clavis/server, @clavis/resource and @clavis/client (tsc: ESM, .d.ts, source
// maps) and writes their tarballs to dist/packages/. Prints the tarball paths, one a line.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
// Dependency order: @clavis/server imports @clavis/resource (its in-process guard module), built from its dist.
export const LIBS = ['resource', 'client', 'server'];

export function buildLibs({ quiet = false } = {}) {
  for (const lib of LIBS) {
    rmSync(`${root}libs/${lib}/dist`, { recursive: true, force: true });
    if (!quiet) process.stderr.write(`tsc -p libs/${lib}/tsconfig.build.json\n`);
    execFileSync(
      process.execPath,
      [`${root}node_modules/typescript/bin/tsc`, '-p', `libs/${lib}/tsconfig.build.json`],
      { cwd: root, stdio: 'inherit' },
    );
  }
}

export function packLibs({ quiet = false } = {}) {
  buildLibs({ quiet });
  const out = `${root}dist/packages`;
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  const workspaces = LIBS.flatMap((lib) => ['-w', `libs/${lib}`]);
  execFileSync('npm', ['pack', ...workspaces, '--pack-destination', out, '--silent'], {
    cwd: root,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  return readdirSync(out)
    .filter((f) => f.endsWith('.tgz'))
    .map((f) => `${out}/${f}`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const arg = process.argv[2];
  if (arg === '--build-only') buildLibs();
  else for (const tarball of packLibs()) process.stdout.write(`${tarball}\n`);
}
