/**
 * `multicluster --context A --context B [--context C…] [SERVICE.NS[:PORT]] [--from POD]`: why
 * cross-cluster traffic stays local or fails TLS (seed 004). Offline: `--snapshot A.tgz --snapshot B.tgz`.
 *
 * Start-up cost: loaded for every command line (the command table needs its flags), so it imports only
 * what defining and validating the flags needs; collection, analysis and rendering load in the runner.
 */
import type { CommandModule } from 'yargs';
import type { FailOn } from '../../analyze/finding.js';
import { parseKubeDuration, type KubeFlags } from '../../collect/kube-flags.js';
import { parseTarget, type TargetSpec } from '../../collect/target-spec.js';
import { UsageError } from '../../model/errors.js';
import type { ServiceRef } from '../../model/multicluster.js';
import type { CommandContext } from '../main.js';

export interface MulticlusterOptions {
  readonly input: { readonly kind: 'live'; readonly contexts: readonly string[]; readonly kube: KubeFlags } | { readonly kind: 'snapshot'; readonly files: readonly string[] };
  readonly service?: ServiceRef;
  readonly from?: { readonly target: TargetSpec; readonly context: string; readonly namespace?: string };
  readonly controlPlaneNamespace: string;
  readonly since: string;
  readonly prefer?: 'port-forward';
  readonly output: 'table' | 'wide' | 'json' | 'yaml';
  readonly color: 'auto' | 'always' | 'never';
  readonly failOn: FailOn;
}

