/**
 * `GET .../pods/<name>/log`: container selection and errors as the apiserver/kubelet word them, and
 * the kubelet's sinceSeconds/sinceTime/tailLines/limitBytes/timestamps/previous/follow options.
 */
import type { KubeObject, LogLine, LogSource, PodLogs } from './types.js';
import { badRequest, type Status } from './status.js';

interface ContainerLike {
  name: string;
}

export function containerNames(p: KubeObject): { containers: string[]; init: string[]; ephemeral: string[] } {
  const spec = (p.spec ?? {}) as { containers?: ContainerLike[]; initContainers?: ContainerLike[]; ephemeralContainers?: ContainerLike[] };
  return {
    containers: (spec.containers ?? []).map((c) => c.name),
    init: (spec.initContainers ?? []).map((c) => c.name),
    ephemeral: (spec.ephemeralContainers ?? []).map((c) => c.name),
  };
}

/** The apiserver's container resolution for log/exec/attach (pkg/registry/core/pod/strategy.go). */
export function resolveContainer(p: KubeObject, requested: string | undefined): { container: string } | { error: Status } {
  const name = p.metadata.name ?? '';
  const { containers, init, ephemeral } = containerNames(p);
  if (!requested) {
    if (containers.length === 1 && containers[0]) return { container: containers[0] };
    let msg = `a container name must be specified for pod ${name}, choose one of: [${containers.join(' ')}]`;
    if (init.length) msg += ` or one of the init containers: [${init.join(' ')}]`;
    if (ephemeral.length) msg += ` or one of the ephemeral containers: [${ephemeral.join(' ')}]`;
    return { error: badRequest(msg) };
  }
  if (![...containers, ...init, ...ephemeral].includes(requested)) return { error: badRequest(`container ${requested} is not valid for pod ${name}`) };
  return { container: requested };
}

export function containerState(p: KubeObject, container: string): Record<string, unknown> | undefined {
  const st = (p.status ?? {}) as { containerStatuses?: { name: string; state?: Record<string, unknown> }[]; initContainerStatuses?: { name: string; state?: Record<string, unknown> }[] };
  return [...(st.containerStatuses ?? []), ...(st.initContainerStatuses ?? [])].find((c) => c.name === container)?.state;
}

export function isRunning(p: KubeObject, container: string): boolean {
  return containerState(p, container)?.running !== undefined;
}

function toLines(src: LogSource, start: Date): LogLine[] {
  if (typeof src !== 'string') return src;
  const lines = src.split('\n');
  if (lines.at(-1) === '') lines.pop();
  // Plain text gets one line per second up to now, so sinceSeconds=N keeps roughly the last N lines.
  const now = Date.now();
  return lines.map((line, i) => ({ time: new Date(Math.max(start.getTime(), now - (lines.length - i) * 1000)), line }));
}

/** RFC3339Nano as the kubelet prints it with timestamps=true. */
export function rfc3339Nano(d: Date): string {
  return d.toISOString().replace(/\.(\d{3})Z$/, '.$1000000Z');
}

export interface LogQuery {
  sinceSeconds?: number;
  sinceTime?: string;
  tailLines?: number;
  limitBytes?: number;
  timestamps: boolean;
  previous: boolean;
  follow: boolean;
}

export function parseLogQuery(q: URLSearchParams): LogQuery | { error: Status } {
  const num = (k: string): number | undefined => {
    const v = q.get(k);
    return v === null ? undefined : Number(v);
  };
  const o: LogQuery = {
    sinceSeconds: num('sinceSeconds'),
    sinceTime: q.get('sinceTime') ?? undefined,
    tailLines: num('tailLines'),
    limitBytes: num('limitBytes'),
    timestamps: q.get('timestamps') === 'true',
    previous: q.get('previous') === 'true',
    follow: q.get('follow') === 'true',
  };
  if (o.sinceSeconds !== undefined && o.sinceTime !== undefined) return { error: badRequest('at most one of sinceTime or sinceSeconds may be specified') };
  if (o.sinceSeconds !== undefined && !(o.sinceSeconds >= 1)) return { error: badRequest('PodLogOptions "" is invalid: sinceSeconds: Invalid value: ' + String(o.sinceSeconds) + ': must be greater than 0') };
  return o;
}

export function selectLines(src: LogSource | undefined, q: LogQuery, start: Date): string {
  let lines = src === undefined ? [] : toLines(src, start);
  const since = q.sinceSeconds !== undefined ? Date.now() - q.sinceSeconds * 1000 : q.sinceTime ? Date.parse(q.sinceTime) : undefined;
  if (since !== undefined) lines = lines.filter((l) => new Date(l.time).getTime() >= since);
  if (q.tailLines !== undefined && q.tailLines >= 0) lines = q.tailLines === 0 ? [] : lines.slice(-q.tailLines);
  // a timestamp given as an RFC3339Nano string is served as is (the kubelet prints nanoseconds)
  const stamp = (t: Date | string): string => (typeof t === 'string' && /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{9}Z$/.test(t) ? t : rfc3339Nano(new Date(t)));
  let out = lines.map((l) => `${q.timestamps ? `${stamp(l.time)} ` : ''}${l.line}\n`).join('');
  if (q.limitBytes !== undefined && q.limitBytes > 0) out = Buffer.from(out).subarray(0, q.limitBytes).toString();
  return out;
}

export function normalizeLogs(v: LogSource | PodLogs | undefined): PodLogs {
  if (v === undefined) return {};
  if (typeof v === 'string' || Array.isArray(v)) return { current: v };
  return v;
}
