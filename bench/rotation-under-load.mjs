#!/usr/bin/env node
// Secret rotation under load, against the built server: a fleet of simulated client instances
// requests tokens with client_secret_basic without pause while the client rotates its secret
// through RFC 7592 (PUT /register/:id) and the instances switch to the new secret one by one.
// The promise: zero failed token requests during the overlap, and only the new secret works
// after it. A benchmark: it prints figures; the exit code is 1 when a request failed or a
// post-check did not hold.
//
//   npm run build && node bench/rotation-under-load.mjs
//   DURATION=20 INSTANCES=8 CONNECTIONS_PER_INSTANCE=4 node bench/rotation-under-load.mjs
//
// Env: DURATION (s, 20), INSTANCES (8), CONNECTIONS_PER_INSTANCE (4), PORT (a free one),
// SECRET_ROTATION_OVERLAP (s; default DURATION, so the overlap ends shortly after the load and
// the "old secret refused" check runs against the real clock), ROTATE_AT (s into the run, 25 %),
// SWITCH_WINDOW (s over which instances switch, 50 % of DURATION), SERVER_CORE (0) / LOADGEN_CORE (1)
// (taskset pinning when available; "" to not pin), BUILD=1 (npm run build first),
// BENCH_VERBOSE=1 (echo server output).
//
// Procedure: fresh DATA_DIR (SQLite) and CLAVIS_KEK; an initial access token from the operator
// CLI (`main.js initial-tokens create`, same env); the server started (RATE_LIMIT=false);
// the client registered over HTTP; INSTANCES × CONNECTIONS_PER_INSTANCE request loops (one
// keep-alive agent per instance) for DURATION s; at ROTATE_AT a PUT rotates the secret; over
// SWITCH_WINDOW the instances adopt it one at a time; afterwards: the old secret still works
// (inside the overlap), then once the overlap is over it is refused and the new one works.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { createServer } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** A free TCP port on 127.0.0.1. */
function freePort() {
  return new Promise((resolvePort, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolvePort(port));
    });
  });
}

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const MAIN = join(ROOT, 'dist/apps/auth-server/main.js');
const num = (name, fallback) =>
  process.env[name] === undefined || process.env[name] === '' ? fallback : Number(process.env[name]);
const cfg = {
  duration: num('DURATION', 20),
  instances: num('INSTANCES', 8),
  perInstance: num('CONNECTIONS_PER_INSTANCE', 4),
  port: num('PORT', 0) || (await freePort()),
};
cfg.overlap = num('SECRET_ROTATION_OVERLAP', cfg.duration);
cfg.rotateAt = num('ROTATE_AT', cfg.duration * 0.25);
cfg.switchWindow = num('SWITCH_WINDOW', cfg.duration * 0.5);
const serverCore = process.env.SERVER_CORE ?? '0';
const loadgenCore = process.env.LOADGEN_CORE ?? '1';
const canPin = spawnSync('taskset', ['-V']).status === 0 && serverCore !== '' && loadgenCore !== '';
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const issuer = `http://127.0.0.1:${cfg.port}`;

if (process.env.BUILD === '1' || !existsSync(MAIN)) {
  console.log('building (npm run build)…');
  execFileSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'inherit' });
}

const dataDir = mkdtempSync(join(tmpdir(), 'clavis-bench-rotation-'));
const env = {
  PATH: process.env.PATH,
  HOME: process.env.HOME,
  NODE_ENV: 'production',
  PORT: String(cfg.port),
  HOST: '127.0.0.1',
  ISSUER: issuer,
  DATA_DIR: dataDir,
  CLAVIS_KEK: randomBytes(32).toString('base64url'),
  SECRET_ROTATION_OVERLAP: String(cfg.overlap),
  RATE_LIMIT: 'false',
  LOG_LEVEL: 'warn',
};

// ---------------------------------------------------------------------------------------------
// Minimal HTTP over keep-alive agents (node:http: less overhead than fetch for the load loops).

