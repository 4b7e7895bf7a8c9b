/**
 * Pods as Istio's injector renders them (manifests/charts/istio-control/istio-discovery/files/
 * injection-template.yaml, pkg/kube/inject/webhook.go reorderPod) with explicit container
 * statuses, kubelet events and container logs, for the race-check scenarios. Times are given as
 * offsets in seconds from a base time: statuses and events have second precision, log lines the
 * kubelet's nanoseconds.
 */
import { stableUid, type KubeObject, type LogLine, type PodLogs } from '../e2e/server/index.js';

export class Clock {
  private readonly base: number;
  constructor(readonly baseIso: string) {
    this.base = Date.parse(baseIso);
  }
  /** second precision, as pod status and events give it */
  s(offset: number): string {
    return new Date(this.base + Math.floor(offset) * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
  }
  /** the kubelet's RFC3339Nano */
  ns(offset: number): string {
    const whole = Math.floor(offset);
    const nanos = Math.round((offset - whole) * 1e9);
    const iso = new Date(this.base + whole * 1000).toISOString().replace(/\.\d{3}Z$/, '');
    return `${iso}.${String(nanos).padStart(9, '0')}Z`;
  }
  /** pilot-agent's own microsecond timestamp (pkg/log formatDate) */
  us(offset: number): string {
    return this.ns(offset).replace(/(\.\d{6})\d{3}Z$/, '$1Z');
  }
  /** Vault's hclog: milliseconds */
  ms(offset: number): string {
    return this.ns(offset).replace(/(\.\d{3})\d{6}Z$/, '$1Z');
  }
}

export interface ContainerState {
  readonly running?: { readonly at: number };
  readonly terminated?: { readonly at: number; readonly finished: number; readonly exitCode: number; readonly reason?: string };
  readonly waiting?: { readonly reason: string; readonly message?: string };
  readonly last?: { readonly at: number; readonly finished: number; readonly exitCode: number; readonly reason?: string };
  readonly restarts?: number;
  readonly ready?: boolean;
  readonly started?: boolean;
}

export interface IstioOptions {
  readonly version: string;
  readonly native?: boolean;
  /** native sidecar whose restartPolicy the API server dropped */
  readonly nativeDropped?: boolean;
  readonly cni?: boolean;
  /** what the pod was injected with (PROXY_CONFIG and, when not native, proxy first + postStart wait) */
  readonly hold?: boolean;
  /** the injector rendered the hold ordering (default: same as hold) */
  readonly holdRendered?: boolean;
  readonly startupProbe?: boolean;
}

export interface ContainerDef {
  readonly name: string;
  readonly image: string;
  readonly env?: readonly { name: string; value: string }[];
  readonly command?: readonly string[];
  readonly args?: readonly string[];
  readonly ports?: readonly { containerPort: number; name?: string; protocol?: string }[];
  readonly securityContext?: Record<string, unknown>;
}

export interface PodDef {
  readonly name: string;
  readonly namespace: string;
  readonly clock: Clock;
  readonly labels?: Record<string, string>;
  /** annotations on the pod template (the injector adds its own) */
  readonly annotations?: Record<string, string>;
  readonly owner?: { readonly kind: string; readonly name: string; readonly apiVersion?: string };
  readonly node?: string;
  readonly podIP?: string;
  readonly istio: IstioOptions;
  readonly containers: readonly ContainerDef[];
  /** user init containers; `afterIstio`: added by a webhook that ran after Istio's (appended after istio-init) */
  readonly initContainers?: readonly ContainerDef[];
  readonly initAfterIstio?: boolean;
  readonly phase: 'Pending' | 'Running';
  readonly states: Readonly<Record<string, ContainerState>>;
  readonly conditions?: { readonly initialized?: number; readonly ready?: number; readonly containersReady?: number };
  readonly serviceAccount?: string;
  readonly created?: number;
}

const ISTIO_VOLUMES = ['workload-socket', 'credential-socket', 'workload-certs', 'istio-envoy', 'istio-data', 'istio-podinfo', 'istio-token', 'istiod-ca-cert'];

function istioInit(o: IstioOptions, ann: Record<string, string>): Record<string, unknown> {
  const t = (k: string, d: string): string => ann[`traffic.sidecar.istio.io/${k}`] ?? d;
  const legacy = !versionAtLeast(o.version, 1, 7);
  // Istio before 1.5 shipped istio-init as its own image
  const proxyInit = !versionAtLeast(o.version, 1, 5);
  return {
    name: o.cni ? 'istio-validation' : 'istio-init',
    image: `docker.io/istio/${proxyInit ? 'proxy_init' : 'proxyv2'}:${o.version}`,
    args: [
      'istio-iptables', '-p', '15001', '-z', '15006', '-u', '1337', '-m', 'REDIRECT',
      '-i', t('includeOutboundIPRanges', '*'), '-x', t('excludeOutboundIPRanges', ''), '-b', t('includeInboundPorts', '*'),
      '-d', legacy ? '15020' : '15090,15021,15020',
      ...(ann['traffic.sidecar.istio.io/excludeOutboundPorts'] !== undefined ? ['-o', ann['traffic.sidecar.istio.io/excludeOutboundPorts']] : []),
      ...(proxyInit ? [] : ['--log_output_level=default:info']),
      ...(o.cni ? ['--run-validation', '--skip-rule-apply'] : []),
    ],
    imagePullPolicy: 'IfNotPresent',
    resources: { limits: { cpu: '2', memory: '1Gi' }, requests: { cpu: '10m', memory: '40Mi' } },
    securityContext: o.cni
      ? { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] }, privileged: false, readOnlyRootFilesystem: true, runAsGroup: 1337, runAsNonRoot: true, runAsUser: 1337 }
      : { allowPrivilegeEscalation: false, capabilities: { add: ['NET_ADMIN', 'NET_RAW'], drop: ['ALL'] }, privileged: false, readOnlyRootFilesystem: false, runAsGroup: 0, runAsNonRoot: false, runAsUser: 0 },
  };
}

