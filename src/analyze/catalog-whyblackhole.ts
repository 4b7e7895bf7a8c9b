/**
 * Finding codes of `whyblackhole`: evidence from proxy stats and access logs. Codes MEG024–MEG029 (outbound policy evidence) and MEG065–MEG069 (logs/stats not available).
 * Codes are forever (see catalog.ts).
 */
import { entry } from './catalog-entry.js';

export const whyBlackholeCodes = {
  // ---- 02x: what the evidence shows about outbound traffic --------------------------------
  BlackholedTrafficSeen: entry<{ dest: string; seen: string; cause: string }>({
    code: 'MEG024',
    severity: 'error',
    title: 'The sidecar black-holed traffic to a destination',
    description:
      "The proxy's access log (or its metrics) shows connections or requests the sidecar itself ended: sent to BlackHoleCluster, answered by the block_all virtual host (502), reset for lack of a filter chain (NR), a cluster (NC) or an endpoint (UH), or rejected as a protocol error (DPE). The finding names the cause class found by tracing the destination through the current configuration, and its fixes.",
    message: (p) => `${p.dest}: ${p.seen} black-holed by the sidecar. Cause: ${p.cause}`,
  }),
  PassthroughTrafficSeen: entry<{ dest: string; seen: string }>({
    code: 'MEG025',
    severity: 'info',
    title: 'Unregistered traffic left through PassthroughCluster',
    description:
      'Under ALLOW_ANY the sidecar forwards destinations no Service or ServiceEntry covers unchanged (PassthroughCluster), without per-destination telemetry, retries or policy. They are what a move to REGISTRY_ONLY would block: register them with a ServiceEntry first.',
    message: (p) => `${p.dest}: ${p.seen} left through PassthroughCluster. The destination is not registered, so REGISTRY_ONLY would block it.`,
  }),
  ServiceHiddenFromProxy: entry<{ dest: string; object: string; how: string }>({
    code: 'MEG026',
    severity: 'error',
    title: 'The destination is a mesh service this proxy cannot see',
    description:
      "A Service or ServiceEntry in the cluster covers the destination, but the proxy has no listener or cluster for it: the pod's Sidecar resource does not import it (egress.hosts), or the object is not exported to the pod's namespace (exportTo, networking.istio.io/exportTo, meshConfig.defaultServiceExportTo). The proxy then treats it as an unknown destination (PassthroughCluster, or BlackHoleCluster under REGISTRY_ONLY).",
    message: (p) => `${p.dest} belongs to ${p.object}, but this proxy does not see it: ${p.how}.`,
  }),
  BlackholeCountsWithoutDestinations: entry<{ counts: string; why: string }>({
    code: 'MEG027',
    severity: 'warning',
    title: 'Metrics count black-holed traffic the access log does not name',
    description:
      "Istio's standard metrics (destination_service_name BlackHoleCluster) or Envoy's BlackHoleCluster counters show black-holed traffic, but they carry no destination address (istio/istio#26557); only the access log names destinations. With logs off, or rotated out of the window read, the destinations cannot be listed.",
    message: (p) => `The proxy's metrics count black-holed traffic (${p.counts}), but the access log names no destination: ${p.why}.`,
  }),
  BlackholeNotReproduced: entry<{ dest: string; seen: string; now: string }>({
    code: 'MEG028',
    severity: 'warning',
    title: 'Black-holed in the logs, but the current configuration routes it',
    description:
      'The access log shows the destination black-holed, yet tracing it through the configuration the proxy holds now gives a different outcome: the configuration changed since (a ServiceEntry or Sidecar applied), the traffic was addressed differently (another IP, SNI or Host), or the proxy had not yet received its configuration (start-up; see race-check).',
    message: (p) => `${p.dest}: ${p.seen} black-holed in the log, but the current configuration gives ${p.now}. The configuration or the proxy's state changed since, or the traffic was addressed differently.`,
  }),
  UpstreamFailuresSeen: entry<{ dest: string; seen: string; what: string }>({
    code: 'MEG029',
    severity: 'warning',
    title: 'The sidecar forwarded traffic, but the destination failed',
    description:
      'Access-log lines whose flags say the upstream failed (UF connection failure, URX retries or connect attempts exhausted, UT timeout, UC/UR terminated or reset, DF DNS resolution failed): the sidecar did not black-hole this traffic; the destination, the network in between (firewall, NetworkPolicy) or its DNS name did not answer.',
    message: (p) => `${p.dest}: ${p.seen} forwarded by the sidecar failed upstream: ${p.what}.`,
  }),

  // ---- 06x: logging and metrics the evidence needs ------------------------------------------
  AccessLogDisabled: entry<{ why: string }>({
    code: 'MEG065',
    severity: 'warning',
    title: 'Access logging is off for this proxy',
    description:
      "None of the proxy's outbound listeners has an access log, so black-holed connections leave no line naming their destination. Istio turns file access logs on through a Telemetry resource (accessLogging with the envoy provider) or, without any Telemetry logging configuration, meshConfig.accessLogFile (pilot/pkg/networking/core/accesslog.go).",
    message: (p) => `Access logging is off for this proxy: ${p.why}`,
  }),
  RawBlackholeStatsExcluded: entry<{ what: string }>({
    code: 'MEG066',
    severity: 'info',
    title: "Envoy's own black-hole counters are not reported",
    description:
      "Istio's bootstrap keeps only a short inclusion list of Envoy stats (cluster_manager, listener_manager, server, cluster.xds-grpc, wasm, istio and the standard metrics): cluster.BlackHoleCluster.*, cluster.PassthroughCluster.* and listener.*.no_filter_chain_match are dropped unless the pod asks for them (proxy.istio.io/config proxyStatsMatcher, or the deprecated sidecar.istio.io/statsInclusionPrefixes).",
    message: (p) => `${p.what}`,
  }),
  StandardMetricsMissing: entry<{ why: string }>({
    code: 'MEG067',
    severity: 'warning',
    title: "Istio's standard metrics are missing from the proxy",
    description:
      'The proxy reports no istio_requests_total or istio_tcp_* series, so black-holed traffic is not counted at all: metrics are disabled by a Telemetry resource (metrics.overrides disabled) or the mesh has no prometheus metrics provider, or the stats filters are not installed.',
    message: (p) => `The proxy reports none of Istio's standard metrics (istio_requests_total, istio_tcp_connections_closed_total): ${p.why}`,
  }),
  NoBlackholeEvidence: entry<{ window: string; sources: string }>({
    code: 'MEG068',
    severity: 'info',
    title: 'No black-holed traffic in the evidence',
    description:
      'The access log and metrics that could be read show no traffic the sidecar black-holed in the window read. Traffic older than the window, or from other replicas, is not covered; give DEST to check one destination against the configuration.',
    message: (p) => `No black-holed traffic in ${p.window} (${p.sources}).`,
  }),
  EvidenceNotRead: entry<{ what: string; reason: string; remedy: string }>({
    code: 'MEG069',
    severity: 'warning',
    title: 'Evidence could not be read',
    description:
      "The proxy's access log or stats could not be read or understood (RBAC on pods/log, an unreachable admin API, a custom access-log format, logs written to a file instead of stdout): the report covers only the evidence that was read.",
    message: (p) => `Could not read ${p.what} (${p.reason}). ${p.remedy}`,
  }),
} as const;
