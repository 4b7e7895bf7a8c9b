/**
 * `multicluster`, live or from snapshots: read every cluster in parallel (one kubectl runner per
 * context, each resolving its context exactly as kubectl does), read the --from proxy, analyse, render.
 * A cluster that cannot be read becomes a row; only when none can be read is the run unavailable (69).
 */
import { reachesThreshold } from '../analyze/finding.js';
import { analyzeMulticluster, type MulticlusterInput } from '../analyze/multicluster/analyze.js';
import { podFacts } from '../analyze/trace/pod-settings.js';
import { resolveTarget } from '../collect/cluster.js';
import { checkKubectlVersion, Kubectl, resolveContext } from '../collect/kubectl.js';
import { readClusterFacts, readProxyFacts, readServiceFacts } from '../collect/multicluster.js';
import { UnavailableError } from '../model/errors.js';
import type { ClusterFacts, ProxyFacts, ServiceFacts } from '../model/multicluster.js';
import type { MulticlusterOptions } from './commands/multicluster.js';
import { EXIT } from './exit-codes.js';
import { useColor } from './io.js';
import type { CommandContext } from './main.js';
import type { Io } from './io.js';

export interface CollectedMulticluster {
  readonly clusters: ClusterFacts[];
  readonly services?: ServiceFacts[];
  readonly proxy?: ProxyFacts;
  readonly proxyError?: string;
}

async function readProxy(k: Kubectl, opts: MulticlusterOptions): Promise<{ proxy?: ProxyFacts; proxyError?: string }> {
  const from = opts.from!;
  try {
    const ns = from.namespace ?? (await resolveContext(k)).namespace;
    const { pod } = await resolveTarget(k, from.target, ns);
    const facts = podFacts(pod);
    if (facts.sidecar === 'none') return { proxyError: `pod ${facts.namespace}/${facts.name} has no istio-proxy sidecar: choose a pod in the mesh` };
    if (facts.phase !== 'Running') return { proxyError: `pod ${facts.namespace}/${facts.name} is ${facts.phase}: no running proxy to ask` };
    return { proxy: await readProxyFacts(k, from.context, { pod, since: opts.since, ...(opts.service ? { ref: opts.service } : {}), ...(opts.prefer ? { prefer: opts.prefer } : {}) }) };
  } catch (e) {
    if (e instanceof UnavailableError) return { proxyError: e.message };
    throw e;
  }
}

export async function collectLive(opts: MulticlusterOptions, io: Io): Promise<CollectedMulticluster> {
  if (opts.input.kind !== 'live') throw new Error('collectLive needs live input');
  const { contexts, kube } = opts.input;
  // one runner per context and purpose: each cancels its own calls, and none has more than ten
  // outstanding at once (its abort signal carries one listener per running kubectl)
  const runner = (context: string): Kubectl => new Kubectl({ ...kube, context }, { env: io.env });
  const runners = contexts.map(runner);
  const serviceRunners = opts.service ? contexts.map(runner) : [];
  const proxyRunner = opts.from ? runner(opts.from.context) : undefined;
  try {
    if (io.isTTY) io.stderr(`reading ${contexts.length} clusters (${contexts.join(', ')})…\n`);
    // everything independent at once: the version check, each cluster, SERVICE in each cluster, the --from proxy
    const [, perCluster, proxyRead] = await Promise.all([
      checkKubectlVersion(runners[0]!),
      Promise.all(
        runners.map(async (k, i) => {
          const context = contexts[i]!;
          const [facts, service] = await Promise.all([
            readClusterFacts(k, context, { controlPlaneNamespace: opts.controlPlaneNamespace, since: opts.since }),
            opts.service ? readServiceFacts(serviceRunners[i]!, context, opts.service) : Promise.resolve(undefined),
          ]);
          return { facts, service: service && !facts.readable ? { context, gaps: [{ what: `read service ${opts.service!.namespace}/${opts.service!.name}`, reason: 'error' as const, detail: 'cluster not readable' }] } : service };
        }),
      ),
      proxyRunner ? readProxy(proxyRunner, opts) : Promise.resolve(undefined),
    ]);
    return {
      clusters: perCluster.map((p) => p.facts),
      ...(opts.service ? { services: perCluster.map((p) => p.service!) } : {}),
      ...(proxyRead?.proxy ? { proxy: proxyRead.proxy } : {}),
      ...(proxyRead?.proxyError ? { proxyError: proxyRead.proxyError } : {}),
    };
  } finally {
    for (const k of [...runners, ...serviceRunners, ...(proxyRunner ? [proxyRunner] : [])]) k.dispose();
  }
}

export async function runMulticluster(opts: MulticlusterOptions, ctx: CommandContext): Promise<void> {
  let collected: CollectedMulticluster;
  let contexts: string[];
  if (opts.input.kind === 'live') {
    collected = await collectLive(opts, ctx.io);
    contexts = [...opts.input.contexts];
  } else {
    const { readMulticlusterSnapshots } = await import('./multicluster-snapshot.js');
    collected = await readMulticlusterSnapshots(opts.input.files, opts.service);
    contexts = collected.clusters.map((c) => c.context);
  }
  if (!collected.clusters.some((c) => c.readable)) {
    const why = collected.clusters.map((c) => `${c.context}: ${c.error ?? 'not readable'}`).join('; ');
    throw new UnavailableError(`no cluster could be read (${why}): check the contexts with kubectl config get-contexts and kubectl --context CTX get ns`);
  }
  const input: MulticlusterInput = {
    clusters: collected.clusters,
    ...(opts.service ? { service: opts.service } : {}),
    ...(collected.services ? { services: collected.services } : {}),
    ...(collected.proxy ? { proxy: collected.proxy } : {}),
    ...(collected.proxyError ? { proxyError: collected.proxyError } : {}),
    ...(opts.from ? { fromContext: opts.from.context } : {}),
  };
  const report = analyzeMulticluster(input);
  const doc = {
    report,
    contexts,
    source: opts.input.kind === 'live' ? { kind: 'live' as const } : { kind: 'snapshot' as const, files: opts.input.files },
    clusters: collected.clusters,
    ...(opts.service ? { service: opts.service } : {}),
    ...(collected.services ? { services: collected.services } : {}),
    ...(collected.proxy ? { proxy: collected.proxy } : {}),
  };
  if (opts.output === 'json' || opts.output === 'yaml') {
    const { multiclusterDto } = await import('../render/multicluster.js');
    ctx.io.stdout(await (await import('./output.js')).formatDocument(multiclusterDto(doc), opts.output));
  } else {
    const { renderMulticluster } = await import('../render/multicluster.js');
    ctx.io.stdout(renderMulticluster(doc, { color: useColor(ctx.io, opts.color), width: Math.min(110, ctx.io.columns ?? 100), wide: opts.output === 'wide' }));
  }
  ctx.setExit(reachesThreshold(report.findings, opts.failOn) ? EXIT.FINDINGS : EXIT.OK);
}
