#!/usr/bin/env node
// Load benchmark of POST /token, Clavis (built server, SQLite default, durable replay store)
// against node-oidc-provider 9 (in-memory adapter) as the peer, one run per client
// authentication method. A benchmark, not a test: it reports figures and never asserts them.
//
//   node bench/token.bench.mjs                      # DURATION=10 CONNECTIONS=32 WARMUP=3
//   DURATION=5 METHODS=private_key_jwt node bench/token.bench.mjs
//   PROFILE=1 node bench/token.bench.mjs            # Clavis only, CPU profile of each measured run → bench/PROFILE.md
//
// Env: DURATION (s, 10), CONNECTIONS (32), WARMUP (s, 3; 0 = none), METHODS (comma list),
// BACKENDS (comma list of sqlite, postgres, postgres+redis; default sqlite: Clavis is run once per
// backend, each in a fresh PostgreSQL schema of DATABASE_URL's database / with REDIS_URL, then the peer),
// SERVER_CORE (0), LOADGEN_CORE (1), CLAVIS_PORT (4301), PEER_PORT (4302),
// PEER_TOKEN_FORMAT (jwt | opaque), BUILD=1 (rebuild dist first), RESULTS (path of the
// report, default bench/RESULTS.md, or bench/PROFILE.md with PROFILE=1; RESULTS=0 to not write
// it), PROFILE=1, PROFILE_KEEP=dir (keep the .cpuprofile files), CPU_PROFILE_INTERVAL_US (500),
// BENCH_VERBOSE=1 (echo server output), PEER=0 (Clavis only, no peer run).
//
// Procedure: this process re-executes itself pinned to LOADGEN_CORE (it is the load generator),
// every server runs pinned to SERVER_CORE. Clavis: fresh DATA_DIR, the four clients created with
// the operator CLI, server started, one request per method checked with curl (and, for the JWT
// methods, that a replayed assertion is refused), then per method a warm-up and the measured run;
// stopped. Then the same against the peer. Each JWT-method request carries its own assertion,
// pre-generated before the run (pool sized from the warm-up rate × DURATION × 1.5); a pool that
// runs dry re-sends its last assertion, which shows up as non-2xx, and makes the run invalid.
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import {
  METHODS,
  benchScratch,
  envNumber,
  fmt,
  pinSelfToCore,
  assertionPool,
  coreTimes,
  coreUse,
  assertionBody,
  clientKeyPair,
  curl,
  load,
  machineInfo,
  makeAssertion,
  peekJwt,
  processCpuSeconds,
  randomSecret,
  requestShape,
  sleep,
  spawnPinned,
  stop,
  summarizeProfile,
  waitForHttp,
} from './lib.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, '..');
const env = process.env;
const num = envNumber;
const cfg = {
  duration: num('DURATION', 10),
  connections: num('CONNECTIONS', 32),
  warmup: num('WARMUP', 3),
  serverCore: num('SERVER_CORE', 0),
  loadgenCore: num('LOADGEN_CORE', 1),
  clavisPort: num('CLAVIS_PORT', 4301),
  peerPort: num('PEER_PORT', 4302),
  methods: env.METHODS ? env.METHODS.split(/[\s,]+/).filter(Boolean) : METHODS,
  backends: env.BACKENDS ? env.BACKENDS.split(/[\s,]+/).filter(Boolean) : ['sqlite'],
  peerTokenFormat: env.PEER_TOKEN_FORMAT === 'opaque' ? 'opaque' : 'jwt',
  profile: env.PROFILE === '1',
  results:
    env.RESULTS === '0'
      ? undefined
      : resolve(env.RESULTS || join(HERE, env.PROFILE === '1' ? 'PROFILE.md' : 'RESULTS.md')),
};
for (const m of cfg.methods) if (!METHODS.includes(m)) throw new Error(`METHODS: unknown method ${m}`);
const BACKENDS = ['sqlite', 'postgres', 'postgres+redis'];
for (const b of cfg.backends) if (!BACKENDS.includes(b)) throw new Error(`BACKENDS: unknown backend ${b}`);
if (cfg.backends.some((b) => b !== 'sqlite') && !env.DATABASE_URL)
  throw new Error('BACKENDS: postgres needs DATABASE_URL');
if (cfg.backends.includes('postgres+redis') && !env.REDIS_URL)
  throw new Error('BACKENDS: postgres+redis needs REDIS_URL');

