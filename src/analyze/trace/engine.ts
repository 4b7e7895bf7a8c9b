/**
 * The trace engine: emulates, hop by hop, what a sidecar (or gateway) does with one connection,
 * from the proxy's own configuration. Each stage adds a hop; the first stage that decides the
 * fate of the connection produces the verdict.
 *
 *   capture (iptables) → entry listener (virtualOutbound, use_original_dst) → hand-off to the
 *   listener for the original destination → listener filters (protocol detection) → filter
 *   chain → network filters → [HTTP: route configuration → virtual host → route] → cluster →
 *   endpoints
 */
import type { ConfigDump, ListenerRef } from '../../model/config-dump.js';
import type { FilterChain, HttpConnectionManager, Listener, NetworkFilter, Route } from '../../model/envoy-types.js';
import { availability, discoveryType, endpointsOf, tlsOrigination, type EndpointInfo } from '../../envoy/cluster.js';
import { chainLabel, describeMatch, selectFilterChain, type ChainSelection } from '../../envoy/filter-chain.js';
import { filterConfig, filterLabel, hcmConfig, isPassiveHttpFilter, networkFilterKind, tcpProxyConfig } from '../../envoy/filters.js';
import { clusterNotFoundStatus, hcmHost, normalizePath, redirectStatus, selectRoute, selectVirtualHost } from '../../envoy/http-route.js';
import { isUnspecified, parseIp } from '../../envoy/ip.js';
import { istioMetadata, parseServiceCluster } from '../../envoy/istio-names.js';
import { runListenerFilters, NOTHING_DETECTED, type ClientHello, type DetectedState, type ListenerFilterResult } from '../../envoy/listener-filters.js';
import { formatMs, toNumber } from '../../envoy/values.js';
import { newFinding } from '../catalog.js';
import { sortFindings, type Fix } from '../finding.js';
import { blameCluster, blameRoute, clusterRole, listenerOwners, outboundPolicy, ownerLabel, responsibleOf, type Owner } from './attribution.js';
import { captureSettings, podAddresses, runCapture } from './capture.js';
import { TraceContext } from './context.js';
import { literalDestination, resolveDestination, type ResolvedDestination } from './destination.js';
import { allowAnyFix, detectionTimeoutFix, excludeRangeFix, serviceAndEndpointsFix, serviceEntryFix, type DestinationFacts } from './fixes.js';
import { clientHello, destinationLabel } from './request.js';
import type { OutboundPolicy, Trace, TraceRequest, Verdict, VerdictCode, WeightedTarget } from './types.js';

/** The Envoy objects on the path so far, copied into the verdict. */
interface PathSoFar {
  listener?: string;
  filterChain?: string;
  routeConfig?: string;
  virtualHost?: string;
  route?: string;
  cluster?: string;
}

/** How traffic reached a catch-all, to explain BLACKHOLE/PASSTHROUGH. */
type CatchAllKind = 'virtualOutbound' | 'default_filter_chain' | 'allow_any' | 'block_all' | undefined;

interface Walk {
  readonly ctx: TraceContext;
  readonly dest: ResolvedDestination;
  readonly hello: ClientHello;
  readonly path: PathSoFar;
  catchAll: CatchAllKind;
  policy: { policy: OutboundPolicy; cluster?: string } | undefined;
  delayMs?: number;
  /** the listener the connection was handed to, and whether it is a shared wildcard listener */
  target?: { ref: ListenerRef; listener: Listener; wildcard: boolean };
  /** PortSharedWithOtherServices already reported */
  sharedReported: boolean;
  /** the connection was redirected to the inbound side (the pod calling itself) */
  inbound: boolean;
  /** a sidecar (traffic capture), as opposed to a gateway */
  sidecar: boolean;
}

type Mode = 'tcp' | 'http';

interface End {
  readonly code: VerdictCode | null;
  readonly outcome: string;
  readonly flag?: string;
  readonly summary: string;
  readonly targets?: readonly WeightedTarget[];
}

export function runTrace(dump: ConfigDump, request: TraceRequest): Trace {
  const ctx = new TraceContext(dump, request);
  const early = untraceable(ctx);
  const dest = early ? literalDestination(ctx) : resolveDestination(ctx);
  const w: Walk = { ctx, dest, hello: clientHello(request), path: {}, catchAll: undefined, policy: undefined, sharedReported: false, inbound: false, sidecar: false };
  const end = early ?? walk(w);
  const verdict: Verdict = {
    code: end.code,
    summary: end.summary,
    ...w.path,
    ...(end.flag !== undefined ? { responseFlag: end.flag } : {}),
    outcome: end.outcome,
    responsible: ctx.responsible,
    ...(w.policy ? { outboundTrafficPolicy: w.policy.policy } : {}),
    ...(w.delayMs !== undefined ? { delayMs: w.delayMs } : {}),
    ...(end.targets ? { targets: end.targets } : {}),
  };
  return {
    request,
    proxy: {
      ...(ctx.proxy.id ? { id: ctx.proxy.id } : {}),
      type: ctx.proxy.type,
      ...(ctx.proxy.namespace ? { namespace: ctx.proxy.namespace } : {}),
      ...(ctx.proxy.podName ? { pod: ctx.proxy.podName } : {}),
      ips: ctx.request.podIp ? [ctx.request.podIp.text] : ctx.proxy.ips,
      ...(ctx.proxy.istioVersion ? { istioVersion: ctx.proxy.istioVersion } : {}),
    },
    hops: ctx.hops,
    verdict,
    findings: sortFindings(ctx.findings),
    assumptions: ctx.assumptions,
  };
}

/** The trace of a pod that has no sidecar: nothing captures its traffic. */
export function traceWithoutSidecar(request: TraceRequest, pod: string, why: string): Trace {
  const label = destinationLabel(request);
  return {
    request,
    proxy: { type: 'none', ips: request.podIp ? [request.podIp.text] : [], ...(request.workload ? { pod: request.workload.pod, namespace: request.workload.namespace } : {}) },
    hops: [{ stage: 'capture', result: 'no sidecar: leaves the pod directly', details: [`pod ${pod} has no istio-proxy container, so no iptables capture rules either`] }],
    verdict: {
      code: 'NOT_CAPTURED',
      summary: `Pod ${pod} has no sidecar: the connection to ${label} goes directly to the destination, without mesh policy, telemetry or mTLS.`,
      outcome: 'bypass',
      responsible: [],
    },
    findings: [newFinding('PodWithoutSidecar', { pod, why })],
    assumptions: [],
  };
}

/** Inputs that cannot be traced at all: said before anything else is attempted. */
function untraceable(ctx: TraceContext): End | undefined {
  const anyDynamic = ctx.dump.listenerRefs().some((r) => r.section !== 'static_listeners');
  if (!ctx.dump.present.listeners || (!anyDynamic && !ctx.proxy.fromBootstrap)) {
    ctx.report(
      newFinding('InputIncomplete', {
        missing: ctx.dump.present.listeners ? 'dynamic listeners and no bootstrap (so not even the kind of proxy is known)' : 'listeners',
        consequence: 'the connection cannot be traced',
        remedy: 'Capture the full dump: kubectl exec POD -c istio-proxy -- pilot-agent request GET config_dump > dump.json',
      }),
    );
    return { code: null, outcome: 'unknown', summary: 'Cannot tell: the input has no listeners to trace.' };
  }
  if (ctx.proxy.type === 'waypoint' || ctx.proxy.type === 'ztunnel') {
    ctx.report(newFinding('NotEmulated', { what: `A ${ctx.proxy.type} proxy (ambient mode: HBONE tunnels and internal listeners)`, impact: 'trace emulates sidecars and gateways only; trace the client pod\'s sidecar, or a gateway, instead' }));
    return { code: null, outcome: 'unknown', summary: `Cannot tell: this is a ${ctx.proxy.type} proxy (ambient mode), which trace does not emulate yet.` };
  }
  return undefined;
}

function walk(w: Walk): End {
  const { ctx } = w;
  w.sidecar = isSidecar(ctx);
  if (w.sidecar) {
    w.policy = outboundPolicy(ctx);
    return captureStage(w);
  }
  return gatewayStage(w);
}

