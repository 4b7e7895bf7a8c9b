/**
 * Offline snapshots of the race-check scenarios, laid out as `kubectl mesh-egress snapshot` writes
 * them: the pod scrubbed like the snapshot verb scrubs it, the mesh config, and race-check's own
 * files built by the same function its snapshot collector uses (collect/race.ts). What the
 * collector would have read is emulated from the scenario the way the kubelet and the API server
 * answer: logs with timestamp prefixes for containers that ran, previous logs for restarted ones,
 * events by involvedObject.uid, Service cluster IPs by name.
 */
import YAML from 'yaml';
import { egressDestinations } from '../../src/analyze/race/egress.js';
import { reduceLogForSnapshot } from '../../src/analyze/race/log-lines.js';
import { SNAPSHOT_SCHEMA, writeSnapshot } from '../../src/collect/archives.js';
import { logTargets, raceSnapshotFiles, serviceOfHost } from '../../src/collect/race.js';
import type { KubeObject, Pod } from '../../src/model/cluster-view.js';
import type { ContainerLog, KubeEvent, NodeVersion } from '../../src/model/race-evidence.js';
import { scrubObject } from '../../src/model/scrub.js';
import type { LogSource } from '../e2e/server/index.js';
import type { Scenario } from './scenarios.js';

function kubeletLog(src: LogSource): string {
  if (typeof src === 'string') throw new Error('scenario logs must be timestamped');
  return src.map((l) => `${typeof l.time === 'string' ? l.time : l.time.toISOString()} ${l.line}\n`).join('');
}

export async function writeScenarioSnapshot(s: Scenario, file: string): Promise<void> {
  const podObj = s.objects.find((o) => o.kind === 'Pod' && o.metadata.name === s.pod.name && o.metadata.namespace === s.pod.namespace)!;
  const pod = podObj as unknown as Pod;
  const uid = pod.metadata?.uid;
  const events = s.objects.filter((o) => o.kind === 'Event' && (o.involvedObject as { uid?: string }).uid === uid) as unknown as KubeEvent[];
  const podLogs = s.logs[`${s.pod.namespace}/${s.pod.name}`] ?? {};
  const logs: ContainerLog[] = logTargets(pod).map((t) => {
    if (t.unavailable) return { container: t.container, previous: t.previous, unavailable: t.unavailable };
    const src = t.previous ? podLogs[t.container]?.previous : podLogs[t.container]?.current;
    if (src === undefined && t.previous) return { container: t.container, previous: true, unavailable: `previous terminated container "${t.container}" in pod "${s.pod.name}" not found` };
    // as the snapshot collector stores it (src/cli/race-snapshot.ts)
    return { container: t.container, previous: t.previous, text: src === undefined ? '' : reduceLogForSnapshot(kubeletLog(src)) };
  });
  const services = s.objects.filter((o) => o.kind === 'Service');
  const destinations = egressDestinations(pod).map((d) => {
    const ref = /^[\d.]+$|:/.test(d.host) ? undefined : serviceOfHost(d.host, s.pod.namespace);
    const svc = ref && services.find((o) => o.metadata.name === ref.name && o.metadata.namespace === ref.namespace);
    const ip = svc ? (svc.spec as { clusterIP?: string }).clusterIP : undefined;
    return ip && ip !== 'None' ? { ...d, serviceIp: ip } : d;
  });
  const nodes: NodeVersion[] = s.objects.filter((o) => o.kind === 'Node').map((n) => ({ name: n.metadata.name!, kubeletVersion: (n.status as { nodeInfo: { kubeletVersion: string } }).nodeInfo.kubeletVersion }));
  const race = raceSnapshotFiles({ pod, events, logs, destinations, gaps: [] }, { nodes, allNodes: true, gaps: [] });
  const files = new Map<string, { text: string }>();
  files.set('cluster/pod.json', { text: `${JSON.stringify(scrubObject(podObj as unknown as KubeObject), null, 2)}\n` });
  const mesh = s.objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === 'istio' && o.metadata.namespace === 'istio-system');
  if (mesh) files.set('cluster/meshconfig.json', { text: `${JSON.stringify({ namespace: 'istio-system', name: 'istio', mesh: YAML.parse((mesh.data as Record<string, string>).mesh!) }, null, 2)}\n` });
  for (const f of race) files.set(f.file, { text: f.text });
  await writeSnapshot(file, {
    manifest: {
      apiVersion: 'mesh-egress/v1',
      kind: 'Snapshot',
      schemaVersion: SNAPSHOT_SCHEMA,
      tool: { name: 'kubectl-mesh_egress', version: '0.1.0' },
      context: 'prod',
      collectedAt: s.collectedAt,
      target: { namespace: s.pod.namespace, pod: s.pod.name },
      items: [...files.keys()].map((f) => ({ name: f, file: f, ok: true, bytes: Buffer.byteLength(files.get(f)!.text) })),
      gaps: [],
    },
    files,
  });
}
