/**
 * `log-level`: select pods, read every proxy's loggers, then either print them, or change them on
 * all pods in parallel and restore exactly the previous levels (only the loggers changed) when
 * --for expires, on SIGINT/SIGTERM, or when a pod fails; `--detach` leaves the change and writes a
 * lease that `--restore` undoes.
 *
 * Robustness rules:
 *  - nothing is changed until every selected proxy's list was read and every LOGGER checked;
 *  - signal handlers are subscribed just before the first change request and kept until the
 *    restore is over (or the lease written); a second signal during the restore says what is
 *    still being restored, a third stops waiting and records what is left in a lease;
 *  - a restore runs on a fresh kubectl budget (--request-timeout bounds the set-up, not a
 *    10-minute change), and retries once on a freshly opened admin connection: a terminal's
 *    Ctrl-C also reaches the kubectl children (port-forward) of this process group;
 *  - whatever could not be restored is recorded in a lease, so `--restore` can finish it.
 */
import type { Finding } from '../analyze/finding.js';
import {
  changeFailedFinding,
  checkLoggerNames,
  describeRequest,
  leaseExpiredFinding,
  levelsText,
  planPod,
  podName,
  presetFindings,
  restoreFailedFinding,
  skippedFinding,
  type ChangedPod,
  type Ending,
  type LeaseRef,
  type LoggerChange,
  type LogLevelReport,
  type ShownPod,
  type SkippedPod,
  type Via,
  PRESETS,
} from '../analyze/log-level.js';
import { podFacts } from '../analyze/trace/pod-settings.js';
import { resolvePods } from '../collect/cluster.js';
import { execProxyAdmin, openProxyAdmin, type PodRef, type ProxyAdmin } from '../collect/envoy-admin.js';
import { readLoggers, setLoggers, LoggingChangeError } from '../collect/envoy-logging.js';
import { parseKubeDuration } from '../collect/kube-flags.js';
import { checkKubectlVersion, Kubectl, KubectlError, resolveContext, type ResolvedContext } from '../collect/kubectl.js';
import { currentOwner, deleteLease, heldByLiveRun, readLeases, rewriteLease, writeLease, type Lease, type LeasePod, type LeaseSelection, type StoredLease } from '../collect/leases.js';
import type { TargetSpec } from '../collect/target-spec.js';
import type { Pod } from '../model/cluster-view.js';
import { UnavailableError, UsageError } from '../model/errors.js';
import type { LogLevelOptions } from './commands/log-level.js';
import { EXIT } from './exit-codes.js';
import { useColor, type Io, type SignalName } from './io.js';
import type { CommandContext } from './main.js';

/** Proxies asked at once (a -A over hundreds of pods must not start hundreds of kubectl). */
const PARALLEL = 16;
/** A detached change's lease lifetime without --for. */
const DETACH_DEFAULT_MS = 3_600_000;
/** A restore's kubectl budget without --request-timeout. */
const RESTORE_BUDGET_MS = 60_000;
const CONTAINER = 'istio-proxy';

async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

function message(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split('\n')[0] ?? '';
}

const byName = (a: { namespace: string; name: string }, b: { namespace: string; name: string }): number => a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name);

// ---- selecting and reading ----------------------------------------------------------------

interface Candidate {
  readonly ref: PodRef;
  readonly uid: string | undefined;
}

/** Why this pod has no proxy to ask, or undefined when it has one. */
function skipReason(pod: Pod): string | undefined {
  const f = podFacts(pod);
  if (f.sidecar === 'none') return f.ambient ? 'ambient mode, no sidecar (ztunnel and waypoints log elsewhere)' : 'no istio-proxy sidecar';
  if (f.phase !== 'Running') return `the pod is ${f.phase}${pod.status?.reason ? ` (${pod.status.reason})` : ''}`;
  const st = [...(pod.status?.containerStatuses ?? []), ...(pod.status?.initContainerStatuses ?? [])].find((s) => s.name === CONTAINER);
  if (st && !st.state?.running) return `the istio-proxy container is not running${st.state?.waiting?.reason ? ` (${st.state.waiting.reason})` : st.state?.terminated?.reason ? ` (${st.state.terminated.reason})` : ''}`;
  return undefined;
}

async function selectPods(k: Kubectl, target: TargetSpec, namespace: string, allNamespaces: boolean): Promise<{ candidates: Candidate[]; skipped: SkippedPod[]; what: string }> {
  const { pods, what } = await resolvePods(k, target, namespace, { allNamespaces });
  const candidates: Candidate[] = [];
  const skipped: SkippedPod[] = [];
  for (const p of pods) {
    const ns = p.metadata?.namespace ?? namespace;
    const name = p.metadata?.name ?? '?';
    const reason = skipReason(p);
    if (reason) skipped.push({ namespace: ns, name, reason, failed: false });
    else candidates.push({ ref: { namespace: ns, name, container: CONTAINER }, uid: p.metadata?.uid });
  }
  candidates.sort((a, b) => byName(a.ref, b.ref));
  skipped.sort(byName);
  return { candidates, skipped, what };
}

