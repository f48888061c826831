#!/usr/bin/env node
// Scale-out benchmark: one Clavis instance, then two, on one PostgreSQL database and one Redis, the
// load generator spreading its connections over the instances. Reports throughput, the CPU the
// instances used (from /proc: throughput per core used), latency, and how many replayed assertions
// were accepted (must be 0). A benchmark, not a test: it reports figures and never asserts them.
//
//   DATABASE_URL=postgres://… REDIS_URL=redis://… npm run bench:scale-out
//
// Env: DATABASE_URL (required: a database of its own, empty or with data under CLAVIS_KEK, which is
// random when unset; migrations run at start), REDIS_URL
// (optional: without it the replay store is PostgreSQL's batched inserts), DURATION (s, 10),
// WARMUP (s, 3), CONNECTIONS (32, split evenly over the instances), METHODS (client_secret_basic,
// private_key_jwt), PORT_BASE (4311), REPLAYS (100: accepted assertions sent again, plus fresh ones
// sent to both instances at once), BUILD=1 (rebuild dist first), RESULTS (default
// bench/RESULTS-scale-out.md; 0 = do not write), BENCH_VERBOSE=1.
//
// Procedure: the clients are created with the operator CLI on the database; per method and per
// setting (1 instance, 2 instances) the instances are started (not pinned: the machine's scheduler
// places them), warmed up, then measured; the CPU seconds of every instance process over the
// measured run give "cores used". JWT methods send a fresh assertion per request (pool generated
// beforehand). After each run, REPLAYS assertions that were accepted are sent again, alternately to
// each instance, and REPLAYS fresh assertions are each sent to every instance at once: any 2xx
// beyond one per assertion is a replay accepted.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  assertionBody,
  benchScratch,
  envNumber,
  assertionPool,
  clientKeyPair,
  load,
  machineInfo,
  makeAssertion,
  processCpuSeconds,
  requestShape,
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
  warmup: num('WARMUP', 3),
  connections: num('CONNECTIONS', 32),
  portBase: num('PORT_BASE', 4311),
  replays: num('REPLAYS', 100),
  methods: (env.METHODS || 'client_secret_basic,private_key_jwt').split(/[\s,]+/).filter(Boolean),
  results: env.RESULTS === '0' ? undefined : resolve(env.RESULTS || join(HERE, 'RESULTS-scale-out.md')),
};
if (!env.DATABASE_URL) {
  process.stderr.write('bench:scale-out needs DATABASE_URL (postgres://…) and, for the intended setting, REDIS_URL\n');
  process.exit(2);
}
const DIST_MAIN_JS = join(ROOT, 'dist/apps/auth-server/main.js');
const RUN_DIR = join(HERE, `.run-${process.pid}`);
const MAIN_JS = join(RUN_DIR, 'main.js');
const fmt = (x, d = 0) => (Number.isFinite(x) ? x.toFixed(d) : '—');
const log = (s = '') => process.stdout.write(`${s}\n`);
// One issuer for every instance (they are one server), one KEK.
const ISSUER = `http://127.0.0.1:${cfg.portBase}`;
const KEK = env.CLAVIS_KEK || randomBytes(32).toString('base64url');
// Upper bound of the total rate on this machine kind, to size each run's pools of assertions (never run dry).
const POOL_RPS = 5_000;

const scratch = benchScratch('clavis-scale-out-', RUN_DIR);
const { tmp, running } = scratch;
await scratch.run(main);

function serverEnv(port) {
  const e = {
    ...env,
    NODE_ENV: 'production',
    PORT: String(port),
    HOST: '127.0.0.1',
    ISSUER,
    DATA_DIR: tmp,
    CLAVIS_KEK: KEK,
    LOG_LEVEL: 'warn',
    RATE_LIMIT_TOKEN_PER_ADDRESS: '100000000',
    RATE_LIMIT_TOKEN_PER_CLIENT: '100000000',
    RATE_LIMIT_AUTH_FAILURES_PER_ADDRESS: '100000000',
  };
  delete e.SQLITE_PATH;
  return e;
}

