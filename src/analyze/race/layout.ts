/**
 * How the injector laid the pod out, and what that means for start-up order. Sources, all in
 * istio/istio: manifests/charts/istio-control/istio-discovery/files/injection-template.yaml
 * ($nativeSidecar, $holdProxy: proxy gets `lifecycle.postStart.exec: [pilot-agent, wait]` only when
 * hold is on and the sidecar is not native, unless `global.proxy.lifecycle` replaces the lifecycle;
 * the startupProbe on 15021 /healthz/ready unless `global.proxy.startupProbe.enabled` is false),
 * pkg/kube/inject/webhook.go reorderPod (hold moves istio-proxy first in containers, else last;
 * native: istio-init|istio-validation → istio-proxy → user init containers; classic:
 * istio-validation first, istio-init last) and DetectNativeSidecar (ENABLE_NATIVE_SIDECARS "auto":
 * the pod's node, or every node when the pod has none yet, must run kubelet 1.33+),
 * pkg/kube/inject/inject.go (the sidecar.istio.io/nativeSidecar annotation wins over the flag).
 */
import YAML from 'yaml';
import type { V1Container } from '@kubernetes/client-node';
import type { MeshConfigRef, Pod } from '../../model/cluster-view.js';
import { versionAtLeast } from '../../model/proxy.js';
import type { NodeVersion, SidecarLayout } from './types.js';

export const PROXY = 'istio-proxy';
const ISTIO_INIT = 'istio-init';
const ISTIO_VALIDATION = 'istio-validation';
const ISTIO_OWN = new Set([PROXY, ISTIO_INIT, ISTIO_VALIDATION, 'enable-core-dump']);

export interface Layout {
  readonly layout: SidecarLayout;
  readonly proxy: V1Container | undefined;
  /** index of istio-proxy in containers or initContainers */
  readonly proxyIndex: number;
  readonly interception: 'istio-init' | 'istio-cni' | 'none';
  /** index of istio-init in initContainers (-1: none) */
  readonly istioInitIndex: number;
  readonly istioVersion: string | undefined;
  readonly appContainers: readonly string[];
  readonly startupProbe: boolean;
  readonly readinessEndpoint: string | undefined;
  /** `pilot-agent wait` postStart hook and its timeout (seconds) */
  readonly waitHook: { readonly timeoutSeconds: number } | undefined;
}

/** "docker.io/istio/proxyv2:1.26.2-distroless" → "1.26.2" (undefined for digests and custom tags). */
export function istioVersionOf(image: string | undefined): string | undefined {
  const tag = /:([^:@/]+)(?:@sha256:[0-9a-f]+)?$/.exec(image ?? '')?.[1];
  return tag ? /^(\d+\.\d+(?:\.\d+)?)/.exec(tag)?.[1] : undefined;
}

/** "v1.33.2-gke.1240000" → 33 (the rule Istio applies: the minor segment). */
export function kubeletMinor(version: string | undefined): number | undefined {
  const m = /^v?(\d+)\.(\d+)/.exec(version ?? '');
  return m && Number(m[1]) === 1 ? Number(m[2]) : undefined;
}

