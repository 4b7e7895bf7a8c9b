/**
 * `whyblackhole`: which outbound connections of a pod the sidecar black-holed or passed through,
 * and why. Evidence (access log, Istio metrics, Envoy counters) → destinations → a trace of each
 * through the configuration the proxy holds → cause class and fixes. Also says what evidence is
 * missing (logs off, stats not included) and how to turn it on. Pure: inputs in, report out.
 */
import YAML from 'yaml';
import { yamlDoc } from '../yaml-doc.js';
import { parseAccessLog, type AccessLogEntry } from '../../model/access-log.js';
import type { ClusterView, KubeObject } from '../../model/cluster-view.js';
import type { ConfigDump } from '../../model/config-dump.js';
import { parseProxyStats, type ProxyStats } from '../../model/proxy-stats.js';
import { describeProxy } from '../../model/proxy.js';
import { UsageError } from '../../model/errors.js';
import { parseIp } from '../../envoy/ip.js';
import { newFinding } from '../catalog.js';
import { sortFindings, type Finding, type Fix } from '../finding.js';
import { runTrace, traceWithoutSidecar } from '../trace/engine.js';
import { traceWithView, viewRequest } from '../trace/from-view.js';
import { podFacts } from '../trace/pod-settings.js';
import { buildRequest, type RequestFlags } from '../trace/request.js';
import { FAILING_VERDICTS, type Responsible, type Trace, type TraceSource, type Verdict } from '../trace/types.js';
import { classify, workloadTarget, type Cause, type CauseClass } from './causes.js';
import { accessLogConfig, groupByDestination, statsInclusion, summarizeStats, type AccessLogConfig, type DestinationEvidence, type Observation, type StatsSummary } from './evidence.js';

/** Text evidence as collected: its content, or why it could not be read. */
export interface EvidenceText {
  readonly text?: string;
  /** what it is, e.g. "the istio-proxy log of the last 1h" */
  readonly what: string;
  readonly error?: { readonly reason: string; readonly remedy: string };
}

export interface WhyBlackholeInput {
  /** the proxy's configuration; undefined when the pod has no sidecar */
  readonly dump: ConfigDump | undefined;
  readonly view: ClusterView | undefined;
  /** Telemetry resources (telemetry.istio.io), undefined when not read */
  readonly telemetries?: readonly KubeObject[];
  readonly accessLog: EvidenceText;
  readonly stats: EvidenceText;
  /** DEST as typed, when given */
  readonly dest?: string;
  readonly flags: RequestFlags;
  readonly source: TraceSource;
  /** Services fetched for attribution (live: by name) */
  readonly services?: readonly KubeObject[];
}

export interface TracedDestination {
  /** the DEST the trace was run with, e.g. "tls://api.example.com:443" */
  readonly destination: string;
  readonly verdict: Verdict;
}

export interface DestinationReport {
  readonly destination: string;
  readonly evidence?: DestinationEvidence;
  readonly traced?: TracedDestination;
  readonly cause: Omit<Cause, 'fixes' | 'findings'>;
}

export interface AccessLogEvidence {
  readonly configured: AccessLogConfig;
  readonly what: string;
  readonly read: boolean;
  readonly lines: number;
  readonly entries: number;
  readonly formats: readonly string[];
  readonly error?: string;
}

export interface StatsEvidence {
  readonly what: string;
  readonly read: boolean;
  readonly format?: ProxyStats['format'];
  readonly summary?: StatsSummary;
  /** whether Envoy's cluster.BlackHoleCluster.* counters pass the bootstrap's stats matcher */
  readonly rawIncluded: boolean | 'unknown';
  readonly error?: string;
}