export function versionAtLeast(v: string, major: number, minor: number): boolean {
  const [a, b] = v.split('.').map(Number) as [number, number];
  return a > major || (a === major && b >= minor);
}

function istioProxy(o: IstioOptions, def: PodDef): Record<string, unknown> {
  const legacy = !versionAtLeast(o.version, 1, 7);
  const statusPort = legacy ? 15020 : 15021;
  const native = o.native || o.nativeDropped;
  const proxyConfig = { discoveryAddress: 'istiod.istio-system.svc:15012', ...(o.hold ? { holdApplicationUntilProxyStarts: true } : {}) };
  const holdRendered = (o.holdRendered ?? o.hold) && !native;
  const apps = def.containers.map((c) => c.name);
  const startupProbe = o.startupProbe ?? versionAtLeast(o.version, 1, 12);
  return {
    name: 'istio-proxy',
    image: `docker.io/istio/proxyv2:${o.version}`,
    ...(o.native ? { restartPolicy: 'Always' } : {}),
    ports: [{ containerPort: 15090, name: 'http-envoy-prom', protocol: 'TCP' }],
    args: ['proxy', 'sidecar', '--domain', '$(POD_NAMESPACE).svc.cluster.local', '--proxyLogLevel=warning', '--proxyComponentLogLevel=misc:error', '--log_output_level=default:info'],
    ...(holdRendered
      ? { lifecycle: { postStart: { exec: { command: ['pilot-agent', 'wait'] } } } }
      : native
        ? { lifecycle: { preStop: { exec: { command: ['pilot-agent', 'request', '--debug-port=15020', 'POST', 'drain'] } } } }
        : {}),
    env: [
      { name: 'PILOT_CERT_PROVIDER', value: 'istiod' },
      { name: 'CA_ADDR', value: 'istiod.istio-system.svc:15012' },
      { name: 'POD_NAME', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.name' } } },
      { name: 'POD_NAMESPACE', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } } },
      { name: 'INSTANCE_IP', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'status.podIP' } } },
      { name: 'SERVICE_ACCOUNT', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'spec.serviceAccountName' } } },
      { name: 'PROXY_CONFIG', value: `${JSON.stringify(proxyConfig)}\n` },
      { name: 'ISTIO_META_POD_PORTS', value: JSON.stringify(def.containers.flatMap((c) => c.ports ?? [])) },
      { name: 'ISTIO_META_APP_CONTAINERS', value: apps.join(',') },
      { name: 'ISTIO_META_CLUSTER_ID', value: 'Kubernetes' },
      { name: 'ISTIO_META_INTERCEPTION_MODE', value: 'REDIRECT' },
      { name: 'ISTIO_META_WORKLOAD_NAME', value: def.owner?.name.replace(/-[a-z0-9]{8,10}$/, '') ?? def.name },
      { name: 'TRUST_DOMAIN', value: 'cluster.local' },
    ],
    imagePullPolicy: 'IfNotPresent',
    ...(startupProbe ? { startupProbe: { httpGet: { path: '/healthz/ready', port: statusPort, scheme: 'HTTP' }, initialDelaySeconds: 0, periodSeconds: 1, timeoutSeconds: 3, failureThreshold: 600, successThreshold: 1 } } : {}),
    readinessProbe: legacy
      ? { httpGet: { path: '/healthz/ready', port: statusPort, scheme: 'HTTP' }, initialDelaySeconds: 1, periodSeconds: 2, timeoutSeconds: 1, failureThreshold: 30, successThreshold: 1 }
      : { httpGet: { path: '/healthz/ready', port: statusPort, scheme: 'HTTP' }, initialDelaySeconds: 0, periodSeconds: 15, timeoutSeconds: 3, failureThreshold: 4, successThreshold: 1 },
    resources: { limits: { cpu: '2', memory: '1Gi' }, requests: { cpu: '100m', memory: '128Mi' } },
    securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] }, privileged: false, readOnlyRootFilesystem: true, runAsGroup: 1337, runAsNonRoot: true, runAsUser: 1337 },
    volumeMounts: [{ mountPath: '/var/run/secrets/istio', name: 'istiod-ca-cert' }, { mountPath: '/etc/istio/proxy', name: 'istio-envoy' }],
  };
}

