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

/**
 * Anonymizes an IP address as Google Analytics does: the last octet of an IPv4 address and
 * the last 80 bits of an IPv6 address become zero. Anything that is not an IP address gives
 * undefined (drop it: when anonymization is on, an unreadable address must not pass as is).
 */
export function anonymizeIp(raw: string): string | undefined {
  const ip = raw.trim().replace(/%.*$/, '');
  if (isIPv4(ip)) return ip.replace(/\.\d+$/, '.0');
  if (!isIPv6(ip)) return undefined;
  const groups = ipv6Groups(ip);
  if (!groups) return undefined;
  return `${groups
    .slice(0, 3)
    .map((g) => g.toString(16))
    .join(':')}::`;
}
