/** A stored initial access token (hashed). */
export interface InitialAccessTokenRecord {
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
  /** Atomically uses the token once if it exists, has not expired and has uses left. */
  abstract consume(tokenHash: string, now: number): Promise<boolean>;
  /** Gives back one use of a limited token (no-op for unlimited ones). */
  abstract refund(tokenHash: string): Promise<void>;
  abstract list(): Promise<InitialAccessTokenRecord[]>;
  abstract delete(id: string): Promise<boolean>;
}
