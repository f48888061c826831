import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { AuditEvent } from '../audit/audit-event.js';
import { AuditSink } from '../audit/audit.sink.js';
import { SERVER_SETTINGS, type ServerSettings } from '../options/server-settings.js';
import { Clock } from '../shared/clock.js';
import { randomId } from '../shared/crypto.js';
import { CredentialNoticeStore, type CredentialNotice, type ExpiringCredential } from './credential-notice.store.js';
import { postWebhook } from './webhook.sender.js';

/** How far back the sweep still announces an expiry it has not announced (an instance down that long). */
const EXPIRED_LOOKBACK = 7 * 86_400;
/** Attempts of a webhook delivery before it is given up (about a day with the backoff below). */
export const WEBHOOK_MAX_ATTEMPTS = 12;
/** While one instance delivers a notice, no other takes it (longer than a delivery's timeout). */
const DELIVERY_LEASE = 60;
const DELIVERY_TIMEOUT_MS = 10_000;
const DELIVERIES_PER_RUN = 50;

/** Seconds until the next attempt after `attempts` failed ones: 30 s, 1 min, 2 min, … at most 6 h. */
export function webhookBackoff(attempts: number): number {
  return Math.min(30 * 2 ** Math.max(0, attempts - 1), 6 * 3_600);
}

/**
 * Expiry notices: finds secrets with a lifetime, previous secrets in a rotation overlap and initial
 * access tokens nearing their end, and emits `credential.expiring` once per configured lead time
 * (the shortest lead the remaining time falls within; leads already passed are not sent late) and
 * `credential.expired` once — to the audit sink, and to the webhook when one is configured.
 *
 * Exactly once across instances and restarts: a notice is a row whose unique key is (credential,
 * kind, lead); only the instance whose insert took effect emits it. The same row is the webhook's
 * outbox: deliveries run in the background (never on a request), claimed by one instance at a time,
 * retried with exponential backoff. docs/adr/0024-credential-usage-and-expiry-notices.md
 */
@Injectable()
export class ExpiryNoticeService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('ClavisExpiryNotices');
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;

  constructor(
    private readonly store: CredentialNoticeStore,
    private readonly clock: Clock,
    private readonly audit: AuditSink,
    @Inject(SERVER_SETTINGS) private readonly settings: ServerSettings,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.runOnce(), this.settings.expiryNotices.sweepInterval * 1000);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  /** One pass: the sweep, then the webhook deliveries due. Passes never overlap; failures are logged. */
  runOnce(): Promise<void> {
    this.running ??= (async () => {
      try {
        await this.sweep();
        await this.deliverDue();
      } catch (e) {
        this.logger.warn(`expiry notices: ${(e as Error).message}`);
      } finally {
        this.running = undefined;
      }
    })();
    return this.running;
  }

  /** Emits the notices due now that no instance emitted before; returns how many this call emitted. */
  async sweep(): Promise<number> {
    const now = this.clock.nowSeconds();
    const leads = this.settings.expiryNotices.leadTimes;
    const horizon = leads.length ? leads[0] : 0;
    let emitted = 0;
    for (const credential of await this.store.expiringBetween(now - EXPIRED_LOOKBACK, now + horizon)) {
      const remaining = credential.expiresAt - now;
      const lead = remaining <= 0 ? 0 : leads.filter((l) => remaining <= l).at(-1);
      if (lead === undefined) continue;
      if (await this.emit(credential, remaining <= 0 ? 'expired' : 'expiring', lead, now)) emitted++;
    }
    return emitted;
  }

  /** Sends the webhook deliveries due (claimed so that one instance sends each); returns how many were delivered. */
  async deliverDue(): Promise<number> {
    const webhook = this.settings.expiryNotices.webhook;
    if (!webhook) return 0;
    const now = this.clock.nowSeconds();
    let delivered = 0;
    for (const notice of await this.store.claimDue(now, now + DELIVERY_LEASE, DELIVERIES_PER_RUN)) {
      const attempts = notice.attempts + 1;
      const result = await postWebhook(
        webhook.url,
        webhook.key,
        { id: notice.id, timestamp: this.clock.nowSeconds(), body: notice.payload },
        DELIVERY_TIMEOUT_MS,
      );
      const at = this.clock.nowSeconds();
      if (result.ok) {
        delivered++;
        await this.store.attempted(notice.id, { attempts, nextAttemptAt: null, deliveredAt: at, lastError: null });
        continue;
      }
      const finalAttempt = attempts >= WEBHOOK_MAX_ATTEMPTS;
      await this.store.attempted(notice.id, {
        attempts,
        nextAttemptAt: finalAttempt ? null : at + webhookBackoff(attempts),
        deliveredAt: null,
        lastError: result.reason,
      });
      this.audit.record({
        type: 'webhook.delivery_failed',
        noticeId: notice.id,
        attempts,
        finalAttempt,
        reason: result.reason,
      });
    }
    return delivered;
  }

  private async emit(
    credential: ExpiringCredential,
    kind: 'expiring' | 'expired',
    lead: number,
    now: number,
  ): Promise<boolean> {
    const id = `msg_${randomId()}`;
    const type = kind === 'expiring' ? ('credential.expiring' as const) : ('credential.expired' as const);
    const body = {
      type,
      timestamp: new Date(now * 1000).toISOString(),
      data: {
        credential_type: credential.type,
        id: credential.id,
        ...(credential.clientId ? { client_id: credential.clientId } : {}),
        ...(credential.status ? { status: credential.status } : {}),
        expires_at: credential.expiresAt,
        ...(kind === 'expiring' ? { lead_time: lead } : {}),
      },
    };
    const notice: CredentialNotice = {
      id,
      credentialKey: `${credential.type}:${credential.id}`,
      kind,
      lead,
      payload: JSON.stringify(body),
      createdAt: now,
      attempts: 0,
      nextAttemptAt: this.settings.expiryNotices.webhook ? now : null,
      deliveredAt: null,
      lastError: null,
    };
    if (!(await this.store.insertOnce(notice))) return false;
    const event: AuditEvent = {
      type,
      credentialType: credential.type,
      credentialId: credential.id,
      clientId: credential.clientId,
      status: credential.status,
      expiresAt: credential.expiresAt,
      leadTime: kind === 'expiring' ? lead : undefined,
      noticeId: id,
    };
    this.audit.record(event);
    return true;
  }
}
