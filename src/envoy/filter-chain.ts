/**
 * Envoy's FilterChainMatch selection (source/common/listener_manager/filter_chain_manager_impl.cc,
 * FilterChainManagerImpl::findFilterChain and the findFilterChainFor* helpers).
 *
 * Levels, in order: destination_port → destination IP prefix_ranges → server_names →
 * transport_protocol → application_protocols → direct_source_prefix_ranges → source_type →
 * source_prefix_ranges → source_ports. At each level the most specific matching value wins and
 * only the chains under it survive; chains that do not constrain the field are the fallback only
 * when no specific value matched. There is no backtracking: once a specific value matched, a
 * failure deeper down means no chain at all, and then `default_filter_chain` (if any) is used.
 * Chains without prefix_ranges behave as 0.0.0.0/0 and ::/0. Envoy rejects listeners whose chains
 * overlap at every level, so at most one chain survives in a valid listener.
 */
import type { FilterChain, FilterChainMatch, Listener } from '../model/envoy-types.js';
import { cidrContains, ipEquals, type IpAddress } from './ip.js';
import { cidrFromProto, toNumber } from './values.js';

/** What the listener knows about the connection when it picks a chain. */
export interface ConnectionProperties {
  /** restored original destination; undefined when only a hostname is known */
  readonly destination: IpAddress | undefined;
  readonly destinationPort: number;
  /** SNI from tls_inspector, '' when none */
  readonly serverName: string;
  /** 'tls' (tls_inspector saw a ClientHello) or 'raw_buffer' */
  readonly transportProtocol: string;
  /** ALPN from tls_inspector, or http/1.0|http/1.1|h2c from http_inspector */
  readonly applicationProtocols: readonly string[];
  /** the pod's own address as seen by the proxy; undefined when unknown */
  readonly source: IpAddress | undefined;
  /** the client's ephemeral port: practically never known */
  readonly sourcePort: number | undefined;
}

export type SieveLevel =
  | 'destination_port'
  | 'prefix_ranges'
  | 'server_names'
  | 'transport_protocol'
  | 'application_protocols'
  | 'direct_source_prefix_ranges'
  | 'source_type'
  | 'source_prefix_ranges'
  | 'source_ports';

export interface SieveStep {
  readonly level: SieveLevel;
  /** the connection's value at this level, as text */
  readonly value: string;
  /** chains (indices into filter_chains) that survived this level */
  readonly kept: readonly number[];
  /** how they survived */
  readonly how: 'specific' | 'unconstrained' | 'none';
  /** the matching value that won, e.g. "10.0.0.0/8", "*.example.com" */
  readonly winner?: string;
}

export interface ChainSelection {
  /** index into filter_chains, 'default' for default_filter_chain, undefined when nothing matched */
  readonly index: number | 'default' | undefined;
  readonly chain: FilterChain | undefined;
  readonly steps: readonly SieveStep[];
  /** the level at which the last candidates were lost (when falling back to default or failing) */
  readonly failedAt: SieveLevel | undefined;
  /** assumptions made because an input was unknown */
  readonly assumptions: readonly string[];
  /** more than one chain survived (Envoy would have rejected this listener) */
  readonly ambiguous: readonly number[];
}

interface Candidate {
  readonly index: number;
  readonly match: FilterChainMatch;
}

function listOf<T>(v: readonly T[] | undefined): readonly T[] {
  return v ?? [];
}

/** Longest matching prefix among the ranges; 0 for "unconstrained"; -1 when none contains ip. */
function bestPrefix(ranges: FilterChainMatch['prefix_ranges'], ip: IpAddress): { len: number; text?: string } {
  const list = listOf(ranges);
  if (list.length === 0) return { len: 0 };
  let best = -1;
  let text: string | undefined;
  for (const p of list) {
    const c = cidrFromProto(p);
    if (c && cidrContains(c, ip) && c.prefixLen > best) {
      best = c.prefixLen;
      text = c.text;
    }
  }
  // an explicit /0 range ties with unconstrained chains; Envoy rejects such duplicates
  return { len: best, ...(text !== undefined ? { text } : {}) };
}

