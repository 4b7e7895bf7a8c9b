/**
 * Kubernetes events of a pod, normalized: which container (involvedObject.fieldPath
 * "spec.containers{app}" / "spec.initContainers{vault-agent-init}"), first and last time, count.
 * The kubelet's recorder (core/v1) fills firstTimestamp/lastTimestamp/count; the events.k8s.io
 * recorder (scheduler, newer components) fills eventTime and series instead.
 * Events live one hour by default (kube-apiserver --event-ttl): an old pod may have none left.
 */
import type { KubeEvent } from './types.js';
import { parseTime } from './log-lines.js';

export interface PodEvent {
  readonly reason: string;
  readonly type: string;
  readonly message: string;
  readonly container: string | undefined;
  readonly init: boolean;
  readonly first: string;
  readonly firstMicros: number;
  readonly last: string;
  readonly lastMicros: number;
  readonly count: number;
}

export function normalizeEvents(events: readonly KubeEvent[]): PodEvent[] {
  const out: PodEvent[] = [];
  for (const e of events) {
    const first = e.firstTimestamp ?? e.eventTime ?? e.lastTimestamp ?? undefined;
    const last = e.lastTimestamp ?? e.series?.lastObservedTime ?? e.eventTime ?? e.firstTimestamp ?? undefined;
    const fm = parseTime(first);
    const lm = parseTime(last);
    if (!first || !last || fm === undefined || lm === undefined) continue;
    const fp = /^spec\.(containers|initContainers|ephemeralContainers)\{(.+)\}$/.exec(e.involvedObject?.fieldPath ?? '');
    out.push({
      reason: e.reason ?? '',
      type: e.type ?? 'Normal',
      message: (e.message ?? '').trim(),
      container: fp?.[2],
      init: fp?.[1] === 'initContainers',
      first,
      firstMicros: fm,
      last,
      lastMicros: lm,
      count: e.series?.count ?? e.count ?? 1,
    });
  }
  return out.sort((a, b) => a.firstMicros - b.firstMicros || a.reason.localeCompare(b.reason));
}

/** The kubelet's probe failures: "Readiness probe failed: ...", "Startup probe failed: ...". */
export function probeFailure(e: PodEvent): 'readiness' | 'startup' | 'liveness' | undefined {
  if (e.reason !== 'Unhealthy') return undefined;
  const m = /^(Readiness|Startup|Liveness) probe failed/.exec(e.message);
  return m ? (m[1]!.toLowerCase() as 'readiness' | 'startup' | 'liveness') : undefined;
}
