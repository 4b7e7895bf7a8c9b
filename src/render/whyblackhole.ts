/**
 * `whyblackhole` output: the `kind: WhyBlackhole` document and the human report (evidence, a
 * table of destinations with their cause class, DEST's verdict, findings with fixes).
 */
import type { WhyBlackholeReport, DestinationReport } from '../analyze/whyblackhole/report.js';
import { FAILING_VERDICTS } from '../analyze/trace/types.js';
import { API_VERSION, findingDto, sortKeys } from './dto.js';
import { renderFindings } from './findings.js';
import { paint, table, wrap, type RenderOptions } from './text.js';

function destinationDto(d: DestinationReport): unknown {
  const e = d.evidence;
  return {
    destination: d.destination,
    ...(e
      ? {
          seen: {
            observation: e.observation,
            protocol: e.protocol,
            host: e.host,
            port: e.port,
            addresses: e.addresses,
            count: e.count,
            firstSeen: e.firstSeen,
            lastSeen: e.lastSeen,
            flags: e.flags,
            responseCodes: e.responseCodes,
            clusters: e.clusters,
            routes: e.routes,
            details: e.details,
            sample: e.sample,
          },
        }
      : {}),
    ...(d.traced
      ? {
          traced: {
            destination: d.traced.destination,
            verdict: d.traced.verdict.code,
            outcome: d.traced.verdict.outcome,
            responseFlag: d.traced.verdict.responseFlag,
            listener: d.traced.verdict.listener,
            filterChain: d.traced.verdict.filterChain,
            route: d.traced.verdict.route,
            cluster: d.traced.verdict.cluster,
            summary: d.traced.verdict.summary,
          },
        }
      : {}),
    cause: d.cause,
  };
}

export function whyBlackholeDto(r: WhyBlackholeReport): unknown {
  const a = r.evidence.accessLog;
  const s = r.evidence.stats;
  return sortKeys({
    apiVersion: API_VERSION,
    kind: 'WhyBlackhole',
    source: r.source,
    pod: r.pod,
    proxy: r.proxy,
    blackholed: r.blackholed,
    evidence: {
      accessLog: { configured: a.configured.state, paths: a.configured.paths, formats: a.configured.formats, source: a.what, read: a.read, lines: a.lines, entries: a.entries, entryFormats: a.formats, error: a.error },
      stats: { source: s.what, read: s.read, format: s.format, istioMetrics: s.summary?.istioMetrics, blackhole: s.summary?.blackhole, passthrough: s.summary?.passthrough, envoy: s.summary?.raw, envoyClusterStatsIncluded: s.rawIncluded, error: s.error },
    },
    destinations: r.destinations.map(destinationDto),
    ...(r.query ? { query: { ...(destinationDto(r.query) as object), hops: r.query.trace.hops, assumptions: r.query.trace.assumptions } } : {}),
    findings: r.findings.map(findingDto),
  });
}

function flagText(flags: Readonly<Record<string, number>>): string {
  const k = Object.keys(flags);
  return k.length ? k.join(',') : '-';
}

function shortTime(t: string | undefined): string {
  return t ? t.replace(/^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2})(\.\d+)?Z$/, '$1 $2') : '-';
}

function describeSource(r: WhyBlackholeReport): string {
  const s = r.source;
  const what = { live: 'live cluster', snapshot: 'snapshot', 'bug-report': 'istioctl bug-report', 'config-dump': 'config dump' }[s.kind];
  const parts = [...(s.context ? [`context ${s.context}`] : []), ...(s.via ? [`admin via ${s.via}`] : []), ...(s.notes ?? [])];
  return parts.length ? `${what} (${parts.join(', ')})` : what;
}

function accessLogLine(r: WhyBlackholeReport): string {
  const a = r.evidence.accessLog;
  const c = a.configured;
  const conf =
    c.state === 'on'
      ? `on (${[...c.paths, ...c.formats.map((f) => (f === 'default-text' ? "Istio's default text format" : f === 'json' ? 'JSON' : f === 'custom-text' ? 'custom text format' : f))].join(', ')})`
      : c.state === 'off'
        ? a.entries > 0
          ? 'not configured on the listeners read, yet the log has access-log lines'
          : 'OFF for this proxy'
        : 'configuration unknown';
  const read = a.error ? `not read: ${a.error}` : a.read ? `${a.entries} access-log ${a.entries === 1 ? 'entry' : 'entries'} in ${a.lines} lines of ${a.what}` : `not given`;
  return `${conf}; ${read}`;
}

