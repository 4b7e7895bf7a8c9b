/**
 * Every cluster interaction goes through the kubectl binary (execa): authentication plugins
 * (relative exec-plugin paths, KUBERNETES_EXEC_INFO, interactive logins), KUBECONFIG merging,
 * proxies and the websocket/SPDY negotiation are then exactly kubectl's
 * (research/PACKAGING_AND_TEST_SERVER.md §3: @kubernetes/client-node differs on all four).
 * The user's kubectl-style flags are passed through unchanged to every call, so reads, exec and
 * port-forward all resolve the same context.
 */
import { setMaxListeners } from 'node:events';
import { execa, type ResultPromise } from 'execa';
import { UnavailableError } from '../model/errors.js';
import { parseKubeDuration, type KubeFlags } from './kube-flags.js';
import { kubectlClientVersion } from './kubectl-version.js';

export { parseKubeDuration, type KubeFlags };

export interface KubectlOptions {
  /** the kubectl executable (default "kubectl" on PATH; MESH_EGRESS_KUBECTL overrides) */
  readonly binary?: string;
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** whole-run budget in ms; every call gets the remaining time */
  readonly deadlineMs?: number;
  /** called for each kubectl invocation with what it is for (progress on a TTY) */
  readonly onCall?: (args: readonly string[], step: string) => void;
}

export type KubeErrorKind = 'forbidden' | 'not-found' | 'no-resource-type' | 'unreachable' | 'unauthorized' | 'timeout' | 'exit' | 'other';

/**
 * A kubectl call that failed, classified from kubectl's own message. Callers that can degrade
 * catch it; one that reaches the CLI is the cluster being unavailable (exit 69), not a bug.
 */
function unlimitedAbortController(): AbortController {
  const c = new AbortController();
  setMaxListeners(0, c.signal);
  return c;
}

export class KubectlError extends UnavailableError {
  override readonly name = 'KubectlError';
  constructor(
    readonly kind: KubeErrorKind,
    message: string,
    readonly exitCode: number | undefined,
    readonly stderr: string,
  ) {
    super(message);
  }
}

/** The first meaningful line of kubectl's stderr ("Error from server (Forbidden): ..."). */
function firstLine(stderr: string): string {
  const lines = stderr
    .split('\n')
    .map((l) => l.trim())
    // klog headers are Lmmdd (I/W/E + month and day): January to September start with 0, not 1
    .filter((l) => l && !/^[IWE]\d{4} /.test(l));
  return (lines[0] ?? stderr.trim()).replace(/^error: /, '');
}

