import { Inject, Injectable } from '@nestjs/common';
import { normaliseCeiling, type ClientCeiling } from '../clients/client-ceiling.js';
import type { TokenEndpointAuthMethod } from '../clients/client.record.js';
import { SERVER_SETTINGS, type ServerSettings } from '../options/server-settings.js';
import { Clock } from '../shared/clock.js';
import { hashSecret, randomId, randomToken } from '../shared/crypto.js';
import { InitialAccessTokenStore, type InitialAccessTokenRecord } from './initial-access-token.store.js';

/** Options of a new initial access token. */
export interface CreateInitialAccessTokenOptions {
  /** Lifetime in seconds (default: none). */
  expiresIn?: number;
  /** How many registrations (default unlimited). */
  uses?: number;
  description?: string;
  /** Policy: scopes a client registered with this token may hold (space-separated); default: not restricted. */
  allowedScope?: string;
  /** Policy: resource indicators a client registered with this token may hold. */
  allowedResources?: string[];
  /** Policy: authentication methods a client registered with this token may use. */
  allowedMethods?: TokenEndpointAuthMethod[];
}

/** Initial access tokens that gate `POST /register` (RFC 7591 §3): created by operators, stored hashed. */
@Injectable()
export class InitialAccessTokenService {
  constructor(
    private readonly store: InitialAccessTokenStore,
    private readonly clock: Clock,
    @Inject(SERVER_SETTINGS) private readonly settings: Pick<ServerSettings, 'scopes'>,
  ) {}

  /**
   * Creates a token; the value is returned once. An optional policy (allowed scopes, resources,
   * methods) bounds what a client registered with it may hold: it becomes the client's ceiling.
   */
  async create(
    opts: CreateInitialAccessTokenOptions = {},
  ): Promise<{ token: string; record: InitialAccessTokenRecord }> {
    const policy = normaliseCeiling(
      { maxScope: opts.allowedScope, maxResources: opts.allowedResources, allowedMethods: opts.allowedMethods },
      this.settings,
    );
    const token = randomToken();
    const now = this.clock.nowSeconds();
    const record: InitialAccessTokenRecord = {
      id: randomId(),
      tokenHash: hashSecret(token),
      description: opts.description ?? null,
      createdAt: now,
      expiresAt: opts.expiresIn ? now + opts.expiresIn : null,
      usesRemaining: opts.uses ?? null,
      allowedScope: policy.maxScope ?? null,
      allowedResources: policy.maxResources ?? null,
      allowedMethods: policy.allowedMethods ?? null,
    };
    await this.store.insert(record);
    return { token, record };
  }

  /** Whether the token exists, has not expired and has uses left (without using it). */
  isUsable(token: string): Promise<boolean> {
    return this.store.isUsable(hashSecret(token), this.clock.nowSeconds());
  }

  /**
   * The token when usable, with its policy (never changed after creation, so the policy read here
   * is the one of the use that `consume()` takes later); null when unknown, expired or used up.
   */
  findUsable(token: string): Promise<InitialAccessTokenRecord | null> {
    return this.store.findUsable(hashSecret(token), this.clock.nowSeconds());
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

/** The ceiling an initial access token's policy gives the clients it admits (members not set: not given). */
export function policyCeiling(record: InitialAccessTokenRecord): Partial<ClientCeiling> {
  return {
    ...(record.allowedScope !== null ? { maxScope: record.allowedScope } : {}),
    ...(record.allowedResources !== null ? { maxResources: record.allowedResources } : {}),
    ...(record.allowedMethods !== null ? { allowedMethods: record.allowedMethods } : {}),
  };
}