// Upper bounds on one core, only used to size the warm-up pool (the measured pool is sized from
// the warm-up rate). Reference: a bare node:http + jose server does 4.2k private_key_jwt.
const CEILING_RPS = { client_secret_jwt: 12_000, private_key_jwt: 6_000 };
const DIST_MAIN_JS = join(ROOT, 'dist/apps/auth-server/main.js');
// The server runs from a copy of the bundle taken at start (other people rebuild dist/ while we
// run; Nest's deleteOutDir would pull it from under the CLI calls). It sits under bench/ so that
// its bare imports still resolve from the repository's node_modules.
const RUN_DIR = join(HERE, `.run-${process.pid}`);
const MAIN_JS = join(RUN_DIR, 'main.js');
const BACKEND_LABEL = { sqlite: 'SQLite', postgres: 'PostgreSQL', 'postgres+redis': 'PostgreSQL + Redis' };
const schemas = []; // PostgreSQL schemas made for this run, dropped at the end

// ---------------------------------------------------------------------------------------------
// Pin the load generator (this process, all its threads) by re-executing under taskset.
pinSelfToCore(cfg.loadgenCore, import.meta.url);

const log = (s = '') => process.stdout.write(`${s}\n`);
const started = new Date();
const loadAtStart = loadavg();
const scratch = benchScratch('clavis-bench-', RUN_DIR);
const { tmp, running } = scratch;
scratch.cleanups.push(async () => {
  for (const { schema, admin } of schemas) {
    await admin.query(`DROP SCHEMA ${schema} CASCADE`).catch(() => {});
    await admin.end().catch(() => {});
  }
});
await scratch.run(main);

async function main() {
  const machine = machineInfo();
  log(`Clavis token benchmark — ${started.toISOString()}`);
  log(`machine: ${machine.nproc} cores, ${machine.model}, node ${machine.node}, linux ${machine.kernel}`);
  log(
    `load: ${cfg.connections} connections, warm-up ${cfg.warmup}s, measured ${cfg.duration}s per method; servers on core ${cfg.serverCore}, load generator on core ${cfg.loadgenCore}`,
  );
  const build = buildCheck();
  log(`build: ${build.note}`);

  // One key pair for the private_key_jwt client of both servers.
  const keys = clientKeyPair();
  const jwksFile = join(tmp, 'client-jwks.json');
  writeFileSync(jwksFile, JSON.stringify(keys.jwks));

  const servers = [];
  for (const backend of cfg.backends) servers.push(await benchServer(await clavisServer(keys, jwksFile, backend)));
  if (!cfg.profile && env.PEER !== '0') servers.push(await benchServer(peerServer(keys)));

  const report = cfg.profile ? profileReport(machine, build, servers[0]) : resultsReport(machine, build, servers);
  log();
  log(cfg.profile ? report : table(servers));
  if (cfg.results) {
    writeFileSync(cfg.results, report);
    log(`\nwrote ${relative(process.cwd(), cfg.results)}`);
  }
  const invalid = servers.flatMap((s) =>
    s.runs.filter((r) => r.invalid).map((r) => `${s.name} ${r.method}: ${r.invalid}`),
  );
  if (invalid.length) {
    log(`\nINVALID runs (errors or non-2xx):\n  ${invalid.join('\n  ')}`);
    process.exitCode = 1;
  }
}

// ---------------------------------------------------------------------------------------------
// Build

function buildCheck() {
  const sourceDirs = ['apps/auth-server/src', 'libs/server/src', 'libs/resource/src'].map((d) => join(ROOT, d));
  const newest = { file: undefined, mtime: 0 };
  const walk = (dir) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.ts') && !/\.(spec|test|e2e-spec)\.ts$/.test(e.name)) {
        const t = statSync(p).mtimeMs;
        if (t > newest.mtime) Object.assign(newest, { file: relative(ROOT, p), mtime: t });
      }
    }
  };
  for (const d of sourceDirs) if (existsSync(d)) walk(d);
  const rebuild = (why) => {
    log(`build: ${why} — npm run build`);
    execFileSync('npm', ['run', 'build'], { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'] });
  };
  if (!existsSync(DIST_MAIN_JS)) rebuild('dist/apps/auth-server/main.js missing');
  else if (env.BUILD === '1') rebuild('BUILD=1');
  const builtAt = statSync(DIST_MAIN_JS).mtime;
  mkdirSync(RUN_DIR, { recursive: true });
  copyFileSync(DIST_MAIN_JS, MAIN_JS);
  const sha = createHash('sha256').update(readFileSync(MAIN_JS)).digest('hex').slice(0, 12);
  const stale = newest.mtime > builtAt.getTime();
  const note = stale
    ? `dist/apps/auth-server/main.js (sha256 ${sha}…) built ${builtAt.toISOString()}, OLDER than ${newest.file} (${new Date(newest.mtime).toISOString()}): measuring the existing build; BUILD=1 rebuilds`
    : `dist/apps/auth-server/main.js (sha256 ${sha}…) built ${builtAt.toISOString()}, newer than every source file`;
  let commit = 'unknown';
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'apps', 'libs/server', 'libs/resource'], {
      cwd: ROOT,
      encoding: 'utf8',
    }).trim();
    if (dirty) commit += ' (+ uncommitted changes in apps/ or libs/)';
  } catch {
    /* not a git checkout */
  }
  return { builtAt, stale, note, commit };
}

