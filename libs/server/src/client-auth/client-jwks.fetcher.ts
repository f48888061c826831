import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { errors as joseErrors, type JSONWebKeySet } from 'jose';
import { AuditSink } from '../audit/audit.sink.js';
import { ClientKeysUnavailableError, ClientKeySet } from './client-key-set.js';
import { validateJwks } from '../clients/client-metadata.js';
import { SERVER_SETTINGS, type ServerSettings } from '../options/server-settings.js';
import { Clock } from '../shared/clock.js';
import { assertHostAllowed, publicOnlyLookup } from './outbound-address.filter.js';
import { operatorUrlProblem } from '../options/federation-options.js';
import { escapeLogText } from '../audit/log-text.js';
import { ClavisMetrics } from '../observability/clavis-metrics.js';

/** Whom an outbound fetch is for: a client's jwks_uri (`public` addresses only) or an operator-listed issuer. */
export type OutboundAccess = 'public' | 'operator';

/** A key set other than a plain jwks_uri (e.g. an issuer found by discovery): a cache key and how to load it. */
export interface KeySetSource {
  /** The cache key (distinct from any jwks_uri). */
  id: string;
  load(): Promise<{ jwks: JSONWebKeySet; maxAge: number }>;
}

interface Entry {
  keys?: ClientKeySet;
  /** ms: fresh until then. */
  freshUntil: number;
  /** ms: last fetch attempt (for the unknown-kid cooldown). */
  lastFetch: number;
  /** ms: when `keys` were fetched; they are trusted until `jwksFetch.staleMax` after that. */
  fetchedAt: number;
  inFlight?: Promise<void>;
}

const MAX_ENTRIES = 10_000;
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];

/**
 * Fetches and caches clients' `jwks_uri` key sets: timeout, size limit, no redirects, no private or
 * loopback addresses unless allow-listed, Cache-Control max-age honoured within bounds, an unknown
 * `kid` refetches at most once per cooldown, and a failed fetch falls back to the cached set for
 * at most `jwksFetch.staleMax` after the last successful fetch. Keys that break the key rules
 * (e.g. RSA over 4096 bits) are left out of the set, with a `client.jwks_key_ignored` audit event.
 */
@Injectable()
export class ClientJwksFetcher {
  private readonly logger = new Logger('ClavisJwksFetcher');
  private readonly entries = new Map<string, Entry>();

  constructor(
    @Inject(SERVER_SETTINGS) private readonly settings: Pick<ServerSettings, 'jwksFetch' | 'limits'>,
    private readonly clock: Clock,
    @Optional() private readonly audit?: AuditSink,
    @Optional() private readonly metrics?: ClavisMetrics,
  ) {}

  /**
   * Runs `use` with the client's current key set. A stale set is refetched first; when `use` finds
   * no matching key (an unknown `kid`: the client may have rolled its keys) the set is refetched at
   * most once per cooldown and `use` runs again.
   */
  async withKeys<T>(source: string | KeySetSource, use: (keys: ClientKeySet) => T | Promise<T>): Promise<T> {
    const uri = typeof source === 'string' ? source : source.id;
    const load = typeof source === 'string' ? () => this.fetchJwks(source) : source.load;
    const entry = this.entry(uri);
    // Fetch when the cached set is stale. A failed fetch sets freshUntil one cooldown ahead, also
    // when nothing is cached yet: a failing jwks_uri is retried at most once per cooldown.
    if (this.clock.now() >= entry.freshUntil) await this.refresh(uri, entry, load);
    if (entry.keys && this.clock.now() > entry.fetchedAt + this.settings.jwksFetch.staleMax * 1000) {
      // The jwks_uri has not answered for staleMax: its keys are no longer trusted (docs/adr/0011-one-key-per-assertion.md).
      this.logger.warn(
        `jwks_uri unreachable for longer than ${this.settings.jwksFetch.staleMax}s, cached keys dropped (${JSON.stringify(uri)})`,
      );
      entry.keys = undefined;
    }
    if (!entry.keys) throw new ClientKeysUnavailableError('no keys could be fetched from jwks_uri');
    const keys = entry.keys;
    try {
      return await use(keys);
    } catch (e) {
      if (!(e instanceof joseErrors.JWKSNoMatchingKey)) throw e;
      // When another request (the same new kid, from a fleet switching at once) already started the
      // refetch, or finished it since this one looked, use its result instead of failing within the cooldown.
      if (entry.inFlight) await entry.inFlight;
      else if (entry.keys === keys) {
        if (this.clock.now() - entry.lastFetch < this.settings.jwksFetch.cooldown * 1000) throw e;
        await this.refresh(uri, entry, load);
      }
      if (!entry.keys || entry.keys === keys) throw e;
      return use(entry.keys);
    }
  }