/**
 * Network::Utility::isLoopbackAddress: only the canonical 127.0.0.1 and ::1 (not all of
 * 127/8, so Istio's inbound passthrough source 127.0.0.6 is EXTERNAL for source_type).
 */
function isEnvoyLoopback(ip: IpAddress): boolean {
  if (ip.family === 4) return ip.text === '127.0.0.1';
  return ip.text === '::1';
}

function sourceTypeOf(m: FilterChainMatch): 'ANY' | 'LOCAL' | 'EXTERNAL' {
  const t = m.source_type;
  if (t === 'SAME_IP_OR_LOOPBACK' || t === 1) return 'LOCAL';
  if (t === 'EXTERNAL' || t === 2) return 'EXTERNAL';
  return 'ANY';
}

/** Server-name rank: exact = +Infinity, `*.suffix` = length of the suffix, unconstrained = 0, no match = -1. */
function serverNameRank(names: readonly string[], sni: string): { rank: number; text?: string } {
  if (names.length === 0) return { rank: 0 };
  const host = sni.toLowerCase();
  let best = -1;
  let text: string | undefined;
  for (const raw of names) {
    const n = raw.toLowerCase();
    if (host !== '' && n === host) return { rank: Number.POSITIVE_INFINITY, text: raw };
    if (n.startsWith('*.')) {
      const suffix = n.slice(1); // ".example.com"
      // Envoy looks up host.substr(pos) for each '.' at pos >= 1, so the wildcard covers >= 1 char
      if (host.length > suffix.length && host.endsWith(suffix) && suffix.length > best) {
        best = suffix.length;
        text = raw;
      }
    }
  }
  return { rank: best, ...(text !== undefined ? { text } : {}) };
}

