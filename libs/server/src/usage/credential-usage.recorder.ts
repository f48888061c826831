import {
  Inject,
  Injectable,
  Logger,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { SERVER_SETTINGS, type ServerSettings } from '../options/server-settings.js';
import { Clock } from '../shared/clock.js';
import type { CredentialRef, CredentialUsageRecord } from './credential-usage.js';
import { CredentialUsageStore, mergeUsage } from './credential-usage.store.js';

/**
 * Counts successful client authentications per credential in memory — one Map update on the hot
 * path, no I/O — and writes what accumulated to the store every `usage.flushInterval` seconds
 * (default 60: at most one write per credential per interval) and once more when the application
 * shuts down. A failed flush keeps its deltas for the next one. docs/adr/0024-credential-usage-and-expiry-notices.md
 */
@Injectable()
export class CredentialUsageRecorder
  implements OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown
{
  private readonly logger = new Logger('ClavisCredentialUsage');
  /** Unflushed usage: client id → credential type → credential id → delta (no key string built per request). */
  private pending = new Map<string, Map<string, Map<string, CredentialUsageRecord>>>();
  private timer?: NodeJS.Timeout;
  private flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly store: CredentialUsageStore,
    private readonly clock: Clock,
    @Inject(SERVER_SETTINGS) private readonly settings: ServerSettings,
  ) {}

  /** Notes one successful authentication of `clientId` with `credential`, from `address`. */
  record(clientId: string, credential: CredentialRef, address: string | undefined): void {
    const now = this.clock.nowSeconds();
    let forClient = this.pending.get(clientId);
    if (!forClient) this.pending.set(clientId, (forClient = new Map()));
    let ofType = forClient.get(credential.type);
    if (!ofType) forClient.set(credential.type, (ofType = new Map()));
    const entry = ofType.get(credential.id);
    if (entry) {
      entry.useCount++;
      if (now >= entry.lastUsedAt) {
        entry.lastUsedAt = now;
        entry.lastAddress = address ?? entry.lastAddress;
      }
    } else
      ofType.set(credential.id, {
        clientId,
        type: credential.type,
        credentialId: credential.id,
        firstUsedAt: now,
        lastUsedAt: now,
        useCount: 1,
        lastAddress: address ?? null,
      });
  }

  /** What this instance has counted for the client and not flushed yet. */
  pendingFor(clientId: string): CredentialUsageRecord[] {
    return [...(this.pending.get(clientId)?.values() ?? [])].flatMap((ofType) =>
      [...ofType.values()].map((r) => ({ ...r })),
    );
  }

  /** Writes everything pending (one upsert per credential); flushes never overlap. */
  flush(): Promise<void> {
    this.flushing = this.flushing.then(() => this.flushNow());
    return this.flushing;
  }

  onApplicationBootstrap(): void {
    const every = this.settings.usage.flushInterval * 1000;
    this.timer = setInterval(() => void this.flush(), every);
    this.timer.unref();
  }

  /** Before the database connection closes (TypeORM closes it on `onApplicationShutdown`). */
  async beforeApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  private async flushNow(): Promise<void> {
    if (this.pending.size === 0) return;
    const batch = this.pending;
    this.pending = new Map();
    const deltas = [...batch.values()].flatMap((forClient) => [...forClient.values()].flatMap((m) => [...m.values()]));
    try {
      await this.store.add(deltas);
    } catch (e) {
      // Kept for the next flush, merged with what arrived meanwhile.
      for (const d of deltas) {
        let forClient = this.pending.get(d.clientId);
        if (!forClient) this.pending.set(d.clientId, (forClient = new Map()));
        let ofType = forClient.get(d.type);
        if (!ofType) forClient.set(d.type, (ofType = new Map()));
        ofType.set(d.credentialId, mergeUsage(ofType.get(d.credentialId), d));
      }
      this.logger.warn(`credential usage not flushed, kept for the next attempt: ${(e as Error).message}`);
    }
  }
}
