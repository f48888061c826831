import { ReplayStore } from '../client-auth/replay.store.js';

/** Replay store in a Map (single process; forgets by time only). */
export class InMemoryReplayStore extends ReplayStore {
  private readonly seen = new Map<string, number>();
  async consume(clientId: string, jti: string, expiresAt: number): Promise<boolean> {
    const key = `${clientId}\u0000${jti}`;
    if (this.seen.has(key)) return false;
    this.seen.set(key, expiresAt);
    return true;
  }
  async purgeExpired(now: number): Promise<number> {
    let n = 0;
    for (const [k, exp] of this.seen) if (exp < now && this.seen.delete(k)) n++;
    return n;
  }
}
