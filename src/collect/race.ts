/**
 * What race-check reads from the cluster, read-only: the pods TARGET names (a workload's newest
 * ones), each pod's events (`get events --field-selector involvedObject.uid=`), its container
 * logs from the start with kubelet timestamps (`logs --timestamps --limit-bytes`, `--previous`
 * for restarted containers), the nodes' kubelet versions, and the cluster IPs of the Services
 * its init containers connect to (read from the API, never by DNS). The same pieces are written
 * into snapshots (raceSnapshotFiles) and read back from them (readRaceSnapshot).
 */
import type { V1ContainerStatus } from '@kubernetes/client-node';
import type { ContainerLog, EgressDestination, KubeEvent, NodeVersion, PodEvidence } from '../model/race-evidence.js';
import type { CollectionGap, KubeObject, Pod } from '../model/cluster-view.js';
import { DataError, UnavailableError } from '../model/errors.js';
import { resolvePods } from './cluster.js';
import { classify, KubectlError, parseKubectlJson, type Kubectl } from './kubectl.js';
import type { TargetSpec } from './target-spec.js';

export const DEFAULT_LOG_BYTES = 2 * 1024 * 1024;

function gapOf(what: string, e: unknown): CollectionGap {
  if (!(e instanceof KubectlError)) throw e;
  if (e.kind === 'unreachable' || e.kind === 'unauthorized') throw new UnavailableError(`cannot read from the cluster: ${e.message}`);
  const reason = e.kind === 'forbidden' ? 'forbidden' : e.kind === 'not-found' ? 'not-found' : e.kind === 'timeout' ? 'timeout' : 'error';
  return { what, reason, detail: e.message };
}

// ---- which pods ------------------------------------------------------------------------------------

export interface SelectedPods {
  readonly pods: readonly Pod[];
  /** every pod TARGET names, before the newest revision was picked */
  readonly all: readonly Pod[];
  readonly what: string;
  readonly replicaSets?: readonly KubeObject[];
  readonly gaps: readonly CollectionGap[];
}

/** The pods TARGET names, plus a Deployment's ReplicaSets (those its pods belong to) to tell the newest. */
export async function readRacePods(k: Kubectl, target: TargetSpec, namespace: string): Promise<SelectedPods> {
  const { pods, what } = await resolvePods(k, target, namespace);
  const gaps: CollectionGap[] = [];
  let replicaSets: KubeObject[] | undefined;
  if (target.kind === 'workload' && target.resource === 'deployments') {
    const names = [...new Set(pods.flatMap((p) => (p.metadata?.ownerReferences ?? []).filter((r) => r.controller && r.kind === 'ReplicaSet').map((r) => r.name)))].sort();
    if (names.length) {
      try {
        const text = await k.ok(['get', 'replicasets', ...names, '-n', namespace, '--ignore-not-found', '-o', 'json'], `reading the ReplicaSets of ${what}`);
        const got = text.trim() === '' ? { items: [] } : parseKubectlJson<KubeObject & { items?: KubeObject[] }>(text, `reading the ReplicaSets of ${what}`);
        replicaSets = got.items ?? (got.kind === 'ReplicaSet' ? [got] : []);
      } catch (e) {
        gaps.push(gapOf(`get replicasets ${names.join(',')} in ${namespace}`, e));
      }
    }
  }
  return { pods, all: pods, what, ...(replicaSets ? { replicaSets } : {}), gaps };
}

// ---- one pod's evidence ----------------------------------------------------------------------------

export interface EvidenceOptions {
  readonly logBytes: number;
}

function statusOf(pod: Pod, name: string): V1ContainerStatus | undefined {
  return [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])].find((s) => s.name === name);
}

/** Istio's iptables containers: their logs only matter when they did not complete. */
const IPTABLES_CONTAINERS = new Set(['istio-init', 'istio-validation']);

/**
 * The container instances whose logs race-check reads: current when it ran, previous when it
 * terminated before; istio-init / istio-validation only when they did not complete.
 */
