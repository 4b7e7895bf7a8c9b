import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cidrContains, ipEquals, isLoopback, makeCidr, parseCidr, parseIp, type IpAddress, type IpFamily } from '../../src/envoy/ip.js';

// ---- independent reference model: addresses as BigInt ------------------------------------------

const BITS: Record<IpFamily, number> = { 4: 32, 6: 128 };

function bytesToBig(bytes: Uint8Array): bigint {
  let n = 0n;
  for (const b of bytes) n = (n << 8n) | BigInt(b);
  return n;
}

function bigToBytes(n: bigint, family: IpFamily): number[] {
  const len = family === 4 ? 4 : 16;
  const out: number[] = [];
  for (let i = len - 1; i >= 0; i--) out.push(Number((n >> BigInt(8 * i)) & 0xffn));
  return out;
}

/** Dotted quad / full (uncompressed, unpadded) eight-group IPv6 text of a number. */
function bigToText(n: bigint, family: IpFamily): string {
  if (family === 4) return bigToBytes(n, 4).join('.');
  const groups: string[] = [];
  for (let i = 7; i >= 0; i--) groups.push(((n >> BigInt(16 * i)) & 0xffffn).toString(16));
  return groups.join(':');
}

/** Network part of n for a prefix length: the host bits cleared. */
function refMask(n: bigint, len: number, family: IpFamily): bigint {
  const host = BigInt(BITS[family] - len);
  return (n >> host) << host;
}

/** Does the range net/len contain ip? (same family assumed) */
function refContains(net: bigint, len: number, ip: bigint, family: IpFamily): boolean {
  return refMask(net, len, family) === refMask(ip, len, family);
}

/** RFC 5952 canonical text of an IPv6 address, computed by the WHATWG URL serializer (independent of ip.ts). */
function urlCanonicalV6(n: bigint): string {
  return new URL(`http://[${bigToText(n, 6)}]/`).hostname.slice(1, -1);
}

/**
 * RFC 5952 section 5 RECOMMENDS mixed notation (::ffff:1.2.3.4) for addresses under well-known
 * IPv4-embedding prefixes, while section 4 and the URL serializer never use it; text assertions
 * skip those prefixes so that either choice passes.
 */
function mixedNotationCandidate(n: bigint): boolean {
  return n >> 32n === 0xffffn || n >> 32n === 0x64ff9b0000000000000000n;
}

function mustParse(s: string): IpAddress {
  const ip = parseIp(s);
  if (!ip) throw new Error(`test setup: ${s} does not parse`);
  return ip;
}

const v4Big = fc.bigInt({ min: 0n, max: (1n << 32n) - 1n });
const v6Big = fc.bigInt({ min: 0n, max: (1n << 128n) - 1n });

/** An address of either family, as [family, value]. */
const anyAddr = fc.oneof(
  v4Big.map((n) => [4, n] as const),
  v6Big.map((n) => [6, n] as const),
);

/** Two addresses of one family sharing their first `common` bits, plus a prefix length. */
const addrPairWithPrefix = anyAddr.chain(([family, a]) =>
  fc
    .record({
      common: fc.integer({ min: 0, max: BITS[family] }),
      noise: family === 4 ? v4Big : v6Big,
      len: fc.integer({ min: 0, max: BITS[family] }),
      random: fc.boolean(),
    })
    .map(({ common, noise, len, random }) => {
      const lowBits = BigInt(BITS[family] - common);
      const lowMask = (1n << lowBits) - 1n;
      const b = random ? noise : (a & ~lowMask) | (noise & lowMask);
      return { family, a, b, len };
    }),
);

// ---- parsing ----------------------------------------------------------------------------

