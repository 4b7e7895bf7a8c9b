/**
 * What a live pod says about its sidecar: whether it has one (classic container, native sidecar
 * init container with restartPolicy Always, or none/ambient), whether the proxy is ready, the
 * capture settings actually applied (istio-init arguments; with istio-cni the injector writes
 * them as pod annotations, see manifests/.../injection-template.yaml), DNS capture, and the UID
 * the application runs as.
 */
import type { V1Container } from '@kubernetes/client-node';
import type { Pod } from '../../model/cluster-view.js';
import type { CaptureOverrides } from './types.js';

export type SidecarLayout = 'container' | 'native' | 'none';

export interface PodFacts {
  readonly namespace: string;
  readonly name: string;
  readonly phase: string;
  readonly sidecar: SidecarLayout;
  readonly ambient: boolean;
  readonly proxyReady: boolean | undefined;
  readonly cni: boolean;
  readonly podIps: readonly string[];
  /** the container the trace speaks for (kubectl.kubernetes.io/default-container, else the first app container) */
  readonly appContainer: string | undefined;
  readonly appUid: number | undefined;
  readonly capture: CaptureOverrides;
  /** the Istio revision (istio.io/rev label, else the injector status annotation) */
  readonly revision: string | undefined;
  /** control-plane namespace from the proxy's discovery address */
  readonly controlPlaneNamespace: string | undefined;
  readonly notes: readonly string[];
  /** the controlling workload in Istio's OWNER form (see ownerOf) */
  readonly owner: string | undefined;
}

/** istio-iptables flags (tools/istio-iptables/pkg/cmd/root.go): short and long forms. */
const FLAGS: Readonly<Record<string, keyof CaptureOverrides | 'uid' | 'mode-ignored'>> = {
  '-i': 'includeIpRanges',
  '--istio-service-cidr': 'includeIpRanges',
  '-x': 'excludeIpRanges',
  '--istio-service-exclude-cidr': 'excludeIpRanges',
  '-q': 'includePorts',
  '--istio-outbound-ports': 'includePorts',
  '-o': 'excludePorts',
  '--istio-local-outbound-ports-exclude': 'excludePorts',
};

function parseIstioIptablesArgs(args: readonly string[]): Partial<Record<keyof CaptureOverrides, string>> {
  const out: Partial<Record<keyof CaptureOverrides, string>> = {};
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const eq = a.indexOf('=');
    const flag = eq > 0 && a.startsWith('--') ? a.slice(0, eq) : a;
    const key = FLAGS[flag];
    if (!key || key === 'uid' || key === 'mode-ignored') continue;
    const value = eq > 0 && a.startsWith('--') ? a.slice(eq + 1) : args[++i];
    if (value !== undefined) (out as Record<string, string>)[key] = value;
  }
  return out;
}

function envValue(c: V1Container | undefined, name: string): string | undefined {
  return c?.env?.find((e) => e.name === name)?.value;
}

