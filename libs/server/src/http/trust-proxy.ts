import ipaddr from 'ipaddr.js';

/**
 * TRUST_PROXY, parsed: which hops of `X-Forwarded-For` the server believes.
 * - `all`: every hop (`true`) — only when nothing but the proxy can reach the server;
 * - `hops`: the nearest N hops (the socket's peer and the N−1 entries it appended) — same caveat;
 * - `addresses`: hops whose address is in one of the listed addresses / CIDRs / named ranges
 *   (`loopback`, `linklocal`, `uniquelocal`) — the form that also holds when clients can reach
 *   the server directly.
 * @see docs/adr/0012-edge-trust-and-revocation.md
 */
export type TrustProxySetting =
  { kind: 'all' } | { kind: 'hops'; hops: number } | { kind: 'addresses'; ranges: string[] };

/** A trust function in the shape both Fastify (`trustProxy`) and Express (`trust proxy`) accept: (address, hop index) → trusted. */
export type TrustProxyFunction = (address: string, hop: number) => boolean;

const NAMED: Record<string, string[]> = {
  loopback: ['127.0.0.0/8', '::1/128'],
  linklocal: ['169.254.0.0/16', 'fe80::/10'],
  uniquelocal: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fc00::/7'],
};

const MAX_HOPS = 32;

/** Thrown for a TRUST_PROXY value that means nothing (the message says what is accepted). */
export class TrustProxyError extends Error {
  constructor(detail: string) {
    super(
      `TRUST_PROXY ${detail}: use true, a hop count 1–${MAX_HOPS}, or comma-separated addresses/CIDRs (e.g. 10.0.0.5,10.1.0.0/16, or loopback, linklocal, uniquelocal)`,
    );
    this.name = 'TrustProxyError';
  }
}

/** Parses TRUST_PROXY; `undefined` (unset, empty, `false`, `0`) means the socket's address is the client's. */
export function parseTrustProxy(raw: string | undefined): TrustProxySetting | undefined {
  const value = raw?.trim() ?? '';
  if (value === '' || value.toLowerCase() === 'false' || value === '0') return undefined;
  if (value.toLowerCase() === 'true') return { kind: 'all' };
  if (/^\d+$/.test(value)) {
    const hops = Number(value);
    if (hops > MAX_HOPS) throw new TrustProxyError(`hop count ${hops} is too large`);
    return { kind: 'hops', hops };
  }
  const ranges: string[] = [];
  for (const item of value.split(',').map((s) => s.trim())) {
    if (item === '') throw new TrustProxyError('has an empty list entry');
    const named = NAMED[item.toLowerCase()];
    if (named) {
      ranges.push(...named);
      continue;
    }
    const cidr = toCidr(item);
    if (!cidr)
      throw new TrustProxyError(
        `entry "${item.replace(/[^\x20-\x7e]/g, '?').slice(0, 64)}" is not an IP address or CIDR`,
      );
    ranges.push(cidr);
  }
  return { kind: 'addresses', ranges };
}

/** An address or CIDR in canonical CIDR form, or undefined when it is neither. */
function toCidr(item: string): string | undefined {
  try {
    if (item.includes('/')) {
      const [addr, bits] = ipaddr.parseCIDR(item);
      return `${addr.toString()}/${bits}`;
    }
    if (!ipaddr.isValid(item)) return undefined;
    const addr = ipaddr.parse(item);
    return `${addr.toString()}/${addr.kind() === 'ipv4' ? 32 : 128}`;
  } catch {
    return undefined;
  }
}

/** The trust function of a setting, identical for both HTTP adapters. */
export function trustProxyFunction(setting: TrustProxySetting): TrustProxyFunction {
  if (setting.kind === 'all') return () => true;
  if (setting.kind === 'hops') {
    const { hops } = setting;
    return (_address, hop) => hop < hops;
  }
  const ranges = setting.ranges.map((r) => ipaddr.parseCIDR(r));
  return (address) => {
    let parsed: ipaddr.IPv4 | ipaddr.IPv6;
    try {
      parsed = ipaddr.process(address); // ::ffff:a.b.c.d → a.b.c.d
    } catch {
      return false;
    }
    return ranges.some(([net, bits]) => {
      if (parsed.kind() === net.kind()) return parsed.match(net, bits);
      // An IPv4 range also covers the IPv4-mapped IPv6 form, and the other way round.
      if (net.kind() === 'ipv6' && (net as ipaddr.IPv6).isIPv4MappedAddress() && bits >= 96)
        return parsed.match((net as ipaddr.IPv6).toIPv4Address(), bits - 96);
      return false;
    });
  };
}