describe('parseIp: IPv4', () => {
  it('parses dotted quads', () => {
    const ip = mustParse('10.64.192.14');
    expect(ip.family).toBe(4);
    expect(Array.from(ip.bytes)).toEqual([10, 64, 192, 14]);
    expect(ip.text).toBe('10.64.192.14');
    expect(Array.from(mustParse('0.0.0.0').bytes)).toEqual([0, 0, 0, 0]);
    expect(Array.from(mustParse('255.255.255.255').bytes)).toEqual([255, 255, 255, 255]);
  });

  it.each([
    ['01.2.3.4', 'leading zero in an octet'],
    ['1.2.3.04', 'leading zero in the last octet'],
    ['00.0.0.0', 'double zero'],
    ['1.2.3.256', 'octet above 255'],
    ['256.0.0.1', 'octet above 255'],
    ['1.2.3.1000', 'four-digit octet'],
    ['1.2.3', 'three octets'],
    ['1.2.3.4.5', 'five octets'],
    ['1.2.3.', 'empty octet'],
    ['1..2.3', 'empty octet'],
    ['-1.2.3.4', 'negative'],
    ['1.2.3.4/24', 'a CIDR is not an address'],
    ['1.2.3.4:80', 'with a port'],
    ['0x7f.0.0.1', 'hex octet'],
    ['example.com', 'a hostname'],
    ['', 'empty'],
  ])('rejects %s (%s)', (s) => {
    expect(parseIp(s)).toBeUndefined();
  });
});

describe('parseIp: IPv6', () => {
  it('parses the full form and compresses it canonically', () => {
    const ip = mustParse('2001:0db8:0000:0000:0000:0000:0002:0001');
    expect(ip.family).toBe(6);
    expect(Array.from(ip.bytes)).toEqual([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 1]);
    expect(ip.text).toBe('2001:db8::2:1');
  });

  it('parses compressed forms at the start, middle and end', () => {
    expect(bytesToBig(mustParse('::').bytes)).toBe(0n);
    expect(bytesToBig(mustParse('::1').bytes)).toBe(1n);
    expect(bytesToBig(mustParse('1::').bytes)).toBe(1n << 112n);
    expect(bytesToBig(mustParse('fe80::1:2').bytes)).toBe((0xfe80n << 112n) | (1n << 16n) | 2n);
    // '::' standing for a single zero group is accepted (inet_pton does)
    expect(bytesToBig(mustParse('1:2:3:4:5:6:7::').bytes)).toBe(bytesToBig(mustParse('1:2:3:4:5:6:7:0').bytes));
    expect(bytesToBig(mustParse('::2:3:4:5:6:7:8').bytes)).toBe(bytesToBig(mustParse('0:2:3:4:5:6:7:8').bytes));
  });

  it('accepts upper-case hex digits', () => {
    expect(mustParse('2001:DB8::AbCd').text).toBe('2001:db8::abcd');
  });

  it('parses embedded IPv4 (mapped and NAT64) and keeps the address IPv6', () => {
    const mapped = mustParse('::ffff:1.2.3.4');
    expect(mapped.family).toBe(6);
    expect(Array.from(mapped.bytes)).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 1, 2, 3, 4]);
    // the same address written in hex
    expect(ipEquals(mapped, mustParse('::ffff:102:304'))).toBe(true);
    // not folded into IPv4 (Envoy's CidrRange treats it as IPv6)
    expect(ipEquals(mapped, mustParse('1.2.3.4'))).toBe(false);
    const nat64 = mustParse('64:ff9b::192.0.2.33');
    expect(Array.from(nat64.bytes)).toEqual([0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0, 192, 0, 2, 33]);
    expect(Array.from(mustParse('1:2:3:4:5:6:7.8.9.10').bytes.slice(12))).toEqual([7, 8, 9, 10]);
  });

  it('drops a zone id and accepts brackets', () => {
    const zoned = mustParse('fe80::1%eth0');
    expect(ipEquals(zoned, mustParse('fe80::1'))).toBe(true);
    expect(zoned.text).toBe('fe80::1');
    expect(mustParse('[::1]').text).toBe('::1');
    expect(mustParse('[fe80::1%eth0]').text).toBe('fe80::1');
    expect(mustParse('[2001:db8::1]').family).toBe(6);
  });

  it.each([
    ['1:2:3:4:5:6:7:8:9', 'nine groups'],
    ['1:2:3:4:5:6:7', 'seven groups without ::'],
    ['1:2:3:4:5:6:7::8', ':: must stand for at least one group'],
    ['1::2::3', 'two ::'],
    ['::1::', 'two ::'],
    ['12345::', 'five hex digits'],
    ['g::1', 'not hex'],
    [':1::', 'single leading colon'],
    ['1::2:', 'single trailing colon'],
    ['1:::2', 'triple colon'],
    ['::1.2.3.256', 'bad embedded IPv4'],
    ['::01.2.3.4', 'leading zero in embedded IPv4'],
    ['::1.2.3.4:5', 'embedded IPv4 not at the end'],
    ['1:2:3:4:5:6:7:1.2.3.4', 'nine groups with embedded IPv4'],
    ['[1.2.3.4]', 'IPv4 in brackets'],
    ['[::1', 'unbalanced bracket'],
    ['[::1]:80', 'with a port'],
  ])('rejects %s (%s)', (s) => {
    expect(parseIp(s)).toBeUndefined();
  });
});

