/**
 * Nothing the tool prints or stores may carry secrets (DESIGN.md §6). Objects written to a
 * snapshot lose what commonly holds them: the last-applied-configuration annotation (a copy of
 * the whole manifest), managedFields, and the values of application containers' environment
 * variables (names are kept; Istio's own containers keep their values, which the diagnosis reads
 * and which hold no credentials). Secrets themselves are never read.
 */
import type { KubeObject } from './cluster-view.js';

export const REDACTED = '<redacted by kubectl-mesh_egress>';

const ISTIO_CONTAINERS = new Set(['istio-proxy', 'istio-init', 'istio-validation']);

interface ContainerLike {
  name?: string;
  env?: { name?: string; value?: string; valueFrom?: unknown }[];
}

function scrubContainers(list: ContainerLike[] | undefined): ContainerLike[] | undefined {
  return list?.map((c) =>
    ISTIO_CONTAINERS.has(c.name ?? '') || !c.env ? c : { ...c, env: c.env.map((e) => (e.value !== undefined ? { ...e, value: REDACTED } : e)) },
  );
}

export function scrubObject<T extends KubeObject>(o: T): T {
  const md = o.metadata ? { ...o.metadata } : undefined;
  if (md) {
    delete (md as { managedFields?: unknown }).managedFields;
    if (md.annotations && 'kubectl.kubernetes.io/last-applied-configuration' in md.annotations) {
      const { ['kubectl.kubernetes.io/last-applied-configuration']: _dropped, ...rest } = md.annotations;
      void _dropped;
      md.annotations = rest;
    }
  }
  let spec = o.spec;
  if (o.kind === 'Pod' && spec) {
    const s = spec as { containers?: ContainerLike[]; initContainers?: ContainerLike[]; ephemeralContainers?: ContainerLike[] };
    spec = { ...spec, containers: scrubContainers(s.containers), ...(s.initContainers ? { initContainers: scrubContainers(s.initContainers) } : {}), ...(s.ephemeralContainers ? { ephemeralContainers: scrubContainers(s.ephemeralContainers) } : {}) };
  }
  return { ...o, ...(md ? { metadata: md } : {}), ...(spec ? { spec } : {}) };
}
