#!/usr/bin/env node
// What `BearerTokenGuard` costs a route: throughput and server CPU per request of
//   1. an unguarded route of the demo server (GET /.well-known/oauth-authorization-server),
//   2. the demo's guarded GET /statements (in-process keys, revocation asked at most once per
//      `revocationCheckInterval` per token: deny list + client table, ADR 0028),
//   3. GET /open/statements of bench/resource-peer.mjs (NestJS + Fastify, unguarded),
//   4. the same unguarded route with the bearer header sent (the same request bytes as 6),
//   5. GET /allow/statements of the peer: a guard that only returns true (the floor of any Nest guard),
//   6. GET /statements of the same peer, behind the guard in remote mode (keys from `jwks_uri`).
// One bearer token (client_credentials, client_secret_basic) for every guarded request, as a client
// calling an API does. A benchmark, not a test: it reports figures and never asserts them.
//
//   npm run bench:guard                 # DURATION=10 CONNECTIONS=32 WARMUP=3
// Env: DURATION, CONNECTIONS, WARMUP, SERVER_CORE (0), LOADGEN_CORE (1), CLAVIS_PORT (4311),
// PEER_PORT (4312), BUILD=1 (rebuild dist first), RESULTS (report path, default bench/GUARD.md; 0 = none).
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';

import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  benchScratch,
  coreTimes,
  envNumber,
  fmt,
  loadAverage,
  pinSelfToCore,
  coreUse,
  load,
  machineInfo,
  processCpuSeconds,
  sleep,
  spawnPinned,
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
  clavisPort: num('CLAVIS_PORT', 4311),
  peerPort: num('PEER_PORT', 4312),
  results: env.RESULTS === '0' ? undefined : resolve(env.RESULTS || join(HERE, 'GUARD.md')),
};
const la = loadAverage;

pinSelfToCore(cfg.loadgenCore, import.meta.url);

const log = (s = '') => process.stdout.write(`${s}\n`);
const started = new Date();
const RUN_DIR = join(HERE, `.run-${process.pid}`);
const scratch = benchScratch('clavis-guard-bench-', RUN_DIR);
const { tmp, running } = scratch;
await scratch.run(main);