export function podFacts(pod: Pod): PodFacts {
  const ns = pod.metadata?.namespace ?? 'default';
  const name = pod.metadata?.name ?? '?';
  const ann = pod.metadata?.annotations ?? {};
  const labels = pod.metadata?.labels ?? {};
  const containers = pod.spec?.containers ?? [];
  const inits = pod.spec?.initContainers ?? [];
  const notes: string[] = [];
  const nativeProxy = inits.find((c) => c.name === 'istio-proxy' && c.restartPolicy === 'Always');
  const classicProxy = containers.find((c) => c.name === 'istio-proxy');
  const proxy = nativeProxy ?? classicProxy;
  const sidecar: SidecarLayout = nativeProxy ? 'native' : classicProxy ? 'container' : 'none';
  const statuses = [...(pod.status?.containerStatuses ?? []), ...(pod.status?.initContainerStatuses ?? [])];
  const proxyStatus = statuses.find((s) => s.name === 'istio-proxy');
  const istioInit = inits.find((c) => c.name === 'istio-init');
  const cni = inits.some((c) => c.name === 'istio-validation');
  const ambient = sidecar === 'none' && (ann['ambient.istio.io/redirection'] === 'enabled' || labels['istio.io/dataplane-mode'] === 'ambient');

  // capture settings: istio-init's own arguments are what ran; with CNI the injector copies them to annotations
  const capture: Record<string, unknown> = {};
  const sources: Record<string, 'istio-init args' | 'annotation' | 'proxy metadata'> = {};
  if (istioInit) {
    const args = [...(istioInit.command ?? []), ...(istioInit.args ?? [])];
    for (const [k, v] of Object.entries(parseIstioIptablesArgs(args))) {
      capture[k] = v;
      sources[k] = 'istio-init args';
    }
  }
  const fromAnnotation: [keyof CaptureOverrides, string][] = [
    ['includeIpRanges', 'traffic.sidecar.istio.io/includeOutboundIPRanges'],
    ['excludeIpRanges', 'traffic.sidecar.istio.io/excludeOutboundIPRanges'],
    ['includePorts', 'traffic.sidecar.istio.io/includeOutboundPorts'],
    ['excludePorts', 'traffic.sidecar.istio.io/excludeOutboundPorts'],
  ];
  for (const [key, a] of fromAnnotation) {
    if (capture[key] === undefined && ann[a] !== undefined) {
      capture[key] = ann[a];
      sources[key] = 'annotation';
    }
  }
  if (cni && capture.excludePorts === undefined) {
    // istio-cni's default when the annotation is absent (cni/pkg/plugin/sidecar_redirect.go defaultRedirectExcludePort)
    capture.excludePorts = '15020';
    sources.excludePorts = 'annotation';
  }
  const mode = ann['sidecar.istio.io/interceptionMode'];
  if (mode === 'REDIRECT' || mode === 'TPROXY' || mode === 'NONE') {
    capture.interceptionMode = mode;
    sources.interceptionMode = 'annotation';
  } else if (sidecar !== 'none' && !istioInit && !cni) {
    // no init container and no CNI validation container: interception NONE (the injector skips istio-init)
    capture.interceptionMode = 'NONE';
    sources.interceptionMode = 'annotation';
    notes.push('the pod has neither istio-init nor istio-validation: traffic interception is off (NONE)');
  }
  const dns = envValue(istioInit, 'ISTIO_META_DNS_CAPTURE') ?? envValue(proxy, 'ISTIO_META_DNS_CAPTURE');
  if (dns !== undefined) {
    capture.dnsCapture = dns.toLowerCase() === 'true';
    sources.dnsCapture = 'proxy metadata';
  }
  // the application container and its UID
  const defaultContainer = ann['kubectl.kubernetes.io/default-container'];
  const app = containers.find((c) => c.name === defaultContainer) ?? containers.find((c) => c.name !== 'istio-proxy');
  const appUid = app?.securityContext?.runAsUser ?? pod.spec?.securityContext?.runAsUser;
  // revision and control plane
  let revision = labels['istio.io/rev'];
  const status = ann['sidecar.istio.io/status'];
  if (!revision && status) {
    try {
      revision = (JSON.parse(status) as { revision?: string }).revision;
    } catch {
      notes.push('the sidecar.istio.io/status annotation is not JSON');
    }
  }
  const proxyConfig = envValue(proxy, 'PROXY_CONFIG');
  let controlPlaneNamespace: string | undefined;
  if (proxyConfig) {
    try {
      const addr = (JSON.parse(proxyConfig) as { discoveryAddress?: string }).discoveryAddress;
      controlPlaneNamespace = addr ? /^[^.]+\.([^.:]+)/.exec(addr)?.[1] : undefined;
    } catch {
      notes.push('the istio-proxy PROXY_CONFIG environment variable is not JSON');
    }
  }
  return {
    namespace: ns,
    name,
    phase: pod.status?.phase ?? 'Unknown',
    sidecar,
    ambient,
    proxyReady: proxyStatus?.ready,
    cni,
    podIps: (pod.status?.podIPs ?? []).map((p) => p.ip).filter((ip): ip is string => typeof ip === 'string').concat(pod.status?.podIPs?.length ? [] : pod.status?.podIP ? [pod.status.podIP] : []),
    appContainer: app?.name,
    appUid,
    capture: { ...(capture as CaptureOverrides), sources: sources as CaptureOverrides['sources'] },
    revision,
    controlPlaneNamespace,
    notes,
    owner: ownerOf(pod),
  };
}

/** kind → [group/version, plural] */
const WORKLOAD_API: Readonly<Record<string, readonly [string, string]>> = {
  Deployment: ['apps/v1', 'deployments'],
  ReplicaSet: ['apps/v1', 'replicasets'],
  StatefulSet: ['apps/v1', 'statefulsets'],
  DaemonSet: ['apps/v1', 'daemonsets'],
  Job: ['batch/v1', 'jobs'],
  CronJob: ['batch/v1', 'cronjobs'],
  Rollout: ['argoproj.io/v1alpha1', 'rollouts'],
};

/**
 * The workload a pod belongs to, as Istio names it for ISTIO_META_OWNER (pkg/kube/util.go
 * GetDeployMetaFromPod): the controller reference; a ReplicaSet "<name>-<pod-template-hash>" stands
 * for its Deployment (or Argo Rollout, by rollouts-pod-template-hash), a Job "<name>-<8..10 digits>"
 * for its CronJob.
 */
export function ownerOf(pod: Pod): string | undefined {
  const ref = (pod.metadata?.ownerReferences ?? []).find((r) => r.controller);
  const ns = pod.metadata?.namespace;
  if (!ref || !ns) return undefined;
  const labels = pod.metadata?.labels ?? {};
  let kind = ref.kind;
  let name = ref.name;
  const hash = labels['pod-template-hash'];
  const rolloutHash = labels['rollouts-pod-template-hash'];
  const cron = /^(.+)-\d{8,10}$/.exec(name);
  if (kind === 'ReplicaSet' && hash && name.endsWith(hash)) {
    kind = 'Deployment';
    name = name.slice(0, name.length - hash.length).replace(/-$/, '');
  } else if (kind === 'ReplicaSet' && rolloutHash && name.endsWith(rolloutHash)) {
    kind = 'Rollout';
    name = name.slice(0, name.length - rolloutHash.length).replace(/-$/, '');
  } else if (kind === 'Job' && cron) {
    kind = 'CronJob';
    name = cron[1]!;
  }
  const api = WORKLOAD_API[kind];
  return api ? `kubernetes://apis/${api[0]}/namespaces/${ns}/${api[1]}/${name}` : undefined;
}
