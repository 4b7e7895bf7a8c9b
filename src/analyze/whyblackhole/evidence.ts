/**
 * What the proxy's own records say about outbound traffic it black-holed or passed through:
 * access-log lines grouped by destination, the counters of Istio's standard metrics and Envoy's
 * raw stats, and whether the proxy logs or counts such traffic at all (its listeners' access_log,
 * its bootstrap's stats inclusion list). Pure: parsed inputs in, summaries out.
 */
import type { AccessLogEntry } from '../../model/access-log.js';
import type { ConfigDump } from '../../model/config-dump.js';
import type { StatSample } from '../../model/proxy-stats.js';
import { networkFilterKind } from '../../envoy/filters.js';

/** What the sidecar did with the traffic, from the log line. */
export type Observation = 'blackhole' | 'passthrough' | 'upstream-failure';

export interface DestinationEvidence {
  /** "10.0.0.6:7000", "api.example.com:443" */
  readonly key: string;
  /** SNI (TLS) or the Host header's host (HTTP); undefined for plain TCP */
  readonly host: string | undefined;
  readonly port: number | undefined;
  /** original destination addresses seen (downstream local address) */
  readonly addresses: readonly string[];
  readonly protocol: 'tcp' | 'tls' | 'http' | 'http2';
  readonly observation: Observation;
  readonly count: number;
  readonly firstSeen: string | undefined;
  readonly lastSeen: string | undefined;
  readonly flags: Readonly<Record<string, number>>;
  readonly responseCodes: Readonly<Record<string, number>>;
  readonly clusters: readonly string[];
  readonly routes: readonly string[];
  readonly details: readonly string[];
  /** first HTTP path seen, query removed (it may carry credentials) */
  readonly path: string | undefined;
  /** one log line, query strings removed */
  readonly sample: string;
}

/** Flags Envoy sets when the sidecar itself ends the stream (ISTIO_INTERNALS §4.3, ENVOY_SEMANTICS §6–§10). */
const SIDECAR_FLAGS = new Set(['UH', 'NR', 'NC', 'DPE']);
/** Flags that mean the upstream (the destination or the way to it) failed. */
const UPSTREAM_FLAGS = new Set(['UF', 'URX', 'UT', 'UC', 'UR', 'DF', 'UPE']);

export function isInboundCluster(name: string | undefined): boolean {
  return name !== undefined && (name.startsWith('inbound|') || name === 'InboundPassthroughCluster' || name === 'InboundPassthroughClusterIpv4' || name === 'InboundPassthroughClusterIpv6');
}

/** Classifies one line; undefined for traffic the sidecar handled normally, or inbound traffic. */
export function observationOf(e: AccessLogEntry, podIps: ReadonlySet<string> = new Set()): Observation | undefined {
  if (isInboundCluster(e.upstreamCluster)) return undefined;
  const dst = splitHostPort(e.downstreamLocalAddress);
  // inbound connections are addressed to the pod itself (virtualInbound)
  if (dst && podIps.has(dst.host)) return undefined;
  if (e.upstreamCluster === 'BlackHoleCluster' || e.routeName === 'block_all') return 'blackhole';
  if (e.responseFlags.some((f) => SIDECAR_FLAGS.has(f))) return 'blackhole';
  if (e.responseFlags.some((f) => UPSTREAM_FLAGS.has(f))) return 'upstream-failure';
  if (e.upstreamCluster === 'PassthroughCluster' || e.routeName === 'allow_any') return 'passthrough';
  return undefined;
}

export function splitHostPort(text: string | undefined): { host: string; port: number | undefined } | undefined {
  if (!text) return undefined;
  const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(text);
  if (v6) return { host: v6[1]!, port: v6[2] ? Number(v6[2]) : undefined };
  const colons = text.split(':').length - 1;
  if (colons > 1) return { host: text, port: undefined };
  const m = /^(.*?)(?::(\d+))?$/.exec(text)!;
  return { host: m[1]!, port: m[2] ? Number(m[2]) : undefined };
}