function statsLines(r: WhyBlackholeReport): string[] {
  const s = r.evidence.stats;
  if (s.error) return [`not read: ${s.error}`];
  if (!s.summary) return ['not given'];
  const m = s.summary;
  const out: string[] = [];
  if (!m.istioMetrics) out.push("no Istio standard metrics in the proxy's stats");
  else {
    const part = (c: typeof m.blackhole, name: string): string => `${c.tcpConnections} TCP ${c.tcpConnections === 1 ? "connection" : "connections"} and ${c.httpRequests} ${c.httpRequests === 1 ? "request" : "requests"} to ${name}`;
    out.push(`Istio metrics: ${part(m.blackhole, 'BlackHoleCluster')}; ${part(m.passthrough, 'PassthroughCluster')}`);
  }
  const raw: string[] = [];
  if (m.raw.blackholeConnections !== undefined) raw.push(`cluster.BlackHoleCluster.upstream_cx_total ${m.raw.blackholeConnections}`);
  if (m.raw.passthroughConnections !== undefined) raw.push(`cluster.PassthroughCluster.upstream_cx_total ${m.raw.passthroughConnections}`);
  for (const [l, n] of Object.entries(m.raw.noFilterChainMatch)) raw.push(`listener ${l} no_filter_chain_match ${n}`);
  out.push(raw.length ? `Envoy counters: ${raw.join(', ')}` : `Envoy counters: ${s.rawIncluded === false ? 'not reported (stats inclusion list)' : 'none for the catch-all clusters'}`);
  return out;
}

const OBS: Readonly<Record<string, string>> = { blackhole: 'black-holed', passthrough: 'passthrough', 'upstream-failure': 'failed upstream' };

export function renderWhyBlackhole(r: WhyBlackholeReport, opts: RenderOptions): string {
  const out: string[] = [];
  const head = r.pod ? `${r.pod}${r.proxy ? ` (${r.proxy.type}${r.proxy.istioVersion ? `, Istio ${r.proxy.istioVersion}` : ''})` : ''}` : 'proxy from the config dump';
  out.push(`${paint(opts, 'bold', 'WHYBLACKHOLE')}  ${head}`);
  out.push(`via    ${describeSource(r)}`);
  out.push('');
  out.push(paint(opts, 'bold', 'EVIDENCE'));
  out.push(wrap(accessLogLine(r), opts.width, ' '.repeat(15), '  access log   '));
  statsLines(r).forEach((l, i) => out.push(wrap(l, opts.width, ' '.repeat(15), i === 0 ? '  metrics      ' : ' '.repeat(15))));
  if (r.query) {
    const q = r.query;
    const v = q.trace.verdict;
    const code = v.code ?? 'UNDETERMINED';
    const style = v.code !== null && FAILING_VERDICTS.has(v.code) ? 'red' : v.code === 'ROUTED' ? 'green' : 'yellow';
    out.push('');
    out.push(`${paint(opts, 'bold', 'DESTINATION')}  ${q.destination}  ${paint(opts, style, code)}  (outcome ${v.outcome}${v.responseFlag && v.responseFlag !== '-' ? `, flag ${v.responseFlag}` : ''})`);
    out.push(wrap(`path: ${[v.listener, v.filterChain, v.route, v.cluster].filter(Boolean).join(' → ') || '(none)'}`, opts.width, '    ', '  '));
    out.push(wrap(`cause: ${q.cause.class}: ${q.cause.summary}`, opts.width, '    ', '  '));
    out.push(wrap(q.evidence ? `seen: ${q.evidence.count} ${OBS[q.evidence.observation]} (flags ${flagText(q.evidence.flags)}, last ${shortTime(q.evidence.lastSeen)})` : 'seen: no traffic to it in the evidence read', opts.width, '    ', '  '));
  }
  out.push('');
  if (r.destinations.length) {
    out.push(paint(opts, 'bold', 'DESTINATIONS SEEN'));
    const head2 = ['destination', 'seen', 'count', 'flags', ...(opts.wide ? ['first seen'] : []), 'last seen', 'now', 'cause'];
    const rows = r.destinations.map((d) => {
      const e = d.evidence!;
      return [d.destination, OBS[e.observation] ?? e.observation, String(e.count), flagText(e.flags), ...(opts.wide ? [shortTime(e.firstSeen)] : []), shortTime(e.lastSeen), d.traced?.verdict.code ?? '-', d.cause.class];
    });
    out.push(table(head2, rows));
    out.push('');
  } else if (!r.query) {
    out.push('No black-holed, passed-through or failed outbound traffic in the evidence read.');
    out.push('');
  }
  const findings = renderFindings(r.findings, opts);
  if (findings) out.push(findings);
  return `${out.join('\n').replace(/\n+$/, '')}\n`;
}
