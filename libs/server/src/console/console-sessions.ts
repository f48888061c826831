import { Inject, Injectable } from '@nestjs/common';
import { SERVER_SETTINGS, type ServerSettings } from '../options/server-settings.js';
import { Clock } from '../shared/clock.js';
import { constantEquals, hashSecret, randomToken } from '../shared/crypto.js';

/** A signed-in operator's session (kept in this instance's memory). */
export interface ConsoleSession {
  /** The synchronizer token every form of this session carries (`_csrf`). */
  readonly csrfToken: string;
  readonly createdAt: number;
  lastSeenAt: number;
}

/** Most sessions kept at once; the oldest goes first beyond it. */
const MAX_SESSIONS = 1_000;

/**
 * Console sessions: a 256-bit random id in the cookie, its SHA-256 as the key here (a heap dump
 * gives no usable cookie), an absolute lifetime (`sessionTtl`) and an idle timeout, both enforced
 * here on every request. Per instance: a restart signs operators out; several instances need
 * session affinity for the console (docs/adr/0025-operator-console.md).
 */
@Injectable()
export class ConsoleSessions {
  private readonly sessions = new Map<string, ConsoleSession>();

  constructor(
    @Inject(SERVER_SETTINGS) private readonly settings: ServerSettings,
    private readonly clock: Clock,
  ) {}

  /** Starts a session; returns the cookie value (the only time it exists outside the client). */
  create(): { id: string; session: ConsoleSession } {
    this.sweep();
    while (this.sessions.size >= MAX_SESSIONS) this.sessions.delete(this.sessions.keys().next().value!);
    const id = randomToken();
    const now = this.clock.nowSeconds();
    const session: ConsoleSession = { csrfToken: randomToken(), createdAt: now, lastSeenAt: now };
    this.sessions.set(hashSecret(id), session);
    return { id, session };
  }

  /** The live session of a cookie value (touching it), or null when unknown, expired or idle too long. */
  find(id: string | undefined): ConsoleSession | null {
    if (!id || id.length > 128) return null;
    const key = hashSecret(id);
    const session = this.sessions.get(key);
    if (!session) return null;
    const now = this.clock.nowSeconds();
    if (!this.isLive(session, now)) {
      this.sessions.delete(key);
      return null;
    }
    session.lastSeenAt = now;
    return session;
  }

  /** Whether `presented` is the session's CSRF token (constant-time). */
  csrfMatches(session: ConsoleSession, presented: string | undefined): boolean {
    return typeof presented === 'string' && constantEquals(presented, session.csrfToken);
  }

  end(id: string | undefined): void {
    if (id && id.length <= 128) this.sessions.delete(hashSecret(id));
  }

  private isLive(s: ConsoleSession, now: number): boolean {
    const c = this.settings.console!;
    return now < s.createdAt + c.sessionTtl && now < s.lastSeenAt + c.idleTimeout;
  }

  private sweep(): void {
    const now = this.clock.nowSeconds();
    for (const [key, s] of this.sessions) if (!this.isLive(s, now)) this.sessions.delete(key);
  }
}