export function logTargets(pod: Pod): { container: string; previous: boolean; unavailable?: string }[] {
  const out: { container: string; previous: boolean; unavailable?: string }[] = [];
  const names = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])].map((c) => c.name);
  for (const name of names) {
    const s = statusOf(pod, name);
    if (IPTABLES_CONTAINERS.has(name) && s?.state?.terminated?.exitCode === 0 && !s.restartCount) continue;
    const ran = s?.state?.running !== undefined || s?.state?.terminated !== undefined;
    if (ran) out.push({ container: name, previous: false });
    else out.push({ container: name, previous: false, unavailable: s?.state?.waiting ? `not running (${s.state.waiting.reason ?? 'waiting'})` : 'not started' });
    if (s?.lastState?.terminated || (s?.restartCount ?? 0) > 0) out.push({ container: name, previous: true });
  }
  return out;
}

async function readLog(k: Kubectl, pod: Pod, t: { container: string; previous: boolean }, opts: EvidenceOptions, gaps: CollectionGap[]): Promise<ContainerLog> {
  const ns = pod.metadata?.namespace ?? 'default';
  const name = pod.metadata?.name ?? '';
  const args = ['logs', name, '-n', ns, '-c', t.container, '--timestamps', `--limit-bytes=${opts.logBytes}`, ...(t.previous ? ['--previous'] : [])];
  const r = await k.run(args, { step: `reading ${t.previous ? 'previous ' : ''}logs of ${ns}/${name} -c ${t.container}` });
  if (r.exitCode === 0) return { container: t.container, previous: t.previous, text: r.stdout, ...(Buffer.byteLength(r.stdout) >= opts.logBytes ? { truncated: true } : {}) };
  const first = r.stderr.split('\n').map((l) => l.trim()).find((l) => l !== '') ?? `kubectl exited with ${r.exitCode}`;
  // the kubelet's answers for containers without such logs: not gaps, just nothing to read
  if (/is waiting to start|previous terminated container .* not found|ContainerCreating|PodInitializing/.test(r.stderr)) {
    return { container: t.container, previous: t.previous, unavailable: first.replace(/^Error from server \(BadRequest\): /, '') };
  }
  const gap = gapOf(`read ${t.previous ? 'previous ' : ''}logs of ${t.container}`, new KubectlError(classify(r.stderr, r.exitCode), first, r.exitCode, r.stderr));
  gaps.push(gap);
  return { container: t.container, previous: t.previous, unavailable: gap.detail };
}

/** A hostname that names a Service of the cluster: svc, svc.ns, svc.ns.svc, svc.ns.svc.cluster.local. */
export function serviceOfHost(host: string, podNamespace: string): { name: string; namespace: string } | undefined {
  const m = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?)(?:\.([a-z0-9]([-a-z0-9]*[a-z0-9])?))?(\.svc(\.cluster\.local)?)?$/.exec(host.toLowerCase());
  if (!m) return undefined;
  if (!m[3] && m[5]) return undefined;
  return { name: m[1]!, namespace: m[3] ?? podNamespace };
}

async function resolveServiceIps(k: Kubectl, pod: Pod, dests: readonly EgressDestination[], gaps: CollectionGap[]): Promise<EgressDestination[]> {
  const ns = pod.metadata?.namespace ?? 'default';
  const cache = new Map<string, Promise<string | undefined>>();
  const lookup = (name: string, namespace: string): Promise<string | undefined> => {
    const key = `${namespace}/${name}`;
    if (!cache.has(key)) {
      cache.set(
        key,
        (async () => {
          try {
            const text = await k.ok(['get', 'service', name, '-n', namespace, '--ignore-not-found', '-o', 'json'], `looking up Service ${key}`);
            if (text.trim() === '') return undefined;
            const ip = (parseKubectlJson<KubeObject>(text, `looking up Service ${key}`).spec as { clusterIP?: string } | undefined)?.clusterIP;
            return ip && ip !== 'None' ? ip : undefined;
          } catch (e) {
            gaps.push(gapOf(`get service ${key}`, e));
            return undefined;
          }
        })(),
      );
    }
    return cache.get(key)!;
  };
  return Promise.all(
    dests.map(async (d) => {
      const svc = /^[\d.]+$|:/.test(d.host) ? undefined : serviceOfHost(d.host, ns);
      const ip = svc ? await lookup(svc.name, svc.namespace) : undefined;
      return ip ? { ...d, serviceIp: ip } : d;
    }),
  );
}

