/**
 * One pod's start-up as a timeline: pod status (container start and finish times, conditions),
 * events (Started, probe failures, FailedPostStartHook, Killing, BackOff) and log lines
 * (pilot-agent's readiness, the first connection-refused line of each container instance).
 * From it: when the application started, when the proxy was first ready (exactly from pilot-agent's
 * log, or an upper bound from a pod condition), and the last moment the proxy is known not to
 * have been ready.
 */
import type { V1ContainerStatus } from '@kubernetes/client-node';
import type { Pod } from '../../model/cluster-view.js';
import { normalizeEvents, probeFailure, type PodEvent } from './events.js';
import { PROXY, type Layout } from './layout.js';
import { clip, withoutOwnTimestamp, isConnectionRefused, parseTime, proxyReadiness, refusedDestination, splitLog, type LogLine } from './log-lines.js';
import type { ContainerLog, KubeEvent, RefusedLine, TimelineEntry, TimelineKind, TimePoint } from './types.js';

interface Timed {
  readonly entry: TimelineEntry;
  readonly micros: number;
}

/** Tie-break for entries at the same instant: the order things happen in a pod's start. */
const ORDER: readonly TimelineKind[] = [
  'pod-created',
  'pod-scheduled',
  'init-started',
  'init-failed',
  'init-finished',
  'pod-initialized',
  'proxy-started',
  'hook-failed',
  'container-killed',
  'proxy-not-ready',
  'proxy-ready',
  'app-started',
  'refused',
  'app-finished',
  'back-off',
  'pod-ready',
];

/** Starts the pod status and the kubelet's Started events both report (second resolution). */
const DEDUPED = new Set<TimelineKind>(['pod-scheduled', 'init-started', 'proxy-started', 'app-started']);

export interface ContainerLogs {
  readonly current?: readonly LogLine[];
  readonly previous?: readonly LogLine[];
  readonly truncated: boolean;
  readonly unavailable: readonly string[];
}

export function logsByContainer(logs: readonly ContainerLog[]): Map<string, ContainerLogs> {
  const out = new Map<string, { current?: LogLine[]; previous?: LogLine[]; truncated: boolean; unavailable: string[] }>();
  for (const l of logs) {
    const e = out.get(l.container) ?? { truncated: false, unavailable: [] };
    if (l.text !== undefined) e[l.previous ? 'previous' : 'current'] = splitLog(l.text);
    if (l.unavailable) e.unavailable.push(`${l.previous ? 'previous ' : ''}log: ${l.unavailable}`);
    if (l.truncated) e.truncated = true;
    out.set(l.container, e);
  }
  return out;
}

export interface PodTimeline {
  readonly entries: readonly TimelineEntry[];
  readonly events: readonly PodEvent[];
  readonly appStarted?: TimePoint & { readonly container: string; readonly micros: number };
  readonly proxyStarted?: TimePoint & { readonly micros: number };
  readonly proxyReady?: TimePoint & { readonly micros: number; readonly bound: boolean };
  readonly proxyNotReadyUntil?: TimePoint & { readonly micros: number };
  /** every connection-refused line of the application containers, oldest first */
  readonly refused: readonly (RefusedLine & { readonly micros: number })[];
  /** the postStart hook failures of istio-proxy */
  readonly hookFailures: readonly PodEvent[];
  /** pilot-agent's "Envoy proxy is NOT ready: <why>" reasons, first one per distinct text */
  readonly notReadyReasons: readonly string[];
  readonly notes: readonly string[];
}

function allStatuses(pod: Pod): V1ContainerStatus[] {
  return [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])];
}

function iso(d: Date | string | undefined | null): string | undefined {
  if (d === undefined || d === null) return undefined;
  return typeof d === 'string' ? d : d.toISOString().replace(/\.000Z$/, 'Z');
}

