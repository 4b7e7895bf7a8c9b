/**
 * A doctor scenario as the archive `kubectl mesh-egress snapshot` writes for one pod (same layout,
 * same writer): cluster/*.json, proxy/config_dump.json, proxy/istio-proxy.log, and the doctor
 * collector's cluster/doctor/*.json (trimmed as the collector trims them). The e2e suite checks
 * that a snapshot taken by the real verb gives the same diagnosis.
 */
import { DOCTOR_FILES, trimNamespace, trimPod, trimWorkload } from '../../src/model/doctor.js';
import type { KubeObject as ModelObject } from '../../src/model/cluster-view.js';
import { scrubObject } from '../../src/model/scrub.js';
import { addLists, addMeshConfig, jsonFile, listFile, writePodSnapshot, type SnapshotFiles } from '../fixtures/snapshot-archive.js';
import type { DoctorScenario } from './scenarios.js';

const WORKLOADS = new Set(['Deployment', 'ReplicaSet', 'StatefulSet', 'DaemonSet']);

export async function writeScenarioSnapshot(file: string, s: DoctorScenario, podKey: string, omit: { doctor?: boolean } = {}): Promise<void> {
  const [namespace, name] = podKey.split('/') as [string, string];
  const pod = s.objects.find((o) => o.kind === 'Pod' && o.metadata.namespace === namespace && o.metadata.name === name);
  if (!pod) throw new Error(`scenario ${s.name} has no pod ${podKey}`);
  const files: SnapshotFiles = new Map();
  files.set('cluster/pod.json', jsonFile(scrubObject(pod as unknown as ModelObject)));
  const nsObj = s.objects.find((o) => o.kind === 'Namespace' && o.metadata.name === namespace);
  if (nsObj) files.set('cluster/namespace.json', jsonFile(nsObj));
  const mesh = s.objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === 'istio' && o.metadata.namespace === 'istio-system');
  if (mesh) addMeshConfig(files, mesh);
  addLists(files, s.objects);
  const dump = s.dumps[podKey];
  if (dump) files.set('proxy/config_dump.json', jsonFile(dump));
  const log = s.logs[podKey];
  if (log !== undefined) files.set('proxy/istio-proxy.log', { text: log });
  if (!omit.doctor) {
    const objs = s.objects as unknown as ModelObject[];
    files.set(DOCTOR_FILES.networkPolicies, listFile(objs.filter((o) => o.kind === 'NetworkPolicy' && o.metadata?.namespace === namespace)));
    files.set(DOCTOR_FILES.namespaces, listFile(objs.filter((o) => o.kind === 'Namespace').map(trimNamespace)));
    files.set(DOCTOR_FILES.pods, listFile(objs.filter((o) => o.kind === 'Pod').map(trimPod)));
    files.set(DOCTOR_FILES.endpointSlices, listFile(objs.filter((o) => o.kind === 'EndpointSlice')));
    files.set(DOCTOR_FILES.workloads, listFile(objs.filter((o) => WORKLOADS.has(o.kind ?? '')).map(trimWorkload)));
  }
  await writePodSnapshot(file, files, { namespace, pod: name, collectedAt: '2026-11-02T09:30:00.000Z' });
}
