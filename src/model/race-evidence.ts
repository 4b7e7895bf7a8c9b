/**
 * The evidence race-check reads for one pod, the same whether collected live or read back from a
 * snapshot: the pod, its events, container logs with kubelet timestamps, the destinations its
 * containers are configured to reach, and the nodes' kubelet versions.
 */
import type { CollectionGap, Pod } from './cluster-view.js';

/** A core/v1 Event as `kubectl get events -o json` returns it (the fields the check reads). */
export interface KubeEvent {
  readonly type?: string;
  readonly reason?: string;
  readonly message?: string;
  readonly count?: number;
  readonly firstTimestamp?: string | null;
  readonly lastTimestamp?: string | null;
  readonly eventTime?: string | null;
  readonly series?: { readonly count?: number; readonly lastObservedTime?: string } | null;
  readonly involvedObject?: { readonly kind?: string; readonly name?: string; readonly uid?: string; readonly fieldPath?: string };
  readonly source?: { readonly component?: string; readonly host?: string };
  readonly reportingComponent?: string;
}

/** One container log as `kubectl logs --timestamps [--previous] --limit-bytes=N` returned it. */
export interface ContainerLog {
  readonly container: string;
  /** the previous (terminated) instance of the container */
  readonly previous: boolean;
  /** the log text, each line prefixed with the kubelet's RFC3339Nano timestamp */
  readonly text?: string;
  /** why there is no text (the container has not started, the read was denied, ...) */
  readonly unavailable?: string;
  /** the read stopped at --limit-bytes: later lines are missing */
  readonly truncated?: boolean;
}

export interface NodeVersion {
  readonly name: string;
  /** status.nodeInfo.kubeletVersion, e.g. v1.33.2-gke.1240000 */
  readonly kubeletVersion: string;
}

/** A network destination a container is configured to reach (Vault, ...), from env or annotations. */
export interface EgressDestination {
  /** the container that uses it ('*' for every Vault agent container of the pod) */
  readonly container: string;
  /** where it was read: "env VAULT_ADDR", "annotation vault.hashicorp.com/service", ... */
  readonly source: string;
  readonly scheme?: string;
  readonly host: string;
  readonly port: number;
  /** the cluster IP when host is a Service of the cluster (looked up through the API, not DNS) */
  readonly serviceIp?: string;
}

export interface PodEvidence {
  readonly pod: Pod;
  /** undefined: not collected (see gaps) */
  readonly events?: readonly KubeEvent[];
  readonly logs: readonly ContainerLog[];
  /** undefined: read from the pod spec by the analysis (live collection and snapshots add service IPs) */
  readonly destinations?: readonly EgressDestination[];
  readonly gaps: readonly CollectionGap[];
}