interface ReadPod extends Candidate {
  readonly admin: ProxyAdmin;
  readonly via: Via;
  readonly loggers: Map<string, string>;
}

function proxyHint(e: unknown, ref: PodRef): string {
  const text = e instanceof KubectlError ? `${e.message}\n${e.stderr}` : message(e);
  if (/connection refused/.test(text)) return `Envoy is not listening on its admin port (starting, crashed or restarting): see kubectl logs -n ${ref.namespace} ${ref.name} -c istio-proxy`;
  if (/RBAC denied|forbidden/i.test(text)) return `ask for "create" on pods/exec or pods/portforward in namespace ${ref.namespace}`;
  return `see kubectl logs -n ${ref.namespace} ${ref.name} -c istio-proxy`;
}

/**
 * Opens a proxy's admin API and reads its loggers. The read is the probe: exec first (no separate
 * /server_info round trip), port-forward when RBAC forbids exec, as openProxyAdmin does.
 */
async function openAndRead(k: Kubectl, ref: PodRef, prefer: LogLevelOptions['prefer'], io: Io): Promise<{ admin: ProxyAdmin; loggers: Map<string, string> }> {
  if (prefer !== 'port-forward') {
    try {
      const exec = execProxyAdmin(k, ref);
      return { admin: exec, loggers: await readLoggers(exec) };
    } catch (e) {
      if (!(e instanceof KubectlError) || e.kind !== 'forbidden') throw e;
      io.stderr(`${podName(ref)}: RBAC forbids exec (create pods/exec in ${ref.namespace}): using port-forward\n`);
    }
  }
  let admin: ProxyAdmin;
  try {
    admin = (await openProxyAdmin(k, ref, { prefer: 'port-forward' })).admin;
  } catch (e) {
    if (e instanceof KubectlError && e.kind === 'forbidden') throw new UnavailableError(`RBAC denied ${prefer === 'port-forward' ? 'port-forward' : 'both exec and port-forward'} on ${podName(ref)}`);
    throw e;
  }
  try {
    return { admin, loggers: await readLoggers(admin) };
  } catch (e) {
    await admin.close();
    throw e;
  }
}

/** Every proxy's loggers; a proxy that does not answer is skipped (and counts as a failure). */
async function readAll(k: Kubectl, candidates: readonly Candidate[], prefer: LogLevelOptions['prefer'], io: Io): Promise<{ read: ReadPod[]; failed: SkippedPod[] }> {
  const results = await mapLimit(candidates, PARALLEL, async (c): Promise<ReadPod | SkippedPod> => {
    try {
      const { admin, loggers } = await openAndRead(k, c.ref, prefer, io);
      return { ...c, admin, via: admin.via, loggers };
    } catch (e) {
      if (!(e instanceof UnavailableError)) throw e;
      return { namespace: c.ref.namespace, name: c.ref.name, reason: `its proxy did not answer (${message(e)}); ${proxyHint(e, c.ref)}`, failed: true };
    }
  });
  return { read: results.filter((r): r is ReadPod => 'admin' in r), failed: results.filter((r): r is SkippedPod => !('admin' in r)) };
}

// ---- leases -------------------------------------------------------------------------------

function selectionOf(target: TargetSpec, namespace: string, allNamespaces: boolean): LeaseSelection {
  if (target.kind === 'pod') return { kind: 'pod', namespace, name: target.name };
  if (target.kind === 'workload') return { kind: 'workload', namespace, resource: target.resource, name: target.name };
  return { kind: 'selector', selector: target.selector, ...(allNamespaces ? { allNamespaces: true } : { namespace }) };
}

function sameSelection(a: LeaseSelection | undefined, b: LeaseSelection): boolean {
  return !!a && a.kind === b.kind && a.namespace === b.namespace && a.resource === b.resource && a.name === b.name && a.selector === b.selector && !!a.allNamespaces === !!b.allNamespaces;
}

function leaseRef(s: StoredLease, state?: LeaseRef['state']): LeaseRef {
  return { file: s.file, context: s.lease.context, target: s.lease.target, createdAt: s.lease.createdAt, expiresAt: s.lease.expiresAt, ...(state ? { state } : {}) };
}

function leaseLevels(l: Lease): string {
  const all = new Map<string, string>();
  for (const p of l.pods) for (const [n, v] of Object.entries(p.applied)) all.set(n, v);
  return levelsText(all);
}

/**
 * Leases nothing is going to restore: past their expiry, or written by a run that is gone (killed
 * before it restored); not those a running log-level holds, nor those this run restores.
 */