async function main() {
  const machine = machineInfo();
  const started = new Date();
  log(`Clavis scale-out benchmark — ${started.toISOString()}`);
  log(
    `machine: ${machine.nproc} cores, ${machine.model}, node ${machine.node}; load average ${loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')}`,
  );
  if (!existsSync(DIST_MAIN_JS) || env.BUILD === '1')
    execFileSync('npm', ['run', 'build'], { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'] });
  mkdirSync(RUN_DIR, { recursive: true });
  copyFileSync(DIST_MAIN_JS, MAIN_JS);
  let commit = 'unknown';
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
  } catch {
    /* not a checkout */
  }

  const keys = clientKeyPair();
  const jwksFile = join(tmp, 'client-jwks.json');
  writeFileSync(jwksFile, JSON.stringify(keys.jwks));
  const clients = {};
  for (const method of cfg.methods) {
    const args = [MAIN_JS, 'clients', 'create', '--method', method, '--scope', 'statements:read statements:write'];
    if (method === 'private_key_jwt') args.push('--jwks-file', jwksFile);
    const out = JSON.parse(
      execFileSync(process.execPath, args, { cwd: ROOT, env: serverEnv(cfg.portBase), encoding: 'utf8' }),
    );
    clients[method] = {
      clientId: out.client_id,
      secret: out.client_secret,
      privateKey: keys.privateKey,
      kid: keys.kid,
    };
  }

  const rows = [];
  for (const method of cfg.methods) {
    for (const instances of [1, 2]) {
      const r = await run(method, clients[method], instances);
      rows.push(r);
      log(
        `${method}, ${instances} instance(s): ${fmt(r.rps)} rps, ${fmt(r.cores, 2)} server cores → ${fmt(r.rpsPerCore)} rps/core, p99 ${fmt(r.p99, 1)} ms, non-2xx ${r.non2xx}, errors ${r.errors}, replays accepted ${r.replaysAccepted}`,
      );
    }
  }
  const report = render(machine, started, commit, rows);
  log();
  log(report);
  if (cfg.results) {
    writeFileSync(cfg.results, report);
    log(`wrote ${relative(process.cwd(), cfg.results)}`);
  }
}

async function run(method, client, instances) {
  const ports = Array.from({ length: instances }, (_, i) => cfg.portBase + i);
  const procs = [];
  for (const port of ports) {
    // Not pinned (core -1 is not a core): `taskset -c 0-N` = every core.
    const p = spawnPinned(`0-${cpus().length - 1}`, process.execPath, [MAIN_JS], {
      env: serverEnv(port),
      cwd: ROOT,
      name: `clavis:${port}`,
    });
    running.add(p);
    procs.push(p);
  }
  try {
    for (const [i, port] of ports.entries())
      await waitForHttp(`http://127.0.0.1:${port}/.well-known/oauth-authorization-server`, procs[i], 90_000);
    const shape = requestShape(method, client, ISSUER);
    const per = Math.max(1, Math.floor(cfg.connections / instances));
    const pools = (seconds) =>
      ports.map(() =>
        shape.assertions
          ? assertionPool(shape.assertions, Math.ceil((POOL_RPS * seconds * 1.2) / instances))
          : undefined,
      );
    const spread = (seconds, poolsFor) =>
      Promise.all(
        ports.map((port, i) =>
          load({
            url: `http://127.0.0.1:${port}/token`,
            connections: per,
            duration: seconds,
            shape,
            pool: poolsFor[i],
          }),
        ),
      );
    if (cfg.warmup > 0) await spread(cfg.warmup, pools(cfg.warmup));
    const measuredPools = pools(cfg.duration);
    const cpu0 = procs.map((p) => processCpuSeconds(p.child.pid));
    const t0 = performance.now();
    const results = await spread(cfg.duration, measuredPools);
    const wall = (performance.now() - t0) / 1000;
    const cpu = procs.map((p, i) => processCpuSeconds(p.child.pid) - cpu0[i]);
    const cores = cpu.reduce((a, b) => a + b, 0) / wall;
    const ok = results.reduce((a, r) => a + r.ok, 0);
    const rps = results.reduce((a, r) => a + r.rps, 0);
    const replaysAccepted = shape.assertions ? await replays(shape, ports, measuredPools) : 0;
    return {
      method,
      instances,
      rps,
      ok,
      cores,
      perInstanceCores: cpu.map((c) => c / wall),
      rpsPerCore: rps / cores,
      p50: Math.max(...results.map((r) => r.p50)),
      p99: Math.max(...results.map((r) => r.p99)),
      non2xx: results.reduce((a, r) => a + r.non2xx, 0),
      errors: results.reduce((a, r) => a + r.errors + r.timeouts, 0),
      exhausted: results.reduce((a, r) => a + r.exhausted, 0),
      replaysAccepted,
      replaysSent: shape.assertions ? cfg.replays * (1 + ports.length) : 0,
    };
  } finally {
    for (const p of procs) {
      await stop(p);
      running.delete(p);
    }
  }
}

/**
 * Replays: accepted assertions sent again (alternating instances), and fresh ones to every instance
 * at once; 10 at a time. A request that fails (no HTTP answer) counts as an error, not as accepted.
 */
async function replays(shape, ports, pools) {
  const post = (port, body) =>
    fetch(`http://127.0.0.1:${port}/token`, { method: 'POST', headers: shape.headers, body })
      .then((r) => r.status)
      .catch(() => 0);
  const inBatches = async (items, fn) => {
    const out = [];
    for (let i = 0; i < items.length; i += 10) out.push(...(await Promise.all(items.slice(i, i + 10).map(fn))));
    return out;
  };
  const ok = (s) => s >= 200 && s < 300;
  let accepted = 0;
  const used = pools[0].slice(0, cfg.replays);
  const again = await inBatches(
    used.map((body, i) => [ports[i % ports.length], body]),
    ([port, body]) => post(port, body),
  );
  accepted += again.filter(ok).length;
  const now = Math.floor(Date.now() / 1000);
  const fresh = Array.from({ length: cfg.replays }, () => assertionBody(makeAssertion(shape.assertions, now)));
  const raced = await inBatches(fresh, (body) => Promise.all(ports.map((port) => post(port, body))));
  for (const statuses of raced) accepted += Math.max(0, statuses.filter(ok).length - 1);
  const failed = again.filter((s) => s === 0).length + raced.flat().filter((s) => s === 0).length;
  if (failed) log(`  replay check: ${failed} requests got no HTTP answer (not counted as accepted)`);
  return accepted;
}

function render(machine, started, commit, rows) {
  const lines = [
    '# Scale-out: one and two Clavis instances on PostgreSQL + Redis',
    '',
    `Generated by \`npm run bench:scale-out\` on ${started.toISOString()}; ${machine.nproc} cores, ${machine.model}, node ${machine.node}; commit ${commit}.`,
    `Database: PostgreSQL${env.REDIS_URL ? ' + Redis (replay store, deny list, rate-limit counters)' : ' only (replay store: batched inserts)'}; client cache on (staleness bound ${env.CLIENT_CACHE_STALENESS_MS || 1000} ms).`,
    `Load: ${cfg.connections} connections split evenly over the instances, warm-up ${cfg.warmup} s, measured ${cfg.duration} s; instances not pinned (the machine's scheduler places them); "server cores" = CPU seconds of the instance processes / wall time (PostgreSQL, Redis and the load generator not included). The machine is shared: absolute figures vary between sittings, the ratios less.`,
    '',
    '| method | instances | rps | server cores | rps per server core | p50 ms | p99 ms | non-2xx | errors | replays sent | replays accepted |',
    '|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|',
  ];
  for (const r of rows)
    lines.push(
      `| ${r.method} | ${r.instances} | ${fmt(r.rps)} | ${fmt(r.cores, 2)} (${r.perInstanceCores.map((c) => fmt(c, 2)).join(' + ')}) | ${fmt(r.rpsPerCore)} | ${fmt(r.p50, 1)} | ${fmt(r.p99, 1)} | ${r.non2xx} | ${r.errors} | ${r.replaysSent} | ${r.replaysAccepted} |`,
    );
  lines.push(
    '',
    '| method | 2 instances / 1: rps | rps per server core, 2 instances / 1 | two instances at one core each, projected (2 × per-core ratio) |',
    '|---|--:|--:|--:|',
  );
  for (const m of new Set(rows.map((r) => r.method))) {
    const one = rows.find((r) => r.method === m && r.instances === 1);
    const two = rows.find((r) => r.method === m && r.instances === 2);
    if (!one || !two) continue;
    const perCore = two.rpsPerCore / one.rpsPerCore;
    lines.push(`| ${m} | ${fmt(two.rps / one.rps, 2)}× | ${fmt(perCore, 2)} | ${fmt(2 * perCore, 2)}× |`);
  }
  lines.push('');
  return lines.join('\n');
}
