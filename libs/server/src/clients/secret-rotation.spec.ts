import { describe, expect, it } from 'vitest';
import type { ClientSecretRecord } from './client.record.js';
import { currentSecret, rotateSecretSet, validSecrets } from './secret-rotation.js';

const secret = (id: string, createdAt: number, extra: Partial<ClientSecretRecord> = {}): ClientSecretRecord => ({
  id,
  clientId: 'c',
  secretHash: id,
  secretEncrypted: null,
  createdAt,
  expiresAt: null,
  retiresAt: null,
  method: null,
  ...extra,
});

describe('secret rotation window', () => {
  it('keeps the current secret as previous for the overlap', () => {
    const set = rotateSecretSet([secret('s1', 100)], secret('s2', 200), 200, 86_400);
    expect(set.map((s) => [s.id, s.retiresAt])).toEqual([
      ['s2', null],
      ['s1', 86_600],
    ]);
  });

  it('never more than two: a second rotation inside the window drops the oldest', () => {
    const first = rotateSecretSet([secret('s1', 100)], secret('s2', 200), 200, 86_400);
    const second = rotateSecretSet(first, secret('s3', 300), 300, 86_400);
    expect(second.map((s) => s.id)).toEqual(['s3', 's2']);
  });

  it('no overlap: only the new secret', () => {
    expect(rotateSecretSet([secret('s1', 100)], secret('s2', 200), 200, 0).map((s) => s.id)).toEqual(['s2']);
  });

  it('the previous secret never outlives its own expiry', () => {
    const set = rotateSecretSet([secret('s1', 100, { expiresAt: 1_000 })], secret('s2', 200), 200, 86_400);
    expect(set[1].retiresAt).toBe(1_000);
  });

  it('valid and current secrets at a given time', () => {
    const set = [secret('s2', 200), secret('s1', 100, { retiresAt: 500 })];
    expect(validSecrets(set, 499).map((s) => s.id)).toEqual(['s2', 's1']);
    expect(validSecrets(set, 500).map((s) => s.id)).toEqual(['s2']);
    expect(currentSecret(set, 300)?.id).toBe('s2');
    expect(validSecrets([secret('s1', 1, { expiresAt: 10 })], 10)).toEqual([]);
  });
});