function isSidecar(ctx: TraceContext): boolean {
  if (ctx.proxy.type === 'sidecar') return true;
  if (ctx.proxy.type !== 'unknown') return false;
  const vo = ctx.listeners().boundOn(15001);
  const sidecar = vo !== undefined && ctx.listener(vo).use_original_dst === true;
  ctx.assume(
    sidecar
      ? 'the input has no bootstrap; the proxy is taken for a sidecar because it has a use_original_dst listener on 15001'
      : 'the input has no bootstrap and no virtualOutbound listener; the proxy is treated as a gateway (no traffic capture)',
  );
  return sidecar;
}

// ---- capture ------------------------------------------------------------------------------

/** A TEST-NET-1 address: stands for "some address outside every configured range" when only a hostname is known. */
const UNKNOWN_ADDRESS = parseIp('192.0.2.1')!;

function captureStage(w: Walk): End {
  const { ctx, dest } = w;
  const settings = captureSettings(ctx);
  if (!dest.ip && (settings.excludeIpRanges.trim() !== '' || settings.includeIpRanges.trim() !== '*')) {
    ctx.assume(`the address of ${dest.host} is unknown: assumed outside the capture include/exclude ranges`);
  }
  const result = runCapture(ctx, settings, dest.ip ?? UNKNOWN_ADDRESS);
  const ruleText = result.rule?.text ?? (settings.mode === 'NONE' ? 'interception mode NONE: no rules' : 'no rule matched');
  const src = Object.entries(settings.sources)
    .filter(([k, v]) => v !== 'injector default' && ['includeIpRanges', 'excludeIpRanges', 'includeOutboundPorts', 'excludeOutboundPorts', 'mode', 'redirectDns'].includes(k))
    .map(([k, v]) => `${k} from ${v}`);
  const details = [
    `interception mode ${settings.mode}; includeOutboundIPRanges "${settings.includeIpRanges}", excludeOutboundIPRanges "${settings.excludeIpRanges}", excludeOutboundPorts "${settings.excludeOutboundPorts}", includeOutboundPorts "${settings.includeOutboundPorts}"${settings.redirectDns ? ', DNS capture on' : ''}`,
    ...(src.length ? [`settings: ${src.join(', ')}`] : []),
    ...result.path.map((r) => `matched: ${r.text}  (${r.purpose})`),
  ];
  if (result.outcome === 'inbound') {
    // the connection enters the proxy's inbound side: the same listener machinery applies
    ctx.hop({ stage: 'capture', result: `redirected to ${result.port} (inbound listener)`, details: [...details, result.rule?.purpose ?? ''] });
    w.inbound = true;
    return entryListenerStage(w, result.port ?? 15006);
  }
  if (result.outcome === 'bypass') {
    const reason = result.rule
      ? result.rule.purpose
      : settings.mode === 'NONE'
        ? 'interception mode NONE installs no capture rules'
        : dest.ip?.family === 6 && !settings.ipv6
          ? 'the pod has no IPv6 capture rules (not dual-stack)'
          : 'no capture rule matches (the destination is outside includeOutboundIPRanges)';
    ctx.hop({ stage: 'capture', result: 'not captured: leaves the pod directly', details: [...details, reason] });
    if (result.rule?.text.includes('--uid-owner') && !result.rule.text.includes('!')) ctx.report(newFinding('AppRunsAsProxyUid', { uid: ctx.request.uid ?? 1337 }));
    ctx.report(newFinding('TrafficNotCaptured', { dest: dest.label, reason, rule: ruleText }, { evidence: result.rule ? [result.rule.text] : [] }));
    return {
      code: 'NOT_CAPTURED',
      outcome: 'bypass',
      summary: `The connection to ${dest.label} is not captured by the sidecar (${reason}); it goes directly to the destination.`,
    };
  }
  if (result.outcome === 'dns') {
    ctx.hop({ stage: 'capture', result: `redirected to ${result.port} (istio-agent DNS proxy)`, details });
    ctx.report(newFinding('DnsHandledByAgent', { dest: dest.label }, { evidence: [ruleText] }));
    if (!ctx.request.capture.dnsCapture) ctx.assume('DNS capture redirects port 53 to every server (CNI); with istio-init only the pod\'s resolv.conf servers are captured');
    w.path.listener = 'istio-agent DNS proxy :15053';
    return { code: 'ROUTED', outcome: 'forwarded', flag: '-', summary: `DNS traffic to ${dest.label} is answered by the istio-agent DNS proxy on port 15053, which forwards names it does not know to the real DNS server.` };
  }
  ctx.hop({ stage: 'capture', result: `redirected to ${result.port}`, details });
  return entryListenerStage(w, result.port ?? 15001);
}

// ---- listeners ----------------------------------------------------------------------------

function entryListenerStage(w: Walk, port: number): End {
  const { ctx, dest } = w;
  const entryRef = ctx.listeners().boundOn(port);
  if (!entryRef) {
    const inactive = ctx.dump.listenerRefs().filter((r) => r.addresses.some((a) => a.port === port));
    for (const r of inactive) {
      ctx.report(newFinding('ListenerNotServing', { listener: r.name, state: r.state, details: r.errorDetails ?? '' }, { evidence: [ctx.listenerPath(r)] }));
    }
    ctx.hop({ stage: 'listener', result: `no listener bound on port ${port}`, details: ['iptables redirected the connection here, but nothing accepts it'] });
    ctx.report(newFinding('NoOutboundListener', { port }));
    return { code: 'NO_LISTENER', outcome: 'refused', flag: '-', summary: `The connection to ${dest.label} is redirected to port ${port}, where the proxy has no listener: the application gets "connection refused".` };
  }
  const entry = ctx.listener(entryRef);
  const entryFilters = runListenerFilters(entry, w.hello, ctx.request.port);
  const stalled = stallEnd(w, entryRef, entryFilters);
  if (stalled) return stalled;
  if (!entry.use_original_dst) {
    ctx.hop({ stage: 'listener', result: `${entryRef.name} (no use_original_dst)`, object: entryRef.name, details: ['the connection stays on the capture listener and uses its own filter chains'], evidence: ctx.listenerPath(entryRef) });
    return listenerFiltersStage(w, entryRef, entry, entryFilters.state, true);
  }
  const match = ctx.listeners().lookup(dest.ip, ctx.request.port);
  for (const r of match.inactive) {
    ctx.report(newFinding('ListenerNotServing', { listener: r.name, state: r.state, details: r.errorDetails ?? '' }, { evidence: [ctx.listenerPath(r)] }));
  }
  if (!match.ref || match.ref === entryRef) {
    const why = match.ref === entryRef ? `the original destination port ${ctx.request.port} is the capture port itself` : `no listener for ${dest.ip ? `${dest.ip.text}:${ctx.request.port}` : `port ${ctx.request.port}`} or 0.0.0.0:${ctx.request.port}`;
    ctx.hop({
      stage: 'listener',
      result: `${entryRef.name}: stays (no hand-off)`,
      object: entryRef.name,
      details: [`${entryRef.name} restores the original destination (use_original_dst) and looks for a listener bound to it: ${why}`, 'the connection is handled by this listener\'s own filter chains'],
      evidence: ctx.listenerPath(entryRef),
    });
    return listenerFiltersStage(w, entryRef, entry, entryFilters.state, true);
  }
  const target = ctx.listener(match.ref);
  const wildcard = match.how === 'wildcard';
  w.target = { ref: match.ref, listener: target, wildcard };
  ctx.hop({
    stage: 'listener',
    result: `${entryRef.name} → ${match.ref.name} (${match.how === 'exact' ? 'exact address' : 'wildcard address'})`,
    object: match.ref.name,
    details: [
      `${entryRef.name} restores the original destination and hands the connection to the listener registered for ${match.address}`,
      ...(wildcard && dest.ip ? [`no listener is bound to ${dest.ip.text}:${ctx.request.port} itself`] : []),
      ...(target.bind_to_port === false || target.deprecated_v1?.bind_to_port === false ? ['bind_to_port: false: it only receives handed-off connections'] : []),
    ],
    evidence: ctx.listenerPath(match.ref),
  });
  return listenerFiltersStage(w, match.ref, target, entryFilters.state, false);
}

