/**
 * What `multicluster` knows about each cluster of a mesh, and about the proxy it was asked to look
 * through (--from). Live collection (collect/multicluster.ts) and snapshots produce these same shapes;
 * analysis (analyze/multicluster/) reads only them. None of it carries a secret: certificates appear as
 * SHA-256 fingerprints, remote-secret kubeconfigs as summaries (model/remote-secret.ts), log lines as
 * the error messages Istio logs. A piece that could not be read is a gap, never an empty list.
 */
import type { CollectionGap } from './cluster-view.js';
import type { KubeconfigSummary } from './remote-secret.js';

/** Root certificates from one place, as fingerprints (model/certs.ts). */
export interface RootSet {
  /** where they were read: `secret istio-system/cacerts root-cert.pem`, `configmap istio-system/istio-ca-root-cert`, `proxy ROOTCA` */
  readonly source: string;
  readonly fingerprints: readonly string[];
  /** blocks that were not readable certificates */
  readonly invalid: number;
}

export interface IstiodPod {
  readonly name: string;
  readonly running: boolean;
  readonly revision?: string;
  readonly version?: string;
  /** the discovery container's CLUSTER_ID env (Helm: global.multiCluster.clusterName, default "Kubernetes") */
  readonly clusterId?: string;
  /** PILOT_INSECURE_MULTICLUSTER_KUBECONFIG_OPTIONS, split */
  readonly insecureKubeconfigOptions?: readonly string[];
  /**
   * PILOT_MULTICLUSTER_KUBECONFIG_PATH: istiod reads remote kubeconfigs from files in this directory and
   * then ignores remote Secrets (pkg/kube/multicluster/secretcontroller.go NewController: "Local filesystem
   * source takes precedence over secret-based discovery"; Istio 1.30+, commit 314fde0e8dc)
   */
  readonly remoteKubeconfigPath?: string;
}

/** One data key of one remote secret. */
export interface RemoteSecretEntry {
  readonly secret: string;
  /** the data key: the cluster ID istiod registers the remote cluster under */
  readonly key: string;
  /** networking.istio.io/cluster annotation (istioctl create-remote-secret --name) */
  readonly annotatedCluster?: string;
  readonly kubeconfig: KubeconfigSummary;
}

/** One `istioctl remote-clusters` row: istiod's /debug/clusterz (pkg/cluster/debug.go DebugInfo). */
export interface ClusterzEntry {
  readonly id: string;
  readonly secretName: string;
  readonly syncStatus: string;
}

/** An istiod log line about remote clusters. */
export interface ControlPlaneLogEvent {
  readonly pod: string;
  /** the line's own timestamp (Istio's log format), when it has one */
  readonly time?: string;
  readonly level: string;
  /** the message with credentials-looking text removed, at most 400 characters */
  readonly message: string;
  /** the `cluster=` label or the cluster ID named in the message */
  readonly cluster?: string;
  /** what it is about: create-failed, sync-timeout, already-registered, ignored-config-cluster, legacy-add-failed, other */
  readonly kind: string;
}

/** A Service labelled topology.istio.io/network (an east-west gateway, pilot networkManager.getGatewayDetails). */
export interface NetworkGateway {
  readonly namespace: string;
  readonly name: string;
  readonly network: string;
  /** the mTLS port: networking.istio.io/gatewayPort or 15443, when the Service has it */
  readonly mtlsPort?: number;
  /** 15008, when the Service has it (ambient double-HBONE) */
  readonly hbonePort?: boolean;
  readonly type: string;
  /** external addresses istiod would use (LoadBalancer ingress, externalIPs) */
  readonly addresses: readonly string[];
  /** node port of the mTLS port, for NodePort Services annotated traffic.istio.io/nodeSelector */
  readonly nodePort?: number;
  /** a NodePort Service without traffic.istio.io/nodeSelector: istiod gives it no node addresses */
  readonly nodePortWithoutSelector?: true;
  readonly selector: Readonly<Record<string, string>>;
  readonly labels: Readonly<Record<string, string>>;
}

/** A Gateway with a TLS AUTO_PASSTHROUGH server (samples/multicluster/expose-services.yaml). */
export interface PassthroughGateway {
  readonly namespace: string;
  readonly name: string;
  readonly port: number;
  readonly hosts: readonly string[];
  readonly selector: Readonly<Record<string, string>>;
}

/** meshNetworks (ConfigMap istio, key meshNetworks), reduced to what the checks need. */
export interface MeshNetworks {
  readonly networks: readonly {
    readonly name: string;
    readonly fromRegistry: readonly string[];
    readonly fromCidr: readonly string[];
    readonly gateways: readonly { readonly registryServiceName?: string; readonly address?: string; readonly port?: number }[];
  }[];
}

