/**
 * doctor's part of a snapshot (registered in snapshot-collectors.ts): the NetworkPolicies of the
 * pod's namespace, every namespace's labels, and — since a snapshot does not know the destination
 * yet — every pod (trimmed to labels, owners, addresses, ports and readiness), EndpointSlice and
 * workload (trimmed to selector and template labels). Nothing here holds a secret.
 */
import { readAllForSnapshot } from '../collect/doctor-reads.js';
import type { CollectionGap } from '../model/cluster-view.js';
import { DOCTOR_FILES } from '../model/doctor.js';
import type { CollectedFile, SnapshotCollector } from './snapshot-collectors.js';

export const doctorCollector: SnapshotCollector = {
  verb: 'doctor',
  collect: async ({ k, namespace }) => {
    const gaps: CollectionGap[] = [];
    const data = await readAllForSnapshot(k, namespace, gaps);
    const files: CollectedFile[] = [];
    const put = (file: string, name: string, items: readonly unknown[] | undefined): void => {
      if (items) files.push({ file, name, text: `${JSON.stringify({ apiVersion: 'v1', kind: 'List', items }, null, 2)}\n` });
    };
    put(DOCTOR_FILES.networkPolicies, `networkpolicies in ${namespace}`, data.networkPolicies);
    put(DOCTOR_FILES.namespaces, 'namespaces (labels)', data.namespaces);
    put(DOCTOR_FILES.pods, 'pods, all namespaces (labels, owners, IPs, ports, readiness)', data.pods);
    put(DOCTOR_FILES.endpointSlices, 'endpointslices, all namespaces', data.endpointSlices);
    put(DOCTOR_FILES.workloads, 'workloads, all namespaces (selectors and template labels)', data.workloads);
    return { files, gaps };
  },
};
