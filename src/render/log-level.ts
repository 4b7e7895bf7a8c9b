/**
 * `log-level` output: the `LogLevel` document (-o json|yaml) and the human tables. Pure.
 */
import type { ChangedPod, LogLevelReport, ShownPod } from '../analyze/log-level.js';
import { describeRequest } from '../analyze/log-level-request.js';
import { API_VERSION, findingDto, sortKeys } from './dto.js';
import { renderFindings } from './findings.js';
import { paint, table, type RenderOptions } from './text.js';

export function logLevelDto(r: LogLevelReport): unknown {
  return sortKeys({
    apiVersion: API_VERSION,
    kind: 'LogLevel',
    mode: r.mode,
    context: r.context,
    target: r.target,
    request: r.request
      ? {
          every: r.request.all,
          loggers: r.request.loggers.length ? Object.fromEntries(r.request.loggers) : undefined,
          preset: r.request.preset,
          for: r.forText,
          detach: r.detach || undefined,
        }
      : undefined,
    pods: r.shown
      ? r.shown.map((p) => ({ namespace: p.namespace, name: p.name, via: p.via, loggers: Object.fromEntries(p.loggers) }))
      : r.pods?.map((p) => ({
          namespace: p.namespace,
          name: p.name,
          via: p.via,
          outcome: p.outcome,
          error: p.error,
          drifted: p.drifted?.length ? p.drifted : undefined,
          changes: Object.fromEntries([...p.changes].map(([n, c]) => [n, { from: c.from, to: c.to }])),
        })),
    skipped: r.skipped.map((s) => ({ namespace: s.namespace, name: s.name, reason: s.reason })),
    ended: r.ended,
    leases: r.leases?.map((l) => ({ file: l.file, context: l.context, target: l.target, createdAt: l.createdAt, expiresAt: l.expiresAt, state: l.state })),
    findings: r.findings.map(findingDto),
  });
}

/** Pod column headers: names alone unless the pods span namespaces. */
function podLabels(pods: readonly { namespace: string; name: string }[]): string[] {
  const oneNamespace = new Set(pods.map((p) => p.namespace)).size <= 1;
  return pods.map((p) => (oneNamespace ? p.name : `${p.namespace}/${p.name}`));
}

function showTable(pods: readonly ShownPod[]): string {
  if (pods.length === 1) {
    return table(['logger', 'level'], [...pods[0]!.loggers].map(([n, l]) => [n, l]));
  }
  // rows in the first pod's registry order, then loggers only other pods list
  const names: string[] = [];
  const seen = new Set<string>();
  for (const p of pods) for (const n of p.loggers.keys()) if (!seen.has(n)) (seen.add(n), names.push(n));
  // pod names head the columns as they are (table() upper-cases a header row)
  return table([], [['LOGGER', ...podLabels(pods)], ...names.map((n) => [n, ...pods.map((p) => p.loggers.get(n) ?? '-')])]);
}

/** "admin, aws, assert … (+55)" for long lists in a table cell. */
function loggerList(names: readonly string[]): string {
  return names.length <= 6 ? names.join(', ') : `${names.slice(0, 3).join(', ')} … (+${names.length - 3}; all in -o json)`;
}

const OUTCOME: Readonly<Record<ChangedPod['outcome'], string>> = {
  restored: 'restored',
  left: 'left changed',
  unchanged: 'already at these levels',
  'change-failed': 'change failed',
  'restore-failed': 'NOT RESTORED',
  gone: 'pod gone',
};

function changeTable(pods: readonly ChangedPod[], opts: RenderOptions): string {
  const labels = podLabels(pods);
  const rows: string[][] = [];
  pods.forEach((p, i) => {
    const outcome = p.outcome === 'restore-failed' || p.outcome === 'change-failed' ? paint(opts, 'red', OUTCOME[p.outcome]) : OUTCOME[p.outcome];
    // one row per (from → to) group of loggers
    const groups = new Map<string, string[]>();
    for (const [n, c] of p.changes) groups.set(`${c.from}\u0000${c.to}`, [...(groups.get(`${c.from}\u0000${c.to}`) ?? []), n]);
    if (groups.size === 0) rows.push([labels[i]!, '-', '', '', outcome]);
    [...groups].forEach(([key, names], j) => {
      const [from, to] = key.split('\u0000') as [string, string];
      rows.push([j === 0 ? labels[i]! : '', loggerList(names), from, to, j === 0 ? outcome : '']);
    });
  });
  return table(['pod', 'loggers', 'was', 'set to', 'now'], rows);
}

function headline(r: LogLevelReport): string {
  const pods = r.pods ?? [];
  const count = (o: ChangedPod['outcome']): number => pods.filter((p) => p.outcome === o).length;
  const n = (k: number, what: string): string => `${k} ${what}${k === 1 ? '' : 's'}`;
  const why: Record<string, string> = {
    expired: `after --for ${r.forText ?? ''} expired`,
    SIGINT: 'on SIGINT (Ctrl-C)',
    SIGTERM: 'on SIGTERM',
    failure: 'after a failure',
  };
  if (r.mode === 'restore') {
    return `Restored ${n(count('restored'), 'pod')} from ${n((r.leases ?? []).length, 'lease')} in context ${r.context}${count('gone') ? ` (${count('gone')} gone)` : ''}${count('restore-failed') ? `; ${count('restore-failed')} NOT restored` : ''}.`;
  }
  const what = r.request ? describeRequest(r.request) : '';
  if (r.ended === 'nothing-to-change') return `Nothing to change in context ${r.context}: every selected proxy already has ${what}.`;
  if (r.ended === 'detached') {
    const lease = r.leases?.[0];
    return `Left ${what} on ${n(count('left'), 'pod')} in context ${r.context}${lease ? `; lease ${lease.file} expires ${lease.expiresAt}` : ''}. Restore with: kubectl mesh-egress log-level --restore${r.context ? ` --context ${r.context}` : ''}`;
  }
  const failed = count('restore-failed');
  return `Set ${what} on ${n(count('restored') + failed, 'pod')} in context ${r.context}, then restored ${why[r.ended ?? ''] ?? ''}${failed ? `; ${failed} NOT restored` : ''}.`;
}

export function renderLogLevel(r: LogLevelReport, opts: RenderOptions): string {
  const parts: string[] = [];
  if (r.mode === 'show') {
    if (r.shown && r.shown.length > 0) parts.push(showTable(r.shown));
  } else {
    parts.push(headline(r));
    if (r.pods && r.pods.length > 0) parts.push(changeTable(r.pods, opts));
  }
  const findings = renderFindings(r.findings, opts);
  if (findings) parts.push(findings);
  return `${parts.join('\n\n')}\n`;
}
