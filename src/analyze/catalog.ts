/**
 * The one catalog of finding codes. Codes are forever: never renumber or reuse one; retire a code
 * by moving it to RETIRED. Ranges by topic (DESIGN.md §3): 00x tool, 01x capture, 02x outbound
 * policy, 03x listeners/routes/clusters, 04x endpoints/subsets, 05x startup races, 06x logging,
 * 07x TLS, 08x network policy, 09x multicluster. docs/codes.md is generated from this file
 * (scripts/gen-codes.ts) and a test keeps the two equal.
 */
import { entry, type Entry } from './catalog-entry.js';
import { doctorCodes } from './catalog-doctor.js';
import { logLevelCodes } from './catalog-log-level.js';
import { multiclusterCodes } from './catalog-multicluster.js';
import { raceCodes } from './catalog-race.js';
import { whyBlackholeCodes } from './catalog-whyblackhole.js';
import type { Finding, Fix, Severity, Subject } from './finding.js';

/** The trace engine's codes; each verb's own codes live in catalog-<verb>.ts and join below. */
const traceCodes = {
  // ---- 00x: the tool and its inputs ------------------------------------------------------
  InputIncomplete: entry<{ missing: string; consequence: string; remedy: string }>({
    code: 'MEG001',
    severity: 'warning',
    title: 'Input lacks data needed for a complete answer',
    description: 'The config dump, snapshot or cluster did not include something the diagnosis needs, so part of the answer is unknown rather than healthy.',
    message: (p) => `The input has no ${p.missing}: ${p.consequence}. ${p.remedy}`,
  }),
  NotEmulated: entry<{ what: string; impact: string }>({
    code: 'MEG002',
    severity: 'info',
    title: 'Configuration present that the emulation does not evaluate',
    description: 'An Envoy filter or matcher on the path is carried and reported but not emulated; it could change the outcome.',
    message: (p) => `${p.what} is not emulated: ${p.impact}.`,
  }),
  DestinationAddressUnresolved: entry<{ host: string; port: number }>({
    code: 'MEG003',
    severity: 'info',
    title: 'Destination hostname has no address in the proxy configuration',
    description: 'The hostname is not a mesh service with a virtual IP, so its address is resolved by DNS at run time; the trace assumes an address no listener is bound to.',
    message: (p) =>
      `${p.host} has no virtual IP in this proxy's configuration; its address comes from DNS at run time. The trace assumes it is not one of the mesh's listener addresses; pass --address IP to trace the exact address.`,
  }),
  CollectionIncomplete: entry<{ what: string; reason: string; consequence: string }>({
    code: 'MEG005',
    severity: 'warning',
    title: 'Part of the cluster could not be read',
    description: 'A read the diagnosis uses failed (RBAC, a missing CRD, a timeout); the verdict still comes from the proxy, but what depends on that read is incomplete.',
    message: (p) => `Could not ${p.what} (${p.reason}): ${p.consequence}.`,
  }),
  StaleProxyConfig: entry<{ kind: string; name: string; namespace: string }>({
    code: 'MEG006',
    severity: 'warning',
    title: "The proxy's configuration references an object that no longer exists",
    description: 'The Envoy configuration names an Istio object the cluster no longer has: the proxy has not received a newer push from istiod (compare istioctl proxy-status).',
    message: (p) => `The proxy's configuration was built from ${p.kind} ${p.namespace}/${p.name}, which no longer exists in the cluster: the proxy is out of date (check istioctl proxy-status and istiod's logs).`,
  }),
  AmbiguousFilterChains: entry<{ listener: string; chains: string }>({
    code: 'MEG004',
    severity: 'warning',
    title: 'Several filter chains match: Envoy would reject this listener',
    description: 'Envoy refuses listeners whose filter chains overlap at every match level; a dump showing this was probably edited or comes from an unsupported build.',
    message: (p) => `Listener ${p.listener}: filter chains ${p.chains} all match this connection; Envoy rejects overlapping chains, so the dump may be edited. The first one is used.`,
  }),

  // ---- 01x: traffic capture --------------------------------------------------------------
  TrafficNotCaptured: entry<{ dest: string; reason: string; rule: string }>({
    code: 'MEG010',
    severity: 'info',
    title: 'Connection bypasses the sidecar',
    description: 'The pod\'s iptables rules let this connection leave directly: Envoy never sees it, so no mesh policy, telemetry or mTLS applies.',
    message: (p) => `Traffic to ${p.dest} is not captured by the sidecar: ${p.reason} (${p.rule}).`,
  }),
  AppRunsAsProxyUid: entry<{ uid: number }>({
    code: 'MEG011',
    severity: 'warning',
    title: 'Application runs with the proxy\'s UID or GID',
    description: 'iptables never captures traffic from UID/GID 1337 (the proxy) so that Envoy does not loop; an application running as 1337 bypasses the mesh entirely (istioctl IST0144).',
    message: (p) => `The connection is sent as UID/GID ${p.uid}, which the capture rules reserve for the proxy: it always bypasses Envoy.`,
  }),
  NoOutboundListener: entry<{ port: number }>({
    code: 'MEG012',
    severity: 'error',
    title: 'Outbound traffic is redirected to a port no listener is bound to',
    description: 'iptables redirects outbound TCP to the proxy port, but the proxy has no listener there (not started yet, not ready, or config rejected): the application gets ECONNREFUSED.',
    message: (p) => `iptables redirects the connection to port ${p.port}, but the proxy has no listener bound there: the application sees connection refused. This happens when the app starts before Envoy is ready (see race-check) or listener config was rejected.`,
  }),
  DnsHandledByAgent: entry<{ dest: string }>({
    code: 'MEG013',
    severity: 'info',
    title: 'DNS traffic is answered by the istio-agent DNS proxy',
    description: 'With DNS capture on, queries to port 53 are redirected to the agent on 15053, which answers mesh hostnames and forwards the rest.',
    message: (p) => `${p.dest} is DNS traffic and DNS capture is on: the istio-agent DNS proxy (port 15053) answers it, not Envoy.`,
  }),
  PodWithoutSidecar: entry<{ pod: string; why: string }>({
    code: 'MEG016',
    severity: 'info',
    title: 'The pod has no sidecar',
    description: 'The pod runs without an istio-proxy container: its traffic is never captured and no mesh policy applies to it.',
    message: (p) => `Pod ${p.pod} has no istio-proxy sidecar: its connections go out directly. ${p.why}`,
  }),
  ProxyNotReady: entry<{ pod: string; state: string }>({
    code: 'MEG017',
    severity: 'warning',
    title: 'The sidecar is not ready',
    description: 'The istio-proxy container is not ready (Envoy still initializing, or failing its readiness probe): its configuration may be incomplete, and applications starting now can race it (see race-check).',
    message: (p) => `The sidecar of ${p.pod} is not ready (${p.state}): its configuration may be incomplete and the answer may change once it is ready.`,
  }),
  InvalidCaptureAnnotation: entry<{ annotation: string; values: string }>({
    code: 'MEG014',
    severity: 'error',
    title: 'Capture annotation has invalid entries',
    description: 'istio-iptables and istio-cni reject invalid CIDRs or ports in traffic.sidecar.istio.io annotations; the pod then fails to start or the setting is ignored.',
    message: (p) => `${p.annotation} contains invalid entries: ${p.values}.`,
  }),

  // ---- 02x: outbound traffic policy ------------------------------------------------------
  RegistryOnlyBlocksDestination: entry<{ dest: string; how: string }>({
    code: 'MEG020',
    severity: 'error',
    title: 'Unregistered destination blocked by REGISTRY_ONLY',
    description: 'The outbound traffic policy is REGISTRY_ONLY and no Service or ServiceEntry covers the destination, so the sidecar black-holes it (TCP reset, or HTTP 502 from the block_all virtual host).',
    message: (p) => `${p.dest} is not a registered service and the outbound traffic policy is REGISTRY_ONLY: ${p.how}.`,
  }),
  PassthroughUnregistered: entry<{ dest: string; via: string }>({
    code: 'MEG021',
    severity: 'info',
    title: 'Unregistered destination passes through (ALLOW_ANY)',
    description: 'The destination is not registered; under ALLOW_ANY the sidecar forwards it unchanged through PassthroughCluster, without per-destination telemetry, retries or policy, and it would be blocked if the mesh moved to REGISTRY_ONLY.',
    message: (p) => `${p.dest} is not a registered service; it leaves through ${p.via} because the outbound traffic policy allows any destination.`,
  }),
  EgressViaProxyCluster: entry<{ dest: string; cluster: string }>({
    code: 'MEG022',
    severity: 'info',
    title: 'Unregistered traffic goes to the Sidecar egressProxy',
    description: 'A Sidecar resource sets outboundTrafficPolicy.egressProxy: unregistered destinations are sent to that service instead of their own address.',
    message: (p) => `${p.dest} is not registered; the catch-all sends it to ${p.cluster} (Sidecar outboundTrafficPolicy.egressProxy), not to its own address.`,
  }),
  DestinationBlackholed: entry<{ dest: string; by: string }>({
    code: 'MEG023',
    severity: 'error',
    title: 'Connection sent to a black-hole cluster',
    description: 'The matched filter chain or route sends the connection to a cluster that has no endpoints by construction (Istio\'s BlackHoleCluster).',
    message: (p) => `${p.dest} is sent to a cluster without endpoints by ${p.by}: the connection is reset.`,
  }),

  // ---- 03x: listeners, routes, clusters --------------------------------------------------
  PortSharedWithOtherServices: entry<{ listener: string; port: number; owners: string }>({
    code: 'MEG030',
    severity: 'info',
    title: 'Destination port is owned by a wildcard listener of other services',
    description: 'Istio builds one 0.0.0.0_PORT listener for every service port without its own IP listener; any destination on that port, inside or outside the mesh, is handled by it (seed 002).',
    message: (p) => `Port ${p.port} has the wildcard listener ${p.listener}, created for ${p.owners}; every connection to port ${p.port} without a more specific listener is handled by it.`,
  }),
  NonHttpIntoHttpManager: entry<{ listener: string; what: string; result: string }>({
    code: 'MEG031',
    severity: 'error',
    title: 'Non-HTTP traffic handled by an HTTP connection manager',
    description: 'The filter chain that matched runs the HTTP connection manager for all traffic, so non-HTTP bytes are parsed as HTTP (Istio before 1.6 built such match-all HTTP chains on shared ports; seed 002).',
    message: (p) => `Listener ${p.listener} hands this connection to an HTTP connection manager, but the client sends ${p.what}: ${p.result}.`,
  }),
  ProtocolDetectionStall: entry<{ listener: string; inspector: string; result: string }>({
    code: 'MEG032',
    severity: 'error',
    title: 'Server-first protocol stalls in protocol detection',
    description: 'The listener sniffs the first client bytes (tls_inspector/http_inspector); a server-first protocol (MySQL, SMTP, ...) sends nothing first, so the connection waits for the listener_filters_timeout, forever when it is 0s (Istio\'s default protocolDetectionTimeout).',
    message: (p) => `Listener ${p.listener} waits for the client's first bytes (${p.inspector}) but this protocol is server-first: ${p.result}.`,
  }),
  ProtocolDetectionDelay: entry<{ listener: string; timeout: string }>({
    code: 'MEG033',
    severity: 'warning',
    title: 'Server-first protocol delayed by protocol detection',
    description: 'The listener waits for client bytes until listener_filters_timeout and then continues as raw TCP: server-first connections work, but every connection start is delayed.',
    message: (p) => `Listener ${p.listener} waits ${p.timeout} for client bytes before treating the connection as raw TCP: every new connection of this server-first protocol is delayed by ${p.timeout}.`,
  }),
  ServiceEntryWithoutAddressesCapturesPort: entry<{ listener: string; port: number; cluster: string }>({
    code: 'MEG034',
    severity: 'warning',
    title: 'A TCP service without addresses captures every destination on its port',
    description: 'A ServiceEntry (or headless service) with a TCP port and no addresses makes Istio put a match-all tcp_proxy on 0.0.0.0_PORT: all TCP on that port, to any IP, goes to that service (istioctl IST0134).',
    message: (p) => `Listener ${p.listener} sends all TCP on port ${p.port}, to any address, to ${p.cluster}: a TCP service without addresses captures the whole port.`,
  }),
  NoRouteForRequest: entry<{ routeConfig: string; host: string; path: string; why: string }>({
    code: 'MEG035',
    severity: 'error',
    title: 'No route for the request',
    description: 'The HTTP route configuration has no virtual host or route matching the request: Envoy answers 404 (NR).',
    message: (p) => `Route configuration ${p.routeConfig} has no route for Host ${p.host} path ${p.path}: ${p.why}; Envoy answers 404 (NR).`,
  }),
  ClusterMissing: entry<{ cluster: string; why: string; result: string }>({
    code: 'MEG036',
    severity: 'error',
    title: 'Route or proxy points at a cluster that does not exist',
    description: 'The route or tcp_proxy names a cluster the proxy does not have (for example a VirtualService subset without a DestinationRule, or a cluster still warming): Envoy answers 503 NC or closes the connection.',
    message: (p) => `Cluster ${p.cluster} ${p.why}: ${p.result}.`,
  }),
  NoFilterChainMatches: entry<{ listener: string; why: string }>({
    code: 'MEG037',
    severity: 'error',
    title: 'No filter chain matches the connection',
    description: 'None of the listener\'s filter chains matches and it has no default_filter_chain: Envoy closes the connection (NR, filter_chain_not_found).',
    message: (p) => `No filter chain of listener ${p.listener} matches: ${p.why}. Envoy closes the connection (NR, filter_chain_not_found).`,
  }),
  OutboundLoop: entry<{ port: number }>({
    code: 'MEG038',
    severity: 'error',
    title: 'Connection to the proxy\'s own capture port',
    description: 'Connections addressed to 15001/15006 would loop through the sidecar; Istio\'s virtualOutbound listener black-holes them on purpose.',
    message: (p) => `Port ${p.port} is the sidecar's own capture port; Istio black-holes such connections to prevent a loop.`,
  }),
  ListenerNotServing: entry<{ listener: string; state: string; details: string }>({
    code: 'MEG039',
    severity: 'warning',
    title: 'A listener for the destination exists but does not take traffic',
    description: 'Envoy only hands connections to active listeners; a warming (waiting for routes or secrets), draining or rejected listener receives nothing.',
    message: (p) => `Listener ${p.listener} for this destination is ${p.state}${p.details ? ` (${p.details})` : ''} and takes no traffic.`,
  }),

  // ---- 04x: endpoints and subsets --------------------------------------------------------
  ClusterHasNoEndpoints: entry<{ cluster: string; detail: string }>({
    code: 'MEG040',
    severity: 'error',
    title: 'Cluster has no endpoints',
    description: 'The cluster the traffic reaches has no endpoints at all, so Envoy answers 503 "no healthy upstream" (UH) or resets TCP; for a subset cluster this usually means no pod carries the subset\'s labels (seed 003).',
    message: (p) => `Cluster ${p.cluster} has no endpoints${p.detail}: Envoy answers "no healthy upstream" (UH).`,
  }),
  NoHealthyEndpoints: entry<{ cluster: string; detail: string }>({
    code: 'MEG041',
    severity: 'error',
    title: 'No healthy endpoints',
    description: 'Every endpoint of the cluster is unhealthy (EDS status, outlier ejection or active health checks). With a panic threshold Envoy still sends to them; with panic disabled it answers UH.',
    message: (p) => `Cluster ${p.cluster}: ${p.detail}.`,
  }),
  EndpointsNotInInput: entry<{ cluster: string; remedy: string }>({
    code: 'MEG042',
    severity: 'info',
    title: 'Endpoints of the cluster are unknown',
    description: 'The input has no EDS section and no /clusters output for this cluster, so whether it has healthy endpoints cannot be told.',
    message: (p) => `Endpoints of ${p.cluster} are not in the input, so their health cannot be told. ${p.remedy}`,
  }),

  // ---- 07x: TLS --------------------------------------------------------------------------
  DoubleTls: entry<{ cluster: string; by: string }>({
    code: 'MEG070',
    severity: 'error',
    title: 'TLS originated on top of the application\'s own TLS',
    description: 'The application already speaks TLS, and the cluster also originates TLS (DestinationRule tls mode SIMPLE/MUTUAL/ISTIO_MUTUAL): the server receives TLS inside TLS and the handshake fails.',
    message: (p) => `The application sends TLS and cluster ${p.cluster} originates TLS again (${p.by}): the server sees TLS inside TLS and the handshake fails.`,
  }),
} as const;

