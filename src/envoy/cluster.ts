/**
 * Clusters, their endpoints, and whether the load balancer can pick a host.
 *
 * Envoy rules (source/common/upstream/upstream_impl.cc, load_balancer_impl.cc):
 * - discovery type defaults to STATIC when neither `type` nor `cluster_type` is set;
 * - EDS health: HEALTHY and UNKNOWN are healthy, DEGRADED is its own class, UNHEALTHY, TIMEOUT
 *   (and DRAINING) are not; /clusters also reports outlier ejection and active health checks;
 * - panic: when (healthy% + degraded%) < healthy_panic_threshold (default 50%), the LB picks from
 *   all hosts, unhealthy included; with threshold 0 it never panics;
 * - "no healthy upstream" (UH) only when no host can be picked: no hosts at all, or no
 *   healthy/degraded host with panic disabled.
 */
import type { ConfigDump } from '../model/config-dump.js';
import type { Address, Cluster, HealthStatus, LbEndpoint } from '../model/envoy-types.js';
import { typeName } from './values.js';

export type DiscoveryType = 'STATIC' | 'STRICT_DNS' | 'LOGICAL_DNS' | 'EDS' | 'ORIGINAL_DST' | 'CUSTOM';

const TYPE_BY_NUMBER: readonly DiscoveryType[] = ['STATIC', 'STRICT_DNS', 'LOGICAL_DNS', 'EDS', 'ORIGINAL_DST'];

export function discoveryType(c: Cluster): DiscoveryType {
  if (c.cluster_type) return 'CUSTOM';
  const t = c.type;
  if (typeof t === 'number') return TYPE_BY_NUMBER[t] ?? 'STATIC';
  if (t === 'STRICT_DNS' || t === 'LOGICAL_DNS' || t === 'EDS' || t === 'ORIGINAL_DST' || t === 'STATIC') return t;
  return 'STATIC';
}

/** The custom cluster extension, e.g. "envoy.clusters.dynamic_forward_proxy". */
export function customClusterType(c: Cluster): string | undefined {
  return c.cluster_type?.name ?? typeName(c.cluster_type?.typed_config?.['@type']);
}

export type EndpointHealth = 'healthy' | 'degraded' | 'unhealthy' | 'draining';

export interface EndpointInfo {
  readonly address: string;
  readonly health: EndpointHealth;
  /** why it is not healthy: "eds:UNHEALTHY", "outlier ejected", "active health check failed" */
  readonly reason: string | undefined;
  readonly priority: number;
  /** Istio endpoint metadata "workload;namespace;canonical-name;canonical-revision;cluster" */
  readonly workload: string | undefined;
}

export interface EndpointSet {
  /** 'eds' from include_eds, 'clusters' from /clusters?format=json, 'static' inline in the cluster, 'dns' resolved at runtime */
  readonly source: 'eds' | 'clusters' | 'static' | 'dns' | 'none';
  /** false when the inputs cannot tell (no EDS section, no /clusters) */
  readonly known: boolean;
  readonly endpoints: readonly EndpointInfo[];
}

function formatAddress(a: Address | undefined): string {
  const s = a?.socket_address;
  if (s) {
    const host = s.address ?? '?';
    const port = s.port_value ?? s.named_port ?? '';
    return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
  }
  if (a?.pipe?.path) return `unix:${a.pipe.path}`;
  if (a?.envoy_internal_address?.server_listener_name) return `internal:${a.envoy_internal_address.server_listener_name}`;
  return '?';
}

function edsHealth(h: HealthStatus | number | undefined): { health: EndpointHealth; reason?: string } {
  switch (h) {
    case 'UNHEALTHY':
    case 2:
      return { health: 'unhealthy', reason: 'eds:UNHEALTHY' };
    case 'TIMEOUT':
    case 4:
      return { health: 'unhealthy', reason: 'eds:TIMEOUT' };
    case 'DRAINING':
    case 3:
      return { health: 'draining', reason: 'eds:DRAINING' };
    case 'DEGRADED':
    case 5:
      return { health: 'degraded', reason: 'eds:DEGRADED' };
    default:
      return { health: 'healthy' };
  }
}

function workloadOf(ep: LbEndpoint): string | undefined {
  const istio = ep.metadata?.filter_metadata?.istio;
  const w = istio && typeof istio === 'object' ? (istio as Record<string, unknown>).workload : undefined;
  return typeof w === 'string' ? w : undefined;
}

function fromAssignment(assignment: Cluster['load_assignment']): EndpointInfo[] {
  const out: EndpointInfo[] = [];
  for (const loc of assignment?.endpoints ?? []) {
    for (const ep of loc.lb_endpoints ?? []) {
      const h = edsHealth(ep.health_status);
      out.push({ address: formatAddress(ep.endpoint?.address), health: h.health, reason: h.reason, priority: loc.priority ?? 0, workload: workloadOf(ep) });
    }
  }
  return out;
}