function gatewayStage(w: Walk): End {
  const { ctx, dest } = w;
  const match = ctx.listeners().lookup(dest.ip, ctx.request.port);
  for (const r of match.inactive) ctx.report(newFinding('ListenerNotServing', { listener: r.name, state: r.state, details: r.errorDetails ?? '' }, { evidence: [ctx.listenerPath(r)] }));
  if (!match.ref) {
    ctx.hop({ stage: 'listener', result: `no listener on port ${ctx.request.port}`, details: [`this ${ctx.proxy.type === 'unknown' ? 'proxy' : ctx.proxy.type} has no traffic capture; nothing listens on ${dest.label}`] });
    return { code: 'NO_LISTENER', outcome: 'refused', flag: '-', summary: `Nothing in this proxy listens on ${dest.label}: the client gets "connection refused".` };
  }
  const listener = ctx.listener(match.ref);
  ctx.hop({ stage: 'listener', result: `${match.ref.name} (${match.how} address)`, object: match.ref.name, details: [`the proxy accepts the connection on ${match.address}`], evidence: ctx.listenerPath(match.ref) });
  w.target = { ref: match.ref, listener, wildcard: match.how === 'wildcard' };
  return listenerFiltersStage(w, match.ref, listener, NOTHING_DETECTED, false);
}

function stallEnd(w: Walk, ref: ListenerRef, r: ListenerFilterResult): End | undefined {
  const { ctx } = w;
  if (r.rejectedBy) {
    ctx.hop({ stage: 'listener_filters', result: `${r.rejectedBy} rejects the connection`, object: ref.name, details: r.runs.map((x) => `${x.name}: ${x.note}`), evidence: ctx.listenerPath(ref, '.listener_filters') });
    return { code: 'PROTOCOL_MISMATCH', outcome: 'reset', flag: '-', summary: `Listener ${ref.name} expects a PROXY protocol header the application does not send: the connection is closed.` };
  }
  if (r.stall === 'none') return undefined;
  const waiting = r.runs.find((x) => x.waits);
  const inspector = waiting?.name ?? 'a listener filter';
  if (r.stall === 'delay') {
    w.delayMs = r.timeoutMs;
    ctx.report(newFinding('ProtocolDetectionDelay', { listener: ref.name, timeout: formatMs(r.timeoutMs) }, { evidence: [ctx.listenerPath(ref, `.listener_filters_timeout=${formatMs(r.timeoutMs)}`)], fixes: stallFixes(w, 1) }));
    return undefined;
  }
  const forever = r.stall === 'forever';
  const result = forever
    ? `listener_filters_timeout is ${r.timeoutExplicit ? formatMs(r.timeoutMs) : 'unset'} (no timer): the connection hangs until one side gives up`
    : `after ${formatMs(r.timeoutMs)} (listener_filters_timeout${r.timeoutExplicit ? '' : ', Envoy default'}) the socket is closed because continue_on_listener_filters_timeout is false`;
  ctx.hop({
    stage: 'listener_filters',
    result: forever ? `${inspector} waits forever` : `${inspector} times out, connection closed`,
    object: ref.name,
    details: [...r.runs.map((x) => `${x.name}: ${x.note}`), result],
    evidence: ctx.listenerPath(ref, '.listener_filters'),
  });
  w.path.listener = ref.name;
  blameListenerOwners(w, ref, 'owns the port whose listener sniffs the protocol');
  ctx.report(newFinding('ProtocolDetectionStall', { listener: ref.name, inspector, result }, { evidence: [ctx.listenerPath(ref, '.listener_filters')], fixes: stallFixes(w, 1) }));
  return {
    code: 'DETECTION_STALL',
    outcome: forever ? 'hang' : 'reset',
    flag: '-',
    summary: forever
      ? `The connection to ${w.dest.label} hangs: listener ${ref.name} waits for the client to speak first (${inspector}) with no timeout, but the protocol is server-first.`
      : `The connection to ${w.dest.label} is closed after ${formatMs(r.timeoutMs)}: listener ${ref.name} waits for the client to speak first (${inspector}).`,
  };
}

function listenerFiltersStage(w: Walk, ref: ListenerRef, listener: Listener, prior: DetectedState, isEntry: boolean): End {
  const { ctx } = w;
  w.path.listener = ref.name;
  const r = isEntry ? runListenerFilters({ ...listener, listener_filters: [] }, w.hello, ctx.request.port, prior) : runListenerFilters(listener, w.hello, ctx.request.port, prior);
  if (!isEntry) {
    const stalled = stallEnd(w, ref, r);
    if (stalled) return stalled;
  }
  if (r.runs.length > 0) {
    const timer = r.timeoutMs > 0 ? formatMs(r.timeoutMs) : 'none';
    ctx.hop({
      stage: 'listener_filters',
      result: describeDetected(r.state),
      object: ref.name,
      details: [...r.runs.map((x) => `${x.name}: ${x.note}`), `listener_filters_timeout: ${timer}${r.timeoutExplicit ? '' : ' (Envoy default)'}${w.delayMs !== undefined ? `; this connection waits ${formatMs(w.delayMs)} first` : ''}`],
      evidence: ctx.listenerPath(ref, '.listener_filters'),
    });
  }
  return filterChainStage(w, ref, listener, r.state);
}

function describeDetected(s: DetectedState): string {
  const transport = s.transportProtocol || 'raw_buffer';
  const parts = [`transport ${transport}`];
  if (s.serverName) parts.push(`SNI ${s.serverName}`);
  parts.push(`ALPN ${s.applicationProtocols.join(',') || '(none)'}`);
  return parts.join(', ');
}

// ---- filter chain -------------------------------------------------------------------------

function filterChainStage(w: Walk, ref: ListenerRef, listener: Listener, state: DetectedState): End {
  const { ctx, dest } = w;
  if (listener.filter_chain_matcher !== undefined) {
    ctx.report(newFinding('NotEmulated', { what: `Listener ${ref.name} uses filter_chain_matcher (the unified matcher API of waypoints/ambient)`, impact: 'the filter chain cannot be selected' }));
    ctx.hop({ stage: 'filter_chain', result: 'filter_chain_matcher: not emulated', object: ref.name, details: [], evidence: ctx.listenerPath(ref, '.filter_chain_matcher') });
    return { code: null, outcome: 'unknown', summary: `Cannot tell: listener ${ref.name} selects filter chains with filter_chain_matcher, which is not emulated.` };
  }
  const pods = podAddresses(ctx);
  const sel = selectFilterChain(listener, {
    destination: dest.ip,
    destinationPort: ctx.request.port,
    serverName: state.serverName,
    transportProtocol: state.transportProtocol || 'raw_buffer',
    applicationProtocols: state.applicationProtocols,
    source: pods[0],
    sourcePort: undefined,
  });
  for (const a of sel.assumptions) ctx.assume(a);
  if (sel.ambiguous.length > 1) {
    ctx.report(newFinding('AmbiguousFilterChains', { listener: ref.name, chains: sel.ambiguous.map((i) => chainLabel(listener, i)).join(', ') }));
  }
  const stepLines = sel.steps.map((s) => `${s.level} = ${s.value}: ${s.how === 'specific' ? `matched ${s.winner ?? ''} → ${s.kept.map((i) => chainLabel(listener, i)).join(', ')}` : s.how === 'unconstrained' ? `no chain matches it; chains without this condition remain: ${s.kept.map((i) => chainLabel(listener, i)).join(', ')}` : 'no chain left'}`);
  if (sel.index === undefined) {
    ctx.hop({ stage: 'filter_chain', result: 'no filter chain matches', object: ref.name, details: [...stepLines, 'no default_filter_chain'], evidence: ctx.listenerPath(ref, '.filter_chains') });
    const why = sel.failedAt ? `nothing matches at ${sel.failedAt}` : (listener.filter_chains ?? []).length === 0 ? 'the listener has no filter chains' : 'no chain accepts this connection';
    ctx.report(newFinding('NoFilterChainMatches', { listener: ref.name, why }, { evidence: [ctx.listenerPath(ref, '.filter_chains')] }));
    return { code: 'NO_FILTER_CHAIN', outcome: 'reset', flag: 'NR', summary: `The connection to ${dest.label} is closed by listener ${ref.name}: no filter chain matches it (${why}).` };
  }
  const chain = sel.chain!;
  const label = chainLabel(listener, sel.index);
  w.path.filterChain = label;
  // TCP/TLS routes of a VirtualService put its name on the chain (pilot/pkg/networking/core/tls.go BuildConfigInfoMetadata)
  for (const cfg of istioMetadata(chain.metadata).configs) ctx.blame({ kind: cfg.kind, name: cfg.name, namespace: cfg.namespace, role: `its TCP/TLS route builds filter chain ${label}` });
  const isDefault = sel.index === 'default';
  ctx.hop({
    stage: 'filter_chain',
    result: isDefault ? `${label} (default_filter_chain)` : label,
    object: label,
    details: [
      ...stepLines,
      ...(isDefault ? [`no filter chain matches${sel.failedAt ? ` (lost at ${sel.failedAt})` : ''}: the default_filter_chain takes the connection`] : [`match:${describeMatch(chain.filter_chain_match)}`]),
    ],
    evidence: ctx.listenerPath(ref, isDefault ? '.default_filter_chain' : `.filter_chains[${sel.index}]`),
  });
  return networkFiltersStage(w, ref, listener, chain, sel, state);
}