export interface LabelSelectorSpec {
  readonly matchLabels?: Readonly<Record<string, string>>;
  readonly matchExpressions?: readonly { readonly key: string; readonly operator: string; readonly values?: readonly string[] }[];
}

export interface ClusterFacts {
  readonly context: string;
  /** the API server this context points at (kubeconfig) */
  readonly server?: string;
  readonly readable: boolean;
  /** why the cluster could not be read at all */
  readonly error?: string;
  readonly controlPlaneNamespace: string;
  /** istiod pods in the control-plane namespace (undefined: not read) */
  readonly istiod?: readonly IstiodPod[];
  /** istio-sidecar-injector values: what proxies get (ISTIO_META_CLUSTER_ID, ISTIO_META_NETWORK) */
  readonly injector?: { readonly clusterName?: string; readonly network?: string; readonly meshId?: string };
  /** secret cacerts: undefined = not read (gap), null = absent */
  readonly cacerts?: RootSet | null;
  /** configmap istio-ca-root-cert in the control-plane namespace (public: what proxies are given) */
  readonly distributedRoots?: RootSet | null;
  /** why Secrets were deliberately not read (snapshots) */
  readonly secretsNotRead?: string;
  /** remote secrets (undefined: not read) */
  readonly remoteSecrets?: readonly RemoteSecretEntry[];
  /** istiod's /debug/clusterz (undefined: not read; see clusterzError) */
  readonly clusterz?: readonly ClusterzEntry[];
  readonly clusterzError?: string;
  /** istiod log events about remote clusters (undefined: logs not read) */
  readonly logEvents?: readonly ControlPlaneLogEvent[];
  /** the log window asked for, e.g. "1h" */
  readonly logSince: string;
  /** topology.istio.io/network label of the control-plane namespace */
  readonly namespaceNetwork?: string;
  readonly meshNetworks?: MeshNetworks;
  readonly discoverySelectors?: readonly LabelSelectorSpec[];
  readonly trustDomain?: string;
  /** Services labelled topology.istio.io/network (undefined: not read) */
  readonly gateways?: readonly NetworkGateway[];
  /** Gateways with AUTO_PASSTHROUGH servers (undefined: not read, e.g. CRD missing) */
  readonly passthrough?: readonly PassthroughGateway[];
  readonly gaps: readonly CollectionGap[];
}

export interface ServicePortFacts {
  readonly name?: string;
  readonly port: number;
  readonly protocol: string;
  readonly targetPort?: string;
  readonly appProtocol?: string;
}

/** SERVICE in one cluster. */
export interface ServiceFacts {
  readonly context: string;
  /** the Service exists (false: absent; undefined: not read) */
  readonly present?: boolean;
  readonly type?: string;
  readonly headless?: boolean;
  readonly ports?: readonly ServicePortFacts[];
  /** networking.istio.io/exportTo, split */
  readonly exportTo?: readonly string[];
  /** the namespace's labels (undefined: not read; null: no such namespace) */
  readonly namespaceLabels?: Readonly<Record<string, string>> | null;
  /** ready endpoint addresses (EndpointSlices); undefined: not read */
  readonly endpoints?: readonly { readonly ip: string; readonly pod?: string; readonly ready: boolean }[];
  readonly gaps: readonly CollectionGap[];
}

/** One endpoint of `outbound|port||host` in the proxy's EDS. */
export interface ProxyEndpoint {
  readonly address: string;
  readonly port: number;
  readonly health: string;
  /** the last field of filter_metadata.istio.workload (pilot/pkg/networking/util AppendLbEndpointMetadata) */
  readonly clusterId?: string;
  readonly workload?: string;
}

export interface TlsErrorSummary {
  /** BoringSSL reason, e.g. HTTP_REQUEST */
  readonly reason: string;
  /** the packed error code as Envoy prints it, e.g. 268435612 */
  readonly code: string;
  readonly count: number;
  readonly first?: string;
  readonly last?: string;
  /** one log line, shortened */
  readonly sample: string;
}

