/**
 * The doctor report: seed 000's checklist as steps, each a check with a status, evidence and
 * findings, and a verdict that ranks the problems. Rendered as the `kind: Doctor` document, so
 * field names are public API: add, never rename.
 */
import type { ClusterView } from '../../model/cluster-view.js';
import type { ConfigDump } from '../../model/config-dump.js';
import type { DoctorClusterData, ProbeRun } from '../../model/doctor.js';
import type { Finding } from '../finding.js';
import type { Trace, TraceRequest, TraceSource } from '../trace/types.js';

export const STEP_IDS = ['probe', 'sidecar', 'outbound-policy', 'port-protocol', 'sidecar-logs', 'network-policy', 'tls', 'subsets'] as const;
export type StepId = (typeof STEP_IDS)[number];

export const STEP_TITLES: Readonly<Record<StepId, string>> = {
  probe: 'reachable without the mesh',
  sidecar: 'behaviour with the sidecar',
  'outbound-policy': 'outbound traffic policy',
  'port-protocol': 'port protocol',
  'sidecar-logs': 'sidecar logs',
  'network-policy': 'NetworkPolicy',
  tls: 'TLS',
  subsets: 'subsets and endpoints',
};

export type StepStatus = 'ok' | 'problem' | 'skipped';

export interface Step {
  /** 1..8, seed 000's order */
  readonly number: number;
  readonly id: StepId;
  readonly title: string;
  readonly status: StepStatus;
  /** skipped: why, and how to run it */
  readonly reason?: string;
  /** one line: what the step found */
  readonly summary: string;
  /** where the conclusion comes from */
  readonly evidence: readonly string[];
  readonly findings: readonly Finding[];
  /** step-specific facts for -o json */
  readonly data?: Readonly<Record<string, unknown>>;
  /** codes among the findings that another finding of this step explains (ranked as symptoms) */
  readonly symptoms?: readonly string[];
}

export interface RankedProblem {
  readonly rank: number;
  readonly step: number;
  readonly stepId: StepId;
  readonly code: string;
  readonly severity: Finding['severity'];
  readonly message: string;
  /** a root cause, or a symptom of one ranked above it */
  readonly role: 'cause' | 'symptom';
}

export interface DoctorVerdict {
  readonly status: 'ok' | 'problem';
  readonly summary: string;
  readonly problems: readonly RankedProblem[];
}

export interface DoctorReport {
  readonly source: TraceSource;
  readonly target: { readonly pod: string; readonly namespace: string; readonly proxy: string };
  /** DEST as the user typed it */
  readonly destination: string;
  /** the connection as traced (for a gateway: on its listener's port) */
  readonly request: TraceRequest;
  readonly steps: readonly Step[];
  readonly verdict: DoctorVerdict;
  /** every step's findings, sorted */
  readonly findings: readonly Finding[];
  readonly assumptions: readonly string[];
}

/** A gateway DEST on the gateway Service's port, mapped to the port the listener is bound to. */
export interface GatewayPortMapping {
  readonly service: string;
  readonly servicePort: number;
  readonly targetPort: number;
}

/** Everything the checks read. */
export interface DoctorInput {
  /** DEST as the user typed it */
  readonly destination: string;
  readonly request: TraceRequest;
  readonly view: ClusterView;
  readonly trace: Trace | undefined;
  /** why there is no trace */
  readonly traceSkipped?: string;
  readonly dump: ConfigDump | undefined;
  readonly cluster: DoctorClusterData;
  /** the istio-proxy log (undefined: not collected, see proxyLogMissing) */
  readonly proxyLog: string | undefined;
  readonly proxyLogMissing?: string;
  readonly probe: ProbeRun;
  readonly source: TraceSource;
  readonly offline: boolean;
  readonly gateway?: GatewayPortMapping;
  /** the root namespace of the mesh (mesh config rootNamespace, else the control plane's) */
  readonly rootNamespace: string;
  /** what the collection wants the reader to know (added to the report's assumptions) */
  readonly notes?: readonly string[];
}

/** The input as a noun, for "skipped because …" reasons. */
export function inputName(input: Pick<DoctorInput, 'source'>): string {
  switch (input.source.kind) {
    case 'snapshot':
      return 'a snapshot';
    case 'bug-report':
      return 'an istioctl bug-report';
    case 'config-dump':
      return 'a config dump';
    default:
      return 'the cluster';
  }
}

/** Why Kubernetes objects are missing from an offline input, and what to use instead. */
export function notInInput(input: Pick<DoctorInput, 'source'>, what: string): string {
  if (input.source.kind === 'config-dump') return `${what} not in a config dump, which holds only the proxy's configuration (use --snapshot or --bug-report, or run against the cluster)`;
  if (input.source.kind === 'snapshot') return `${what} not in the snapshot (taken without doctor data: take it again with this version)`;
  if (input.source.kind === 'bug-report') return `${what} not in the bug-report`;
  return `${what} not read`;
}
