import { describe, expect, it } from 'vitest';
import { parseTrustProxy, trustProxyFunction, TrustProxyError } from './trust-proxy.js';

describe('TRUST_PROXY', () => {
  it.each([undefined, '', 'false', '0'])('%j: off', (raw) => expect(parseTrustProxy(raw)).toBeUndefined());

  it('true trusts every hop; a hop count trusts the nearest N', () => {
    const all = trustProxyFunction(parseTrustProxy('true')!);
    expect([all('1.2.3.4', 0), all('1.2.3.4', 9)]).toEqual([true, true]);
    const two = trustProxyFunction(parseTrustProxy('2')!);
    expect([two('1.2.3.4', 0), two('1.2.3.4', 1), two('1.2.3.4', 2)]).toEqual([true, true, false]);
  });

  it('addresses, CIDRs and named ranges; an IPv4 entry also matches its IPv4-mapped form', () => {
    const trust = trustProxyFunction(parseTrustProxy(' 10.0.0.5 , 192.168.0.0/16, loopback, 2001:db8::/32')!);
    expect(trust('10.0.0.5', 0)).toBe(true);
    expect(trust('::ffff:10.0.0.5', 0)).toBe(true);
    expect(trust('10.0.0.6', 0)).toBe(false);
    expect(trust('192.168.44.1', 3)).toBe(true);
    expect(trust('127.0.0.9', 0)).toBe(true);
    expect(trust('::1', 0)).toBe(true);
    expect(trust('2001:db8::7', 0)).toBe(true);
    expect(trust('2001:db9::7', 0)).toBe(false);
    expect(trust('not an address', 0)).toBe(false);
  });

  it.each(['yes', '33', '10.0.0.0/33', '10.0.0.1,,10.0.0.2', 'example.com', '1.2.3.4/8x', '-1'])(
    '%j is refused with the accepted forms named',
    (raw) => {
      expect(() => parseTrustProxy(raw)).toThrow(TrustProxyError);
      expect(() => parseTrustProxy(raw)).toThrow(/use true, a hop count 1–32, or comma-separated addresses\/CIDRs/);
    },
  );
});
