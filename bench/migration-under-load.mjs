#!/usr/bin/env node
// Migration between authentication methods under load, against the built server: a fleet of
// simulated client instances requests tokens with client_secret_basic without pause; one RFC 7592
// PUT moves the client to private_key_jwt (its public key in `jwks`), and the instances switch to
// signing assertions with the key one by one. The promise: zero failed token requests, the old
// secret working with Basic only during the overlap, refused after it. A benchmark: it prints
// figures (overall and per phase: before the PUT, while instances switch, all on the key); the
// exit code is 1 when a request failed or a post-check did not hold.
//
//   npm run build && node bench/migration-under-load.mjs        (npm run bench:migration)
//   DURATION=20 INSTANCES=8 CONNECTIONS_PER_INSTANCE=4 node bench/migration-under-load.mjs
//
// Env: DURATION (s, 20), INSTANCES (8), CONNECTIONS_PER_INSTANCE (4), PORT (a free one),
// SECRET_ROTATION_OVERLAP (s; default DURATION, so the overlap ends shortly after the load and
// the "old secret refused" check runs against the real clock), MIGRATE_AT (s into the run, 25 %),
// SWITCH_WINDOW (s over which instances switch, 50 % of DURATION), SERVER_CORE (0) / LOADGEN_CORE (1)
// (taskset pinning when available; "" to not pin), BUILD=1 (npm run build first),
// BENCH_VERBOSE=1 (echo server output).
//
// Procedure: fresh DATA_DIR (SQLite) and CLAVIS_KEK; an initial access token from the operator
// CLI; the server started (RATE_LIMIT=false); the client registered over HTTP with
// client_secret_basic; INSTANCES × CONNECTIONS_PER_INSTANCE request loops (one keep-alive agent per
// instance) for DURATION s; at MIGRATE_AT a PUT sets private_key_jwt and the ES256 public key; over
// SWITCH_WINDOW the instances move to ES256 assertions (a fresh one per request) one at a time;
// afterwards: the old secret still works with Basic and not in the form (inside the overlap), then
// once the overlap is over Basic is refused and the key works.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { createServer } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';

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
cfg.migrateAt = num('MIGRATE_AT', cfg.duration * 0.25);
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

const dataDir = mkdtempSync(join(tmpdir(), 'clavis-bench-migration-'));
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
const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
const tokenRequest = (agent, clientId, secret) =>
  httpRequest(agent, 'POST', '/token', { ...FORM, authorization: basic(clientId, secret) }, TOKEN_BODY);
const postRequest = (agent, clientId, secret) =>
  httpRequest(
    agent,
    'POST',
    '/token',
    FORM,
    `${TOKEN_BODY}&client_id=${encodeURIComponent(clientId)}&client_secret=${encodeURIComponent(secret)}`,
  );
