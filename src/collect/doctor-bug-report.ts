/**
 * doctor --bug-report: the Kubernetes objects doctor's checks read, from an istioctl bug-report
 * archive. istioctl stores `kubectl get all,…,endpointslices,…,networkpolicies -o yaml` as
 * bug-report/cluster/k8s-resources (tools/bug-report/pkg/content/content.go GetK8sResources);
 * since Istio 1.30 the cluster-scoped kinds (namespaces, nodes, …) are in a separate
 * cluster/k8s-cluster-resources. NetworkPolicies are collected since Istio 1.20 (istio/istio#46841)
 * and EndpointSlices since 1.18 (#44052), so an archive without any is "not in the input", never
 * "none exist".
 *
 * `all` covers pods, Services, Deployments, ReplicaSets, StatefulSets and DaemonSets. With
 * bug-report --include, only some namespaces are collected: a namespace counts as collected when
 * any namespaced object of it is in the archive (every namespace holds the kube-root-ca.crt
 * ConfigMap, and configmaps are collected).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tar from 'tar';
import { yamlDocuments } from './archives.js';
import type { KubeObject } from '../model/cluster-view.js';
import { trimNamespace, trimPod, trimWorkload, type DoctorClusterData } from '../model/doctor.js';
import { DataError } from '../model/errors.js';

const WORKLOADS = new Set(['Deployment', 'ReplicaSet', 'StatefulSet', 'DaemonSet']);
const FILES = /(^|\/)cluster\/(k8s-resources|k8s-cluster-resources)$/;


/** What the bug-report holds for doctor; the lists it lacks are absent, with a gap saying why. */
export async function readBugReportCluster(file: string, podNamespace: string): Promise<DoctorClusterData> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mesh-egress-br-'));
  try {
    try {
      await tar.x({ file, cwd: dir, filter: (p) => FILES.test(p.replace(/^\.\//, '')), strict: true });
    } catch (e) {
      throw new DataError(file, `not a readable tar.gz archive: ${(e as Error).message.split('\n')[0]}`);
    }
    const texts: string[] = [];
    const walk = (d: string): void => {
      for (const e of fs.readdirSync(d, { withFileTypes: true })) {
        const p = path.join(d, e.name);
        if (e.isDirectory()) walk(p);
        else if (FILES.test(p.split(path.sep).join('/'))) texts.push(p);
      }
    };
    walk(dir);
    if (!texts.some((p) => p.endsWith('k8s-resources'))) {
      return { gaps: [{ what: 'list networkpolicies, namespaces, pods, endpointslices, workloads (bug-report/cluster/k8s-resources)', reason: 'not-found', detail: 'the archive has no cluster resources (bug-report --skip-cluster-dump?)' }] };
    }
    const objects = texts.flatMap((p) => yamlDocuments(fs.readFileSync(p, 'utf8'), file));
    const of = (kind: string): KubeObject[] => objects.filter((o) => o.kind === kind);
    const covered = [...new Set(objects.map((o) => o.metadata?.namespace).filter((n): n is string => !!n))].sort();
    const policies = of('NetworkPolicy');
    const slices = of('EndpointSlice');
    const namespaces = of('Namespace');
    const gaps: DoctorClusterData['gaps'][number][] = [];
    if (policies.length === 0) gaps.push({ what: `list networkpolicies in ${podNamespace}`, reason: 'not-found', detail: 'the bug-report holds no NetworkPolicy: either none exist or istioctl (before 1.20) did not collect them' });
    return {
      ...(policies.length ? { networkPolicies: policies } : {}),
      ...(namespaces.length ? { namespaces: namespaces.map(trimNamespace) } : {}),
      pods: of('Pod').map(trimPod),
      podNamespaces: covered,
      ...(slices.length ? { endpointSlices: slices } : {}),
      workloads: objects.filter((o) => WORKLOADS.has(o.kind ?? '')).map(trimWorkload),
      gaps,
    };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