function httpRequest(agent, method, path, headers, body) {
  return new Promise((resolvePromise) => {
    const started = process.hrtime.bigint();
    const req = request(
      {
        host: '127.0.0.1',
        port: cfg.port,
        method,
        path,
        headers: { ...headers, ...(body ? { 'content-length': Buffer.byteLength(body) } : {}) },
        agent,
      },
      (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () =>
          resolvePromise({
            status: res.statusCode,
            text: Buffer.concat(chunks).toString('utf8'),
            ms: Number(process.hrtime.bigint() - started) / 1e6,
          }),
        );
        res.on('error', (e) => resolvePromise({ status: 0, text: e.message, ms: 0 }));
      },
    );
    req.on('error', (e) => resolvePromise({ status: 0, text: e.message, ms: 0 }));
    if (body) req.write(body);
    req.end();
  });
}
const basic = (id, secret) =>
  `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;
const TOKEN_BODY = 'grant_type=client_credentials';
const tokenRequest = (agent, clientId, secret) =>
  httpRequest(
    agent,
    'POST',
    '/token',
    { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(clientId, secret) },
    TOKEN_BODY,
  );
const json = (agent, method, path, token, body) =>
  httpRequest(
    agent,
    method,
    path,
    {
      'content-type': 'application/json',
      accept: 'application/json',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body === undefined ? undefined : JSON.stringify(body),
  );

function percentile(sorted, p) {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

// ---------------------------------------------------------------------------------------------

let server;
async function main() {
  if (canPin) execFileSync('taskset', ['-a', '-p', '-c', loadgenCore, String(process.pid)], { stdio: 'ignore' });

  // 1. An initial access token from the operator CLI (same environment as the server).
  const cli = execFileSync(
    process.execPath,
    [MAIN, 'initial-tokens', 'create', '--uses', '1', '--description', 'rotation bench'],
    { env, cwd: ROOT, encoding: 'utf8' },
  );
  const initialAccessToken = JSON.parse(cli.slice(cli.indexOf('{'))).initial_access_token;

  // 2. The server.
  const cmd = canPin ? ['taskset', ['-c', serverCore, process.execPath, MAIN]] : [process.execPath, [MAIN]];
  server = spawn(cmd[0], cmd[1], { env, cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  const serverLog = [];
  for (const s of [server.stdout, server.stderr])
    s.on('data', (c) => {
      serverLog.push(c.toString());
      if (process.env.BENCH_VERBOSE) process.stderr.write(`  server: ${c}`);
    });
  const up = Date.now() + 20_000;
  for (;;) {
    const r = await httpRequest(undefined, 'GET', '/.well-known/oauth-authorization-server', {});
    if (r.status === 200) break;
    if (Date.now() > up || server.exitCode !== null) throw new Error(`server did not start:\n${serverLog.join('')}`);
    await sleep(100);
  }

  // 3. The client registers itself (RFC 7591).
  const mgmt = new Agent({ keepAlive: true, maxSockets: 1 });
  const reg = await json(mgmt, 'POST', '/register', initialAccessToken, {
    token_endpoint_auth_method: 'client_secret_basic',
    scope: 'statements:read',
    client_name: 'rotation bench',
  });
  if (reg.status !== 201) throw new Error(`registration failed: ${reg.status} ${reg.text}`);
  const registration = JSON.parse(reg.text);
  const clientId = registration.client_id;
  const oldSecret = registration.client_secret;
  let newSecret;

  // 4. The fleet.
  const instances = Array.from({ length: cfg.instances }, (_, i) => ({
    id: i,
    agent: new Agent({ keepAlive: true, maxSockets: cfg.perInstance }),
    secret: oldSecret,
    uses: 'old',
    count: { old: 0, new: 0 },
    failures: [],
  }));
  const latencies = [];
  let stopping = false;
  const loadBefore = loadavg()[0];
  const started = Date.now();
  const loops = instances.flatMap((inst) =>
    Array.from({ length: cfg.perInstance }, async () => {
      while (!stopping) {
        const which = inst.uses;
        const res = await tokenRequest(inst.agent, clientId, inst.secret);
        inst.count[which]++;
        latencies.push(res.ms);
        if (res.status !== 200)
          inst.failures.push({ at: Date.now() - started, which, status: res.status, body: res.text.slice(0, 200) });
      }
    }),
  );

  // 5. The rotation (RFC 7592 PUT of the unchanged metadata), then the instances switch one by one.
  await sleep(cfg.rotateAt * 1000);
  const putStarted = Date.now();
  const put = await json(
    mgmt,
    'PUT',
    new URL(registration.registration_client_uri).pathname,
    registration.registration_access_token,
    {
      client_id: clientId,
      token_endpoint_auth_method: 'client_secret_basic',
      scope: 'statements:read',
      client_name: 'rotation bench',
    },
  );
  const rotatedAt = Date.now();
  if (put.status !== 200) throw new Error(`rotation failed: ${put.status} ${put.text}`);
  const rotated = JSON.parse(put.text);
  newSecret = rotated.client_secret;
  const step = (cfg.switchWindow * 1000) / cfg.instances;
  const switches = [];
  for (const inst of instances) {
    await sleep(step);
    inst.secret = newSecret;
    inst.uses = 'new';
    switches.push(Date.now() - started);
  }
  const remaining = cfg.duration * 1000 - (Date.now() - started);
  if (remaining > 0) await sleep(remaining);
  stopping = true;
  await Promise.all(loops);
  const elapsed = (Date.now() - started) / 1000;

  // 6. After the load: inside the overlap the old secret still works; after it only the new one.
  const check = new Agent({ keepAlive: false });
  const oldInOverlap = (await tokenRequest(check, clientId, oldSecret)).status;
  const overlapEnds = rotatedAt + cfg.overlap * 1000 + 1500;
  if (overlapEnds > Date.now()) await sleep(overlapEnds - Date.now());
  const oldAfter = (await tokenRequest(check, clientId, oldSecret)).status;
  const newAfter = (await tokenRequest(check, clientId, newSecret)).status;
  const regTokenRotated = (
    await json(
      check,
      'GET',
      new URL(registration.registration_client_uri).pathname,
      registration.registration_access_token,
    )
  ).status;
  const regTokenNew = (
    await json(check, 'GET', new URL(registration.registration_client_uri).pathname, rotated.registration_access_token)
  ).status;

  const requests = instances.reduce((n, i) => n + i.count.old + i.count.new, 0);
  const failures = instances.flatMap((i) => i.failures);
  latencies.sort((a, b) => a - b);
  const result = {
    config: {
      ...cfg,
      connections: cfg.instances * cfg.perInstance,
      pinned: canPin ? { server: serverCore, loadgen: loadgenCore } : false,
      loadavg1m: { before: +loadBefore.toFixed(2), after: +loadavg()[0].toFixed(2) },
    },
    requests,
    withOldSecret: instances.reduce((n, i) => n + i.count.old, 0),
    withNewSecret: instances.reduce((n, i) => n + i.count.new, 0),
    failures: failures.length,
    rps: Math.round(requests / elapsed),
    latencyMs: {
      p50: +percentile(latencies, 50).toFixed(2),
      p99: +percentile(latencies, 99).toFixed(2),
      max: +latencies.at(-1).toFixed(2),
    },
    rotation: { putAtMs: putStarted - started, putLatencyMs: rotatedAt - putStarted, switchesAtMs: switches },
    afterwards: {
      oldSecretInsideOverlap: oldInOverlap,
      oldSecretAfterOverlap: oldAfter,
      newSecretAfterOverlap: newAfter,
      oldRegistrationToken: regTokenRotated,
      newRegistrationToken: regTokenNew,
    },
    ...(failures.length ? { firstFailures: failures.slice(0, 5) } : {}),
  };
  console.log(JSON.stringify(result, null, 2));
  const ok =
    failures.length === 0 &&
    oldInOverlap === 200 &&
    oldAfter === 401 &&
    newAfter === 200 &&
    regTokenRotated === 401 &&
    regTokenNew === 200;
  console.log(
    ok ? 'OK: zero failed token requests during the rotation; after the overlap only the new secret works' : 'NOT OK',
  );
  for (const i of instances) i.agent.destroy();
  mgmt.destroy();
  return ok;
}

main()
  .then((ok) => {
    process.exitCode = ok ? 0 : 1;
  })
  .catch((e) => {
    console.error(e);
    process.exitCode = 1;
  })
  .finally(async () => {
    if (server && server.exitCode === null && server.signalCode === null) {
      const exited = new Promise((r) => server.once('exit', r));
      server.kill('SIGTERM');
      await Promise.race([exited, sleep(5_000)]);
      if (server.exitCode === null && server.signalCode === null) server.kill('SIGKILL');
    }
    rmSync(dataDir, { recursive: true, force: true });
  });
