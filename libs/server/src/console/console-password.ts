import { randomBytes, scrypt, scryptSync, timingSafeEqual } from 'node:crypto';

/** A parsed scrypt password hash (what the console keeps in memory; never the password). */
export interface ConsolePasswordHash {
  /** log2 of the CPU/memory cost N. */
  logN: number;
  r: number;
  p: number;
  salt: Buffer;
  hash: Buffer;
}

/** Cost of new hashes: N = 2^15, r = 8, p = 1 (32 MiB, ~0.1 s on one core). */
const NEW_HASH = { logN: 15, r: 8, p: 1 } as const;
const KEY_LENGTH = 32;
const SALT_LENGTH = 16;
/** Bounds on the parameters of a given hash, so that a configured value cannot exhaust memory. */
const MAX_LOG_N = 20;
const MAX_R = 16;
const MAX_P = 4;
/** The shortest operator password accepted. */
export const MIN_CONSOLE_PASSWORD_LENGTH = 12;

function maxmem(h: { logN: number; r: number; p: number }): number {
  return 128 * 2 ** h.logN * h.r * (h.p + 2) + 1024 * 1024;
}

/**
 * Hashes an operator password for the console's `passwordHash` option:
 * `scrypt$<log2 N>$<r>$<p>$<salt>$<hash>` (base64url), with a fresh random salt.
 * @example clavis console hash-password   (reads the password on stdin)
 */
export function hashConsolePassword(password: string): string {
  if (typeof password !== 'string' || [...password].length < MIN_CONSOLE_PASSWORD_LENGTH)
    throw new Error(`the console password must have at least ${MIN_CONSOLE_PASSWORD_LENGTH} characters`);
  const salt = randomBytes(SALT_LENGTH);
  const hash = scryptSync(password.normalize('NFC'), salt, KEY_LENGTH, {
    N: 2 ** NEW_HASH.logN,
    r: NEW_HASH.r,
    p: NEW_HASH.p,
    maxmem: maxmem(NEW_HASH),
  });
  return formatHash({ ...NEW_HASH, salt, hash });
}

export function formatHash(h: ConsolePasswordHash): string {
  return `scrypt$${h.logN}$${h.r}$${h.p}$${h.salt.toString('base64url')}$${h.hash.toString('base64url')}`;
}

/** Parses a `passwordHash` option; throws an Error naming what is wrong (never echoing the value). */
export function parseConsolePasswordHash(value: string): ConsolePasswordHash {
  const parts = typeof value === 'string' ? value.trim().split('$') : [];
  const [scheme, logN, r, p, salt, hash] = parts;
  const int = (v: string | undefined) => (v !== undefined && /^\d{1,3}$/.test(v) ? Number(v) : NaN);
  const parsed = {
    logN: int(logN),
    r: int(r),
    p: int(p),
    salt: Buffer.from(salt ?? '', 'base64url'),
    hash: Buffer.from(hash ?? '', 'base64url'),
  };
  if (
    parts.length !== 6 ||
    scheme !== 'scrypt' ||
    !(parsed.logN >= 10 && parsed.logN <= MAX_LOG_N) ||
    !(parsed.r >= 1 && parsed.r <= MAX_R) ||
    !(parsed.p >= 1 && parsed.p <= MAX_P) ||
    parsed.salt.length < 16 ||
    parsed.hash.length < 32
  )
    throw new Error(
      `console.passwordHash must look like scrypt$<log2 N 10–${MAX_LOG_N}>$<r 1–${MAX_R}>$<p 1–${MAX_P}>$<salt ≥ 16 bytes>$<hash ≥ 32 bytes> (base64url), as printed by "clavis console hash-password"`,
    );
  return parsed;
}

/**
 * Whether `presented` is the password of `stored`: scrypt (off the main thread, in libuv's pool)
 * with the stored parameters and salt, then a constant-time comparison of the two hashes.
 */
export function verifyConsolePassword(presented: string, stored: ConsolePasswordHash): Promise<boolean> {
  return new Promise((resolve) => {
    scrypt(
      presented.normalize('NFC'),
      stored.salt,
      stored.hash.length,
      { N: 2 ** stored.logN, r: stored.r, p: stored.p, maxmem: maxmem(stored) },
      (err, derived) => resolve(!err && timingSafeEqual(derived, stored.hash)),
    );
  });
}