function hostPort(host: string, port: number | undefined): string {
  const h = host.includes(':') ? `[${host}]` : host;
  return port === undefined ? h : `${h}:${port}`;
}

function stripQuery(s: string): string {
  return s.replace(/\?[^\s"]*/g, '?…');
}

interface Acc {
  key: string;
  host: string | undefined;
  port: number | undefined;
  addresses: Set<string>;
  protocol: DestinationEvidence['protocol'];
  observation: Observation;
  count: number;
  first: { t: number | undefined; s: string } | undefined;
  last: { t: number | undefined; s: string } | undefined;
  flags: Map<string, number>;
  codes: Map<string, number>;
  clusters: Set<string>;
  routes: Set<string>;
  details: Set<string>;
  path: string | undefined;
  sample: string;
}

function bump(m: Map<string, number>, k: string): void {
  m.set(k, (m.get(k) ?? 0) + 1);
}

function sortedRecord(m: Map<string, number>): Record<string, number> {
  return Object.fromEntries([...m].sort((a, b) => a[0].localeCompare(b[0])));
}

/** Black-holed, passed-through and failed outbound traffic, one group per destination. */
export function groupByDestination(entries: readonly AccessLogEntry[], podIps: ReadonlySet<string> = new Set()): DestinationEvidence[] {
  const groups = new Map<string, Acc>();
  for (const e of entries) {
    const observation = observationOf(e, podIps);
    if (!observation) continue;
    const dst = splitHostPort(e.downstreamLocalAddress);
    // an HCM line without a method ("- - HTTP/1.1", DPE) parsed no request: the client's bytes were not HTTP
    const http = e.kind === 'http' && e.method !== undefined;
    const authority = http ? splitHostPort(e.authority) : undefined;
    const sni = e.requestedServerName;
    const protocol: DestinationEvidence['protocol'] = http ? (e.protocol === 'HTTP/2' ? 'http2' : 'http') : sni ? 'tls' : 'tcp';
    const host = protocol === 'tls' ? sni : authority?.host && authority.host !== dst?.host ? authority.host : undefined;
    const port = dst?.port ?? authority?.port;
    const name = host ?? dst?.host ?? authority?.host ?? '(unknown)';
    const key = `${observation}\u0000${protocol === 'http2' ? 'http' : protocol}\u0000${hostPort(name, port)}`;
    let g = groups.get(key);
    if (!g) {
      g = {
        key: hostPort(name, port),
        host,
        port,
        addresses: new Set(),
        protocol,
        observation,
        count: 0,
        first: undefined,
        last: undefined,
        flags: new Map(),
        codes: new Map(),
        clusters: new Set(),
        routes: new Set(),
        details: new Set(),
        path: http && e.path ? e.path.replace(/\?.*$/, '') : undefined,
        sample: stripQuery(e.raw),
      };
      groups.set(key, g);
    }
    g.count++;
    if (dst?.host) g.addresses.add(dst.host);
    const at = { t: e.time, s: e.timestamp };
    if (!g.first || (at.t !== undefined && (g.first.t === undefined || at.t < g.first.t))) g.first = at;
    if (!g.last || (at.t !== undefined && (g.last.t === undefined || at.t >= g.last.t))) g.last = at;
    for (const f of e.responseFlags) bump(g.flags, f);
    if (e.kind === 'http') bump(g.codes, String(e.responseCode));
    if (e.upstreamCluster) g.clusters.add(e.upstreamCluster);
    if (e.routeName) g.routes.add(e.routeName);
    if (e.responseCodeDetails) g.details.add(e.responseCodeDetails);
    if (e.connectionTerminationDetails) g.details.add(e.connectionTerminationDetails);
    if (e.upstreamTransportFailureReason) g.details.add(e.upstreamTransportFailureReason);
  }
  const order: Record<Observation, number> = { blackhole: 0, 'upstream-failure': 1, passthrough: 2 };
  return [...groups.values()]
    .map((g) => ({
      key: g.key,
      host: g.host,
      port: g.port,
      addresses: [...g.addresses].sort(),
      protocol: g.protocol,
      observation: g.observation,
      count: g.count,
      firstSeen: g.first?.s,
      lastSeen: g.last?.s,
      flags: sortedRecord(g.flags),
      responseCodes: sortedRecord(g.codes),
      clusters: [...g.clusters].sort(),
      routes: [...g.routes].sort(),
      details: [...g.details].sort(),
      path: g.path,
      sample: g.sample,
    }))
    .sort((a, b) => order[a.observation] - order[b.observation] || b.count - a.count || a.key.localeCompare(b.key));
}

// ---- metrics ----------------------------------------------------------------------------------

export interface CatchAllCounts {
  /** istio_tcp_connections_closed_total (reporter=source) */
  readonly tcpConnections: number;
  /** istio_requests_total (reporter=source) */
  readonly httpRequests: number;
  /** response_code → requests */
  readonly responseCodes: Readonly<Record<string, number>>;
}

export interface StatsSummary {
  /** any istio_* standard metric present */
  readonly istioMetrics: boolean;
  readonly blackhole: CatchAllCounts;
  readonly passthrough: CatchAllCounts;
  /** Envoy's own counters, when the proxy reports them */
  readonly raw: {
    readonly blackholeConnections?: number;
    readonly passthroughConnections?: number;
    /** listener → connections that matched no filter chain */
    readonly noFilterChainMatch: Readonly<Record<string, number>>;
  };
}

function istioName(n: string): string {
  return n.replace(/^envoy_(?=istio_)/, '');
}

/** The counters of black-holed and passed-through traffic, in either stats format. */
export function summarizeStats(samples: readonly StatSample[]): StatsSummary {
  const acc = {
    blackhole: { tcpConnections: 0, httpRequests: 0, responseCodes: new Map<string, number>() },
    passthrough: { tcpConnections: 0, httpRequests: 0, responseCodes: new Map<string, number>() },
  };
  let istio = false;
  let bhCx: number | undefined;
  let ptCx: number | undefined;
  const nfcm = new Map<string, number>();
  for (const s of samples) {
    const name = istioName(s.name);
    if (name.startsWith('istio_')) istio = true;
    const dsn = s.labels.destination_service_name;
    const which = dsn === 'BlackHoleCluster' ? acc.blackhole : dsn === 'PassthroughCluster' ? acc.passthrough : undefined;
    if (which && s.labels.reporter !== 'destination' && Number.isFinite(s.value)) {
      if (name === 'istio_tcp_connections_closed_total') which.tcpConnections += s.value;
      else if (name === 'istio_requests_total') {
        which.httpRequests += s.value;
        const code = s.labels.response_code ?? '?';
        which.responseCodes.set(code, (which.responseCodes.get(code) ?? 0) + s.value);
      }
    }
    // raw Envoy counters: prometheus (tag-extracted) and /stats text names
    const cluster =
      name === 'envoy_cluster_upstream_cx_total' ? s.labels.cluster_name : /^cluster\.(BlackHoleCluster|PassthroughCluster)\.upstream_cx_total$/.exec(name)?.[1];
    if (cluster === 'BlackHoleCluster') bhCx = (bhCx ?? 0) + s.value;
    if (cluster === 'PassthroughCluster') ptCx = (ptCx ?? 0) + s.value;
    const listener = name === 'envoy_listener_no_filter_chain_match' ? s.labels.listener_address : /^listener\.(.+)\.no_filter_chain_match$/.exec(name)?.[1];
    if (listener !== undefined && s.value > 0) nfcm.set(listener, (nfcm.get(listener) ?? 0) + s.value);
  }
  const done = (c: (typeof acc)['blackhole']): CatchAllCounts => ({ tcpConnections: c.tcpConnections, httpRequests: c.httpRequests, responseCodes: sortedRecord(c.responseCodes) });
  return {
    istioMetrics: istio,
    blackhole: done(acc.blackhole),
    passthrough: done(acc.passthrough),
    raw: { ...(bhCx !== undefined ? { blackholeConnections: bhCx } : {}), ...(ptCx !== undefined ? { passthroughConnections: ptCx } : {}), noFilterChainMatch: sortedRecord(nfcm) },
  };
}

// ---- what the proxy is configured to record -----------------------------------------------------

export interface AccessLogConfig {
  /** unknown: the input has no listeners to look at */
  readonly state: 'on' | 'off' | 'unknown';
  /** file paths of file loggers (/dev/stdout is what `kubectl logs` shows) */
  readonly paths: readonly string[];
  /** default-text | json | custom-text | other (a gRPC/OpenTelemetry sink) */
  readonly formats: readonly string[];
  /** where it was seen, e.g. "listener virtualOutbound" */
  readonly where: readonly string[];
}

/** Istio's default text formats (model/access-log.ts lists them): recognised by their fixed tail. */
function isIstioDefaultText(format: string): boolean {
  return /%UPSTREAM_CLUSTER(_RAW)?% %UPSTREAM_LOCAL_ADDRESS% %DOWNSTREAM_LOCAL_ADDRESS% %DOWNSTREAM_REMOTE_ADDRESS% %REQUESTED_SERVER_NAME%( %ROUTE_NAME%)?\n?$/.test(format) && format.startsWith('[%START_TIME%] "%REQ(:METHOD)%');
}

function loggerFacts(al: unknown): { path?: string; format: string } | undefined {
  if (!al || typeof al !== 'object') return undefined;
  const a = al as { name?: string; typed_config?: Record<string, unknown> };
  const type = String(a.typed_config?.['@type'] ?? a.name ?? '');
  const cfg = (a.typed_config ?? {}) as Record<string, unknown>;
  if (/FileAccessLog|access_loggers\.file|StdoutAccessLog|access_loggers\.stdout/.test(type) || /access_loggers\.(file|stdout)/.test(a.name ?? '')) {
    const path = /Stdout/.test(type) ? '/dev/stdout' : typeof cfg.path === 'string' ? cfg.path : undefined;
    const lf = (cfg.log_format ?? {}) as Record<string, unknown>;
    const text = (lf.text_format_source as { inline_string?: string } | undefined)?.inline_string ?? (typeof lf.text_format === 'string' ? lf.text_format : undefined) ?? (typeof cfg.format === 'string' ? cfg.format : undefined);
    const json = lf.json_format ?? cfg.json_format ?? cfg.typed_json_format;
    const format = json !== undefined ? 'json' : text === undefined ? 'default-text' : isIstioDefaultText(text) ? 'default-text' : 'custom-text';
    return { ...(path ? { path } : {}), format };
  }
  return { format: 'other' };
}

/**
 * Whether the outbound listeners in the input log connections: the access_log of their tcp_proxy
 * and HTTP connection manager filters, and of the listener itself (Istio logs NR there).
 * Envoy's file logger without a format uses Envoy's own default; Istio always sets one.
 */
export function accessLogConfig(dump: ConfigDump): AccessLogConfig {
  const refs = dump.listenerRefs().filter((r) => r.state === 'active' || r.state === 'static');
  const outbound = refs.filter((r) => r.name !== 'virtualInbound' && !/^(0\.0\.0\.0|\[?::\]?)_150(20|21|90)$/.test(r.name));
  if (outbound.length === 0) return { state: 'unknown', paths: [], formats: [], where: [] };
  const paths = new Set<string>();
  const formats = new Set<string>();
  const where = new Set<string>();
  let parsedAny = false;
  for (const ref of outbound) {
    let l;
    try {
      l = dump.listener(ref);
    } catch {
      continue;
    }
    parsedAny = true;
    const logs: unknown[] = [...(((l as unknown as { access_log?: unknown[] }).access_log) ?? [])];
    const chains = [...(l.filter_chains ?? []), ...(l.default_filter_chain ? [l.default_filter_chain] : [])];
    for (const c of chains) {
      for (const f of c.filters ?? []) {
        const kind = networkFilterKind(f);
        if (kind !== 'tcp_proxy' && kind !== 'http_connection_manager') continue;
        // v3 typed_config; Istio <= 1.5 (v2) could still carry a Struct `config`
        const cfg = (f.typed_config ?? (f as { config?: unknown }).config ?? {}) as { access_log?: unknown[] };
        logs.push(...(cfg.access_log ?? []));
      }
    }
    for (const al of logs) {
      const facts = loggerFacts(al);
      if (!facts) continue;
      if (facts.path) paths.add(facts.path);
      formats.add(facts.format);
      where.add(`listener ${ref.name}`);
    }
  }
  if (!parsedAny) return { state: 'unknown', paths: [], formats: [], where: [] };
  return { state: formats.size > 0 ? 'on' : 'off', paths: [...paths].sort(), formats: [...formats].sort(), where: [...where].sort() };
}

export interface StatsInclusion {
  /** the bootstrap is not in the input: what Envoy keeps is unknown */
  readonly known: boolean;
  /** no stats_matcher at all: Envoy keeps every stat */
  readonly all: boolean;
  readonly includes: (statName: string) => boolean;
  /** the patterns, as text */
  readonly patterns: readonly string[];
}

interface MatcherPattern {
  readonly prefix?: string;
  readonly suffix?: string;
  readonly exact?: string;
  readonly contains?: string;
  readonly safe_regex?: { regex?: string };
}

/** The bootstrap's stats_config.stats_matcher (Envoy: inclusion_list / exclusion_list / reject_all). */
export function statsInclusion(dump: ConfigDump | undefined): StatsInclusion {
  const b = dump?.bootstrap();
  if (!b) return { known: false, all: false, includes: () => false, patterns: [] };
  const sc = (b.stats_config ?? {}) as { stats_matcher?: { inclusion_list?: { patterns?: MatcherPattern[] }; exclusion_list?: { patterns?: MatcherPattern[] }; reject_all?: boolean } };
  const m = sc.stats_matcher;
  if (!m) return { known: true, all: true, includes: () => true, patterns: [] };
  const matches = (p: MatcherPattern, name: string): boolean => {
    if (p.prefix !== undefined) return name.startsWith(p.prefix);
    if (p.suffix !== undefined) return name.endsWith(p.suffix);
    if (p.exact !== undefined) return name === p.exact;
    if (p.contains !== undefined) return name.includes(p.contains);
    if (p.safe_regex?.regex !== undefined) {
      try {
        return new RegExp(`^(?:${p.safe_regex.regex})$`).test(name);
      } catch {
        return false;
      }
    }
    return false;
  };
  const text = (p: MatcherPattern): string => (p.prefix !== undefined ? `prefix ${p.prefix}` : p.suffix !== undefined ? `suffix ${p.suffix}` : p.exact !== undefined ? `exact ${p.exact}` : p.contains !== undefined ? `contains ${p.contains}` : `regex ${p.safe_regex?.regex ?? ''}`);
  if (m.reject_all) return { known: true, all: false, includes: () => false, patterns: ['reject_all'] };
  if (m.inclusion_list) {
    const ps = m.inclusion_list.patterns ?? [];
    return { known: true, all: false, includes: (n) => ps.some((p) => matches(p, n)), patterns: ps.map(text) };
  }
  const ex = m.exclusion_list?.patterns ?? [];
  return { known: true, all: ex.length === 0, includes: (n) => !ex.some((p) => matches(p, n)), patterns: ex.map((p) => `not ${text(p)}`) };
}
