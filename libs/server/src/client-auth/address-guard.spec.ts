import { describe, expect, it } from 'vitest';
import { AddressNotAllowedError, assertHostAllowed, isPublicAddress } from './address-guard.js';

describe('address guard (SSRF)', () => {
  it.each(['127.0.0.1', '10.1.2.3', '172.16.0.1', '192.168.1.1', '169.254.169.254', '100.64.0.1', '0.0.0.0', '::1', 'fe80::1', 'fc00::1', '::ffff:127.0.0.1', '::ffff:10.0.0.1', '255.255.255.255'])(
    '%s is not public',
    (ip) => expect(isPublicAddress(ip)).toBe(false),
  );
  it.each(['93.184.216.34', '8.8.8.8', '2606:4700:4700::1111'])('%s is public', (ip) => expect(isPublicAddress(ip)).toBe(true));
  it('refuses IP-literal hosts that are not public unless allow-listed', () => {
    expect(() => assertHostAllowed('127.0.0.1', [])).toThrow(AddressNotAllowedError);
    expect(() => assertHostAllowed('[::1]', [])).toThrow(AddressNotAllowedError);
    expect(() => assertHostAllowed('127.0.0.1', ['127.0.0.1'])).not.toThrow();
    expect(() => assertHostAllowed('example.com', [])).not.toThrow();
  });
});
