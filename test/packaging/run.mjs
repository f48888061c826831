// Packaging test (`npm run test:packaging`): builds the three tarballs, installs them into a fresh
// Nest host application in a temporary directory outside the repository (the host has only what
// `npm install` gives it), compiles the host with plain tsc as ESM and as CommonJS, and runs it on
// Express and Fastify, on SQLite and (with PACKAGING_DATABASE_URL or DATABASE_URL) PostgreSQL, with
// the host's body parsing as `nest new` leaves it. The checks are in host/src/checks.ts.
//
// better-sqlite3 is the host's one package with an install script (a native build, minutes on a busy
// machine): the host installs with --ignore-scripts, then runs that script once per better-sqlite3
// version and Node ABI and keeps the resulting binary in ~/.cache/clavis-packaging (CLAVIS_PACKAGING_CACHE),
// which later runs copy into the host instead of compiling again. The checkout's own build of the same
// version seeds that cache when it loads in the running Node (same version, same ABI, same machine).
//
// The PostgreSQL database is emptied (schema public dropped) before each PostgreSQL run and at the
// end: give it a database of its own. KEEP_HOST=1 keeps the temporary host directory.
import { execFileSync, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { packLibs } from '../../scripts/pack.mjs';

const root = fileURLToPath(new URL('../..', import.meta.url));
const fixture = fileURLToPath(new URL('./host', import.meta.url));
const databaseUrl = process.env.PACKAGING_DATABASE_URL ?? process.env.DATABASE_URL;
const started = Date.now();
const log = (line) => process.stdout.write(`[packaging ${((Date.now() - started) / 1000).toFixed(1)}s] ${line}\n`);

// What `nest new` plus the README's install line give a host; versions as the repository uses them.
const HOST_DEPENDENCIES = ['@nestjs/common', '@nestjs/core', '@nestjs/platform-express', '@nestjs/platform-fastify', '@nestjs/typeorm', 'typeorm', 'better-sqlite3', 'pg', 'reflect-metadata', 'rxjs', 'class-validator', 'class-transformer'];
const HOST_DEV_DEPENDENCIES = ['typescript', '@types/node'];

function versions(names) {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  const all = { ...pkg.dependencies, ...pkg.devDependencies };
  return Object.fromEntries(names.map((n) => [n, all[n]]));
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer().once('error', reject).listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

async function resetSchema(url) {
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query('DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public;');
  await client.end();
}

function runHost(dir, env) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['dist/main.js'], { cwd: dir, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 90_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      const results = stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
      resolve({ code, results, stderr });
    });
  });
}

/** Runs better-sqlite3's install script in the host, or copies the binary a previous run built. */
function buildBetterSqlite3(dir) {
  const pkgDir = join(dir, 'node_modules', 'better-sqlite3');
  const { version } = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8'));
  const cacheRoot = process.env.CLAVIS_PACKAGING_CACHE ?? join(homedir(), '.cache', 'clavis-packaging');
  const cached = join(cacheRoot, `better-sqlite3-${version}-node${process.versions.modules}-${process.platform}-${process.arch}.node`);
  const binary = join(pkgDir, 'build', 'Release', 'better_sqlite3.node');
  if (existsSync(cached)) {
    mkdirSync(join(pkgDir, 'build', 'Release'), { recursive: true });
    cpSync(cached, binary);
    log(`better-sqlite3 ${version}: binary from ${cached}`);
    return;
  }
  // The checkout's own better-sqlite3, when it is the same version and loads in this Node, is what
  // the install script would build here: seed the cache with it.
  const repoPkg = join(root, 'node_modules', 'better-sqlite3');
  const repoBinary = join(repoPkg, 'build', 'Release', 'better_sqlite3.node');
  if (existsSync(repoBinary) && JSON.parse(readFileSync(join(repoPkg, 'package.json'), 'utf8')).version === version) {
    try {
      execFileSync(process.execPath, ['-e', `require(${JSON.stringify(repoBinary)})`], { stdio: 'ignore' });
      mkdirSync(cacheRoot, { recursive: true });
      cpSync(repoBinary, cached);
      return buildBetterSqlite3(dir);
    } catch {
      // built for another Node ABI: build it in the host
    }
  }
  log(`better-sqlite3 ${version}: running its install script (native build)`);
  execFileSync('npm', ['rebuild', 'better-sqlite3', '--foreground-scripts', '--loglevel=error'], { cwd: dir, stdio: ['ignore', 'ignore', 'inherit'] });
  mkdirSync(cacheRoot, { recursive: true });
  cpSync(binary, cached);
}

