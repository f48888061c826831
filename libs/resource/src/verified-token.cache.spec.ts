import { describe, expect, it } from 'vitest';
import { VerifiedTokenCache } from './verified-token.cache.js';

describe('VerifiedTokenCache', () => {
  it('keys tokens by their SHA-256', () => {
    expect(VerifiedTokenCache.keyOf('abc')).toBe('ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0');
  });

  it('keeps an entry until exp plus skew', () => {
    const cache = new VerifiedTokenCache<{ exp: number }>(10, 30);
    const value = { exp: 1_000 };
    cache.set('k', value);
    expect(cache.get('k', 1_029)).toBe(value);
    expect(cache.get('k', 1_030)).toBeUndefined();
    expect(cache.size).toBe(0); // an expired entry is dropped when seen
  });

  it('evicts the oldest entry when full', () => {
    const cache = new VerifiedTokenCache<{ exp: number }>(2, 0);
    cache.set('a', { exp: 100 });
    cache.set('b', { exp: 100 });
    cache.set('c', { exp: 100 });
    expect(cache.size).toBe(2);
    expect(cache.get('a', 0)).toBeUndefined();
    expect(cache.get('b', 0)).toEqual({ exp: 100 });
    expect(cache.get('c', 0)).toEqual({ exp: 100 });
  });

  it('stores nothing when its size is 0', () => {
    const cache = new VerifiedTokenCache<{ exp: number }>(0, 0);
    cache.set('a', { exp: 100 });
    expect(cache.get('a', 0)).toBeUndefined();
  });
});