/** Events, logs and destinations of one pod, in parallel; what cannot be read becomes a gap. */
export async function collectPodEvidence(k: Kubectl, pod: Pod, opts: EvidenceOptions, destinations: readonly EgressDestination[]): Promise<PodEvidence> {
  const ns = pod.metadata?.namespace ?? 'default';
  const name = pod.metadata?.name ?? '';
  const uid = pod.metadata?.uid;
  const gaps: CollectionGap[] = [];
  const eventsRead = (async (): Promise<KubeEvent[] | undefined> => {
    const selector = uid ? `involvedObject.uid=${uid}` : `involvedObject.name=${name}`;
    try {
      return (await k.getJson<{ items?: KubeEvent[] }>(['events', '-n', ns, '--field-selector', selector], `reading the events of ${ns}/${name}`)).items ?? [];
    } catch (e) {
      gaps.push(gapOf(`list events of pod ${ns}/${name}`, e));
      return undefined;
    }
  })();
  const targets = logTargets(pod);
  // log gaps are kept per target and added in the pod's container order (reads finish in any order)
  const logGaps: CollectionGap[][] = targets.map(() => []);
  const [events, logs, dests] = await Promise.all([
    eventsRead,
    Promise.all(targets.map((t, i) => (t.unavailable ? Promise.resolve<ContainerLog>({ container: t.container, previous: t.previous, unavailable: t.unavailable }) : readLog(k, pod, t, opts, logGaps[i]!)))),
    resolveServiceIps(k, pod, destinations, gaps),
  ]);
  gaps.push(...logGaps.flat());
  return { pod, ...(events ? { events } : {}), logs, destinations: dests, gaps: mergeLogGaps(gaps) };
}

/** One gap for all the logs a single cause kept from being read (RBAC denies pods/log once for all). */
function mergeLogGaps(gaps: readonly CollectionGap[]): CollectionGap[] {
  const out: CollectionGap[] = [];
  for (const g of gaps) {
    const m = /^read (previous )?logs of (.+)$/.exec(g.what);
    const same = m ? out.find((o) => o.reason === g.reason && o.detail === g.detail && o.what.startsWith('read ') && o.what.includes('logs of ')) : undefined;
    if (same && m) {
      const i = out.indexOf(same);
      out[i] = { ...same, what: `${same.what.replace(/^read (previous )?logs of /, 'read logs of ')}, ${m[2]}${m[1] ? ' (previous)' : ''}` };
    } else out.push(g);
  }
  return out.sort((a, b) => a.what.localeCompare(b.what));
}

/** Every node's kubelet version in one call (cluster-scoped: often denied), else the pods' nodes. */
export async function readNodeVersions(k: Kubectl, podNodes: readonly string[]): Promise<{ nodes?: NodeVersion[]; allNodes: boolean; gaps: CollectionGap[] }> {
  const jsonpath = '-o=jsonpath={range .items[*]}{.metadata.name}{"\\t"}{.status.nodeInfo.kubeletVersion}{"\\n"}{end}';
  const parse = (text: string): NodeVersion[] =>
    text
      .split('\n')
      .map((l) => l.split('\t'))
      .filter((p) => p.length === 2 && p[0] && p[1])
      .map(([name, kubeletVersion]) => ({ name: name!, kubeletVersion: kubeletVersion! }));
  try {
    return { nodes: parse(await k.ok(['get', 'nodes', jsonpath], 'listing the nodes')), allNodes: true, gaps: [] };
  } catch (e) {
    const gaps: CollectionGap[] = [gapOf('list nodes (kubelet versions)', e)];
    if (podNodes.length === 0) return { allNodes: false, gaps };
    try {
      const one = '-o=jsonpath={.metadata.name}{"\\t"}{.status.nodeInfo.kubeletVersion}{"\\n"}';
      const nodes = (await Promise.all(podNodes.map((n) => k.ok(['get', 'node', n, one], `reading node ${n}`)))).flatMap(parse);
      return { nodes, allNodes: false, gaps: [] };
    } catch (e2) {
      return { allNodes: false, gaps: [gapOf(`get node ${podNodes.join(',')} (kubelet versions)`, e2)] };
    }
  }
}

