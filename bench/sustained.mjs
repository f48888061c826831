#!/usr/bin/env node
// Sustained load against the built server, to show that the tables housekeeping looks after stay
// bounded: private_key_jwt token requests without pause (each with a fresh, single-use assertion),
// one token in REVOKE_EVERY revoked, for DURATION seconds; the row counts of the replay store and
// the deny list sampled every SAMPLE seconds. A benchmark: it prints figures (and writes them to
// RESULTS, default bench/SUSTAINED.md); the exit code is 1 only when a request failed.
//
//   npm run bench:sustained                                                # SQLite default (builds dist/ if missing)
//   DATABASE_URL=postgres://… REDIS_URL=redis://… node bench/sustained.mjs  # PostgreSQL + Redis
//
// Env: DURATION (s, 300), IDLE_TAIL (s of sampling after the load, 150), CONNECTIONS (16), SAMPLE (s, 15), ASSERTION_LIFETIME (s, 60),
// ACCESS_TOKEN_TTL (s, 60), REVOKE_EVERY (10), SERVER_CORE (0) / LOADGEN_CORE (1), PORT (4303),
// RESULTS (path, or 0 for none), BUILD=1.
//
// What bounds the tables: an assertion's jti is kept until its exp + clock skew (30 s), a revoked
// token's jti until the token's exp; housekeeping deletes what has passed every 60 s. So at a
// steady rate r the replay table holds at most about r × (lifetime + skew + 60 s) rows, whatever
// the duration. With Redis, entries expire by themselves (SET … EX).
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  JWT_BEARER,
  SCOPE,
  clientKeyPair,
  machineInfo,
  makeAssertion,
  sleep,
  spawnPinned,
  stop,
  waitForHttp,
} from './lib.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, '..');
const MAIN_JS = join(ROOT, 'dist/apps/auth-server/main.js');
const env = process.env;
const num = (name, fallback) => (env[name] ? Number(env[name]) : fallback);
const cfg = {
  duration: num('DURATION', 300),
  connections: num('CONNECTIONS', 16),
  sample: num('SAMPLE', 15),
  idleTail: num('IDLE_TAIL', 150),
  assertionLifetime: num('ASSERTION_LIFETIME', 60),
  tokenTtl: num('ACCESS_TOKEN_TTL', 60),
  revokeEvery: num('REVOKE_EVERY', 10),
  serverCore: num('SERVER_CORE', 0),
  loadgenCore: num('LOADGEN_CORE', 1),
  port: num('PORT', 4303),
  results: env.RESULTS === '0' ? null : resolve(env.RESULTS || join(HERE, 'SUSTAINED.md')),
};
const postgres = env.DATABASE_URL || null;
const redis = env.REDIS_URL || null;

// The load generator runs pinned to its own core, like the other benchmarks.
if (!env.BENCH_PINNED) {
  if (env.BUILD === '1' || !existsSync(MAIN_JS)) execFileSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'inherit' });
  const nproc = execFileSync('nproc', { encoding: 'utf8' }).trim();
  try {
    execFileSync('taskset', ['-c', String(cfg.loadgenCore), process.execPath, fileURLToPath(import.meta.url)], {
      stdio: 'inherit',
      env: { ...env, BENCH_PINNED: '1', BENCH_NPROC: nproc },
    });
  } catch (e) {
    process.exit(e.status ?? 1);
  }
  process.exit(0);
}

const issuer = `http://127.0.0.1:${cfg.port}`;
const dataDir = mkdtempSync(join(tmpdir(), 'clavis-sustained-'));
const serverEnv = {
  ...env,
  NODE_ENV: 'production',
  PORT: String(cfg.port),
  HOST: '127.0.0.1',
  ISSUER: issuer,
  DATA_DIR: dataDir,
  CLAVIS_KEK: randomBytes(32).toString('base64url'),
  LOG_LEVEL: 'warn',
  ACCESS_TOKEN_TTL: String(cfg.tokenTtl),
  RATE_LIMIT: 'false',
};
delete serverEnv.BENCH_PINNED;
delete serverEnv.SQLITE_PATH;