function cniAnnotations(ann: Record<string, string>): Record<string, string> {
  const t = (k: string): string | undefined => ann[`traffic.sidecar.istio.io/${k}`];
  return {
    'sidecar.istio.io/interceptionMode': 'REDIRECT',
    'traffic.sidecar.istio.io/includeOutboundIPRanges': t('includeOutboundIPRanges') || '*',
    ...(t('excludeOutboundIPRanges') ? { 'traffic.sidecar.istio.io/excludeOutboundIPRanges': t('excludeOutboundIPRanges')! } : {}),
    'traffic.sidecar.istio.io/includeInboundPorts': '*',
    'traffic.sidecar.istio.io/excludeInboundPorts': '15020',
    ...(t('excludeOutboundPorts') !== undefined ? { 'traffic.sidecar.istio.io/excludeOutboundPorts': t('excludeOutboundPorts')! } : {}),
  };
}

function status(def: PodDef, name: string, image: string, init: boolean): Record<string, unknown> {
  const st = def.states[name];
  const c = def.clock;
  const id = (at: number): string => `containerd://${stableUid(def.name, name, String(at)).replace(/-/g, '')}${stableUid(name, String(at)).replace(/-/g, '').slice(0, 32)}`;
  const term = (t: NonNullable<ContainerState['terminated']>) => ({ terminated: { exitCode: t.exitCode, reason: t.reason ?? (t.exitCode === 0 ? 'Completed' : 'Error'), startedAt: c.s(t.at), finishedAt: c.s(t.finished), containerID: id(t.at) } });
  const state = !st ? { waiting: { reason: init ? 'PodInitializing' : 'PodInitializing' } } : st.running ? { running: { startedAt: c.s(st.running.at) } } : st.terminated ? term(st.terminated) : { waiting: { reason: st.waiting?.reason ?? 'PodInitializing', ...(st.waiting?.message ? { message: st.waiting.message } : {}) } };
  const current = st?.running?.at ?? st?.terminated?.at;
  return {
    name,
    image,
    imageID: `${image.replace(/:[^:/]+$/, '')}@sha256:${stableUid(image).replace(/-/g, '')}${stableUid(image, 'x').replace(/-/g, '').slice(0, 32)}`,
    ...(current !== undefined ? { containerID: id(current) } : {}),
    state,
    lastState: st?.last ? term(st.last) : {},
    ready: st?.ready ?? false,
    restartCount: st?.restarts ?? (st?.last ? 1 : 0),
    started: st?.started ?? st?.running !== undefined,
  };
}