function staleLeaseFindings(leases: readonly StoredLease[], now: Date, skip: ReadonlySet<string>): Finding[] {
  return leases
    .filter((s) => !skip.has(s.file) && !heldByLiveRun(s.lease) && (s.lease.reason === 'active' || Date.parse(s.lease.expiresAt) <= now.getTime()))
    .map((s) =>
      leaseExpiredFinding({
        file: s.file,
        context: s.lease.context,
        pods: s.lease.pods.map((p) => `${p.namespace}/${p.name}`),
        createdAt: s.lease.createdAt,
        expiresAt: s.lease.expiresAt,
        levels: leaseLevels(s.lease),
        ...(s.lease.reason === 'active' && s.lease.owner ? { deadRun: s.lease.owner.pid } : {}),
      }),
    );
}

function toLeasePod(p: { ref: PodRef; uid: string | undefined; changes: ReadonlyMap<string, LoggerChange> }): LeasePod {
  return {
    namespace: p.ref.namespace,
    name: p.ref.name,
    ...(p.uid ? { uid: p.uid } : {}),
    previous: Object.fromEntries([...p.changes].map(([n, c]) => [n, c.from])),
    applied: Object.fromEntries([...p.changes].map(([n, c]) => [n, c.to])),
  };
}

// ---- the change ---------------------------------------------------------------------------

interface PodChange extends ReadPod {
  /** widened when the change moved loggers it did not name (see setLoggers' collateral) */
  changes: ReadonlyMap<string, LoggerChange>;
  applied: 'no' | 'yes' | 'maybe';
  /** levels after the change, from the proxy's answer */
  after?: ReadonlyMap<string, string>;
  pathsSupported?: boolean;
  outcome?: ChangedPod['outcome'];
  changeError?: string;
  restoreError?: string;
  restoring?: boolean;
}

function restoreKubectl(opts: LogLevelOptions, env: Io['env']): Kubectl {
  const { requestTimeout, ...flags } = opts.kube;
  const budget = requestTimeout !== undefined && parseKubeDuration(requestTimeout) > 0 ? parseKubeDuration(requestTimeout) : RESTORE_BUDGET_MS;
  return new Kubectl(flags, { env, deadlineMs: budget });
}

/** Sets a pod's changed loggers back; reopens the admin connection once if the first attempt fails. */
async function restorePod(p: PodChange, rk: Kubectl, prefer: LogLevelOptions['prefer']): Promise<void> {
  const previous = new Map([...p.changes].map(([n, c]) => [n, c.from]));
  let state: ReadonlyMap<string, string> | undefined = p.applied === 'yes' ? p.after : undefined;
  const attempt = async (admin: ProxyAdmin): Promise<void> => {
    state ??= await readLoggers(admin);
    await setLoggers(admin, state, previous, p.pathsSupported);
  };
  // exec runs on the restore's own kubectl; a port-forward is reused while it lives
  const first = p.via === 'exec' ? execProxyAdmin(rk, p.ref) : p.admin;
  try {
    await attempt(first);
    return;
  } catch (e) {
    state = undefined;
    let reopened: ProxyAdmin | undefined;
    try {
      reopened = (await openProxyAdmin(rk, p.ref, prefer ? { prefer } : {})).admin;
      await attempt(reopened);
    } catch (e2) {
      const refusedBoth = /connection refused/.test(message(e)) && /connection refused/.test(message(e2));
      throw new UnavailableError(refusedBoth ? `${message(e)} (refused again on a new connection)` : `${message(e)}; a second attempt on a new connection failed too: ${message(e2)}`);
    } finally {
      await reopened?.close();
    }
  }
}

interface Follower {
  stop(): Promise<void>;
}

/** `kubectl logs -f` of each pod's istio-proxy, every line prefixed by its pod. */
function follow(k: Kubectl, pods: readonly PodChange[], io: Io): Follower {
  const oneNamespace = new Set(pods.map((p) => p.ref.namespace)).size <= 1;
  let stopping = false;
  const children = pods.map((p) => {
    const label = oneNamespace ? p.ref.name : `${p.ref.namespace}/${p.ref.name}`;
    const child = k.spawn(['logs', '-f', '--tail=0', '-n', p.ref.namespace, p.ref.name, '-c', CONTAINER]);
    let partial = '';
    let stderr = '';
    child.stdout?.on('data', (d: Buffer) => {
      const lines = (partial + d.toString('utf8')).split('\n');
      partial = lines.pop() ?? '';
      for (const l of lines) io.stdout(`[${label}] ${l}\n`);
    });
    child.stderr?.on('data', (d: Buffer) => {
      stderr += d.toString('utf8');
    });
    const done = child.then((r) => {
      if (partial) io.stdout(`[${label}] ${partial}\n`);
      if (!stopping) io.stderr(`log stream of ${podName(p.ref)} ended${r.exitCode ? `: ${stderr.trim().split('\n')[0] ?? `kubectl exited with ${r.exitCode}`}` : ''}\n`);
    });
    return { child, done };
  });
  return {
    async stop() {
      stopping = true;
      for (const c of children) c.child.kill('SIGTERM');
      await Promise.all(children.map((c) => c.done.catch(() => undefined)));
    },
  };
}