// ---- network filters ----------------------------------------------------------------------

function networkFiltersStage(w: Walk, ref: ListenerRef, listener: Listener, chain: FilterChain, sel: ChainSelection, state: DetectedState): End {
  const { ctx } = w;
  const filters = chain.filters ?? [];
  const notes: string[] = [];
  let sniCluster = false;
  let rewrite: { pattern: string; replacement: string } | undefined;
  let terminal: NetworkFilter | undefined;
  for (const f of filters) {
    const kind = networkFilterKind(f);
    const label = filterLabel(f);
    if (kind === 'tcp_proxy' || kind === 'http_connection_manager' || kind === 'other_terminal') {
      terminal = f;
      break;
    }
    if (kind === 'observer') notes.push(`${label}: observes only`);
    else if (kind === 'sni_cluster') {
      sniCluster = true;
      notes.push(`${label}: the tcp_proxy cluster becomes the SNI (${state.serverName || 'none sent'})`);
    } else if (kind === 'tcp_cluster_rewrite') {
      const cfg = filterConfig<{ cluster_pattern?: string; cluster_replacement?: string }>(f);
      if (cfg.cluster_pattern !== undefined) rewrite = { pattern: cfg.cluster_pattern, replacement: cfg.cluster_replacement ?? '' };
      notes.push(`${label}: rewrites the cluster name`);
    } else if (kind === 'policy') {
      notes.push(`${label}: may reject the connection (not evaluated)`);
      ctx.report(newFinding('NotEmulated', { what: `Network filter ${label} on listener ${ref.name}`, impact: 'it may deny or limit this connection; its policy is not evaluated and the verdict assumes it lets the connection through' }, { severity: 'warning' }));
    } else {
      notes.push(`${label}: unknown filter type, carried but not emulated`);
      ctx.report(newFinding('NotEmulated', { what: `Unknown network filter ${label} on listener ${ref.name}`, impact: 'it could change or stop this connection' }));
    }
  }
  if (chain.transport_socket || chain.tls_context) {
    notes.push('the chain terminates TLS from the client (transport_socket)');
    if (w.hello.kind !== 'tls') {
      ctx.hop({ stage: 'network_filters', result: 'expects TLS from the client', object: w.path.filterChain, details: notes });
      return { code: 'PROTOCOL_MISMATCH', outcome: 'reset', flag: '-', summary: `Filter chain ${w.path.filterChain} of ${ref.name} expects the client to start TLS, but it sends ${w.hello.kind === 'none' ? 'nothing' : 'plaintext'}: the handshake fails.` };
    }
  }
  if (!terminal) {
    ctx.hop({ stage: 'network_filters', result: filters.length ? 'no terminal filter' : 'no filters', object: w.path.filterChain, details: notes });
    ctx.report(newFinding('NoFilterChainMatches', { listener: ref.name, why: `the matched chain ${w.path.filterChain} ${filters.length ? 'has no terminal filter (tcp_proxy or http_connection_manager)' : 'has no network filters, so Envoy closes it (no_filters)'}` }));
    return { code: 'NO_FILTER_CHAIN', outcome: 'reset', flag: '-', summary: `The connection to ${w.dest.label} is closed: filter chain ${w.path.filterChain} of ${ref.name} has no filter that forwards it.` };
  }
  const kind = networkFilterKind(terminal);
  if (kind === 'other_terminal') {
    ctx.hop({ stage: 'network_filters', result: `${filterLabel(terminal)} (not emulated)`, object: w.path.filterChain, details: notes });
    ctx.report(newFinding('NotEmulated', { what: `Terminal network filter ${filterLabel(terminal)}`, impact: 'where it sends the connection cannot be told' }));
    return { code: null, outcome: 'unknown', summary: `Cannot tell: ${filterLabel(terminal)} handles the connection and is not emulated.` };
  }
  if (kind === 'http_connection_manager') {
    ctx.hop({ stage: 'network_filters', result: 'http_connection_manager', object: w.path.filterChain, details: [...notes, `${filterLabel(terminal)}: parses the bytes as HTTP and routes by Host`] });
    return httpStage(w, ref, hcmConfig(terminal), sel);
  }
  // tcp_proxy
  const tp = tcpProxyConfig(terminal);
  let clusters: { name: string; weight: number }[];
  if (tp.cluster) clusters = [{ name: tp.cluster, weight: 100 }];
  else clusters = (tp.weighted_clusters?.clusters ?? []).map((c) => ({ name: c.name ?? '', weight: toNumber(c.weight) ?? 0 }));
  if (sniCluster && state.serverName && tp.cluster) clusters = [{ name: state.serverName, weight: 100 }];
  if (rewrite) {
    try {
      const re = new RegExp(rewrite.pattern);
      clusters = clusters.map((c) => ({ ...c, name: c.name.replace(re, rewrite!.replacement) }));
    } catch {
      ctx.report(newFinding('NotEmulated', { what: `tcp_cluster_rewrite pattern ${JSON.stringify(rewrite.pattern)}`, impact: 'the rewritten cluster name is unknown' }));
    }
  }
  if (tp.tunneling_config) notes.push('tcp_proxy tunnels the connection (HBONE/CONNECT): the upstream is a tunnel endpoint');
  ctx.hop({
    stage: 'network_filters',
    result: `tcp_proxy → ${clusters.map((c) => (clusters.length > 1 ? `${c.name} (${c.weight})` : c.name)).join(', ') || '(no cluster)'}`,
    object: w.path.filterChain,
    details: [...notes, `${filterLabel(terminal)}: forwards the bytes unchanged`],
  });
  if (clusters.length === 0) {
    ctx.report(newFinding('ClusterMissing', { cluster: '(none)', why: 'is not set on the tcp_proxy', result: 'Envoy closes the connection' }));
    return { code: 'NO_CLUSTER', outcome: 'reset', flag: ctx.noClusterFlag(), summary: `tcp_proxy on ${ref.name} names no cluster: the connection is closed.` };
  }
  analyseTcpChainScope(w, ref, listener, sel, clusters[0]!.name);
  return clustersEnd(w, clusters, 'tcp', undefined);
}

/** A match-all TCP chain on a wildcard listener captures every address on the port (IST0134). */
function analyseTcpChainScope(w: Walk, ref: ListenerRef, listener: Listener, sel: ChainSelection, cluster: string): void {
  // on a gateway a match-all TCP chain on 0.0.0.0_PORT is the Gateway server itself
  if (!w.sidecar || w.inbound || !w.target?.wildcard || sel.index === 'default') return;
  const m = (typeof sel.index === 'number' ? listener.filter_chains?.[sel.index]?.filter_chain_match : undefined) ?? {};
  const narrowed = (m.prefix_ranges?.length ?? 0) > 0 || (m.server_names?.length ?? 0) > 0;
  const svc = parseServiceCluster(cluster);
  if (narrowed || !svc) return;
  const addr = ref.addresses[0];
  if (!addr || !isUnspecified(parseIp(addr.address) ?? UNKNOWN_ADDRESS)) return;
  w.ctx.report(
    newFinding(
      'ServiceEntryWithoutAddressesCapturesPort',
      { listener: ref.name, port: w.ctx.request.port, cluster },
      {
        evidence: [w.ctx.listenerPath(ref, `.filter_chains[${String(sel.index)}]`)],
        fixes: [
          {
            rank: 1,
            title: `Give ${svc.host} addresses, or limit where it is visible`,
            tradeoffs: `With addresses (or DNS auto-allocation, ISTIO_META_DNS_AUTO_ALLOCATE) Istio builds an IP-specific listener and port ${w.ctx.request.port} is free for other destinations; exportTo or a Sidecar egress list keeps it away from namespaces that do not need it.`,
            kind: 'text',
            content: `In the ServiceEntry for ${svc.host}: add spec.addresses (the IPs it resolves to), or set spec.exportTo: ["."]`,
          },
        ],
      },
    ),
  );
  w.ctx.blame({ kind: 'ServiceEntry', host: svc.host, role: `its TCP port ${svc.port} without addresses captures every destination on port ${svc.port}` });
}