// ---------------------------------------------------------------------------------------------
// Servers

async function clavisServer(keys, jwksFile, backend = 'sqlite') {
  const port = cfg.clavisPort;
  const issuer = `http://127.0.0.1:${port}`;
  const dataDir = mkdtempSync(join(tmp, 'clavis-data-'));
  const profileDir = cfg.profile ? mkdtempSync(join(tmp, 'cpuprof-')) : undefined;
  const serverEnv = {
    ...env,
    NODE_ENV: 'production',
    PORT: String(port),
    HOST: '127.0.0.1',
    ISSUER: issuer,
    DATA_DIR: dataDir,
    CLAVIS_KEK: randomBytes(32).toString('base64url'),
    LOG_LEVEL: 'warn',
    // Rate limits (on by default since 558ee14: 600 token requests per client per minute) stay
    // on, so their cost is measured, with budgets no benchmark reaches.
    RATE_LIMIT_TOKEN_PER_ADDRESS: '100000000',
    RATE_LIMIT_TOKEN_PER_CLIENT: '100000000',
    RATE_LIMIT_AUTH_FAILURES_PER_ADDRESS: '100000000',
    ...(profileDir ? { CPU_PROFILE_DIR: profileDir } : {}),
  };
  delete serverEnv.BENCH_PINNED;
  delete serverEnv.DATABASE_URL;
  delete serverEnv.REDIS_URL;
  delete serverEnv.SQLITE_PATH;
  let pgAdmin;
  if (backend !== 'sqlite') {
    // A fresh schema of its own in DATABASE_URL's database (dropped at the end).
    const { default: pg } = await import('pg');
    const schema = `bench_token_${process.pid}_${schemas.length}`;
    pgAdmin = new pg.Client({ connectionString: env.DATABASE_URL });
    await pgAdmin.connect();
    await pgAdmin.query(`CREATE SCHEMA ${schema}`);
    schemas.push({ schema, admin: pgAdmin });
    serverEnv.DATABASE_URL = `${env.DATABASE_URL}${env.DATABASE_URL.includes('?') ? '&' : '?'}options=${encodeURIComponent(`-c search_path=${schema}`)}`;
    if (backend === 'postgres+redis') serverEnv.REDIS_URL = env.REDIS_URL;
    pgAdmin.schema = schema;
  }
  return {
    name: backend === 'sqlite' ? 'Clavis' : `Clavis ${BACKEND_LABEL[backend]}`,
    backend,
    label:
      backend === 'sqlite'
        ? 'Clavis (SQLite, durable replay store)'
        : `Clavis (${BACKEND_LABEL[backend]}${backend === 'postgres+redis' ? ': replay store and deny list in Redis' : ', durable replay store'})`,
    issuer,
    profileDir,
    describe: `\`node dist/apps/auth-server/main.js\` (a copy taken when the run starts), NODE_ENV=production, LOG_LEVEL=warn, rate limits on with budgets of 10⁸ per minute (never reached), fresh DATA_DIR (SQLite WAL file, replay store and deny list in it), ES256 JWT access tokens`,
    async prepare() {
      const clients = {};
      for (const method of cfg.methods) {
        const args = [
          MAIN_JS,
          'clients',
          'create',
          '--method',
          method,
          '--scope',
          'statements:read statements:write',
          '--name',
          `bench ${method}`,
        ];
        if (method === 'private_key_jwt') args.push('--jwks-file', jwksFile);
        const out = JSON.parse(execFileSync(process.execPath, args, { cwd: ROOT, env: serverEnv, encoding: 'utf8' }));
        clients[method] = {
          clientId: out.client_id,
          secret: out.client_secret ?? undefined,
          privateKey: keys.privateKey,
          kid: keys.kid,
        };
      }
      return clients;
    },
    start() {
      const preload = cfg.profile ? ['--import', pathToFileURL(join(HERE, 'cpu-profile.preload.mjs')).href] : [];
      return spawnPinned(cfg.serverCore, process.execPath, [...preload, MAIN_JS], {
        env: serverEnv,
        cwd: ROOT,
        name: 'clavis',
      });
    },
    readyUrl: `${issuer}/.well-known/oauth-authorization-server`,
    // The durable replay store did the work: one row per accepted assertion (runs + checks).
    async afterRun(runs) {
      if (backend === 'postgres+redis') return 'replay store in Redis (not counted)';
      try {
        let rows;
        if (pgAdmin)
          rows = Number((await pgAdmin.query(`SELECT COUNT(*) AS n FROM ${pgAdmin.schema}.clavis_used_jti`)).rows[0].n);
        else {
          const { default: Database } = await import('better-sqlite3');
          const db = new Database(join(dataDir, 'clavis.sqlite'), { readonly: true, fileMustExist: true });
          rows = db.prepare('SELECT COUNT(*) AS n FROM clavis_used_jti').get().n;
          db.close();
        }
        const jwtRuns = runs.filter((r) => r.poolSize);
        const accepted = jwtRuns.reduce((a, r) => a + r.okAllAttempts + (r.warmup?.ok ?? 0), 0) + jwtRuns.length; // + the curl checks
        const inFlight = jwtRuns.reduce((a, r) => a + cfg.connections * ((r.warmup ? 1 : 0) + (r.attempts ?? 1)), 0);
        const consistent = rows >= accepted && rows <= accepted + inFlight;
        return `replay store: ${rows} rows in clavis_used_jti after the runs, for ${accepted} assertions answered 200 (curl checks included) and at most ${inFlight} in flight when a load run stopped: ${consistent ? 'consistent' : 'NOT consistent'}`;
      } catch (e) {
        return `replay store: could not count rows (${e.message})`;
      }
    },
  };
}