export function classify(stderr: string, exitCode: number | undefined): KubeErrorKind {
  if (/\(Forbidden\)|is forbidden:/.test(stderr)) return 'forbidden';
  if (/\(NotFound\)|not found/i.test(stderr) && !/executable file not found/.test(stderr)) return 'not-found';
  if (/the server doesn't have a resource type/.test(stderr)) return 'no-resource-type';
  if (/\(Unauthorized\)|You must be logged in|Unauthorized/.test(stderr)) return 'unauthorized';
  if (/timed out|Client\.Timeout|context deadline exceeded|i\/o timeout/.test(stderr)) return 'timeout';
  if (/connection refused|no such host|Unable to connect to the server|dial tcp|TLS handshake|certificate|EOF/.test(stderr)) return 'unreachable';
  return exitCode === undefined ? 'other' : 'exit';
}

export interface RunResult {
  readonly stdout: string;
  readonly stderr: string;
  readonly exitCode: number;
}

/** kubectl's JSON output, or a classified error naming the step (never a SyntaxError's stack). */
export function parseKubectlJson<T>(out: string, step: string): T {
  try {
    return JSON.parse(out) as T;
  } catch {
    throw new KubectlError('other', `${step}: kubectl printed something that is not JSON`, 0, out.slice(0, 200));
  }
}

export class Kubectl {
  readonly binary: string;
  /** calls made and bytes received, for reports and benchmarks */
  readonly stats = { calls: 0, bytes: 0 };
  private readonly deadline: number | undefined;
  /** the environment kubectl runs in (undefined: this process's) */
  get env(): Readonly<Record<string, string | undefined>> | undefined {
    return this.options.env;
  }

  /**
   * Cancels every kubectl still running (see dispose). Every call listens on this one signal, and a
   * run across many pods has far more than Node's default of 10 listeners in flight at once: that
   * is by design, not a leak, so the MaxListenersExceededWarning is switched off for it.
   */
  private readonly cancel = unlimitedAbortController();

  constructor(
    readonly flags: KubeFlags,
    private readonly options: KubectlOptions = {},
  ) {
    this.binary = options.binary ?? options.env?.MESH_EGRESS_KUBECTL ?? 'kubectl';
    const timeout = flags.requestTimeout !== undefined ? parseKubeDuration(flags.requestTimeout) : 0;
    const budget = options.deadlineMs ?? (timeout > 0 ? timeout : undefined);
    this.deadline = budget !== undefined ? Date.now() + budget : undefined;
  }

  /** kubectl's global flags, passed to every call (namespace is per call). */
  globalArgs(): string[] {
    const f = this.flags;
    const out: string[] = [];
    if (f.kubeconfig !== undefined) out.push(`--kubeconfig=${f.kubeconfig}`);
    if (f.context !== undefined) out.push(`--context=${f.context}`);
    if (f.cluster !== undefined) out.push(`--cluster=${f.cluster}`);
    if (f.user !== undefined) out.push(`--user=${f.user}`);
    if (f.as !== undefined) out.push(`--as=${f.as}`);
    for (const g of f.asGroups ?? []) out.push(`--as-group=${g}`);
    return out;
  }

  private remainingMs(step: string): number | undefined {
    if (this.deadline === undefined) return undefined;
    const left = this.deadline - Date.now();
    if (left <= 0) throw new UnavailableError(`timed out before ${step} (--request-timeout ${this.flags.requestTimeout}): raise --request-timeout or check the cluster's responsiveness`);
    return left;
  }

  /** Runs kubectl; never throws for a non-zero exit (the caller classifies). */
  async run(args: readonly string[], opts: { step: string; input?: string; timeoutMs?: number } = { step: 'a kubectl call' }): Promise<RunResult> {
    const left = this.remainingMs(opts.step);
    const timeout = Math.min(left ?? Number.POSITIVE_INFINITY, opts.timeoutMs ?? Number.POSITIVE_INFINITY);
    const full = [...this.globalArgs(), ...(left !== undefined ? [`--request-timeout=${Math.max(1, Math.ceil(left / 1000))}s`] : []), ...args];
    this.stats.calls++;
    this.options.onCall?.(args, opts.step);
    try {
      const r = await execa(this.binary, full, {
        reject: false,
        ...(Number.isFinite(timeout) ? { timeout } : {}),
        ...(opts.input !== undefined ? { input: opts.input } : { stdin: 'ignore' }),
        env: { ...(this.options.env ?? {}) },
        extendEnv: this.options.env === undefined,
        maxBuffer: 1 << 30,
        cancelSignal: this.cancel.signal,
        stripFinalNewline: false,
      });
      if (r.timedOut) throw new UnavailableError(`timed out while ${opts.step} (--request-timeout ${this.flags.requestTimeout ?? 'not set'}): raise --request-timeout or check the cluster`);
      if ((r as { code?: string }).code === 'ENOENT' || /ENOENT/.test(String((r as { originalMessage?: string }).originalMessage ?? ''))) {
        throw new UnavailableError(`kubectl not found (${this.binary}): this is a kubectl plugin; install kubectl 1.27 or newer and put it on PATH`);
      }
      const stdout = typeof r.stdout === 'string' ? r.stdout : '';
      const stderr = typeof r.stderr === 'string' ? r.stderr : '';
      this.stats.bytes += Buffer.byteLength(stdout);
      return { stdout, stderr, exitCode: r.exitCode ?? 1 };
    } catch (e) {
      if (e instanceof UnavailableError) throw e;
      const err = e as NodeJS.ErrnoException;
      if (err.code === 'ENOENT') throw new UnavailableError(`kubectl not found (${this.binary}): this is a kubectl plugin; install kubectl 1.27 or newer and put it on PATH`);
      throw e;
    }
  }

  /** Runs kubectl and throws a classified KubectlError for a non-zero exit. */
  async ok(args: readonly string[], step: string, input?: string): Promise<string> {
    const r = await this.run(args, { step, ...(input !== undefined ? { input } : {}) });
    if (r.exitCode !== 0) {
      const kind = classify(r.stderr, r.exitCode);
      throw new KubectlError(kind, `${step}: ${firstLine(r.stderr) || `kubectl exited with ${r.exitCode}`}`, r.exitCode, r.stderr);
    }
    return r.stdout;
  }

  /** `kubectl get ... -o json`, parsed. */
  async getJson<T>(args: readonly string[], step: string): Promise<T> {
    return parseKubectlJson<T>(await this.ok(['get', ...args, '-o', 'json'], step), step);
  }

  /**
   * Stops every kubectl this runner started that is still running: when one branch of a parallel
   * collection fails, the others must not outlive the command.
   */
  dispose(): void {
    this.cancel.abort();
  }

  /** Starts a long-running kubectl (port-forward, logs -f); the caller must kill it. */
  spawn(args: readonly string[]): ResultPromise {
    this.stats.calls++;
    this.options.onCall?.(args, args.slice(0, 2).join(' '));
    return execa(this.binary, [...this.globalArgs(), ...args], {
      reject: false,
      stdin: 'ignore',
      buffer: false,
      cancelSignal: this.cancel.signal,
      env: { ...(this.options.env ?? {}) },
      extendEnv: this.options.env === undefined,
    });
  }
}

/** kubectl's client version, checked against the oldest supported (1.27). */
export async function checkKubectlVersion(k: Kubectl): Promise<string> {
  k.stats.calls++;
  const v = await kubectlClientVersion({ binary: k.binary, ...(k.env ? { env: k.env } : {}), timeoutMs: 15_000 });
  if (v.status === 'not-found') throw new UnavailableError(`kubectl not found (${v.binary}): this is a kubectl plugin; install kubectl 1.27 or newer and put it on PATH`);
  if (v.status === 'timeout') throw new UnavailableError(`kubectl version --client did not answer within ${v.timeoutMs / 1000}s: check the kubectl on PATH (${v.binary})`);
  if (v.status === 'error') throw new UnavailableError(`could not read kubectl's version (${v.message}): install kubectl 1.27 or newer`);
  const m = /^v?(\d+)\.(\d+)/.exec(v.gitVersion);
  if (!m) throw new UnavailableError(`could not read kubectl's version from "${v.gitVersion}": install kubectl 1.27 or newer`);
  const major = Number(m[1]);
  const minor = Number(m[2]);
  if (major < 1 || (major === 1 && minor < 27)) {
    throw new UnavailableError(`kubectl ${v.gitVersion} is too old: kubectl-mesh_egress needs kubectl 1.27 or newer`);
  }
  return v.gitVersion;
}

export interface ResolvedContext {
  readonly context: string;
  readonly cluster: string;
  readonly server: string;
  readonly namespace: string;
  readonly user: string;
}

/**
 * The kubeconfig yields no usable context (`kubectl config view --minify` failed, e.g. the context
 * named by --context does not exist). `detail` is kubectl's own reason; the message is unchanged for
 * single-context verbs, and multi-context verbs (multicluster) rephrase it per context from `detail`.
 */
export class KubeconfigContextError extends UnavailableError {
  override readonly name = 'KubeconfigContextError';
  constructor(readonly detail: string) {
    super(`no usable kubeconfig context (${detail}): check KUBECONFIG or --kubeconfig, or pick a context with --context`);
  }
}

/**
 * The context and namespace exactly as kubectl resolves them (KUBECONFIG merge order, --context,
 * --cluster, --user, -n), asked from kubectl itself: `kubectl config view --minify`.
 */
export async function resolveContext(k: Kubectl): Promise<ResolvedContext> {
  const r = await k.run(['config', 'view', '--minify', '-o', 'json'], { step: 'reading the kubeconfig', timeoutMs: 15_000 });
  if (r.exitCode !== 0) {
    throw new KubeconfigContextError(firstLine(r.stderr));
  }
  const cfg = parseKubectlJson<{
    'current-context'?: string;
    contexts?: { name: string; context?: { cluster?: string; namespace?: string; user?: string } }[];
    clusters?: { name: string; cluster?: { server?: string } }[];
  }>(r.stdout, 'reading the kubeconfig');
  const ctx = cfg.contexts?.[0];
  const cluster = cfg.clusters?.[0];
  if (!ctx || !cluster) throw new UnavailableError('the kubeconfig has no current context: set one with kubectl config use-context, or pass --context');
  return {
    context: ctx.name,
    cluster: k.flags.cluster ?? ctx.context?.cluster ?? cluster.name,
    server: cluster.cluster?.server ?? '',
    namespace: k.flags.namespace ?? (ctx.context?.namespace || 'default'),
    user: k.flags.user ?? ctx.context?.user ?? '',
  };
}

/** One line for the user from a classified kubectl failure. */
export function describeKubeError(e: KubectlError): string {
  return e.message;
}
