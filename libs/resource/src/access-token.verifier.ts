import { Inject, Injectable } from '@nestjs/common';
import { errors, jwtVerify, type JWTVerifyGetKey } from 'jose';
import { createKeyResolver, KeySetUnavailableError } from './access-token-keys.js';
import { BearerTokenError } from './bearer-token.error.js';
import { RESOURCE_SETTINGS, type ResourceSettings } from './resource-options.js';
import { VerifiedTokenCache } from './verified-token.cache.js';

/**
 * Claims of a verified JWT access token.
 * @see RFC 9068 §2.2
 */
export interface AccessTokenClaims {
  iss: string;
  /** The client (for client credentials) or the resource owner. */
  sub: string;
  client_id: string;
  aud: string | string[];
  /** Space-delimited scopes, when the token has any. */
  scope?: string;
  jti: string;
  iat: number;
  exp: number;
  [claim: string]: unknown;
}

// RFC 9068 §2.2: required claims (iss and aud are required by the issuer and audience checks).
const REQUIRED_CLAIMS = ['exp', 'iat', 'jti', 'sub', 'client_id'];

/** A verified token in the cache, with what the `isRevoked` hook last said about it and when. */
interface VerifiedEntry {
  readonly claims: AccessTokenClaims;
  readonly exp: number;
  /** When `isRevoked` last answered false (ms); -Infinity before the first answer. */
  checkedAt: number;
  /** `revocationGeneration()` when that answer was asked for. */
  generation: number;
  /** `isRevoked` answered true: refused from then on without asking again (revocation is final). */
  revoked: boolean;
}

/**
 * Verifies JWT access tokens: signature with an allowed asymmetric algorithm, `typ` `at+jwt`, `iss`,
 * `aud`, `exp`/`nbf`/`iat` within the clock skew, and the RFC 9068 claims. Verified tokens are cached
 * (by SHA-256) until they expire; the `isRevoked` hook, when set, is asked about a cached token again
 * once its last answer is `revocationCheckInterval` old (every call when 0; ADR 0028). Throws
 * {@link BearerTokenError}: `invalid_token`, or `temporarily_unavailable` when the keys cannot be read.
 * @see RFC 9068 §4
 */
@Injectable()
export class AccessTokenVerifier {
  private readonly getKey: JWTVerifyGetKey;
  private readonly cache: VerifiedTokenCache<VerifiedEntry>;
  private readonly recheckMs: number;

  constructor(@Inject(RESOURCE_SETTINGS) private readonly settings: ResourceSettings) {
    this.getKey = createKeyResolver(settings);
    this.cache = new VerifiedTokenCache(settings.cacheMaxEntries, settings.clockSkew);
    this.recheckMs = settings.revocationCheckInterval * 1000;
  }

  /** Verifies `token` and returns its claims, deeply frozen (nested objects and arrays too). */
  async verify(token: string): Promise<AccessTokenClaims> {
    const key = VerifiedTokenCache.keyOf(token);
    const now = this.settings.clock.now();
    let entry = this.cache.get(key, Math.floor(now / 1000));
    if (!entry) {
      const claims = await this.verifyJwt(token);
      entry = { claims, exp: claims.exp, checkedAt: -Infinity, generation: NaN, revoked: false };
      this.cache.set(key, entry);
    }
    if (this.settings.isRevoked) {
      if (entry.revoked) throw BearerTokenError.invalidToken(`jti ${entry.claims.jti} is revoked`);
      // Asked again once the last answer is an interval old (the bound on how late a revocation takes
      // effect), when the host says something was revoked since, or when the clock went back.
      const generation = this.settings.revocationGeneration?.() ?? 0;
      const age = now - entry.checkedAt;
      if (this.recheckMs === 0 || age >= this.recheckMs || age < 0 || generation !== entry.generation) {
        await this.checkRevocation(entry);
        entry.checkedAt = now;
        entry.generation = generation;
      }
    }
    return entry.claims;
  }

  private async verifyJwt(token: string): Promise<AccessTokenClaims> {
    const { clock, clockSkew } = this.settings;
    const now = clock.now();
    let payload: Record<string, unknown>;
    try {
      ({ payload } = await jwtVerify(token, this.getKey, {
        typ: 'at+jwt', // also matches application/at+jwt (RFC 9068 §4)
        issuer: this.settings.issuer,
        audience: [...this.settings.audience],
        algorithms: [...this.settings.algorithms],
        requiredClaims: REQUIRED_CLAIMS,
        clockTolerance: clockSkew,
        currentDate: new Date(now),
      }));
    } catch (e) {
      if (e instanceof KeySetUnavailableError) throw BearerTokenError.unavailable(describe(e));
      throw BearerTokenError.invalidToken(e instanceof errors.JOSEError ? `${e.code}: ${e.message}` : 'not a JWT');
    }
    const problem = claimProblem(payload, Math.floor(now / 1000), clockSkew);
    if (problem) throw BearerTokenError.invalidToken(problem);
    // Shared by every request that presents this token (the cache): frozen all the way down.
    return deepFreeze(payload) as AccessTokenClaims;
  }

  private async checkRevocation(entry: VerifiedEntry): Promise<void> {
    const { claims } = entry;
    const { jti } = claims;
    let revoked: boolean;
    try {
      revoked = await this.settings.isRevoked!(jti, claims);
    } catch (e) {
      throw BearerTokenError.unavailable(`isRevoked failed: ${describe(e)}`);
    }
    if (revoked) {
      entry.revoked = true;
      throw BearerTokenError.invalidToken(`jti ${jti} is revoked`);
    }
  }
}

// Types jose leaves unchecked, and an `iat` in the future.
function claimProblem(payload: Record<string, unknown>, now: number, skew: number): string | undefined {
  for (const claim of ['sub', 'client_id', 'jti'])
    if (typeof payload[claim] !== 'string' || payload[claim] === '')
      return `"${claim}" claim must be a non-empty string`;
  if (payload.scope !== undefined && typeof payload.scope !== 'string') return '"scope" claim must be a string';
  if ((payload.iat as number) > now + skew) return '"iat" claim is in the future';
  return undefined;
}

function describe(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  return e.cause instanceof Error ? `${e.message} (${e.cause.message})` : e.message;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const member of Object.values(value)) deepFreeze(member);
  }
  return value;
}