// Table counts, from outside the server.
async function counter() {
  if (postgres) {
    const { default: pg } = await import('pg');
    const client = new pg.Client({ connectionString: postgres });
    await client.connect();
    const { default: Redis } = redis ? await import('ioredis') : { default: null };
    const r = Redis ? new Redis(redis, { lazyConnect: false }) : null;
    const scanCount = async (pattern) => {
      let n = 0;
      let cursor = '0';
      do {
        const [next, keys] = await r.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
        cursor = next;
        n += keys.length;
      } while (cursor !== '0');
      return n;
    };
    return {
      where: redis ? 'PostgreSQL + Redis' : 'PostgreSQL',
      async count() {
        const q = async (t) => Number((await client.query(`SELECT COUNT(*) AS n FROM ${t}`)).rows[0].n);
        const out = { used_jti: await q('clavis_used_jti'), revoked_token: await q('clavis_revoked_token') };
        if (r)
          Object.assign(out, {
            redis_keys: await r.dbsize(),
            redis_jti: await scanCount('clavis:jti:*'),
            redis_revoked: await scanCount('clavis:revoked:*'),
          });
        return out;
      },
      async close() {
        await client.end();
        r?.disconnect();
      },
    };
  }
  const { default: Database } = await import('better-sqlite3');
  let db;
  return {
    where: 'SQLite',
    async count() {
      db ??= new Database(join(dataDir, 'clavis.sqlite'), { readonly: true, fileMustExist: true });
      const q = (t) => db.prepare(`SELECT COUNT(*) AS n FROM ${t}`).get().n;
      return { used_jti: q('clavis_used_jti'), revoked_token: q('clavis_revoked_token') };
    },
    async close() {
      db?.close();
    },
  };
}

