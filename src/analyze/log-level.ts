/**
 * `log-level`, the pure part: what the user asked for, checked against the loggers each proxy
 * lists, and the per-pod change (only loggers whose level actually changes, each with the level it
 * had, so a restore sets exactly those back: never a hard-coded default as istioctl's
 * `proxy-config log --reset` does, istioctl/pkg/proxyconfig/proxyconfig.go).
 */
import { ENVOY_LEVELS, type EnvoyLevel } from '../model/logging-text.js';
import { UsageError } from '../model/errors.js';
import { newFinding } from './catalog.js';
import type { Finding } from './finding.js';
import { PRESETS, type LevelRequest } from './log-level-request.js';

export { describeRequest, isChange, parseLevelArgs, PRESETS, type LevelRequest, type Preset } from './log-level-request.js';

export interface ProxyLoggers {
  /** namespace/name */
  readonly pod: string;
  /** logger → level, registry order */
  readonly loggers: ReadonlyMap<string, string>;
}

/**
 * Every LOGGER the user named must be in the list of every selected proxy, before any proxy is
 * touched: one unknown name would make Envoy refuse that pod's whole change (changeLogLevels is
 * all-or-nothing) after others were already changed.
 */
export function checkLoggerNames(r: LevelRequest, proxies: readonly ProxyLoggers[]): void {
  for (const [name] of r.loggers) {
    const lacking = proxies.filter((p) => !p.loggers.has(name));
    if (lacking.length === 0) continue;
    const valid = [...(lacking[0]!.loggers.keys())].sort();
    const near = valid.filter((v) => v.includes(name) || name.includes(v) || editDistance(v, name) <= 2);
    const where = lacking.length === proxies.length ? (proxies.length === 1 ? `the proxy of ${lacking[0]!.pod}` : `the ${proxies.length} selected proxies`) : `${lacking.map((p) => p.pod).join(', ')} (other selected proxies have it)`;
    throw new UsageError(
      `unknown logger "${name}": not in the logger list of ${where}; nothing was changed.${near.length ? ` Did you mean ${near.join(' or ')}?` : ''} Valid loggers: ${valid.join(', ')}`,
    );
  }
}

function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
  }
  return d[a.length]![b.length]!;
}

export interface LoggerChange {
  readonly from: string;
  readonly to: EnvoyLevel;
}

export interface PodPlan {
  /** logger → previous and new level, registry order; loggers already at the level are left out */
  readonly changes: ReadonlyMap<string, LoggerChange>;
  /** preset loggers this proxy does not list */
  readonly missingPreset: readonly string[];
}

/** spdlog's order: trace (most verbose) … off; an unknown level counts as least verbose. */
function verbosity(level: string): number {
  const i = (ENVOY_LEVELS as readonly string[]).indexOf(level);
  return i < 0 ? ENVOY_LEVELS.length : i;
}

/** The change for one proxy, from the levels it listed. */
export function planPod(r: LevelRequest, current: ReadonlyMap<string, string>): PodPlan {
  const target = new Map<string, EnvoyLevel>();
  if (r.all) for (const n of current.keys()) target.set(n, r.all);
  const missingPreset: string[] = [];
  if (r.preset) {
    const p = PRESETS[r.preset]!;
    for (const n of p.loggers) {
      const now = current.get(n);
      if (now === undefined) missingPreset.push(n);
      // a preset turns loggers up: one already more verbose (trace) keeps its level
      else if (!(verbosity(now) < verbosity(p.level))) target.set(n, p.level);
    }
  }
  for (const [n, l] of r.loggers) target.set(n, l);
  const changes = new Map<string, LoggerChange>();
  for (const [n, from] of current) {
    const to = target.get(n);
    if (to !== undefined && to !== from) changes.set(n, { from, to });
  }
  return { changes, missingPreset };
}

/** "upstream=debug, router=debug" */
export function levelsText(levels: Iterable<readonly [string, string]>): string {
  return [...levels].map(([n, l]) => `${n}=${l}`).join(', ');
}

// ---- the report ---------------------------------------------------------------------------

export type Via = 'exec' | 'port-forward';

export interface ShownPod {
  readonly namespace: string;
  readonly name: string;
  readonly via: Via;
  /** logger → level, registry order */
  readonly loggers: ReadonlyMap<string, string>;
}

/**
 * What became of one pod's change: restored; left changed (--detach); nothing to change (already
 * at the levels asked); change-failed (this pod's change failed; nothing of it is left);
 * restore-failed (left changed, recorded in a lease); gone (restore: the pod no longer exists).
 */
export type PodOutcome = 'restored' | 'left' | 'unchanged' | 'change-failed' | 'restore-failed' | 'gone';

export interface ChangedPod {
  readonly namespace: string;
  readonly name: string;
  readonly via?: Via;
  readonly changes: ReadonlyMap<string, LoggerChange>;
  readonly outcome: PodOutcome;
  readonly error?: string;
  /** restore: loggers that were no longer at the level the change had set */
  readonly drifted?: readonly string[];
}

export interface SkippedPod {
  readonly namespace: string;
  readonly name: string;
  readonly reason: string;
  /** the proxy should have answered (counts as a failure, exit 69) */
  readonly failed: boolean;
}

export interface LeaseRef {
  readonly file: string;
  readonly context: string;
  readonly target: string;
  readonly createdAt: string;
  readonly expiresAt: string;
  /** restore: deleted (all restored or gone) or kept (some pods still to restore) */
  readonly state?: 'written' | 'deleted' | 'kept';
}

