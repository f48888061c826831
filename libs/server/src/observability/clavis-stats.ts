import { Inject, Injectable } from '@nestjs/common';
import { ReplayStore } from '../client-auth/replay.store.js';
import { ClientStore } from '../clients/client.store.js';
import { SERVER_SETTINGS, type ServerSettings } from '../options/server-settings.js';
import { Clock } from '../shared/clock.js';
import { DenyList } from '../token/deny-list.js';

/** Sizes read from the stores for a scrape; a member is absent when its store cannot count or failed to. */
export interface ClavisSizes {
  replayStoreEntries?: number;
  denyListEntries?: number;
  clientSecretsExpiring?: number;
}

const DEFAULT_EXPIRING_WITHIN = 14 * 86_400;
const DEFAULT_MAX_AGE = 30;

/**
 * The store sizes the metrics show, read on scrape but at most once per `sizesMaxAge` (one indexed
 * count per store; a Redis SCAN), shared by concurrent scrapes. Never on a request's path.
 */
@Injectable()
export class ClavisStats {
  private cached?: { at: number; sizes: ClavisSizes };
  private reading?: Promise<ClavisSizes>;

  constructor(
    private readonly replay: ReplayStore,
    private readonly denyList: DenyList,
    private readonly clients: ClientStore,
    private readonly clock: Clock,
    @Inject(SERVER_SETTINGS) private readonly settings: ServerSettings,
  ) {}

  sizes(): Promise<ClavisSizes> {
    const maxAge = (this.settings.metrics?.sizesMaxAge ?? DEFAULT_MAX_AGE) * 1000;
    if (this.cached && this.clock.now() - this.cached.at < maxAge) return Promise.resolve(this.cached.sizes);
    this.reading ??= this.read().finally(() => (this.reading = undefined));
    return this.reading;
  }

  private async read(): Promise<ClavisSizes> {
    const now = this.clock.nowSeconds();
    const within = this.settings.metrics?.expiringWithin ?? DEFAULT_EXPIRING_WITHIN;
    const settle = async (count?: () => Promise<number>) => {
      try {
        return count ? await count() : undefined;
      } catch {
        return undefined; // a store that is down: the gauge is left out of this scrape
      }
    };
    const [replayStoreEntries, denyListEntries, clientSecretsExpiring] = await Promise.all([
      settle(this.replay.count && (() => this.replay.count!(now))),
      settle(this.denyList.count && (() => this.denyList.count!(now))),
      settle(
        this.clients.countSecretsEndingBetween && (() => this.clients.countSecretsEndingBetween!(now, now + within)),
      ),
    ]);
    const sizes = { replayStoreEntries, denyListEntries, clientSecretsExpiring };
    // Only a complete reading is reused: after a failure the next scrape reads again.
    if (Object.values(sizes).every((v) => v !== undefined) || !this.canCountAll())
      this.cached = { at: this.clock.now(), sizes };
    return sizes;
  }

  private canCountAll(): boolean {
    return Boolean(this.replay.count && this.denyList.count && this.clients.countSecretsEndingBetween);
  }
}
