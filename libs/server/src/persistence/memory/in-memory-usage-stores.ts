import { Injectable, Optional } from '@nestjs/common';
import {
  CredentialNoticeStore,
  type CredentialNotice,
  type ExpiringCredential,
} from '../../expiry/credential-notice.store.js';
import type { CredentialUsageRecord } from '../../usage/credential-usage.js';
import { CredentialUsageStore, mergeUsage } from '../../usage/credential-usage.store.js';
import { InMemoryTables } from './in-memory-stores.js';

/** `CredentialUsageStore` in memory: the same merge as the database's upsert. */
@Injectable()
export class InMemoryCredentialUsageStore extends CredentialUsageStore {
  constructor(@Optional() private readonly tables: InMemoryTables = new InMemoryTables()) {
    super();
  }

  async add(deltas: readonly CredentialUsageRecord[]): Promise<void> {
    for (const d of deltas) {
      const key = `${d.clientId}\u0000${d.type}\u0000${d.credentialId}`;
      this.tables.credentialUsage.set(key, mergeUsage(this.tables.credentialUsage.get(key), d));
    }
  }

  async forClient(clientId: string): Promise<CredentialUsageRecord[]> {
    return [...this.tables.credentialUsage.values()].filter((r) => r.clientId === clientId).map((r) => ({ ...r }));
  }

  async purgeOrphans(): Promise<number> {
    let n = 0;
    for (const [key, r] of this.tables.credentialUsage)
      if (!this.tables.clients.has(r.clientId)) n += Number(this.tables.credentialUsage.delete(key));
    return n;
  }
}

/** `CredentialNoticeStore` in memory: the unique (credential, kind, lead) checked in the insert. */
@Injectable()
export class InMemoryCredentialNoticeStore extends CredentialNoticeStore {
  constructor(@Optional() private readonly tables: InMemoryTables = new InMemoryTables()) {
    super();
  }

  async expiringBetween(from: number, to: number): Promise<ExpiringCredential[]> {
    const within = (t: number | null) => t !== null && t >= from && t <= to;
    const found: ExpiringCredential[] = [];
    for (const secrets of this.tables.secrets.values())
      for (const s of secrets)
        if (within(s.expiresAt) || within(s.retiresAt))
          found.push({
            type: 'client_secret',
            id: s.id,
            clientId: s.clientId,
            status: s.retiresAt === null ? 'current' : 'previous',
            expiresAt: Math.min(s.expiresAt ?? Number.MAX_SAFE_INTEGER, s.retiresAt ?? Number.MAX_SAFE_INTEGER),
          });
    for (const t of this.tables.initialAccessTokens.values())
      if (within(t.expiresAt) && (t.usesRemaining === null || t.usesRemaining > 0))
        found.push({ type: 'initial_access_token', id: t.id, expiresAt: t.expiresAt! });
    return found;
  }

  async insertOnce(notice: CredentialNotice): Promise<boolean> {
    for (const n of this.tables.notices.values())
      if (n.credentialKey === notice.credentialKey && n.kind === notice.kind && n.lead === notice.lead) return false;
    this.tables.notices.set(notice.id, { ...notice });
    return true;
  }

  async claimDue(now: number, leaseUntil: number, limit: number): Promise<CredentialNotice[]> {
    const due = [...this.tables.notices.values()]
      .filter((n) => n.nextAttemptAt !== null && n.nextAttemptAt <= now)
      .sort((a, b) => a.nextAttemptAt! - b.nextAttemptAt!)
      .slice(0, limit);
    for (const n of due) n.nextAttemptAt = leaseUntil;
    return due.map((n) => ({ ...n }));
  }

  async attempted(
    id: string,
    r: { attempts: number; nextAttemptAt: number | null; deliveredAt: number | null; lastError: string | null },
  ): Promise<void> {
    const n = this.tables.notices.get(id);
    if (n) Object.assign(n, r);
  }

  async forCredential(credentialKey: string): Promise<CredentialNotice[]> {
    return [...this.tables.notices.values()].filter((n) => n.credentialKey === credentialKey).map((n) => ({ ...n }));
  }
}
