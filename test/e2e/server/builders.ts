/**
 * Builders for realistic Kubernetes objects, shaped the way the API server returns them (uid,
 * creationTimestamp, ownerReferences, container statuses, Istio injection annotations).
 * Identifiers are derived from names so fixtures are stable across runs.
 */
import crypto from 'node:crypto';
import type { KubeObject, OwnerReference } from './types.js';

export const DEFAULT_TIMESTAMP = '2026-01-05T08:00:00Z';
export const DEFAULT_ISTIO_VERSION = '1.26.2';

/** A stable RFC 4122-looking UID for (kind, namespace, name). */
export function stableUid(...parts: string[]): string {
  const h = crypto.createHash('sha1').update(parts.join('/')).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

function hashHex(s: string, n: number): string {
  return crypto.createHash('sha256').update(s).digest('hex').slice(0, n);
}

/** The ReplicaSet pod-template-hash alphabet (k8s rand.SafeEncodeString). */
function safeHash(s: string, n: number): string {
  const alphabet = 'bcdfghjklmnpqrstvwxz2456789';
  const d = crypto.createHash('sha256').update(s).digest();
  let out = '';
  for (let i = 0; i < n; i++) out += alphabet[(d[i] ?? 0) % alphabet.length];
  return out;
}

function ipFrom(seed: string, prefix: string): string {
  const d = crypto.createHash('md5').update(seed).digest();
  return `${prefix}.${(d[0] ?? 0) % 250}.${((d[1] ?? 0) % 250) + 2}`;
}

export function ownerRef(owner: KubeObject, controller = true): OwnerReference {
  return {
    apiVersion: owner.apiVersion,
    kind: owner.kind,
    name: owner.metadata.name ?? '',
    uid: owner.metadata.uid ?? stableUid(owner.kind, owner.metadata.namespace ?? '', owner.metadata.name ?? ''),
    controller,
    blockOwnerDeletion: true,
  };
}

function meta(kind: string, name: string, namespace: string | undefined, o: { labels?: Record<string, string>; annotations?: Record<string, string>; creationTimestamp?: string; uid?: string; ownerReferences?: OwnerReference[] }): KubeObject['metadata'] {
  return {
    name,
    ...(namespace !== undefined ? { namespace } : {}),
    uid: o.uid ?? stableUid(kind, namespace ?? '', name),
    resourceVersion: '1',
    creationTimestamp: o.creationTimestamp ?? DEFAULT_TIMESTAMP,
    ...(o.labels && Object.keys(o.labels).length ? { labels: { ...o.labels } } : {}),
    ...(o.annotations && Object.keys(o.annotations).length ? { annotations: { ...o.annotations } } : {}),
    ...(o.ownerReferences?.length ? { ownerReferences: o.ownerReferences } : {}),
  };
}

export function namespace(name: string, labels: Record<string, string> = {}): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: meta('Namespace', name, undefined, { labels: { 'kubernetes.io/metadata.name': name, ...labels } }),
    spec: { finalizers: ['kubernetes'] },
    status: { phase: 'Active' },
  };
}

export interface ContainerSpec {
  name: string;
  image?: string;
  ports?: { containerPort: number; name?: string; protocol?: string }[];
  args?: string[];
  command?: string[];
  env?: { name: string; value?: string }[];
  restartPolicy?: 'Always';
  [key: string]: unknown;
}

export interface SidecarOptions {
  istioVersion?: string;
  /** istio-proxy as an init container with restartPolicy Always (Kubernetes native sidecar, Istio ENABLE_NATIVE_SIDECARS). */
  native?: boolean;
  /** istio-cni instead of the istio-init container. */
  cni?: boolean;
  /** Extra pod annotations such as traffic.sidecar.istio.io/excludeOutboundIPRanges. */
  annotations?: Record<string, string>;
}

