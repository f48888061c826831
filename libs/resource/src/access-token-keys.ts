import { createLocalJWKSet, errors, type JSONWebKeySet, type JWTVerifyGetKey } from 'jose';
import {
  parseHttpUrl,
  type AccessTokenKeySource,
  type ResourceClock,
  type ResourceSettings,
} from './resource-options.js';

/** The keys could not be read (network, timeout, bad metadata or JWK Set, key source failed): not the token's fault. */
export class KeySetUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'KeySetUnavailableError';
  }
}

/**
 * The key resolver for `jwtVerify`: the in-process `keySource` when set, else the issuer's JWK Set
 * (`jwksUri`, or `jwks_uri` from RFC 8414 discovery). Keys are imported once per key set read, never per request.
 */
export function createKeyResolver(settings: ResourceSettings): JWTVerifyGetKey {
  const resolve = settings.keySource
    ? keySourceResolver(settings.keySource, settings.jwksCooldown * 1000, settings.clock)
    : remoteResolver(settings);
  return async (header, token) => {
    try {
      return await resolve(header, token);
    } catch (e) {
      if (e instanceof KeySetUnavailableError || isTokenKeyError(e)) throw e;
      throw new KeySetUnavailableError('the JWK Set could not be read', { cause: e });
    }
  };
}

// Errors that say "this token names no usable key", as opposed to "the keys could not be read".
function isTokenKeyError(e: unknown): boolean {
  return (
    e instanceof errors.JWKSNoMatchingKey ||
    e instanceof errors.JWKSMultipleMatchingKeys ||
    e instanceof errors.JOSENotSupported
  );
}

// In-process keys: one read in flight; an unknown kid re-reads the set at most once per cooldown.
// jose's local set imports each JWK on first use and keeps the imported key for the set's lifetime.
function keySourceResolver(source: AccessTokenKeySource, cooldownMs: number, clock: ResourceClock): JWTVerifyGetKey {
  let local: ReturnType<typeof createLocalJWKSet> | undefined;
  let readAt = -Infinity;
  let pending: Promise<void> | undefined;
  const read = () =>
    (pending ??= (async () => {
      try {
        local = createLocalJWKSet(await source.getKeySet());
        readAt = clock.now();
      } catch (e) {
        throw new KeySetUnavailableError('the key source failed', { cause: e });
      }
    })().finally(() => (pending = undefined)));

  return async (header, token) => {
    if (!local) await read();
    try {
      return await local!(header, token);
    } catch (e) {
      if (!(e instanceof errors.JWKSNoMatchingKey) || clock.now() < readAt + cooldownMs) throw e;
      await read();
      return local!(header, token);
    }
  };
}

// Remote keys, fetched and imported by RemoteKeySet (ADR 0014).
function remoteResolver(settings: ResourceSettings): JWTVerifyGetKey {
  const keySet = new RemoteKeySet(settings);
  return (header, token) => keySet.getKey(header, token);
}

/** Longest wait between two fetches after consecutive failures, unless the cooldown is longer. */
const MAX_BACKOFF_MS = 300_000;
/** Keys are refreshed at most this long after a good fetch (sooner when `jwksMaxStale` is short). */
const MAX_REFRESH_MS = 600_000;

/**
 * The issuer's JWK Set over the network: discovery (once it succeeded) and the key set share one fetch
 * in flight; a fetch starts only when none ran for `jwksCooldown`, and after failures only once the
 * backoff (cooldown × 2^(failures − 1), capped) has passed, whatever the requests say. A good set is
 * refreshed after `min(600 s, jwksMaxStale / 2)` and serves the `kid`s it holds until it is
 * `jwksMaxStale` old; past that, without a good fetch, every token gets 503.
 */
export class RemoteKeySet {
  private keys?: { resolve: JWTVerifyGetKey; fetchedAt: number };
  private jwksUri?: string;
  private pending?: Promise<void>;
  private lastAttemptAt = -Infinity;
  private failures = 0;
  private retryAt = -Infinity;
  private lastError?: KeySetUnavailableError;
  private readonly cooldownMs: number;
  private readonly maxStaleMs: number;
  private readonly refreshMs: number;

