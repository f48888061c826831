import type { CredentialUsageRecord } from './credential-usage.js';

/**
 * Storage port of credential usage. `add` merges deltas into what is stored, whatever other instances
 * added meanwhile: counts add up, the latest `lastUsedAt` wins (with its address), the earliest
 * `firstUsedAt` stays — one upsert per credential, never a read-modify-write.
 */
export abstract class CredentialUsageStore {
  abstract add(deltas: readonly CredentialUsageRecord[]): Promise<void>;
  abstract forClient(clientId: string): Promise<CredentialUsageRecord[]>;
  /** Drops the usage of clients that no longer exist; returns how many rows went. */
  abstract purgeOrphans(): Promise<number>;
}

/** Merges one delta into a record (the rule every adapter follows). */
export function mergeUsage(
  into: CredentialUsageRecord | undefined,
  delta: CredentialUsageRecord,
): CredentialUsageRecord {
  if (!into) return { ...delta };
  const later = delta.lastUsedAt >= into.lastUsedAt;
  return {
    ...into,
    firstUsedAt: Math.min(into.firstUsedAt, delta.firstUsedAt),
    lastUsedAt: later ? delta.lastUsedAt : into.lastUsedAt,
    lastAddress: later ? delta.lastAddress : into.lastAddress,
    useCount: into.useCount + delta.useCount,
  };
}