export function selectFilterChain(listener: Listener, conn: ConnectionProperties): ChainSelection {
  const chains = listOf(listener.filter_chains);
  let candidates: Candidate[] = chains.map((c, index) => ({ index, match: c.filter_chain_match ?? {} }));
  const steps: SieveStep[] = [];
  const assumptions: string[] = [];
  let failedAt: SieveLevel | undefined;

  /** Applies one level: keep the best specific matches, else the unconstrained, else none. */
  const level = (
    name: SieveLevel,
    value: string,
    constrains: (m: FilterChainMatch) => boolean,
    score: (m: FilterChainMatch) => { rank: number; text?: string },
  ): boolean => {
    if (candidates.length === 0) return false;
    if (!candidates.some((c) => constrains(c.match))) return true; // nobody sets it: level skipped
    let bestRank = 0;
    let winner: string | undefined;
    for (const c of candidates) {
      if (!constrains(c.match)) continue;
      const s = score(c.match);
      if (s.rank > bestRank) {
        bestRank = s.rank;
        winner = s.text;
      }
    }
    if (bestRank > 0) {
      candidates = candidates.filter((c) => constrains(c.match) && score(c.match).rank === bestRank);
      steps.push({ level: name, value, kept: candidates.map((c) => c.index), how: 'specific', ...(winner !== undefined ? { winner } : {}) });
      return true;
    }
    candidates = candidates.filter((c) => !constrains(c.match));
    steps.push({ level: name, value, kept: candidates.map((c) => c.index), how: candidates.length ? 'unconstrained' : 'none' });
    if (candidates.length === 0) failedAt = name;
    return candidates.length > 0;
  };

  const ok =
    level(
      'destination_port',
      String(conn.destinationPort),
      (m) => (toNumber(m.destination_port) ?? 0) !== 0,
      (m) => ((toNumber(m.destination_port) ?? 0) === conn.destinationPort ? { rank: 1, text: String(conn.destinationPort) } : { rank: -1 }),
    ) &&
    prefixLevel('prefix_ranges', conn.destination, (m) => m.prefix_ranges, 'destination') &&
    level(
      'server_names',
      conn.serverName || '(no SNI)',
      (m) => listOf(m.server_names).length > 0,
      (m) => {
        const r = serverNameRank(listOf(m.server_names), conn.serverName);
        return { rank: r.rank, ...(r.text !== undefined ? { text: r.text } : {}) };
      },
    ) &&
    level(
      'transport_protocol',
      conn.transportProtocol,
      (m) => (m.transport_protocol ?? '') !== '',
      (m) => (m.transport_protocol === conn.transportProtocol ? { rank: 1, text: conn.transportProtocol } : { rank: -1 }),
    ) &&
    alpnLevel() &&
    prefixLevel('direct_source_prefix_ranges', conn.source, (m) => m.direct_source_prefix_ranges, 'source') &&
    sourceTypeLevel() &&
    prefixLevel('source_prefix_ranges', conn.source, (m) => m.source_prefix_ranges, 'source') &&
    sourcePortLevel();

  function prefixLevel(
    name: SieveLevel,
    ip: IpAddress | undefined,
    get: (m: FilterChainMatch) => FilterChainMatch['prefix_ranges'],
    what: string,
  ): boolean {
    const constrains = (m: FilterChainMatch): boolean => listOf(get(m)).length > 0;
    if (!ip) {
      if (candidates.some((c) => constrains(c.match))) {
        assumptions.push(`${what} address unknown: assumed outside every ${name} range of this listener`);
        return level(name, `(unknown ${what})`, constrains, () => ({ rank: -1 }));
      }
      return true;
    }
    // +1 so that a matching /0 still ranks above "no match"
    return level(name, ip.text, constrains, (m) => {
      const b = bestPrefix(get(m), ip);
      return b.len < 0 ? { rank: -1 } : { rank: b.len + 1, ...(b.text !== undefined ? { text: b.text } : {}) };
    });
  }

  function alpnLevel(): boolean {
    const constrains = (m: FilterChainMatch): boolean => listOf(m.application_protocols).length > 0;
    if (candidates.length === 0) return false;
    if (!candidates.some((c) => constrains(c.match))) return true;
    // the first ALPN value (in the client's order) that some chain lists wins
    for (const proto of conn.applicationProtocols) {
      const hits = candidates.filter((c) => listOf(c.match.application_protocols).includes(proto));
      if (hits.length > 0) {
        candidates = hits;
        steps.push({ level: 'application_protocols', value: conn.applicationProtocols.join(',') || '(none)', kept: hits.map((c) => c.index), how: 'specific', winner: proto });
        return true;
      }
    }
    candidates = candidates.filter((c) => !constrains(c.match));
    steps.push({
      level: 'application_protocols',
      value: conn.applicationProtocols.join(',') || '(none)',
      kept: candidates.map((c) => c.index),
      how: candidates.length ? 'unconstrained' : 'none',
    });
    if (candidates.length === 0) failedAt = 'application_protocols';
    return candidates.length > 0;
  }

  function sourceTypeLevel(): boolean {
    if (candidates.length === 0) return false;
    const typed = candidates.filter((c) => sourceTypeOf(c.match) !== 'ANY');
    if (typed.length === 0) return true;
    let isLocal: boolean;
    if (!conn.source) {
      assumptions.push('source address unknown: assumed not loopback and not the destination (source_type EXTERNAL)');
      isLocal = false;
    } else {
      isLocal = isEnvoyLoopback(conn.source) || (conn.destination !== undefined && ipEquals(conn.source, conn.destination));
    }
    const want = isLocal ? 'LOCAL' : 'EXTERNAL';
    const specific = candidates.filter((c) => sourceTypeOf(c.match) === want);
    if (specific.length > 0) {
      candidates = specific;
      steps.push({ level: 'source_type', value: isLocal ? 'SAME_IP_OR_LOOPBACK' : 'EXTERNAL', kept: specific.map((c) => c.index), how: 'specific' });
      return true;
    }
    candidates = candidates.filter((c) => sourceTypeOf(c.match) === 'ANY');
    steps.push({ level: 'source_type', value: isLocal ? 'SAME_IP_OR_LOOPBACK' : 'EXTERNAL', kept: candidates.map((c) => c.index), how: candidates.length ? 'unconstrained' : 'none' });
    if (candidates.length === 0) failedAt = 'source_type';
    return candidates.length > 0;
  }

  function sourcePortLevel(): boolean {
    const constrains = (m: FilterChainMatch): boolean => listOf(m.source_ports).length > 0;
    if (conn.sourcePort === undefined) {
      if (candidates.some((c) => constrains(c.match))) {
        assumptions.push('client source port is ephemeral: assumed not in any source_ports list');
        return level('source_ports', '(ephemeral)', constrains, () => ({ rank: -1 }));
      }
      return true;
    }
    const port = conn.sourcePort;
    return level('source_ports', String(port), constrains, (m) => (listOf(m.source_ports).some((p) => toNumber(p) === port) ? { rank: 1, text: String(port) } : { rank: -1 }));
  }

  if (ok && candidates.length >= 1) {
    const chosen = candidates[0]!;
    return {
      index: chosen.index,
      chain: chains[chosen.index],
      steps,
      failedAt: undefined,
      assumptions,
      ambiguous: candidates.length > 1 ? candidates.map((c) => c.index) : [],
    };
  }
  if (chains.length === 0) failedAt = undefined;
  if (listener.default_filter_chain) {
    return { index: 'default', chain: listener.default_filter_chain, steps, failedAt, assumptions, ambiguous: [] };
  }
  return { index: undefined, chain: undefined, steps, failedAt, assumptions, ambiguous: [] };
}

