/** A credential that expires, as the sweep sees it. */
export interface ExpiringCredential {
  type: 'client_secret' | 'initial_access_token';
  id: string;
  /** The client of a secret. */
  clientId?: string;
  /** For a secret: `previous` when it is in a rotation overlap. */
  status?: 'current' | 'previous';
  /** When it stops working (seconds): its expiry, or the end of its overlap, whichever comes first. */
  expiresAt: number;
}

/** One notice: the ledger entry (unique per credential, kind and lead) and its webhook delivery state. */
export interface CredentialNotice {
  /** The event id (`webhook-id`). */
  id: string;
  /** `<type>:<id>` of the credential. */
  credentialKey: string;
  kind: 'expiring' | 'expired';
  /** The lead time (seconds) of an `expiring` notice; 0 for `expired`. */
  lead: number;
  /** The event, as JSON: the webhook body. */
  payload: string;
  createdAt: number;
  attempts: number;
  /** When a webhook delivery is due next; null = none due (delivered, given up, or no webhook). */
  nextAttemptAt: number | null;
  deliveredAt: number | null;
  lastError: string | null;
}

/**
 * Storage port of expiry notices. `insertOnce` is the exactly-once: an insert that does nothing when
 * a notice with the same (credential, kind, lead) exists — only the caller whose insert took effect
 * emits the event, whichever instance and however often the sweep runs. Deliveries are claimed by a
 * conditional update, so one instance sends each attempt.
 */
export abstract class CredentialNoticeStore {
  /** Credentials whose end lies in [from, to] (seconds). */
  abstract expiringBetween(from: number, to: number): Promise<ExpiringCredential[]>;
  /** True when this call inserted the notice; false when it was already there. */
  abstract insertOnce(notice: CredentialNotice): Promise<boolean>;
  /** Claims up to `limit` notices due at `now` by moving their next attempt to `leaseUntil`; returns those won. */
  abstract claimDue(now: number, leaseUntil: number, limit: number): Promise<CredentialNotice[]>;
  /** Records an attempt: `nextAttemptAt` null ends the deliveries (`deliveredAt` set on success). */
  abstract attempted(
    id: string,
    result: { attempts: number; nextAttemptAt: number | null; deliveredAt: number | null; lastError: string | null },
  ): Promise<void>;
  /** Every notice of a credential (tests, operators). */
  abstract forCredential(credentialKey: string): Promise<CredentialNotice[]>;
}