describe('canonical IPv6 text (RFC 5952 section 4)', () => {
  it.each([
    ['2001:db8:0:0:0:0:2:1', '2001:db8::2:1'],
    ['2001:DB8:0:0:0:0:0:1', '2001:db8::1'],
    ['2001:0db8:0001:0000:0000:0ab9:C0A8:0102', '2001:db8:1::ab9:c0a8:102'],
    // a single zero group is not compressed (4.2.2)
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'],
    // the longest run is compressed (4.2.3)
    ['2001:0:0:1:0:0:0:1', '2001:0:0:1::1'],
    // on a tie, the first run (4.2.3)
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['0:0:0:0:0:0:0:0', '::'],
    ['0:0:0:0:0:0:0:1', '::1'],
    ['fe80:0:0:0:0:0:0:0', 'fe80::'],
    ['1:0:0:0:0:0:0:0', '1::'],
    ['1:2:3:4:5:6:7:0', '1:2:3:4:5:6:7:0'],
  ])('%s -> %s', (input, canonical) => {
    expect(mustParse(input).text).toBe(canonical);
  });

  it('IPv4 text has no leading zeros', () => {
    expect(mustParse('10.0.0.1').text).toBe('10.0.0.1');
  });
});

// ---- CIDR ---------------------------------------------------------------------------------

describe('parseCidr / makeCidr', () => {
  it('parses a range and clears the host bits (Envoy CidrRange::create)', () => {
    const c = parseCidr('10.1.2.3/8');
    expect(c?.text).toBe('10.0.0.0/8');
    expect(c?.prefixLen).toBe(8);
    expect(Array.from(c!.address.bytes)).toEqual([10, 0, 0, 0]);
    expect(parseCidr('2001:db8:ffff::1/33')?.text).toBe('2001:db8:8000::/33');
    expect(parseCidr('192.168.77.200/20')?.text).toBe('192.168.64.0/20');
  });

  it('treats a bare address as a host route', () => {
    expect(parseCidr('1.2.3.4')?.text).toBe('1.2.3.4/32');
    expect(parseCidr('::1')?.text).toBe('::1/128');
  });

  it('accepts /0 and the full length', () => {
    expect(parseCidr('1.2.3.4/0')?.text).toBe('0.0.0.0/0');
    expect(parseCidr('1.2.3.4/32')?.text).toBe('1.2.3.4/32');
    expect(parseCidr('2001:db8::1/0')?.text).toBe('::/0');
    expect(parseCidr('2001:db8::1/128')?.text).toBe('2001:db8::1/128');
  });

  it.each(['10.0.0.0/33', '::/129', '10.0.0.0/', '10.0.0.0/-1', '10.0.0.0/8/8', '10.0.0.0/x', '10.0.0/8', '/8', 'example.com/8', '01.0.0.0/8'])(
    'rejects %s',
    (s) => {
      expect(parseCidr(s)).toBeUndefined();
    },
  );

  it('makeCidr keeps the family of its address (a mapped address stays IPv6)', () => {
    const c = makeCidr(mustParse('::ffff:10.1.2.3'), 104);
    expect(c.address.family).toBe(6);
    expect(Array.from(c.address.bytes)).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, 0]);
    expect(c.prefixLen).toBe(104);
  });
});

