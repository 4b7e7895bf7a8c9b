/**
 * Sidecar traffic capture: the nat-table rules istio-init (or istio-cni) installs for outbound
 * traffic, and their evaluation for one connection.
 *
 * The rule list is generated in exactly the order of istio/istio
 * tools/istio-iptables/pkg/capture/run.go (IptablesConfigurator.Run, SetupDNSRedir,
 * handleOutboundPortsInclude, handleOutboundIncludeRules); test/unit/iptables.test.ts compares it
 * with Istio's own goldens (tools/istio-iptables/.../testdata/*.golden, cni/.../*.txt.golden).
 * Evaluation walks the chains like netfilter: first matching rule wins, a jump into a user
 * chain that ends without a verdict returns to the caller, and falling off ISTIO_OUTPUT means
 * the packet leaves untouched (not captured).
 */
import { cidrContains, isLoopback, parseCidr, type CidrRange, type IpAddress } from './ip.js';

export type InterceptionMode = 'REDIRECT' | 'TPROXY' | 'NONE';

/** Where a capture setting came from, so the trace can say why. */
export type SettingSource = 'annotation' | 'proxy metadata' | 'istio-init args' | 'cni default' | 'injector default' | 'flag';

export interface CaptureSettings {
  readonly mode: InterceptionMode;
  readonly proxyUids: readonly string[];
  readonly proxyGids: readonly string[];
  /** "*" (all), "" (none) or a comma-separated CIDR list */
  readonly includeIpRanges: string;
  readonly excludeIpRanges: string;
  /** comma-separated ports */
  readonly includeOutboundPorts: string;
  readonly excludeOutboundPorts: string;
  readonly redirectDns: boolean;
  readonly captureAllDns: boolean;
  readonly dnsServersV4: readonly string[];
  readonly dnsServersV6: readonly string[];
  /** comma-separated interfaces whose traffic is never captured */
  readonly excludeInterfaces: string;
  readonly proxyPort: number;
  readonly inboundCapturePort: number;
  readonly inboundTunnelPort: number;
  /** ip6tables rules are only installed for dual-stack / IPv6 pods */
  readonly ipv6: boolean;
  /**
   * Istio before 1.5 (istio/istio#19308, released in 1.5.0) captured only TCP in OUTPUT and sent
   * every loopback connection to a non-127.0.0.1 address (the app calling its own pod IP) to the
   * inbound listener, whatever the UID.
   */
  readonly legacyBefore15: boolean;
  readonly sources: Readonly<Partial<Record<keyof CaptureSettings, SettingSource>>>;
}

export const DEFAULT_CAPTURE: CaptureSettings = {
  mode: 'REDIRECT',
  proxyUids: ['1337'],
  proxyGids: ['1337'],
  includeIpRanges: '*',
  excludeIpRanges: '',
  includeOutboundPorts: '',
  excludeOutboundPorts: '',
  redirectDns: false,
  captureAllDns: false,
  dnsServersV4: [],
  dnsServersV6: [],
  excludeInterfaces: '',
  proxyPort: 15001,
  inboundCapturePort: 15006,
  inboundTunnelPort: 15008,
  ipv6: false,
  legacyBefore15: false,
  sources: {},
};

/** One outbound packet (the SYN of the connection, or a UDP datagram). */
export interface Packet {
  readonly dst: IpAddress;
  readonly dstPort: number;
  readonly proto: 'tcp' | 'udp';
  readonly uid: number;
  readonly gid: number;
  /** the route lookup sends it out of the loopback interface (loopback or one of the pod's own IPs) */
  readonly outLo: boolean;
  readonly src?: IpAddress;
}

type Target = 'RETURN' | 'ISTIO_REDIRECT' | 'ISTIO_IN_REDIRECT' | 'ISTIO_OUTPUT_DNS' | 'REDIRECT';

export interface Rule {
  readonly chain: 'ISTIO_OUTPUT' | 'ISTIO_OUTPUT_DNS' | 'ISTIO_REDIRECT' | 'ISTIO_IN_REDIRECT' | 'OUTPUT';
  /** iptables-save text, e.g. "-A ISTIO_OUTPUT -d 127.0.0.1/32 -j RETURN" */
  readonly text: string;
  readonly target: Target;
  /** for REDIRECT targets */
  readonly toPort?: number;
  /** why Istio installs the rule, for explanations */
  readonly purpose: string;
  readonly matches: (p: Packet) => boolean;
}

