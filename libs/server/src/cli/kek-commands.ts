import type { INestApplicationContext } from '@nestjs/common';
import { KeyEncryptionService, type KeyEncryptionStatus } from '../key-encryption/key-encryption.service.js';

/** Help lines of the `kek` commands (rotation of the key-encryption key). */
export const KEK_HELP = `  kek status                 stored encrypted values per key-encryption key (ids only, never keys)
  kek re-encrypt             re-encrypt every value not under the current key (CLAVIS_KEK's first key)`;

/**
 * `kek status` and `kek re-encrypt`. Exit code 0; 1 for `re-encrypt` when values under a key that
 * is not configured were left as they were.
 * @see docs/adr/0013-key-encryption-key-rotation.md
 */
export async function runKekCommand(
  app: INestApplicationContext,
  command: string | undefined,
  out: (value: unknown) => void,
): Promise<number | undefined> {
  const service = app.get(KeyEncryptionService);
  switch (command) {
    case 'status':
      out(statusView(await service.status()));
      return 0;
    case 're-encrypt': {
      const r = await service.reEncrypt();
      out({
        re_encrypted: r.reEncrypted,
        changed_meanwhile: r.changedMeanwhile,
        unreadable: r.unreadable,
        status: statusView(r.status),
      });
      return r.unreadable ? 1 : 0;
    }
    default:
      return undefined;
  }
}

function statusView(s: KeyEncryptionStatus) {
  return {
    current_key_id: s.currentKeyId,
    keys: s.keys.map((k) => ({ key_id: k.keyId, role: k.role, values: k.values })),
    without_key_id: s.withoutKeyId,
    pending: s.pending,
    unknown: s.unknown.map((u) => ({ key_id: u.keyId, values: u.values, example: u.example })),
    total: s.total,
    previous_keys_removable: s.pending === 0 && s.unknown.length === 0,
  };
}
