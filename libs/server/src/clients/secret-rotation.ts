import { secretIsValid, type ClientSecretRecord, type TokenEndpointAuthMethod } from './client.record.js';

/**
 * The secret set after a rotation: the new secret, plus the secret that was current until now,
 * kept valid for `overlap` seconds (never past its own expiry). Anything older is dropped, so at
 * most two secrets are ever valid. With `overlap = 0` only the new secret remains.
 */
export function rotateSecretSet(
  secrets: readonly ClientSecretRecord[],
  fresh: ClientSecretRecord,
  now: number,
  overlap: number,
): ClientSecretRecord[] {
  const current = currentSecret(secrets, now);
  if (!current || overlap === 0) return [fresh];
  const retiresAt = Math.min(now + overlap, current.expiresAt ?? Number.MAX_SAFE_INTEGER);
  return [fresh, { ...current, retiresAt }];
}

/** The current secret: the newest valid one that is not being retired. */
export function currentSecret(secrets: readonly ClientSecretRecord[], now: number): ClientSecretRecord | undefined {
  return [...secrets]
    .filter((s) => s.retiresAt === null && secretIsValid(s, now))
    .sort((a, b) => b.createdAt - a.createdAt)[0];
}

/** The secrets usable at `now`: current first, previous second. */
export function validSecrets(secrets: readonly ClientSecretRecord[], now: number): ClientSecretRecord[] {
  return secrets
    .filter((s) => secretIsValid(s, now))
    .sort((a, b) => (a.retiresAt === null ? -1 : b.retiresAt === null ? 1 : b.createdAt - a.createdAt));
}

/**
 * The secret whose expiry is the client's `client_secret_expires_at`: the newest one not being
 * retired, even when it has expired (so a client is told its secret expired, not that it never
 * will: 0 means "never" in RFC 7591 §3.2.1).
 */
export function latestSecret(secrets: readonly ClientSecretRecord[]): ClientSecretRecord | undefined {
  return [...secrets].filter((s) => s.retiresAt === null).sort((a, b) => b.createdAt - a.createdAt)[0];
}

/**
 * The secret set after a client moved from the secret method `previous` to a method without a
 * secret: the secret that was current keeps working for `overlap` seconds (never past its own
 * expiry), with `previous` only, so a fleet can switch one instance at a time. Like a rotation,
 * anything older is dropped; with `overlap = 0` no secret remains.
 */
export function migrationSecretSet(
  secrets: readonly ClientSecretRecord[],
  previous: TokenEndpointAuthMethod,
  now: number,
  overlap: number,
): ClientSecretRecord[] {
  const current = currentSecret(secrets, now);
  if (!current || overlap === 0) return [];
  const retiresAt = Math.min(now + overlap, current.expiresAt ?? Number.MAX_SAFE_INTEGER);
  return [{ ...current, retiresAt, method: previous }];
}

/** The secrets still serving a previous method (a migration's overlap) at `now`. */
export function migrationSecrets(secrets: readonly ClientSecretRecord[], now: number): ClientSecretRecord[] {
  return secrets.filter((s) => s.method !== null && s.method !== undefined && secretIsValid(s, now));
}
