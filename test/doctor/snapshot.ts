/**
 * A doctor scenario as the archive `kubectl mesh-egress snapshot` writes for one pod (same layout,
 * same writer): cluster/*.json, proxy/config_dump.json, proxy/istio-proxy.log, and the doctor
 * collector's cluster/doctor/*.json (trimmed as the collector trims them). The e2e suite checks
 * that a snapshot taken by the real verb gives the same diagnosis.
 */
import YAML from 'yaml';
import { SNAPSHOT_SCHEMA, writeSnapshot, type SnapshotManifest } from '../../src/collect/archives.js';
import { DOCTOR_FILES, trimNamespace, trimPod, trimWorkload } from '../../src/model/doctor.js';
import type { KubeObject as ModelObject } from '../../src/model/cluster-view.js';
import { scrubObject } from '../../src/model/scrub.js';
import type { KubeObject } from '../e2e/server/index.js';
import type { DoctorScenario } from './scenarios.js';

const LISTS: Readonly<Record<string, string>> = {
  Service: 'cluster/services.json',
  ServiceEntry: 'cluster/serviceentries.json',
  Sidecar: 'cluster/sidecars.json',
  DestinationRule: 'cluster/destinationrules.json',
  VirtualService: 'cluster/virtualservices.json',
};

const WORKLOADS = new Set(['Deployment', 'ReplicaSet', 'StatefulSet', 'DaemonSet']);

export async function writeScenarioSnapshot(file: string, s: DoctorScenario, podKey: string, omit: { doctor?: boolean } = {}): Promise<void> {
  const [namespace, name] = podKey.split('/') as [string, string];
  const pod = s.objects.find((o) => o.kind === 'Pod' && o.metadata.namespace === namespace && o.metadata.name === name);
  if (!pod) throw new Error(`scenario ${s.name} has no pod ${podKey}`);
  const files = new Map<string, { text: string }>();
  const json = (v: unknown): { text: string } => ({ text: `${JSON.stringify(v, null, 2)}\n` });
  const list = (items: unknown[]): { text: string } => json({ apiVersion: 'v1', kind: 'List', items });
  files.set('cluster/pod.json', json(scrubObject(pod as unknown as ModelObject)));
  const nsObj = s.objects.find((o) => o.kind === 'Namespace' && o.metadata.name === namespace);
  if (nsObj) files.set('cluster/namespace.json', json(nsObj));
  const mesh = s.objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === 'istio' && o.metadata.namespace === 'istio-system');
  if (mesh) files.set('cluster/meshconfig.json', json({ namespace: 'istio-system', name: 'istio', mesh: YAML.parse((mesh as unknown as { data: { mesh: string } }).data.mesh) as unknown }));
  for (const [kind, f] of Object.entries(LISTS)) files.set(f, list(s.objects.filter((o: KubeObject) => o.kind === kind)));
  const dump = s.dumps[podKey];
  if (dump) files.set('proxy/config_dump.json', json(dump));
  const log = s.logs[podKey];
  if (log !== undefined) files.set('proxy/istio-proxy.log', { text: log });
  if (!omit.doctor) {
    const objs = s.objects as unknown as ModelObject[];
    files.set(DOCTOR_FILES.networkPolicies, list(objs.filter((o) => o.kind === 'NetworkPolicy' && o.metadata?.namespace === namespace)));
    files.set(DOCTOR_FILES.namespaces, list(objs.filter((o) => o.kind === 'Namespace').map(trimNamespace)));
    files.set(DOCTOR_FILES.pods, list(objs.filter((o) => o.kind === 'Pod').map(trimPod)));
    files.set(DOCTOR_FILES.endpointSlices, list(objs.filter((o) => o.kind === 'EndpointSlice')));
    files.set(DOCTOR_FILES.workloads, list(objs.filter((o) => WORKLOADS.has(o.kind ?? '')).map(trimWorkload)));
  }
  const manifest: SnapshotManifest = {
    apiVersion: 'mesh-egress/v1',
    kind: 'Snapshot',
    schemaVersion: SNAPSHOT_SCHEMA,
    tool: { name: 'kubectl-mesh_egress', version: 'test' },
    context: 'prod',
    collectedAt: '2026-11-02T09:30:00.000Z',
    target: { namespace, pod: name },
    items: [...files.keys()].map((f) => ({ name: f, file: f, ok: true })),
    gaps: [],
  };
  await writeSnapshot(file, { manifest, files });
}
