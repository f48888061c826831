import { Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { KeyEncryption, KeyEncryptionKeyMismatchError } from '../shared/crypto.js';
import { EncryptedValueStore, type EncryptedValue, type EncryptedValueKind } from './encrypted-value.store.js';

const KINDS: readonly EncryptedValueKind[] = ['signing_key', 'client_secret'];
const PAGE = 500;

/** Where the stored encrypted values stand, by key-encryption key. Counts only; no values. */
export interface KeyEncryptionStatus {
  /** Id of the key that encrypts new values. */
  currentKeyId: string;
  /** Every configured key (current first) and how many values it holds. */
  keys: { keyId: string; role: 'current' | 'previous'; values: number }[];
  /** Values in the format without key id (readable; re-encryption gives them one). */
  withoutKeyId: number;
  /** Values that `reEncrypt()` would rewrite: under a previous key, or without key id. */
  pending: number;
  /** Values under a key that is not configured (null key id: no configured key opens it), with one example each. */
  unknown: { keyId: string | null; values: number; example: string }[];
  total: number;
}

/** What `reEncrypt()` did, and the status after it. */
export interface ReEncryptionResult {
  reEncrypted: number;
  /** Values another writer changed (rotated, deleted, re-encrypted) between our read and our write: left as they are. */
  changedMeanwhile: number;
  /** Values under a key that is not configured: left as they are. */
  unreadable: number;
  status: KeyEncryptionStatus;
}

/**
 * Rotation of the key-encryption key: counts the stored values per key (`status()`), rewrites them
 * under the current key (`reEncrypt()`: one compare-and-set update per value, safe with other
 * instances running and re-encrypting), and checks the stored data at boot — a value under a key
 * that is not configured stops the boot with one line naming that key's id; values under previous
 * keys are listed as a warning.
 * @see docs/adr/0013-key-encryption-key-rotation.md
 */
@Injectable()
export class KeyEncryptionService implements OnApplicationBootstrap {
  private readonly logger = new Logger('ClavisKeyEncryption');

  constructor(
    private readonly kek: KeyEncryption,
    private readonly store: EncryptedValueStore,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const status = await this.status();
    const [first] = status.unknown;
    if (first) throw new KeyEncryptionKeyMismatchError(first.example, first.keyId, this.kek.keyIds);
    if (status.pending > 0) {
      const under = status.keys
        .filter((k) => k.role === 'previous' && k.values > 0)
        .map((k) => `${k.keyId} (${k.values})`);
      const legacy = status.withoutKeyId ? [`no key id (${status.withoutKeyId})`] : [];
      this.logger.warn(
        `${status.pending} stored value(s) are not under the current key-encryption key ${status.currentKeyId}: ${[...under, ...legacy].join(', ')}. Re-encrypt them (KeyEncryptionService.reEncrypt(); demo CLI: kek re-encrypt), then remove the previous key.`,
      );
    }
    const idle = status.keys.filter((k) => k.role === 'previous' && k.values === 0).map((k) => k.keyId);
    if (idle.length && status.pending === 0)
      this.logger.log(
        `previous key-encryption key(s) ${idle.join(', ')} encrypt no stored value: removable once no instance encrypts with them`,
      );
  }

  /** Counts every stored encrypted value by the key it is under. */
  async status(): Promise<KeyEncryptionStatus> {
    const perKey = new Map(this.kek.keyIds.map((id) => [id, 0]));
    const unknown = new Map<string | null, { values: number; example: string }>();
    let withoutKeyId = 0;
    let pending = 0;
    let total = 0;
    for await (const value of this.values()) {
      total++;
      if (!value.ciphertext.startsWith('v2.')) withoutKeyId++;
      const keyId = this.kek.keyIdOf(value.ciphertext, value.context);
      if (keyId !== null && perKey.has(keyId)) {
        perKey.set(keyId, perKey.get(keyId)! + 1);
        if (!this.kek.isCurrent(value.ciphertext)) pending++;
      } else {
        const entry = unknown.get(keyId) ?? { values: 0, example: value.context };
        entry.values++;
        unknown.set(keyId, entry);
      }
    }
    const keys = this.kek.keyIds.map((keyId, i) => ({
      keyId,
      role: i === 0 ? ('current' as const) : ('previous' as const),
      values: perKey.get(keyId)!,
    }));
    return {
      currentKeyId: this.kek.currentKeyId,
      keys,
      withoutKeyId,
      pending,
      unknown: [...unknown].map(([keyId, u]) => ({ keyId, ...u })),
      total,
    };
  }

  /**
   * Rewrites every value that is not under the current key (or has no key id) with the current
   * key. Each value is one compare-and-set update: a value that changed meanwhile is left alone
   * (whatever changed it wrote it under its own current key), so two instances, or an instance and
   * this command, can run at once without losing a value. Run it again if `status.pending` is not 0.
   */
  async reEncrypt(): Promise<ReEncryptionResult> {
    let reEncrypted = 0;
    let changedMeanwhile = 0;
    let unreadable = 0;
    for await (const value of this.values()) {
      if (this.kek.isCurrent(value.ciphertext)) continue;
      let next: string;
      try {
        next = this.kek.reEncrypt(value.ciphertext, value.context);
      } catch (e) {
        if (!(e instanceof KeyEncryptionKeyMismatchError)) throw e;
        unreadable++;
        continue;
      }
      if (await this.store.replace(value, next)) reEncrypted++;
      else changedMeanwhile++;
    }
    const status = await this.status();
    this.logger.log(
      `re-encrypted ${reEncrypted} stored value(s) with key-encryption key ${this.kek.currentKeyId}; ${status.pending} still pending`,
    );
    return { reEncrypted, changedMeanwhile, unreadable, status };
  }

  private async *values(): AsyncGenerator<EncryptedValue> {
    for (const kind of KINDS) {
      let after: string | null = null;
      for (;;) {
        const page = await this.store.page(kind, after, PAGE);
        yield* page;
        if (page.length < PAGE) break;
        after = page[page.length - 1]!.id;
      }
    }
  }
}