// ---- HTTP ---------------------------------------------------------------------------------

function httpStage(w: Walk, ref: ListenerRef, hcm: HttpConnectionManager, sel: ChainSelection): End {
  const { ctx, dest } = w;
  const req = ctx.request;
  for (const f of hcm.http_filters ?? []) {
    if (!isPassiveHttpFilter(f)) {
      ctx.report(newFinding('NotEmulated', { what: `HTTP filter ${filterLabel(f)} on listener ${ref.name}`, impact: 'it may reject or alter the request before routing; the verdict assumes it lets the request through' }, { severity: 'warning' }));
    }
  }
  // what reaches the codec
  const nonHttp =
    w.hello.kind === 'opaque'
      ? { what: 'non-HTTP bytes', result: 'the HTTP/1 codec rejects them with "HTTP/1.1 400 Bad Request" and closes the connection (DPE, http1.codec_error)', outcome: '400', flag: 'DPE' }
      : w.hello.kind === 'tls'
        ? { what: 'a TLS ClientHello', result: 'the HTTP/1 codec rejects it with "HTTP/1.1 400 Bad Request" and closes the connection (DPE, http1.codec_error)', outcome: '400', flag: 'DPE' }
        : w.hello.kind === 'none'
          ? { what: 'nothing (the protocol is server-first)', result: 'both sides wait for the other: the connection hangs until an idle timeout', outcome: 'hang', flag: '-' }
          : w.hello.kind === 'h2c' && hcm.codec_type === 'HTTP1'
            ? { what: 'an HTTP/2 preface', result: 'the HTTP/1-only codec rejects it (400, DPE)', outcome: '400', flag: 'DPE' }
            : w.hello.kind === 'http1' && hcm.codec_type === 'HTTP2'
              ? { what: 'HTTP/1.1', result: 'the HTTP/2-only codec rejects it and closes the connection (DPE)', outcome: 'reset', flag: 'DPE' }
              : undefined;
  if (nonHttp) {
    ctx.hop({ stage: 'http_route', result: `protocol error: ${nonHttp.what} into an HTTP connection manager`, object: ref.name, details: [nonHttp.result] });
    const owners = blameListenerOwners(w, ref, 'owns the port whose listener handles all traffic as HTTP');
    const m = typeof sel.index === 'number' ? (sel.chain?.filter_chain_match ?? {}) : {};
    const matchAll = !m.application_protocols?.length && !m.transport_protocol && !m.server_names?.length;
    ctx.report(
      newFinding('NonHttpIntoHttpManager', { listener: ref.name, what: nonHttp.what, result: nonHttp.result }, { evidence: [ctx.listenerPath(ref, sel.index === 'default' ? '.default_filter_chain' : `.filter_chains[${String(sel.index)}]`)], fixes: swallowFixes(w, matchAll) }),
    );
    return {
      code: 'PROTOCOL_MISMATCH',
      outcome: nonHttp.outcome,
      flag: nonHttp.flag,
      summary: `The connection to ${dest.label} never leaves the pod: listener ${ref.name}${owners.length ? ` (created for ${owners.slice(0, 3).map(ownerLabel).join(', ')}${owners.length > 3 ? ', …' : ''})` : ''} treats all traffic on port ${req.port} as HTTP, and the client sends ${nonHttp.what}.`,
    };
  }
  // route configuration
  const rcName = hcm.route_config ? (hcm.route_config.name ?? '(inline)') : hcm.rds?.route_config_name;
  if (hcm.scoped_routes !== undefined && !hcm.route_config && !hcm.rds) {
    ctx.report(newFinding('NotEmulated', { what: 'Scoped route configuration (scoped_routes)', impact: 'the route cannot be selected' }));
    return { code: null, outcome: 'unknown', summary: 'Cannot tell: the HTTP connection manager uses scoped routes, which are not emulated.' };
  }
  const rc = hcm.route_config ?? (rcName ? ctx.dump.routeConfig(rcName) : undefined);
  w.path.routeConfig = rcName;
  if (!rc) {
    if (!ctx.dump.present.routes) {
      ctx.report(newFinding('InputIncomplete', { missing: 'route configurations', consequence: `the HTTP route for Host ${req.hostHeader} cannot be chosen (route configuration ${rcName})`, remedy: 'Capture the full config dump (all sections), not only listeners.' }));
      ctx.hop({ stage: 'http_route', result: `route configuration ${rcName}: not in the input`, details: [] });
      return { code: null, outcome: 'unknown', summary: `Cannot tell: listener ${ref.name} routes HTTP with route configuration ${rcName}, which is not in the input.` };
    }
    ctx.hop({ stage: 'http_route', result: `route configuration ${rcName}: missing`, details: ['the proxy has not received this RDS resource: Envoy has no routes for it'] });
    ctx.report(newFinding('NoRouteForRequest', { routeConfig: rcName ?? '(none)', host: req.hostHeader ?? req.host, path: req.path, why: 'the route configuration itself is missing from the proxy' }));
    return { code: 'NO_ROUTE', outcome: '404', flag: 'NR', summary: `Listener ${ref.name} routes HTTP with route configuration ${rcName}, which the proxy does not have: 404 (NR).` };
  }
  const host = hcmHost(hcm, req.hostHeader ?? req.host, req.port);
  const vm = selectVirtualHost(rc, host);
  const path = normalizePath(hcm, req.path);
  if (!vm.vhost) {
    ctx.hop({ stage: 'http_route', result: `route configuration ${rcName}: no virtual host for ${vm.comparedHost}`, details: [`${(rc.virtual_hosts ?? []).length} virtual hosts, none with a matching domain and no "*"`] });
    ctx.report(newFinding('NoRouteForRequest', { routeConfig: rcName ?? '(inline)', host, path, why: 'no virtual host has a matching domain' }));
    return { code: 'NO_ROUTE', outcome: '404', flag: 'NR', summary: `No virtual host of route configuration ${rcName} matches Host ${host}: Envoy answers 404 (NR).` };
  }
  const vh = vm.vhost;
  w.path.virtualHost = vh.name ?? `#${vm.index}`;
  const vhDetail = `virtual host ${vh.name} (${vm.how === 'default' ? 'default "*"' : `${vm.how} domain ${vm.domain}`}) for Host ${vm.comparedHost}${rc.ignore_port_in_host_matching ? ' (port ignored)' : ''}`;
  if ((vh.require_tls === 'ALL' || vh.require_tls === 2) && w.hello.kind !== 'tls') {
    ctx.hop({ stage: 'http_route', result: `${vh.name}: require_tls ALL`, details: [vhDetail, 'plaintext requests are redirected to https'] });
    return { code: 'DIRECT_RESPONSE', outcome: '301', flag: '-', summary: `Virtual host ${vh.name} requires TLS: the plaintext request is redirected with 301.` };
  }
  const rm = selectRoute(vh, { host, path, method: req.method, scheme: 'http', headers: req.headers, tlsPresented: false });
  for (const c of rm.caveats) ctx.assume(c);
  if (!rm.route) {
    ctx.hop({ stage: 'http_route', result: `${vh.name}: no route matches ${req.method} ${path}`, details: [vhDetail, `${(vh.routes ?? []).length} routes tried`] });
    ctx.report(newFinding('NoRouteForRequest', { routeConfig: rcName ?? '(inline)', host, path, why: `virtual host ${vh.name} has no route matching ${req.method} ${path}` }));
    return { code: 'NO_ROUTE', outcome: '404', flag: 'NR', summary: `Virtual host ${vh.name} has no route for ${req.method} ${path}: Envoy answers 404 (NR).` };
  }
  const route = rm.route;
  const routeName = route.name ?? `#${rm.index}`;
  w.path.route = routeName;
  blameRoute(ctx, route.metadata, routeName);
  const routeDetails = [vhDetail, `route ${routeName}: ${describeRouteMatch(route)}`, ...faultNotes(route)];
  // block_all: Istio's REGISTRY_ONLY catch-all virtual host (pilot/pkg/networking/core httproute.go buildCatchAllVirtualHost)
  if (route.direct_response) {
    const status = toNumber(route.direct_response.status) ?? 200;
    if (vh.name === 'block_all' || route.name === 'block_all') {
      w.catchAll = 'block_all';
      ctx.hop({ stage: 'http_route', result: `${vh.name} → direct response ${status}`, details: [...routeDetails, 'Istio\'s REGISTRY_ONLY catch-all: unknown hosts get 502'] });
      reportBlocked(w, `its HTTP request gets ${status} from the block_all virtual host of route configuration ${rcName}`);
      return { code: 'BLACKHOLE', outcome: String(status), flag: '-', summary: `The request to ${host} gets ${status}: no service in route configuration ${rcName} has this host and the outbound traffic policy is REGISTRY_ONLY (block_all virtual host).` };
    }
    ctx.hop({ stage: 'http_route', result: `${routeName} → direct response ${status}`, details: routeDetails });
    return { code: 'DIRECT_RESPONSE', outcome: String(status), flag: '-', summary: `Route ${routeName} answers directly with ${status}; the request never leaves the pod.` };
  }
  if (route.redirect) {
    const status = redirectStatus(route.redirect.response_code);
    ctx.hop({ stage: 'http_route', result: `${routeName} → redirect ${status}`, details: routeDetails });
    return { code: 'DIRECT_RESPONSE', outcome: String(status), flag: '-', summary: `Route ${routeName} redirects the request (${status}).` };
  }
  const action = route.route;
  if (!action) {
    ctx.hop({ stage: 'http_route', result: `${routeName}: no action`, details: routeDetails });
    ctx.report(newFinding('NotEmulated', { what: `Route ${routeName} has no route/redirect/direct_response action (non_forwarding_action?)`, impact: 'its outcome is unknown' }));
    return { code: null, outcome: 'unknown', summary: `Cannot tell: route ${routeName} has no action the emulation understands.` };
  }
  if (vh.name === 'allow_any' || route.name === 'allow_any') w.catchAll = 'allow_any';
  let clusters: { name: string; weight: number }[];
  if (action.cluster) clusters = [{ name: action.cluster, weight: 100 }];
  else if (action.weighted_clusters) clusters = (action.weighted_clusters.clusters ?? []).map((c) => ({ name: c.name ?? '', weight: toNumber(c.weight) ?? 0 })).filter((c) => c.weight > 0);
  else if (action.cluster_header) {
    const v = req.headers[action.cluster_header.toLowerCase()];
    if (!v) {
      ctx.hop({ stage: 'http_route', result: `${routeName} → cluster from header ${action.cluster_header}`, details: routeDetails });
      ctx.report(newFinding('NotEmulated', { what: `Route ${routeName} takes its cluster from header ${action.cluster_header}`, impact: 'pass --header to emulate it' }));
      return { code: null, outcome: 'unknown', summary: `Cannot tell: route ${routeName} takes the cluster from request header ${action.cluster_header}.` };
    }
    clusters = [{ name: v, weight: 100 }];
  } else {
    ctx.hop({ stage: 'http_route', result: `${routeName}: cluster specifier not emulated`, details: routeDetails });
    ctx.report(newFinding('NotEmulated', { what: `Route ${routeName} uses a cluster specifier plugin`, impact: 'the cluster cannot be told' }));
    return { code: null, outcome: 'unknown', summary: `Cannot tell: route ${routeName} chooses its cluster with a plugin.` };
  }
  ctx.hop({ stage: 'http_route', result: `${routeName} → ${clusters.map((c) => (clusters.length > 1 ? `${c.name} (${c.weight})` : c.name)).join(', ')}`, object: rcName, details: routeDetails });
  return clustersEnd(w, clusters, 'http', clusterNotFoundStatus(action.cluster_not_found_response_code));
}

