/**
 * kubectl's own flags, named and spelled as kubectl spells them, for every verb that talks to a
 * cluster (DESIGN.md §2). They are passed through to kubectl unchanged.
 */
import type { Argv } from 'yargs';
import { parseKubeDuration, type KubeFlags } from '../collect/kube-flags.js';

export interface KubeArgs {
  namespace?: string;
  context?: string;
  kubeconfig?: string;
  cluster?: string;
  user?: string;
  as?: string;
  'as-group'?: string[];
  'request-timeout'?: string;
  selector?: string;
}

const GROUP = 'Cluster access (as kubectl):';

export function kubeOptions<T>(y: Argv<T>) {
  return y
    .option('namespace', { alias: 'n', type: 'string', describe: 'Namespace of the target (default: the context\'s)', group: GROUP })
    .option('selector', { alias: 'l', type: 'string', describe: 'Label selector choosing the pod (instead of TARGET)', group: GROUP })
    .option('context', { type: 'string', describe: 'kubeconfig context', group: GROUP })
    .option('kubeconfig', { type: 'string', describe: 'kubeconfig file (default: KUBECONFIG, then ~/.kube/config)', group: GROUP })
    .option('cluster', { type: 'string', describe: 'kubeconfig cluster', group: GROUP })
    .option('user', { type: 'string', describe: 'kubeconfig user', group: GROUP })
    .option('as', { type: 'string', describe: 'Impersonate this user', group: GROUP })
    .option('as-group', { type: 'string', array: true, describe: 'Impersonate this group (repeatable)', group: GROUP })
    .option('request-timeout', { type: 'string', describe: 'Bound for the whole run (30s, 2m); 0 = none', group: GROUP });
}

export function toKubeFlags(a: KubeArgs): KubeFlags {
  if (a['request-timeout'] !== undefined) parseKubeDuration(a['request-timeout']);
  return {
    ...(a.namespace !== undefined ? { namespace: a.namespace } : {}),
    ...(a.context !== undefined ? { context: a.context } : {}),
    ...(a.kubeconfig !== undefined ? { kubeconfig: a.kubeconfig } : {}),
    ...(a.cluster !== undefined ? { cluster: a.cluster } : {}),
    ...(a.user !== undefined ? { user: a.user } : {}),
    ...(a.as !== undefined ? { as: a.as } : {}),
    ...(a['as-group'] !== undefined ? { asGroups: a['as-group'] } : {}),
    ...(a['request-timeout'] !== undefined ? { requestTimeout: a['request-timeout'] } : {}),
  };
}
