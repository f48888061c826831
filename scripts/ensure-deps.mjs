// Runs before `npm start` / `npm test`: on a fresh clone, installs the locked dependencies first,
// so that one command is all the set-up there is.
import { existsSync } from 'node:fs';
import { execSync } from 'node:child_process';

if (!existsSync(new URL('../node_modules/.package-lock.json', import.meta.url))) {
  process.stdout.write('node_modules missing: running npm ci first…\n');
  execSync('npm ci', { stdio: 'inherit' });
}