const agent = new Agent({ keepAlive: true, maxSockets: cfg.connections * 2 });
function post(path, body) {
  return new Promise((resolvePost, reject) => {
    const req = request(
      `${issuer}${path}`,
      {
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => resolvePost({ status: res.statusCode, text: Buffer.concat(chunks).toString('utf8') }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const form = (o) => new URLSearchParams(o).toString();
const keys = clientKeyPair();
const jwksFile = join(dataDir, 'client-jwks.json');
writeFileSync(jwksFile, JSON.stringify(keys.jwks));

console.log(
  `Clavis sustained load — ${new Date().toISOString()}; ${cfg.duration} s, ${cfg.connections} connections, ${postgres ? (redis ? 'PostgreSQL + Redis' : 'PostgreSQL') : 'SQLite'}`,
);
if (postgres)
  execFileSync('psql', [postgres, '-q', '-c', 'DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public;'], {
    stdio: 'inherit',
  });
if (redis) {
  const { default: Redis } = await import('ioredis');
  const r = new Redis(redis);
  const stale = await r.keys('clavis:*');
  if (stale.length) await r.del(...stale);
  r.disconnect();
}
// Migrations run at server start; the client is created once the schema exists.
const server = spawnPinned(cfg.serverCore, process.execPath, [MAIN_JS], { env: serverEnv, cwd: ROOT, name: 'clavis' });
await waitForHttp(`${issuer}/.well-known/oauth-authorization-server`, server, 60_000);
const created = JSON.parse(
  execFileSync(
    process.execPath,
    [MAIN_JS, 'clients', 'create', '--method', 'private_key_jwt', '--scope', SCOPE, '--jwks-file', jwksFile],
    { cwd: ROOT, env: serverEnv, encoding: 'utf8' },
  ),
);
const spec = {
  alg: 'ES256',
  clientId: created.client_id,
  privateKey: keys.privateKey,
  kid: keys.kid,
  audience: issuer,
};
const assertion = () => makeAssertion(spec, Math.floor(Date.now() / 1000), cfg.assertionLifetime);

const tables = await counter();
const stats = { tokens: 0, revoked: 0, failed: 0, statuses: {} };
let windowLatencies = []; // ms of the token requests answered since the last sample
const allLatencies = [];
const pct = (sorted, p) =>
  sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] : NaN;
const samples = [];
const t0 = Date.now();
const end = t0 + cfg.duration * 1000;
let lastWindow = { at: t0, tokens: 0 };

async function worker() {
  let i = 0;
  while (Date.now() < end) {
    const body = form({
      grant_type: 'client_credentials',
      scope: SCOPE,
      client_assertion_type: JWT_BEARER,
      client_assertion: assertion(),
    });
    const sent = performance.now();
    const res = await post('/token', body);
    const ms = performance.now() - sent;
    windowLatencies.push(ms);
    allLatencies.push(ms);
    if (res.status !== 200) {
      stats.failed++;
      stats.statuses[res.status] = (stats.statuses[res.status] ?? 0) + 1;
      continue;
    }
    stats.tokens++;
    if (++i % cfg.revokeEvery === 0) {
      const token = JSON.parse(res.text).access_token;
      const rv = await post(
        '/revoke',
        form({ token, client_assertion_type: JWT_BEARER, client_assertion: assertion() }),
      );
      if (rv.status === 200) stats.revoked++;
      else {
        stats.failed++;
        stats.statuses[`revoke ${rv.status}`] = (stats.statuses[`revoke ${rv.status}`] ?? 0) + 1;
      }
    }
  }
}

async function sampler() {
  while (Date.now() < end + cfg.idleTail * 1000) {
    await sleep(cfg.sample * 1000);
    const now = Date.now();
    const rate = ((stats.tokens - lastWindow.tokens) / (now - lastWindow.at)) * 1000;
    lastWindow = { at: now, tokens: stats.tokens };
    const window = Float64Array.from(windowLatencies).sort();
    windowLatencies = [];
    const counts = await tables.count();
    const loading = now <= end;
    const latency = window.length
      ? { p99: pct(window, 99).toFixed(1), max: window[window.length - 1].toFixed(0) }
      : { p99: '–', max: '–' };
    samples.push({
      s: Math.round((now - t0) / 1000),
      rate: loading ? Math.round(rate) : 0,
      tokens: stats.tokens,
      revoked: stats.revoked,
      latency,
      ...counts,
    });
    console.log(
      `  ${samples.at(-1).s} s: ${loading ? `${Math.round(rate)} tokens/s, p99 ${latency.p99} ms, max ${latency.max} ms` : 'idle'}, ${Object.entries(
        counts,
      )
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')}`,
    );
  }
}

await Promise.all([...Array.from({ length: cfg.connections }, worker), sampler()]);
await tables.close();
const status = await stop(server);
rmSync(dataDir, { recursive: true, force: true });

const total = stats.tokens + stats.revoked;
const steadyRate = Math.round(stats.tokens / cfg.duration);
const bound = Math.round((total / cfg.duration) * (cfg.assertionLifetime + 30 + 60));
const peak = Math.max(...samples.map((s) => s.redis_jti ?? s.used_jti));
const sortedAll = Float64Array.from(allLatencies).sort();
const SKIP = ['s', 'rate', 'tokens', 'revoked', 'latency'];
const m = machineInfo();
const lines = [
  '# Sustained load: do the replay store and the deny list stay bounded?',
  '',
  `Generated by \`node bench/sustained.mjs\` (see its header) on ${new Date().toISOString()}; ${m.nproc} cores, ${m.model}, node ${m.node}.`,
  `Store: ${tables.where}. ${cfg.duration} s (then ${cfg.idleTail} s idle, still sampled) of private_key_jwt token requests at ${cfg.connections} connections (server pinned to core ${cfg.serverCore}, load generator to core ${cfg.loadgenCore}); each assertion fresh, \`exp\` = now + ${cfg.assertionLifetime} s; access tokens live ${cfg.tokenTtl} s; one token in ${cfg.revokeEvery} revoked (its own assertion too). Housekeeping: every 60 s, as shipped.`,
  '',
  `Totals: ${stats.tokens} tokens, ${stats.revoked} revocations, ${total} assertions accepted (≈ ${steadyRate} tokens/s); failed requests: ${stats.failed}${stats.failed ? ` (${JSON.stringify(stats.statuses)})` : ''}. Server exit: ${status.signal ?? status.code}.`,
  `Expected ceiling for the replay table at this rate: assertions/s × (lifetime ${cfg.assertionLifetime} s + skew 30 s + housekeeping period 60 s) ≈ ${bound} rows; highest sample: ${peak} ${redis ? 'keys in Redis (the database table stays empty)' : 'rows'}.`,
  '',
  `Token request latency over the whole run: p50 ${pct(sortedAll, 50).toFixed(1)} ms, p99 ${pct(sortedAll, 99).toFixed(1)} ms, p99.9 ${pct(sortedAll, 99.9).toFixed(1)} ms, max ${sortedAll[sortedAll.length - 1]?.toFixed(0)} ms (per window below: p99 / max of the requests answered since the previous sample).`,
  '',
  `| t (s) | tokens/s | p99 ms | max ms | tokens so far | ${Object.keys(samples[0] ?? {})
    .filter((k) => !SKIP.includes(k))
    .join(' | ')} |`,
  `|--:|--:|--:|--:|--:|${Object.keys(samples[0] ?? {})
    .filter((k) => !SKIP.includes(k))
    .map(() => '--:')
    .join('|')}|`,
  ...samples.map(
    (s) =>
      `| ${s.s} | ${s.rate || 'idle'} | ${s.latency.p99} | ${s.latency.max} | ${s.tokens} | ${Object.entries(s)
        .filter(([k]) => !SKIP.includes(k))
        .map(([, v]) => v)
        .join(' | ')} |`,
  ),
  '',
];
console.log(lines.join('\n'));
if (cfg.results) {
  writeFileSync(cfg.results, lines.join('\n'));
  console.log(`wrote ${relative(process.cwd(), cfg.results)}`);
}
process.exit(stats.failed ? 1 : 0);