function peerServer(keys) {
  const port = cfg.peerPort;
  const issuer = `http://127.0.0.1:${port}`;
  const clients = {};
  const metadata = [];
  for (const method of cfg.methods) {
    const clientId = `bench-${method.replaceAll('_', '-')}`;
    const c = { clientId, privateKey: keys.privateKey, kid: keys.kid };
    const m = { client_id: clientId, token_endpoint_auth_method: method, scope: 'statements:read statements:write' };
    if (method === 'private_key_jwt') m.jwks = keys.jwks;
    else m.client_secret = c.secret = randomSecret();
    clients[method] = c;
    metadata.push(m);
  }
  const clientsFile = join(tmp, 'peer-clients.json');
  writeFileSync(clientsFile, JSON.stringify(metadata));
  const serverEnv = {
    ...env,
    NODE_ENV: 'production',
    PORT: String(port),
    ISSUER: issuer,
    PEER_CLIENTS: clientsFile,
    PEER_TOKEN_FORMAT: cfg.peerTokenFormat,
  };
  delete serverEnv.BENCH_PINNED;
  return {
    name: 'oidc-provider',
    label: `oidc-provider ${peerVersion()} (memory adapter)`,
    issuer,
    describe:
      cfg.peerTokenFormat === 'jwt'
        ? '`node bench/oidc-provider-peer.mjs`, default in-memory adapter (its replay detection included), client_credentials enabled, ES256 JWT access tokens via a default resource indicator (resourceIndicators: defaultResource = issuer, accessTokenFormat jwt)'
        : '`node bench/oidc-provider-peer.mjs`, default in-memory adapter (its replay detection included), client_credentials enabled, opaque access tokens (the default; each stored in the memory adapter)',
    async prepare() {
      return clients;
    },
    start() {
      return spawnPinned(cfg.serverCore, process.execPath, [join(HERE, 'oidc-provider-peer.mjs')], {
        env: serverEnv,
        cwd: ROOT,
        name: 'peer',
      });
    },
    readyUrl: `${issuer}/.well-known/openid-configuration`,
  };
}

function peerVersion() {
  try {
    return JSON.parse(readFileSync(join(ROOT, 'node_modules/oidc-provider/package.json'), 'utf8')).version;
  } catch {
    return '9';
  }
}

// ---------------------------------------------------------------------------------------------
// One server: prepare, start, check, load every method, stop.

async function benchServer(server) {
  log(`\n== ${server.label}`);
  const clients = await server.prepare();
  const proc = server.start();
  running.add(proc);
  const runs = [];
  const checks = [];
  let tokenSample;
  let logMark = 0;
  try {
    await waitForHttp(server.readyUrl, proc);
    log(`   up (pid ${proc.child.pid}, core ${cfg.serverCore})`);
    const url = `${server.issuer}/token`;

    // One request of each kind must succeed before loading; a replayed assertion must be refused.
    for (const method of cfg.methods) {
      const shape = requestShape(method, clients[method], server.issuer);
      const body = shape.assertions ? assertionBody(makeAssertion(shape.assertions)) : shape.body;
      const first = curl(url, { headers: shape.headers, body });
      const check = { method, status: first.status };
      if (first.status !== 200)
        throw new Error(`${server.name} ${method}: curl answered ${first.status} ${first.body}`);
      const token = JSON.parse(first.body).access_token;
      tokenSample ??= peekJwt(token) ?? { opaque: `${token.length} characters` };
      if (shape.assertions) check.replay = curl(url, { headers: shape.headers, body }).status;
      checks.push(check);
      log(`   curl ${method}: ${first.status}${check.replay ? `, same assertion again: ${check.replay}` : ''}`);
    }

    await sleep(300);
    logMark = proc.mark(); // the replay checks above log an audit warning on purpose
    for (const method of cfg.methods)
      runs.push(await benchMethod(server, proc, url, method, requestShape(method, clients[method], server.issuer)));
  } finally {
    await sleep(500); // requests the load generator abandoned at the end of the last run finish first
    const status = await stop(proc);
    running.delete(proc);
    if (status.code && status.code !== 0 && status.signal !== 'SIGTERM')
      log(`   ${server.name} exited with ${status.code ?? status.signal}`);
  }
  // Anything the server said (it logs at warn level and above) while under load.
  const { lines: serverLog, count: serverLogLines } = proc.since(logMark);
  if (serverLogLines) log(`   ${server.name} wrote ${serverLogLines} lines under load (see the report)`);
  const afterRun = server.afterRun ? await server.afterRun(runs) : undefined;
  if (afterRun) log(`   ${afterRun}`);
  return { ...server, runs, checks, tokenSample, serverLog, serverLogLines, afterRun };
}

