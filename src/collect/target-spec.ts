/**
 * TARGET as kubectl users write it. Kept free of heavy imports: the command table parses it.
 */
import { UsageError } from '../model/errors.js';

export type TargetSpec =
  | { readonly kind: 'pod'; readonly name: string }
  | { readonly kind: 'workload'; readonly resource: string; readonly name: string }
  | { readonly kind: 'selector'; readonly selector: string };

const WORKLOADS: Readonly<Record<string, string>> = {
  deploy: 'deployments',
  deployment: 'deployments',
  deployments: 'deployments',
  sts: 'statefulsets',
  statefulset: 'statefulsets',
  statefulsets: 'statefulsets',
  ds: 'daemonsets',
  daemonset: 'daemonsets',
  daemonsets: 'daemonsets',
  rs: 'replicasets',
  replicaset: 'replicasets',
  replicasets: 'replicasets',
};

/** POD, pod/NAME, deploy/NAME (also sts, ds, rs), or a label selector. */
export function parseTarget(target: string | undefined, selector: string | undefined): TargetSpec {
  if (selector !== undefined) {
    if (target !== undefined) throw new UsageError(`give either TARGET (${target}) or -l SELECTOR, not both`);
    if (selector.trim() === '') throw new UsageError('the -l selector is empty');
    return { kind: 'selector', selector };
  }
  if (target === undefined || target === '') throw new UsageError('missing TARGET: a pod name, pod/NAME, deploy/NAME or -l SELECTOR');
  const slash = target.indexOf('/');
  if (slash < 0) return { kind: 'pod', name: target };
  const kind = target.slice(0, slash).toLowerCase();
  const name = target.slice(slash + 1);
  if (!name) throw new UsageError(`missing name in TARGET "${target}"`);
  if (kind === 'pod' || kind === 'pods' || kind === 'po') return { kind: 'pod', name };
  const resource = WORKLOADS[kind];
  if (!resource) throw new UsageError(`unsupported TARGET kind "${kind}": use pod/NAME, deploy/NAME, sts/NAME, ds/NAME, rs/NAME or -l SELECTOR`);
  return { kind: 'workload', resource, name };
}

