/**
 * Step 5 (seed 000 step 5, seed 003's debug lines): what the istio-proxy log says about this
 * destination. Access-log entries are matched by the original destination address (outbound
 * captured traffic: %DOWNSTREAM_LOCAL_ADDRESS%), the authority or SNI, and the cluster the trace
 * ended in; failures are entries with response flags or 5xx codes. Envoy's own warning/error lines
 * that name the destination, and its "no healthy host" lines (seed 003, visible at upstream=debug),
 * are shown as well.
 */
import { parseAccessLog, RESPONSE_FLAGS, type AccessLogEntry } from '../../model/access-log.js';
import { newFinding } from '../catalog.js';
import { hostCandidates } from '../trace/destination.js';
import { destinationLabel } from '../trace/request.js';
import { clusterDomain, upstreamOf } from './facts.js';
import type { DoctorInput, Step } from './types.js';

interface Matcher {
  readonly addresses: ReadonlySet<string>;
  readonly hosts: ReadonlySet<string>;
  readonly clusters: ReadonlySet<string>;
  readonly port: number;
}

function stripPort(authority: string): { host: string; port?: number } {
  const m = /^(.*?)(?::(\d+))?$/.exec(authority.toLowerCase())!;
  return { host: m[1]!.replace(/^\[(.*)\]$/, '$1'), ...(m[2] ? { port: Number(m[2]) } : {}) };
}

function entryMatches(e: AccessLogEntry, m: Matcher): boolean {
  if (e.downstreamLocalAddress && m.addresses.has(e.downstreamLocalAddress)) return true;
  if (e.upstreamCluster && m.clusters.has(e.upstreamCluster)) return true;
  if (e.requestedServerName && m.hosts.has(e.requestedServerName.toLowerCase())) return true;
  if (e.authority) {
    const a = stripPort(e.authority);
    if (m.hosts.has(a.host) && (a.port === undefined || a.port === m.port)) return true;
  }
  return false;
}

function failed(e: AccessLogEntry): boolean {
  return e.responseFlags.length > 0 || e.responseCode >= 500 || (e.kind === 'http' && e.responseCode === 0);
}

const LOG_LINE = /^(\S+)\s+(trace|debug|info|warn|warning|error|critical)\s+(.*)$/;
const ALWAYS_RELEVANT = /no healthy host|no healthy upstream|upstream connect error|config for type\.googleapis\.com\/\S+ rejected/i;

export function sidecarLogsStep(input: DoctorInput, number: number, title: string, probeIp?: string): Step {
  const base = { number, id: 'sidecar-logs' as const, title };
  if (input.trace?.proxy.type === 'none') return { ...base, status: 'skipped', reason: 'the pod has no sidecar', summary: 'not applicable', evidence: [], findings: [] };
  if (input.proxyLog === undefined) return { ...base, status: 'skipped', reason: input.proxyLogMissing ?? 'the istio-proxy log was not collected', summary: 'no log', evidence: [], findings: [] };
  const r = input.request;
  const up = upstreamOf(input);
  const ns = input.view.pod?.metadata?.namespace;
  const domain = clusterDomain(input);
  const addresses = new Set<string>();
  const port = r.port;
  for (const ip of [r.address?.text, up.ip?.text, probeIp].filter((x): x is string => x !== undefined)) addresses.add(ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`);
  const hosts = new Set<string>([...hostCandidates(r.host, ns, domain), up.host.toLowerCase()]);
  if (input.gateway) hosts.add(r.host);
  const clusters = new Set<string>([input.trace?.verdict.cluster, ...(input.trace?.verdict.targets ?? []).map((t) => t.cluster)].filter((c): c is string => c !== undefined && c !== 'PassthroughCluster' && c !== 'BlackHoleCluster'));
  const m: Matcher = { addresses, hosts, clusters, port };
  const text = input.proxyLog;
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  const entries = parseAccessLog(text);
  const mine = entries.filter((e) => entryMatches(e, m));
  const failures = mine.filter(failed);
  const needles = [...addresses, ...hosts, ...clusters].filter((n) => n.length > 3);
  const envoyLines = lines.filter((l) => {
    const lm = LOG_LINE.exec(l.replace(/\t/g, ' '));
    if (!lm) return false;
    const level = lm[2]!;
    if (ALWAYS_RELEVANT.test(lm[3]!)) return true;
    return (level === 'warn' || level === 'warning' || level === 'error' || level === 'critical') && needles.some((n) => l.toLowerCase().includes(n.toLowerCase()));
  });
  const flagCounts = new Map<string, number>();
  for (const e of failures) {
    const keys = e.responseFlags.length ? e.responseFlags : [`HTTP ${e.responseCode}`];
    for (const k of keys) flagCounts.set(k, (flagCounts.get(k) ?? 0) + 1);
  }
  const flagText = [...flagCounts]
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .map(([k, n]) => `${k} ×${n}${RESPONSE_FLAGS[k] ? ` (${RESPONSE_FLAGS[k]})` : ''}`);
  const errorKinds = new Map<string, number>();
  for (const l of envoyLines) {
    const msg = LOG_LINE.exec(l.replace(/\t/g, ' '))![3]!.replace(/^envoy \S+\s+(\S+\.cc:\d+\]\s*)?/, '').replace(/\s+/g, ' ').slice(0, 120);
    errorKinds.set(msg, (errorKinds.get(msg) ?? 0) + 1);
  }
  const times = mine.map((e) => e.timestamp).sort();
  const window = times.length ? `the last ${lines.length} log lines (${times[0]} to ${times[times.length - 1]})` : `the last ${lines.length} log lines`;
  const evidence: string[] = [
    `${lines.length} log line(s), ${entries.length} access-log entr${entries.length === 1 ? 'y' : 'ies'}, ${mine.length} for ${destinationLabel(r)}${up.host !== r.host ? ` / ${up.host}` : ''}${failures.length ? `, ${failures.length} failed` : ''}`,
    ...(entries.length === 0 ? ['the log has no access-log entries: access logging may be off (meshConfig.accessLogFile, or a Telemetry resource)'] : []),
    ...failures.slice(-3).map((e) => `access log: ${e.raw}`),
    ...[...errorKinds].slice(0, 5).map(([msg, n]) => `envoy: ${msg}${n > 1 ? ` (×${n})` : ''}`),
  ];
  const findings = [];
  const count = failures.length + (failures.length === 0 ? envoyLines.length : 0);
  if (count > 0) {
    const flags = [...flagText, ...(failures.length === 0 ? [...errorKinds].map(([msg, n]) => `"${msg}" ×${n}`) : [])].join(', ');
    findings.push(newFinding('SidecarLogShowsFailures', { dest: destinationLabel(r), count, flags, window }, { evidence: [...failures.slice(-3).map((e) => e.raw), ...envoyLines.slice(-3)] }));
  }
  const summary = count > 0 ? `${count} failure(s): ${[...flagCounts.keys()].join(', ') || [...errorKinds.keys()][0]}` : mine.length ? `${mine.length} entr${mine.length === 1 ? 'y' : 'ies'}, none failed` : 'nothing logged for this destination';
  return {
    ...base,
    status: count > 0 ? 'problem' : 'ok',
    summary,
    evidence,
    findings,
    data: { lines: lines.length, accessLogEntries: entries.length, matching: mine.length, failed: failures.length, flags: Object.fromEntries(flagCounts), envoyLines: envoyLines.length },
  };
}
