/**
 * Reading the cluster around a pod, read-only, in parallel where independent: the target pod,
 * the mesh configuration, and Istio's ServiceEntries, Sidecars, DestinationRules and
 * VirtualServices. A read the user may not do (RBAC) or a resource the cluster does not have (CRDs)
 * becomes a recorded gap; the diagnosis goes on with what it has and says what is missing.
 */
import YAML from 'yaml';
import { LIST_RESOURCES, type ClusterView, type CollectionGap, type KubeObject, type ListName, type MeshConfigRef, type Pod } from '../model/cluster-view.js';
import { UnavailableError } from '../model/errors.js';
import type { TargetSpec } from './target-spec.js';
import { KubectlError, parseKubectlJson, type Kubectl } from './kubectl.js';

function forbiddenHint(e: KubectlError, verb: string, resource: string, ns?: string): string {
  return `RBAC denied ${verb} on ${resource}${ns ? ` in namespace ${ns}` : ''}: ${e.message.replace(/^[^:]*: /, '')}`;
}

/** Unavailable (exit 69) for failures that leave nothing to diagnose. */
function fatal(e: unknown, verb: string, resource: string, ns: string | undefined): never {
  if (e instanceof KubectlError) {
    if (e.kind === 'forbidden') throw new UnavailableError(`${forbiddenHint(e, verb, resource, ns)}; ask your cluster admin for "${verb}" on ${resource}`);
    if (e.kind === 'unreachable' || e.kind === 'timeout') throw new UnavailableError(`cannot reach the cluster: ${e.message}`);
    if (e.kind === 'unauthorized') throw new UnavailableError(`the cluster rejected the credentials: ${e.message}; log in again (kubectl auth whoami)`);
    throw new UnavailableError(e.message);
  }
  throw e;
}

interface PodList {
  readonly items?: Pod[];
}