function formatDuration(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}

interface ChangeOutcome {
  readonly pods: PodChange[];
  readonly ended: Ending;
  readonly findings: Finding[];
  readonly lease?: LeaseRef;
  readonly failed: boolean;
}

async function runChange(k: Kubectl, rc: ResolvedContext, opts: LogLevelOptions, read: readonly ReadPod[], ctx: CommandContext): Promise<ChangeOutcome> {
  const io = ctx.io;
  const findings: Finding[] = [];
  // every LOGGER must exist on every proxy before anything is touched
  checkLoggerNames(opts.request, read.map((r) => ({ pod: podName(r.ref), loggers: r.loggers })));
  const plans = read.map((r) => planPod(opts.request, r.loggers));
  if (opts.request.preset) {
    const preset = PRESETS[opts.request.preset]!;
    const missing = read.map((r, i) => ({ pod: podName(r.ref), loggers: plans[i]!.missingPreset }));
    if (opts.request.loggers.length === 0 && missing.every((m) => m.loggers.length === preset.loggers.length)) {
      throw new UsageError(
        `none of preset ${opts.request.preset}'s loggers (${preset.loggers.join(', ')}) is in the logger list of ${read.length === 1 ? podName(read[0]!.ref) : `the ${read.length} selected proxies`} (a proxy with fine-grain logging lists source files instead); nothing was changed. Valid loggers: ${[...read[0]!.loggers.keys()].sort().join(', ')}`,
      );
    }
    findings.push(...presetFindings(opts.request.preset, missing, read.length));
  }
  const pods: PodChange[] = read.map((r, i) => ({ ...r, changes: plans[i]!.changes, applied: 'no' as const }));
  const toChange = pods.filter((p) => p.changes.size > 0);
  for (const p of pods) if (p.changes.size === 0) p.outcome = 'unchanged';
  if (toChange.length === 0) return { pods, ended: 'nothing-to-change', findings, failed: false };

  const what = describeRequest(opts.request);
  const restoreText = (list: readonly PodChange[]): string => list.map((p) => `${podName(p.ref)} (${levelsText([...p.changes].map(([n, c]) => [n, c.from] as const))})`).join('; ');

  // ---- the run's lease, written before the first change: if this process dies without restoring
  // (kill -9, a crash, a closed laptop), it tells later runs what is left and lets --restore undo it
  const leaseOf = (reason: Lease['reason'], list: readonly PodChange[], lifetimeMs: number): Lease => {
    const now = new Date();
    return {
      apiVersion: 'mesh-egress/v1',
      kind: 'LogLevelLease',
      context: rc.context,
      cluster: rc.cluster,
      target: opts.targetText ?? '',
      ...(opts.target ? { selection: selectionOf(opts.target, rc.namespace, opts.allNamespaces) } : {}),
      reason,
      ...(reason === 'active' ? { owner: currentOwner() } : {}),
      createdAt: now.toISOString(),
      expiresAt: new Date(now.getTime() + lifetimeMs).toISOString(),
      pods: list.map(toLeasePod),
    };
  };
  let leaseFile: string | undefined;
  /** Replaces the run's lease (or writes one if the first write failed); undefined when that fails too. */
  const recordLease = (l: Lease): LeaseRef | undefined => {
    try {
      if (leaseFile) rewriteLease(leaseFile, l);
      else leaseFile = writeLease(io.env, l);
      return { file: leaseFile, context: l.context, target: l.target, createdAt: l.createdAt, expiresAt: l.expiresAt, state: 'written' };
    } catch (e) {
      io.stderr(`could not write the lease file: ${message(e)}\n`);
      return undefined;
    }
  };
  try {
    leaseFile = writeLease(io.env, leaseOf('active', toChange, opts.forMs ?? 0));
  } catch (e) {
    if (opts.detach) throw new UnavailableError(`cannot write the lease a detached change needs (${message(e)}); nothing was changed: make the cache directory writable (XDG_CACHE_HOME)`);
    io.stderr(`warning: could not write a lease file (${message(e)}): if this run is killed before it restores, nothing records what it changed\n`);
  }

  // ---- signals: subscribed from just before the first change until the restore is over
  let phase: 'applying' | 'holding' | 'restoring' | 'done' = 'applying';
  let interrupted: SignalName | undefined;
  let wake: (() => void) | undefined;
  let abandon: (() => void) | undefined;
  const abandoned = new Promise<'abandoned'>((resolve) => {
    abandon = () => resolve('abandoned');
  });
  let signalsDuringRestore = 0;
  const onSignal = (sig: SignalName): void => {
    if (phase === 'applying' || phase === 'holding') {
      if (!interrupted) {
        interrupted = sig;
        io.stderr(`${sig}: restoring the previous levels on ${toChange.length} pod(s)…\n`);
      }
      wake?.();
      return;
    }
    if (phase !== 'restoring') return;
    signalsDuringRestore++;
    const pending = toChange.filter((p) => p.restoring);
    const list = pending.length ? restoreText(pending) : 'the last pods';
    if (signalsDuringRestore === 1) {
      io.stderr(`${sig}: still restoring ${list}. Stopping now would leave them changed; ${sig === 'SIGINT' ? 'press Ctrl-C' : 'signal'} once more to stop waiting (what is left goes to a lease for log-level --restore).\n`);
    } else {
      io.stderr(`${sig}: no longer waiting for ${list}; recording it in a lease.\n`);
      abandon?.();
    }
  };
  const unsubscribe = io.signals?.subscribe(onSignal);
  let follower: Follower | undefined;
  // the restore's kubectl budget starts when the restore does
  let rk: Kubectl | undefined;
  try {
    io.stderr(`Setting ${what} on ${toChange.length} pod(s) in context ${rc.context}…\n`);
    let collateral = false;
    await mapLimit(toChange, PARALLEL, async (p) => {
      try {
        const r = await setLoggers(p.admin, p.loggers, new Map([...p.changes].map(([n, c]) => [n, c.to])));
        p.applied = 'yes';
        p.after = r.after;
        if (r.pathsSupported !== undefined) p.pathsSupported = r.pathsSupported;
        if (r.collateral.size > 0) {
          // they are set back with the rest: the restore names them with their previous levels
          p.changes = new Map([...p.changes, ...[...r.collateral].map(([n, l]) => [n, { from: p.loggers.get(n)!, to: l as LoggerChange['to'] }] as const)]);
          collateral = true;
          io.stderr(`${podName(p.ref)}: the change also moved ${levelsText(r.collateral)} (a proxy with fine-grain logging resets the loggers a change does not name); they are restored with the others\n`);
        }
      } catch (e) {
        p.applied = e instanceof LoggingChangeError ? e.applied : 'maybe';
        p.outcome = 'change-failed';
        p.changeError = message(e);
        io.stderr(`${podName(p.ref)}: ${p.changeError}\n`);
      }
    });
    // the run's lease must hold what the restore will set back, collateral loggers included
    if (collateral && leaseFile) recordLease(leaseOf('active', toChange, opts.forMs ?? 0));
    let ended: Ending;
    let unrecorded = false;
    if (toChange.some((p) => p.changeError)) {
      ended = 'failure';
      io.stderr(`The change failed on ${toChange.filter((p) => p.changeError).length} pod(s): restoring the others…\n`);
    } else if (interrupted) {
      ended = interrupted;
    } else if (opts.detach) {
      const lease = recordLease(leaseOf('detached', toChange, opts.forMs ?? DETACH_DEFAULT_MS));
      if (lease) {
        for (const p of toChange) p.outcome = 'left';
        io.stderr(`Left ${what} on ${toChange.length} pod(s); recorded in ${lease.file} (expires ${lease.expiresAt}).\n`);
        phase = 'done';
        return { pods, ended: 'detached', findings, lease, failed: false };
      }
      ended = 'failure';
      unrecorded = true;
      io.stderr('The detached change could not be recorded in its lease: restoring it…\n');
    } else {
      phase = 'holding';
      const until = opts.forMs !== undefined ? `in ${formatDuration(opts.forMs)} (--for) or on Ctrl-C` : 'on Ctrl-C or SIGTERM';
      io.stderr(`Set ${what} on ${toChange.length} pod(s); restoring ${until}.\n`);
      if (opts.follow) follower = follow(k, toChange, io);
      let timer: NodeJS.Timeout | undefined;
      // signal listeners do not keep Node's event loop alive: without --for (and with exec, no
      // child running) the process would otherwise just end here, leaving the change in place
      const keepAlive = setInterval(() => undefined, 2 ** 30);
      const expired = await new Promise<boolean>((resolve) => {
        wake = () => resolve(false);
        if (interrupted) resolve(false);
        if (opts.forMs !== undefined) timer = setTimeout(() => resolve(true), opts.forMs);
      });
      clearInterval(keepAlive);
      if (timer) clearTimeout(timer);
      ended = expired ? 'expired' : interrupted!;
      if (expired) io.stderr(`--for ${formatDuration(opts.forMs!)} expired: restoring the previous levels on ${toChange.length} pod(s)…\n`);
    }

    // ---- restore every pod that was, or may have been, changed
    phase = 'restoring';
    await follower?.stop();
    follower = undefined;
    const toRestore = toChange.filter((p) => p.applied !== 'no');
    for (const p of toRestore) p.restoring = true;
    const restorer = (rk = restoreKubectl(opts, io.env));
    // once abandoned, late answers must not rewrite what was reported
    let settled = false;
    const restoreAll = mapLimit(toRestore, PARALLEL, async (p) => {
      if (settled) return;
      try {
        await restorePod(p, restorer, opts.prefer);
        if (!settled && !p.changeError) p.outcome = 'restored';
      } catch (e) {
        if (settled) return;
        p.outcome = 'restore-failed';
        p.restoreError = message(e);
      } finally {
        if (!settled) p.restoring = false;
      }
    });
    const how = await Promise.race([restoreAll.then(() => 'done' as const), abandoned]);
    settled = true;
    if (how === 'abandoned') {
      for (const p of toRestore.filter((x) => x.restoring)) {
        p.outcome = 'restore-failed';
        p.restoreError = 'the restore was abandoned (signalled three times) before this proxy answered';
      }
    }
    phase = 'done';
    const unrestored = toRestore.filter((p) => p.restoreError);
    let lease: LeaseRef | undefined;
    if (unrestored.length > 0) {
      // what is left, for --restore; expired at once, so every later run reminds of it
      lease = recordLease(leaseOf(how === 'abandoned' ? 'restore-abandoned' : 'restore-failed', unrestored, 0));
      for (const p of unrestored) {
        findings.push(restoreFailedFinding({ namespace: p.ref.namespace, name: p.ref.name, changes: p.changes, outcome: 'restore-failed' }, p.restoreError!, rc.context, lease !== undefined));
        io.stderr(`NOT restored: ${podName(p.ref)} keeps ${levelsText([...p.changes].map(([n, c]) => [n, c.to] as const))} (${p.restoreError})${lease ? `; recorded in ${lease.file}` : ''}\n`);
      }
    } else if (leaseFile) {
      deleteLease(leaseFile);
    }
    const restored = toRestore.filter((p) => !p.restoreError && !p.changeError).length;
    if (restored > 0) io.stderr(`Restored ${restored} pod(s).\n`);
    const changeFailed = toChange.filter((p) => p.changeError);
    const others = toRestore.filter((p) => !p.changeError);
    for (const p of changeFailed) {
      const self = p.applied === 'no' ? 'nothing of it was applied here' : p.restoreError ? 'this proxy may keep part of it (see MEG060)' : 'what may have been applied here was set back';
      const setBack = others.filter((o) => !o.restoreError).length;
      const rest = others.length === 0 ? 'no other pod had been changed' : setBack === others.length ? `the ${others.length} other pod(s) already changed were set back to their previous levels` : `${setBack} of the ${others.length} other pod(s) already changed were set back (see MEG060 for the others)`;
      findings.push(changeFailedFinding(p.ref, p.changeError!, `${self}; ${rest}`));
    }
    return { pods, ended, findings, ...(lease ? { lease } : {}), failed: unrecorded || changeFailed.length > 0 || unrestored.length > 0 };
  } finally {
    phase = 'done';
    await follower?.stop();
    unsubscribe?.();
    rk?.dispose();
  }
}

