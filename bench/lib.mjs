// Helpers for the benches: the bench process's own set-up (pinning, scratch, clean-up), pinned
// child processes, client credentials and pre-generated client assertions, one autocannon run
// with exact latency percentiles, CPU accounting, and a cpuprofile summary. Plain Node ESM, no
// TypeScript loader needed.
import { spawn, spawnSync, execFileSync } from 'node:child_process';
import { createHmac, createPrivateKey, generateKeyPairSync, randomBytes, randomUUID, sign } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, release, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';

export const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
export const METHODS = ['client_secret_basic', 'client_secret_post', 'client_secret_jwt', 'private_key_jwt'];
export const SCOPE = 'statements:read';

// ---------------------------------------------------------------------------------------------
// The bench process

/** A number from the environment, or `fallback` when the variable is unset or empty. */
export const envNumber = (name, fallback) =>
  process.env[name] === undefined || process.env[name] === '' ? fallback : Number(process.env[name]);

/** A figure for a report: `d` decimals, or a dash when it is not a number. */
export const fmt = (x, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : '—');

/** The 1/5/15-minute load average, as the reports print it. */
export const loadAverage = () =>
  loadavg()
    .map((x) => x.toFixed(2))
    .join(' / ');

/**
 * Pins the bench process (it is the load generator, all its threads) to `core` by re-executing
 * the script `scriptUrl` under taskset, unless it already runs pinned; the parent exits with the
 * child's status. The child learns the machine's core count through BENCH_NPROC.
 */
export function pinSelfToCore(core, scriptUrl) {
  if (process.env.BENCH_PINNED === '1') return;
  const r = spawnSync(
    'taskset',
    ['-c', String(core), process.execPath, ...process.execArgv, fileURLToPath(scriptUrl), ...process.argv.slice(2)],
    {
      stdio: 'inherit',
      env: { ...process.env, BENCH_PINNED: '1', BENCH_NPROC: execFileSync('nproc', { encoding: 'utf8' }).trim() },
    },
  );
  if (r.error) throw r.error;
  process.exit(r.status ?? 1);
}

/**
 * A bench's scratch: a temporary folder, the folder `runDir` (under bench/, for the copy of the
 * server bundle), the child processes to stop and the clean-ups to run when the bench ends, by
 * return, failure or signal. `run(main)` runs the bench and always cleans up.
 */
export function benchScratch(prefix, runDir) {
  const scratch = {
    tmp: mkdtempSync(join(tmpdir(), prefix)),
    runDir,
    running: new Set(),
    cleanups: [],
    async cleanup() {
      for (const p of scratch.running) await stop(p).catch(() => {});
      for (const c of scratch.cleanups) await c().catch(() => {});
      rmSync(scratch.tmp, { recursive: true, force: true });
      rmSync(runDir, { recursive: true, force: true });
    },
    async run(main) {
      try {
        await main();
      } catch (e) {
        process.stderr.write(`\nbench failed: ${e.stack ?? e}\n`);
        process.exitCode = 1;
      } finally {
        await scratch.cleanup();
      }
    },
  };
  for (const s of ['SIGINT', 'SIGTERM']) process.on(s, () => void scratch.cleanup().finally(() => process.exit(130)));
  return scratch;
}

// ---------------------------------------------------------------------------------------------
// Processes