/** The pod as the API server returns it after injection. */
export function meshPod(def: PodDef): KubeObject {
  const o = def.istio;
  const c = def.clock;
  const userAnn = { ...(def.annotations ?? {}) };
  const apps = def.containers.map((x) => ({ ...x, imagePullPolicy: 'IfNotPresent', resources: {}, terminationMessagePath: '/dev/termination-log', terminationMessagePolicy: 'File' }));
  const proxy = istioProxy(o, def);
  const native = o.native || o.nativeDropped;
  const holdFirst = (o.holdRendered ?? o.hold) && !native;
  const containers: Record<string, unknown>[] = native ? [...apps] : holdFirst ? [proxy, ...apps] : [...apps, proxy];
  const user = (def.initContainers ?? []).map((x) => ({ ...x, imagePullPolicy: 'IfNotPresent', resources: {}, terminationMessagePath: '/dev/termination-log', terminationMessagePolicy: 'File' }));
  const init = istioInit(o, userAnn);
  let inits: Record<string, unknown>[];
  if (native) inits = [init, proxy, ...user];
  else if (o.cni) inits = [init, ...user];
  else inits = def.initAfterIstio ? [init, ...user] : [...user, init];
  const annotations: Record<string, string> = {
    ...userAnn,
    ...(o.cni ? cniAnnotations(userAnn) : {}),
    'istio.io/rev': 'default',
    'kubectl.kubernetes.io/default-container': def.containers[0]!.name,
    'kubectl.kubernetes.io/default-logs-container': def.containers[0]!.name,
    'prometheus.io/path': '/stats/prometheus',
    'prometheus.io/port': '15020',
    'prometheus.io/scrape': 'true',
    'sidecar.istio.io/status': JSON.stringify({ initContainers: [o.cni ? 'istio-validation' : 'istio-init', ...(native ? ['istio-proxy'] : [])], containers: native ? null : ['istio-proxy'], volumes: ISTIO_VOLUMES, imagePullSecrets: null, revision: 'default' }),
  };
  const node = def.node ?? 'node-1';
  const scheduled = true;
  const ready = def.conditions?.ready;
  const conditions = [
    { type: 'PodReadyToStartContainers', status: 'True', lastProbeTime: null, lastTransitionTime: c.s(1) },
    { type: 'Initialized', status: def.conditions?.initialized !== undefined ? 'True' : 'False', lastProbeTime: null, lastTransitionTime: c.s(def.conditions?.initialized ?? 0), ...(def.conditions?.initialized === undefined ? { reason: 'ContainersNotInitialized', message: `containers with incomplete status: [${inits.filter((x) => def.states[x.name as string]?.terminated?.exitCode !== 0 && !(x.restartPolicy === 'Always' && def.states[x.name as string]?.started)).map((x) => x.name).join(' ')}]` } : {}) },
    { type: 'Ready', status: ready !== undefined ? 'True' : 'False', lastProbeTime: null, lastTransitionTime: c.s(ready ?? 0), ...(ready === undefined ? { reason: 'ContainersNotReady', message: `containers with unready status: [${containers.map((x) => x.name).join(' ')}]` } : {}) },
    { type: 'ContainersReady', status: (def.conditions?.containersReady ?? ready) !== undefined ? 'True' : 'False', lastProbeTime: null, lastTransitionTime: c.s(def.conditions?.containersReady ?? ready ?? 0), ...((def.conditions?.containersReady ?? ready) === undefined ? { reason: 'ContainersNotReady', message: `containers with unready status: [${containers.map((x) => x.name).join(' ')}]` } : {}) },
    { type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: c.s(0) },
  ];
  const podIP = def.podIP ?? '10.244.1.17';
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: def.name,
      ...(def.owner ? { generateName: `${def.owner.name}-` } : {}),
      namespace: def.namespace,
      uid: stableUid('Pod', def.namespace, def.name),
      resourceVersion: '48211',
      creationTimestamp: c.s(def.created ?? 0),
      labels: { ...(def.labels ?? {}), 'security.istio.io/tlsMode': 'istio', 'service.istio.io/canonical-name': def.labels?.app ?? def.name, 'service.istio.io/canonical-revision': def.labels?.version ?? 'latest' },
      annotations,
      ...(def.owner
        ? { ownerReferences: [{ apiVersion: def.owner.apiVersion ?? 'apps/v1', kind: def.owner.kind, name: def.owner.name, uid: stableUid(def.owner.kind, def.namespace, def.owner.name), controller: true, blockOwnerDeletion: true }] }
        : {}),
    },
    spec: {
      volumes: ISTIO_VOLUMES.map((v) => ({ name: v, emptyDir: {} })),
      initContainers: inits,
      containers,
      restartPolicy: 'Always',
      terminationGracePeriodSeconds: 30,
      dnsPolicy: 'ClusterFirst',
      serviceAccountName: def.serviceAccount ?? 'default',
      serviceAccount: def.serviceAccount ?? 'default',
      ...(scheduled ? { nodeName: node } : {}),
      securityContext: {},
      schedulerName: 'default-scheduler',
      priority: 0,
      enableServiceLinks: true,
      preemptionPolicy: 'PreemptLowerPriority',
    },
    status: {
      phase: def.phase,
      conditions,
      hostIP: '10.128.0.14',
      hostIPs: [{ ip: '10.128.0.14' }],
      podIP,
      podIPs: [{ ip: podIP }],
      startTime: c.s(0),
      initContainerStatuses: inits.map((x) => status(def, x.name as string, x.image as string, true)),
      containerStatuses: containers.map((x) => status(def, x.name as string, x.image as string, false)),
      qosClass: 'Burstable',
    },
  };
}

