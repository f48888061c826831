import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { isIP, type LookupFunction } from 'node:net';
import ipaddr from 'ipaddr.js';

/**
 * Whether an IP address is public unicast (not private, loopback, link-local, CGNAT, reserved …).
 * IPv6 forms that carry an IPv4 address are judged by what they reach (ADR 0012):
 * - `::ffff:0:0/96` (IPv4-mapped): by the embedded IPv4 address;
 * - `64:ff9b::/96` (NAT64, RFC 6052): by the embedded IPv4 address, so DNS64 networks still reach
 *   public key sets while `64:ff9b::7f00:1` (loopback through the translator) is refused;
 * - `::/96` (IPv4-compatible, deprecated by RFC 4291; Linux routes `::7f00:1` to 127.0.0.1),
 *   `64:ff9b:1::/48` (local-use NAT64), `2002::/16` (6to4, RFC 7526), Teredo and SIIT: never public.
 */
export function isPublicAddress(address: string): boolean {
  let ip: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    ip = ipaddr.parse(address);
  } catch {
    return false;
  }
  if (ip.kind() === 'ipv4') return ip.range() === 'unicast';
  const v6 = ip as ipaddr.IPv6;
  if (v6.isIPv4MappedAddress()) return v6.toIPv4Address().range() === 'unicast';
  if (v6.match(IPV4_COMPATIBLE, 96)) return false;
  if (v6.match(NAT64_WELL_KNOWN, 96)) return ipaddr.fromByteArray(v6.toByteArray().slice(12)).range() === 'unicast';
  return v6.range() === 'unicast';
}

const IPV4_COMPATIBLE = ipaddr.IPv6.parse('::');
const NAT64_WELL_KNOWN = ipaddr.IPv6.parse('64:ff9b::');

/**
 * A `lookup` for http.request that refuses to connect to non-public addresses unless the host is
 * allow-listed. Checking the address actually connected to (not a prior resolution) defeats DNS
 * rebinding.
 */
export function publicOnlyLookup(allowedHosts: readonly string[]): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return (callback as (e: Error) => void)(err);
      const list = addresses as unknown as LookupAddress[];
      const allowed = allowedHosts.includes(hostname.toLowerCase());
      const usable = allowed ? list : list.filter((a) => isPublicAddress(a.address));
      if (usable.length === 0) return (callback as (e: Error) => void)(new AddressNotAllowedError(hostname));
      if ((options as { all?: boolean }).all) (callback as (e: null, a: LookupAddress[]) => void)(null, usable);
      else (callback as (e: null, a: string, f: number) => void)(null, usable[0].address, usable[0].family);
    });
  };
}

/** Checks an IP-literal host up front (Node skips `lookup` for literals). */
export function assertHostAllowed(hostname: string, allowedHosts: readonly string[]): void {
  const bare = hostname.replace(/^\[|\]$/g, '');
  if (allowedHosts.includes(hostname.toLowerCase()) || allowedHosts.includes(bare.toLowerCase())) return;
  if (isIP(bare) && !isPublicAddress(bare)) throw new AddressNotAllowedError(hostname);
}

export class AddressNotAllowedError extends Error {
  constructor(host: string) {
    super(`${host} resolves to a non-public address and is not allow-listed`);
    this.name = 'AddressNotAllowedError';
  }
}