async function benchMethod(server, proc, url, method, shape) {
  const base = { url, connections: cfg.connections, shape };
  let warm;
  if (cfg.warmup > 0) {
    const pool = shape.assertions
      ? assertionPool(shape.assertions, Math.ceil(cfg.warmup * CEILING_RPS[method] * 1.5))
      : undefined;
    warm = await load({ ...base, duration: cfg.warmup, pool });
  }
  // The warm-up's busiest second (its average is dragged down by the JIT warming up).
  const expected = warm ? Math.max(warm.rps, warm.peakRps) : (CEILING_RPS[method] ?? 0);
  let size = Math.ceil(expected * cfg.duration * 1.5) + 4 * cfg.connections;
  let run;
  let okEarlier = 0; // 2xx of an attempt whose pool ran dry (its jtis are in the replay store too)
  for (let attempt = 1; attempt <= 2; attempt++) {
    if (run) okEarlier += run.ok;
    const pool = shape.assertions ? assertionPool(shape.assertions, size) : undefined;
    await sleep(200);
    if (server.profileDir) proc.child.kill('SIGWINCH');
    const cpu0 = processCpuSeconds(proc.child.pid);
    const cores0 = coreTimes();
    const t0 = performance.now();
    run = await load({ ...base, duration: cfg.duration, pool });
    run.serverCpu = (processCpuSeconds(proc.child.pid) - cpu0) / ((performance.now() - t0) / 1000);
    const cores1 = coreTimes();
    const sc = coreUse(cores0, cores1, cfg.serverCore);
    const lc = coreUse(cores0, cores1, cfg.loadgenCore);
    // Whatever else ran on the server's core: its busy time minus the server's own.
    run.foreignOnServerCore = Math.max(0, sc.busy - run.serverCpu);
    run.steal = sc.steal;
    run.loadgenCoreBusy = lc.busy;
    if (server.profileDir) {
      proc.child.kill('SIGWINCH');
      server.profiles = (server.profiles ?? 0) + 1;
      run.profile = await readProfile(server.profileDir, server.profiles, method);
    }
    run.loadAfter = loadavg()
      .map((x) => x.toFixed(2))
      .join(' / ');
    run.attempts = attempt;
    run.okAllAttempts = okEarlier + run.ok;
    if (!run.exhausted || attempt === 2) break;
    log(`   ${method}: assertion pool of ${size} ran dry (${run.exhausted} re-sent); again with ${size * 2}`);
    size *= 2;
  }
  run.method = method;
  run.warmup = warm && {
    rps: warm.rps,
    ok: warm.ok,
    non2xx: warm.non2xx,
    errors: warm.errors,
    exhausted: warm.exhausted,
  };
  const problems = [];
  if (run.non2xx)
    problems.push(
      `${run.non2xx} non-2xx (${Object.entries(run.statuses)
        .filter(([k]) => !k.startsWith('2'))
        .map(([k, v]) => `${k}×${v}`)
        .join(', ')})`,
    );
  if (run.errors) problems.push(`${run.errors} connection errors (${run.timeouts} timeouts)`);
  if (run.exhausted) problems.push(`assertion pool exhausted (${run.exhausted})`);
  run.invalid = problems.join('; ') || undefined;
  log(
    `   ${method.padEnd(20)} ${fmt(run.rps, 0).padStart(6)} rps  p50 ${fmt(run.p50, 2)} ms  p99 ${fmt(run.p99, 2)} ms  non-2xx ${run.non2xx}  errors ${run.errors}` +
      `  [server ${fmt(run.serverCpu, 2)} cores, other work on its core ${fmt(run.foreignOnServerCore, 2)}, loadgen ${fmt(run.loadgenCpu, 2)}${run.poolSize ? `, pool ${run.poolUsed}/${run.poolSize}` : ''}${warm ? `, warm-up ${fmt(warm.rps, 0)} rps` : ''}]`,
  );
  return run;
}