interface MulticlusterArgs {
  service?: string;
  context?: string[];
  kubeconfig?: string;
  as?: string;
  'as-group'?: string[];
  'request-timeout'?: string;
  namespace?: string;
  from?: string;
  'from-context'?: string;
  'istio-namespace'?: string;
  since?: string;
  'port-forward'?: boolean;
  snapshot?: string[];
  output: string;
  color: string;
  'fail-on': string;
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** NAME.NAMESPACE[:PORT], NAME.NAMESPACE.svc[.cluster.local][:PORT], or NAME[:PORT] with -n. */
export function parseServiceRef(s: string, namespace: string | undefined): ServiceRef {
  const m = /^([^:]+)(?::(\d+))?$/.exec(s.trim());
  if (!m) throw new UsageError(`SERVICE must be NAME.NAMESPACE[:PORT], got "${s}"`);
  const parts = m[1]!.toLowerCase().split('.');
  const svcAt = parts.indexOf('svc');
  const [name, ns] = svcAt >= 0 ? [parts[0], parts[1]] : parts.length === 2 ? [parts[0], parts[1]] : parts.length === 1 ? [parts[0], namespace] : [undefined, undefined];
  if (!name || !ns || !DNS_LABEL.test(name) || !DNS_LABEL.test(ns) || (svcAt >= 0 && svcAt !== 2)) {
    throw new UsageError(`SERVICE must be NAME.NAMESPACE[:PORT] (for example helloworld.sample:5000)${parts.length === 1 && !namespace ? ', or NAME with -n NAMESPACE' : ''}, got "${s}"`);
  }
  const port = m[2] !== undefined ? Number(m[2]) : undefined;
  if (port !== undefined && (port < 1 || port > 65535)) throw new UsageError(`SERVICE port must be 1-65535, got ${m[2]}`);
  return { name, namespace: ns, ...(port !== undefined ? { port } : {}) };
}

export function toMulticlusterOptions(a: MulticlusterArgs): MulticlusterOptions {
  const snapshots = a.snapshot ?? [];
  const contexts = (a.context ?? []).filter((c) => c !== '');
  let input: MulticlusterOptions['input'];
  if (snapshots.length > 0) {
    if (contexts.length) throw new UsageError('give either --context (live) or --snapshot (offline), not both');
    if (a.from !== undefined || a['from-context'] !== undefined) throw new UsageError('--from applies to live clusters; offline, the proxy is the pod of the first --snapshot');
    if (snapshots.length < 2) throw new UsageError(`multicluster compares clusters: give at least two --snapshot files (one per cluster), got ${snapshots.length}`);
    input = { kind: 'snapshot', files: snapshots };
  } else {
    if (contexts.length < 2) throw new UsageError(`multicluster compares clusters: give at least two --context flags (for example --context east --context west), got ${contexts.length}`);
    const dup = contexts.find((c, i) => contexts.indexOf(c) !== i);
    if (dup) throw new UsageError(`--context ${dup} is given twice`);
    if (a['request-timeout'] !== undefined) parseKubeDuration(a['request-timeout']);
    input = {
      kind: 'live',
      contexts,
      kube: {
        ...(a.kubeconfig !== undefined ? { kubeconfig: a.kubeconfig } : {}),
        ...(a.as !== undefined ? { as: a.as } : {}),
        ...(a['as-group'] !== undefined ? { asGroups: a['as-group'] } : {}),
        ...(a['request-timeout'] !== undefined ? { requestTimeout: a['request-timeout'] } : {}),
      },
    };
  }
  const since = a.since ?? '1h';
  let sinceMs: number;
  try {
    sinceMs = parseKubeDuration(since);
  } catch {
    throw new UsageError(`invalid --since "${since}": use a duration such as 30m or 2h`);
  }
  if (sinceMs <= 0 || /ms$/.test(since)) throw new UsageError(`invalid --since "${since}": use a duration such as 30m or 2h`);
  let from: MulticlusterOptions['from'];
  if (a.from !== undefined) {
    const fromContext = a['from-context'] ?? contexts[0]!;
    if (!contexts.includes(fromContext)) throw new UsageError(`--from-context ${fromContext} is not one of the --context flags (${contexts.join(', ')})`);
    from = { target: parseTarget(a.from, undefined), context: fromContext, ...(a.namespace !== undefined ? { namespace: a.namespace } : {}) };
  } else if (a['from-context'] !== undefined) throw new UsageError('--from-context needs --from POD');
  const ns = a['istio-namespace'] ?? 'istio-system';
  if (!DNS_LABEL.test(ns)) throw new UsageError(`--istio-namespace must be a namespace name, got "${ns}"`);
  return {
    input,
    ...(a.service !== undefined ? { service: parseServiceRef(a.service, a.namespace) } : {}),
    ...(from ? { from } : {}),
    controlPlaneNamespace: ns,
    since,
    ...(a['port-forward'] ? { prefer: 'port-forward' as const } : {}),
    output: a.output as MulticlusterOptions['output'],
    color: a.color as MulticlusterOptions['color'],
    failOn: a['fail-on'] as FailOn,
  };
}

export async function runMulticlusterCommand(opts: MulticlusterOptions, ctx: CommandContext): Promise<void> {
  const { runMulticluster } = await import('../multicluster.js');
  await runMulticluster(opts, ctx);
}

const GROUP = 'Cluster access (as kubectl):';

export function multiclusterCommand(ctx: CommandContext, run: (opts: MulticlusterOptions, ctx: CommandContext) => Promise<void> = runMulticlusterCommand): CommandModule<object, MulticlusterArgs> {
  return {
    command: 'multicluster [service]',
    describe: 'Why cross-cluster traffic stays local or fails TLS: trust, remote secrets, istiod, networks, endpoints across clusters',
    builder: (y) =>
      y
        .usage('Usage:\n  kubectl mesh-egress multicluster --context A --context B [--context C...] [SERVICE.NAMESPACE[:PORT]] [--from POD] [flags]\n  kubectl mesh-egress multicluster --snapshot A.tar.gz --snapshot B.tar.gz [SERVICE.NAMESPACE[:PORT]]')
        .positional('service', { type: 'string', describe: 'The service whose endpoints to compare, NAME.NAMESPACE[:PORT]' })
        .option('context', { type: 'string', array: true, requiresArg: true, describe: 'A kubeconfig context, one per cluster (repeat)', group: GROUP })
        .option('kubeconfig', { type: 'string', describe: 'kubeconfig file (default: KUBECONFIG, then ~/.kube/config)', group: GROUP })
        .option('as', { type: 'string', describe: 'Impersonate this user', group: GROUP })
        .option('as-group', { type: 'string', array: true, describe: 'Impersonate this group (repeatable)', group: GROUP })
        .option('request-timeout', { type: 'string', describe: 'Bound for each cluster\'s reads (30s, 2m); 0 = none', group: GROUP })
        .option('namespace', { alias: 'n', type: 'string', describe: 'Namespace of --from (and of SERVICE given as NAME)', group: GROUP })
        .option('port-forward', { type: 'boolean', describe: 'Reach the proxy admin API by port-forward instead of exec', group: GROUP })
        .option('from', { type: 'string', requiresArg: true, describe: 'A pod whose proxy to look through: POD, pod/NAME, deploy/NAME' })
        .option('from-context', { type: 'string', requiresArg: true, describe: 'The context of --from (default: the first --context)' })
        .option('istio-namespace', { type: 'string', requiresArg: true, describe: 'The control plane\'s namespace in every cluster (default istio-system)' })
        .option('since', { type: 'string', requiresArg: true, describe: 'How far back to read istiod and istio-proxy logs (default 1h)' })
        .option('snapshot', { type: 'string', array: true, requiresArg: true, describe: 'Offline: one archive written by kubectl mesh-egress snapshot per cluster (repeat)', group: 'Offline input:' })
        .example('kubectl mesh-egress multicluster --context east --context west', 'trust, remote secrets, istiod and networks of two clusters')
        .example('kubectl mesh-egress multicluster --context east --context west helloworld.sample --from deploy/curl -n sample', 'and which cluster\'s endpoints the curl proxy is missing')
        .example('kubectl mesh-egress multicluster --snapshot east.tar.gz --snapshot west.tar.gz', 'offline, from snapshots') as never,
    handler: async (argv) => {
      await run(toMulticlusterOptions(argv), ctx);
    },
  };
}
