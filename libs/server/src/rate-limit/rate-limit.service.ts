import { Inject, Injectable, Logger } from '@nestjs/common';
import { OAuthError } from '../errors/oauth-error.js';
import { SERVER_SETTINGS, type ServerSettings } from '../options/server-settings.js';
import { Clock } from '../shared/clock.js';
import { hashSecret } from '../shared/crypto.js';
import { RateLimiter } from './rate-limiter.js';
import type { HttpRequest } from '../shared/form-body.js';

export type RateLimitedEndpoint = 'token' | 'register';

const MAX_FAILURE_BLOCKS = 100_000;

/**
 * Applies the rate limits: per source address on the token-family endpoints and on registration,
 * and per authenticated client on the token endpoint. Over the limit → 429 with `Retry-After`.
 * A limiter that cannot be reached (Redis down) lets requests through: rate limiting protects
 * availability, it must not take it away.
 *
 * Failed client authentications have a budget of their own per address: once an address has used
 * it, its token-family requests get 429 before their credentials are checked, so that a flood of
 * bad assertions cannot spend the CPU that good clients need (docs/adr/0011-one-key-per-assertion.md).
 * The count is shared (Redis); the block is remembered per instance from its own failures, so that
 * good requests pay no extra round trip.
 */
@Injectable()
export class RateLimitService {
  private readonly logger = new Logger('ClavisRateLimit');
  /** Addresses past their failed-authentication budget → until when (ms, the Clock's time). */
  private readonly failureBlocks = new Map<string, number>();

  constructor(
    private readonly limiter: RateLimiter,
    @Inject(SERVER_SETTINGS) private readonly settings: Pick<ServerSettings, 'rateLimit'>,
    private readonly clock: Clock,
  ) {}

  /** Counts a request from the caller's address (and refuses it while the address is past its failed-authentication budget). */
  async checkAddress(req: HttpRequest, endpoint: RateLimitedEndpoint): Promise<void> {
    const rl = this.settings.rateLimit;
    if (!rl.enabled) return;
    if (endpoint === 'token' && this.failureBlocks.size > 0) this.checkFailureBlock(clientAddress(req));
    const limit = endpoint === 'token' ? rl.tokenPerAddress : rl.registerPerAddress;
    await this.check(`${endpoint}:ip:${clientAddress(req)}`, limit, rl.window);
  }

  /** Counts an authenticated token request of a client. */
  async checkClient(clientId: string): Promise<void> {
    const rl = this.settings.rateLimit;
    if (!rl.enabled) return;
    // Hashed: Redis keys must not keep a deleted client's id around (the hygiene test checks).
    await this.check(`token:client:${hashSecret(clientId)}`, rl.tokenPerClient, rl.window);
  }

  /** Counts a failed client authentication of the caller's address against its own budget. */
  async authenticationFailed(req: HttpRequest): Promise<void> {
    const rl = this.settings.rateLimit;
    if (!rl.enabled) return;
    const address = clientAddress(req);
    let result;
    try {
      result = await this.limiter.hit(`authfail:ip:${address}`, rl.authFailuresPerAddress, rl.window);
    } catch (e) {
      this.logger.warn(`rate limiter unavailable, failure not counted: ${(e as Error).message}`);
      return;
    }
    if (result.allowed) return;
    const now = this.clock.now();
    if (this.failureBlocks.size >= MAX_FAILURE_BLOCKS)
      for (const [a, until] of this.failureBlocks)
        if (until <= now || this.failureBlocks.size >= MAX_FAILURE_BLOCKS) this.failureBlocks.delete(a);
    this.failureBlocks.set(address, now + result.retryAfter * 1000);
  }

  private checkFailureBlock(address: string): void {
    const until = this.failureBlocks.get(address);
    if (until === undefined) return;
    const left = until - this.clock.now();
    if (left <= 0) this.failureBlocks.delete(address);
    else throw OAuthError.tooManyRequests(Math.max(1, Math.ceil(left / 1000)), 'authfail:ip');
  }

  private async check(key: string, limit: number, window: number): Promise<void> {
    let result;
    try {
      result = await this.limiter.hit(key, limit, window);
    } catch (e) {
      this.logger.warn(`rate limiter unavailable, request allowed: ${(e as Error).message}`);
      return;
    }
    if (!result.allowed) throw OAuthError.tooManyRequests(result.retryAfter, key.split(':').slice(0, 2).join(':'));
  }
}

/** The caller's address: Express's `req.ip` (which honours the host's `trust proxy`), else the socket's. */
export function clientAddress(req: HttpRequest & { ip?: string }): string {
  return req.ip ?? req.socket?.remoteAddress ?? 'unknown';
}