async function readProfile(dir, n, method) {
  const file = join(dir, `profile-${n}.cpuprofile`);
  for (let i = 0; i < 100 && !existsSync(file); i++) await sleep(100);
  if (!existsSync(file)) return undefined;
  if (env.PROFILE_KEEP) {
    mkdirSync(env.PROFILE_KEEP, { recursive: true });
    copyFileSync(file, join(env.PROFILE_KEEP, `clavis-${method}.cpuprofile`));
  }
  return summarizeProfile(JSON.parse(readFileSync(file, 'utf8')));
}

// ---------------------------------------------------------------------------------------------
// Output

function pair(servers, method) {
  const [c, p] = [servers[0], servers.find((s) => s.name === 'oidc-provider')].map((s) =>
    s?.runs.find((r) => r.method === method),
  );
  return { c, p, ratio: c && p && p.rps ? c.rps / p.rps : NaN };
}

function table(servers) {
  const head = [
    'method',
    'Clavis rps',
    'p50 ms',
    'p99 ms',
    'non-2xx',
    'peer rps',
    'p50 ms',
    'p99 ms',
    'non-2xx',
    'ratio',
  ];
  const rows = cfg.methods.map((m) => {
    const { c, p, ratio } = pair(servers, m);
    return [
      m,
      fmt(c?.rps, 0),
      fmt(c?.p50, 2),
      fmt(c?.p99, 2),
      String(c?.non2xx ?? '—'),
      fmt(p?.rps, 0),
      fmt(p?.p50, 2),
      fmt(p?.p99, 2),
      String(p?.non2xx ?? '—'),
      `${fmt(ratio, 2)}×`,
    ];
  });
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r) => r.map((v, i) => (i === 0 ? v.padEnd(widths[i]) : v.padStart(widths[i]))).join('  ');
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