/** The proxy named by --from. */
export interface ProxyFacts {
  readonly context: string;
  readonly pod: string;
  readonly namespace: string;
  /** ISTIO_META_CLUSTER_ID of the istio-proxy container */
  readonly clusterId?: string;
  /** ISTIO_META_NETWORK */
  readonly network?: string;
  readonly via?: string;
  /** the proxy's ROOTCA trusted_ca (undefined: not read, see rootError) */
  readonly roots?: RootSet;
  readonly rootError?: string;
  /** EDS per outbound cluster of SERVICE (undefined: not read) */
  readonly clusters?: readonly { readonly name: string; readonly port: number; readonly endpoints: readonly ProxyEndpoint[] }[];
  readonly edsError?: string;
  readonly tlsErrors?: readonly TlsErrorSummary[];
  readonly logError?: string;
  readonly logSince: string;
}

/** SERVICE as the user named it: NAME.NAMESPACE[:PORT]. */
export interface ServiceRef {
  readonly name: string;
  readonly namespace: string;
  readonly port?: number;
}

type Json = Record<string, unknown>;
const obj = (v: unknown): Json => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : {});
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const pick = (o: Json, snake: string, camel: string): unknown => o[snake] ?? o[camel];

function reEscape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Matches `outbound|PORT||NAME.NS.svc.<domain>` (no subset) and captures the port. */
export function outboundClusterPattern(ref: ServiceRef): RegExp {
  return new RegExp(`^outbound\\|(${ref.port ?? '\\d+'})\\|\\|${reEscape(ref.name)}\\.${reEscape(ref.namespace)}\\.svc\\.[^|]+$`);
}

/** The same pattern as an RE2 full-match name_regex for Envoy's /config_dump. */
export function outboundClusterRegex(ref: ServiceRef): string {
  return `outbound\\|${ref.port ?? '[0-9]+'}\\|\\|${reEscape(ref.name)}\\.${reEscape(ref.namespace)}\\.svc\\..*`;
}

/**
 * The endpoints of one ClusterLoadAssignment (snake_case or camelCase JSON). The cluster ID is the last
 * field of filter_metadata.istio.workload ("name;namespace;canonical name;revision;cluster ID",
 * pilot/pkg/networking/util/util.go AppendLbEndpointMetadata); Envoy's config dump keeps endpoint
 * metadata (source/server/admin/config_dump_handler.cc addLbEndpoint).
 */
export function proxyEndpoints(cla: unknown): ProxyEndpoint[] {
  const endpoints: ProxyEndpoint[] = [];
  for (const loc of arr(obj(cla).endpoints)) {
    for (const lb of arr(pick(obj(loc), 'lb_endpoints', 'lbEndpoints'))) {
      const l = obj(lb);
      const sa = obj(pick(obj(obj(l.endpoint).address), 'socket_address', 'socketAddress'));
      if (typeof sa.address !== 'string') continue;
      const istio = obj(obj(pick(obj(l.metadata), 'filter_metadata', 'filterMetadata')).istio);
      const workload = typeof istio.workload === 'string' ? istio.workload : undefined;
      const clusterId = workload?.split(';')[4];
      endpoints.push({
        address: sa.address,
        port: Number(pick(sa, 'port_value', 'portValue') ?? 0),
        health: String(pick(l, 'health_status', 'healthStatus') ?? 'UNKNOWN'),
        ...(clusterId ? { clusterId } : {}),
        ...(workload ? { workload } : {}),
      });
    }
  }
  return endpoints.sort((a, b) => a.address.localeCompare(b.address) || a.port - b.port);
}

/**
 * SERVICE's outbound clusters in a config dump answer: `resource=dynamic_endpoint_configs` elements
 * (DynamicEndpointConfig) or whole EndpointsConfigDump documents.
 */
export function serviceEndpointsFromDump(doc: unknown, ref: ServiceRef): NonNullable<ProxyFacts['clusters']> {
  const re = outboundClusterPattern(ref);
  const out: { name: string; port: number; endpoints: ProxyEndpoint[] }[] = [];
  const visit = (wrapper: unknown): void => {
    const cla = obj(pick(obj(wrapper), 'endpoint_config', 'endpointConfig'));
    const name = String(pick(cla, 'cluster_name', 'clusterName') ?? '');
    const m = re.exec(name);
    if (m && !out.some((o) => o.name === name)) out.push({ name, port: Number(m[1]), endpoints: proxyEndpoints(cla) });
  };
  for (const c of arr(obj(doc).configs)) {
    const o = obj(c);
    if (pick(o, 'endpoint_config', 'endpointConfig')) visit(o);
    for (const w of [...arr(pick(o, 'dynamic_endpoint_configs', 'dynamicEndpointConfigs')), ...arr(pick(o, 'static_endpoint_configs', 'staticEndpointConfigs'))]) visit(w);
  }
  return out.sort((a, b) => a.port - b.port);
}
