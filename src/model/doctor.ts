/**
 * What `doctor` collects beyond a trace, in the shape both the live collection and a snapshot
 * give: the no-sidecar probe's run, and the Kubernetes objects its checks read (NetworkPolicies,
 * namespaces and their labels, pods with their labels and ports, EndpointSlices, the workloads
 * owning the pods). A list that was not read is absent (see gaps), never empty.
 */
import type { CollectionGap, KubeObject } from './cluster-view.js';

/** The connection the probe pod makes, with the pod it speaks for. */
export interface ProbeSpec {
  /** namespace of the target pod: the probe runs next to it */
  readonly namespace: string;
  /** the target pod, recorded on the probe pod */
  readonly sourcePod: string;
  readonly host: string;
  /** an IP to connect to instead of resolving host (DEST was an IP, or --address) */
  readonly address?: string;
  readonly port: number;
  /** TCP, TLS (handshake) or HTTP (a request) */
  readonly mode: 'tcp' | 'tls' | 'http' | 'https';
  /** SNI for TLS, when it differs from host or host is an IP */
  readonly sni?: string;
  readonly path: string;
  readonly hostHeader?: string;
  /** connect and handshake timeout, ms */
  readonly connectTimeoutMs: number;
  /** the whole probe: activeDeadlineSeconds and the wait, ms */
  readonly deadlineMs: number;
}

/** How a probe went, as the collection saw it (interpreted by analyze/doctor/probe.ts). */
export type ProbeRun =
  | { readonly kind: 'not-requested' }
  | { readonly kind: 'not-applicable'; readonly reason: string }
  | { readonly kind: 'failed'; readonly reason: string; readonly remedy: string; readonly pod?: string; readonly image?: string; readonly deleted?: boolean }
  | {
      readonly kind: 'ran';
      readonly pod: string;
      readonly image: string;
      /** why this image (the pod's own proxy image, or the default) */
      readonly imageWhy: string;
      readonly node?: string;
      /** the probe container's exit code */
      readonly exitCode?: number;
      /** the probe container's log (curl's --write-out JSON and its error line) */
      readonly log: string;
      /** the probe pod was deleted afterwards */
      readonly deleted: boolean;
    };

/** Kubernetes objects the doctor checks read; absent lists were not read (see gaps). */
export interface DoctorClusterData {
  /** NetworkPolicies of the target pod's namespace (egress is decided by the source's policies) */
  readonly networkPolicies?: readonly KubeObject[];
  /** every namespace, for namespaceSelector */
  readonly namespaces?: readonly KubeObject[];
  /** pods (trimmed to labels, owners, IPs, container ports, readiness) */
  readonly pods?: readonly KubeObject[];
  /** namespaces whose pods are all in `pods` ('*' = every namespace) */
  readonly podNamespaces?: readonly string[];
  /** EndpointSlices of the namespaces in podNamespaces */
  readonly endpointSlices?: readonly KubeObject[];
  /** Deployments, StatefulSets, DaemonSets and ReplicaSets of those namespaces (trimmed) */
  readonly workloads?: readonly KubeObject[];
  readonly gaps: readonly CollectionGap[];
}

/** Snapshot paths of the doctor's extra data (written by its collector, read by --snapshot). */
export const DOCTOR_FILES = {
  networkPolicies: 'cluster/doctor/networkpolicies.json',
  namespaces: 'cluster/doctor/namespaces.json',
  pods: 'cluster/doctor/pods.json',
  endpointSlices: 'cluster/doctor/endpointslices.json',
  workloads: 'cluster/doctor/workloads.json',
} as const;

/** Only what the checks read: labels, owners, addresses, ports, readiness (no env, no volumes). */
export function trimPod(p: KubeObject): KubeObject {
  const spec = (p.spec ?? {}) as { nodeName?: string; containers?: { name?: string; image?: string; ports?: unknown[] }[]; initContainers?: { name?: string; image?: string; ports?: unknown[]; restartPolicy?: string }[] };
  const status = (p.status ?? {}) as { phase?: string; podIP?: string; podIPs?: unknown[]; conditions?: { type?: string; status?: string }[] };
  const md = p.metadata ?? {};
  const container = (c: { name?: string; image?: string; ports?: unknown[]; restartPolicy?: string }) => ({ name: c.name, image: c.image, ...(c.ports ? { ports: c.ports } : {}), ...(c.restartPolicy ? { restartPolicy: c.restartPolicy } : {}) });
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: md.name,
      namespace: md.namespace,
      ...(md.labels ? { labels: md.labels } : {}),
      ...(md.annotations?.['sidecar.istio.io/status'] ? { annotations: { 'sidecar.istio.io/status': md.annotations['sidecar.istio.io/status'] } } : {}),
      ...(md.ownerReferences ? { ownerReferences: md.ownerReferences } : {}),
    },
    spec: {
      ...(spec.nodeName ? { nodeName: spec.nodeName } : {}),
      containers: (spec.containers ?? []).map(container),
      ...(spec.initContainers ? { initContainers: spec.initContainers.map(container) } : {}),
    },
    status: {
      ...(status.phase ? { phase: status.phase } : {}),
      ...(status.podIP ? { podIP: status.podIP } : {}),
      ...(status.podIPs ? { podIPs: status.podIPs } : {}),
      conditions: (status.conditions ?? []).filter((c) => c.type === 'Ready').map((c) => ({ type: c.type, status: c.status })),
    },
  };
}

/** Workloads keep their selector and pod-template labels (the fix for a missing label patches them). */
export function trimWorkload(w: KubeObject): KubeObject {
  const spec = (w.spec ?? {}) as { selector?: unknown; template?: { metadata?: { labels?: Record<string, string> } } };
  const md = w.metadata ?? {};
  return {
    apiVersion: w.apiVersion,
    kind: w.kind,
    metadata: { name: md.name, namespace: md.namespace, ...(md.labels ? { labels: md.labels } : {}), ...(md.ownerReferences ? { ownerReferences: md.ownerReferences } : {}) },
    spec: { ...(spec.selector ? { selector: spec.selector } : {}), template: { metadata: { labels: spec.template?.metadata?.labels ?? {} } } },
  };
}

/** Namespaces keep their name and labels. */
export function trimNamespace(n: KubeObject): KubeObject {
  return { apiVersion: 'v1', kind: 'Namespace', metadata: { name: n.metadata?.name, ...(n.metadata?.labels ? { labels: n.metadata.labels } : {}) } };
}