  constructor(private readonly settings: ResourceSettings) {
    this.jwksUri = settings.jwksUri;
    this.cooldownMs = settings.jwksCooldown * 1000;
    this.maxStaleMs = settings.jwksMaxStale * 1000;
    this.refreshMs = Math.min(MAX_REFRESH_MS, this.maxStaleMs / 2);
  }

  async getKey(...[header, token]: Parameters<JWTVerifyGetKey>): Promise<Awaited<ReturnType<JWTVerifyGetKey>>> {
    const now = this.settings.clock.now();
    if (!this.keys || now >= this.keys.fetchedAt + this.refreshMs) await this.refresh(now).catch(() => undefined);
    const keys = this.usable(this.settings.clock.now());
    try {
      return await keys.resolve(header, token);
    } catch (e) {
      if (!(e instanceof errors.JWKSNoMatchingKey)) throw e;
      // A fetch already on its way (another request's) may bring the key: wait for it.
      if (this.pending) {
        await this.pending.catch(() => undefined);
        return this.usable(this.settings.clock.now()).resolve(header, token);
      }
      // An unknown kid: perhaps a key the issuer has just started using. Ask again, within the limits.
      if (this.failures > 0 && !this.mayFetch(this.settings.clock.now())) throw this.unavailable();
      if (!this.mayFetch(this.settings.clock.now())) throw e;
      await this.refresh(this.settings.clock.now());
      return this.usable(this.settings.clock.now()).resolve(header, token);
    }
  }

  private usable(now: number): { resolve: JWTVerifyGetKey; fetchedAt: number } {
    if (this.keys && now < this.keys.fetchedAt + this.maxStaleMs) return this.keys;
    throw this.unavailable();
  }

  /** The last fetch's error stands until a fetch succeeds (also while backing off: no new request). */
  private unavailable(): KeySetUnavailableError {
    return this.lastError ?? new KeySetUnavailableError('the JWK Set could not be read');
  }

  private mayFetch(now: number): boolean {
    return now >= this.lastAttemptAt + this.cooldownMs && now >= this.retryAt;
  }

  /** One fetch in flight; none while cooling down or backing off (then the last error stands). */
  private refresh(now: number): Promise<void> {
    if (this.pending) return this.pending;
    if (!this.mayFetch(now)) return Promise.reject(this.unavailable());
    this.lastAttemptAt = now;
    this.pending = this.fetchKeys()
      .then(
        (resolve) => {
          this.keys = { resolve, fetchedAt: this.settings.clock.now() };
          [this.failures, this.retryAt, this.lastError] = [0, -Infinity, undefined];
        },
        (e: unknown) => {
          const error =
            e instanceof KeySetUnavailableError
              ? e
              : new KeySetUnavailableError('the JWK Set could not be read', { cause: e });
          this.failures++;
          const backoff = Math.min(
            this.cooldownMs * 2 ** (this.failures - 1),
            Math.max(MAX_BACKOFF_MS, this.cooldownMs),
          );
          [this.retryAt, this.lastError] = [this.settings.clock.now() + backoff, error];
          throw error;
        },
      )
      .finally(() => (this.pending = undefined));
    return this.pending;
  }

  private async fetchKeys(): Promise<JWTVerifyGetKey> {
    this.jwksUri ??= await discoverJwksUri(this.settings);
    const body = await fetchJson(this.jwksUri, 'JWK Set', this.settings);
    if (!body.ok) throw new KeySetUnavailableError(body.problem);
    const jwks = body.json as { keys?: unknown };
    try {
      return createLocalJWKSet(jwks as JSONWebKeySet);
    } catch (cause) {
      throw new KeySetUnavailableError(`${this.jwksUri}: not a JWK Set`, { cause });
    }
  }
}

type FetchedJson = { ok: true; json: unknown } | { ok: false; status?: number; problem: string };

/**
 * GET `url` as JSON: no redirects, `jwksTimeout` for headers and body together, at most
 * `maxResponseBytes` read (the read is abandoned beyond it). Network failures throw
 * {@link KeySetUnavailableError}; a non-200 status or a bad body is returned as a problem.
 */
