/**
 * Naming the configuration objects behind Envoy resources, from what the dump itself says:
 * RDS virtual host names "<host>:<port>", cluster names "outbound|port|subset|host", and
 * Istio's filter_metadata.istio {config, services} on clusters and routes
 * (pilot/pkg/networking/util BuildConfigInfoMetadata / AddConfigInfoMetadata).
 */
import type { Cluster, Listener } from '../../model/envoy-types.js';
import { discoveryType, customClusterType, endpointsOf } from '../../envoy/cluster.js';
import { hcmConfig, networkFilterKind, tcpProxyConfig } from '../../envoy/filters.js';
import { hostOfVirtualHostName, istioMetadata, parseServiceCluster, serviceRefOfHost } from '../../envoy/istio-names.js';
import type { TraceContext } from './context.js';
import type { OutboundPolicy, Responsible } from './types.js';

export type ClusterRole = 'blackhole' | 'passthrough' | 'service' | 'other';

/**
 * What a cluster is for. Decided by its semantics when it is in the dump (a STATIC cluster with
 * no endpoints can only drop traffic; an ORIGINAL_DST or dynamic-forward-proxy cluster that does
 * not represent a service forwards to wherever the client was going), by Istio's reserved names
 * otherwise (pilot/pkg/networking/util: BlackHoleCluster, PassthroughCluster, AllowAnyDynamicDNSCluster).
 */
export function clusterRole(ctx: TraceContext, name: string, cluster?: Cluster): ClusterRole {
  const isService = parseServiceCluster(name) !== undefined || istioMetadata(cluster?.metadata).services.length > 0;
  if (cluster) {
    const type = discoveryType(cluster);
    if (type === 'STATIC' && !isService) {
      const eps = endpointsOf(ctx.dump, name, cluster);
      if (eps.endpoints.length === 0) return 'blackhole';
    }
    if (!isService && (type === 'ORIGINAL_DST' || (type === 'CUSTOM' && /dynamic_forward_proxy/.test(customClusterType(cluster) ?? '')))) return 'passthrough';
  } else {
    if (name === 'BlackHoleCluster') return 'blackhole';
    if (name === 'PassthroughCluster' || name === 'AllowAnyDynamicDNSCluster') return 'passthrough';
  }
  return isService ? 'service' : 'other';
}

export interface Owner {
  readonly host: string;
  readonly port?: number;
  readonly kind: 'Service' | 'ServiceEntry';
  readonly name?: string;
  readonly namespace?: string;
  readonly via: string;
}

function ownerOfHost(host: string, via: string, port?: number, meta?: { name?: string; namespace?: string }): Owner {
  const ref = serviceRefOfHost(host);
  if (ref.service) return { host, kind: 'Service', name: ref.service.name, namespace: ref.service.namespace, via, ...(port !== undefined ? { port } : {}) };
  return {
    host,
    kind: 'ServiceEntry',
    via,
    ...(meta?.namespace ? { namespace: meta.namespace } : {}),
    ...(port !== undefined ? { port } : {}),
  };
}

export function ownerLabel(o: Owner): string {
  if (o.kind === 'Service') return `Service ${o.namespace}/${o.name}`;
  return `ServiceEntry host ${o.host}${o.namespace ? ` (namespace ${o.namespace})` : ''}`;
}

/**
 * The services a shared listener serves: the virtual hosts of its HTTP route configurations and
 * the clusters of its TCP chains.
 */