function resultsReport(machine, build, servers) {
  const L = [];
  L.push('# POST /token benchmark: Clavis vs node-oidc-provider 9', '');
  L.push(
    'Generated by `node bench/token.bench.mjs` (see the header of that file). A benchmark, not a test: figures are reported, never asserted.',
    '',
  );
  L.push(`- Date: ${started.toISOString()}`);
  L.push(
    `- Machine: ${machine.nproc} cores (\`nproc\`), ${machine.model}, ${machine.memGiB} GiB, Linux ${machine.kernel}`,
  );
  L.push(
    `- Node ${machine.node}; autocannon ${pkgVersion('autocannon')}, oidc-provider ${pkgVersion('oidc-provider')}, jose ${pkgVersion('jose')}`,
  );
  L.push(`- Clavis build: commit ${build.commit}; ${build.note}`);
  L.push(
    `- Load: ${cfg.connections} connections, keep-alive, no pipelining; warm-up ${cfg.warmup} s then ${cfg.duration} s measured, per method; scope=statements:read requested`,
  );
  L.push(
    `- Load average (1/5/15 min) at start ${loadAtStart.map((x) => x.toFixed(2)).join(' / ')}, at end ${loadavg()
      .map((x) => x.toFixed(2))
      .join(' / ')} (see “other work on the server core” below)`,
  );
  L.push(
    `- Pinning: each server alone on core ${cfg.serverCore} (\`taskset -c ${cfg.serverCore}\`, all its threads), the load generator (autocannon, in-process) on core ${cfg.loadgenCore}; traffic over 127.0.0.1`,
  );
  L.push('');
  L.push(
    `| method | Clavis rps | p50 ms | p99 ms | non-2xx | peer rps | p50 ms | p99 ms | non-2xx | ratio | aim (≥ 1.5×, p99 ≤ 15 ms) |`,
  );
  L.push('|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|:-:|');
  for (const m of cfg.methods) {
    const { c, p, ratio } = pair(servers, m);
    const aim =
      c && p
        ? ratio >= 1.5 && c.p99 <= 15
          ? 'met'
          : `not met (${[ratio < 1.5 ? 'ratio' : '', c.p99 > 15 ? 'p99' : ''].filter(Boolean).join(', ')})`
        : '—';
    L.push(
      `| ${m} | ${fmt(c?.rps, 0)} | ${fmt(c?.p50, 2)} | ${fmt(c?.p99, 2)} | ${c?.non2xx ?? '—'} | ${fmt(p?.rps, 0)} | ${fmt(p?.p50, 2)} | ${fmt(p?.p99, 2)} | ${p?.non2xx ?? '—'} | **${fmt(ratio, 2)}×** | ${c?.invalid || p?.invalid ? 'invalid run' : aim} |`,
    );
  }
  L.push('');
  const pairs = cfg.methods.map((m) => pair(servers, m)).filter((x) => x.c && x.p);
  const met = pairs.filter((x) => x.ratio >= 1.5 && x.c.p99 <= 15 && !x.c.invalid && !x.p.invalid).length;
  const cpuRatios = pairs.map((x) => x.c.rps / x.c.serverCpu / (x.p.rps / x.p.serverCpu));
  const noisy = servers.flatMap((s) => s.runs).filter((r) => r.foreignOnServerCore > 0.05);
  L.push(
    `Aim met on ${met} of ${pairs.length} methods. Ratio of throughput per server CPU-second (Clavis / peer): ${pairs.map((x, i) => `${x.c.method} ${fmt(cpuRatios[i], 2)}×`).join(', ')}.`,
  );
  if (noisy.length)
    L.push(
      '',
      `Caution: in ${noisy.length} of ${servers.flatMap((s) => s.runs).length} runs other processes took more than 5 % of the server core (up to ${fmt(Math.max(...noisy.map((r) => r.foreignOnServerCore)) * 100, 0)} %); the machine was shared, so absolute figures are low and ratios noisy — the per-CPU-second ratio above is the steadier comparison.`,
    );
  L.push('');
  L.push(
    'rps = 2xx responses / measured seconds; p50/p99 = exact percentiles of the 2xx response times seen by the load generator. "non-2xx" and connection errors make a run invalid.',
    '',
  );

  const clavisServers = servers.filter((s) => s.backend);
  if (clavisServers.length > 1) {
    L.push('## Clavis per storage backend (same sitting)', '');
    L.push(
      'Server CPU per request = server CPU-seconds ÷ 2xx responses (the server pinned to one core; PostgreSQL and Redis are separate processes, not pinned, not counted). "vs SQLite" compares that figure with the SQLite run of the same method (target: PostgreSQL + Redis within 15 %, PostgreSQL within 25 %). p99 target at 32 connections: ≤ 15 ms on SQLite, ≤ 20 ms on PostgreSQL + Redis.',
      '',
    );
    L.push(
      '| backend | method | rps | server CPU per request | vs SQLite | p50 ms | p99 ms | p99 target | non-2xx | load average 1/5/15 at the end of the run |',
    );
    L.push('|---|---|--:|--:|--:|--:|--:|:-:|--:|---|');
    const base = clavisServers.find((s) => s.backend === 'sqlite');
    for (const s of clavisServers)
      for (const r of s.runs) {
        const cpuUs = (r.serverCpu / r.rps) * 1e6;
        const b = base?.runs.find((x) => x.method === r.method);
        const rel = b ? cpuUs / ((b.serverCpu / b.rps) * 1e6) - 1 : NaN;
        const limit = { sqlite: 15, 'postgres+redis': 20 }[s.backend];
        const relTarget = { postgres: 0.25, 'postgres+redis': 0.15 }[s.backend];
        L.push(
          `| ${BACKEND_LABEL[s.backend]} | ${r.method} | ${fmt(r.rps, 0)} | ${fmt(cpuUs, 0)} µs | ${s.backend === 'sqlite' ? '—' : `${rel >= 0 ? '+' : ''}${fmt(rel * 100, 0)} % (${rel <= relTarget ? 'met' : 'not met'})`} | ${fmt(r.p50, 2)} | ${fmt(r.p99, 2)} | ${limit ? (r.p99 <= limit ? `met (≤ ${limit})` : `not met (> ${limit})`) : '—'} | ${r.non2xx} | ${r.loadAfter ?? '—'} |`,
        );
      }
    L.push('');
  }
  L.push('## Details', '');
  L.push(
    '| server | method | 2xx | non-2xx | errors | p90 ms | max ms | server CPU (cores) | rps per server CPU-second | other work on the server core | load-gen CPU (cores) | assertions used / pool | warm-up rps |',
  );
  L.push('|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|');
  for (const s of servers)
    for (const r of s.runs)
      L.push(
        `| ${s.name} | ${r.method} | ${r.ok} | ${r.non2xx} | ${r.errors} | ${fmt(r.p90, 2)} | ${fmt(r.max, 1)} | ${fmt(r.serverCpu, 2)} | ${fmt(r.rps / r.serverCpu, 0)} | ${fmt(r.foreignOnServerCore, 2)} | ${fmt(r.loadgenCpu, 2)} | ${r.poolSize ? `${r.poolUsed} / ${r.poolSize}${r.attempts > 1 ? ' (second try: the first pool ran dry)' : ''}` : 'n/a (same request)'} | ${r.warmup ? fmt(r.warmup.rps, 0) : '—'} |`,
      );
  L.push('');
  L.push(
    'Server CPU is the server process’s user+system time over the run (pinned to one core, so ≤ 1.0); rps per server CPU-second is the throughput that CPU time bought, a figure less sensitive to other load on the machine. “Other work on the server core” is that core’s busy fraction (/proc/stat) minus the server’s own: anything well above 0 means something else competed for the core and the figures are low. A load generator near 1.0 would mean the figures are bounded by the generator, not the server.',
    '',
  );

  L.push('## Set-up', '');
  for (const s of servers) {
    L.push(`- **${s.label}**: ${s.describe}.`);
    L.push(
      `  Checked before loading with curl: ${s.checks.map((c) => `${c.method} ${c.status}${c.replay ? ` (same assertion again: ${c.replay})` : ''}`).join(', ')}.`,
    );
    if (s.tokenSample?.header)
      L.push(
        `  Access token: JWT, header \`${JSON.stringify(s.tokenSample.header)}\`, claims ${Object.keys(s.tokenSample.payload).join(', ')}.`,
      );
    else if (s.tokenSample) L.push(`  Access token: opaque (${s.tokenSample.opaque}).`);
  }
  if (servers[0].afterRun) L.push(`- Clavis ${servers[0].afterRun}.`);
  L.push(
    '- Clients: the same four methods on both servers (client_secret_basic, client_secret_post, client_secret_jwt with HS256 keyed by the UTF-8 bytes of the client secret, private_key_jwt with one ES256 key — the same public JWKS registered on both).',
  );
  L.push(
    '- Assertions: `iss` = `sub` = client_id, `aud` = the issuer identifier (a string), unique `jti` (UUID), `iat` = generation time, `exp` = `iat` + 120 s, header `typ: JWT` (and `kid` for ES256). Pre-generated before each run, one per request, never reused; if a pool ran dry the last assertion would be re-sent and show up as non-2xx (both servers refuse a replayed `jti`, see the curl checks above).',
  );
  L.push(
    '- Peer specifics: oidc-provider’s memory adapter is an LRU of 1000 entries shared by every model, so its replay detection (stored there) forgets a `jti` once 1000 newer entries have been written — far less work and far less protection than Clavis’s durable store (docs/adr/0003-single-use-assertions.md). JWT access tokens are not stored by oidc-provider; opaque ones would be. oidc-provider prints “Unsupported runtime” on Node 20 (it wants Node 22 LTS or later).',
  );
  L.push('');

  const oddities = servers.filter((s) => s.serverLog.length);
  L.push('## Server output during the runs', '');
  L.push('(After the curl checks, whose replayed assertion Clavis logs as an audit warning on purpose.)', '');
  if (!oddities.length) L.push('Nothing at warn level or above from either server.');
  for (const s of oddities) {
    L.push(`${s.name}: ${s.serverLogLines} lines, the last ${Math.min(20, s.serverLog.length)}:`, '', '```');
    L.push(...s.serverLog.slice(-20).map((l) => l.slice(0, 300)));
    L.push('```', '');
  }
  L.push('');
  return L.join('\n');
}