function describeRouteMatch(r: Route): string {
  const m = r.match ?? {};
  const parts: string[] = [];
  if (m.prefix !== undefined) parts.push(`prefix ${m.prefix}`);
  if (m.path !== undefined) parts.push(`path ${m.path}`);
  if (m.path_separated_prefix !== undefined) parts.push(`path_separated_prefix ${m.path_separated_prefix}`);
  if (m.safe_regex?.regex !== undefined) parts.push(`regex ${m.safe_regex.regex}`);
  if (m.regex !== undefined) parts.push(`regex ${m.regex}`);
  if (m.headers?.length) parts.push(`${m.headers.length} header condition(s)`);
  if (m.query_parameters?.length) parts.push(`${m.query_parameters.length} query condition(s)`);
  return parts.join(', ') || 'matches everything';
}

function faultNotes(r: Route): string[] {
  const per = (r as unknown as { typed_per_filter_config?: Record<string, unknown> }).typed_per_filter_config ?? {};
  const fault = (per['envoy.filters.http.fault'] ?? per['envoy.fault']) as { abort?: { http_status?: number; percentage?: { numerator?: number } }; delay?: unknown } | undefined;
  if (!fault) return [];
  const out: string[] = [];
  if (fault.abort) out.push(`fault injection: abort with ${fault.abort.http_status ?? '?'} for ${fault.abort.percentage?.numerator ?? 100}% of requests (flag FI)`);
  if (fault.delay) out.push('fault injection: delay configured (flag DI)');
  return out;
}

// ---- clusters and endpoints ---------------------------------------------------------------

function clustersEnd(w: Walk, clusters: readonly { name: string; weight: number }[], mode: Mode, notFoundStatus: number | undefined): End {
  if (clusters.length === 1) {
    w.path.cluster = clusters[0]!.name;
    return clusterStage(w, clusters[0]!.name, mode, notFoundStatus);
  }
  const total = clusters.reduce((a, c) => a + c.weight, 0) || 1;
  const results = clusters.map((c) => ({ c, end: clusterStage(w, c.name, mode, notFoundStatus) }));
  const targets: WeightedTarget[] = results.map(({ c, end }) => ({ cluster: c.name, weight: c.weight, code: end.code, outcome: end.outcome }));
  const failing = results.filter(({ end }) => end.code === null || (end.code !== 'ROUTED' && end.code !== 'PASSTHROUGH'));
  const heaviest = [...results].sort((a, b) => b.c.weight - a.c.weight)[0]!;
  if (failing.length === 0) {
    w.path.cluster = heaviest.c.name;
    return { code: 'ROUTED', outcome: 'forwarded', flag: '-', summary: `The connection is split across ${clusters.length} clusters, all of which can forward it.`, targets };
  }
  const worst = [...failing].sort((a, b) => b.c.weight - a.c.weight)[0]!;
  w.path.cluster = worst.c.name;
  const share = Math.round((100 * failing.reduce((a, f) => a + f.c.weight, 0)) / total);
  return { ...worst.end, summary: `${share}% of requests fail: ${worst.end.summary}`, targets };
}