// ---- --restore ----------------------------------------------------------------------------

async function restoreLeases(k: Kubectl, rc: ResolvedContext, opts: LogLevelOptions, leases: readonly StoredLease[], io: Io): Promise<{ report: Omit<LogLevelReport, 'findings'>; restoring: Set<string>; failed: boolean }> {
  const ns = opts.kube.namespace ?? rc.namespace;
  const selection = opts.target ? selectionOf(opts.target, ns, opts.allNamespaces) : undefined;
  const picked: { stored: StoredLease; pods: LeasePod[] }[] = [];
  for (const s of leases) {
    if (s.lease.context !== rc.context) continue;
    if (heldByLiveRun(s.lease)) {
      io.stderr(`Leaving lease ${s.file}: the log-level run that holds it (pid ${s.lease.owner!.pid}) is still running and restores it when it ends.\n`);
      continue;
    }
    let pods = [...s.lease.pods];
    if (selection && !sameSelection(s.lease.selection, selection)) {
      pods = selection.kind === 'pod' ? pods.filter((p) => p.name === selection.name && p.namespace === ns) : [];
    }
    if (pods.length) picked.push({ stored: s, pods });
  }
  const others = leases.filter((s) => s.lease.context !== rc.context);
  if (picked.length === 0) {
    io.stderr(`No lease to restore in context ${rc.context}${opts.targetText ? ` for ${opts.targetText}` : ''}${others.length ? ` (${others.length} lease(s) of other contexts: ${[...new Set(others.map((o) => o.lease.context))].join(', ')}; pass --context)` : ''}.\n`);
    return { report: { mode: 'restore', context: rc.context, ...(opts.targetText ? { target: opts.targetText } : {}), pods: [], skipped: [], ended: 'restored-lease', leases: [] }, restoring: new Set(), failed: false };
  }
  const results: ChangedPod[] = [];
  const refs: LeaseRef[] = [];
  let failed = false;
  // the pods as they are now, one kubectl call per namespace
  const live = new Map<string, Pod>();
  const wanted = new Map<string, Set<string>>();
  for (const { pods } of picked) for (const p of pods) wanted.set(p.namespace, (wanted.get(p.namespace) ?? new Set()).add(p.name));
  const unreadable = new Map<string, string>();
  await Promise.all(
    [...wanted].map(async ([namespace, names]) => {
      const r = await k.run(['get', 'pods', ...[...names].sort(), '-n', namespace, '--ignore-not-found', '-o', 'json'], { step: `reading pods in ${namespace}` });
      if (r.exitCode !== 0) {
        unreadable.set(namespace, r.stderr.trim().split('\n')[0] ?? `kubectl exited with ${r.exitCode}`);
        return;
      }
      // --ignore-not-found prints nothing when none exists; one pod comes back as itself, several as a List
      const got = r.stdout.trim() ? (JSON.parse(r.stdout) as Pod & { items?: Pod[] }) : undefined;
      for (const p of got ? (got.items ?? (got.kind === 'Pod' ? [got] : [])) : []) live.set(`${namespace}/${p.metadata?.name ?? ''}`, p);
    }),
  );
  for (const { stored, pods } of picked) {
    io.stderr(`Restoring lease ${stored.file} (${stored.lease.reason}, ${stored.lease.target}, created ${stored.lease.createdAt}): ${pods.length} pod(s)…\n`);
    const done = await mapLimit(pods, PARALLEL, async (lp): Promise<ChangedPod> => {
      const changes = new Map(Object.entries(lp.previous).map(([n, from]) => [n, { from, to: (lp.applied[n] ?? from) as LoggerChange['to'] }]));
      const base = { namespace: lp.namespace, name: lp.name, changes };
      const ref: PodRef = { namespace: lp.namespace, name: lp.name, container: CONTAINER };
      if (unreadable.has(lp.namespace)) return { ...base, outcome: 'restore-failed', error: `could not read the pod: ${unreadable.get(lp.namespace)}` };
      const pod = live.get(`${lp.namespace}/${lp.name}`);
      if (!pod || (lp.uid && pod.metadata?.uid && pod.metadata.uid !== lp.uid)) {
        return { ...base, outcome: 'gone', error: pod ? 'the pod was recreated under the same name: its new proxy started with its configured levels' : 'the pod no longer exists: nothing to restore' };
      }
      let admin: ProxyAdmin | undefined;
      try {
        const opened = await openAndRead(k, ref, opts.prefer, io);
        admin = opened.admin;
        const current = opened.loggers;
        const drifted = [...changes].filter(([n, c]) => current.has(n) && current.get(n) !== c.to).map(([n]) => n);
        const previous = new Map([...changes].filter(([n]) => current.has(n)).map(([n, c]) => [n, c.from]));
        await setLoggers(admin, current, previous);
        return { ...base, via: admin.via, outcome: 'restored', ...(drifted.length ? { drifted } : {}) };
      } catch (e) {
        if (!(e instanceof UnavailableError)) throw e;
        return { ...base, ...(admin ? { via: admin.via } : {}), outcome: 'restore-failed', error: message(e) };
      } finally {
        await admin?.close();
      }
    });
    results.push(...done);
    const left = done.filter((d) => d.outcome === 'restore-failed').map((d) => stored.lease.pods.find((p) => p.namespace === d.namespace && p.name === d.name)!);
    const untouched = stored.lease.pods.filter((p) => !pods.includes(p));
    const remaining = [...untouched, ...left];
    if (remaining.length === 0) {
      deleteLease(stored.file);
      refs.push(leaseRef(stored, 'deleted'));
    } else {
      rewriteLease(stored.file, { ...stored.lease, pods: remaining });
      refs.push(leaseRef(stored, 'kept'));
    }
    if (left.length) failed = true;
    for (const d of done) {
      io.stderr(`${podName(d)}: ${d.outcome === 'restored' ? `restored ${levelsText([...d.changes].map(([n, c]) => [n, c.from] as const))}${d.drifted?.length ? ` (${d.drifted.join(', ')} had been changed again since)` : ''}` : d.outcome === 'gone' ? d.error : `NOT restored: ${d.error}`}\n`);
    }
  }
  results.sort(byName);
  return {
    report: { mode: 'restore', context: rc.context, ...(opts.targetText ? { target: opts.targetText } : {}), pods: results, skipped: [], ended: 'restored-lease', leases: refs },
    restoring: new Set(picked.map((p) => p.stored.file)),
    failed,
  };
}

