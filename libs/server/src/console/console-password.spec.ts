import { describe, expect, it } from 'vitest';
import { hashConsolePassword, parseConsolePasswordHash, verifyConsolePassword } from './console-password.js';

describe('console password (scrypt)', () => {
  const hash = hashConsolePassword('a long operator password');

  it('hashes with a fresh salt, in the documented format, and verifies only the right password', async () => {
    expect(hash).toMatch(/^scrypt\$15\$8\$1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
    expect(hashConsolePassword('a long operator password')).not.toBe(hash);
    const parsed = parseConsolePasswordHash(hash);
    await expect(verifyConsolePassword('a long operator password', parsed)).resolves.toBe(true);
    await expect(verifyConsolePassword('a long operator passwore', parsed)).resolves.toBe(false);
    await expect(verifyConsolePassword('', parsed)).resolves.toBe(false);
  });

  it('refuses a short password', () => {
    expect(() => hashConsolePassword('short')).toThrow(/at least 12 characters/);
  });

  it('refuses malformed hashes and parameters that would exhaust memory, without echoing the value', () => {
    const [, , , , salt, h] = hash.split('$');
    for (const bad of [
      '',
      'not a hash',
      `bcrypt$15$8$1$${salt}$${h}`,
      `scrypt$30$8$1$${salt}$${h}`, // N = 2^30
      `scrypt$15$64$1$${salt}$${h}`,
      `scrypt$15$8$1$AAAA$${h}`, // salt too short
      `scrypt$15$8$1$${salt}$AAAA`,
      `${hash}$extra`,
    ]) {
      let message = '';
      try {
        parseConsolePasswordHash(bad);
      } catch (e) {
        message = (e as Error).message;
      }
      expect(message, bad).toMatch(/^console.passwordHash must look like/);
      if (bad) expect(message).not.toContain(bad);
    }
  });
});