export interface EventDef {
  readonly reason: string;
  readonly message: string;
  readonly container?: string;
  readonly init?: boolean;
  readonly first: number;
  readonly last?: number;
  readonly count?: number;
  readonly type?: 'Normal' | 'Warning';
  /** events.k8s.io style (scheduler): eventTime, no firstTimestamp */
  readonly eventTime?: boolean;
  readonly component?: string;
}

/** core/v1 Events of a pod, as the kubelet (or scheduler) records them. */
export function podEvents(pod: KubeObject, clock: Clock, defs: readonly EventDef[]): KubeObject[] {
  const name = pod.metadata.name!;
  const ns = pod.metadata.namespace!;
  const node = (pod.spec as { nodeName?: string }).nodeName ?? 'node-1';
  return defs.map((e, i) => {
    const id = stableUid('Event', name, String(i)).replace(/-/g, '').slice(0, 16);
    const component = e.component ?? (e.eventTime ? 'default-scheduler' : 'kubelet');
    return {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: `${name}.${id}`, namespace: ns, uid: stableUid('Event', ns, name, String(i)), resourceVersion: String(48300 + i), creationTimestamp: clock.s(e.first) },
      involvedObject: {
        kind: 'Pod',
        namespace: ns,
        name,
        uid: pod.metadata.uid,
        apiVersion: 'v1',
        resourceVersion: '48211',
        ...(e.container ? { fieldPath: `spec.${e.init ? 'initContainers' : 'containers'}{${e.container}}` } : {}),
      },
      reason: e.reason,
      message: e.message,
      source: e.eventTime ? {} : { component, host: node },
      firstTimestamp: e.eventTime ? null : clock.s(e.first),
      lastTimestamp: e.eventTime ? null : clock.s(e.last ?? e.first),
      ...(e.eventTime ? { eventTime: clock.ns(e.first).replace(/(\.\d{6})\d{3}Z$/, '$1Z'), action: 'Binding', reportingComponent: component, reportingInstance: `${component}-control-plane` } : { count: e.count ?? 1, reportingComponent: component, reportingInstance: node }),
      type: e.type ?? 'Normal',
    };
  });
}

/** Timestamped log lines: [offset seconds, text]. */
export function logLines(clock: Clock, lines: readonly (readonly [number, string])[]): LogLine[] {
  return lines.map(([off, text]) => {
    // the kubelet stamps a line when the runtime hands it over, some µs after the program wrote it:
    // offsets given to the microsecond get the sub-µs digits real timestamps have
    const nanos = Math.round(off * 1e9);
    const jitter = nanos % 1000 === 0 ? 103 + (parseInt(stableUid(text).slice(0, 6), 16) % 890) : 0;
    return { time: clock.ns((nanos + jitter) / 1e9), line: text };
  });
}

export type PodLogMap = Record<string, PodLogs>;

/** pilot-agent's console format: "<µs>Z\t<level>\t[<scope>\t]<message>". */
export function agent(clock: Clock, off: number, level: string, msg: string, scope?: string): [number, string] {
  return [off + 0.000097, `${clock.us(off)}\t${level}\t${scope ? `${scope}\t` : ''}${msg}`];
}

export function node(name: string, kubeletVersion: string, extra: Record<string, string> = {}): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, uid: stableUid('Node', '', name), resourceVersion: '1201', creationTimestamp: '2025-06-02T09:12:44Z', labels: { 'kubernetes.io/hostname': name, 'kubernetes.io/os': 'linux', ...extra } },
    spec: { podCIDR: '10.244.1.0/24' },
    status: {
      conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status' }],
      nodeInfo: { kubeletVersion, kubeProxyVersion: kubeletVersion, containerRuntimeVersion: 'containerd://1.7.24', operatingSystem: 'linux', architecture: 'amd64', osImage: 'Ubuntu 22.04.5 LTS', kernelVersion: '6.8.0-1019-gke' },
    },
  };
}