export function podLayout(pod: Pod): Layout {
  const containers = pod.spec?.containers ?? [];
  const inits = pod.spec?.initContainers ?? [];
  const ann = pod.metadata?.annotations ?? {};
  const labels = pod.metadata?.labels ?? {};
  const initProxyIndex = inits.findIndex((c) => c.name === PROXY);
  const proxyIndex = initProxyIndex >= 0 ? initProxyIndex : containers.findIndex((c) => c.name === PROXY);
  const proxy = initProxyIndex >= 0 ? inits[initProxyIndex] : containers[proxyIndex];
  let layout: SidecarLayout;
  if (initProxyIndex >= 0) layout = inits[initProxyIndex]!.restartPolicy === 'Always' ? 'native' : 'init-without-restart';
  else if (proxy) layout = 'classic';
  else layout = ann['ambient.istio.io/redirection'] === 'enabled' || labels['istio.io/dataplane-mode'] === 'ambient' ? 'ambient' : 'none';
  const istioInitIndex = inits.findIndex((c) => c.name === ISTIO_INIT);
  const interception = inits.some((c) => c.name === ISTIO_VALIDATION) ? 'istio-cni' : istioInitIndex >= 0 ? 'istio-init' : 'none';
  const probe = proxy?.readinessProbe?.httpGet ?? proxy?.startupProbe?.httpGet;
  const cmd = proxy?.lifecycle?.postStart?.exec?.command ?? [];
  const waits = cmd.includes('pilot-agent') && cmd.includes('wait');
  const timeoutArg = cmd.map((a, i) => (a.startsWith('--timeoutSeconds=') ? a.slice(17) : a === '--timeoutSeconds' ? cmd[i + 1] : undefined)).find((v) => v !== undefined);
  return {
    layout,
    proxy,
    proxyIndex,
    interception,
    istioInitIndex,
    istioVersion: istioVersionOf(proxy?.image),
    appContainers: containers.filter((c) => !ISTIO_OWN.has(c.name)).map((c) => c.name),
    startupProbe: proxy?.startupProbe !== undefined,
    readinessEndpoint: probe ? `${String(probe.port)}${probe.path ?? '/'}` : undefined,
    // pilot-agent wait: --timeoutSeconds defaults to 60 (pilot/cmd/pilot-agent/app/wait.go)
    waitHook: waits ? { timeoutSeconds: Number(timeoutArg ?? 60) || 60 } : undefined,
  };
}

export function isIstioContainer(name: string): boolean {
  return ISTIO_OWN.has(name);
}

// ---- holdApplicationUntilProxyStarts ------------------------------------------------------------

export interface Ordering {
  readonly holdRequested: boolean;
  readonly requestedBy: string | undefined;
  /** what the injector saw when it injected the pod (PROXY_CONFIG of istio-proxy) */
  readonly requestedAtInjection: boolean | undefined;
  readonly holdEffective: boolean;
  /** why the hold is not in effect (empty when it is, or when it is not requested) */
  readonly missing: readonly string[];
  readonly appWaitsForProxy: boolean;
  readonly how: string;
}

/** `proxy.istio.io/config` (JSON or YAML ProxyConfig) → its holdApplicationUntilProxyStarts, and the parsed map. */
export function proxyConfigAnnotation(pod: Pod): { hold: boolean | undefined; config: Record<string, unknown> | undefined; error?: string } {
  const raw = pod.metadata?.annotations?.['proxy.istio.io/config'];
  if (raw === undefined) return { hold: undefined, config: undefined };
  try {
    const v = YAML.parse(raw) as unknown;
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return { hold: undefined, config: undefined, error: 'not a ProxyConfig object' };
    const config = v as Record<string, unknown>;
    return { hold: typeof config.holdApplicationUntilProxyStarts === 'boolean' ? config.holdApplicationUntilProxyStarts : undefined, config };
  } catch (e) {
    return { hold: undefined, config: undefined, error: (e as Error).message.split('\n')[0] ?? 'invalid' };
  }
}

function injectedHold(proxy: V1Container | undefined): boolean | undefined {
  const value = proxy?.env?.find((e) => e.name === 'PROXY_CONFIG')?.value;
  if (!value) return undefined;
  try {
    return (JSON.parse(value) as { holdApplicationUntilProxyStarts?: boolean }).holdApplicationUntilProxyStarts === true;
  } catch {
    return undefined;
  }
}