/** Why a change ended. */
export type Ending = 'expired' | 'SIGINT' | 'SIGTERM' | 'failure' | 'detached' | 'nothing-to-change' | 'restored-lease';

export interface LogLevelReport {
  readonly mode: 'show' | 'change' | 'restore';
  readonly context: string;
  readonly target?: string;
  readonly request?: LevelRequest;
  readonly forText?: string;
  readonly detach?: boolean;
  readonly shown?: readonly ShownPod[];
  readonly pods?: readonly ChangedPod[];
  readonly skipped: readonly SkippedPod[];
  readonly ended?: Ending;
  readonly leases?: readonly LeaseRef[];
  readonly findings: readonly Finding[];
}

// ---- findings -----------------------------------------------------------------------------

export function podName(p: { namespace: string; name: string }): string {
  return `${p.namespace}/${p.name}`;
}

export function skippedFinding(s: SkippedPod): Finding {
  return newFinding('PodSkipped', { pod: podName(s), reason: s.reason }, { subject: { kind: 'Pod', namespace: s.namespace, name: s.name } });
}

/** One finding per set of missing loggers, naming the pods that lack them. */
export function presetFindings(preset: string, missing: readonly { pod: string; loggers: readonly string[] }[], podsTotal: number): Finding[] {
  const bySet = new Map<string, string[]>();
  for (const m of missing) {
    if (m.loggers.length === 0) continue;
    const key = m.loggers.join(', ');
    bySet.set(key, [...(bySet.get(key) ?? []), m.pod]);
  }
  return [...bySet].map(([loggers, pods]) =>
    newFinding(
      'PresetLoggerMissing',
      {
        preset,
        loggers,
        pods: pods.length === podsTotal && podsTotal > 1 ? `all ${podsTotal} proxies` : pods.join(', '),
        consequence: `${loggers.includes(',') ? 'they were' : 'it was'} skipped and the preset's other loggers changed; this Envoy build names its loggers differently (older or newer release, or fine-grain logging, which lists source files): see the list with kubectl mesh-egress log-level POD`,
      },
      { evidence: pods.map((p) => `${p}: POST /logging lists no ${loggers}`) },
    ),
  );
}

/** The command that sets a pod's loggers back by hand, for when the tool could not. */
export function manualRestoreCommand(p: { namespace: string; name: string }, previous: Iterable<readonly [string, string]>): string {
  return `kubectl exec -n ${p.namespace} ${p.name} -c istio-proxy -- pilot-agent request POST 'logging?paths=${[...previous].map(([n, l]) => `${n}:${l}`).join(',')}'`;
}

export function restoreFailedFinding(p: ChangedPod, reason: string, context: string, leaseWritten: boolean): Finding {
  const previous = [...p.changes].map(([n, c]) => [n, c.from] as const);
  return newFinding(
    'LoggerRestoreFailed',
    { pod: podName(p), loggers: levelsText([...p.changes].map(([n, c]) => [n, c.to] as const)), reason },
    {
      subject: { kind: 'Pod', namespace: p.namespace, name: p.name },
      evidence: [`previous levels: ${levelsText(previous)}`],
      fixes: [
        ...(leaseWritten
          ? [{ rank: 1, title: 'Let log-level finish the restore from its lease', tradeoffs: 'Needs the proxy reachable again (exec or port-forward); the lease is deleted once every pod is restored.', kind: 'command' as const, content: `kubectl mesh-egress log-level --restore --context ${context}` }]
          : []),
        { rank: leaseWritten ? 2 : 1, title: 'Set the previous levels by hand', tradeoffs: 'Exactly what the lease records; run it once the proxy answers again.', kind: 'command' as const, content: manualRestoreCommand(p, previous) },
      ],
    },
  );
}

export function changeFailedFinding(p: { namespace: string; name: string }, reason: string, rollback: string): Finding {
  return newFinding('LogLevelChangeFailed', { pod: podName(p), reason, rollback }, { subject: { kind: 'Pod', namespace: p.namespace, name: p.name } });
}

export interface ExpiredLease {
  readonly file: string;
  readonly context: string;
  readonly pods: readonly string[];
  readonly createdAt: string;
  readonly expiresAt: string;
  readonly levels: string;
  /** the run that wrote it died before restoring (pid), rather than a lease past its expiry */
  readonly deadRun?: number;
}

export function leaseExpiredFinding(l: ExpiredLease): Finding {
  const pods = l.pods.length > 3 ? `${l.pods.slice(0, 3).join(', ')} and ${l.pods.length - 3} more pods` : l.pods.join(', ');
  return newFinding(
    'LogLevelLeaseExpired',
    {
      file: l.file,
      context: l.context,
      pods,
      since: `since ${l.createdAt}`,
      why: l.deadRun !== undefined ? `the log-level run that made the change (pid ${l.deadRun}) ended without restoring them` : `the lease expired at ${l.expiresAt} and nothing has restored them`,
    },
    {
      evidence: [`changed: ${l.levels}`],
      fixes: [
        {
          rank: 1,
          title: 'Restore exactly what the lease recorded',
          tradeoffs: 'Sets each recorded logger back to its level before the change (pods that no longer exist are skipped); deletes the lease.',
          kind: 'command',
          content: `kubectl mesh-egress log-level --restore --context ${l.context}`,
        },
      ],
    },
  );
}