/** Refused lines of one container instance: all of them (for counting), each with its time. */
export function refusedLines(container: string, lines: readonly LogLine[] | undefined, previous: boolean): (RefusedLine & { micros: number })[] {
  const out: (RefusedLine & { micros: number })[] = [];
  for (const l of lines ?? []) {
    if (l.micros === undefined || l.at === undefined || !isConnectionRefused(l.text)) continue;
    const destination = refusedDestination(l.text);
    out.push({ at: l.at, micros: l.micros, container, previous, line: clip(withoutOwnTimestamp(l.text)), ...(destination ? { destination } : {}) });
  }
  return out;
}

export function buildTimeline(pod: Pod, layout: Layout, rawEvents: readonly KubeEvent[] | undefined, logs: Map<string, ContainerLogs>): PodTimeline {
  const timed: Timed[] = [];
  const notes: string[] = [];
  const add = (at: string | undefined, source: TimelineEntry['source'], kind: TimelineKind, what: string, extra: { container?: string; count?: number; until?: string } = {}): void => {
    const micros = parseTime(at);
    if (at === undefined || micros === undefined) return;
    timed.push({ entry: { at, source, kind, what, ...extra }, micros });
  };
  const statuses = allStatuses(pod);
  const inits = new Set((pod.spec?.initContainers ?? []).map((c) => c.name));
  const apps = new Set(layout.appContainers);
  const roleOf = (name: string): 'proxy' | 'init' | 'app' | 'other' => (name === PROXY ? 'proxy' : inits.has(name) ? 'init' : apps.has(name) ? 'app' : 'other');

  // ---- pod status --------------------------------------------------------------------------------
  add(iso(pod.metadata?.creationTimestamp), 'status', 'pod-created', 'pod created');
  for (const c of pod.status?.conditions ?? []) {
    if (c.status !== 'True') continue;
    const at = iso(c.lastTransitionTime);
    if (c.type === 'PodScheduled') add(at, 'status', 'pod-scheduled', `scheduled${pod.spec?.nodeName ? ` on ${pod.spec.nodeName}` : ''}`);
    if (c.type === 'Initialized' && inits.size) add(at, 'status', 'pod-initialized', 'all init containers done (condition Initialized)');
    if (c.type === 'Ready') add(at, 'status', 'pod-ready', 'pod ready (condition Ready)');
  }
  for (const s of statuses) {
    const role = roleOf(s.name);
    const startKind: TimelineKind = role === 'proxy' ? 'proxy-started' : role === 'init' ? 'init-started' : 'app-started';
    const running = s.state?.running;
    const term = s.state?.terminated;
    const last = s.lastState?.terminated;
    if (last) {
      add(iso(last.startedAt), 'status', startKind, `${s.name} started (previous instance)`, { container: s.name });
      const exit = `exit code ${last.exitCode}${last.reason ? `, ${last.reason}` : ''}`;
      add(iso(last.finishedAt), 'status', role === 'init' ? 'init-failed' : role === 'proxy' ? 'container-killed' : 'app-finished', `${s.name} terminated (${exit})`, { container: s.name });
    }
    if (running) add(iso(running.startedAt), 'status', startKind, `${s.name} started${s.restartCount ? ` (restart ${s.restartCount})` : ''}`, { container: s.name });
    if (term) {
      add(iso(term.startedAt), 'status', startKind, `${s.name} started`, { container: s.name });
      const ok = term.exitCode === 0;
      add(iso(term.finishedAt), 'status', role === 'init' ? (ok ? 'init-finished' : 'init-failed') : 'app-finished', `${s.name} ${ok ? 'completed' : `failed (exit code ${term.exitCode}${term.reason ? `, ${term.reason}` : ''})`}`, { container: s.name });
    }
  }

  // ---- events --------------------------------------------------------------------------------------
  const events = rawEvents ? normalizeEvents(rawEvents) : [];
  const hookFailures: PodEvent[] = [];
  let notReady: { micros: number; at: string; source: string } | undefined;
  const considerNotReady = (micros: number, at: string, source: string): void => {
    if (!notReady || micros > notReady.micros) notReady = { micros, at, source };
  };
  const proxyNotReadyEvents: PodEvent[] = [];
  for (const e of events) {
    const c = e.container;
    const times = e.count > 1 ? { count: e.count, until: e.last } : {};
    const role = c ? roleOf(c) : 'other';
    if (e.reason === 'Started' && c) {
      const kind: TimelineKind = role === 'proxy' ? 'proxy-started' : role === 'init' ? 'init-started' : 'app-started';
      add(e.first, 'event', kind, `Started: ${e.message}`, { container: c, ...times });
    } else if (probeFailure(e) && role === 'proxy' && probeFailure(e) !== 'liveness') {
      add(e.first, 'event', 'proxy-not-ready', `${e.reason}: ${clip(e.message, 120)}`, { container: c!, ...times });
      proxyNotReadyEvents.push(e);
    } else if (e.reason === 'FailedPostStartHook') {
      add(e.first, 'event', 'hook-failed', `FailedPostStartHook: ${clip(e.message, 160)}`, { ...(c ? { container: c } : {}), ...times });
      if (role === 'proxy' || /istio-proxy/.test(e.message)) hookFailures.push(e);
    } else if (e.reason === 'Killing' && c) {
      add(e.first, 'event', 'container-killed', `Killing: ${clip(e.message, 120)}`, { container: c, ...times });
    } else if (e.reason === 'BackOff' && c) {
      add(e.first, 'event', 'back-off', `BackOff: ${clip(e.message, 120)}`, { container: c, ...times });
    } else if (e.reason === 'Scheduled') {
      add(e.first, 'event', 'pod-scheduled', `Scheduled: ${clip(e.message, 120)}`);
    }
  }

  // ---- logs ----------------------------------------------------------------------------------------
  const proxyLogs = logs.get(PROXY);
  let readyLog: { micros: number; at: string; message: string } | undefined;
  const notReadyReasons: string[] = [];
  const notReadyLines: { micros: number; at: string }[] = [];
  for (const lines of [proxyLogs?.previous, proxyLogs?.current]) {
    for (const l of lines ?? []) {
      const sig = proxyReadiness(l.text);
      if (!sig || l.micros === undefined || l.at === undefined) continue;
      if (sig.kind === 'ready') {
        if (!readyLog || l.micros < readyLog.micros) readyLog = { micros: l.micros, at: l.at, message: sig.message };
      } else {
        notReadyLines.push({ micros: l.micros, at: l.at });
        const why = sig.message.replace(/^Envoy proxy is NOT ready:\s*/, '');
        if (!notReadyReasons.includes(why)) notReadyReasons.push(why);
      }
    }
  }
  if (readyLog) add(readyLog.at, 'log', 'proxy-ready', `pilot-agent: ${withoutOwnTimestamp(readyLog.message)}`, { container: PROXY });
  const nrBefore = notReadyLines.filter((l) => !readyLog || l.micros < readyLog.micros);
  if (nrBefore.length) {
    add(nrBefore[0]!.at, 'log', 'proxy-not-ready', `pilot-agent: Envoy proxy is NOT ready: ${clip(notReadyReasons[0] ?? '', 120)}`, {
      container: PROXY,
      ...(nrBefore.length > 1 ? { count: nrBefore.length, until: nrBefore.at(-1)!.at } : {}),
    });
    considerNotReady(nrBefore.at(-1)!.micros, nrBefore.at(-1)!.at, 'istio-proxy log "Envoy proxy is NOT ready"');
  }
  for (const e of proxyNotReadyEvents) {
    // an aggregated event may have recurred after the proxy became ready (shutdown, istiod outage)
    if (!readyLog || e.lastMicros < readyLog.micros) considerNotReady(e.lastMicros, e.last, `event ${e.reason} (${probeFailure(e)} probe failed)`);
    else if (e.firstMicros < readyLog.micros) considerNotReady(e.firstMicros, e.first, `event ${e.reason} (${probeFailure(e)} probe failed)`);
  }
  const refused: (RefusedLine & { micros: number })[] = [];
  for (const name of layout.appContainers) {
    const l = logs.get(name);
    for (const [lines, previous] of [[l?.previous, true], [l?.current, false]] as const) {
      const found = refusedLines(name, lines, previous);
      refused.push(...found);
      if (found.length) {
        add(found[0]!.at, 'log', 'refused', `${found[0]!.line}`, { container: name, ...(found.length > 1 ? { count: found.length, until: found.at(-1)!.at } : {}) });
      }
    }
  }
  for (const name of inits) {
    if (name === PROXY) continue;
    const l = logs.get(name);
    for (const [lines, previous] of [[l?.previous, true], [l?.current, false]] as const) {
      const found = refusedLines(name, lines, previous);
      if (found.length) add(found[0]!.at, 'log', 'refused', found[0]!.line, { container: name, ...(found.length > 1 ? { count: found.length, until: found.at(-1)!.at } : {}) });
    }
  }
  refused.sort((a, b) => a.micros - b.micros);

  // ---- derived points ------------------------------------------------------------------------------
  const starts = timed.filter((t) => t.entry.kind === 'app-started' && t.entry.container !== undefined).sort((a, b) => a.micros - b.micros);
  const appStart = starts[0];
  const proxyStarts = timed.filter((t) => t.entry.kind === 'proxy-started').sort((a, b) => a.micros - b.micros);
  let proxyReady: PodTimeline['proxyReady'];
  if (readyLog) proxyReady = { at: readyLog.at, source: 'pilot-agent log line', micros: readyLog.micros, bound: false };
  else {
    const proxyStatus = statuses.find((s) => s.name === PROXY);
    const cond = (type: string): { at: string; micros: number } | undefined => {
      const c = (pod.status?.conditions ?? []).find((x) => x.type === type && x.status === 'True');
      const at = iso(c?.lastTransitionTime);
      const micros = parseTime(at);
      return at && micros !== undefined ? { at, micros } : undefined;
    };
    // only upper bounds: the condition turned true at or after the moment the proxy was ready
    const bound = layout.layout === 'native' && proxyStatus?.started ? (cond('Initialized') ? { ...cond('Initialized')!, source: 'pod condition Initialized (native sidecar started)' } : undefined) : proxyStatus?.ready ? (cond('ContainersReady') ? { ...cond('ContainersReady')!, source: 'pod condition ContainersReady' } : undefined) : undefined;
    if (bound) proxyReady = { at: bound.at, source: bound.source, micros: bound.micros, bound: true };
  }
  const proxyRestarts = statuses.find((s) => s.name === PROXY)?.restartCount ?? 0;
  if (proxyRestarts > 1 && readyLog) notes.push(`istio-proxy restarted ${proxyRestarts} times: the logs of its first instances are gone, so the first ready time may be earlier than ${readyLog.at}`);
  if (proxyLogs?.truncated) notes.push('the istio-proxy log was read up to the byte limit only');
  const entries = timed
    .sort((a, b) => a.micros - b.micros || ORDER.indexOf(a.entry.kind) - ORDER.indexOf(b.entry.kind) || (a.entry.container ?? '').localeCompare(b.entry.container ?? ''))
    .filter((t, i, all) => {
      // the same start seen in the status and in an event (1 s resolution): keep the first
      if (!DEDUPED.has(t.entry.kind)) return true;
      const prev = all.slice(0, i).find((p) => p.entry.kind === t.entry.kind && p.entry.container === t.entry.container && Math.abs(p.micros - t.micros) < 1_000_000 && p.entry.source !== t.entry.source);
      return !prev;
    })
    .map((t) => t.entry);
  return {
    entries,
    events,
    ...(appStart ? { appStarted: { at: appStart.entry.at, source: appStart.entry.source === 'event' ? 'event Started' : 'container status', container: appStart.entry.container!, micros: appStart.micros } } : {}),
    ...(proxyStarts[0] ? { proxyStarted: { at: proxyStarts[0].entry.at, source: proxyStarts[0].entry.source === 'event' ? 'event Started' : 'container status', micros: proxyStarts[0].micros } } : {}),
    ...(proxyReady ? { proxyReady } : {}),
    ...(notReady ? { proxyNotReadyUntil: notReady } : {}),
    refused,
    hookFailures,
    notReadyReasons,
    notes,
  };
}

