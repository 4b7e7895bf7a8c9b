/**
 * IP addresses and CIDR ranges, IPv4 and IPv6, as Envoy and iptables compare them.
 *
 * Addresses are kept as byte arrays so that prefix comparison is the same code for both
 * families. IPv4-mapped IPv6 addresses (::ffff:a.b.c.d) are NOT folded into IPv4: Envoy's
 * CidrRange treats them as IPv6 (source/common/network/cidr_range.cc), and so do we.
 */

export type IpFamily = 4 | 6;

export interface IpAddress {
  readonly family: IpFamily;
  readonly bytes: Uint8Array;
  /** Canonical text form (dotted quad, or RFC 5952 compressed IPv6). */
  readonly text: string;
}

export interface CidrRange {
  readonly address: IpAddress;
  readonly prefixLen: number;
  readonly text: string;
}

const V4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

function parseV4(s: string): Uint8Array | undefined {
  const m = V4.exec(s);
  if (!m) return undefined;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const part = m[i + 1]!;
    // Leading zeros are ambiguous (octal in some parsers); Envoy's inet_pton rejects them.
    if (part.length > 1 && part.startsWith('0')) return undefined;
    const n = Number(part);
    if (n > 255) return undefined;
    out[i] = n;
  }
  return out;
}

function parseV6(input: string): Uint8Array | undefined {
  let s = input;
  if (s.startsWith('[') && s.endsWith(']')) s = s.slice(1, -1);
  const zone = s.indexOf('%');
  if (zone >= 0) s = s.slice(0, zone);
  if (!s.includes(':')) return undefined;
  const out = new Uint8Array(16);
  const halves = s.split('::');
  if (halves.length > 2) return undefined;
  const parseGroups = (part: string): number[] | undefined => {
    if (part === '') return [];
    const groups = part.split(':');
    const words: number[] = [];
    for (let i = 0; i < groups.length; i++) {
      const g = groups[i]!;
      if (i === groups.length - 1 && g.includes('.')) {
        const v4 = parseV4(g);
        if (!v4) return undefined;
        words.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
        continue;
      }
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
      words.push(parseInt(g, 16));
    }
    return words;
  };
  const head = parseGroups(halves[0]!);
  const tail = halves.length === 2 ? parseGroups(halves[1]!) : [];
  if (!head || !tail) return undefined;
  const total = head.length + tail.length;
  if (halves.length === 1 && total !== 8) return undefined;
  if (halves.length === 2 && total > 7) return undefined;
  const words = [...head, ...new Array<number>(8 - total).fill(0), ...tail];
  for (let i = 0; i < 8; i++) {
    out[2 * i] = words[i]! >> 8;
    out[2 * i + 1] = words[i]! & 0xff;
  }
  return out;
}

function formatV6(b: Uint8Array): string {
  const words: number[] = [];
  for (let i = 0; i < 8; i++) words.push((b[2 * i]! << 8) | b[2 * i + 1]!);
  // RFC 5952: compress the longest run (>= 2) of zero words, the first one on ties.
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (w: number): string => w.toString(16);
  // IPv4-mapped addresses keep a dotted tail (RFC 5952 §5; inet_ntop, hence Envoy, prints them so)
  if (bestStart === 0 && bestLen === 5 && words[5] === 0xffff) return `::ffff:${b[12]}.${b[13]}.${b[14]}.${b[15]}`;
  if (bestStart < 0) return words.map(hex).join(':');
  const left = words.slice(0, bestStart).map(hex).join(':');
  const right = words.slice(bestStart + bestLen).map(hex).join(':');
  return `${left}::${right}`;
}

/** Parses an IPv4 or IPv6 literal; returns undefined for anything else (hostnames included). */
export function parseIp(s: string): IpAddress | undefined {
  const text = s.trim();
  const v4 = parseV4(text);
  if (v4) return { family: 4, bytes: v4, text: Array.from(v4).join('.') };
  const v6 = parseV6(text);
  if (v6) return { family: 6, bytes: v6, text: formatV6(v6) };
  return undefined;
}

export function isIp(s: string): boolean {
  return parseIp(s) !== undefined;
}

/**
 * Parses "a.b.c.d/n", "x::/n", or a bare address (a host route: /32 or /128).
 * Host bits beyond the prefix are cleared, as Envoy's CidrRange::create does.
 */
export function parseCidr(s: string): CidrRange | undefined {
  const text = s.trim();
  const slash = text.indexOf('/');
  const addrText = slash >= 0 ? text.slice(0, slash) : text;
  const ip = parseIp(addrText);
  if (!ip) return undefined;
  const max = ip.family === 4 ? 32 : 128;
  let len = max;
  if (slash >= 0) {
    const lenText = text.slice(slash + 1);
    if (!/^\d{1,3}$/.test(lenText)) return undefined;
    len = Number(lenText);
    if (len > max) return undefined;
  }
  return makeCidr(ip, len);
}

/** Builds a range from an address and prefix length (Envoy's CidrRange{address_prefix, prefix_len}). */
export function makeCidr(ip: IpAddress, prefixLen: number): CidrRange {
  const max = ip.family === 4 ? 32 : 128;
  const len = Math.max(0, Math.min(max, prefixLen));
  const masked = new Uint8Array(ip.bytes);
  for (let bit = len; bit < max; bit++) masked[bit >> 3]! &= ~(0x80 >> (bit & 7));
  const address: IpAddress =
    ip.family === 4
      ? { family: 4, bytes: masked, text: Array.from(masked).join('.') }
      : { family: 6, bytes: masked, text: formatV6(masked) };
  return { address, prefixLen: len, text: `${address.text}/${len}` };
}

export function cidrContains(range: CidrRange, ip: IpAddress): boolean {
  if (range.address.family !== ip.family) return false;
  const len = range.prefixLen;
  const full = len >> 3;
  for (let i = 0; i < full; i++) if (range.address.bytes[i] !== ip.bytes[i]) return false;
  const rem = len & 7;
  if (rem === 0) return true;
  const mask = (0xff << (8 - rem)) & 0xff;
  return (range.address.bytes[full]! & mask) === (ip.bytes[full]! & mask);
}

export function ipEquals(a: IpAddress, b: IpAddress): boolean {
  if (a.family !== b.family) return false;
  for (let i = 0; i < a.bytes.length; i++) if (a.bytes[i] !== b.bytes[i]) return false;
  return true;
}

export function isLoopback(ip: IpAddress): boolean {
  if (ip.family === 4) return ip.bytes[0] === 127;
  return ip.bytes.every((b, i) => (i === 15 ? b === 1 : b === 0));
}

export function isUnspecified(ip: IpAddress): boolean {
  return ip.bytes.every((b) => b === 0);
}

/** Formats host:port the way Envoy names addresses ("[::1]:80" for IPv6). */
export function hostPort(ip: IpAddress, port: number): string {
  return ip.family === 6 ? `[${ip.text}]:${port}` : `${ip.text}:${port}`;
}