// ---- the verb -----------------------------------------------------------------------------

function print(report: LogLevelReport, opts: LogLevelOptions, ctx: CommandContext, render: { dto: (r: LogLevelReport) => unknown; text: (r: LogLevelReport) => string }, yaml: () => Promise<{ stringify: (v: unknown, o: object) => string }>): Promise<void> | void {
  if (opts.output === 'json') {
    ctx.io.stdout(`${JSON.stringify(render.dto(report), null, 2)}\n`);
    return;
  }
  if (opts.output === 'yaml') return yaml().then((y) => ctx.io.stdout(y.stringify(render.dto(report), { lineWidth: 0 })));
  ctx.io.stdout(render.text(report));
}

export async function runLogLevel(opts: LogLevelOptions, ctx: CommandContext): Promise<void> {
  const io = ctx.io;
  const { logLevelDto, renderLogLevel } = await import('../render/log-level.js');
  const { sortFindings } = await import('../analyze/finding.js');
  const renderOpts = { color: useColor(io, opts.color), width: Math.min(110, io.columns ?? 100), wide: opts.output === 'wide' };
  const render = { dto: logLevelDto, text: (r: LogLevelReport) => renderLogLevel(r, renderOpts) };
  const yaml = async () => (await import('yaml')).default;
  const stored = readLeases(io.env);
  for (const u of stored.unreadable) io.stderr(`warning: ignoring lease file ${u.file}: ${u.problem}\n`);

  const k = new Kubectl(opts.kube, { env: io.env });
  const opened: ReadPod[] = [];
  try {
    const [, rc] = await Promise.all([checkKubectlVersion(k), resolveContext(k)]);
    if (opts.restore) {
      const r = await restoreLeases(k, rc, opts, stored.leases, io);
      const findings = sortFindings([
        ...staleLeaseFindings(stored.leases, new Date(), r.restoring),
        ...(r.report.pods ?? []).filter((p) => p.outcome === 'restore-failed').map((p) => restoreFailedFinding(p, p.error ?? 'unknown', rc.context, true)),
      ]);
      await print({ ...r.report, findings }, opts, ctx, render, yaml);
      if (r.failed) ctx.setExit(EXIT.UNAVAILABLE);
      return;
    }
    const target = opts.target!;
    const { candidates, skipped, what } = await selectPods(k, target, rc.namespace, opts.allNamespaces);
    for (const s of skipped) io.stderr(`skipping ${podName(s)}: ${s.reason}\n`);
    if (candidates.length === 0) {
      const only = skipped.length === 1 ? skipped[0]! : undefined;
      throw new UnavailableError(
        only
          ? `${podName(only)}: ${only.reason}, so there is no proxy whose loggers to ${opts.request.all || opts.request.loggers.length || opts.request.preset ? 'change' : 'show'}`
          : `${what} has no pod with a running istio-proxy sidecar: ${skipped.map((s) => `${podName(s)} (${s.reason})`).join(', ')}`,
      );
    }
    const { read, failed: unread } = await readAll(k, candidates, opts.prefer, io);
    opened.push(...read);
    for (const s of unread) io.stderr(`skipping ${podName(s)}: ${s.reason}\n`);
    if (read.length === 0) {
      throw new UnavailableError(`could not read the loggers of any pod of ${what}: ${unread.map((s) => `${podName(s)}: ${s.reason}`).join('; ')}; nothing was changed`);
    }
    const allSkipped = [...skipped, ...unread].sort(byName);
    const expired = staleLeaseFindings(stored.leases, new Date(), new Set());
    const base = { context: rc.context, ...(opts.targetText ? { target: opts.targetText } : {}), skipped: allSkipped };
    if (opts.request.all === undefined && opts.request.loggers.length === 0 && opts.request.preset === undefined) {
      const shown: ShownPod[] = read.map((r) => ({ namespace: r.ref.namespace, name: r.ref.name, via: r.via, loggers: r.loggers }));
      await print({ ...base, mode: 'show', shown, findings: sortFindings([...allSkipped.map(skippedFinding), ...expired]) }, opts, ctx, render, yaml);
      if (unread.length) ctx.setExit(EXIT.UNAVAILABLE);
      return;
    }
    const outcome = await runChange(k, rc, opts, read, ctx);
    const pods: ChangedPod[] = outcome.pods.map((p) => ({
      namespace: p.ref.namespace,
      name: p.ref.name,
      via: p.via,
      changes: p.changes,
      outcome: p.outcome ?? 'restored',
      ...(p.changeError || p.restoreError ? { error: [p.changeError, p.restoreError ? `restore: ${p.restoreError}` : undefined].filter(Boolean).join('; ') } : {}),
    }));
    await print(
      {
        ...base,
        mode: 'change',
        request: opts.request,
        ...(opts.forText ? { forText: opts.forText } : {}),
        ...(opts.detach ? { detach: true } : {}),
        pods,
        ended: outcome.ended,
        ...(outcome.lease ? { leases: [outcome.lease] } : {}),
        findings: sortFindings([...outcome.findings, ...allSkipped.map(skippedFinding), ...expired]),
      },
      opts,
      ctx,
      render,
      yaml,
    );
    if (outcome.failed || unread.length) ctx.setExit(EXIT.UNAVAILABLE);
  } finally {
    await Promise.all(opened.map((o) => o.admin.close().catch(() => undefined)));
    k.dispose();
  }
}
