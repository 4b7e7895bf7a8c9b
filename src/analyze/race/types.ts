/**
 * `race-check`: what goes in (per pod: the pod, its events, container logs read with kubelet
 * timestamps, the nodes' kubelet versions) and what comes out (a timeline per pod, the start-up
 * window in which the application can meet a proxy that is not ready, the verdict and findings).
 * The data is about time, so the report carries timestamps (RFC 3339, as the cluster gave them).
 */
import type { CollectionGap, MeshConfigRef } from '../../model/cluster-view.js';
import type { NodeVersion, PodEvidence } from '../../model/race-evidence.js';
import type { Finding } from '../finding.js';

export type { ContainerLog, EgressDestination, KubeEvent, NodeVersion, PodEvidence } from '../../model/race-evidence.js';

export interface RaceInput {
  readonly pods: readonly PodEvidence[];
  /** kubelet versions; undefined when they could not be read */
  readonly nodes?: readonly NodeVersion[];
  /** the nodes list holds every node of the cluster (else only the pods' nodes) */
  readonly allNodes: boolean;
  readonly meshConfig?: MeshConfigRef;
  /** when the data was read (RFC 3339) */
  readonly collectedAt: string;
  readonly selection: RaceSelection;
  readonly source: RaceSource;
  readonly gaps: readonly CollectionGap[];
}

export interface RaceSelection {
  /** what TARGET named: "pod x", "deployments/api", "selector app=x" */
  readonly what: string;
  /** how the pods were chosen among those TARGET names (newest ReplicaSet, ...) */
  readonly note?: string;
}

export interface RaceSource {
  readonly kind: 'live' | 'snapshot';
  readonly context?: string;
  readonly file?: string;
}

/** Per pod: the closed vocabulary of outcomes, worst first. */
export const RACE_VERDICTS = ['RACED', 'INIT_BLOCKED', 'STUCK_IN_INIT', 'EXPOSED', 'ORDERED', 'NO_SIDECAR'] as const;
export type RaceVerdict = (typeof RACE_VERDICTS)[number];

export type TimelineKind =
  | 'pod-created'
  | 'pod-scheduled'
  | 'init-started'
  | 'init-finished'
  | 'init-failed'
  | 'proxy-started'
  | 'proxy-not-ready'
  | 'proxy-ready'
  | 'hook-failed'
  | 'container-killed'
  | 'app-started'
  | 'app-finished'
  | 'refused'
  | 'pod-initialized'
  | 'pod-ready'
  | 'back-off';

export interface TimelineEntry {
  /** RFC 3339 as the source gave it (events: seconds; logs: nanoseconds) */
  readonly at: string;
  readonly source: 'status' | 'event' | 'log';
  readonly kind: TimelineKind;
  readonly container?: string;
  readonly what: string;
  /** events seen several times: how often and until when */
  readonly count?: number;
  readonly until?: string;
}

export interface TimePoint {
  readonly at: string;
  /** where it was read: "istio-proxy log", "event Unhealthy", "pod condition ContainersReady" */
  readonly source: string;
}

export interface RefusedLine {
  readonly at: string;
  readonly container: string;
  /** from the previous (crashed) instance of the container */
  readonly previous: boolean;
  readonly line: string;
  /** ip:port or host:port named by the line */
  readonly destination?: string;
}

export type SidecarLayout = 'classic' | 'native' | 'init-without-restart' | 'none' | 'ambient';

export interface InitContainerReport {
  readonly name: string;
  readonly index: number;
  readonly role: 'istio-init' | 'istio-validation' | 'istio-proxy' | 'user';
  /** running, completed, waiting: PodInitializing, waiting: CrashLoopBackOff, failed (exit 1), not started */
  readonly state: string;
  readonly restarts: number;
  /** why it looks like it needs the network (undefined: it does not) */
  readonly needsNetwork?: string;
  readonly destination?: string;
  /** whether its outbound connections are redirected to the proxy when it runs */
  readonly captured?: 'yes' | 'no' | 'unknown';
  readonly captureReason?: string;
  /** whether a ready proxy runs while it runs (native sidecar before it) */
  readonly proxyRunning: boolean;
}

export interface PodRace {
  readonly namespace: string;
  readonly name: string;
  readonly node?: string;
  readonly kubeletVersion?: string;
  readonly phase: string;
  /** kubectl's STATUS column: Running, Init:1/3, Init:CrashLoopBackOff, ... */
  readonly status: string;
  readonly owner?: { readonly kind: string; readonly name: string };
  readonly sidecar: {
    readonly layout: SidecarLayout;
    readonly istioVersion?: string;
    readonly interception: 'istio-init' | 'istio-cni' | 'none';
    readonly startupProbe: boolean;
    /** port and path the proxy's readiness is probed on (15021 /healthz/ready since Istio 1.7) */
    readonly readinessEndpoint?: string;
  };
  readonly ordering: {
    readonly holdRequested: boolean;
    readonly requestedBy?: string;
    readonly holdEffective: boolean;
    /** whether the application containers wait for a ready proxy, and why (not) */
    readonly appWaitsForProxy: boolean;
    readonly how: string;
  };
  readonly nativeSidecars: { readonly used: boolean; readonly annotation?: string; readonly nodeSupports?: boolean; readonly explanation: string };
  readonly appStarted?: TimePoint & { readonly container: string };
  readonly proxyStarted?: TimePoint;
  /** when Envoy first reported ready; `bound` when only an upper bound is known */
  readonly proxyReady?: TimePoint & { readonly bound: boolean };
  /** the last moment the proxy is known not to have been ready */
  readonly proxyNotReadyUntil?: TimePoint;
  /** from the application's start to the proxy's ready time (or the last not-ready evidence) */
  readonly window?: { readonly from: string; readonly to: string; readonly seconds: number; readonly closed: boolean };
  readonly firstRefused?: RefusedLine & { readonly inWindow: boolean | null };
  readonly refusedInWindow: number;
  readonly restarts: readonly { readonly container: string; readonly count: number; readonly last?: string }[];
  readonly initContainers: readonly InitContainerReport[];
  readonly timeline: readonly TimelineEntry[];
  readonly verdict: RaceVerdict;
  readonly notes: readonly string[];
}

export interface RaceReport {
  readonly source: RaceSource;
  readonly collectedAt: string;
  readonly selection: RaceSelection;
  /** the worst verdict of all pods */
  readonly verdict: RaceVerdict;
  readonly pods: readonly PodRace[];
  readonly findings: readonly Finding[];
  readonly gaps: readonly CollectionGap[];
}
