import type { TokenEndpointAuthMethod } from '../clients/client.record.js';

/**
 * The optional policy of an initial access token: what a client registered with it may hold. It
 * becomes the client's ceiling (see ClientCeiling). Each member: null = not restricted by the token.
 * Set when the token is created and never changed afterwards.
 */
export interface InitialAccessTokenPolicy {
  /** Scopes a client registered with this token may hold (space-separated). */
  allowedScope: string | null;
  /** Resource indicators it may hold. */
  allowedResources: string[] | null;
  /** Authentication methods it may use. */
  allowedMethods: TokenEndpointAuthMethod[] | null;
}

/** A stored initial access token (hashed). */
export interface InitialAccessTokenRecord extends InitialAccessTokenPolicy {
  id: string;
  tokenHash: string;
  description: string | null;
  createdAt: number;
  expiresAt: number | null;
  usesRemaining: number | null;
}

/** Storage port for initial access tokens. */
export abstract class InitialAccessTokenStore {
  abstract insert(record: InitialAccessTokenRecord): Promise<void>;
  /** Whether the token exists, has not expired and has uses left. */
  abstract isUsable(tokenHash: string, now: number): Promise<boolean>;
  /** The token when it exists, has not expired and has uses left (its policy included); else null. */
  abstract findUsable(tokenHash: string, now: number): Promise<InitialAccessTokenRecord | null>;
  /** Atomically uses the token once if it exists, has not expired and has uses left. */
  abstract consume(tokenHash: string, now: number): Promise<boolean>;
  /** Gives back one use of a limited token (no-op for unlimited ones). */
  abstract refund(tokenHash: string): Promise<void>;
  abstract list(): Promise<InitialAccessTokenRecord[]>;
  abstract delete(id: string): Promise<boolean>;
}