export function ordering(pod: Pod, l: Layout, mesh: MeshConfigRef | undefined): Ordering {
  const annotation = proxyConfigAnnotation(pod);
  const meshHold = ((mesh?.mesh.defaultConfig ?? {}) as { holdApplicationUntilProxyStarts?: unknown }).holdApplicationUntilProxyStarts;
  const atInjection = injectedHold(l.proxy);
  let requested = false;
  let requestedBy: string | undefined;
  if (annotation.hold !== undefined) {
    requested = annotation.hold;
    requestedBy = `pod annotation proxy.istio.io/config: holdApplicationUntilProxyStarts: ${annotation.hold}`;
  } else if (meshHold === true) {
    requested = true;
    requestedBy = `mesh config ${mesh!.namespace}/${mesh!.name} defaultConfig.holdApplicationUntilProxyStarts: true`;
  } else if (atInjection) {
    requested = true;
    requestedBy = 'the proxy configuration the pod was injected with (PROXY_CONFIG)';
  }
  const containers = (pod.spec?.containers ?? []).map((c) => c.name);
  const apps = l.appContainers;
  const appLabel = apps.length === 1 ? `container ${apps[0]}` : `containers ${apps.join(', ')}`;
  if (l.layout === 'native') {
    // native sidecars are ordered by the kubelet; the template never renders the hold hook for them
    const how = l.startupProbe
      ? 'istio-proxy is a native sidecar with a startupProbe: the kubelet starts the next containers only once Envoy is ready'
      : 'istio-proxy is a native sidecar without a startupProbe: the kubelet starts the next containers once the proxy process has started';
    return { holdRequested: requested, requestedBy, requestedAtInjection: atInjection, holdEffective: false, missing: [], appWaitsForProxy: l.startupProbe, how };
  }
  if (l.layout === 'init-without-restart') {
    const how = 'istio-proxy is an init container without restartPolicy: Always: it would have to exit before the next containers start, and it never does';
    return { holdRequested: requested, requestedBy, requestedAtInjection: atInjection, holdEffective: false, missing: [], appWaitsForProxy: false, how };
  }
  if (l.layout !== 'classic') {
    return { holdRequested: requested, requestedBy, requestedAtInjection: atInjection, holdEffective: false, missing: [], appWaitsForProxy: false, how: 'no sidecar to wait for' };
  }
  const before = containers.slice(0, l.proxyIndex).filter((n) => !isIstioContainer(n));
  const missing: string[] = [];
  if (before.length) missing.push(`istio-proxy is not first in spec.containers (${before.join(', ')} ${before.length === 1 ? 'comes' : 'come'} before it, and the kubelet starts containers in order)`);
  if (!l.waitHook) {
    const other = l.proxy?.lifecycle?.postStart ? 'its postStart hook is not `pilot-agent wait`' : 'istio-proxy has no postStart `pilot-agent wait` hook';
    missing.push(other);
  }
  const effective = missing.length === 0;
  if (effective && !requested) {
    // the legacy injector value global.proxy.holdApplicationUntilProxyStarts, or a custom template
    requested = true;
    requestedBy = 'the injector (proxy first with a postStart pilot-agent wait hook; global.proxy.holdApplicationUntilProxyStarts or a custom template)';
  }
  const how = effective
    ? `istio-proxy is first in spec.containers with a postStart \`pilot-agent wait\` hook (timeout ${l.waitHook!.timeoutSeconds} s): the kubelet starts ${appLabel} only after Envoy is ready`
    : requested
      ? `holdApplicationUntilProxyStarts is requested but ${missing.join(' and ')}`
      : `istio-proxy is ${l.proxyIndex === containers.length - 1 ? 'last' : `at position ${l.proxyIndex + 1}`} in spec.containers without a postStart \`pilot-agent wait\` hook and holdApplicationUntilProxyStarts is not set: the kubelet starts ${appLabel} without waiting for Envoy`;
  return { holdRequested: requested, requestedBy, requestedAtInjection: atInjection, holdEffective: effective, missing: effective ? [] : missing, appWaitsForProxy: effective, how };
}

// ---- native sidecars ---------------------------------------------------------------------------

export interface NativeSupport {
  readonly used: boolean;
  readonly annotation: string | undefined;
  /** the pod's node runs a kubelet with native sidecars on by default (1.29+) */
  readonly nodeSupports: boolean | undefined;
  /** why the pod has (or lacks) a native sidecar */
  readonly why: string;
  /** what the nodes allow */
  readonly support: string;
  /** nodes below 1.33 (they keep Istio's auto mode off) */
  readonly oldNodes: readonly NodeVersion[];
  /** the per-pod annotation is honoured by this Istio (1.24+) */
  readonly annotationWorks: boolean | undefined;
}