async function main() {
  const machine = machineInfo();
  const distMain = join(ROOT, 'dist/apps/auth-server/main.js');
  if (!existsSync(distMain) || env.BUILD === '1')
    execFileSync('npm', ['run', 'build'], { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'] });
  // The remote-mode peer imports @clavis/resource from its build.
  execFileSync(
    process.execPath,
    [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'libs/resource/tsconfig.build.json'],
    {
      cwd: ROOT,
      stdio: 'inherit',
    },
  );
  mkdirSync(RUN_DIR, { recursive: true });
  const mainJs = join(RUN_DIR, 'main.js');
  copyFileSync(distMain, mainJs);
  const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();

  const issuer = `http://127.0.0.1:${cfg.clavisPort}`;
  const serverEnv = {
    ...env,
    NODE_ENV: 'production',
    PORT: String(cfg.clavisPort),
    HOST: '127.0.0.1',
    ISSUER: issuer,
    DATA_DIR: mkdtempSync(join(tmp, 'data-')),
    CLAVIS_KEK: randomBytes(32).toString('base64url'),
    LOG_LEVEL: 'warn',
    RATE_LIMIT_TOKEN_PER_ADDRESS: '100000000',
    RATE_LIMIT_TOKEN_PER_CLIENT: '100000000',
    RATE_LIMIT_AUTH_FAILURES_PER_ADDRESS: '100000000',
  };
  for (const k of ['BENCH_PINNED', 'DATABASE_URL', 'REDIS_URL', 'SQLITE_PATH']) delete serverEnv[k];
  const client = JSON.parse(
    execFileSync(
      process.execPath,
      [
        mainJs,
        'clients',
        'create',
        '--method',
        'client_secret_basic',
        '--scope',
        'statements:read',
        '--name',
        'guard bench',
      ],
      { cwd: ROOT, env: serverEnv, encoding: 'utf8' },
    ),
  );
  const clavis = spawnPinned(cfg.serverCore, process.execPath, [mainJs], { env: serverEnv, cwd: ROOT, name: 'clavis' });
  running.add(clavis);
  await waitForHttp(`${issuer}/.well-known/oauth-authorization-server`, clavis);
  const peer = spawnPinned(cfg.serverCore, process.execPath, [join(HERE, 'resource-peer.mjs')], {
    env: { ...serverEnv, PORT: String(cfg.peerPort), AUDIENCE: issuer },
    cwd: ROOT,
    name: 'peer',
  });
  running.add(peer);
  const peerUrl = `http://127.0.0.1:${cfg.peerPort}`;
  await waitForHttp(`${peerUrl}/open/statements`, peer);

  const token = async () => {
    const basic = Buffer.from(`${encodeURIComponent(client.client_id)}:${encodeURIComponent(client.client_secret)}`);
    const r = await fetch(`${issuer}/token`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${basic.toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: 'grant_type=client_credentials&scope=statements%3Aread',
    });
    if (!r.ok) throw new Error(`token: ${r.status} ${await r.text()}`);
    return (await r.json()).access_token;
  };
  const check = async (url, headers, want) => {
    const r = await fetch(url, { headers });
    await r.arrayBuffer();
    if (r.status !== want) throw new Error(`GET ${url}: ${r.status}, expected ${want}`);
    return `${new URL(url).pathname} ${r.status}`;
  };

  const cases = [
    {
      name: 'demo server, unguarded route',
      key: 'open',
      proc: clavis,
      url: `${issuer}/.well-known/oauth-authorization-server`,
    },
    {
      name: 'demo server, GET /statements, in-process guard with revocation checks',
      key: 'inproc',
      proc: clavis,
      url: `${issuer}/statements`,
      bearer: true,
    },
    {
      name: 'resource peer, GET /open/statements, unguarded',
      key: 'peerOpen',
      proc: peer,
      url: `${peerUrl}/open/statements`,
    },
    {
      name: 'resource peer, GET /open/statements, unguarded, the same Authorization header sent',
      key: 'peerOpenBearer',
      proc: peer,
      url: `${peerUrl}/open/statements`,
      bearer: true,
      open: true,
    },
    {
      name: 'resource peer, GET /allow/statements, a guard that returns true (Nest floor), header sent',
      key: 'allow',
      proc: peer,
      url: `${peerUrl}/allow/statements`,
      bearer: true,
      open: true,
    },
    {
      name: 'resource peer, GET /statements, guard in remote mode (jwks_uri)',
      key: 'remote',
      proc: peer,
      url: `${peerUrl}/statements`,
      bearer: true,
    },
  ];
  const checks = [];
  const runs = [];
  log(
    `guard bench — ${started.toISOString()}, commit ${commit}; ${cfg.connections} connections, ${cfg.warmup}+${cfg.duration} s per run`,
  );
  for (const c of cases) {
    // A fresh token per run (tokens live 300 s); the first guarded request verifies it, the rest hit the cache.
    const headers = c.bearer ? { authorization: `Bearer ${await token()}` } : {};
    checks.push(await check(c.url, headers, 200));
    if (c.bearer && !c.open) checks.push(`${await check(c.url, {}, 401)} without a token`);
    const shape = { headers };
    if (cfg.warmup)
      await load({ url: c.url, connections: cfg.connections, duration: cfg.warmup, shape, method: 'GET' });
    await sleep(200);
    const loadBefore = la();
    const cpu0 = processCpuSeconds(c.proc.child.pid);
    const cores0 = coreTimes();
    const t0 = performance.now();
    const run = await load({ url: c.url, connections: cfg.connections, duration: cfg.duration, shape, method: 'GET' });
    const wall = (performance.now() - t0) / 1000;
    run.serverCpu = (processCpuSeconds(c.proc.child.pid) - cpu0) / wall;
    run.foreign = Math.max(0, coreUse(cores0, coreTimes(), cfg.serverCore).busy - run.serverCpu);
    run.cpuPerRequestUs = (run.serverCpu / run.rps) * 1e6;
    run.load = `${loadBefore} → ${la()}`;
    Object.assign(run, c);
    runs.push(run);
    log(
      `  ${c.name.padEnd(72)} ${fmt(run.rps, 0).padStart(6)} rps  ${fmt(run.cpuPerRequestUs, 0).padStart(4)} µs CPU/req  p50 ${fmt(run.p50, 2)}  p99 ${fmt(run.p99, 2)} ms  non-2xx ${run.non2xx} errors ${run.errors}  [server ${fmt(run.serverCpu, 2)} cores, other ${fmt(run.foreign, 2)}, load ${run.load}]`,
    );
  }
  const by = Object.fromEntries(runs.map((r) => [r.key, r]));
  const ratio = (a, b) => by[a].rps / by[b].rps;
  const cpuRatio = (a, b) => by[b].cpuPerRequestUs / by[a].cpuPerRequestUs;
  const L = [];
  L.push('## Guarded routes (`npm run bench:guard`)', '');
  L.push(
    `${started.toISOString()}, commit ${commit}; ${machine.nproc} cores, ${machine.model}, node ${machine.node}; ${cfg.connections} connections, keep-alive, warm-up ${cfg.warmup} s then ${cfg.duration} s per route; servers pinned to core ${cfg.serverCore}, load generator to core ${cfg.loadgenCore}. One bearer token per run (fresh, client_credentials), as a calling service sends. Checked before loading: ${checks.join(', ')}.`,
    '',
  );
  L.push(
    '| route | rps | server CPU per request | p50 ms | p99 ms | non-2xx | errors | server CPU (cores) | other work on its core | load average 1/5/15 (before → after) |',
  );
  L.push('|---|--:|--:|--:|--:|--:|--:|--:|--:|---|');
  for (const r of runs)
    L.push(
      `| ${r.name} | ${fmt(r.rps, 0)} | ${fmt(r.cpuPerRequestUs, 0)} µs | ${fmt(r.p50, 2)} | ${fmt(r.p99, 2)} | ${r.non2xx} | ${r.errors} | ${fmt(r.serverCpu, 2)} | ${fmt(r.foreign, 2)} | ${r.load} |`,
    );
  L.push('');
  const inproc = ratio('inproc', 'open');
  const remote = ratio('remote', 'peerOpen');
  L.push(
    `- In-process guard with revocation checks: **${fmt(inproc * 100, 0)} %** of the unguarded route's rps (${fmt(cpuRatio('inproc', 'open') * 100, 0)} % by CPU per request); target ≥ 70 %: **${inproc >= 0.7 ? 'met' : 'not met'}**.`,
  );
  L.push(
    `- Remote mode: **${fmt(remote * 100, 0)} %** of the same route unguarded (${fmt(cpuRatio('remote', 'peerOpen') * 100, 0)} % by CPU per request); target ≥ 85 %: **${remote >= 0.85 ? 'met' : 'not met'}**.`,
  );
  L.push(
    `- Guard cost per request: in-process ${fmt(by.inproc.cpuPerRequestUs - by.open.cpuPerRequestUs, 0)} µs, remote ${fmt(by.remote.cpuPerRequestUs - by.peerOpen.cpuPerRequestUs, 0)} µs of server CPU.`,
  );
  L.push(
    `- Remote mode against the unguarded route receiving the same request (Authorization header included): **${fmt(ratio('remote', 'peerOpenBearer') * 100, 0)} %**; a guard that only returns true (Nest's guard machinery and \`@Req()\`) already gives ${fmt(ratio('allow', 'peerOpenBearer') * 100, 0)} % (${fmt(by.allow.cpuPerRequestUs - by.peerOpenBearer.cpuPerRequestUs, 0)} µs), so BearerTokenGuard's own work costs ${fmt(by.remote.cpuPerRequestUs - by.allow.cpuPerRequestUs, 0)} µs.`,
  );
  L.push(
    "- The demo server's unguarded route is its RFC 8414 metadata (a fixed JSON document of about the same size as the statements); the peer compares the very same handler with and without the guard.",
    '',
  );
  const report = L.join('\n');
  log('\n' + report);
  if (cfg.results) {
    writeFileSync(cfg.results, report + '\n');
    log(`wrote ${relative(process.cwd(), cfg.results)}`);
  }
}
