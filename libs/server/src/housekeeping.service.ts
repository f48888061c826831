import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { ReplayStore } from './client-auth/replay.store.js';
import { SigningKeyService } from './keys/signing-key.service.js';
import { SigningKeyStore } from './keys/signing-key.store.js';
import { SERVER_SETTINGS, type ServerSettings } from './options/server-settings.js';
import { Clock } from './shared/clock.js';
import { DenyList } from './token/deny-list.js';
import { CredentialUsageStore } from './usage/credential-usage.store.js';

const PURGE_EVERY_MS = 60_000;

/**
 * Keeps tables bounded and keys fresh: purges expired assertion ids, deny-list entries,
 * removable retired keys and the credential usage of deleted clients every minute, and runs the key-rotation schedule when one is set.
 */
@Injectable()
export class HousekeepingService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('ClavisHousekeeping');
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly replay: ReplayStore,
    private readonly denyList: DenyList,
    private readonly keyStore: SigningKeyStore,
    private readonly keys: SigningKeyService,
    private readonly clock: Clock,
    @Inject(SERVER_SETTINGS) private readonly settings: ServerSettings,
    private readonly usage: CredentialUsageStore,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(
      () => void this.runOnce().catch((e: Error) => this.logger.warn(`housekeeping failed: ${e.message}`)),
      PURGE_EVERY_MS,
    );
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  /** One pass: purge, and rotate keys when the schedule says so. */
  async runOnce(): Promise<{ jtis: number; revoked: number; keys: number; rotated: boolean; usage: number }> {
    const now = this.clock.nowSeconds();
    const [jtis, revoked, keys, usage] = [
      await this.replay.purgeExpired(now),
      await this.denyList.purgeExpired(now),
      await this.keyStore.purgeRetired(now),
      await this.usage.purgeOrphans(),
    ];
    let rotated = false;
    const period = this.settings.keyRotation.period;
    if (period > 0) {
      const records = await this.keys.list();
      const active = records.find((k) => k.state === 'active');
      const next = records.find((k) => k.state === 'next');
      const due = active && (active.activatedAt ?? active.createdAt) + period <= now;
      const announceDue =
        active &&
        !next &&
        (active.activatedAt ?? active.createdAt) + period - this.settings.keyRotation.announce <= now;
      if (due || announceDue) rotated = (await this.keys.rotate()).rotated;
    }
    if (keys) this.keys.invalidate();
    return { jtis, revoked, keys, rotated, usage };
  }
}