/** Kubernetes SidecarContainers: beta and on by default in 1.29, GA in 1.33 (KEP-753). */
export const NATIVE_DEFAULT_ON_MINOR = 29;
/** Istio's "auto" mode: pkg/kube/inject/webhook.go DetectNativeSidecar minVersion. */
export const ISTIO_AUTO_MIN_MINOR = 33;

export function nativeSupport(pod: Pod, l: Layout, nodes: readonly NodeVersion[] | undefined, allNodes: boolean): NativeSupport {
  const annotation = pod.metadata?.annotations?.['sidecar.istio.io/nativeSidecar'];
  const nodeName = pod.spec?.nodeName;
  const node = nodes?.find((n) => n.name === nodeName);
  const minor = kubeletMinor(node?.kubeletVersion);
  const nodeSupports = minor === undefined ? undefined : minor >= NATIVE_DEFAULT_ON_MINOR;
  const oldNodes = (nodes ?? []).filter((n) => (kubeletMinor(n.kubeletVersion) ?? 0) < ISTIO_AUTO_MIN_MINOR);
  const v = l.istioVersion;
  const istio = v ? `Istio ${v}` : 'this Istio (the proxy image does not tell its version)';
  const annotationWorks = versionAtLeast(v, 1, 24);
  let support: string;
  if (!node) support = nodeName ? `the kubelet version of node ${nodeName} could not be read` : 'the pod has no node yet';
  else if (nodeSupports) support = `Node ${node.name} runs kubelet ${node.kubeletVersion}, which runs native sidecars (Kubernetes 1.29+)`;
  else support = `Node ${node.name} runs kubelet ${node.kubeletVersion}: native sidecars need Kubernetes 1.29 or newer on every node (GA in 1.33)`;
  let why: string;
  if (l.layout === 'native' || l.layout === 'init-without-restart') {
    why = annotation === 'true' ? 'the pod asks for it (sidecar.istio.io/nativeSidecar: "true")' : `${istio} injected it as a native sidecar`;
  } else if (annotation === 'false') {
    why = 'the pod opts out (sidecar.istio.io/nativeSidecar: "false")';
  } else if (versionAtLeast(v, 1, 19) === false) {
    why = `${istio} predates native sidecar support (Istio 1.19+)`;
  } else if (versionAtLeast(v, 1, 24) === false) {
    why = `${istio} injects native sidecars only when istiod runs with ENABLE_NATIVE_SIDECARS=true (default false); the per-pod annotation needs Istio 1.24+`;
  } else if (versionAtLeast(v, 1, 27) === false) {
    why = `${istio} defaults ENABLE_NATIVE_SIDECARS to false; the annotation sidecar.istio.io/nativeSidecar: "true" turns it on per pod`;
  } else if (v === undefined) {
    why = 'the Istio version is unknown, so whether native sidecars would be automatic cannot be told';
  } else if (nodes === undefined) {
    why = `${istio} uses native sidecars automatically when every node runs kubelet 1.33+ (ENABLE_NATIVE_SIDECARS=auto); the nodes' versions could not be read`;
  } else if (oldNodes.length) {
    const list = oldNodes.slice(0, 3).map((n) => `${n.name} runs ${n.kubeletVersion}`).join(', ');
    why = `${istio} uses native sidecars automatically only when every node runs kubelet 1.33+ (the pod has no node yet when it is injected, so every node counts): ${list}${oldNodes.length > 3 ? ` and ${oldNodes.length - 3} more` : ''}`;
  } else {
    why = `${allNodes ? 'every node' : "the pod's node"} runs kubelet 1.33+, so istiod runs with ENABLE_NATIVE_SIDECARS=false, or the pod was injected before the nodes were upgraded`;
  }
  return { used: l.layout === 'native', annotation, nodeSupports, why, support, oldNodes, annotationWorks };
}
