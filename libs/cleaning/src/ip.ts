import { isIPv4, isIPv6 } from 'node:net';

/** The 8 groups of an IPv6 address (an embedded IPv4 tail counts as two). */
function ipv6Groups(ip: string): number[] | undefined {
  let address = ip;
  const tail: number[] = [];
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(address);
  if (v4?.[1]) {
    const [a, b, c, d] = v4[1].split('.').map(Number) as [number, number, number, number];
    tail.push((a << 8) | b, (c << 8) | d);
    address = address.slice(0, -v4[1].length) + '0:0';
  }
  const [head = '', rest] = address.split('::');
  const left = head ? head.split(':') : [];
  const right = rest === undefined ? [] : rest ? rest.split(':') : [];
  const missing = 8 - left.length - right.length;
  if (rest === undefined ? missing !== 0 : missing < 0) return undefined;
  const groups = [...left, ...Array<string>(rest === undefined ? 0 : missing).fill('0'), ...right].map((g) => parseInt(g, 16));
  if (tail.length === 2) groups.splice(6, 2, ...tail);
  return groups.length === 8 && groups.every((g) => Number.isInteger(g) && g >= 0 && g <= 0xffff) ? groups : undefined;
}

/** The IPv4 address an IPv4-mapped IPv6 address (`::ffff:a.b.c.d`, or its hex form) stands for. */
function mappedIpv4(groups: number[]): string | undefined {
  if (groups.slice(0, 5).some((g) => g !== 0) || groups[5] !== 0xffff) return undefined;
  const [hi = 0, lo = 0] = groups.slice(6);
  return [hi >> 8, hi & 0xff, lo >> 8, lo & 0xff].join('.');
}

/**
 * An address as an IPv4 client is known by: a dual-stack server sees one as `::ffff:a.b.c.d`,
 * which geo and IP tools (and anonymization) must read as `a.b.c.d`. Anything else unchanged.
 */
export function plainIp(ip: string): string {
  if (!ip.includes(':') || !isIPv6(ip)) return ip;
  const groups = ipv6Groups(ip);
  return (groups && mappedIpv4(groups)) ?? ip;
}

/**
 * Anonymizes an IP address as Google Analytics does: the last octet of an IPv4 address (an
 * IPv4-mapped IPv6 one included, answered as IPv4) and the last 80 bits of an IPv6 address become
 * zero. Anything that is not an IP address gives undefined (drop it: when anonymization is on, an
 * unreadable address must not pass as is).
 */
export function anonymizeIp(raw: string): string | undefined {
  const ip = raw.trim().replace(/%.*$/, '');
  if (isIPv4(ip)) return ip.replace(/\.\d+$/, '.0');
  if (!isIPv6(ip)) return undefined;
  const groups = ipv6Groups(ip);
  if (!groups) return undefined;
  const v4 = mappedIpv4(groups);
  if (v4) return v4.replace(/\.\d+$/, '.0');
  return `${groups
    .slice(0, 3)
    .map((g) => g.toString(16))
    .join(':')}::`;
}