export interface PodOptions {
  name: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  containers?: (string | ContainerSpec)[];
  initContainers?: (string | ContainerSpec)[];
  /** Inject an Istio sidecar (true = classic istio-proxy container + istio-init). */
  sidecar?: boolean | SidecarOptions;
  phase?: 'Pending' | 'Running' | 'Succeeded' | 'Failed' | 'Unknown';
  /** Pending pods are unscheduled (no nodeName) unless this is true. */
  scheduled?: boolean;
  /** Containers whose status is not running (waiting CrashLoopBackOff) although the pod is Running. */
  notRunning?: string[];
  ready?: boolean;
  podIP?: string;
  nodeName?: string;
  serviceAccountName?: string;
  owner?: KubeObject;
  creationTimestamp?: string;
  restartCount?: number;
  /** Merged into status last (escape hatch for exotic states). */
  status?: Record<string, unknown>;
}

const toContainer = (c: string | ContainerSpec): ContainerSpec => (typeof c === 'string' ? { name: c } : c);

function istioProxy(version: string, native: boolean): ContainerSpec {
  return {
    name: 'istio-proxy',
    image: `docker.io/istio/proxyv2:${version}`,
    args: ['proxy', 'sidecar', '--domain', '$(POD_NAMESPACE).svc.cluster.local', '--proxyLogLevel=warning', '--proxyComponentLogLevel=misc:error', '--log_output_level=default:info'],
    ports: [{ containerPort: 15090, name: 'http-envoy-prom', protocol: 'TCP' }],
    env: [{ name: 'PILOT_CERT_PROVIDER', value: 'istiod' }, { name: 'CA_ADDR', value: 'istiod.istio-system.svc:15012' }, { name: 'ISTIO_META_CLUSTER_ID', value: 'Kubernetes' }],
    readinessProbe: { httpGet: { path: '/healthz/ready', port: 15021 }, periodSeconds: 15, failureThreshold: 4 },
    securityContext: { runAsUser: 1337, runAsGroup: 1337, runAsNonRoot: true, readOnlyRootFilesystem: true },
    ...(native ? { restartPolicy: 'Always' as const } : {}),
  };
}

/**
 * istio-init (or, with istio-cni, istio-validation), with the arguments Istio's injection template
 * renders from the pod's traffic annotations (manifests/charts/istio-control/istio-discovery/files/
 * injection-template.yaml): -i/-x default "*"/"", -q/-o only when annotated.
 */
function istioInit(version: string, ann: Record<string, string>, cni: boolean): ContainerSpec {
  const a = (k: string, d: string): string => ann[`traffic.sidecar.istio.io/${k}`] ?? d;
  const optional = (flag: string, k: string): string[] => (ann[`traffic.sidecar.istio.io/${k}`] !== undefined ? [flag, a(k, '')] : []);
  return {
    name: cni ? 'istio-validation' : 'istio-init',
    image: `docker.io/istio/proxyv2:${version}`,
    args: [
      'istio-iptables', '-p', '15001', '-z', '15006', '-u', '1337', '-m', ann['sidecar.istio.io/interceptionMode'] ?? 'REDIRECT',
      '-i', a('includeOutboundIPRanges', '*'), '-x', a('excludeOutboundIPRanges', ''), '-b', a('includeInboundPorts', '*'), '-d', '15090,15021,15020',
      ...optional('-q', 'includeOutboundPorts'), ...optional('-o', 'excludeOutboundPorts'),
      '--log_output_level=default:info',
      ...(cni ? ['--run-validation', '--skip-rule-apply'] : []),
    ],
  };
}

/** The annotations the injection template adds for istio-cni, which reads them at pod sandbox creation. */
function cniAnnotations(ann: Record<string, string>): Record<string, string> {
  const t = (k: string): string | undefined => ann[`traffic.sidecar.istio.io/${k}`];
  return {
    'sidecar.istio.io/interceptionMode': ann['sidecar.istio.io/interceptionMode'] ?? 'REDIRECT',
    // `with` in the template: written only when non-empty
    'traffic.sidecar.istio.io/includeOutboundIPRanges': t('includeOutboundIPRanges') || '*',
    ...(t('excludeOutboundIPRanges') ? { 'traffic.sidecar.istio.io/excludeOutboundIPRanges': t('excludeOutboundIPRanges')! } : {}),
    'traffic.sidecar.istio.io/includeInboundPorts': t('includeInboundPorts') ?? '*',
    'traffic.sidecar.istio.io/excludeInboundPorts': '15020',
    ...(t('includeOutboundPorts') !== undefined ? { 'traffic.sidecar.istio.io/includeOutboundPorts': t('includeOutboundPorts')! } : {}),
    ...(t('excludeOutboundPorts') !== undefined ? { 'traffic.sidecar.istio.io/excludeOutboundPorts': t('excludeOutboundPorts')! } : {}),
  };
}