/** A private_key_jwt token request: a fresh ES256 assertion (unique jti) per request (RFC 7523 §2.2). */
async function keyRequest(agent, clientId, key) {
  const now = Math.floor(Date.now() / 1000);
  const assertion = await new SignJWT({})
    .setProtectedHeader({ alg: 'ES256', kid: key.kid })
    .setIssuer(clientId)
    .setSubject(clientId)
    .setAudience(issuer)
    .setJti(randomBytes(16).toString('hex'))
    .setIssuedAt(now)
    .setExpirationTime(now + 60)
    .sign(key.privateKey);
  return httpRequest(
    agent,
    'POST',
    '/token',
    FORM,
    `${TOKEN_BODY}&client_assertion_type=${encodeURIComponent('urn:ietf:params:oauth:client-assertion-type:jwt-bearer')}&client_assertion=${assertion}`,
  );
}
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
    [MAIN, 'initial-tokens', 'create', '--uses', '1', '--description', 'migration bench'],
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

  // 3. The client registers itself (RFC 7591) with client_secret_basic.
  const mgmt = new Agent({ keepAlive: true, maxSockets: 1 });
  const metadata = { scope: 'statements:read', client_name: 'migration bench' };
  const reg = await json(mgmt, 'POST', '/register', initialAccessToken, {
    ...metadata,
    token_endpoint_auth_method: 'client_secret_basic',
  });
  if (reg.status !== 201) throw new Error(`registration failed: ${reg.status} ${reg.text}`);
  const registration = JSON.parse(reg.text);
  const clientId = registration.client_id;
  const secret = registration.client_secret;
  const pair = await generateKeyPair('ES256', { extractable: true });
  const key = { kid: 'bench-key-1', privateKey: pair.privateKey };
  const publicJwk = { ...(await exportJWK(pair.publicKey)), kid: key.kid, alg: 'ES256', use: 'sig' };

  // 4. The fleet. Each request is counted in the phase it started in.
  const instances = Array.from({ length: cfg.instances }, (_, i) => ({
    id: i,
    agent: new Agent({ keepAlive: true, maxSockets: cfg.perInstance }),
    uses: 'secret',
    count: { secret: 0, key: 0 },
    failures: [],
  }));
  const phases = { before: newPhase(), switching: newPhase(), after: newPhase() };
  let phase = 'before';
  let stopping = false;
  const loadBefore = loadavg()[0];
  const started = Date.now();
  const loops = instances.flatMap((inst) =>
    Array.from({ length: cfg.perInstance }, async () => {
      while (!stopping) {
        const which = inst.uses;
        const p = phases[phase];
        const res =
          which === 'secret'
            ? await tokenRequest(inst.agent, clientId, secret)
            : await keyRequest(inst.agent, clientId, key);
        inst.count[which]++;
        p.requests++;
        p[which]++;
        p.latencies.push(res.ms);
        if (res.status !== 200) {
          p.failures++;
          inst.failures.push({ at: Date.now() - started, which, status: res.status, body: res.text.slice(0, 200) });
        }
      }
    }),
  );

  // 5. The migration (RFC 7592 PUT: method private_key_jwt, the public key), then the instances switch one by one.
  await sleep(cfg.migrateAt * 1000);
  const putStarted = Date.now();
  const put = await json(
    mgmt,
    'PUT',
    new URL(registration.registration_client_uri).pathname,
    registration.registration_access_token,
    { ...metadata, client_id: clientId, token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [publicJwk] } },
  );
  const migratedAt = Date.now();
  if (put.status !== 200) throw new Error(`migration failed: ${put.status} ${put.text}`);
  const migrated = JSON.parse(put.text);
  phases.before.seconds = (putStarted - started) / 1000;
  phase = 'switching';
  const step = (cfg.switchWindow * 1000) / cfg.instances;
  const switches = [];
  for (const inst of instances) {
    await sleep(step);
    inst.uses = 'key';
    switches.push(Date.now() - started);
  }
  const allSwitched = Date.now();
  phases.switching.seconds = (allSwitched - putStarted) / 1000;
  phase = 'after';
  const remaining = cfg.duration * 1000 - (Date.now() - started);
  if (remaining > 0) await sleep(remaining);
  stopping = true;
  await Promise.all(loops);
  const ended = Date.now();
  phases.after.seconds = (ended - allSwitched) / 1000;
  const elapsed = (ended - started) / 1000;

  // 6. After the load: inside the overlap the old secret works with Basic only; after it, not at all.
  const check = new Agent({ keepAlive: false });
  const basicInOverlap = (await tokenRequest(check, clientId, secret)).status;
  const postInOverlap = (await postRequest(check, clientId, secret)).status;
  const overlapEnds = migratedAt + cfg.overlap * 1000 + 1500;
  if (overlapEnds > Date.now()) await sleep(overlapEnds - Date.now());
  const basicAfter = (await tokenRequest(check, clientId, secret)).status;
  const keyAfter = (await keyRequest(check, clientId, key)).status;

  const requests = instances.reduce((n, i) => n + i.count.secret + i.count.key, 0);
  const failures = instances.flatMap((i) => i.failures);
  const all = Object.values(phases).flatMap((p) => p.latencies);
  const result = {
    config: {
      ...cfg,
      connections: cfg.instances * cfg.perInstance,
      pinned: canPin ? { server: serverCore, loadgen: loadgenCore } : false,
      loadavg1m: { before: +loadBefore.toFixed(2), after: +loadavg()[0].toFixed(2) },
    },
    requests,
    withSecret: instances.reduce((n, i) => n + i.count.secret, 0),
    withKey: instances.reduce((n, i) => n + i.count.key, 0),
    failures: failures.length,
    rps: Math.round(requests / elapsed),
    latencyMs: summary(all),
    phases: Object.fromEntries(
      Object.entries(phases).map(([name, p]) => [
        name,
        {
          seconds: +p.seconds.toFixed(2),
          requests: p.requests,
          withSecret: p.secret,
          withKey: p.key,
          failures: p.failures,
          rps: Math.round(p.requests / p.seconds),
          latencyMs: summary(p.latencies),
        },
      ]),
    ),
    migration: {
      putAtMs: putStarted - started,
      putLatencyMs: migratedAt - putStarted,
      method: migrated.token_endpoint_auth_method,
      switchesAtMs: switches,
    },
    afterwards: {
      oldSecretBasicInsideOverlap: basicInOverlap,
      oldSecretPostInsideOverlap: postInOverlap,
      oldSecretBasicAfterOverlap: basicAfter,
      keyAfterOverlap: keyAfter,
    },
    ...(failures.length ? { firstFailures: failures.slice(0, 5) } : {}),
  };
  console.log(JSON.stringify(result, null, 2));
  const ok =
    failures.length === 0 &&
    migrated.token_endpoint_auth_method === 'private_key_jwt' &&
    basicInOverlap === 200 &&
    postInOverlap === 401 &&
    basicAfter === 401 &&
    keyAfter === 200;
  console.log(
    ok
      ? 'OK: zero failed token requests during the migration; the old secret worked with Basic only, until the overlap ended'
      : 'NOT OK',
  );
  for (const i of instances) i.agent.destroy();
  mgmt.destroy();
  return ok;
}

function newPhase() {
  return { seconds: 0, requests: 0, secret: 0, key: 0, failures: 0, latencies: [] };
}

function summary(latencies) {
  const sorted = [...latencies].sort((a, b) => a - b);
  if (!sorted.length) return null;
  return {
    p50: +percentile(sorted, 50).toFixed(2),
    p99: +percentile(sorted, 99).toFixed(2),
    max: +sorted.at(-1).toFixed(2),
  };
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