function profileReport(machine, build, server) {
  const L = [];
  L.push('# Where Clavis spends time under POST /token load (CPU profile)', '');
  L.push(
    `Generated by \`PROFILE=1 node bench/token.bench.mjs\` on ${started.toISOString()}; ${machine.nproc} cores, ${machine.model}, node ${machine.node}; commit ${build.commit}; ${build.note}.`,
  );
  L.push(
    `Server: ${server.label}. V8 sampling profiler (node:inspector, ${env.CPU_PROFILE_INTERVAL_US ?? 500} µs) in the server, over each ${cfg.duration} s measured run at ${cfg.connections} connections, server pinned to core ${cfg.serverCore}. The profiler costs throughput: these rps are not the benchmark figures (see RESULTS.md).`,
    '',
  );
  for (const r of server.runs) {
    L.push(`## ${r.method} — ${fmt(r.rps, 0)} rps while profiled, p99 ${fmt(r.p99, 2)} ms`, '');
    if (!r.profile) {
      L.push('(no profile written)', '');
      continue;
    }
    L.push('Self time by area:', '', '| area | self ms | % |', '|---|--:|--:|');
    for (const a of r.profile.areas.slice(0, 12)) L.push(`| ${a.name} | ${fmt(a.ms, 0)} | ${fmt(a.pct, 1)} |`);
    L.push('', 'Top functions by self time:', '', '| function | self ms | % |', '|---|--:|--:|');
    for (const f of r.profile.functions)
      L.push(`| \`${f.name.replaceAll('|', '\\|')}\` | ${fmt(f.ms, 0)} | ${fmt(f.pct, 1)} |`);
    L.push('', 'Callers of the heaviest functions (nearest JS frames, glue skipped):', '');
    for (const f of r.profile.functions.filter((x) => x.callers))
      for (const c of f.callers) L.push(`- \`${f.name}\` ${fmt(c.ms, 0)} ms ← ${c.stack}`);
    L.push('');
  }
  return L.join('\n');
}

function pkgVersion(name) {
  try {
    return JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')).version;
  } catch {
    return '?';
  }
}