function runningStatus(c: ContainerSpec, o: { ready: boolean; restartCount: number; started: string; running: boolean; init?: boolean; completed?: boolean }): Record<string, unknown> {
  const image = c.image ?? `registry.example.com/${c.name}:1.0`;
  const id = `containerd://${hashHex(`${c.name}/${image}/${o.started}`, 64)}`;
  const state = o.completed
    ? { terminated: { exitCode: 0, reason: 'Completed', startedAt: o.started, finishedAt: o.started, containerID: id } }
    : o.running
      ? { running: { startedAt: o.started } }
      : { waiting: { reason: o.init ? 'PodInitializing' : 'ContainerCreating' } };
  return {
    name: c.name,
    state,
    lastState: {},
    ready: o.completed ? false : o.ready && o.running,
    restartCount: o.restartCount,
    image,
    imageID: `${image.replace(/:.*$/, '')}@sha256:${hashHex(image, 64)}`,
    ...(o.running || o.completed ? { containerID: id } : {}),
    started: o.running && !o.completed,
  };
}

/** A Pod as `GET /api/v1/namespaces/ns/pods/name` returns it. */
export function pod(o: PodOptions): KubeObject {
  const ns = o.namespace ?? 'default';
  const version = typeof o.sidecar === 'object' ? (o.sidecar.istioVersion ?? DEFAULT_ISTIO_VERSION) : DEFAULT_ISTIO_VERSION;
  const sc: SidecarOptions | undefined = o.sidecar === true ? {} : o.sidecar === false ? undefined : o.sidecar;
  const containers: ContainerSpec[] = (o.containers ?? [{ name: 'app', image: 'registry.example.com/app:1.0', ports: [{ containerPort: 8080, protocol: 'TCP' }] }]).map(toContainer).map((c) => ({ image: `registry.example.com/${c.name}:1.0`, imagePullPolicy: 'IfNotPresent', ...c }));
  const inits: ContainerSpec[] = (o.initContainers ?? []).map(toContainer).map((c) => ({ image: `registry.example.com/${c.name}:1.0`, imagePullPolicy: 'IfNotPresent', ...c }));
  const labels = { ...(o.labels ?? {}) };
  const annotations = { ...(o.annotations ?? {}) };
  if (sc) {
    const appName = labels.app ?? o.name.replace(/-[a-z0-9]+-[a-z0-9]+$/, '');
    if (sc.native) inits.push(istioProxy(version, true));
    else containers.push(istioProxy(version, false));
    const traffic = { ...annotations, ...(sc.annotations ?? {}) };
    inits.unshift(istioInit(version, traffic, sc.cni === true));
    if (sc.cni) Object.assign(annotations, cniAnnotations(traffic));
    Object.assign(labels, { 'security.istio.io/tlsMode': 'istio', 'service.istio.io/canonical-name': appName, 'service.istio.io/canonical-revision': labels.version ?? 'latest' });
    Object.assign(annotations, {
      'istio.io/rev': 'default',
      'kubectl.kubernetes.io/default-container': containers[0]?.name ?? 'istio-proxy',
      'kubectl.kubernetes.io/default-logs-container': containers[0]?.name ?? 'istio-proxy',
      'prometheus.io/path': '/stats/prometheus',
      'prometheus.io/port': '15020',
      'prometheus.io/scrape': 'true',
      'sidecar.istio.io/status': JSON.stringify({
        initContainers: [sc.cni ? 'istio-validation' : 'istio-init', ...(sc.native ? ['istio-proxy'] : [])],
        containers: sc.native ? [] : ['istio-proxy'],
        volumes: ['workload-socket', 'credential-socket', 'workload-certs', 'istio-envoy', 'istio-data', 'istio-podinfo', 'istio-token', 'istiod-ca-cert'],
        imagePullSecrets: null,
        revision: 'default',
      }),
      ...(sc.annotations ?? {}),
    });
  }
  const phase = o.phase ?? 'Running';
  const scheduled = phase !== 'Pending' || o.scheduled === true;
  const nodeName = scheduled ? (o.nodeName ?? 'node-1') : undefined;
  const started = o.creationTimestamp ?? DEFAULT_TIMESTAMP;
  const running = phase === 'Running';
  const ready = o.ready ?? running;
  const notRunning = new Set(o.notRunning ?? []);
  const podIP = scheduled && phase !== 'Pending' ? (o.podIP ?? ipFrom(`${ns}/${o.name}`, '10.244')) : undefined;
  const conditions = [
    { type: 'PodReadyToStartContainers', status: scheduled ? 'True' : 'False', lastProbeTime: null, lastTransitionTime: started },
    { type: 'Initialized', status: running || phase === 'Succeeded' ? 'True' : 'False', lastProbeTime: null, lastTransitionTime: started },
    { type: 'Ready', status: ready ? 'True' : 'False', lastProbeTime: null, lastTransitionTime: started },
    { type: 'ContainersReady', status: ready ? 'True' : 'False', lastProbeTime: null, lastTransitionTime: started },
    { type: 'PodScheduled', status: scheduled ? 'True' : 'False', lastProbeTime: null, lastTransitionTime: started, ...(scheduled ? {} : { reason: 'Unschedulable', message: '0/1 nodes are available: 1 Insufficient cpu.' }) },
  ];
  const status: Record<string, unknown> = {
    phase,
    conditions,
    ...(scheduled ? { hostIP: '172.18.0.2', hostIPs: [{ ip: '172.18.0.2' }] } : {}),
    ...(podIP ? { podIP, podIPs: [{ ip: podIP }] } : {}),
    ...(scheduled ? { startTime: started } : {}),
    qosClass: 'Burstable',
  };
  if (scheduled) {
    status.initContainerStatuses = inits.map((c) =>
      c.restartPolicy === 'Always'
        ? runningStatus(c, { ready, restartCount: o.restartCount ?? 0, started, running: running && !notRunning.has(c.name), init: true })
        : runningStatus(c, { ready: false, restartCount: 0, started, running: false, init: true, completed: running || phase === 'Succeeded' }),
    );
    status.containerStatuses = containers.map((c) =>
      runningStatus(c, { ready, restartCount: o.restartCount ?? 0, started, running: running && !notRunning.has(c.name), completed: phase === 'Succeeded' }),
    );
    if ((status.initContainerStatuses as unknown[]).length === 0) delete status.initContainerStatuses;
  }
  Object.assign(status, o.status ?? {});
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      ...(o.owner ? { generateName: `${o.owner.metadata.name ?? ''}-` } : {}),
      ...meta('Pod', o.name, ns, { labels, annotations, creationTimestamp: o.creationTimestamp, ownerReferences: o.owner ? [ownerRef(o.owner)] : undefined }),
    },
    spec: {
      ...(inits.length ? { initContainers: inits } : {}),
      containers,
      restartPolicy: 'Always',
      terminationGracePeriodSeconds: 30,
      dnsPolicy: 'ClusterFirst',
      serviceAccountName: o.serviceAccountName ?? 'default',
      serviceAccount: o.serviceAccountName ?? 'default',
      ...(nodeName ? { nodeName } : {}),
      securityContext: {},
      schedulerName: 'default-scheduler',
      tolerations: [
        { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
        { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
      ],
      priority: 0,
      enableServiceLinks: true,
      preemptionPolicy: 'PreemptLowerPriority',
    },
    status,
  };
}