describe('cidrContains', () => {
  it('examples', () => {
    const r = parseCidr('10.0.0.0/8')!;
    expect(cidrContains(r, mustParse('10.255.1.2'))).toBe(true);
    expect(cidrContains(r, mustParse('11.0.0.0'))).toBe(false);
    expect(cidrContains(parseCidr('10.0.0.0/9')!, mustParse('10.127.255.255'))).toBe(true);
    expect(cidrContains(parseCidr('10.0.0.0/9')!, mustParse('10.128.0.0'))).toBe(false);
    expect(cidrContains(parseCidr('2001:db8::/32')!, mustParse('2001:db8:1234::1'))).toBe(true);
    expect(cidrContains(parseCidr('2001:db8::/32')!, mustParse('2001:db9::1'))).toBe(false);
  });

  it('never mixes families: 0.0.0.0/0 does not contain an IPv6 address, ::/0 no IPv4 one, ::ffff:0:0/96 no IPv4', () => {
    expect(cidrContains(parseCidr('0.0.0.0/0')!, mustParse('::1'))).toBe(false);
    expect(cidrContains(parseCidr('::/0')!, mustParse('1.2.3.4'))).toBe(false);
    expect(cidrContains(parseCidr('::ffff:0:0/96')!, mustParse('1.2.3.4'))).toBe(false);
    expect(cidrContains(parseCidr('1.2.3.0/24')!, mustParse('::ffff:1.2.3.4'))).toBe(false);
  });
});

describe('isLoopback and ipEquals', () => {
  it('loopback addresses', () => {
    expect(isLoopback(mustParse('127.0.0.1'))).toBe(true);
    expect(isLoopback(mustParse('::1'))).toBe(true);
    expect(isLoopback(mustParse('0:0:0:0:0:0:0:1'))).toBe(true);
  });

  it('non-loopback addresses', () => {
    for (const s of ['10.0.0.1', '0.0.0.0', '128.0.0.1', '126.255.255.255', '::', '::2', '1::1', '::ffff:127.0.0.1', 'fe80::1']) {
      expect(isLoopback(mustParse(s)), s).toBe(false);
    }
  });

  it('ipEquals compares family and bytes, not text', () => {
    expect(ipEquals(mustParse('2001:DB8::1'), mustParse('2001:db8:0:0:0:0:0:1'))).toBe(true);
    expect(ipEquals(mustParse('10.0.0.1'), mustParse('10.0.0.1'))).toBe(true);
    expect(ipEquals(mustParse('10.0.0.1'), mustParse('10.0.0.2'))).toBe(false);
    expect(ipEquals(mustParse('0.0.0.0'), mustParse('::'))).toBe(false);
  });
});

// ---- properties ---------------------------------------------------------------------------

/** An IPv6 address written in one of the many legal text forms. */
const v6TextForm = fc
  .record({
    groups: fc.array(fc.oneof({ weight: 3, arbitrary: fc.constant(0) }, { weight: 2, arbitrary: fc.integer({ min: 0, max: 0xffff }) }), {
      minLength: 8,
      maxLength: 8,
    }),
    compress: fc.option(fc.tuple(fc.integer({ min: 0, max: 7 }), fc.integer({ min: 1, max: 8 })), { nil: undefined }),
    pad: fc.boolean(),
    upper: fc.boolean(),
    dottedTail: fc.boolean(),
    zone: fc.option(fc.stringMatching(/^[a-z0-9]{1,6}$/), { nil: undefined }),
    brackets: fc.boolean(),
  })
  .map((r) => {
    const value = r.groups.reduce((acc, g) => (acc << 16n) | BigInt(g), 0n);
    const hex = (g: number): string => {
      const h = r.pad ? g.toString(16).padStart(4, '0') : g.toString(16);
      return r.upper ? h.toUpperCase() : h;
    };
    // which zero run (if any) to write as '::'
    let run: [number, number] | undefined;
    if (r.compress) {
      const [start, len] = r.compress;
      const end = Math.min(8, start + len);
      if (r.groups.slice(start, end).every((g) => g === 0)) run = [start, end];
    }
    const dotted = r.dottedTail && (!run || run[1] <= 6);
    const words = dotted ? 6 : 8;
    const render = (from: number, to: number): string[] => {
      const out: string[] = [];
      for (let i = from; i < Math.min(to, words); i++) out.push(hex(r.groups[i]!));
      return out;
    };
    const tail = dotted ? bigToBytes(value & 0xffffffffn, 4).join('.') : undefined;
    let text: string;
    if (run) {
      const left = render(0, run[0]).join(':');
      const rightParts = [...render(run[1], 8), ...(tail ? [tail] : [])];
      text = `${left}::${rightParts.join(':')}`;
    } else {
      text = [...render(0, 8), ...(tail ? [tail] : [])].join(':');
    }
    if (r.zone) text += `%${r.zone}`;
    if (r.brackets) text = `[${text}]`;
    return { text, value };
  });

