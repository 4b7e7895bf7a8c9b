/**
 * Public types of the in-process Kubernetes API test server.
 */
import type { Duplex } from 'node:stream';
import type { EnvoyAdminOptions } from './envoy/admin.js';

/** Any Kubernetes object as JSON (the server never validates schemas, like a CRD without one). */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  [key: string]: unknown;
}

export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  creationTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: OwnerReference[];
  [key: string]: unknown;
}

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

/** One API resource as discovery advertises it. */
export interface ResourceDef {
  group: string;
  /** Versions served, preferred first. Objects are stored once and served under every version. */
  versions: string[];
  kind: string;
  plural: string;
  singular?: string;
  namespaced: boolean;
  shortNames?: string[];
  categories?: string[];
  verbs?: string[];
  /** Subresources advertised in discovery, e.g. `{ name: 'exec', kind: 'PodExecOptions', verbs: ['create', 'get'] }`. */
  subresources?: { name: string; kind: string; verbs: string[] }[];
}

/**
 * An RBAC deny rule. A request is forbidden when every given field matches ('*' or omitted = any).
 * `verb` is the authorization verb: get, list, watch, create, update, patch, delete, deletecollection;
 * exec, attach and portforward are authorized as `create` on `pods/<sub>` (kube-apiserver 1.31+, also for
 * the websocket GET), log as `get` on `pods/log`.
 */
export interface DenyRule {
  verb?: string;
  group?: string;
  resource?: string;
  /** Omitted: the resource itself only (a rule on "pods" does not cover "pods/exec", as in RBAC); '*': any. */
  subresource?: string;
  namespace?: string;
  name?: string;
}

/** Makes matching requests fail with a Status (500 InternalError by default), `times` times (default: always). */
export interface FailureRule {
  method?: string;
  /** Matched against the path without the query string. */
  path: string | RegExp;
  status?: number;
  reason?: string;
  message?: string;
  times?: number;
}

export interface ExecContext {
  /** Cluster (context) name. */
  cluster: string;
  namespace: string;
  pod: KubeObject;
  container: string;
  command: string[];
  tty: boolean;
  /** Resolves with everything written to stdin once the client closes it (empty if stdin was not requested). */
  stdin: () => Promise<Buffer>;
}

export interface ExecResult {
  stdout?: string | Buffer;
  stderr?: string | Buffer;
  /** Process exit code, 0 by default; non-zero travels as a NonZeroExitCode status so kubectl exits with it. */
  exitCode?: number;
}

/** Returns undefined to let the next rule (or the built-ins) handle the command. */
export type ExecHandler = (ctx: ExecContext) => ExecResult | undefined | Promise<ExecResult | undefined>;

export interface ExecRule {
  /** `namespace/name`, a RegExp on it, or omitted for every pod. */
  pod?: string | RegExp;
  container?: string;
  /** argv[0] to match, or a predicate on argv. */
  command?: string | ((argv: string[]) => boolean);
  handler: ExecHandler;
}

/** Where a forwarded pod port goes: a local TCP port on 127.0.0.1, or a function given each forwarded connection as a stream. */
export type PortTarget = number | ((stream: Duplex) => void);

export interface LogLine {
  time: Date | string;
  line: string;
}

/** A container's log: plain text (lines without timestamps) or timestamped lines. */
export type LogSource = string | LogLine[];

export interface PodLogs {
  current?: LogSource;
  /** Served for `previous=true`; absent → 400 like the kubelet when there is no previous instance. */
  previous?: LogSource;
}

export interface ClusterOptions {
  objects?: KubeObject[];
  /** Register the Istio CRDs (networking/security/telemetry .istio.io). Default true. */
  istio?: boolean;
  /** Extra API resources to advertise (CRDs). Kinds of `objects` are registered automatically. */
  resources?: ResourceDef[];
  denyRules?: DenyRule[];
  failures?: FailureRule[];
  /** The user the token authenticates as (shows up in 403 messages). */
  user?: string;
  /** Bearer token of this cluster's kubeconfig user (random when omitted). */
  token?: string;
  /** Default namespace of the context. */
  namespace?: string;
  exec?: ExecRule[];
  /** `namespace/pod` → pod port → target. Sidecar pods get 15000 → their Envoy admin emulator automatically. */
  portForward?: Record<string, Record<number, PortTarget>>;
  /** `namespace/pod` → container → logs. */
  logs?: Record<string, Record<string, LogSource | PodLogs>>;
  /** `namespace/pod` → Envoy admin emulator for that pod's sidecar. */
  sidecars?: Record<string, EnvoyAdminOptions>;
  /** Reported by /version. */
  serverVersion?: { major: string; minor: string; gitVersion: string };
  /**
   * What exec of a command the container does not have does: `exit127` (the brief's contract: stderr
   * "... executable file not found in $PATH", exit 127) or `containerd` (InternalError status as
   * containerd/runc report it; kubectl exits 1).
   */
  unknownCommand?: 'exit127' | 'containerd';
  /**
   * Called after each create (any resource) with the stored object: stands in for the controllers
   * and kubelet, e.g. to move a created pod through its phases with `cluster.apply` and give it
   * logs with `cluster.appendLog`. See also `TestCluster.onCreate`.
   */
  onCreate?: CreateHook;
}

/** A create observer (see ClusterOptions.onCreate); it may change the cluster through the handle. */
export type CreateHook = (created: KubeObject, cluster: import('./cluster.js').TestCluster) => void;

export interface TestServerOptions {
  /** Context name → cluster. Default: one context named `test` with no objects. */
  clusters?: Record<string, ClusterOptions>;
  currentContext?: string;
  /** `insecure` (insecure-skip-tls-verify, default) or `ca` (certificate-authority-data of the self-signed cert). */
  tls?: 'insecure' | 'ca';
  latencyMs?: number;
}

export interface RecordedRequest {
  seq: number;
  /** Milliseconds since the server started. */
  at: number;
  cluster: string;
  method: string;
  /** Path with query string, as sent. */
  path: string;
  pathname: string;
  query: Record<string, string[]>;
  headers: {
    userAgent?: string;
    accept?: string;
    contentType?: string;
    upgrade?: string;
    secWebSocketProtocol?: string;
    xStreamProtocolVersion?: string;
    kubectlCommand?: string;
    authorization?: 'bearer' | 'other' | 'none';
  };
  isResourceRequest: boolean;
  /** The apiserver's RequestInfo verb: get list watch create update patch delete deletecollection (lowercase method for non-resource paths). */
  verb: string;
  apiGroup?: string;
  apiVersion?: string;
  resource?: string;
  subresource?: string;
  namespace?: string;
  name?: string;
  /** Short label: discovery, get, list, watch, create, update, patch, delete, deletecollection, exec, attach, portforward, log, version, other. */
  action: string;
  /** A create/update/patch/delete on a resource (exec, attach, portforward, log and proxy are not mutations of stored state). */
  mutating: boolean;
  /** How an upgrade was served: websocket, spdy, spdy-over-websocket (port-forward tunnel). */
  transport?: 'http' | 'websocket' | 'spdy' | 'spdy-over-websocket';
  /** Negotiated subprotocol (websocket) or X-Stream-Protocol-Version (SPDY). */
  protocol?: string;
  /** HTTP status sent (101 for upgrades); 0 until known. */
  status: number;
  /** exec: the exit code kubectl reports (set when the command finishes). */
  exitCode?: number;
}