  /** Drops a cached set (e.g. when the client registers a new jwks_uri). */
  forget(uri: string): void {
    this.entries.delete(uri);
  }

  private entry(uri: string): Entry {
    let entry = this.entries.get(uri);
    if (!entry) {
      if (this.entries.size >= MAX_ENTRIES) this.entries.delete(this.entries.keys().next().value!);
      entry = { freshUntil: 0, lastFetch: 0, fetchedAt: 0 };
      this.entries.set(uri, entry);
    }
    return entry;
  }

  private refresh(uri: string, entry: Entry, load: KeySetSource['load']): Promise<void> {
    entry.inFlight ??= (async () => {
      entry.lastFetch = this.clock.now();
      try {
        const { jwks, maxAge } = await load();
        entry.keys = new ClientKeySet(jwks);
        entry.fetchedAt = this.clock.now();
        entry.freshUntil = entry.fetchedAt + Math.min(maxAge, this.settings.jwksFetch.staleMax) * 1000;
        this.metrics?.jwksUriFetched('success');
      } catch (e) {
        this.metrics?.jwksUriFetched('failure');
        // Keep serving the cached set; retry after the cooldown.
        this.logger.warn(escapeLogText(`jwks_uri fetch failed (${uri}): ${(e as Error).message}`)); // stored URIs predate ADR 0012's checks
        entry.freshUntil = this.clock.now() + this.settings.jwksFetch.cooldown * 1000;
      } finally {
        entry.inFlight = undefined;
      }
    })();
    return entry.inFlight;
  }

  /** One GET, bounded in time and size, to a public address (or, `operator`, any listed one); validated as a public JWKS. */
  async fetchJwks(uri: string, access: OutboundAccess = 'public'): Promise<{ jwks: JSONWebKeySet; maxAge: number }> {
    const { json, cacheControl } = await this.fetchJson(uri, access, 'application/json, application/jwk-set+json');
    return { jwks: await this.usableKeys(uri, json), maxAge: this.cacheTtl(cacheControl) };
  }

