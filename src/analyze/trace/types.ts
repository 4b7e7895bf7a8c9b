/**
 * The trace request and result. The result is rendered as the `kind: Trace` document of the
 * output contract (DESIGN.md §3), so field names here are public API: add, never rename.
 */
import type { IpAddress } from '../../envoy/ip.js';
import type { Finding } from '../finding.js';

export const VERDICT_CODES = [
  'ROUTED',
  'PASSTHROUGH',
  'BLACKHOLE',
  'NOT_CAPTURED',
  'NO_LISTENER',
  'NO_FILTER_CHAIN',
  'NO_ROUTE',
  'NO_CLUSTER',
  'NO_HEALTHY_UPSTREAM',
  'DIRECT_RESPONSE',
  'PROTOCOL_MISMATCH',
  'DETECTION_STALL',
] as const;

export type VerdictCode = (typeof VERDICT_CODES)[number];

/** Verdicts that mean the connection does not reach its destination as the user intends. */
export const FAILING_VERDICTS: ReadonlySet<VerdictCode> = new Set<VerdictCode>([
  'BLACKHOLE',
  'NO_LISTENER',
  'NO_FILTER_CHAIN',
  'NO_ROUTE',
  'NO_CLUSTER',
  'NO_HEALTHY_UPSTREAM',
  'PROTOCOL_MISMATCH',
  'DETECTION_STALL',
]);

export type Protocol = 'tcp' | 'http' | 'http2' | 'tls';

/** What the user asked: one connection from the pod. */
export interface TraceRequest {
  /** DEST as typed */
  readonly raw: string;
  /** hostname or IP text from DEST */
  readonly host: string;
  readonly port: number;
  /** IP literal in DEST, or --address */
  readonly address: IpAddress | undefined;
  readonly protocol: Protocol;
  /** the client waits for the server to speak first (MySQL, SMTP...) */
  readonly serverFirst: boolean;
  /** HTTP request, for http/http2 */
  readonly hostHeader: string | undefined;
  readonly path: string;
  readonly method: string;
  readonly headers: Readonly<Record<string, string>>;
  /** TLS ClientHello, for tls */
  readonly sni: string | undefined;
  readonly alpn: readonly string[];
  /** offline overrides */
  readonly podIp: IpAddress | undefined;
  readonly uid: number | undefined;
  readonly capture: CaptureOverrides;
  /** the pod as the cluster shows it (live, snapshot, bug-report) */
  readonly workload?: WorkloadIdentity;
}

/** A pod read from the cluster: its name, namespace and the workload that owns it. */
export interface WorkloadIdentity {
  readonly pod: string;
  readonly namespace: string;
  /** in Istio's OWNER form: kubernetes://apis/<group>/<version>/namespaces/<ns>/<plural>/<name> */
  readonly owner?: string;
}

export interface CaptureOverrides {
  readonly includeIpRanges?: string;
  readonly excludeIpRanges?: string;
  readonly includePorts?: string;
  readonly excludePorts?: string;
  readonly dnsCapture?: boolean;
  readonly interceptionMode?: 'REDIRECT' | 'TPROXY' | 'NONE';
  /** where each setting came from (default: a command-line flag) */
  readonly sources?: Readonly<Partial<Record<'includeIpRanges' | 'excludeIpRanges' | 'includePorts' | 'excludePorts' | 'dnsCapture' | 'interceptionMode', 'flag' | 'annotation' | 'istio-init args' | 'proxy metadata'>>>;
}

export type Stage = 'capture' | 'listener' | 'listener_filters' | 'filter_chain' | 'network_filters' | 'http_route' | 'cluster' | 'endpoints';

export interface Hop {
  readonly stage: Stage;
  /** one line: what happened at this hop */
  readonly result: string;
  /** the Envoy object that decided, e.g. a listener or cluster name */
  readonly object?: string;
  /** explanation lines */
  readonly details: readonly string[];
  /** where in the proxy configuration this comes from */
  readonly evidence?: string;
}

/** A configuration object the verdict names as responsible. */
export interface Responsible {
  readonly kind: string;
  readonly name?: string;
  readonly namespace?: string;
  readonly host?: string;
  /** how it shaped the outcome */
  readonly role: string;
}

export type OutboundPolicy = 'ALLOW_ANY' | 'REGISTRY_ONLY' | 'EGRESS_PROXY' | 'UNKNOWN';

export interface WeightedTarget {
  readonly cluster: string;
  readonly weight: number;
  readonly code: VerdictCode | null;
  readonly outcome: string;
}

export interface Verdict {
  /** null when the input cannot decide (see findings for what is missing) */
  readonly code: VerdictCode | null;
  readonly summary: string;
  readonly listener?: string;
  readonly filterChain?: string;
  readonly routeConfig?: string;
  readonly virtualHost?: string;
  readonly route?: string;
  readonly cluster?: string;
  /** the %RESPONSE_FLAGS% Envoy would log, "-" for none */
  readonly responseFlag?: string;
  /** what the application sees: forwarded, reset, hang, bypass, refused, or an HTTP status */
  readonly outcome: string;
  readonly responsible: readonly Responsible[];
  readonly outboundTrafficPolicy?: OutboundPolicy;
  /** connection start delayed by protocol detection, ms */
  readonly delayMs?: number;
  /** weighted routes: the outcome per target */
  readonly targets?: readonly WeightedTarget[];
}

export interface ProxySummary {
  readonly id?: string;
  readonly type: string;
  readonly namespace?: string;
  readonly pod?: string;
  readonly ips: readonly string[];
  readonly istioVersion?: string;
}

/** Where the proxy configuration came from. */
export interface TraceSource {
  readonly kind: 'config-dump' | 'live' | 'snapshot' | 'bug-report';
  readonly context?: string;
  readonly pod?: string;
  readonly container?: string;
  /** how the proxy was asked: exec (pilot-agent request) or port-forward */
  readonly via?: string;
  readonly notes?: readonly string[];
}

export interface Trace {
  readonly source?: TraceSource;
  readonly request: TraceRequest;
  readonly proxy: ProxySummary;
  readonly hops: readonly Hop[];
  readonly verdict: Verdict;
  readonly findings: readonly Finding[];
  /** what the emulation had to assume */
  readonly assumptions: readonly string[];
}