const tarballs = packLibs({ quiet: true });
log(`packed: ${tarballs.map((t) => t.slice(root.length)).join(', ')}`);

const tmp = mkdtempSync(join(tmpdir(), 'clavis-host-'));
const host = join(tmp, 'host');
try {
  // The host: its own package.json and sources, nothing from the repository but the tarballs.
  mkdirSync(host);
  const clavis = Object.fromEntries(tarballs.map((t) => [`@clavis/${t.match(/clavis-(\w+)-[^/]*\.tgz$/)[1]}`, `file:${t}`]));
  writeFileSync(join(host, 'package.json'), JSON.stringify({
    name: 'clavis-packaging-host',
    private: true,
    type: 'module',
    dependencies: { ...versions(HOST_DEPENDENCIES), ...clavis },
    devDependencies: versions(HOST_DEV_DEPENDENCIES),
    allowScripts: { 'better-sqlite3': true },
  }, null, 2));
  cpSync(join(fixture, 'tsconfig.json'), join(host, 'tsconfig.json'));
  cpSync(join(fixture, 'src'), join(host, 'src'), { recursive: true });
  log(`npm install in ${host} (node ${process.version})`);
  execFileSync('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--ignore-scripts', '--loglevel=error'], { cwd: host, stdio: 'inherit' });
  buildBetterSqlite3(host);
  log('installed');

  // The same sources as a CommonJS host: a package.json without "type": "module" above them.
  const cjs = join(host, 'cjs');
  mkdirSync(cjs);
  writeFileSync(join(cjs, 'package.json'), JSON.stringify({ name: 'clavis-packaging-host-cjs', private: true, type: 'commonjs' }, null, 2));
  cpSync(join(fixture, 'tsconfig.json'), join(cjs, 'tsconfig.json'));
  cpSync(join(fixture, 'src'), join(cjs, 'src'), { recursive: true });

  const tsc = join(host, 'node_modules', 'typescript', 'bin', 'tsc');
  for (const dir of [host, cjs]) execFileSync(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: dir, stdio: 'inherit' });
  const emitted = readFileSync(join(cjs, 'dist', 'main.js'), 'utf8');
  if (!/require\("@clavis\/server"\)/.test(emitted)) throw new Error('the CommonJS host was not compiled to CommonJS');
  log('compiled with tsc (ESM and CommonJS)');

  if (!databaseUrl) log('PACKAGING_DATABASE_URL / DATABASE_URL not set: PostgreSQL runs SKIPPED');
  const variants = [];
  for (const format of ['esm', 'cjs'])
    for (const adapter of ['express', 'fastify'])
      for (const db of databaseUrl ? ['sqlite', 'postgres'] : ['sqlite']) variants.push({ format, adapter, db });

  let failures = 0;
  for (const v of variants) {
    const label = `${v.format}/${v.adapter}/${v.db}`;
    if (v.db === 'postgres') await resetSchema(databaseUrl);
    const env = { HOST_ADAPTER: v.adapter, PORT: String(await freePort()), DATABASE_URL: v.db === 'postgres' ? databaseUrl : '' };
    const { code, results, stderr } = await runHost(v.format === 'esm' ? host : cjs, env);
    for (const r of results) {
      if (r.ok) continue;
      log(`FAIL ${label}: ${r.check}: ${r.error}`);
    }
    const ok = code === 0 && results.length > 0;
    if (!ok) {
      failures++;
      if (stderr) process.stdout.write(stderr);
    }
    log(`${ok ? 'ok  ' : 'FAIL'} ${label}: ${results.filter((r) => r.ok).length}/${results.length} checks passed (exit ${code})`);
  }

  // Leave the database empty, as the suite expects to find it (the hosts' keys are under their own KEK).
  if (databaseUrl) await resetSchema(databaseUrl);

  log(failures ? `${failures} failure(s)` : `all ${variants.length} host variants passed`);
  process.exitCode = failures ? 1 : 0;
} finally {
  if (process.env.KEEP_HOST) log(`host kept in ${tmp}`);
  else rmSync(tmp, { recursive: true, force: true });
}
