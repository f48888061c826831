import { createLocalJWKSet, createRemoteJWKSet, errors, type JWTVerifyGetKey } from 'jose';
import type { AccessTokenKeySource, ResourceClock, ResourceSettings } from './resource-options.js';

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
  return e instanceof errors.JWKSNoMatchingKey || e instanceof errors.JWKSMultipleMatchingKeys || e instanceof errors.JOSENotSupported;
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

// Remote keys: discovery fetched once (one request in flight; a failure is retried after the cooldown),
// then one shared jose remote set (one fetch in flight, timeout, cooldown on unknown kid).
function remoteResolver(settings: ResourceSettings): JWTVerifyGetKey {
  const remoteSet = (jwksUri: string) =>
    createRemoteJWKSet(new URL(jwksUri), { cooldownDuration: settings.jwksCooldown * 1000, timeoutDuration: settings.jwksTimeout * 1000 });
  if (settings.jwksUri) return remoteSet(settings.jwksUri);

  let keySet: Promise<JWTVerifyGetKey> | undefined;
  let failedAt: number | undefined;
  return async (header, token) => {
    if (!keySet || (failedAt !== undefined && settings.clock.now() >= failedAt + settings.jwksCooldown * 1000)) {
      failedAt = undefined;
      keySet = discoverJwksUri(settings).then(remoteSet, (e: unknown) => {
        failedAt = settings.clock.now();
        throw e;
      });
    }
    return (await keySet)(header, token);
  };
}

async function discoverJwksUri(settings: ResourceSettings): Promise<string> {
  const problems: string[] = [];
  for (const url of settings.discoveryUrls) {
    const response = await fetch(url, {
      headers: { accept: 'application/json' },
      redirect: 'manual',
      signal: AbortSignal.timeout(settings.jwksTimeout * 1000),
    }).catch((cause: unknown) => {
      throw new KeySetUnavailableError(`authorization server metadata request failed: ${url}`, { cause });
    });
    if (response.status !== 200) {
      await response.body?.cancel();
      problems.push(`${url} answered ${response.status}`);
      continue;
    }
    const metadata = (await response.json().catch(() => undefined)) as { issuer?: unknown; jwks_uri?: unknown } | undefined;
    // RFC 8414 §3.3: the metadata's issuer must be identical to the configured one.
    if (metadata?.issuer !== settings.issuer) throw new KeySetUnavailableError(`${url}: issuer does not match ${settings.issuer}`);
    if (typeof metadata.jwks_uri !== 'string' || !/^https?:\/\//.test(metadata.jwks_uri))
      throw new KeySetUnavailableError(`${url}: no usable jwks_uri`);
    return metadata.jwks_uri;
  }
  throw new KeySetUnavailableError(`authorization server metadata not found (${problems.join('; ')})`);
}