describe('properties', () => {
  it('IPv4: parses to the right bytes and prints canonically', () => {
    fc.assert(
      fc.property(v4Big, (n) => {
        const ip = parseIp(bigToText(n, 4));
        expect(ip?.family).toBe(4);
        expect(bytesToBig(ip!.bytes)).toBe(n);
        expect(ip!.text).toBe(bigToText(n, 4));
      }),
    );
  });

  it('IPv6: every legal text form parses to the right bytes and prints as RFC 5952 (WHATWG URL) does', () => {
    fc.assert(
      fc.property(v6TextForm, ({ text, value }) => {
        const ip = parseIp(text);
        expect(ip, text).toBeDefined();
        expect(ip!.family).toBe(6);
        expect(bytesToBig(ip!.bytes)).toBe(value);
        if (!mixedNotationCandidate(value)) expect(ip!.text).toBe(urlCanonicalV6(value));
        // and the canonical text reads back as the same address
        expect(ipEquals(mustParse(ip!.text), ip!)).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it('fast-check ipV4/ipV6 strings parse, and the text round-trips', () => {
    fc.assert(
      fc.property(fc.oneof(fc.ipV4(), fc.ipV6()), (s) => {
        const ip = parseIp(s);
        expect(ip, s).toBeDefined();
        const again = parseIp(ip!.text);
        expect(again && ipEquals(again, ip!)).toBe(true);
        expect(again!.text).toBe(ip!.text);
      }),
    );
  });

  it('cidrContains agrees with a BigInt prefix comparison', () => {
    fc.assert(
      fc.property(addrPairWithPrefix, ({ family, a, b, len }) => {
        const range = makeCidr(mustParse(bigToText(a, family)), len);
        const ip = mustParse(bigToText(b, family));
        expect(cidrContains(range, ip)).toBe(refContains(a, len, b, family));
      }),
      { numRuns: 1000 },
    );
  });

  it('makeCidr clears exactly the host bits, and parseCidr agrees with it', () => {
    fc.assert(
      fc.property(addrPairWithPrefix, ({ family, a, len }) => {
        const c = makeCidr(mustParse(bigToText(a, family)), len);
        const net = refMask(a, len, family);
        expect(c.prefixLen).toBe(len);
        expect(c.address.family).toBe(family);
        expect(bytesToBig(c.address.bytes)).toBe(net);
        if (family === 4 || !mixedNotationCandidate(net)) {
          const netText = family === 4 ? bigToText(net, 4) : urlCanonicalV6(net);
          expect(c.text).toBe(`${netText}/${len}`);
        }
        expect(c.text.endsWith(`/${len}`)).toBe(true);
        const parsed = parseCidr(`${bigToText(a, family)}/${len}`);
        expect(parsed?.text).toBe(c.text);
        expect(bytesToBig(parsed!.address.bytes)).toBe(net);
      }),
      { numRuns: 500 },
    );
  });

  it('an address is in its own host route and in /0 of its family, never in a range of the other family', () => {
    fc.assert(
      fc.property(anyAddr, anyAddr, fc.integer({ min: 0, max: 128 }), ([fa, a], [fb, b], len) => {
        const ip = mustParse(bigToText(a, fa));
        expect(cidrContains(makeCidr(ip, BITS[fa]), ip)).toBe(true);
        expect(cidrContains(makeCidr(ip, 0), ip)).toBe(true);
        expect(cidrContains(parseCidr(fa === 4 ? '0.0.0.0/0' : '::/0')!, ip)).toBe(true);
        if (fb !== fa) {
          const other = makeCidr(mustParse(bigToText(b, fb)), Math.min(len, BITS[fb]));
          expect(cidrContains(other, ip)).toBe(false);
          expect(cidrContains(parseCidr(fb === 4 ? '0.0.0.0/0' : '::/0')!, ip)).toBe(false);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('ipEquals holds exactly when family and value are equal', () => {
    fc.assert(
      fc.property(anyAddr, anyAddr, fc.boolean(), ([fa, a], [fb, b], same) => {
        const [f2, v2] = same ? [fa, a] : [fb, b];
        const x = mustParse(bigToText(a, fa));
        const y = mustParse(bigToText(v2, f2));
        expect(ipEquals(x, y)).toBe(fa === f2 && a === v2);
      }),
    );
  });
});