function podReadiness(p: Pod): number {
  const running = p.status?.phase === 'Running' ? 2 : 0;
  const ready = (p.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True') ? 1 : 0;
  return running + ready;
}

export interface ResolvedTarget {
  readonly pod: Pod;
  /** how the pod was chosen, when TARGET named more than one */
  readonly note?: string;
}

export interface ResolvedPods {
  /** running and ready first, then by namespace and name */
  readonly pods: readonly Pod[];
  /** "deployments/api", "selector app=x", "pod x" */
  readonly what: string;
}

/**
 * Every pod TARGET names: the pod itself, a workload's pods (by its matchLabels selector), or a
 * label selector's pods. `allNamespaces` (kubectl -A) only applies to a selector.
 */
export async function resolvePods(k: Kubectl, target: TargetSpec, namespace: string, opts: { allNamespaces?: boolean } = {}): Promise<ResolvedPods> {
  if (target.kind === 'pod') {
    try {
      return { pods: [await k.getJson<Pod>(['pod', target.name, '-n', namespace], `reading pod ${namespace}/${target.name}`)], what: `pod ${target.name}` };
    } catch (e) {
      if (e instanceof KubectlError && e.kind === 'not-found') throw new UnavailableError(`pod ${target.name} not found in namespace ${namespace}: check the name, or pass -n NAMESPACE`);
      fatal(e, 'get', 'pods', namespace);
    }
  }
  let selector: string;
  let what: string;
  if (target.kind === 'workload') {
    let workload: KubeObject;
    try {
      workload = await k.getJson<KubeObject>([target.resource, target.name, '-n', namespace], `reading ${target.resource}/${target.name}`);
    } catch (e) {
      if (e instanceof KubectlError && e.kind === 'not-found') throw new UnavailableError(`${target.resource}/${target.name} not found in namespace ${namespace}: check the name, or pass -n NAMESPACE`);
      fatal(e, 'get', target.resource, namespace);
    }
    const match = (workload.spec?.selector as { matchLabels?: Record<string, string> } | undefined)?.matchLabels ?? {};
    selector = Object.entries(match)
      .map(([key, v]) => `${key}=${v}`)
      .join(',');
    if (!selector) throw new UnavailableError(`${target.resource}/${target.name} has no matchLabels selector: name a pod instead`);
    what = `${target.resource}/${target.name}`;
  } else {
    selector = target.selector;
    what = `selector ${selector}`;
  }
  const all = target.kind === 'selector' && opts.allNamespaces === true;
  let list: PodList;
  try {
    list = await k.getJson<PodList>(['pods', ...(all ? ['--all-namespaces'] : ['-n', namespace]), '-l', selector], `listing pods of ${what}`);
  } catch (e) {
    fatal(e, 'list', 'pods', all ? undefined : namespace);
  }
  const key = (p: Pod): string => `${p.metadata?.namespace ?? ''}/${p.metadata?.name ?? ''}`;
  const pods = [...(list.items ?? [])].sort((a, b) => podReadiness(b) - podReadiness(a) || key(a).localeCompare(key(b)));
  if (pods.length === 0) throw new UnavailableError(`no pod matches ${what} ${all ? 'in any namespace' : `in namespace ${namespace}`}`);
  return { pods, what };
}

/** Finds the pod to trace. For a workload or selector: a running, ready pod (the first by name). */
export async function resolveTarget(k: Kubectl, target: TargetSpec, namespace: string): Promise<ResolvedTarget> {
  const { pods, what } = await resolvePods(k, target, namespace);
  const pod = pods[0]!;
  return { pod, ...(pods.length > 1 ? { note: `${what} has ${pods.length} pods; tracing ${pod.metadata?.name} (running and ready first, then by name)` } : {}) };
}

/** A read whose failure is a gap, not an error. */
export async function optionalRead<T>(what: string, read: () => Promise<T>, gaps: CollectionGap[]): Promise<T | undefined> {
  try {
    return await read();
  } catch (e) {
    if (!(e instanceof KubectlError)) throw e;
    const reason = e.kind === 'forbidden' ? 'forbidden' : e.kind === 'not-found' ? 'not-found' : e.kind === 'no-resource-type' ? 'crd-missing' : e.kind === 'timeout' ? 'timeout' : 'error';
    if (e.kind === 'unreachable' || e.kind === 'unauthorized') throw new UnavailableError(`cannot read from the cluster: ${e.message}`);
    gaps.push({ what, reason, detail: e.message });
    return undefined;
  }
}

/** The mesh ConfigMap of the pod's revision: `istio` (default) or `istio-<rev>`. */
async function readMeshConfig(k: Kubectl, controlPlane: string, revision: string | undefined, gaps: CollectionGap[]): Promise<MeshConfigRef | undefined> {
  const names = revision && revision !== 'default' ? [`istio-${revision}`, 'istio'] : ['istio'];
  for (const name of names) {
    const local: CollectionGap[] = [];
    const cm = await optionalRead(`get configmap ${controlPlane}/${name}`, () => k.getJson<KubeObject>(['configmap', name, '-n', controlPlane], `reading the mesh config ${controlPlane}/${name}`), local);
    if (cm) {
      const text = cm.data?.mesh ?? '';
      let mesh: Record<string, unknown> = {};
      try {
        mesh = (YAML.parse(text) as Record<string, unknown> | null) ?? {};
      } catch (e) {
        gaps.push({ what: `parse the mesh config ${controlPlane}/${name}`, reason: 'error', detail: (e as Error).message.split('\n')[0] ?? 'invalid YAML' });
      }
      return { namespace: controlPlane, name, mesh };
    }
    if (local[0]?.reason !== 'not-found') {
      gaps.push(...local);
      return undefined;
    }
  }
  gaps.push({ what: `get configmap ${controlPlane}/${names[0]}`, reason: 'not-found', detail: `no mesh config ConfigMap ${names.join(' or ')} in namespace ${controlPlane}: is the control plane in another namespace?` });
  return undefined;
}

export interface ClusterReadOptions {
  readonly controlPlaneNamespace: string;
  readonly revision: string | undefined;
  readonly lists: readonly ListName[];
}

/** Mesh config and Istio lists, all in parallel. */
export async function readClusterView(k: Kubectl, context: string, pod: Pod, opts: ClusterReadOptions): Promise<ClusterView> {
  const gaps: CollectionGap[] = [];
  const lists: Partial<Record<ListName, KubeObject[]>> = {};
  const meshRead = readMeshConfig(k, opts.controlPlaneNamespace, opts.revision, gaps);
  await Promise.all(
    opts.lists.map(async (name) => {
      const r = LIST_RESOURCES[name];
      const items = await optionalRead(`list ${r.resource} (all namespaces)`, () => k.getJson<{ items?: KubeObject[] }>([r.resource, '-A'], `listing ${r.resource}`), gaps);
      if (items) lists[name] = items.items ?? [];
    }),
  );
  const meshConfig = await meshRead;
  gaps.sort((a, b) => a.what.localeCompare(b.what));
  return { context, pod, ...(meshConfig ? { meshConfig } : {}), lists, gaps };
}

/** Named Services, one kubectl call per namespace (for attribution after the trace). */
export async function readServices(k: Kubectl, refs: readonly { namespace: string; name: string }[], gaps: CollectionGap[]): Promise<KubeObject[]> {
  const byNs = new Map<string, Set<string>>();
  for (const r of refs) {
    const set = byNs.get(r.namespace) ?? new Set<string>();
    set.add(r.name);
    byNs.set(r.namespace, set);
  }
  const out: KubeObject[] = [];
  await Promise.all(
    [...byNs].map(async ([ns, names]) => {
      const list = [...names].sort();
      // --ignore-not-found: one missing name prints nothing at all (not even an empty List)
      const got = await optionalRead(
        `get services ${list.join(',')} in ${ns}`,
        async () => {
          const step = `reading services in ${ns}`;
          const text = await k.ok(['get', 'services', ...list, '-n', ns, '--ignore-not-found', '-o', 'json'], step);
          return text.trim() === '' ? { items: [] } : parseKubectlJson<KubeObject & { items?: KubeObject[] }>(text, step);
        },
        gaps,
      );
      if (!got) return;
      out.push(...(got.items ?? (got.kind === 'Service' ? [got] : [])));
    }),
  );
  return out.sort((a, b) => `${a.metadata?.namespace}/${a.metadata?.name}`.localeCompare(`${b.metadata?.namespace}/${b.metadata?.name}`));
}
