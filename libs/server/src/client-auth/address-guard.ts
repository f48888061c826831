import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { isIP, type LookupFunction } from 'node:net';
import ipaddr from 'ipaddr.js';

/** Whether an IP address is public unicast (not private, loopback, link-local, CGNAT, reserved …). */
export function isPublicAddress(address: string): boolean {
  try {
    return ipaddr.process(address).range() === 'unicast';
  } catch {
    return false;
  }
}

/**
 * A `lookup` for http.request that refuses to connect to non-public addresses unless the host is
 * allow-listed. Checking the address actually connected to (not a prior resolution) defeats DNS
 * rebinding.
 */
export function guardedLookup(allowedHosts: readonly string[]): LookupFunction {
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