export interface WorkloadOptions extends Omit<PodOptions, 'name' | 'owner'> {
  name: string;
  replicas?: number;
  /** Selector/template labels (default app=<name>). */
  selector?: Record<string, string>;
}

/** A Deployment object (status: all replicas available). */
export function deployment(o: WorkloadOptions): KubeObject {
  const ns = o.namespace ?? 'default';
  const selector = o.selector ?? { app: o.name };
  const replicas = o.replicas ?? 1;
  const template = pod({ ...o, name: 'template', labels: { ...selector, ...(o.labels ?? {}) } });
  const spec = template.spec as Record<string, unknown>;
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: meta('Deployment', o.name, ns, { labels: { ...selector, ...(o.labels ?? {}) }, annotations: { 'deployment.kubernetes.io/revision': '1' }, creationTimestamp: o.creationTimestamp }),
    spec: {
      replicas,
      selector: { matchLabels: selector },
      template: { metadata: { labels: { ...selector, ...(o.labels ?? {}) }, ...(o.sidecar ? { annotations: { 'sidecar.istio.io/inject': 'true' } } : {}) }, spec: { containers: (spec.containers as ContainerSpec[]).filter((c) => c.name !== 'istio-proxy') } },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '25%', maxSurge: '25%' } },
      revisionHistoryLimit: 10,
      progressDeadlineSeconds: 600,
    },
    status: { observedGeneration: 1, replicas, updatedReplicas: replicas, readyReplicas: replicas, availableReplicas: replicas },
  };
}