function clusterStage(w: Walk, name: string, mode: Mode, notFoundStatus: number | undefined): End {
  const { ctx, dest } = w;
  const found = ctx.cluster(name);
  const failOutcome = mode === 'http' ? '503' : 'reset';
  if (!found.active) {
    if (!ctx.dump.present.clusters) {
      ctx.report(newFinding('InputIncomplete', { missing: 'cluster definitions', consequence: `whether cluster ${name} exists and has endpoints cannot be told`, remedy: 'Capture the full config dump (all sections).' }));
      ctx.hop({ stage: 'cluster', result: `${name}: not in the input`, object: name, details: [] });
      // the catch-all clusters are Istio's reserved names: still say what they mean
      const role = clusterRole(ctx, name);
      if (role === 'blackhole' || role === 'passthrough') return catchAllEnd(w, name, role, mode);
      return { code: null, outcome: 'unknown', summary: `Cannot tell: cluster ${name} is not in the input.` };
    }
    const why = found.warming ? 'is still warming (waiting for its endpoints or secrets) and takes no traffic yet' : 'does not exist in the proxy';
    const flag = ctx.noClusterFlag();
    const status = notFoundStatus ?? 503;
    const outcome = mode === 'http' ? String(status) : 'reset';
    ctx.hop({ stage: 'cluster', result: `${name}: ${found.warming ? 'warming' : 'missing'}`, object: name, details: [`Envoy ${mode === 'http' ? `answers ${status}` : 'closes the connection'} (${flag}, cluster_not_found)`] });
    const subset = parseServiceCluster(name);
    const hint = subset?.subset ? `; a VirtualService routes to subset "${subset.subset}" of ${subset.host}, but no DestinationRule defines that subset for this proxy` : '';
    ctx.report(newFinding('ClusterMissing', { cluster: name, why: `${why}${hint}`, result: mode === 'http' ? `Envoy answers ${status} (${flag})` : `Envoy closes the connection (${flag})` }));
    if (subset) ctx.blame({ kind: 'VirtualService', host: subset.host, role: `routes to cluster ${name}, which does not exist` });
    return { code: 'NO_CLUSTER', outcome, flag, summary: `Cluster ${name} ${why}: ${mode === 'http' ? `the request gets ${status}` : 'the connection is closed'}.` };
  }
  const loaded = found.active;
  const cluster = loaded.cluster;
  const type = discoveryType(cluster);
  const role = clusterRole(ctx, name, cluster);
  if (role === 'blackhole' || role === 'passthrough') {
    ctx.hop({ stage: 'cluster', result: `${name} (${type}, ${role === 'blackhole' ? 'no endpoints by design' : 'forwards to the original destination'})`, object: name, details: [], evidence: `${loaded.ref.section}[${JSON.stringify(name)}]` });
    return catchAllEnd(w, name, role, mode);
  }
  if (w.policy?.policy === 'EGRESS_PROXY' && w.policy.cluster === name && noteCatchAll(w) !== undefined) {
    ctx.report(newFinding('EgressViaProxyCluster', { dest: dest.label, cluster: name }));
    ctx.blame({ kind: 'Sidecar', role: `outboundTrafficPolicy.egressProxy sends unregistered traffic to ${name}` });
  }
  blameCluster(ctx, name, cluster, 'receives the traffic');
  const tls = tlsOrigination(cluster);
  const tlsText: Record<typeof tls.kind, string> = {
    none: '',
    'istio-auto': ', Istio mTLS to endpoints with a sidecar (auto mTLS)',
    'istio-mutual': ', Istio mTLS (ISTIO_MUTUAL)',
    tls: `, originates TLS${tls.sni ? ` (SNI ${tls.sni})` : ''}`,
  };
  const clusterDetails = [`type ${type}${tlsText[tls.kind]}`];
  if (tls.kind === 'tls' && w.hello.kind === 'tls') {
    ctx.hop({ stage: 'cluster', result: `${name}: TLS on top of TLS`, object: name, details: clusterDetails, evidence: `${loaded.ref.section}[${JSON.stringify(name)}].transport_socket` });
    ctx.report(newFinding('DoubleTls', { cluster: name, by: 'a DestinationRule TLS origination (tls mode SIMPLE or MUTUAL)' }));
    return { code: 'PROTOCOL_MISMATCH', outcome: 'reset', flag: '-', summary: `The application speaks TLS and cluster ${name} wraps it in TLS again: the server cannot read it.` };
  }
  if (type === 'ORIGINAL_DST') {
    ctx.hop({ stage: 'cluster', result: `${name} (ORIGINAL_DST)`, object: name, details: [...clusterDetails, `forwards to the original destination ${dest.ip ? `${dest.ip.text}:${ctx.request.port}` : dest.label}`], evidence: `${loaded.ref.section}[${JSON.stringify(name)}]` });
    return { code: 'ROUTED', outcome: 'forwarded', flag: '-', summary: `The connection to ${dest.label} is forwarded through cluster ${name} to its original destination.` };
  }
  const eps = endpointsOf(ctx.dump, name, cluster);
  ctx.hop({ stage: 'cluster', result: `${name} (${type})`, object: name, details: clusterDetails, evidence: `${loaded.ref.section}[${JSON.stringify(name)}]` });
  if (!eps.known) {
    const dns = type === 'STRICT_DNS' || type === 'LOGICAL_DNS';
    ctx.hop({ stage: 'endpoints', result: dns ? `resolved by DNS at run time: ${eps.endpoints.map((e) => e.address).join(', ') || '(none configured)'}` : 'unknown (no EDS in the input)', object: name, details: [] });
    if (dns && eps.endpoints.length === 0) {
      ctx.report(newFinding('ClusterHasNoEndpoints', { cluster: name, detail: ' (no DNS names configured)' }));
      return { code: 'NO_HEALTHY_UPSTREAM', outcome: failOutcome, flag: 'UH', summary: `Cluster ${name} has nothing to resolve: ${mode === 'http' ? '503' : 'reset'} (UH).` };
    }
    if (!dns) {
      ctx.report(newFinding('EndpointsNotInInput', { cluster: name, remedy: 'Capture with include_eds (pilot-agent request GET \'config_dump?include_eds\') or add /clusters?format=json.' }));
    }
    return { code: 'ROUTED', outcome: 'forwarded', flag: '-', summary: `The connection to ${dest.label} is routed to cluster ${name}${dns ? ' (endpoints resolved by DNS at run time)' : '; its endpoints are not in the input'}.` };
  }
  const av = availability(cluster, eps.endpoints);
  ctx.hop({
    stage: 'endpoints',
    result: `${av.total} endpoint(s), ${av.healthy} healthy${av.degraded ? `, ${av.degraded} degraded` : ''}${av.panic ? ' — panic mode' : ''}`,
    object: name,
    details: [...describeEndpoints(eps.endpoints), `source: ${eps.source === 'clusters' ? '/clusters' : eps.source === 'eds' ? 'EDS (include_eds)' : 'inline in the cluster'}; healthy_panic_threshold ${av.thresholdPercent}%`],
  });
  if (av.noHost) {
    const subset = parseServiceCluster(name);
    const detail =
      av.total === 0
        ? subset?.subset
          ? ` (subset "${subset.subset}" of ${subset.host} selects no endpoint: no pod of the service has the subset's labels)`
          : ''
        : '';
    if (av.total === 0) ctx.report(newFinding('ClusterHasNoEndpoints', { cluster: name, detail }, { fixes: subsetFixes(name) }));
    else ctx.report(newFinding('NoHealthyEndpoints', { cluster: name, detail: `all ${av.total} endpoints are unhealthy and panic mode is disabled (healthy_panic_threshold 0): Envoy answers "no healthy upstream" (UH)` }));
    return { code: 'NO_HEALTHY_UPSTREAM', outcome: failOutcome, flag: 'UH', summary: `Cluster ${name} has ${av.total === 0 ? 'no endpoints' : 'no healthy endpoint'}: ${mode === 'http' ? 'the request gets 503 "no healthy upstream"' : 'the connection is reset'} (UH).` };
  }
  if (av.healthy + av.degraded === 0) {
    ctx.report(newFinding('NoHealthyEndpoints', { cluster: name, detail: `all ${av.total} endpoints are unhealthy; below the ${av.thresholdPercent}% panic threshold Envoy sends traffic to them anyway, so expect connection failures (UF) or 503` }, { severity: 'warning' }));
  }
  return { code: 'ROUTED', outcome: 'forwarded', flag: '-', summary: `The connection to ${dest.label} is routed to cluster ${name} (${av.healthy} healthy endpoint${av.healthy === 1 ? '' : 's'}).` };
}

function describeEndpoints(eps: readonly EndpointInfo[]): string[] {
  const shown = eps.slice(0, 8).map((e) => `${e.address} ${e.health}${e.reason ? ` (${e.reason})` : ''}${e.workload ? ` ${e.workload.split(';').slice(0, 4).join(';')}` : ''}`);
  if (eps.length > 8) shown.push(`… and ${eps.length - 8} more`);
  return shown;
}

/**
 * Whether the connection reached its cluster through a catch-all: virtualOutbound's own chains
 * (no listener for the destination), a listener's default_filter_chain (Istio's
 * PassthroughFilterChain), or the allow_any / block_all virtual host.
 */