export interface WhyBlackholeReport {
  readonly source: TraceSource;
  readonly pod?: string;
  readonly proxy?: { readonly type: string; readonly istioVersion?: string };
  readonly evidence: { readonly accessLog: AccessLogEvidence; readonly stats: StatsEvidence };
  readonly destinations: readonly DestinationReport[];
  /** DEST's answer (its full trace) */
  readonly query?: DestinationReport & { readonly trace: Trace };
  readonly findings: readonly Finding[];
  /** a black-holed destination was seen, or DEST's verdict fails */
  readonly blackholed: boolean;
}

// ---- what to trace --------------------------------------------------------------------------------

export interface PlannedTrace {
  readonly dest: string;
  readonly flags: RequestFlags;
}

function bracket(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

/** The DEST and flags that reproduce a destination seen in the evidence. */
export function planFor(e: DestinationEvidence, base: RequestFlags = {}): PlannedTrace | undefined {
  if (e.port === undefined) return undefined;
  const ip = e.addresses[0];
  const hostIsIp = e.host !== undefined && parseIp(e.host) !== undefined;
  const address = ip && !hostIsIp ? { address: ip } : {};
  if (e.protocol === 'http' || e.protocol === 'http2') {
    const host = e.host ?? ip;
    if (!host) return undefined;
    // by Host alone: HTTP is routed by its Host header, and an IP here would make the engine's
    // ServiceEntry fix address-based, which Host-routed HTTP never matches
    return { dest: `http://${bracket(host)}:${e.port}${e.path ?? '/'}`, flags: { ...base, ...(e.protocol === 'http2' ? { protocol: 'http2' } : {}) } };
  }
  if (e.protocol === 'tls' && e.host) return { dest: `tls://${bracket(e.host)}:${e.port}`, flags: { ...base, ...address } };
  if (!ip) return undefined;
  return { dest: `${bracket(ip)}:${e.port}`, flags: base };
}

// ---- the report -----------------------------------------------------------------------------------

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

function seenText(e: DestinationEvidence): string {
  const what = e.protocol === 'http' || e.protocol === 'http2' ? plural(e.count, 'request') : plural(e.count, 'connection');
  const flags = Object.keys(e.flags);
  const codes = Object.keys(e.responseCodes).filter((c) => c !== '0');
  const tags = [...(flags.length ? [`flags ${flags.join(',')}`] : []), ...(codes.length ? [`HTTP ${codes.join(',')}`] : []), ...(e.routes.includes('block_all') ? ['route block_all'] : [])];
  const when = e.firstSeen && e.lastSeen ? (e.firstSeen === e.lastSeen ? `at ${e.firstSeen}` : `${e.firstSeen} to ${e.lastSeen}`) : undefined;
  return `${what}${tags.length || when ? ` (${[...tags, ...(when ? [when] : [])].join('; ')})` : ''}`;
}

function evidenceLines(e: DestinationEvidence, t: Trace | undefined): string[] {
  return [
    `access log: ${e.sample}`,
    ...(e.clusters.length ? [`upstream cluster: ${e.clusters.join(', ')}`] : []),
    ...(e.details.length ? [`details: ${e.details.join(', ')}`] : []),
    ...(e.addresses.length > 1 ? [`addresses: ${e.addresses.join(', ')}`] : []),
    ...(t ? [`trace now: ${t.verdict.code ?? 'UNDETERMINED'} via ${[t.verdict.listener, t.verdict.filterChain, t.verdict.route, t.verdict.cluster].filter(Boolean).join(' → ')}`] : []),
  ];
}

function telemetryYaml(namespace: string, labels: Readonly<Record<string, string>> | undefined): string {
  const app = labels?.app ?? labels?.['app.kubernetes.io/name'];
  const key = labels?.app ? 'app' : 'app.kubernetes.io/name';
  const doc = {
    apiVersion: 'telemetry.istio.io/v1',
    kind: 'Telemetry',
    metadata: { name: 'access-logs', namespace },
    spec: { ...(app ? { selector: { matchLabels: { [key]: app } } } : {}), accessLogging: [{ providers: [{ name: 'envoy' }] }] },
  };
  return yamlDoc(doc);
}

function accessLogFixes(namespace: string, labels: Readonly<Record<string, string>> | undefined, root: string): Fix[] {
  return [
    {
      rank: 1,
      title: `Turn on access logs for this workload with a Telemetry resource`,
      tradeoffs: 'One log line per connection or request of the selected pods (log volume and cost); takes effect on the next configuration push, no restart. The built-in "envoy" provider writes Istio\'s default text format to /dev/stdout. Drop the selector for the whole namespace, or put it in the root namespace for the mesh.',
      kind: 'yaml',
      content: telemetryYaml(namespace, labels),
    },
    {
      rank: 2,
      title: 'Or turn on access logs mesh-wide in the mesh config',
      tradeoffs: `Every proxy logs every connection. Used only while no Telemetry resource configures access logging (pilot/pkg/networking/core/accesslog.go). Applies on the next push, no restart.`,
      kind: 'yaml',
      content: `# IstioOperator / Helm values of istiod (or: kubectl edit configmap istio -n ${root}, key mesh)\n${yamlDoc({ meshConfig: { accessLogFile: '/dev/stdout' } })}`,
    },
  ];
}

function statsFix(target: string, ns: string, pod: KubeObject | undefined): Fix {
  const existing = pod?.metadata?.annotations?.['proxy.istio.io/config'];
  let cfg: Record<string, unknown> = {};
  if (existing) {
    try {
      cfg = (YAML.parse(existing) as Record<string, unknown> | null) ?? {};
    } catch {
      cfg = {};
    }
  }
  const matcher = (cfg.proxyStatsMatcher ?? {}) as { inclusionPrefixes?: string[]; inclusionRegexps?: string[] };
  const prefixes = [...new Set([...(matcher.inclusionPrefixes ?? []), 'cluster.BlackHoleCluster', 'cluster.PassthroughCluster'])];
  const regexps = [...new Set([...(matcher.inclusionRegexps ?? []), 'listener\\..*\\.no_filter_chain_match'])];
  const value = JSON.stringify({ ...cfg, proxyStatsMatcher: { ...matcher, inclusionPrefixes: prefixes, inclusionRegexps: regexps } });
  const patch = JSON.stringify({ spec: { template: { metadata: { annotations: { 'proxy.istio.io/config': value } } } } });
  return {
    rank: 1,
    title: "Report Envoy's BlackHoleCluster, PassthroughCluster and no-filter-chain counters",
    tradeoffs: 'Adds these counters to the proxy\'s stats (a few more series per pod). The bootstrap is built at start-up: the patch rolls the pods. The deprecated annotation sidecar.istio.io/statsInclusionPrefixes does the same for prefixes.',
    kind: 'command',
    content: `kubectl patch ${target} -n ${ns} --type merge -p '${patch}'`,
  };
}

function metricsFix(root: string): Fix {
  return {
    rank: 1,
    title: "Turn Istio's standard metrics back on",
    tradeoffs: 'Every proxy exports istio_requests_total and istio_tcp_* again (Prometheus series per source/destination pair). Look first for a Telemetry resource that disables them (metrics.overrides with disabled: true) and remove that override.',
    kind: 'yaml',
    content: yamlDoc({ apiVersion: 'telemetry.istio.io/v1', kind: 'Telemetry', metadata: { name: 'mesh-default', namespace: root }, spec: { metrics: [{ providers: [{ name: 'prometheus' }] }] } }),
  };
}

function labelsMatch(selector: Readonly<Record<string, string>> | undefined, labels: Readonly<Record<string, string>>): boolean {
  return selector !== undefined && Object.entries(selector).every(([k, v]) => labels[k] === v);
}

/** Why access logging is off, from the mesh config and the Telemetry resources that apply. */
function whyLogsOff(view: ClusterView | undefined, telemetries: readonly KubeObject[] | undefined, root: string): string {
  const parts: string[] = [];
  const mesh = view?.meshConfig?.mesh;
  const file = mesh?.accessLogFile;
  if (mesh) parts.push(typeof file === 'string' && file !== '' ? `meshConfig.accessLogFile is ${file}, yet the listeners have no access log (a Telemetry resource overrides it, or the proxy has not received the change)` : `meshConfig.accessLogFile is empty (${view!.meshConfig!.namespace}/${view!.meshConfig!.name})`);
  const defaults = (mesh?.defaultProviders as { accessLogging?: string[] } | undefined)?.accessLogging;
  if (defaults?.length) parts.push(`meshConfig.defaultProviders.accessLogging is ${defaults.join(', ')}`);
  if (telemetries) {
    const pod = view?.pod;
    const podNs = pod?.metadata?.namespace;
    const labels = pod?.metadata?.labels ?? {};
    const applicable = telemetries.filter((t) => {
      const ns = t.metadata?.namespace;
      const sel = (t.spec?.selector as { matchLabels?: Record<string, string> } | undefined)?.matchLabels;
      if (ns === root && !sel) return true;
      if (ns !== podNs) return false;
      return !sel || labelsMatch(sel, labels);
    });
    const logging = applicable.filter((t) => Array.isArray(t.spec?.accessLogging) && (t.spec!.accessLogging as unknown[]).length > 0);
    const disabling = logging.filter((t) => (t.spec!.accessLogging as { disabled?: boolean }[]).some((a) => a.disabled === true));
    if (disabling.length) parts.push(`Telemetry ${disabling.map((t) => `${t.metadata?.namespace}/${t.metadata?.name}`).join(', ')} disables access logging`);
    else if (logging.length) parts.push(`Telemetry ${logging.map((t) => `${t.metadata?.namespace}/${t.metadata?.name}`).join(', ')} configures access logging, but not with a provider this proxy logs to a file`);
    else parts.push('no Telemetry resource configures access logging for this pod');
  } else parts.push('Telemetry resources were not read');
  return `${parts.join('; ')}. Black-holed connections leave no log line naming their destination.`;
}

function sameDestination(e: DestinationEvidence, t: Trace): boolean {
  if (e.port !== t.request.port) return false;
  const ip = t.request.address?.text;
  return (ip !== undefined && e.addresses.includes(ip)) || (e.host !== undefined && e.host === t.request.host);
}

function isBlackholeClass(c: CauseClass): boolean {
  return c !== 'passthrough' && c !== 'routed' && c !== 'not-captured';
}

export type Tracer = (dest: string, flags: RequestFlags) => Trace;

/** The tracer offline and live use: through the cluster view when the pod is known. */
export function makeTracer(input: Pick<WhyBlackholeInput, 'dump' | 'view' | 'source' | 'services'>): Tracer {
  const view = input.view;
  const services = input.services ?? view?.lists.services ?? [];
  return (dest, flags) => {
    if (view?.pod) {
      const facts = podFacts(view.pod);
      if (facts.sidecar === 'none' || !input.dump) {
        return { ...traceWithoutSidecar(viewRequest({ view, dest, flags, services }), `${facts.namespace}/${facts.name}`, 'The pod spec has no istio-proxy container.'), source: input.source };
      }
      return traceWithView({ dump: input.dump, view, dest, flags, services, source: input.source });
    }
    if (!input.dump) throw new Error('whyblackhole: no proxy configuration to trace with');
    return { ...runTrace(input.dump, buildRequest(dest, flags)), source: input.source };
  };
}

export function analyzeWhyBlackhole(input: WhyBlackholeInput, tracer: Tracer = makeTracer(input)): WhyBlackholeReport {
  const findings: Finding[] = [];
  const view = input.view;
  const pod = view?.pod;
  const facts = pod ? podFacts(pod) : undefined;
  const podIps = new Set<string>(facts?.podIps ?? []);
  const root = (view?.meshConfig?.mesh.rootNamespace as string | undefined) ?? facts?.controlPlaneNamespace ?? 'istio-system';
  const hasSidecar = input.dump !== undefined && facts?.sidecar !== 'none';

  // ---- access log ----
  const configured: AccessLogConfig = input.dump ? accessLogConfig(input.dump) : { state: 'unknown', paths: [], formats: [], where: [] };
  let entries: AccessLogEntry[] = [];
  const logText = input.accessLog.text;
  if (logText !== undefined) entries = parseAccessLog(logText);
  const logLines = logText === undefined ? 0 : logText.split('\n').filter((l) => l.trim() !== '').length;
  const accessLog: AccessLogEvidence = {
    configured,
    what: input.accessLog.what,
    read: logText !== undefined,
    lines: logLines,
    entries: entries.length,
    formats: [...new Set(entries.map((e) => e.format))].sort(),
    ...(input.accessLog.error ? { error: input.accessLog.error.reason } : {}),
  };
  if (input.accessLog.error) findings.push(newFinding('EvidenceNotRead', { what: input.accessLog.what, reason: input.accessLog.error.reason, remedy: input.accessLog.error.remedy }));
  // the log itself proves logging is on (a dump older or newer than the log may say otherwise)
  if (hasSidecar && configured.state === 'off' && entries.length === 0) {
    findings.push(newFinding('AccessLogDisabled', { why: whyLogsOff(view, input.telemetries, root) }, { evidence: ['no access_log on the tcp_proxy / http_connection_manager filters of the outbound listeners read'], fixes: accessLogFixes(facts?.namespace ?? describeProxy(input.dump?.bootstrap()).namespace ?? 'default', pod?.metadata?.labels, root) }));
  }
  if (configured.state === 'on' && configured.paths.length > 0 && !configured.paths.some((p) => p === '/dev/stdout' || p === '/dev/stderr')) {
    findings.push(newFinding('EvidenceNotRead', { what: 'the access log', reason: `the proxy writes it to ${configured.paths.join(', ')}, not to the container's output`, remedy: `Read that file inside the istio-proxy container and pass it with --access-log, or point the Telemetry provider (envoyFileAccessLog.path) at /dev/stdout.` }));
  }
  if (logText !== undefined && entries.length === 0 && configured.formats.includes('custom-text')) {
    findings.push(newFinding('EvidenceNotRead', { what: 'the access-log lines', reason: 'the proxy logs in a custom text format (meshConfig.accessLogFormat or a Telemetry provider logFormat) this tool does not parse', remedy: 'Use Istio\'s default format or the JSON encoding (meshConfig.accessLogEncoding: JSON) so lines can be attributed.' }));
  }

  // ---- stats ----
  let statsRead: ProxyStats | undefined;
  if (input.stats.text !== undefined) statsRead = parseProxyStats(input.stats.text);
  if (input.stats.error) findings.push(newFinding('EvidenceNotRead', { what: input.stats.what, reason: input.stats.error.reason, remedy: input.stats.error.remedy }));
  const summary = statsRead ? summarizeStats(statsRead.samples) : undefined;
  const inclusion = statsInclusion(input.dump);
  const rawIncluded: StatsEvidence['rawIncluded'] = summary?.raw.blackholeConnections !== undefined ? true : inclusion.known ? inclusion.includes('cluster.BlackHoleCluster;.upstream_cx_total') : 'unknown';
  const stats: StatsEvidence = {
    what: input.stats.what,
    read: statsRead !== undefined,
    ...(statsRead ? { format: statsRead.format } : {}),
    ...(summary ? { summary } : {}),
    rawIncluded,
    ...(input.stats.error ? { error: input.stats.error.reason } : {}),
  };

  // ---- destinations seen, traced ----
  const groups = groupByDestination(entries, podIps);
  const destinations: DestinationReport[] = [];
  let blackholed = false;
  const traces = new Map<string, Trace>();
  const traceOnce = (dest: string, flags: RequestFlags): Trace | undefined => {
    const key = `${dest}\u0000${JSON.stringify(flags)}`;
    if (!traces.has(key)) {
      try {
        traces.set(key, tracer(dest, flags));
      } catch (e) {
        // a logged destination DEST syntax cannot express is reported untraced; anything else is a bug
        if (e instanceof UsageError) return undefined;
        throw e;
      }
    }
    return traces.get(key);
  };
  for (const g of groups) {
    const plan = hasSidecar ? planFor(g, input.flags) : undefined;
    const t = plan ? traceOnce(plan.dest, plan.flags) : undefined;
    const cause: Cause = t ? classify({ trace: t, dest: { ip: g.addresses[0], host: g.host, port: g.port ?? 0, podNamespace: facts?.namespace }, view, dump: input.dump, flags: g.flags }) : { class: 'other', summary: hasSidecar ? 'the destination cannot be traced: the log line has no destination port' : 'no proxy configuration to trace with', objects: [], fixes: [], findings: [] };
    destinations.push({ destination: g.key, evidence: g, ...(t && plan ? { traced: { destination: plan.dest, verdict: t.verdict } } : {}), cause: { class: cause.class, summary: cause.summary, objects: cause.objects } });
    const subject = { kind: 'Destination', name: g.key };
    const ev = evidenceLines(g, t);
    if (g.observation === 'blackhole') {
      if (t && !isBlackholeClass(cause.class)) {
        findings.push(newFinding('BlackholeNotReproduced', { dest: g.key, seen: seenText(g), now: `${t.verdict.code ?? 'UNDETERMINED'} (${t.verdict.summary})` }, { subject, evidence: ev }));
      } else {
        blackholed = true;
        findings.push(newFinding('BlackholedTrafficSeen', { dest: g.key, seen: seenText(g), cause: cause.summary }, { subject, evidence: ev, fixes: cause.fixes }));
      }
      findings.push(...cause.findings);
    } else if (g.observation === 'passthrough') {
      if (cause.findings.length) findings.push(...cause.findings.map((f) => ({ ...f, severity: 'warning' as const })));
      else findings.push(newFinding('PassthroughTrafficSeen', { dest: g.key, seen: seenText(g) }, { subject, evidence: ev, fixes: cause.fixes }));
    } else {
      const reason = g.details.length ? g.details.join(', ') : 'no failure reason logged';
      const configCause = t !== undefined && isBlackholeClass(cause.class) && cause.class !== 'other';
      const explained = configCause ? `; the configuration explains it: ${cause.summary.replace(/\.$/, '')}` : '; check the destination, firewalls and NetworkPolicy on the way';
      findings.push(newFinding('UpstreamFailuresSeen', { dest: g.key, seen: seenText(g), what: `${reason}${explained}` }, { subject, evidence: ev, fixes: configCause ? cause.fixes : [], ...(configCause ? { severity: 'error' as const } : {}) }));
      if (configCause) blackholed = true;
      findings.push(...cause.findings);
    }
  }

  // ---- DEST ----
  let query: WhyBlackholeReport['query'];
  if (input.dest !== undefined) {
    const t = tracer(input.dest, input.flags);
    const cause = classify({ trace: t, dest: { ip: t.request.address?.text, host: parseIp(t.request.host) ? undefined : t.request.host, port: t.request.port, podNamespace: facts?.namespace ?? t.proxy.namespace }, view, dump: input.dump });
    const seen = groups.find((g) => sameDestination(g, t));
    query = { destination: input.dest, ...(seen ? { evidence: seen } : {}), traced: { destination: input.dest, verdict: t.verdict }, cause: { class: cause.class, summary: cause.summary, objects: cause.objects }, trace: t };
    findings.push(...t.findings, ...cause.findings);
    if (t.verdict.code !== null && FAILING_VERDICTS.has(t.verdict.code)) blackholed = true;
  }

  // ---- what the evidence could not show ----
  const counted = summary ? summary.blackhole.tcpConnections + summary.blackhole.httpRequests + (summary.raw.blackholeConnections ?? 0) : 0;
  const namedBlackholes = groups.filter((g) => g.observation === 'blackhole').length;
  if (counted > 0 && namedBlackholes === 0 && summary) {
    const counts = [
      ...(summary.blackhole.tcpConnections ? [`${plural(summary.blackhole.tcpConnections, 'TCP connection')} in istio_tcp_connections_closed_total`] : []),
      ...(summary.blackhole.httpRequests ? [`${plural(summary.blackhole.httpRequests, 'request')} in istio_requests_total`] : []),
      ...(summary.raw.blackholeConnections ? [`${plural(summary.raw.blackholeConnections, 'connection')} in cluster.BlackHoleCluster.upstream_cx_total`] : []),
    ].join(', ');
    const why = configured.state === 'off' ? 'access logging is off for this proxy (see MEG065)' : !accessLog.read ? 'the access log could not be read' : `no access-log line in ${input.accessLog.what} shows them (the counters add up since the proxy started; older lines are outside the window)`;
    findings.push(newFinding('BlackholeCountsWithoutDestinations', { counts, why }, { evidence: [`${input.stats.what}: destination_service_name="BlackHoleCluster"`] }));
    blackholed = true;
  }
  if (hasSidecar && summary && !summary.istioMetrics) {
    findings.push(newFinding('StandardMetricsMissing', { why: 'a Telemetry resource may disable them (metrics overrides) or the mesh has no Prometheus metrics provider' }, { fixes: [metricsFix(root)] }));
  }
  const noLogs = configured.state === 'off' || (!accessLog.read && logText === undefined);
  if (hasSidecar && rawIncluded === false && (noLogs || (summary !== undefined && !summary.istioMetrics))) {
    const who = describeProxy(input.dump?.bootstrap());
    const target = workloadTarget(facts?.owner ?? who.owner, who.workloadName);
    findings.push(newFinding('RawBlackholeStatsExcluded', { what: `The proxy's stats inclusion list (bootstrap stats_matcher: ${inclusion.patterns.join(', ')}) drops cluster.BlackHoleCluster.*, cluster.PassthroughCluster.* and listener.*.no_filter_chain_match${noLogs ? ', and access logging is off: black-holed connections are neither logged with their destination nor counted by Envoy' : ''}.` }, { fixes: [statsFix(target, facts?.namespace ?? who.namespace ?? 'default', pod as KubeObject | undefined)] }));
  }
  // evidence that could have shown black-holed traffic: a log with access logging on, or counters
  const logsUseful = accessLog.read && (configured.state !== 'off' || entries.length > 0);
  const statsUseful = summary !== undefined && (summary.istioMetrics || rawIncluded === true);
  const anyEvidence = logsUseful || statsUseful;
  if (anyEvidence && input.dest === undefined && groups.length === 0 && counted === 0) {
    const sources = [...(logsUseful ? [`${plural(entries.length, 'access-log entry', 'access-log entries')} in ${input.accessLog.what}`] : []), ...(statsUseful ? [`${input.stats.what}`] : [])].join(', ');
    findings.push(newFinding('NoBlackholeEvidence', { window: logsUseful ? input.accessLog.what : input.stats.what, sources }));
  }

  const proxyInfo = describeProxy(input.dump?.bootstrap());
  return {
    source: input.source,
    ...(facts ? { pod: `${facts.namespace}/${facts.name}` } : proxyInfo.podName ? { pod: `${proxyInfo.namespace ?? '?'}/${proxyInfo.podName}` } : {}),
    ...(input.dump ? { proxy: { type: proxyInfo.type, ...(proxyInfo.istioVersion ? { istioVersion: proxyInfo.istioVersion } : {}) } } : {}),
    evidence: { accessLog, stats },
    destinations,
    ...(query ? { query } : {}),
    findings: sortFindings(findings),
    blackholed,
  };
}

export type { Observation, Responsible };