/** The ReplicaSet a Deployment owns (name `<deployment>-<pod-template-hash>`). */
export function replicaSet(dep: KubeObject): KubeObject {
  const name = dep.metadata.name ?? '';
  const ns = dep.metadata.namespace ?? 'default';
  const hash = safeHash(`${ns}/${name}/template`, 10);
  const spec = dep.spec as { replicas: number; selector: { matchLabels: Record<string, string> }; template: { metadata: { labels: Record<string, string> } } };
  const labels = { ...spec.template.metadata.labels, 'pod-template-hash': hash };
  return {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: meta('ReplicaSet', `${name}-${hash}`, ns, { labels, annotations: { 'deployment.kubernetes.io/desired-replicas': String(spec.replicas), 'deployment.kubernetes.io/max-replicas': String(spec.replicas + 1), 'deployment.kubernetes.io/revision': '1' }, ownerReferences: [ownerRef(dep)], creationTimestamp: dep.metadata.creationTimestamp }),
    spec: { replicas: spec.replicas, selector: { matchLabels: { ...spec.selector.matchLabels, 'pod-template-hash': hash } }, template: { ...spec.template, metadata: { labels } } },
    status: { replicas: spec.replicas, fullyLabeledReplicas: spec.replicas, readyReplicas: spec.replicas, availableReplicas: spec.replicas, observedGeneration: 1 },
  };
}

/** Deployment + ReplicaSet + its pods (`<rs>-<5 chars>`), owner references wired like the controllers do. */
export function workload(o: WorkloadOptions): { deployment: KubeObject; replicaSet: KubeObject; pods: KubeObject[]; all: KubeObject[] } {
  const dep = deployment(o);
  const rs = replicaSet(dep);
  const rsName = rs.metadata.name ?? '';
  const labels = (rs.spec as { template: { metadata: { labels: Record<string, string> } } }).template.metadata.labels;
  const pods = Array.from({ length: o.replicas ?? 1 }, (_, i) => pod({ ...o, name: `${rsName}-${safeHash(`${rsName}/${i}`, 5)}`, labels: { ...labels, ...(o.labels ?? {}) }, owner: rs }));
  return { deployment: dep, replicaSet: rs, pods, all: [dep, rs, ...pods] };
}

export interface ServiceOptions {
  name: string;
  namespace?: string;
  ports: { port: number; name?: string; targetPort?: number | string; protocol?: string; appProtocol?: string }[];
  selector?: Record<string, string>;
  clusterIP?: string;
  type?: 'ClusterIP' | 'NodePort' | 'LoadBalancer' | 'ExternalName';
  externalName?: string;
  labels?: Record<string, string>;
}