/** Endpoints of a cluster from the best source the inputs have. */
export function endpointsOf(dump: ConfigDump, name: string, cluster: Cluster): EndpointSet {
  const type = discoveryType(cluster);
  // /clusters?format=json is the live view (health checks, outlier ejection): prefer it
  const status = dump.clusterStatus(name);
  if (status) {
    const endpoints = (status.host_statuses ?? []).map((h): EndpointInfo => {
      const hs = h.health_status ?? {};
      let health: EndpointHealth = 'healthy';
      let reason: string | undefined;
      const eds = edsHealth(hs.eds_health_status);
      if (eds.health !== 'healthy') {
        health = eds.health;
        reason = eds.reason;
      }
      if (hs.failed_outlier_check) {
        health = 'unhealthy';
        reason = 'outlier ejected';
      }
      if (hs.failed_active_health_check) {
        health = 'unhealthy';
        reason = 'active health check failed';
      }
      if (hs.failed_active_degraded_check && health === 'healthy') {
        health = 'degraded';
        reason = 'active health check degraded';
      }
      return { address: formatAddress(h.address), health, reason, priority: h.priority ?? 0, workload: undefined };
    });
    return { source: 'clusters', known: true, endpoints };
  }
  if (type === 'EDS') {
    const cla = dump.endpoints(name);
    if (cla) return { source: 'eds', known: true, endpoints: fromAssignment(cla) };
    return { source: 'none', known: false, endpoints: [] };
  }
  if (type === 'STRICT_DNS' || type === 'LOGICAL_DNS') {
    // the configured names are resolved at runtime; the dump only shows what will be resolved
    return { source: 'dns', known: false, endpoints: fromAssignment(cluster.load_assignment) };
  }
  if (type === 'STATIC') {
    const inline = fromAssignment(cluster.load_assignment);
    // v2 clusters listed hosts directly
    for (const a of cluster.hosts ?? []) inline.push({ address: formatAddress(a), health: 'healthy', reason: undefined, priority: 0, workload: undefined });
    return { source: 'static', known: true, endpoints: inline };
  }
  return { source: 'none', known: false, endpoints: [] };
}

export interface Availability {
  readonly total: number;
  readonly healthy: number;
  readonly degraded: number;
  readonly thresholdPercent: number;
  /** the load balancer ignores health and uses all hosts */
  readonly panic: boolean;
  /** no host can be picked: Envoy answers "no healthy upstream" (UH) */
  readonly noHost: boolean;
}

export function panicThreshold(c: Cluster): number {
  const v = c.common_lb_config?.healthy_panic_threshold?.value;
  if (v === undefined) {
    // an explicit empty Percent message ({}) means 0 (panic disabled)
    return c.common_lb_config?.healthy_panic_threshold !== undefined ? 0 : 50;
  }
  return Math.min(100, Math.max(0, Number(v)));
}

export function availability(c: Cluster, eps: readonly EndpointInfo[]): Availability {
  const usable = eps.filter((e) => e.health !== 'draining');
  const total = usable.length;
  const healthy = usable.filter((e) => e.health === 'healthy').length;
  const degraded = usable.filter((e) => e.health === 'degraded').length;
  const threshold = panicThreshold(c);
  const pct = total === 0 ? 0 : (100 * (healthy + degraded)) / total;
  const panic = total > 0 && pct < threshold;
  const noHost = total === 0 || (healthy + degraded === 0 && !panic);
  return { total, healthy, degraded, thresholdPercent: threshold, panic, noHost };
}

export type TlsOrigination =
  /** plaintext upstream */
  | 'none'
  /** auto mTLS: transport_socket_matches with tlsMode=istio, applied only to mesh endpoints (their sidecar terminates it) */
  | 'istio-auto'
  /** transport_socket with Istio's SDS certificates (DestinationRule ISTIO_MUTUAL) */
  | 'istio-mutual'
  /** transport_socket with other certificates or none (DestinationRule SIMPLE / MUTUAL): the server itself must speak TLS */
  | 'tls';

/** How the cluster secures the upstream connection. */
export function tlsOrigination(c: Cluster): { kind: TlsOrigination; sni?: string } {
  const ctx = c.transport_socket?.typed_config;
  if (typeName(ctx?.['@type'])?.endsWith('UpstreamTlsContext') || c.tls_context) {
    const raw = JSON.stringify(ctx ?? c.tls_context ?? {});
    const sni = ctx && typeof ctx.sni === 'string' ? ctx.sni : undefined;
    // Istio's ISTIO_MUTUAL uses the SDS secrets "default" and "ROOTCA"
    const istio = raw.includes('"default"') && raw.includes('ROOTCA');
    return { kind: istio ? 'istio-mutual' : 'tls', ...(sni ? { sni } : {}) };
  }
  const auto = (c.transport_socket_matches ?? []).some((m) => typeName(m.transport_socket?.typed_config?.['@type'])?.endsWith('UpstreamTlsContext'));
  return { kind: auto ? 'istio-auto' : 'none' };
}