export const catalog = { ...traceCodes, ...whyBlackholeCodes, ...raceCodes, ...logLevelCodes, ...doctorCodes, ...multiclusterCodes } as const;

export type CatalogName = keyof typeof catalog;

/** Codes retired: never reuse them. */
export const RETIRED: readonly string[] = [
  // MEG015 CaptureSettingsAssumed: replaced by the ASSUMED section of the trace
  'MEG015',
];

type ParamsOf<K extends CatalogName> = (typeof catalog)[K] extends Entry<infer P> ? P : never;

export interface FindingOptions {
  readonly severity?: Severity;
  readonly subject?: Subject;
  readonly evidence?: readonly string[];
  readonly fixes?: readonly Fix[];
}

/** Builds a finding from the catalog: `newFinding('ClusterHasNoEndpoints', {...})`. */
export function newFinding<K extends CatalogName>(name: K, params: ParamsOf<K>, opts: FindingOptions = {}): Finding {
  const e = catalog[name] as unknown as Entry<ParamsOf<K>>;
  return {
    code: e.code,
    name,
    severity: opts.severity ?? e.severity,
    message: e.message(params),
    ...(opts.subject ? { subject: opts.subject } : {}),
    evidence: opts.evidence ?? [],
    fixes: opts.fixes ?? [],
  };
}

/** Markdown for docs/codes.md. */
export function renderCatalogMarkdown(): string {
  const lines = [
    '# Finding codes',
    '',
    'Generated from `src/analyze/catalog.ts` by `npm run gen:codes`; do not edit by hand.',
    'Codes are never reused. Ranges: 00x tool, 01x capture, 02x outbound policy, 03x listeners/routes/clusters,',
    '04x endpoints/subsets, 05x startup races, 06x logging, 07x TLS, 08x network policy, 09x multicluster.',
    '',
    '| code | name | default severity | title |',
    '|---|---|---|---|',
  ];
  const entries = Object.entries(catalog) as [string, Entry<unknown>][];
  entries.sort((a, b) => a[1].code.localeCompare(b[1].code));
  for (const [name, e] of entries) lines.push(`| ${e.code} | ${name} | ${e.severity} | ${e.title} |`);
  lines.push('');
  for (const [name, e] of entries) {
    lines.push(`## ${e.code} ${name}`, '', e.description, '');
  }
  if (RETIRED.length) lines.push('## Retired', '', ...RETIRED.map((c) => `- ${c}`), '');
  return lines.join('\n');
}
