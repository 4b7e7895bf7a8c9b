/**
 * Who each cluster is in the mesh, as Istio decides it: its cluster ID, its network, its root of
 * trust, the east-west gateways that reach it. Pure functions over ClusterFacts.
 */
import type { ClusterFacts, LabelSelectorSpec, NetworkGateway, RootSet } from '../../model/multicluster.js';

/** istiod's default CLUSTER_ID (pilot features.ClusterName; Helm global.multiCluster.clusterName default). */
export const DEFAULT_CLUSTER_ID = 'Kubernetes';

export interface Identity {
  readonly id: string;
  readonly source: string;
}

/** The cluster ID istiod runs as; for a cluster without istiod, what its proxies are told. */
export function clusterIdentity(c: ClusterFacts): Identity | undefined {
  const pods = c.istiod ?? [];
  const running = pods.find((p) => p.running) ?? pods[0];
  if (running) {
    return running.clusterId !== undefined
      ? { id: running.clusterId, source: `istiod ${running.name} CLUSTER_ID` }
      : { id: DEFAULT_CLUSTER_ID, source: `istiod ${running.name} (no CLUSTER_ID: the default)` };
  }
  if (c.injector?.clusterName) return { id: c.injector.clusterName, source: 'istio-sidecar-injector values global.multiCluster.clusterName' };
  return undefined;
}

export function hasIstiod(c: ClusterFacts): boolean {
  return (c.istiod ?? []).some((p) => p.running);
}

export interface NetworkOf {
  /** '' = no network set (the default network) */
  readonly network: string;
  readonly source: string;
}

/**
 * The network istiod puts this cluster's endpoints on (pilot kube controller networkManager): the
 * topology.istio.io/network label of the system namespace; else meshNetworks `fromRegistry: <cluster ID>`;
 * the injector's global.network is what the proxies are told (ISTIO_META_NETWORK) and stands in when
 * neither is set.
 */
export function networkOf(c: ClusterFacts, all: readonly ClusterFacts[]): NetworkOf {
  if (c.namespaceNetwork) return { network: c.namespaceNetwork, source: `label topology.istio.io/network on namespace ${c.controlPlaneNamespace}` };
  const id = clusterIdentity(c)?.id;
  if (id) {
    for (const owner of [c, ...all.filter((o) => o !== c)]) {
      const n = owner.meshNetworks?.networks.find((x) => x.fromRegistry.includes(id));
      if (n) return { network: n.name, source: `meshNetworks fromRegistry ${id}${owner === c ? '' : ` (in ${owner.context})`}` };
    }
  }
  if (c.injector?.network) return { network: c.injector.network, source: 'istio-sidecar-injector values global.network' };
  return { network: '', source: 'not set' };
}

/** The roots that sign this cluster's workload certificates, and where they were read. */
export interface SigningRoot {
  readonly roots: RootSet;
  /** plugged-in (cacerts) or istiod's own self-signed root */
  readonly kind: 'plugged-in' | 'self-signed' | 'distributed';
}

export function signingRoot(c: ClusterFacts): SigningRoot | undefined {
  if (c.cacerts && c.cacerts.fingerprints.length > 0) return { roots: c.cacerts, kind: 'plugged-in' };
  if (c.distributedRoots && c.distributedRoots.fingerprints.length > 0) {
    return { roots: c.distributedRoots, kind: c.cacerts === null ? 'self-signed' : 'distributed' };
  }
  return undefined;
}

export function sameSet(a: readonly string[], b: readonly string[]): boolean {
  const sa = new Set(a);
  return sa.size === new Set(b).size && b.every((x) => sa.has(x));
}

export function intersects(a: readonly string[], b: readonly string[]): boolean {
  const sa = new Set(a);
  return b.some((x) => sa.has(x));
}

/** An east-west gateway istiod can hand out: the mTLS port and an external address (or a node port). */
export function gatewayUsable(g: NetworkGateway): { ok: true; endpoints: string[] } | { ok: false; why: string } {
  if (g.mtlsPort === undefined) {
    return { ok: false, why: `${g.namespace}/${g.name} does not expose port ${g.labels['networking.istio.io/gatewayPort'] ?? 15443}${g.hbonePort ? ' (only 15008, the ambient HBONE port)' : ''}` };
  }
  if (g.addresses.length === 0 && g.nodePort === undefined) {
    const why =
      g.type === 'LoadBalancer'
        ? ' yet: the load balancer is still pending'
        : g.nodePortWithoutSelector
          ? ': istiod uses the node addresses of a NodePort gateway only when it is annotated traffic.istio.io/nodeSelector (pilot kube controller addOrUpdateService)'
          : ': use type LoadBalancer, or externalIPs';
    return { ok: false, why: `${g.namespace}/${g.name} (type ${g.type}) has no external address${why}` };
  }
  return { ok: true, endpoints: g.addresses.map((a) => `${a}:${g.mtlsPort}`) };
}

/** matchLabels and matchExpressions (In, NotIn, Exists, DoesNotExist) as Kubernetes evaluates them. */
export function selectorMatches(sel: LabelSelectorSpec, labels: Readonly<Record<string, string>>): boolean {
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const e of sel.matchExpressions ?? []) {
    const has = Object.prototype.hasOwnProperty.call(labels, e.key);
    const v = labels[e.key];
    switch (e.operator) {
      case 'In':
        if (!has || !(e.values ?? []).includes(v!)) return false;
        break;
      case 'NotIn':
        if (has && (e.values ?? []).includes(v!)) return false;
        break;
      case 'Exists':
        if (!has) return false;
        break;
      case 'DoesNotExist':
        if (has) return false;
        break;
      default:
        return false;
    }
  }
  return true;
}

/** discoverySelectors: a namespace is discovered when any selector matches it (none = all). */
export function discovered(selectors: readonly LabelSelectorSpec[] | undefined, labels: Readonly<Record<string, string>>): boolean {
  if (!selectors || selectors.length === 0) return true;
  return selectors.some((s) => selectorMatches(s, labels));
}
