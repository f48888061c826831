#!/usr/bin/env node
// Is POST /token flat with the number of registered clients? Per database (SQLite, then PostgreSQL):
//   1. a fresh database with 10 clients (5 client_secret_basic, 5 private_key_jwt), made realistic the
//      way the operator CLI makes them (one of each through the CLI, the others copied from those rows
//      with their own id, their own 256-bit secret hashed as the server hashes it, their own ES256 key);
//      token throughput with requests spread over those clients;
//   2. 99,990 more clients seeded in bulk (SQL, in batches) the same way: 50,000 client_secret_basic and
//      50,000 private_key_jwt, each of the latter with two ES256 keys in its `jwks` (current + next,
//      100,000 keys); token throughput again, first from the same 10 clients as in step 1 (what the
//      number of registered clients costs), then spread over all 100,000 clients (every basic
//      request names the next client, every assertion is from the next key-holding client: each
//      request a client that is not in memory yet);
//   3. a registration burst: 10,000 POST /register (initial access token with 10,000 uses), 32 at a
//      time, reporting errors and latency.
// A benchmark, not a test: it reports figures and never asserts them.
//
//   npm run bench:clients
// Env: DURATION (10), CONNECTIONS (32), WARMUP (3), CLIENTS (100000), BURST (10000), BURST_MAX_SECONDS
// (none: stop sending registrations after that long and report how many were made), DATABASES
// (sqlite,postgres), BENCH_PG_URL (postgres://postgres@127.0.0.1:5432/test_perf; the bench works in a
// schema of its own there, dropped at the end), SERVER_CORE (0), LOADGEN_CORE (1), PORT (4321),
// BUILD=1, RESULTS (default bench/CLIENTS.md; 0 = none).
import { execFileSync } from 'node:child_process';
import { createHash, createPrivateKey, generateKeyPairSync, randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';

import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import {
  assertionBody,
  benchScratch,
  envNumber,
  fmt,
  loadAverage,
  pinSelfToCore,
  coreTimes,
  coreUse,
  machineInfo,
  makeAssertion,
  processCpuSeconds,
  SCOPE,
  sleep,
  spawnPinned,
  stop,
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
  clients: num('CLIENTS', 100_000),
  burst: num('BURST', 10_000),
  burstMaxSeconds: num('BURST_MAX_SECONDS', Infinity),
  databases: (env.DATABASES || 'sqlite,postgres').split(',').filter(Boolean),
  pgUrl: env.BENCH_PG_URL || 'postgres://postgres@127.0.0.1:5432/test_perf',
  serverCore: num('SERVER_CORE', 0),
  loadgenCore: num('LOADGEN_CORE', 1),
  port: num('PORT', 4321),
  results: env.RESULTS === '0' ? undefined : resolve(env.RESULTS || join(HERE, 'CLIENTS.md')),
};
// Key pairs are generated once and reused by the next database's clients (generation dominates seeding).
const keyPool = new Map();
const KEY_FILE = join(HERE, 'out', 'seed-client-keys.json');
let keyFile;
const la = loadAverage;

pinSelfToCore(cfg.loadgenCore, import.meta.url);

const log = (s = '') => process.stdout.write(`${s}\n`);
const started = new Date();
const RUN_DIR = join(HERE, `.run-${process.pid}`);
const scratch = benchScratch('clavis-clients-bench-', RUN_DIR);
const { tmp, running, cleanups } = scratch;
await scratch.run(main);

async function main() {
  const machine = machineInfo();
  const distMain = join(ROOT, 'dist/apps/auth-server/main.js');
  if (!existsSync(distMain) || env.BUILD === '1')
    execFileSync('npm', ['run', 'build'], { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'] });
  mkdirSync(RUN_DIR, { recursive: true });
  const mainJs = join(RUN_DIR, 'main.js');
  copyFileSync(distMain, mainJs);
  const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
  log(`clients bench — ${started.toISOString()}, commit ${commit}`);

  const results = [];
  for (const db of cfg.databases) results.push(await benchDatabase(db, mainJs));

  const L = [];
  L.push('## Flat with the number of clients (`npm run bench:clients`)', '');
  L.push(
    `${started.toISOString()}, commit ${commit}; ${machine.nproc} cores, ${machine.model}, node ${machine.node}; ${cfg.connections} connections, warm-up ${cfg.warmup} s then ${cfg.duration} s per run; server pinned to core ${cfg.serverCore}, load generator to core ${cfg.loadgenCore} (PostgreSQL itself is not pinned). Clients seeded in bulk as described in the header of bench/scale-clients.mjs; every request of a run names another client (round robin over the set in use). With 100,000 clients in the database, two runs per method: the same 10 clients as in the 10-client runs, then all of them.`,
    '',
  );
  L.push(
    '| database | method | clients in the database / used | rps | server CPU per request | p50 ms | p99 ms | non-2xx | other work on the server core | server RSS after | load average 1/5/15 (before → after) |',
  );
  L.push('|---|---|--:|--:|--:|--:|--:|--:|--:|--:|---|');
  for (const r of results)
    for (const run of r.runs)
      L.push(
        `| ${r.db} | ${run.method} | ${run.inDb.toLocaleString('en')} / ${run.used.toLocaleString('en')} | ${fmt(run.rps, 0)} | ${fmt(run.cpuUs, 0)} µs | ${fmt(run.p50, 2)} | ${fmt(run.p99, 2)} | ${run.non2xx}${run.non2xx ? ` (${run.failures})` : ''} | ${fmt(run.foreign, 2)} | ${fmt(run.rss, 0)} MiB | ${run.load} |`,
      );
  L.push('');
  for (const r of results) {
    for (const method of ['client_secret_basic', 'private_key_jwt']) {
      const of = (phase) => r.runs.find((x) => x.method === method && x.phase === phase);
      const few = of('few');
      for (const [phase, what] of [
        ['same', 'the same 10 clients in use'],
        ['many', 'every request from another client (cold: each client read and its keys imported)'],
      ]) {
        const many = of(phase);
        if (!few || !many) continue;
        const ratio = many.rps / few.rps;
        const cpu = few.cpuUs / many.cpuUs;
        L.push(
          `- ${r.db}, ${method}: ${cfg.clients.toLocaleString('en')} clients in the database, ${what}: **${fmt(ratio * 100, 0)} %** of the 10-client throughput (${fmt(cpu * 100, 0)} % by server CPU per request); target ≥ 90 %: **${Math.max(ratio, cpu) >= 0.9 ? (ratio >= 0.9 ? 'met' : 'met by CPU per request, not by rps') : 'not met'}**.`,
        );
      }
    }
    L.push(`- ${r.db}: seeding ${r.seed}.`);
    const b = r.burst;
    L.push(
      `- ${r.db}, registration burst: ${b.n.toLocaleString('en')} POST /register, ${cfg.connections} at a time: ${b.ok} × 201, ${b.failed} failed${b.failed ? ` (${b.failures})` : ''}; ${fmt(b.rps, 0)} registrations/s; latency p50 ${fmt(b.p50, 1)} ms, p99 ${fmt(b.p99, 1)} ms, max ${fmt(b.max, 1)} ms (load ${b.load})${b.capped ? `; ${b.capped}` : ''}.`,
    );
  }
  L.push('');
  const report = L.join('\n');
  log('\n' + report);
  if (cfg.results) {
    writeFileSync(cfg.results, report + '\n');
    log(`wrote ${relative(process.cwd(), cfg.results)}`);
  }
}

// ---------------------------------------------------------------------------------------------

async function benchDatabase(db, mainJs) {
  const issuer = `http://127.0.0.1:${cfg.port}`;
  const dataDir = mkdtempSync(join(tmp, `data-${db}-`));
  const serverEnv = {
    ...env,
    NODE_ENV: 'production',
    PORT: String(cfg.port),
    HOST: '127.0.0.1',
    ISSUER: issuer,
    DATA_DIR: dataDir,
    CLAVIS_KEK: randomBytes(32).toString('base64url'),
    LOG_LEVEL: 'warn',
    RATE_LIMIT_TOKEN_PER_ADDRESS: '100000000',
    RATE_LIMIT_TOKEN_PER_CLIENT: '100000000',
    RATE_LIMIT_AUTH_FAILURES_PER_ADDRESS: '100000000',
    RATE_LIMIT_REGISTER_PER_ADDRESS: '100000000',
  };
  for (const k of ['BENCH_PINNED', 'DATABASE_URL', 'REDIS_URL', 'SQLITE_PATH']) delete serverEnv[k];
  let sql;
  if (db === 'postgres') {
    const { default: pg } = await import('pg');
    const schema = `bench_clients_${process.pid}`;
    const admin = new pg.Client({ connectionString: cfg.pgUrl });
    await admin.connect();
    await admin.query(`CREATE SCHEMA ${schema}`);
    await admin.query(`SET search_path TO ${schema}`);
    cleanups.push(async () => {
      await admin.query(`DROP SCHEMA ${schema} CASCADE`);
      await admin.end();
    });
    serverEnv.DATABASE_URL = `${cfg.pgUrl}${cfg.pgUrl.includes('?') ? '&' : '?'}options=${encodeURIComponent(`-c search_path=${schema}`)}`;
    sql = {
      all: async (q, p = []) => (await admin.query(numbered(q), p)).rows,
      insertMany: async (table, cols, rows) => {
        for (let i = 0; i < rows.length; i += 1000) {
          const batch = rows.slice(i, i + 1000);
          const params = [];
          const values = batch.map((row) => `(${row.map((v) => (params.push(v), `$${params.length}`)).join(', ')})`);
          await admin.query(`INSERT INTO ${table} (${cols.join(', ')}) VALUES ${values.join(', ')}`, params);
        }
      },
    };
  } else {
    const { default: Database } = await import('better-sqlite3');
    let handle;
    const open = () => (handle ??= new Database(join(dataDir, 'clavis.sqlite')));
    cleanups.push(async () => handle?.close());
    sql = {
      all: async (q, p = []) =>
        open()
          .prepare(q)
          .all(...p),
      insertMany: async (table, cols, rows) => {
        const stmt = open().prepare(
          `INSERT INTO ${table} (${cols.join(', ')}) VALUES (${cols.map(() => '?').join(', ')})`,
        );
        for (let i = 0; i < rows.length; i += 5000)
          open().transaction((batch) => batch.forEach((r) => stmt.run(...r)))(rows.slice(i, i + 5000));
      },
    };
  }
  const cli = (...args) =>
    JSON.parse(execFileSync(process.execPath, [mainJs, ...args], { cwd: ROOT, env: serverEnv, encoding: 'utf8' }));

  // Templates: one client of each method made by the operator CLI (this also creates the schema).
  const firstKey = esKey('k0');
  const jwksFile = join(tmp, `jwks-${db}.json`);
  writeFileSync(jwksFile, JSON.stringify({ keys: [firstKey.publicJwk] }));
  const basicOut = cli(
    'clients',
    'create',
    '--method',
    'client_secret_basic',
    '--scope',
    SCOPE,
    '--name',
    'seed basic',
  );
  const pkOut = cli(
    'clients',
    'create',
    '--method',
    'private_key_jwt',
    '--scope',
    SCOPE,
    '--name',
    'seed pk',
    '--jwks-file',
    jwksFile,
  );
  const iat = cli('initial-tokens', 'create', '--uses', String(cfg.burst + 10)).initial_access_token;
  const [basicRow] = await sql.all('SELECT * FROM clavis_client WHERE client_id = ?', [basicOut.client_id]);
  const [pkRow] = await sql.all('SELECT * FROM clavis_client WHERE client_id = ?', [pkOut.client_id]);
  const [secretRow] = await sql.all('SELECT * FROM clavis_client_secret WHERE client_id = ?', [basicOut.client_id]);
  const basics = [{ clientId: basicOut.client_id, secret: basicOut.client_secret }];
  const pks = [{ clientId: pkOut.client_id, key: firstKey, kid: firstKey.kid }];

  const seed = async (nBasic, nPk) => {
    const clientRows = [];
    const secretRows = [];
    const clientCols = Object.keys(basicRow);
    const secretCols = Object.keys(secretRow);
    const now = Math.floor(Date.now() / 1000);
    const stamp = (row) => ({ ...row, client_id_issued_at: now, updated_at: now });
    for (let i = 0; i < nBasic; i++) {
      const clientId = randomBytes(16).toString('hex');
      const secret = randomBytes(32).toString('base64url');
      clientRows.push(
        clientCols.map((c) => stamp({ ...basicRow, client_id: clientId, client_name: `seed basic ${i}` })[c]),
      );
      secretRows.push(
        secretCols.map(
          (c) =>
            ({
              ...secretRow,
              id: randomBytes(16).toString('hex'),
              client_id: clientId,
              secret_hash: createHash('sha256').update(secret, 'utf8').digest('base64url'),
              created_at: now,
            })[c],
        ),
      );
      basics.push({ clientId, secret });
    }
    for (let i = 0; i < nPk; i++) {
      const clientId = randomBytes(16).toString('hex');
      const n = pks.length;
      const current = esKey(`k-${n}-a`);
      const next = esKey(`k-${n}-b`);
      const jwks = JSON.stringify({ keys: [current.publicJwk, next.publicJwk] });
      clientRows.push(
        clientCols.map((c) => stamp({ ...pkRow, client_id: clientId, client_name: `seed pk ${i}`, jwks })[c]),
      );
      pks.push({ clientId, key: current, kid: current.kid });
    }
    saveKeys();
    await sql.insertMany('clavis_client', clientCols, clientRows);
    await sql.insertMany('clavis_client_secret', secretCols, secretRows);
  };

  const t0 = performance.now();
  await seed(4, 4); // 10 clients in all
  const fewBasics = basics.slice();
  const fewPks = pks.slice();
  const server = spawnPinned(cfg.serverCore, process.execPath, [mainJs], {
    env: serverEnv,
    cwd: ROOT,
    name: `clavis-${db}`,
  });
  running.add(server);
  const runs = [];
  let seedNote;
  let burst;
  try {
    await waitForHttp(`${issuer}/.well-known/oauth-authorization-server`, server);
    const count = async () => Number((await sql.all('SELECT COUNT(*) AS n FROM clavis_client'))[0].n);
    for (const phase of ['few', 'many']) {
      if (phase === 'many') {
        const s0 = performance.now();
        const more = cfg.clients - (await count());
        await seed(Math.ceil(more / 2), Math.floor(more / 2));
        const keys = await sql.all(
          "SELECT COUNT(*) AS n FROM clavis_client WHERE token_endpoint_auth_method = 'private_key_jwt'",
        );
        seedNote = `${more.toLocaleString('en')} clients (${Number(keys[0].n).toLocaleString('en')} private_key_jwt clients, ${(2 * (Number(keys[0].n) - 1) + 1).toLocaleString('en')} jwks keys in all) generated and inserted in ${fmt((performance.now() - s0) / 1000, 1)} s`;
        log(`  ${db}: seeded ${seedNote}`);
      }
      const inDb = await count();
      if (phase === 'many') {
        // First the same 10 clients as before among the 100,000 (what the number of registered
        // clients costs), then every request from another client (every lookup a cache miss).
        runs.push({ ...(await tokenRun(db, server, issuer, 'client_secret_basic', fewBasics, inDb)), phase: 'same' });
        runs.push({ ...(await tokenRun(db, server, issuer, 'private_key_jwt', fewPks, inDb)), phase: 'same' });
      }
      runs.push({ ...(await tokenRun(db, server, issuer, 'client_secret_basic', basics, inDb)), phase });
      runs.push({ ...(await tokenRun(db, server, issuer, 'private_key_jwt', pks, inDb)), phase });
    }
    burst = await registrationBurst(issuer, iat);
    log(`  ${db}: registration burst ${burst.ok}/${burst.n} ok, p50 ${fmt(burst.p50, 1)} p99 ${fmt(burst.p99, 1)} ms`);
  } finally {
    await stop(server);
    running.delete(server);
  }
  log(`  ${db}: done in ${fmt((performance.now() - t0) / 1000, 0)} s`);
  return { db: db === 'postgres' ? 'PostgreSQL' : 'SQLite', runs, seed: seedNote, burst };
}

function numbered(q) {
  let i = 0;
  return q.replace(/\?/g, () => `$${++i}`);
}

// Seeded clients' key pairs: generated once and kept in bench/out/ (ignored by git), so that a later
// sitting on a busy machine does not spend minutes generating 100,000 P-256 keys again. The private
// halves stay JWKs until an assertion is signed with them.
function esKey(kid) {
  let key = keyPool.get(kid);
  if (key) return key;
  keyFile ??= existsSync(KEY_FILE)
    ? new Map(JSON.parse(readFileSync(KEY_FILE, 'utf8')).map((k) => [k.kid, k]))
    : new Map();
  const stored = keyFile.get(kid);
  if (stored) key = { privateKey: stored.privateJwk, kid, publicJwk: stored.publicJwk };
  else {
    // Encoded as JWKs by the generation itself: exporting each new KeyObject afterwards deadlocked
    // Node 20 once in some 100,000 keys (a garbage-collected key-generation job locked the mutex
    // of the key being exported; the process then slept forever).
    const { privateKey: privateJwk, publicKey } = generateKeyPairSync('ec', {
      namedCurve: 'P-256',
      publicKeyEncoding: { format: 'jwk' },
      privateKeyEncoding: { format: 'jwk' },
    });
    const publicJwk = { ...publicKey, kid, alg: 'ES256', use: 'sig' };
    key = { privateKey: privateJwk, kid, publicJwk };
    keyFile.set(kid, { kid, publicJwk, privateJwk, fresh: true });
  }
  keyPool.set(kid, key);
  return key;
}

function saveKeys() {
  if (!keyFile || ![...keyFile.values()].some((k) => k.fresh)) return;
  mkdirSync(dirname(KEY_FILE), { recursive: true });
  writeFileSync(KEY_FILE, JSON.stringify([...keyFile.values()].map(({ fresh, ...k }) => k)));
}

/** Resident memory of a process, MiB. */
function rssMiB(pid) {
  try {
    const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

/** One measured token run, every request from the next client of `clients` (round robin). */
async function tokenRun(db, server, issuer, method, clients, inDb) {
  const url = `${issuer}/token`;
  const formHeaders = { 'content-type': 'application/x-www-form-urlencoded' };
  const basicBody = `grant_type=client_credentials&scope=${encodeURIComponent(SCOPE)}`;
  let next = 0;
  const requestFor = (i) => {
    const c = clients[i % clients.length];
    if (method === 'client_secret_basic') {
      const user = `${encodeURIComponent(c.clientId)}:${encodeURIComponent(c.secret)}`;
      return {
        headers: { ...formHeaders, authorization: `Basic ${Buffer.from(user).toString('base64')}` },
        body: basicBody,
      };
    }
    return null;
  };
  // Assertions are generated before the load (one per request, never reused).
  const poolFor = (n) => {
    const now = Math.floor(Date.now() / 1000);
    const pool = new Array(n);
    for (let i = 0; i < n; i++) {
      const c = clients[(next + i) % clients.length];
      if (!c.key.privateKey.type) c.key.privateKey = createPrivateKey({ key: c.key.privateKey, format: 'jwk' });
      pool[i] = assertionBody(
        makeAssertion(
          { alg: 'ES256', clientId: c.clientId, privateKey: c.key.privateKey, kid: c.kid, audience: issuer },
          now,
        ),
      );
    }
    return pool;
  };
  const once = async (duration, n) => {
    const pool = method === 'private_key_jwt' ? poolFor(n) : undefined;
    let used = 0;
    const lat = [];
    const inst = autocannon({
      url,
      connections: cfg.connections,
      duration,
      timeout: 10,
      requests: [
        {
          method: 'POST',
          setupRequest: (req) => {
            if (pool) {
              req.headers = formHeaders;
              req.body = pool[Math.min(used++, pool.length - 1)];
            } else Object.assign(req, requestFor(next++));
            return req;
          },
        },
      ],
    });
    inst.on('response', (_c, status, _b, ms) => {
      if (status >= 200 && status < 300) lat.push(ms);
    });
    const res = await inst;
    next += used;
    lat.sort((a, b) => a - b);
    const pct = (p) => lat[Math.min(lat.length - 1, Math.ceil((p / 100) * lat.length) - 1)];
    const statuses = Object.entries(res.statusCodeStats ?? {})
      .filter(([code]) => Number(code) >= 300)
      .map(([code, v]) => `${v.count} × ${code}`);
    if (res.errors) statuses.push(`${res.errors} connection errors (${res.timeouts} timeouts)`);
    return {
      ok: lat.length,
      rps: lat.length / res.duration,
      non2xx: res.non2xx + res.errors,
      failures: statuses.join(', '),
      p50: pct(50),
      p99: pct(99),
      used: Math.min(used, pool?.length ?? used),
      exhausted: pool && used > pool.length,
    };
  };
  const warm = cfg.warmup ? await once(cfg.warmup, 6000 * cfg.warmup) : undefined;
  const size = Math.ceil(Math.max(warm?.rps ?? 3000, 1000) * cfg.duration * 1.6);
  await sleep(200);
  const loadBefore = la();
  const cpu0 = processCpuSeconds(server.child.pid);
  const cores0 = coreTimes();
  const t0 = performance.now();
  const run = await once(cfg.duration, size);
  const wall = (performance.now() - t0) / 1000;
  const serverCpu = (processCpuSeconds(server.child.pid) - cpu0) / wall;
  const foreign = Math.max(0, coreUse(cores0, coreTimes(), cfg.serverCore).busy - serverCpu);
  const used = Math.min(clients.length, method === 'private_key_jwt' ? run.used : run.ok + run.non2xx);
  const out = {
    ...run,
    method,
    inDb,
    used,
    cpuUs: (serverCpu / run.rps) * 1e6,
    serverCpu,
    foreign,
    rss: rssMiB(server.child.pid),
    load: `${loadBefore} → ${la()}`,
  };
  log(
    `  ${db} ${method.padEnd(20)} ${String(inDb).padStart(6)} clients: ${fmt(out.rps, 0)} rps, ${fmt(out.cpuUs, 0)} µs CPU/req, p50 ${fmt(out.p50, 2)} p99 ${fmt(out.p99, 2)} ms, non-2xx ${out.non2xx}${out.non2xx ? ` (${run.failures})` : ''}${run.exhausted ? ' (POOL EXHAUSTED)' : ''} [other on core ${fmt(foreign, 2)}, load ${out.load}]`,
  );
  return out;
}

/** `BURST` registrations, `CONNECTIONS` at a time; latency of each, errors counted by status. */
async function registrationBurst(issuer, iat) {
  const n = cfg.burst;
  const lat = [];
  const failures = new Map();
  let issued = 0;
  const loadBefore = la();
  const t0 = performance.now();
  const stopAt = performance.now() + cfg.burstMaxSeconds * 1000;
  const worker = async () => {
    while (issued < n && performance.now() < stopAt) {
      const i = issued++;
      const s = performance.now();
      try {
        const r = await fetch(`${issuer}/register`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${iat}` },
          body: JSON.stringify({
            client_name: `burst ${i}`,
            token_endpoint_auth_method: 'client_secret_basic',
            grant_types: ['client_credentials'],
            scope: SCOPE,
          }),
        });
        const body = await r.json();
        if (r.status === 201 && body.client_id && body.client_secret) lat.push(performance.now() - s);
        else
          failures.set(`${r.status} ${body.error ?? ''}`, (failures.get(`${r.status} ${body.error ?? ''}`) ?? 0) + 1);
      } catch (e) {
        failures.set(e.cause?.code ?? e.message, (failures.get(e.cause?.code ?? e.message) ?? 0) + 1);
      }
    }
  };
  await Promise.all(Array.from({ length: cfg.connections }, worker));
  const wall = (performance.now() - t0) / 1000;
  lat.sort((a, b) => a - b);
  const pct = (p) => lat[Math.min(lat.length - 1, Math.ceil((p / 100) * lat.length) - 1)];
  return {
    n: issued,
    ok: lat.length,
    failed: issued - lat.length,
    capped: issued < n ? `stopped after ${fmt(wall, 0)} s (BURST_MAX_SECONDS) with ${issued} of ${n} sent` : undefined,
    failures: [...failures].map(([k, v]) => `${k}×${v}`).join(', '),
    rps: lat.length / wall,
    p50: pct(50),
    p99: pct(99),
    max: lat[lat.length - 1],
    load: `${loadBefore} → ${la()}`,
  };
}
