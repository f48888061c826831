import { Injectable } from '@nestjs/common';
import { Clock } from '../shared/clock.js';
import { hashSecret, randomId, randomToken } from '../shared/crypto.js';
import { InitialAccessTokenStore, type InitialAccessTokenRecord } from './initial-access-token.store.js';

/** Initial access tokens that gate `POST /register` (RFC 7591 §3): created by operators, stored hashed. */
@Injectable()
export class InitialAccessTokenService {
  constructor(
    private readonly store: InitialAccessTokenStore,
    private readonly clock: Clock,
  ) {}

  /** Creates a token; the value is returned once. `expiresIn` in seconds; `uses` = how many registrations (default unlimited). */
  async create(opts: { expiresIn?: number; uses?: number; description?: string } = {}): Promise<{ token: string; record: InitialAccessTokenRecord }> {
    const token = randomToken();
    const now = this.clock.nowSeconds();
    const record: InitialAccessTokenRecord = {
      id: randomId(),
      tokenHash: hashSecret(token),
      description: opts.description ?? null,
      createdAt: now,
      expiresAt: opts.expiresIn ? now + opts.expiresIn : null,
      usesRemaining: opts.uses ?? null,
    };
    await this.store.insert(record);
    return { token, record };
  }

  /** Whether the token exists, has not expired and has uses left (without using it). */
  isUsable(token: string): Promise<boolean> {
    return this.store.isUsable(hashSecret(token), this.clock.nowSeconds());
  }

  /** Uses the token once; false when it is unknown, expired or used up. */
  consume(token: string): Promise<boolean> {
    return this.store.consume(hashSecret(token), this.clock.nowSeconds());
  }

  /** Gives back one use (after a registration that failed once the token was used). */
  refund(token: string): Promise<void> {
    return this.store.refund(hashSecret(token));
  }

  list(): Promise<InitialAccessTokenRecord[]> {
    return this.store.list();
  }

  revoke(id: string): Promise<boolean> {
    return this.store.delete(id);
  }
}
