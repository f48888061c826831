import { describe, expect, it } from 'vitest';
import { AddressNotAllowedError, assertHostAllowed, isPublicAddress } from './outbound-address.filter.js';

describe('address guard (SSRF)', () => {
  it.each([
    '127.0.0.1',
    '10.1.2.3',
    '172.16.0.1',
    '192.168.1.1',
    '169.254.169.254',
    '100.64.0.1',
    '0.0.0.0',
    '::1',
    'fe80::1',
    'fc00::1',
    '::ffff:127.0.0.1',
    '::ffff:10.0.0.1',
    '255.255.255.255',
  ])('%s is not public', (ip) => expect(isPublicAddress(ip)).toBe(false));
  it.each(['93.184.216.34', '8.8.8.8', '2606:4700:4700::1111'])('%s is public', (ip) =>
    expect(isPublicAddress(ip)).toBe(true),
  );
  it('refuses IP-literal hosts that are not public unless allow-listed', () => {
    expect(() => assertHostAllowed('127.0.0.1', [])).toThrow(AddressNotAllowedError);
    expect(() => assertHostAllowed('[::1]', [])).toThrow(AddressNotAllowedError);
    expect(() => assertHostAllowed('127.0.0.1', ['127.0.0.1'])).not.toThrow();
    expect(() => assertHostAllowed('example.com', [])).not.toThrow();
  });

  describe('IPv6 forms that embed an IPv4 address', () => {
    it.each([
      ['::7f00:1', 'IPv4-compatible loopback'],
      ['::127.0.0.1', 'IPv4-compatible loopback, dotted'],
      ['::a00:1', 'IPv4-compatible 10.0.0.1'],
      ['::a9fe:a9fe', 'IPv4-compatible 169.254.169.254 (cloud metadata)'],
      ['::808:808', 'IPv4-compatible, even with a public IPv4 address (deprecated form)'],
      ['::2', 'in ::/96'],
      ['::ffff:7f00:1', 'IPv4-mapped loopback'],
      ['::ffff:a9fe:a9fe', 'IPv4-mapped metadata address'],
      ['64:ff9b::7f00:1', 'NAT64 of loopback'],
      ['64:ff9b::a00:1', 'NAT64 of 10.0.0.1'],
      ['64:ff9b::a9fe:a9fe', 'NAT64 of 169.254.169.254'],
      ['64:ff9b:1::808:808', 'local-use NAT64 prefix'],
      ['2002:7f00:1::1', '6to4 of loopback'],
      ['2002:a00:1::1', '6to4 of 10.0.0.1'],
      ['2002:808:808::1', '6to4 (deprecated), even of a public address'],
      ['2001::1', 'Teredo'],
      ['::ffff:0:7f00:1', 'SIIT (RFC 6145) of loopback'],
    ])('%s (%s) is not public', (ip) => expect(isPublicAddress(ip)).toBe(false));

    it.each(['::ffff:8.8.8.8', '64:ff9b::808:808', '64:ff9b::5db8:d822'])(
      '%s reaches a public IPv4 address: public',
      (ip) => expect(isPublicAddress(ip)).toBe(true),
    );

    it('refuses the IP-literal hosts of such URLs', () => {
      for (const url of [
        'https://[::7f00:1]/jwks',
        'https://[::127.0.0.1]/jwks',
        'https://[64:ff9b::7f00:1]/jwks',
        'https://[2002:a00:1::1]/jwks',
      ])
        expect(() => assertHostAllowed(new URL(url).hostname, []), url).toThrow(AddressNotAllowedError);
    });
  });
});
