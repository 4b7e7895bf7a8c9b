/**
 * What the tool knows about the cluster around the proxy: the pod, the mesh configuration and
 * the Istio/Kubernetes objects used to attribute a verdict. Live collection, snapshots and
 * bug-report archives all produce this same shape; a missing piece is a recorded gap, never
 * an empty list pretending to be data.
 */
import type { V1ObjectMeta, V1Pod } from '@kubernetes/client-node';

/** Any Kubernetes object as the API returns it. */
export interface KubeObject {
  readonly apiVersion?: string;
  readonly kind?: string;
  readonly metadata?: V1ObjectMeta;
  readonly spec?: Record<string, unknown>;
  readonly status?: Record<string, unknown>;
  readonly data?: Readonly<Record<string, string>>;
}

export type Pod = V1Pod;

export type ListName = 'services' | 'serviceEntries' | 'sidecars' | 'destinationRules' | 'virtualServices';

/** How each list is asked for (kubectl resource names; Istio CRs by full name so short names cannot collide). */
export const LIST_RESOURCES: Readonly<Record<ListName, { resource: string; group: string; kind: string }>> = {
  services: { resource: 'services', group: '', kind: 'Service' },
  serviceEntries: { resource: 'serviceentries.networking.istio.io', group: 'networking.istio.io', kind: 'ServiceEntry' },
  sidecars: { resource: 'sidecars.networking.istio.io', group: 'networking.istio.io', kind: 'Sidecar' },
  destinationRules: { resource: 'destinationrules.networking.istio.io', group: 'networking.istio.io', kind: 'DestinationRule' },
  virtualServices: { resource: 'virtualservices.networking.istio.io', group: 'networking.istio.io', kind: 'VirtualService' },
};

export type GapReason = 'forbidden' | 'not-found' | 'crd-missing' | 'timeout' | 'error';

export interface CollectionGap {
  /** what could not be collected, e.g. "list serviceentries.networking.istio.io (all namespaces)" */
  readonly what: string;
  readonly reason: GapReason;
  /** the error as the cluster or proxy gave it, one line */
  readonly detail: string;
}

export interface MeshConfigRef {
  readonly namespace: string;
  readonly name: string;
  /** the parsed `mesh` key of the ConfigMap */
  readonly mesh: Readonly<Record<string, unknown>>;
}

export interface ClusterView {
  /** the kubeconfig context the data came from */
  readonly context?: string;
  readonly pod?: Pod;
  readonly meshConfig?: MeshConfigRef;
  /** lists that were collected (absent key: not collected, see gaps) */
  readonly lists: Partial<Record<ListName, readonly KubeObject[]>>;
  readonly gaps: readonly CollectionGap[];
  /** Envoy's server state when the proxy was asked (/server_info: LIVE, INITIALIZING, ...) */
  readonly proxyState?: string;
}

export function objectKey(o: KubeObject): string {
  return `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;
}