export function service(o: ServiceOptions): KubeObject {
  const ns = o.namespace ?? 'default';
  const headless = o.clusterIP === 'None';
  const ip = o.type === 'ExternalName' ? undefined : (o.clusterIP ?? ipFrom(`svc/${ns}/${o.name}`, '10.96'));
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: meta('Service', o.name, ns, { labels: o.labels ?? { app: o.name } }),
    spec: {
      ...(ip ? { clusterIP: ip, clusterIPs: [ip] } : {}),
      ...(o.externalName ? { externalName: o.externalName } : {}),
      ...(o.type !== 'ExternalName' ? { internalTrafficPolicy: 'Cluster', ipFamilies: headless ? ['IPv4'] : ['IPv4'], ipFamilyPolicy: 'SingleStack' } : {}),
      ports: o.ports.map((p) => ({ ...(p.name ? { name: p.name } : {}), protocol: p.protocol ?? 'TCP', ...(p.appProtocol ? { appProtocol: p.appProtocol } : {}), port: p.port, targetPort: p.targetPort ?? p.port })),
      ...(o.selector !== undefined || o.type !== 'ExternalName' ? { selector: o.selector ?? { app: o.name } } : {}),
      sessionAffinity: 'None',
      type: o.type ?? 'ClusterIP',
    },
    status: { loadBalancer: {} },
  };
}

export interface ServiceEntryOptions {
  name: string;
  namespace?: string;
  hosts: string[];
  ports: { number: number; name: string; protocol: string; targetPort?: number }[];
  addresses?: string[];
  resolution?: 'NONE' | 'STATIC' | 'DNS' | 'DNS_ROUND_ROBIN';
  location?: 'MESH_EXTERNAL' | 'MESH_INTERNAL';
  exportTo?: string[];
  endpoints?: { address: string; ports?: Record<string, number> }[];
  apiVersion?: string;
}

export function serviceEntry(o: ServiceEntryOptions): KubeObject {
  const ns = o.namespace ?? 'default';
  return istioObject('ServiceEntry', o.name, ns, {
    hosts: o.hosts,
    ...(o.addresses ? { addresses: o.addresses } : {}),
    ports: o.ports,
    location: o.location ?? 'MESH_EXTERNAL',
    resolution: o.resolution ?? 'DNS',
    ...(o.endpoints ? { endpoints: o.endpoints } : {}),
    ...(o.exportTo ? { exportTo: o.exportTo } : {}),
  }, o.apiVersion);
}

/** Any networking/security.istio.io object (VirtualService, DestinationRule, Sidecar, ...). */
export function istioObject(kind: string, name: string, ns: string, spec: Record<string, unknown>, apiVersion?: string): KubeObject {
  const group = ['AuthorizationPolicy', 'PeerAuthentication', 'RequestAuthentication'].includes(kind) ? 'security.istio.io' : kind === 'Telemetry' ? 'telemetry.istio.io' : 'networking.istio.io';
  return {
    apiVersion: apiVersion ?? `${group}/${kind === 'EnvoyFilter' ? 'v1alpha3' : 'v1'}`,
    kind,
    metadata: { ...meta(kind, name, ns, {}), generation: 1 },
    spec,
    status: {},
  };
}

export function configMap(o: { name: string; namespace?: string; data?: Record<string, string>; labels?: Record<string, string> }): KubeObject {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: meta('ConfigMap', o.name, o.namespace ?? 'default', { labels: o.labels }), data: o.data ?? {} };
}

/** Istio's mesh config map (`istio` in istio-system) with an outbound traffic policy. */
export function meshConfigMap(o: { outboundTrafficPolicy?: 'ALLOW_ANY' | 'REGISTRY_ONLY'; namespace?: string; extra?: string } = {}): KubeObject {
  const mesh = [
    'defaultConfig:',
    '  discoveryAddress: istiod.istio-system.svc:15012',
    ...(o.outboundTrafficPolicy ? ['outboundTrafficPolicy:', `  mode: ${o.outboundTrafficPolicy}`] : []),
    'rootNamespace: istio-system',
    'trustDomain: cluster.local',
    ...(o.extra ? [o.extra] : []),
  ].join('\n');
  return configMap({ name: 'istio', namespace: o.namespace ?? 'istio-system', data: { mesh: `${mesh}\n`, meshNetworks: 'networks: {}' }, labels: { 'install.operator.istio.io/owning-resource': 'unknown', 'istio.io/rev': 'default', release: 'istiod' } });
}