/** Runs `fn` over items with at most `limit` at a time (each pod starts several kubectl calls). */
export async function mapLimited<T, R>(items: readonly T[], limit: number, fn: (t: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i]!);
      }
    }),
  );
  return out;
}

// ---- snapshots -------------------------------------------------------------------------------------

/** snapshot/race/evidence.json: the index of what race-check stored for the snapshot's pod. */
export interface RaceSnapshotIndex {
  readonly schema: 1;
  readonly events: boolean;
  readonly logs: readonly { readonly container: string; readonly previous: boolean; readonly file?: string; readonly unavailable?: string; readonly truncated?: boolean }[];
  readonly destinations: readonly EgressDestination[];
  readonly nodes?: readonly NodeVersion[];
  readonly allNodes: boolean;
  readonly gaps: readonly CollectionGap[];
}

const safe = (s: string): string => s.replace(/[^A-Za-z0-9_.-]/g, '_');

/** The files race-check keeps in a snapshot (paths under snapshot/). */
export function raceSnapshotFiles(ev: PodEvidence, nodes: { nodes?: readonly NodeVersion[]; allNodes: boolean; gaps: readonly CollectionGap[] }): { file: string; name: string; text: string }[] {
  const files: { file: string; name: string; text: string }[] = [];
  if (ev.events) files.push({ file: 'race/events.json', name: 'pod events (race-check)', text: `${JSON.stringify({ apiVersion: 'v1', kind: 'List', items: ev.events }, null, 2)}\n` });
  const logs = ev.logs.map((l) => {
    if (l.text === undefined) return { container: l.container, previous: l.previous, ...(l.unavailable ? { unavailable: l.unavailable } : {}) };
    const file = `race/logs/${safe(l.container)}${l.previous ? '.previous' : ''}.log`;
    files.push({ file, name: `${l.container} ${l.previous ? 'previous ' : ''}log with timestamps (race-check)`, text: l.text });
    return { container: l.container, previous: l.previous, file, ...(l.truncated ? { truncated: true } : {}) };
  });
  const index: RaceSnapshotIndex = {
    schema: 1,
    events: ev.events !== undefined,
    logs,
    destinations: ev.destinations ?? [],
    ...(nodes.nodes ? { nodes: nodes.nodes } : {}),
    allNodes: nodes.allNodes,
    gaps: [...ev.gaps, ...nodes.gaps],
  };
  files.push({ file: 'race/evidence.json', name: 'race-check index', text: `${JSON.stringify(index, null, 2)}\n` });
  return files;
}

/** The snapshot's race-check pieces, or undefined when the snapshot predates them. */
export function readRaceSnapshot(pod: Pod, readText: (rel: string) => string | undefined, archive: string): { evidence: PodEvidence; nodes?: NodeVersion[]; allNodes: boolean } | undefined {
  const indexText = readText('race/evidence.json');
  if (indexText === undefined) return undefined;
  let index: RaceSnapshotIndex;
  try {
    index = JSON.parse(indexText) as RaceSnapshotIndex;
  } catch (e) {
    throw new DataError(archive, `race/evidence.json is not valid JSON (${(e as Error).message})`);
  }
  let events: KubeEvent[] | undefined;
  if (index.events) {
    const text = readText('race/events.json');
    events = text === undefined ? undefined : ((JSON.parse(text) as { items?: KubeEvent[] }).items ?? []);
  }
  const logs: ContainerLog[] = index.logs.map((l) => {
    const text = l.file ? readText(l.file) : undefined;
    return { container: l.container, previous: l.previous, ...(text !== undefined ? { text } : { unavailable: l.unavailable ?? `${l.file ?? 'log'} missing from the archive` }), ...(l.truncated ? { truncated: true } : {}) };
  });
  return {
    evidence: { pod, ...(events ? { events } : {}), logs, destinations: index.destinations, gaps: index.gaps },
    ...(index.nodes ? { nodes: [...index.nodes] } : {}),
    allNodes: index.allNodes,
  };
}