/** Spawns `command args…` pinned to `core` with taskset; output is kept (last 200 lines) for the report. */
export function spawnPinned(core, command, args, { env, cwd, name }) {
  const child = spawn('taskset', ['-c', String(core), command, ...args], {
    env,
    cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const log = [];
  let lines = 0;
  const keep = (stream) => (chunk) => {
    for (const line of chunk.toString('utf8').split('\n')) {
      if (!line.trim()) continue;
      lines++;
      log.push(`[${stream}] ${line.replace(/\x1b\[[0-9;]*m/g, '')}`);
      if (log.length > 200) log.shift();
      if (process.env.BENCH_VERBOSE) process.stderr.write(`  ${name} ${stream}: ${line}\n`);
    }
  };
  child.stdout.on('data', keep('out'));
  child.stderr.on('data', keep('err'));
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  return {
    child,
    log,
    exited,
    name,
    /** A position in the output, for since(). */
    mark: () => lines,
    /** The kept lines written after `mark` (at most the last 200), and how many were written. */
    since: (mark) => ({ lines: log.slice(Math.max(0, log.length - (lines - mark))), count: lines - mark }),
  };
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves with the exit status. */
export async function stop(proc, graceMs = 5000) {
  if (proc.child.exitCode !== null || proc.child.signalCode !== null) return proc.exited;
  proc.child.kill('SIGTERM');
  const timer = setTimeout(() => proc.child.kill('SIGKILL'), graceMs);
  const status = await proc.exited;
  clearTimeout(timer);
  return status;
}

/** Polls `url` until it answers 200 (or the process dies, or `timeoutMs` passes). */
export async function waitForHttp(url, proc, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    if (proc.child.exitCode !== null || proc.child.signalCode !== null) break;
    try {
      const r = await fetch(url);
      if (r.ok) return;
      last = `HTTP ${r.status}`;
    } catch (e) {
      last = e.cause?.code ?? e.message;
    }
    await sleep(100);
  }
  throw new Error(`${proc.name} did not come up at ${url} (${last ?? 'exited'}):\n${proc.log.slice(-30).join('\n')}`);
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** utime+stime of a process (all its threads), in seconds, from /proc. */
export function processCpuSeconds(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14, 15)
  return ticks / clockTicks();
}
let ticksPerSecond;
function clockTicks() {
  ticksPerSecond ??= Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  return ticksPerSecond;
}

/** Per-core jiffies from /proc/stat: { busy, total } (busy excludes idle and iowait; steal kept apart). */
export function coreTimes() {
  const cores = {};
  for (const line of readFileSync('/proc/stat', 'utf8').split('\n')) {
    const m = /^cpu(\d+)\s+(.+)$/.exec(line);
    if (!m) continue;
    const [user, nice, system, idle, iowait, irq, softirq, steal] = m[2].split(/\s+/).map(Number);
    cores[m[1]] = {
      busy: user + nice + system + irq + softirq,
      steal,
      total: user + nice + system + idle + iowait + irq + softirq + steal,
    };
  }
  return cores;
}

/** Fraction of `core` that was busy / stolen between two coreTimes() snapshots. */
export function coreUse(before, after, core) {
  const a = before[core];
  const b = after[core];
  if (!a || !b) return { busy: NaN, steal: NaN };
  const total = b.total - a.total || 1;
  return { busy: (b.busy - a.busy) / total, steal: (b.steal - a.steal) / total };
}

/** The process whose CPU time we account for: taskset execs the command, so the child pid is the server. */
export function serverPid(proc) {
  return proc.child.pid;
}

// ---------------------------------------------------------------------------------------------
// Machine

export function machineInfo() {
  let model = cpus()[0]?.model ?? 'unknown';
  try {
    const m = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (m) model = m[1].trim();
  } catch {
    /* keep os.cpus() */
  }
  // `nproc` as seen before the orchestrator pinned itself (the pinned process would see 1).
  let nproc = Number(process.env.BENCH_NPROC) || cpus().length;
  return { nproc, model, node: process.version, kernel: release(), memGiB: (totalmem() / 2 ** 30).toFixed(1) };
}

// ---------------------------------------------------------------------------------------------
// Credentials and requests

/** A fresh ES256 key pair for the private_key_jwt client: the private KeyObject and the public JWKS. */
export function clientKeyPair(kid = 'bench-es256') {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = { ...publicKey.export({ format: 'jwk' }), kid, alg: 'ES256', use: 'sig' };
  return { privateKey, privateJwk: privateKey.export({ format: 'jwk' }), kid, jwks: { keys: [jwk] } };
}

export const randomSecret = () => randomBytes(32).toString('base64url');

/**
 * What one method's requests look like against one server: `{ headers, body }` for the secret
 * methods (the same request every time), or `{ headers, assertions: spec }` for the JWT methods.
 * `client` = { clientId, secret?, privateKey?, kid? }.
 */
export function requestShape(method, client, audience) {
  const headers = { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' };
  const form = (o) => new URLSearchParams(o).toString();
  switch (method) {
    case 'client_secret_basic': {
      // RFC 6749 §2.3.1: form-encode id and secret before Basic-encoding them.
      const user = `${encodeURIComponent(client.clientId)}:${encodeURIComponent(client.secret)}`;
      return {
        headers: { ...headers, authorization: `Basic ${Buffer.from(user).toString('base64')}` },
        body: form({ grant_type: 'client_credentials', scope: SCOPE }),
      };
    }
    case 'client_secret_post':
      return {
        headers,
        body: form({
          grant_type: 'client_credentials',
          scope: SCOPE,
          client_id: client.clientId,
          client_secret: client.secret,
        }),
      };
    case 'client_secret_jwt':
      return { headers, assertions: { alg: 'HS256', clientId: client.clientId, secret: client.secret, audience } };
    case 'private_key_jwt':
      return {
        headers,
        assertions: {
          alg: 'ES256',
          clientId: client.clientId,
          privateKey: client.privateKey,
          kid: client.kid,
          audience,
        },
      };
    default:
      throw new Error(`unknown method ${method}`);
  }
}

const b64json = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');

/** One client assertion (RFC 7523): iss = sub = client_id, aud = the issuer, unique jti, exp ≤ 300 s ahead. */
export function makeAssertion(spec, now = Math.floor(Date.now() / 1000), lifetime = 120) {
  const header = spec.alg === 'ES256' ? { alg: 'ES256', typ: 'JWT', kid: spec.kid } : { alg: 'HS256', typ: 'JWT' };
  const payload = {
    iss: spec.clientId,
    sub: spec.clientId,
    aud: spec.audience,
    jti: randomUUID(),
    iat: now,
    exp: now + lifetime,
  };
  const input = `${b64json(header)}.${b64json(payload)}`;
  let signature;
  if (spec.alg === 'HS256')
    signature = createHmac('sha256', Buffer.from(spec.secret, 'utf8')).update(input).digest('base64url');
  else {
    const key = spec.privateKey.type ? spec.privateKey : createPrivateKey({ key: spec.privateKey, format: 'jwk' });
    signature = sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' }).toString('base64url');
  }
  return `${input}.${signature}`;
}

/** The form body of a token request carrying `assertion`. */
export function assertionBody(assertion) {
  return `grant_type=client_credentials&scope=${encodeURIComponent(SCOPE)}&client_assertion_type=${encodeURIComponent(JWT_BEARER)}&client_assertion=${assertion}`;
}

/** `n` request bodies, each with its own assertion (generated now, before any load). */
export function assertionPool(spec, n) {
  const now = Math.floor(Date.now() / 1000);
  const pool = new Array(n);
  for (let i = 0; i < n; i++) pool[i] = assertionBody(makeAssertion(spec, now));
  return pool;
}

// ---------------------------------------------------------------------------------------------
// Load

/**
 * One autocannon run of POST /token. With a pool, every request takes the next unused body; when
 * the pool runs dry the last body is sent again, which a correct server rejects (replayed jti), so
 * exhaustion can only show up as non-2xx, never as inflated figures. Latencies of 2xx responses
 * are kept exactly (autocannon's histogram has 1 ms resolution).
 */
export async function load({ url, connections, duration, shape, pool, method = 'POST' }) {
  let next = 0;
  let exhausted = 0;
  const opts = { url, connections, duration, method, headers: shape.headers, timeout: 10 };
  if (pool) {
    opts.requests = [
      {
        method: 'POST',
        setupRequest: (req) => {
          if (next < pool.length) req.body = pool[next++];
          else {
            exhausted++;
            req.body = pool[pool.length - 1];
          }
          return req;
        },
      },
    ];
  } else if (shape.body !== undefined) opts.body = shape.body;

  let lat = new Float64Array(1 << 16);
  let n = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const instance = autocannon(opts);
  instance.on('response', (_client, status, _bytes, ms) => {
    if (status < 200 || status > 299) return;
    if (n === lat.length) {
      const bigger = new Float64Array(lat.length * 2);
      bigger.set(lat);
      lat = bigger;
    }
    lat[n++] = ms;
  });
  const result = await instance;
  const wallS = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const sorted = lat.subarray(0, n).sort();
  const pct = (p) => (n ? sorted[Math.min(n - 1, Math.ceil((p / 100) * n) - 1)] : NaN);
  const statuses = Object.fromEntries(
    Object.entries(result.statusCodeStats ?? {}).map(([k, v]) => [k, Number(v.count)]),
  );
  const ok = n;
  return {
    ok,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    statuses,
    durationS: result.duration,
    rps: ok / result.duration,
    autocannonAvgRps: result.requests.average,
    peakRps: result.requests.max, // the busiest one-second sample
    p50: pct(50),
    p90: pct(90),
    p99: pct(99),
    max: n ? sorted[n - 1] : NaN,
    poolSize: pool?.length,
    poolUsed: pool ? Math.min(next, pool.length) : undefined,
    exhausted,
    loadgenCpu: (cpu.user + cpu.system) / 1e6 / wallS, // cores used by this process (pinned to one core)
  };
}

// ---------------------------------------------------------------------------------------------
// HTTP checks (curl, as an operator would)

/** One request with curl; returns { status, body }. */
export function curl(url, { headers = {}, body }) {
  const args = ['-s', '-S', '-o', '-', '-w', '\n%{http_code}', '-X', 'POST', url];
  for (const [k, v] of Object.entries(headers)) args.push('-H', `${k}: ${v}`);
  if (body !== undefined) args.push('--data-binary', body);
  const out = execFileSync('curl', args, { encoding: 'utf8', timeout: 10_000 });
  const cut = out.lastIndexOf('\n');
  return { status: Number(out.slice(cut + 1)), body: out.slice(0, cut) };
}

/** Decodes a JWT's header and payload (no verification; for the report). */
export function peekJwt(token) {
  const [h, p] = token.split('.');
  try {
    return { header: JSON.parse(Buffer.from(h, 'base64url')), payload: JSON.parse(Buffer.from(p, 'base64url')) };
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------
// CPU profile summary

/**
 * Top self-time functions of a .cpuprofile (V8 CPU profile JSON), plus self time grouped by
 * "area" (node_modules package, node internals, the Clavis bundle, GC/idle/program).
 */
export function summarizeProfile(profile, top = 25, callersOf = 6) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map(); // node id -> µs
  const { samples, timeDeltas } = profile;
  for (let i = 0; i < samples.length; i++) {
    const dt = timeDeltas[i + 1] ?? 0; // the delta after a sample is the time spent in it
    self.set(samples[i], (self.get(samples[i]) ?? 0) + Math.max(0, dt));
  }
  const total = [...self.values()].reduce((a, b) => a + b, 0) || 1;
  const fns = new Map();
  const areas = new Map();
  for (const [id, us] of self) {
    const { callFrame: f } = byId.get(id);
    const where = f.url ? `${shortUrl(f.url)}:${f.lineNumber + 1}` : '';
    const key = `${f.functionName || '(anonymous)'} ${where}`.trim();
    fns.set(key, (fns.get(key) ?? 0) + us);
    const area = areaOf(f);
    areas.set(area, (areas.get(area) ?? 0) + us);
  }
  const rank = (m) =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .map(([name, us]) => ({ name, ms: us / 1000, pct: (100 * us) / total }));
  const functions = rank(fns).slice(0, top);

  // For the heaviest functions: who calls them (the nearest JS frames up the stack that are not
  // runtime glue), so that a native `run` or `all` can be told apart.
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const label = (f) => `${f.functionName || '(anonymous)'}${f.url ? ` ${shortUrl(f.url)}:${f.lineNumber + 1}` : ''}`;
  const glue =
    /^(processTicksAndRejections|runMicrotasks|\(anonymous\)|next|handle|__awaiter|step|fulfilled|rejected|Promise\.then)$/;
  for (const fn of functions.slice(0, callersOf)) {
    const stacks = new Map();
    for (const [id, us] of self) {
      const { callFrame } = byId.get(id);
      if (
        `${callFrame.functionName || '(anonymous)'} ${callFrame.url ? `${shortUrl(callFrame.url)}:${callFrame.lineNumber + 1}` : ''}`.trim() !==
        fn.name
      )
        continue;
      const chain = [];
      for (let p = parent.get(id); p !== undefined && chain.length < 3; p = parent.get(p)) {
        const f = byId.get(p).callFrame;
        if (!f.functionName || glue.test(f.functionName) || f.functionName === '(root)') continue;
        chain.push(label(f));
      }
      const key = chain.join(' ← ') || '(no JS caller)';
      stacks.set(key, (stacks.get(key) ?? 0) + us);
    }
    fn.callers = [...stacks.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 3)
      .map(([stack, us]) => ({ stack, ms: us / 1000 }));
  }
  return { totalMs: total / 1000, functions, areas: rank(areas) };
}

const CLAVIS_BUNDLE = /\/bench\/\.run-\d+\/main\.js$|\/dist\/apps\/[^/]+\/main\.js$/;

function shortUrl(url) {
  if (CLAVIS_BUNDLE.test(url)) return 'main.js';
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) return url.slice(nm + 'node_modules/'.length);
  const dist = url.indexOf('/dist/');
  if (dist >= 0) return url.slice(dist + 1);
  return url.replace(/^file:\/\//, '');
}

function areaOf(f) {
  if (!f.url) return f.functionName.startsWith('(') ? f.functionName : '(native)';
  if (f.url.startsWith('node:')) return 'node internals';
  const nm = f.url.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const rest = f.url.slice(nm + 'node_modules/'.length).split('/');
    return rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0];
  }
  if (CLAVIS_BUNDLE.test(f.url)) return 'Clavis code (the bundle)';
  return shortUrl(f.url);
}
