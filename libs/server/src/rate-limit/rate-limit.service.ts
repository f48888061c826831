import { Inject, Injectable, Logger } from '@nestjs/common';
import { OAuthError } from '../errors/oauth-error.js';
import { SERVER_SETTINGS, type ServerSettings } from '../options/server-settings.js';
import { hashSecret } from '../shared/crypto.js';
import { RateLimiter } from './rate-limiter.js';
import type { HttpRequest } from '../shared/form-body.js';

export type RateLimitedEndpoint = 'token' | 'register';

/**
 * Applies the rate limits: per source address on the token-family endpoints and on registration,
 * and per authenticated client on the token endpoint. Over the limit → 429 with `Retry-After`.
 * A limiter that cannot be reached (Redis down) lets requests through: rate limiting protects
 * availability, it must not take it away.
 */
@Injectable()
export class RateLimitService {
  private readonly logger = new Logger('ClavisRateLimit');

  constructor(
    private readonly limiter: RateLimiter,
    @Inject(SERVER_SETTINGS) private readonly settings: ServerSettings,
  ) {}

  /** Counts a request from the caller's address. */
  async checkAddress(req: HttpRequest, endpoint: RateLimitedEndpoint): Promise<void> {
    const rl = this.settings.rateLimit;
    if (!rl.enabled) return;
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