function noteCatchAll(w: Walk): CatchAllKind {
  if (w.catchAll !== undefined) return w.catchAll;
  const viaDefault = w.path.filterChain !== undefined && /^(PassthroughFilterChain|default_filter_chain)$/.test(w.path.filterChain);
  const viaVirtualOutbound = w.target === undefined && (w.path.listener === 'virtualOutbound' || w.path.filterChain?.startsWith('virtualOutbound') === true);
  w.catchAll = viaVirtualOutbound ? 'virtualOutbound' : viaDefault ? 'default_filter_chain' : undefined;
  return w.catchAll;
}

/** BlackHoleCluster / PassthroughCluster and friends reached through a chain or route. */
function catchAllEnd(w: Walk, name: string, role: 'blackhole' | 'passthrough', mode: Mode): End {
  const { ctx, dest } = w;
  noteCatchAll(w);
  const viaVirtualOutbound = w.catchAll === 'virtualOutbound';
  const loop = w.path.filterChain === 'virtualOutbound-blackhole' || ([15001, 15006].includes(ctx.request.port) && role === 'blackhole' && viaVirtualOutbound);
  if (role === 'blackhole') {
    const outcome = mode === 'http' ? '503' : 'reset';
    if (loop) {
      ctx.report(newFinding('OutboundLoop', { port: ctx.request.port }));
      return { code: 'BLACKHOLE', outcome, flag: 'UH', summary: `The connection to ${dest.label} is reset: port ${ctx.request.port} is the sidecar's own capture port (loop guard chain → ${name}).` };
    }
    if (w.catchAll) {
      const how = `its ${mode === 'http' ? 'request' : 'connection'} falls through to ${w.catchAll === 'virtualOutbound' ? `virtualOutbound's catch-all chain` : `the default filter chain of ${w.path.listener}`}, which sends it to ${name}`;
      reportBlocked(w, how);
      return { code: 'BLACKHOLE', outcome, flag: 'UH', summary: `The connection to ${dest.label} is reset by the sidecar: no registered service matches it and the outbound traffic policy is REGISTRY_ONLY (${w.path.listener} → ${w.path.filterChain} → ${name}).` };
    }
    const by = `${w.path.listener ? `listener ${w.path.listener}` : 'the proxy'}${w.path.filterChain ? ` filter chain ${w.path.filterChain}` : ''}${w.path.route ? ` route ${w.path.route}` : ''}`;
    blameListenerOwners(w, w.target?.ref, 'owns the listener whose chain black-holes this destination');
    ctx.report(newFinding('DestinationBlackholed', { dest: dest.label, by }, { fixes: destinationFixes(w, 'blackhole') }));
    return { code: 'BLACKHOLE', outcome, flag: 'UH', summary: `The connection to ${dest.label} is reset: ${by} sends it to ${name}, which has no endpoints.` };
  }
  // passthrough
  ctx.report(newFinding('PassthroughUnregistered', { dest: dest.label, via: `${w.path.filterChain ?? w.path.route ?? 'the catch-all'} → ${name}` }, { fixes: [serviceEntryFix(ctx, facts(w), 1, 'Optional: it works today.')] }));
  if (w.target?.wildcard) reportSharedPort(w);
  return { code: 'PASSTHROUGH', outcome: 'forwarded', flag: '-', summary: `The connection to ${dest.label} leaves unchanged through ${name}: it matches no registered service and the outbound traffic policy allows any destination.` };
}

// ---- findings and fixes -------------------------------------------------------------------

function facts(w: Walk): DestinationFacts {
  return { host: w.dest.host, ip: w.dest.ip?.text, port: w.ctx.request.port, protocol: w.ctx.request.protocol };
}

function reportBlocked(w: Walk, how: string): void {
  const { ctx } = w;
  ctx.blame({ kind: 'OutboundTrafficPolicy', name: 'REGISTRY_ONLY', role: 'blocks destinations without a Service or ServiceEntry (mesh config or a Sidecar resource)' });
  if (w.target?.wildcard) reportSharedPort(w);
  ctx.report(newFinding('RegistryOnlyBlocksDestination', { dest: w.dest.label, how }, { fixes: destinationFixes(w, 'registry') }));
}

/** Ranked fixes for an unregistered destination, seed 002's order. */
function destinationFixes(w: Walk, why: 'registry' | 'blackhole' | 'swallow'): Fix[] {
  const f = facts(w);
  const fixes: Fix[] = [serviceEntryFix(w.ctx, f, 1, why === 'swallow' ? `Istio builds a listener for ${f.ip ?? f.host}:${f.port} that wins over the wildcard listener.` : 'The recommended way to allow an external destination.')];
  if (f.ip) fixes.push(excludeRangeFix(w.ctx, f.ip, 2));
  if (why === 'registry') fixes.push(allowAnyFix(w.ctx, fixes.length + 1));
  else if (f.ip) fixes.push(serviceAndEndpointsFix(w.ctx, { ...f, ip: f.ip }, fixes.length + 1));
  return fixes;
}

/**
 * Seed 002's three fixes; and, for proxies whose HTTP chains match everything (Istio < 1.6),
 * the upgrade that makes Istio match HTTP chains on ALPN only (istio/istio#17169).
 */
function swallowFixes(w: Walk, matchAll: boolean): Fix[] {
  const fixes = destinationFixes(w, 'swallow');
  if (matchAll) {
    fixes.push({
      rank: fixes.length + 1,
      title: 'Upgrade Istio (1.6 or later)',
      tradeoffs: 'Since Istio 1.6 shared HTTP listeners only take connections that look like HTTP (ALPN http/1.1, h2c) and let other TCP fall through; a control-plane and proxy upgrade is a project of its own.',
      kind: 'text',
      content: `This proxy runs Istio ${w.ctx.proxy.istioVersion ?? '(version unknown)'}; its listener ${w.path.listener} sends all traffic on port ${w.ctx.request.port} to the HTTP connection manager.`,
    });
  }
  return fixes;
}

function stallFixes(w: Walk, first: number): Fix[] {
  const f = facts(w);
  const fixes: Fix[] = [serviceEntryFix(w.ctx, { ...f, protocol: 'tcp' }, first, f.ip ? `An IP-specific listener declared TCP does no protocol sniffing for ${f.ip}.` : 'Declaring TCP avoids sniffing for this host.')];
  fixes.push(detectionTimeoutFix(fixes.length + first));
  if (f.ip) fixes.push(excludeRangeFix(w.ctx, f.ip, fixes.length + first));
  return fixes;
}

function subsetFixes(cluster: string): Fix[] {
  const parsed = parseServiceCluster(cluster);
  if (!parsed?.subset) return [];
  return [
    {
      rank: 1,
      title: `Make pods match subset "${parsed.subset}", or fix the subset`,
      tradeoffs: 'Adding the label to the pod template restarts the pods; changing the DestinationRule subset affects every client of the host.',
      kind: 'text',
      content: `Compare the labels of subset "${parsed.subset}" in the DestinationRule for ${parsed.host} with the pod labels of the Service's pods (kubectl get pods -l <service selector> --show-labels), then add the missing label (often "version") to the Deployment's pod template or correct the subset.`,
    },
  ];
}

/** Names the services whose ports created the listener; reports the sharing once. */
function blameListenerOwners(w: Walk, ref: ListenerRef | undefined, role: string): Owner[] {
  if (!ref || w.inbound) return [];
  const listener = w.target?.ref === ref ? w.target.listener : w.ctx.listener(ref);
  const owners = listenerOwners(w.ctx, listener).filter((o) => !destinationIs(w, o));
  for (const o of owners.slice(0, 10)) w.ctx.blame(responsibleOf(o, role));
  if (w.target?.wildcard) reportSharedPort(w);
  return owners;
}

function destinationIs(w: Walk, o: Owner): boolean {
  const h = w.dest.host;
  return o.host === h || o.host.startsWith(`${h}.`);
}

function reportSharedPort(w: Walk): void {
  if (!w.target || w.sharedReported || w.inbound || !w.sidecar) return;
  w.sharedReported = true;
  const owners = listenerOwners(w.ctx, w.target.listener).filter((o) => !destinationIs(w, o));
  if (owners.length === 0) return;
  const names = owners.slice(0, 5).map(ownerLabel).join(', ') + (owners.length > 5 ? ` and ${owners.length - 5} more` : '');
  w.ctx.report(newFinding('PortSharedWithOtherServices', { listener: w.target.ref.name, port: w.ctx.request.port, owners: names }, { evidence: owners.slice(0, 5).map((o) => o.via) }));
}