function split(csv: string): string[] {
  return csv
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

interface NetworkRange {
  readonly isWildcard: boolean;
  readonly cidrs: readonly CidrRange[];
  readonly hasLoopback: boolean;
}

/** config.SeparateV4V6 / NetworkRange: "*" is the wildcard, otherwise a CIDR list per family. */
function separate(ranges: string): { v4: NetworkRange; v6: NetworkRange } {
  const v4: CidrRange[] = [];
  const v6: CidrRange[] = [];
  let wildcard = false;
  for (const s of split(ranges)) {
    if (s === '*') {
      wildcard = true;
      continue;
    }
    const c = parseCidr(s);
    if (!c) continue; // istio-iptables rejects the pod; callers validate annotations separately
    (c.address.family === 4 ? v4 : v6).push(c);
  }
  const loop = (list: CidrRange[]): boolean => list.some((c) => isLoopback(c.address));
  return {
    v4: { isWildcard: wildcard, cidrs: v4, hasLoopback: loop(v4) },
    v6: { isWildcard: wildcard, cidrs: v6, hasLoopback: loop(v6) },
  };
}

/** Invalid entries in a CIDR list annotation (the injector/CNI would reject the pod). */
export function invalidRanges(ranges: string): string[] {
  return split(ranges).filter((s) => s !== '*' && !parseCidr(s));
}

const ANY = (): boolean => true;

function portIn(ports: readonly number[], p: number): boolean {
  return ports.includes(p);
}

/**
 * Builds the outbound nat rules for one address family, in run.go order.
 * OUTPUT → ISTIO_OUTPUT (+ ISTIO_OUTPUT_DNS, ISTIO_REDIRECT, ISTIO_IN_REDIRECT).
 */
export function buildOutboundRules(s: CaptureSettings, family: 4 | 6): Rule[] {
  if (s.mode === 'NONE') return [];
  if (s.legacyBefore15) return buildLegacyOutboundRules(s, family);
  const rules: Rule[] = [];
  const loopback = family === 4 ? '127.0.0.1/32' : '::1/128';
  const loopbackRange = parseCidr(loopback)!;
  const inboundPassthrough = family === 4 ? '127.0.0.6/32' : '::6/128';
  const inboundPassthroughRange = parseCidr(inboundPassthrough)!;
  const tunnel = s.inboundTunnelPort;
  const { v4: inc4, v6: inc6 } = separate(s.includeIpRanges);
  const { v4: exc4, v6: exc6 } = separate(s.excludeIpRanges);
  const include = family === 4 ? inc4 : inc6;
  const exclude = family === 4 ? exc4 : exc6;
  const includeHasLoopback = inc4.hasLoopback || inc6.hasLoopback;
  let redirectDns = s.redirectDns;
  if (redirectDns && !s.captureAllDns && s.dnsServersV4.length === 0 && s.dnsServersV6.length === 0) redirectDns = false;
  const add = (r: Rule): void => {
    rules.push(r);
  };

  for (const iface of split(s.excludeInterfaces)) {
    add({
      chain: 'OUTPUT',
      text: `-A OUTPUT -o ${iface} -j RETURN`,
      target: 'RETURN',
      purpose: `traffic.sidecar.istio.io/excludeInterfaces: traffic leaving through ${iface} is never captured`,
      // we cannot know the egress interface; only loopback is certain
      matches: (p) => iface === 'lo' && p.outLo,
    });
  }

  for (const port of split(s.excludeOutboundPorts)) {
    const n = Number(port);
    for (const proto of ['tcp', 'udp'] as const) {
      add({
        chain: 'ISTIO_OUTPUT',
        text: `-A ISTIO_OUTPUT -p ${proto} --dport ${port} -j RETURN`,
        target: 'RETURN',
        purpose: `excludeOutboundPorts: port ${port} bypasses the sidecar`,
        matches: (p) => p.proto === proto && p.dstPort === n,
      });
    }
  }

  add({
    chain: 'ISTIO_OUTPUT',
    text: `-A ISTIO_OUTPUT -o lo -s ${inboundPassthrough} -j RETURN`,
    target: 'RETURN',
    purpose: 'connections Envoy makes from 127.0.0.6 (inbound passthrough) are never captured',
    matches: (p) => p.outLo && p.src !== undefined && cidrContains(inboundPassthroughRange, p.src),
  });

  for (const uid of s.proxyUids) {
    const id = Number(uid);
    if (redirectDns) {
      add({
        chain: 'ISTIO_OUTPUT',
        text: `-A ISTIO_OUTPUT -o lo ! -d ${loopback} -p tcp -m multiport ! --dports 53,${tunnel} -m owner --uid-owner ${uid} -j ISTIO_IN_REDIRECT`,
        target: 'ISTIO_IN_REDIRECT',
        purpose: 'the proxy calling its own pod through a VIP is sent to the inbound listener',
        matches: (p) => p.outLo && !cidrContains(loopbackRange, p.dst) && p.proto === 'tcp' && !portIn([53, tunnel], p.dstPort) && p.uid === id,
      });
    } else {
      add({
        chain: 'ISTIO_OUTPUT',
        text: `-A ISTIO_OUTPUT -o lo ! -d ${loopback} -p tcp ! --dport ${tunnel} -m owner --uid-owner ${uid} -j ISTIO_IN_REDIRECT`,
        target: 'ISTIO_IN_REDIRECT',
        purpose: 'the proxy calling its own pod through a VIP is sent to the inbound listener',
        matches: (p) => p.outLo && !cidrContains(loopbackRange, p.dst) && p.proto === 'tcp' && p.dstPort !== tunnel && p.uid === id,
      });
    }
    if (!includeHasLoopback) {
      if (redirectDns) {
        add({
          chain: 'ISTIO_OUTPUT',
          text: `-A ISTIO_OUTPUT -o lo -p tcp ! --dport 53 -m owner ! --uid-owner ${uid} -j RETURN`,
          target: 'RETURN',
          purpose: 'the app calling its own pod IP over loopback is not captured',
          matches: (p) => p.outLo && p.proto === 'tcp' && p.dstPort !== 53 && p.uid !== id,
        });
      } else {
        add({
          chain: 'ISTIO_OUTPUT',
          text: `-A ISTIO_OUTPUT -o lo -m owner ! --uid-owner ${uid} -j RETURN`,
          target: 'RETURN',
          purpose: 'the app calling its own pod IP over loopback is not captured',
          matches: (p) => p.outLo && p.uid !== id,
        });
      }
    }
    add({
      chain: 'ISTIO_OUTPUT',
      text: `-A ISTIO_OUTPUT -m owner --uid-owner ${uid} -j RETURN`,
      target: 'RETURN',
      purpose: `traffic from UID ${uid} (the proxy itself) is never captured, to avoid loops`,
      matches: (p) => p.uid === id,
    });
  }

  for (const gid of s.proxyGids) {
    const id = Number(gid);
    add({
      chain: 'ISTIO_OUTPUT',
      text: `-A ISTIO_OUTPUT -o lo ! -d ${loopback} -p tcp ! --dport ${tunnel} -m owner --gid-owner ${gid} -j ISTIO_IN_REDIRECT`,
      target: 'ISTIO_IN_REDIRECT',
      purpose: 'the proxy calling its own pod through a VIP is sent to the inbound listener',
      matches: (p) => p.outLo && !cidrContains(loopbackRange, p.dst) && p.proto === 'tcp' && p.dstPort !== tunnel && p.gid === id,
    });
    if (!includeHasLoopback) {
      if (redirectDns) {
        add({
          chain: 'ISTIO_OUTPUT',
          text: `-A ISTIO_OUTPUT -o lo -p tcp ! --dport 53 -m owner ! --gid-owner ${gid} -j RETURN`,
          target: 'RETURN',
          purpose: 'the app calling its own pod IP over loopback is not captured',
          matches: (p) => p.outLo && p.proto === 'tcp' && p.dstPort !== 53 && p.gid !== id,
        });
      } else {
        add({
          chain: 'ISTIO_OUTPUT',
          text: `-A ISTIO_OUTPUT -o lo -m owner ! --gid-owner ${gid} -j RETURN`,
          target: 'RETURN',
          purpose: 'the app calling its own pod IP over loopback is not captured',
          matches: (p) => p.outLo && p.gid !== id,
        });
      }
    }
    add({
      chain: 'ISTIO_OUTPUT',
      text: `-A ISTIO_OUTPUT -m owner --gid-owner ${gid} -j RETURN`,
      target: 'RETURN',
      purpose: `traffic from GID ${gid} (the proxy itself) is never captured, to avoid loops`,
      matches: (p) => p.gid === id,
    });
  }

  if (redirectDns) {
    const servers = family === 4 ? s.dnsServersV4 : s.dnsServersV6;
    if (s.captureAllDns || servers.length > 0) {
      add({
        chain: 'ISTIO_OUTPUT',
        text: '-A ISTIO_OUTPUT -j ISTIO_OUTPUT_DNS',
        target: 'ISTIO_OUTPUT_DNS',
        purpose: 'DNS capture (ISTIO_META_DNS_CAPTURE): queries go to the istio-agent DNS proxy',
        matches: ANY,
      });
    }
    const dnsRule = (proto: 'tcp' | 'udp', server: string | undefined): Rule => {
      const range = server ? parseCidr(`${server}/${family === 4 ? 32 : 128}`) : undefined;
      const to = proto === 'tcp' ? '--to-ports' : '--to-port';
      return {
        chain: 'ISTIO_OUTPUT_DNS',
        text: `-A ISTIO_OUTPUT_DNS -p ${proto} --dport 53${range ? ` -d ${range.text}` : ''} -j REDIRECT ${to} 15053`,
        target: 'REDIRECT',
        toPort: 15053,
        purpose: 'DNS queries are answered by the istio-agent DNS proxy on 15053',
        matches: (p) => p.proto === proto && p.dstPort === 53 && (!range || cidrContains(range, p.dst)),
      };
    };
    for (const proto of ['tcp', 'udp'] as const) {
      if (s.captureAllDns) add(dnsRule(proto, undefined));
      else for (const server of servers) add(dnsRule(proto, server));
    }
  }

  add({
    chain: 'ISTIO_OUTPUT',
    text: `-A ISTIO_OUTPUT -d ${loopback} -j RETURN`,
    target: 'RETURN',
    purpose: 'traffic to localhost (container to container, Envoy-aware apps) is not captured',
    matches: (p) => cidrContains(loopbackRange, p.dst),
  });

  for (const c of exclude.cidrs) {
    add({
      chain: 'ISTIO_OUTPUT',
      text: `-A ISTIO_OUTPUT -d ${c.text} -j RETURN`,
      target: 'RETURN',
      purpose: `excludeOutboundIPRanges: ${c.text} bypasses the sidecar`,
      matches: (p) => cidrContains(c, p.dst),
    });
  }

  for (const port of split(s.includeOutboundPorts)) {
    const n = Number(port);
    add({
      chain: 'ISTIO_OUTPUT',
      text: `-A ISTIO_OUTPUT -p tcp --dport ${port} -j ISTIO_REDIRECT`,
      target: 'ISTIO_REDIRECT',
      purpose: `includeOutboundPorts: TCP port ${port} is captured whatever the destination`,
      matches: (p) => p.proto === 'tcp' && p.dstPort === n,
    });
  }

  if (include.isWildcard) {
    add({
      chain: 'ISTIO_OUTPUT',
      text: '-A ISTIO_OUTPUT -j ISTIO_REDIRECT',
      target: 'ISTIO_REDIRECT',
      purpose: 'includeOutboundIPRanges "*": all remaining outbound traffic goes to Envoy',
      matches: ANY,
    });
  } else {
    for (const c of include.cidrs) {
      add({
        chain: 'ISTIO_OUTPUT',
        text: `-A ISTIO_OUTPUT -d ${c.text} -j ISTIO_REDIRECT`,
        target: 'ISTIO_REDIRECT',
        purpose: `includeOutboundIPRanges: ${c.text} is captured`,
        matches: (p) => cidrContains(c, p.dst),
      });
    }
  }
  return rules;
}

/**
 * The rule order of istio-iptables before Istio 1.5 (tools/istio-iptables/pkg/cmd/run.go at
 * b48ff15218b^): OUTPUT jumps to ISTIO_OUTPUT for TCP only; port exclusions are TCP only; any
 * loopback connection not to 127.0.0.1 goes to the inbound listener; then the proxy UID/GID,
 * localhost, excluded ranges, included ranges.
 */
function buildLegacyOutboundRules(s: CaptureSettings, family: 4 | 6): Rule[] {
  const rules: Rule[] = [];
  const loopback = family === 4 ? '127.0.0.1/32' : '::1/128';
  const loopbackRange = parseCidr(loopback)!;
  const inboundPassthrough = family === 4 ? '127.0.0.6/32' : '::6/128';
  const inboundPassthroughRange = parseCidr(inboundPassthrough)!;
  const { v4: inc4, v6: inc6 } = separate(s.includeIpRanges);
  const { v4: exc4, v6: exc6 } = separate(s.excludeIpRanges);
  const include = family === 4 ? inc4 : inc6;
  const exclude = family === 4 ? exc4 : exc6;
  rules.push({
    chain: 'OUTPUT',
    text: '-A OUTPUT -p tcp -j ISTIO_OUTPUT',
    target: 'RETURN',
    purpose: 'before Istio 1.5 only TCP enters ISTIO_OUTPUT',
    matches: (p) => p.proto !== 'tcp',
  });
  for (const port of split(s.excludeOutboundPorts)) {
    const n = Number(port);
    rules.push({ chain: 'ISTIO_OUTPUT', text: `-A ISTIO_OUTPUT -p tcp --dport ${port} -j RETURN`, target: 'RETURN', purpose: `excludeOutboundPorts: port ${port} bypasses the sidecar`, matches: (p) => p.proto === 'tcp' && p.dstPort === n });
  }
  rules.push({
    chain: 'ISTIO_OUTPUT',
    text: `-A ISTIO_OUTPUT -o lo -s ${inboundPassthrough} -j RETURN`,
    target: 'RETURN',
    purpose: 'connections Envoy makes from 127.0.0.6 (inbound passthrough) are never captured',
    matches: (p) => p.outLo && p.src !== undefined && cidrContains(inboundPassthroughRange, p.src),
  });
  rules.push({
    chain: 'ISTIO_OUTPUT',
    text: `-A ISTIO_OUTPUT -o lo ! -d ${loopback} -j ISTIO_IN_REDIRECT`,
    target: 'ISTIO_IN_REDIRECT',
    purpose: 'before Istio 1.5 an app calling its own pod IP is sent to the inbound listener',
    matches: (p) => p.outLo && !cidrContains(loopbackRange, p.dst),
  });
  for (const uid of s.proxyUids) {
    const id = Number(uid);
    rules.push({ chain: 'ISTIO_OUTPUT', text: `-A ISTIO_OUTPUT -m owner --uid-owner ${uid} -j RETURN`, target: 'RETURN', purpose: `traffic from UID ${uid} (the proxy itself) is never captured, to avoid loops`, matches: (p) => p.uid === id });
  }
  for (const gid of s.proxyGids) {
    const id = Number(gid);
    rules.push({ chain: 'ISTIO_OUTPUT', text: `-A ISTIO_OUTPUT -m owner --gid-owner ${gid} -j RETURN`, target: 'RETURN', purpose: `traffic from GID ${gid} (the proxy itself) is never captured, to avoid loops`, matches: (p) => p.gid === id });
  }
  rules.push({ chain: 'ISTIO_OUTPUT', text: `-A ISTIO_OUTPUT -d ${loopback} -j RETURN`, target: 'RETURN', purpose: 'traffic to localhost is not captured', matches: (p) => cidrContains(loopbackRange, p.dst) });
  for (const c of exclude.cidrs) {
    rules.push({ chain: 'ISTIO_OUTPUT', text: `-A ISTIO_OUTPUT -d ${c.text} -j RETURN`, target: 'RETURN', purpose: `excludeOutboundIPRanges: ${c.text} bypasses the sidecar`, matches: (p) => cidrContains(c, p.dst) });
  }
  if (include.isWildcard) {
    rules.push({ chain: 'ISTIO_OUTPUT', text: '-A ISTIO_OUTPUT -j ISTIO_REDIRECT', target: 'ISTIO_REDIRECT', purpose: 'includeOutboundIPRanges "*": all remaining outbound traffic goes to Envoy', matches: ANY });
  } else {
    for (const c of include.cidrs) {
      rules.push({ chain: 'ISTIO_OUTPUT', text: `-A ISTIO_OUTPUT -d ${c.text} -j ISTIO_REDIRECT`, target: 'ISTIO_REDIRECT', purpose: `includeOutboundIPRanges: ${c.text} is captured`, matches: (p) => cidrContains(c, p.dst) });
    }
  }
  return rules;
}

/** The two fixed redirect chains (run.go: ISTIO_REDIRECT / ISTIO_IN_REDIRECT are TCP-only). */
function redirectChain(s: CaptureSettings, chain: 'ISTIO_REDIRECT' | 'ISTIO_IN_REDIRECT'): Rule {
  const port = chain === 'ISTIO_REDIRECT' ? s.proxyPort : s.inboundCapturePort;
  return {
    chain,
    text: `-A ${chain} -p tcp -j REDIRECT --to-ports ${port}`,
    target: 'REDIRECT',
    toPort: port,
    purpose: chain === 'ISTIO_REDIRECT' ? `outbound TCP is redirected to Envoy's virtualOutbound listener (${port})` : `redirected to Envoy's inbound listener (${port})`,
    matches: (p) => p.proto === 'tcp',
  };
}

export type CaptureOutcome =
  /** redirected to Envoy's outbound listener */
  | 'outbound'
  /** redirected to Envoy's inbound listener (proxy → own pod via VIP) */
  | 'inbound'
  /** redirected to the istio-agent DNS proxy */
  | 'dns'
  /** left untouched: goes straight to the destination */
  | 'bypass';

export interface CaptureResult {
  readonly outcome: CaptureOutcome;
  readonly port: number | undefined;
  /** the decisive rule (undefined: fell off the end of ISTIO_OUTPUT, or no rules at all) */
  readonly rule: Rule | undefined;
  /** rules that matched on the way (jumps included), for the explanation */
  readonly path: readonly Rule[];
  /** every rule evaluated, in order, as iptables-save text */
  readonly rules: readonly Rule[];
}

/** Evaluates the nat OUTPUT path for one packet. */
export function evaluateCapture(s: CaptureSettings, p: Packet): CaptureResult {
  const family = p.dst.family;
  if (s.mode === 'NONE' || (family === 6 && !s.ipv6)) {
    return { outcome: 'bypass', port: undefined, rule: undefined, path: [], rules: [] };
  }
  const rules = buildOutboundRules(s, family);
  const path: Rule[] = [];
  const inChain = (chain: Rule['chain']): Rule[] => rules.filter((r) => r.chain === chain);
  // OUTPUT: interface exclusions first, then the jump into ISTIO_OUTPUT
  for (const r of inChain('OUTPUT')) {
    if (r.matches(p)) return { outcome: 'bypass', port: undefined, rule: r, path: [r], rules };
  }
  const run = (chain: Rule['chain']): CaptureResult | 'return' | undefined => {
    for (const r of inChain(chain)) {
      if (!r.matches(p)) continue;
      path.push(r);
      switch (r.target) {
        case 'RETURN':
          return chain === 'ISTIO_OUTPUT' ? { outcome: 'bypass', port: undefined, rule: r, path, rules } : 'return';
        case 'REDIRECT':
          return { outcome: r.toPort === 15053 ? 'dns' : 'outbound', port: r.toPort, rule: r, path, rules };
        case 'ISTIO_OUTPUT_DNS': {
          const res = run('ISTIO_OUTPUT_DNS');
          if (res && res !== 'return') return res;
          continue;
        }
        case 'ISTIO_REDIRECT':
        case 'ISTIO_IN_REDIRECT': {
          const redirect = redirectChain(s, r.target);
          if (redirect.matches(p)) {
            path.push(redirect);
            return { outcome: r.target === 'ISTIO_REDIRECT' ? 'outbound' : 'inbound', port: redirect.toPort, rule: r, path, rules };
          }
          // UDP: the redirect chain has no verdict for it; netfilter returns and continues
          continue;
        }
      }
    }
    return undefined;
  };
  const res = run('ISTIO_OUTPUT');
  if (res && res !== 'return') return res;
  return { outcome: 'bypass', port: undefined, rule: undefined, path, rules };
}

/** iptables-save text of the whole outbound ruleset, as `iptables-save -t nat` would list it. */
export function renderRules(s: CaptureSettings, family: 4 | 6): string[] {
  const rules = buildOutboundRules(s, family);
  const lines = [
    `-A ISTIO_REDIRECT -p tcp -j REDIRECT --to-ports ${s.proxyPort}`,
    `-A ISTIO_IN_REDIRECT -p tcp -j REDIRECT --to-ports ${s.inboundCapturePort}`,
    '-A OUTPUT -j ISTIO_OUTPUT',
  ];
  for (const r of rules) lines.push(r.text);
  return lines;
}

/** Whether a destination leaves through the loopback interface from inside the pod. */
export function leavesViaLoopback(dst: IpAddress, podIps: readonly IpAddress[]): boolean {
  if (isLoopback(dst)) return true;
  return podIps.some((ip) => ip.family === dst.family && ip.bytes.every((b, i) => b === dst.bytes[i]));
}

