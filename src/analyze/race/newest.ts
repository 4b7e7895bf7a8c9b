/**
 * For a workload, race-check looks at its newest pods: a start-up race shows on the pods of the
 * latest rollout, and old pods that started fine (or stuck ones of a revision being replaced)
 * say nothing about it. A Deployment's newest pods are those of its ReplicaSet with the highest
 * deployment.kubernetes.io/revision; without the ReplicaSets (RBAC), and for StatefulSets and
 * DaemonSets, the pods sharing the template hash (pod-template-hash / controller-revision-hash)
 * of the most recently created pod.
 */
import type { KubeObject, Pod } from '../../model/cluster-view.js';

export interface NewestPods {
  readonly pods: readonly Pod[];
  readonly note?: string;
}

function created(o: { metadata?: { creationTimestamp?: Date | string } }): number {
  const t = o.metadata?.creationTimestamp;
  return t === undefined ? 0 : new Date(t).getTime();
}

function controllerName(p: Pod, kind: string): string | undefined {
  return (p.metadata?.ownerReferences ?? []).find((r) => r.controller && r.kind === kind)?.name;
}

const HASH_LABELS = ['pod-template-hash', 'controller-revision-hash'];

function templateHash(p: Pod): string | undefined {
  const labels = p.metadata?.labels ?? {};
  for (const l of HASH_LABELS) if (labels[l]) return labels[l];
  return undefined;
}

export function newestPods(pods: readonly Pod[], workload: { resource: string; name: string }, replicaSets?: readonly KubeObject[]): NewestPods {
  if (workload.resource === 'deployments' && replicaSets) {
    const owned = replicaSets.filter((rs) => (rs.metadata?.ownerReferences ?? []).some((r) => r.controller && r.kind === 'Deployment' && r.name === workload.name));
    const revision = (rs: KubeObject): number => Number(rs.metadata?.annotations?.['deployment.kubernetes.io/revision'] ?? '0') || 0;
    const newest = [...owned].sort((a, b) => revision(b) - revision(a) || created(b) - created(a))[0];
    if (newest) {
      const name = newest.metadata?.name;
      const chosen = pods.filter((p) => controllerName(p, 'ReplicaSet') === name);
      if (chosen.length) {
        const others = pods.length - chosen.length;
        return { pods: chosen, note: `newest ReplicaSet ${name} (revision ${revision(newest)}): ${chosen.length} pod${chosen.length > 1 ? 's' : ''}${others ? `; ${others} pod${others > 1 ? 's' : ''} of older revisions left out` : ''}` };
      }
    }
  }
  const hashes = new Set(pods.map(templateHash).filter((h): h is string => h !== undefined));
  if (hashes.size <= 1) return { pods };
  const newestPod = [...pods].sort((a, b) => created(b) - created(a))[0]!;
  const hash = templateHash(newestPod);
  const chosen = pods.filter((p) => templateHash(p) === hash);
  const others = pods.length - chosen.length;
  return { pods: chosen, note: `newest revision ${hash} (the template hash of the most recently created pod): ${chosen.length} pod${chosen.length > 1 ? 's' : ''}; ${others} pod${others > 1 ? 's' : ''} of older revisions left out` };
}