/** A short human label for a chain: its name, else its match. */
export function chainLabel(listener: Listener, index: number | 'default' | undefined): string {
  if (index === undefined) return '(none)';
  if (index === 'default') return listener.default_filter_chain?.name ?? 'default_filter_chain';
  return listener.filter_chains?.[index]?.name ?? `#${index}`;
}

/** "{destination_port=15001}" style summary of a FilterChainMatch; '' when it matches everything. */
export function describeMatch(m: FilterChainMatch | undefined): string {
  if (!m) return ' {match all}';
  const parts: string[] = [];
  const port = toNumber(m.destination_port);
  if (port) parts.push(`destination_port=${port}`);
  const ranges = listOf(m.prefix_ranges).map((p) => cidrFromProto(p)?.text ?? `${p.address_prefix}/${p.prefix_len}`);
  if (ranges.length) parts.push(`prefix_ranges=${ranges.join(',')}`);
  if (listOf(m.server_names).length) parts.push(`server_names=${listOf(m.server_names).join(',')}`);
  if (m.transport_protocol) parts.push(`transport_protocol=${m.transport_protocol}`);
  if (listOf(m.application_protocols).length) parts.push(`application_protocols=${listOf(m.application_protocols).join(',')}`);
  if (listOf(m.direct_source_prefix_ranges).length) parts.push('direct_source_prefix_ranges=…');
  if (sourceTypeOf(m) !== 'ANY') parts.push(`source_type=${String(m.source_type)}`);
  if (listOf(m.source_prefix_ranges).length) {
    parts.push(`source_prefix_ranges=${listOf(m.source_prefix_ranges).map((p) => cidrFromProto(p)?.text ?? '?').join(',')}`);
  }
  if (listOf(m.source_ports).length) parts.push(`source_ports=${listOf(m.source_ports).join(',')}`);
  return parts.length ? ` {${parts.join(' ')}}` : ' {match all}';
}