export function listenerOwners(ctx: TraceContext, listener: Listener): Owner[] {
  const owners = new Map<string, Owner>();
  const add = (o: Owner): void => {
    if (!owners.has(o.host)) owners.set(o.host, o);
  };
  const chains = [...(listener.filter_chains ?? []), ...(listener.default_filter_chain ? [listener.default_filter_chain] : [])];
  for (const chain of chains) {
    for (const f of chain.filters ?? []) {
      const kind = networkFilterKind(f);
      if (kind === 'tcp_proxy') {
        const tp = tcpProxyConfig(f);
        const names = tp.cluster ? [tp.cluster] : (tp.weighted_clusters?.clusters ?? []).map((c) => c.name ?? '');
        for (const n of names) {
          const parsed = parseServiceCluster(n);
          if (parsed) add(ownerOfHost(parsed.host, `tcp_proxy cluster ${n}`, parsed.port));
        }
      } else if (kind === 'http_connection_manager') {
        const hcm = hcmConfig(f);
        const rc = hcm.route_config ?? (hcm.rds?.route_config_name ? ctx.dump.routeConfig(hcm.rds.route_config_name) : undefined);
        const rcName = hcm.route_config?.name ?? hcm.rds?.route_config_name ?? 'inline';
        for (const vh of rc?.virtual_hosts ?? []) {
          const host = hostOfVirtualHostName(vh.name);
          if (!host) continue;
          const portText = vh.name?.slice(vh.name.lastIndexOf(':') + 1);
          const port = portText && /^\d+$/.test(portText) ? Number(portText) : undefined;
          add(ownerOfHost(host, `route configuration ${rcName} virtual host ${vh.name}`, port));
        }
      }
    }
  }
  return [...owners.values()].sort((a, b) => a.host.localeCompare(b.host));
}

/**
 * The outbound traffic policy in force, from virtualOutbound's catch-all chain (Istio
 * buildVirtualOutboundListener: PassthroughCluster for ALLOW_ANY, BlackHoleCluster for
 * REGISTRY_ONLY, the Sidecar's egressProxy cluster otherwise). The dump cannot tell whether it
 * comes from the mesh config or a Sidecar resource.
 */
export function outboundPolicy(ctx: TraceContext): { policy: OutboundPolicy; cluster?: string } {
  const ref = ctx.listeners().boundOn(15001);
  if (!ref) return { policy: 'UNKNOWN' };
  const vo = ctx.listener(ref);
  if (!vo.use_original_dst) return { policy: 'UNKNOWN' };
  const chains = [...(vo.filter_chains ?? []), ...(vo.default_filter_chain ? [vo.default_filter_chain] : [])];
  // the catch-all chain matches on nothing that names a destination: not the loop guard
  // (destination_port 15001) nor Istio <= 1.5's pod-IP chain (prefix_ranges)
  const catchAll = chains.find((c) => {
    const m = c.filter_chain_match ?? {};
    return !m.destination_port && !(m.prefix_ranges?.length) && !(m.server_names?.length) && (c.filters ?? []).some((f) => networkFilterKind(f) === 'tcp_proxy');
  });
  const tp = catchAll?.filters?.find((f) => networkFilterKind(f) === 'tcp_proxy');
  const cluster = tp ? tcpProxyConfig(tp).cluster : undefined;
  if (!cluster) return { policy: 'UNKNOWN' };
  const loaded = ctx.cluster(cluster).active?.cluster;
  const role = clusterRole(ctx, cluster, loaded);
  if (role === 'passthrough') return { policy: 'ALLOW_ANY', cluster };
  if (role === 'blackhole') return { policy: 'REGISTRY_ONLY', cluster };
  return { policy: 'EGRESS_PROXY', cluster };
}

/** Blames what shaped a cluster: its service(s), and the DestinationRule recorded in its metadata. */
export function blameCluster(ctx: TraceContext, name: string, cluster: Cluster | undefined, role: string): void {
  const md = istioMetadata(cluster?.metadata);
  for (const cfg of md.configs) ctx.blame({ kind: cfg.kind, name: cfg.name, namespace: cfg.namespace, role: `shapes cluster ${name}` });
  const parsed = parseServiceCluster(name);
  const hosts = md.services.length ? md.services : parsed ? [{ host: parsed.host }] : [];
  for (const s of hosts) {
    const o = ownerOfHost(s.host, `cluster ${name}`, parsed?.port, s);
    ctx.blame(responsibleOf(o, role));
  }
}

export function responsibleOf(o: Owner, role: string): Responsible {
  return {
    kind: o.kind,
    ...(o.name ? { name: o.name } : {}),
    ...(o.namespace ? { namespace: o.namespace } : {}),
    host: o.host,
    role,
  };
}

/** Blames the VirtualService recorded on a route. */
export function blameRoute(ctx: TraceContext, md: Parameters<typeof istioMetadata>[0], routeName: string): void {
  for (const cfg of istioMetadata(md).configs) ctx.blame({ kind: cfg.kind, name: cfg.name, namespace: cfg.namespace, role: `defines route ${routeName}` });
}