  /**
   * One GET of a JSON document under the `jwksFetch` rules: timeout, size limit, no redirects. A
   * `public` fetch (a client's jwks_uri) goes to public addresses over https only, unless the host
   * is allow-listed; an `operator` fetch (an issuer the operator listed) may reach any address, over
   * https, or http on a loopback address.
   */
  async fetchJson(
    uri: string,
    access: OutboundAccess,
    accept = 'application/json',
  ): Promise<{ json: unknown; cacheControl: string }> {
    const { timeout, maxBytes, allowedHosts } = this.settings.jwksFetch;
    const url = new URL(uri);
    if (access === 'operator') {
      const problem = operatorUrlProblem(uri);
      if (problem) throw new Error(`${uri} ${problem}`);
    } else {
      if (url.protocol !== 'https:' && !(url.protocol === 'http:' && allowedHosts.includes(url.hostname.toLowerCase())))
        throw new Error('jwks_uri must be https');
      assertHostAllowed(url.hostname, allowedHosts);
    }
    const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const { res, body } = await new Promise<{
      res: IncomingMessage;
      body: Buffer;
    }>((resolve, reject) => {
      const req = request(
        url,
        {
          method: 'GET',
          headers: { accept },
          ...(access === 'public' ? { lookup: publicOnlyLookup(allowedHosts) } : {}),
          timeout: timeout * 1000,
        },
        (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (c: Buffer) => {
            size += c.length;
            if (size > maxBytes) {
              req.destroy(new Error(`response exceeds ${maxBytes} bytes`));
              return;
            }
            chunks.push(c);
          });
          res.on('end', () => resolve({ res, body: Buffer.concat(chunks) }));
          res.on('error', reject);
        },
      );
      req.setTimeout(timeout * 1000, () => req.destroy(new Error('fetch timed out')));
      const deadline = setTimeout(() => req.destroy(new Error('fetch timed out')), timeout * 1000);
      req.on('close', () => clearTimeout(deadline));
      req.on('error', reject);
      req.end();
    });
    if (res.statusCode !== 200)
      throw new Error(
        `${access === 'public' ? 'jwks_uri' : uri} answered ${res.statusCode}${res.statusCode && res.statusCode >= 300 && res.statusCode < 400 ? ' (redirects are not followed)' : ''}`,
      );
    try {
      return { json: JSON.parse(body.toString('utf8')), cacheControl: String(res.headers['cache-control'] ?? '') };
    } catch {
      throw new Error(`${access === 'public' ? 'jwks_uri' : uri} did not return JSON`);
    }
  }

  /**
   * How long a fetched set is fresh: `hint` (seconds: Cache-Control max-age, or a SPIFFE bundle's
   * refresh hint) bounded by `minCacheTtl`/`maxCacheTtl`; 300 s without one, the minimum under no-store.
   */
  cacheTtl(cacheControl: string, hint?: number): number {
    const { minCacheTtl, maxCacheTtl } = this.settings.jwksFetch;
    if (/no-store|no-cache/i.test(cacheControl)) return minCacheTtl;
    const match = /(?:^|,)\s*max-age\s*=\s*(\d+)/i.exec(cacheControl);
    const given = hint ?? (match ? Number(match[1]) : 300);
    return Math.min(maxCacheTtl, Math.max(minCacheTtl, given));
  }

  /**
   * The published keys that pass the registration key rules, each judged alone: a key that breaks
   * them is left out (audit `client.jwks_key_ignored`), so that a client cannot slip in through its
   * jwks_uri a key that registration would refuse. A set that is malformed as a whole is refused.
   */
  async usableKeys(uri: string, jwks: unknown): Promise<JSONWebKeySet> {
    const unusable = (reason: string) => new Error(`jwks_uri returned an unusable key set: ${reason}`);
    const keys = (jwks as { keys?: unknown } | null)?.keys;
    if (typeof jwks !== 'object' || jwks === null || Array.isArray(jwks) || !Array.isArray(keys))
      throw unusable('not a JWK Set');
    if (keys.length > this.settings.limits.jwksKeys) throw unusable(`more than ${this.settings.limits.jwksKeys} keys`);
    // A published private key is a broken publisher: the whole set is refused, not just that key.
    if (keys.some((k) => typeof k === 'object' && k !== null && PRIVATE_MEMBERS.some((m) => m in k)))
      throw unusable('jwks must contain public keys only (private key members found)');
    const usable: unknown[] = [];
    for (const [index, key] of keys.entries()) {
      try {
        await validateJwks({ keys: [key] }, null, 1);
        usable.push(key);
      } catch (e) {
        const kid = (key as { kid?: unknown } | null)?.kid;
        this.audit?.record({
          type: 'client.jwks_key_ignored',
          jwksUri: JSON.stringify(uri).slice(1, -1).slice(0, 512),
          key: `${index}${typeof kid === 'string' ? ` (kid ${JSON.stringify(kid.slice(0, 64))})` : ''}`,
          reason: (e as Error).message.slice(0, 256),
        });
      }
    }
    if (usable.length === 0) throw unusable('no key passes the key rules');
    const set = { keys: usable };
    await validateJwks(set, null, this.settings.limits.jwksKeys).catch((e: Error) => {
      throw unusable(e.message);
    });
    return set as JSONWebKeySet;
  }
}