async function fetchJson(url: string, what: string, settings: ResourceSettings): Promise<FetchedJson> {
  const signal = AbortSignal.timeout(settings.jwksTimeout * 1000);
  const response = await fetch(url, { headers: { accept: 'application/json' }, redirect: 'manual', signal }).catch(
    (cause: unknown) => {
      throw new KeySetUnavailableError(`${what} request ${timedOut(signal, cause) ? 'timed out' : 'failed'}: ${url}`, {
        cause,
      });
    },
  );
  if (response.status !== 200) {
    await response.body?.cancel().catch(() => undefined);
    return { ok: false, status: response.status, problem: `${url} answered ${response.status}` };
  }
  let text: string;
  try {
    text = await readLimited(response, settings.maxResponseBytes);
  } catch (cause) {
    if (cause instanceof ResponseTooLargeError)
      throw new KeySetUnavailableError(`${url}: ${what} larger than ${settings.maxResponseBytes} bytes`);
    throw new KeySetUnavailableError(`${what} ${timedOut(signal, cause) ? 'read timed out' : 'read failed'}: ${url}`, {
      cause,
    });
  }
  try {
    return { ok: true, json: JSON.parse(text) as unknown };
  } catch {
    return { ok: false, problem: `${url}: ${what} is not JSON` };
  }
}

function timedOut(signal: AbortSignal, cause: unknown): boolean {
  return (
    signal.aborted ||
    (cause instanceof Error &&
      (cause.name === 'TimeoutError' || (cause.cause as Error | undefined)?.name === 'TimeoutError'))
  );
}

/** A response body over the byte limit. */
export class ResponseTooLargeError extends Error {
  constructor(readonly limit: number) {
    super(`response body larger than ${limit} bytes`);
    this.name = 'ResponseTooLargeError';
  }
}

/**
 * The body of `response` as UTF-8 text, reading at most `limit` bytes: a `Content-Length` over the
 * limit is refused before reading, a longer stream is cancelled as soon as it passes it.
 */
export async function readLimited(response: Response, limit: number): Promise<string> {
  const declared = Number(response.headers.get('content-length'));
  if (declared > limit) {
    await response.body?.cancel().catch(() => undefined);
    throw new ResponseTooLargeError(limit);
  }
  if (!response.body) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => undefined);
      throw new ResponseTooLargeError(limit);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks, size).toString('utf8');
}

async function discoverJwksUri(settings: ResourceSettings): Promise<string> {
  const problems: string[] = [];
  for (const url of settings.discoveryUrls) {
    const body = await fetchJson(url, 'authorization server metadata', settings);
    if (!body.ok && body.status !== undefined) {
      problems.push(body.problem);
      continue;
    }
    if (!body.ok) throw new KeySetUnavailableError(body.problem);
    const metadata = body.json as { issuer?: unknown; jwks_uri?: unknown } | null;
    // RFC 8414 §3.3: the metadata's issuer must be identical to the configured one.
    if (metadata?.issuer !== settings.issuer)
      throw new KeySetUnavailableError(`${url}: issuer does not match ${settings.issuer}`);
    if (typeof metadata.jwks_uri !== 'string') throw new KeySetUnavailableError(`${url}: no usable jwks_uri`);
    // The same rule as the configured URLs, and the issuer's origin unless allowedJwksOrigins names another (ADR 0014).
    const jwksUri = parseHttpUrl(metadata.jwks_uri);
    if (!jwksUri)
      throw new KeySetUnavailableError(
        `${url}: jwks_uri ${JSON.stringify(metadata.jwks_uri)} is not https (http only for localhost)`,
      );
    if (!settings.jwksOrigins.includes(jwksUri.origin))
      throw new KeySetUnavailableError(
        `${url}: jwks_uri ${JSON.stringify(metadata.jwks_uri)} is not on the issuer's origin (see allowedJwksOrigins)`,
      );
    return jwksUri.href;
  }
  throw new KeySetUnavailableError(`authorization server metadata not found (${problems.join('; ')})`);
}
