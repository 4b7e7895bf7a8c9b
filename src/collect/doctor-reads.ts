/**
 * The Kubernetes objects doctor's checks read beyond a trace, read-only and in parallel, each
 * failure a recorded gap: the NetworkPolicies of the pod's namespace, every namespace's labels,
 * the pods (trimmed) of the namespaces the destination lives in plus the cluster DNS and istiod
 * pods, their EndpointSlices and the workloads that own them. A live run reads only the
 * namespaces it needs; a snapshot reads all of them (it does not know the destination yet).
 */
import type { CollectionGap, KubeObject } from '../model/cluster-view.js';
import { trimNamespace, trimPod, trimWorkload, type DoctorClusterData } from '../model/doctor.js';
import { optionalRead } from './cluster.js';
import type { Kubectl } from './kubectl.js';

interface List {
  readonly items?: KubeObject[];
}

const WORKLOAD_RESOURCES = 'deployments.apps,replicasets.apps,statefulsets.apps,daemonsets.apps';

export function readNetworkPolicies(k: Kubectl, namespace: string, gaps: CollectionGap[]): Promise<KubeObject[] | undefined> {
  return optionalRead(`list networkpolicies in ${namespace}`, async () => (await k.getJson<List>(['networkpolicies.networking.k8s.io', '-n', namespace], `listing NetworkPolicies in ${namespace}`)).items ?? [], gaps);
}

export async function readNamespaces(k: Kubectl, gaps: CollectionGap[]): Promise<KubeObject[] | undefined> {
  const items = await optionalRead('list namespaces', async () => (await k.getJson<List>(['namespaces'], 'listing namespaces')).items ?? [], gaps);
  return items?.map(trimNamespace);
}

export async function readServicesAll(k: Kubectl, gaps: CollectionGap[]): Promise<KubeObject[] | undefined> {
  return optionalRead('list services (all namespaces)', async () => (await k.getJson<List>(['services', '-A'], 'listing services')).items ?? [], gaps);
}

export interface DestinationReads {
  /** namespaces whose pods, EndpointSlices and workloads are read in full */
  readonly namespaces: readonly string[];
  /** an IP DEST: the pod that has it, wherever it is */
  readonly podIp?: string;
  /** where istiod runs (its pods: the sidecar's xDS peer) */
  readonly controlPlaneNamespace?: string;
}

/** Pods, EndpointSlices and workloads of the destination's namespaces, plus DNS and istiod pods. */
export async function readDestinationObjects(k: Kubectl, d: DestinationReads, gaps: CollectionGap[]): Promise<Pick<DoctorClusterData, 'pods' | 'podNamespaces' | 'endpointSlices' | 'workloads'>> {
  const list = (what: string, args: string[], step: string): Promise<KubeObject[] | undefined> => optionalRead(what, async () => (await k.getJson<List>(args, step)).items ?? [], gaps);
  const nss = [...new Set(d.namespaces)].sort();
  const [podLists, sliceLists, workloadLists, byIp, dns, istiod] = await Promise.all([
    Promise.all(nss.map((ns) => list(`list pods in ${ns}`, ['pods', '-n', ns], `listing pods in ${ns}`))),
    Promise.all(nss.map((ns) => list(`list endpointslices in ${ns}`, ['endpointslices.discovery.k8s.io', '-n', ns], `listing EndpointSlices in ${ns}`))),
    Promise.all(nss.map((ns) => list(`list workloads in ${ns}`, [WORKLOAD_RESOURCES, '-n', ns], `listing workloads in ${ns}`))),
    d.podIp ? list(`list pods with IP ${d.podIp}`, ['pods', '-A', '--field-selector', `status.podIP=${d.podIp}`], `looking up the pod with IP ${d.podIp}`) : Promise.resolve([]),
    nss.includes('kube-system') ? Promise.resolve([]) : list('list kube-dns pods', ['pods', '-n', 'kube-system', '-l', 'k8s-app=kube-dns'], 'listing the cluster DNS pods'),
    !d.controlPlaneNamespace || nss.includes(d.controlPlaneNamespace) ? Promise.resolve([]) : list(`list istiod pods in ${d.controlPlaneNamespace}`, ['pods', '-n', d.controlPlaneNamespace, '-l', 'app=istiod'], 'listing istiod pods'),
  ]);
  const covered = nss.filter((_, i) => podLists[i] !== undefined);
  const seen = new Set<string>();
  const pods: KubeObject[] = [];
  for (const p of [...podLists.flatMap((l) => l ?? []), ...(byIp ?? []), ...(dns ?? []), ...(istiod ?? [])]) {
    const id = `${p.metadata?.namespace}/${p.metadata?.name}`;
    if (seen.has(id)) continue;
    seen.add(id);
    pods.push(trimPod(p));
  }
  return {
    pods,
    podNamespaces: covered,
    endpointSlices: sliceLists.flatMap((l) => l ?? []),
    workloads: workloadLists.flatMap((l) => (l ?? []).map(trimWorkload)),
  };
}

/** Everything, for a snapshot (the destination is not known when it is taken). */
export async function readAllForSnapshot(k: Kubectl, podNamespace: string, gaps: CollectionGap[]): Promise<DoctorClusterData> {
  const list = (what: string, args: string[], step: string): Promise<KubeObject[] | undefined> => optionalRead(what, async () => (await k.getJson<List>(args, step)).items ?? [], gaps);
  const [networkPolicies, namespaces, pods, endpointSlices, workloads] = await Promise.all([
    readNetworkPolicies(k, podNamespace, gaps),
    readNamespaces(k, gaps),
    list('list pods (all namespaces)', ['pods', '-A'], 'listing pods'),
    list('list endpointslices (all namespaces)', ['endpointslices.discovery.k8s.io', '-A'], 'listing EndpointSlices'),
    list('list workloads (all namespaces)', [WORKLOAD_RESOURCES, '-A'], 'listing workloads'),
  ]);
  return {
    ...(networkPolicies ? { networkPolicies } : {}),
    ...(namespaces ? { namespaces } : {}),
    ...(pods ? { pods: pods.map(trimPod), podNamespaces: ['*'] } : {}),
    ...(endpointSlices ? { endpointSlices } : {}),
    ...(workloads ? { workloads: workloads.map(trimWorkload) } : {}),
    gaps,
  };
}
