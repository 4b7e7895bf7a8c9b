/**
 * Live trace: find the pod, read what the verdict needs from the cluster and from the proxy (in
 * parallel, read-only), trace, then look up the objects the verdict names.
 */
import { runTrace, traceWithoutSidecar } from '../analyze/trace/engine.js';
import { serviceNameOf, traceWithView, viewRequest } from '../analyze/trace/from-view.js';
import { podFacts } from '../analyze/trace/pod-settings.js';
import { buildRequest, type RequestFlags } from '../analyze/trace/request.js';
import type { Trace } from '../analyze/trace/types.js';
import { readClusterView, readServices, resolveTarget } from '../collect/cluster.js';
import type { TargetSpec } from '../collect/target-spec.js';
import { openProxyAdmin } from '../collect/envoy-admin.js';
import type { KubeFlags } from '../collect/kube-flags.js';
import { checkKubectlVersion, Kubectl, KubectlError, parseKubectlJson, resolveContext } from '../collect/kubectl.js';
import { collectProxyConfig, listenersFor } from '../collect/proxy-config.js';
import type { ClusterView, CollectionGap, KubeObject, Pod } from '../model/cluster-view.js';
import type { ConfigDump } from '../model/config-dump.js';
import { UnavailableError } from '../model/errors.js';
import type { Io } from './io.js';
import { progressFor } from './progress.js';

export interface LiveTraceOptions {
  readonly target: TargetSpec;
  readonly kube: KubeFlags;
  readonly dest: string;
  readonly request: RequestFlags;
  readonly prefer?: 'exec' | 'port-forward';
}

export interface LiveCollection {
  readonly trace: Trace;
  readonly view: ClusterView;
  readonly dump: ConfigDump | undefined;
  readonly stats: { readonly kubectlCalls: number; readonly proxyBytes: number; readonly rounds: number; readonly proxyRequests: readonly string[] };
}

/** One Service by name, for a hostname DEST (kube-dns would answer its cluster IP). */
async function lookupService(k: Kubectl, host: string, podNamespace: string): Promise<KubeObject[]> {
  const ref = serviceNameOf(host, podNamespace);
  if (!ref) return [];
  const r = await k.run(['get', 'service', ref.name, '-n', ref.namespace, '-o', 'json', '--ignore-not-found'], { step: `looking up Service ${ref.namespace}/${ref.name}` });
  if (r.exitCode !== 0 || r.stdout.trim() === '') return [];
  return [parseKubectlJson<KubeObject>(r.stdout, `looking up Service ${ref.namespace}/${ref.name}`)];
}

function whyNoSidecar(pod: Pod, nsObject: KubeObject | undefined): string {
  const labels = pod.metadata?.labels ?? {};
  const ann = pod.metadata?.annotations ?? {};
  if (labels['sidecar.istio.io/inject'] === 'false' || ann['sidecar.istio.io/inject'] === 'false') return 'Injection is disabled for this pod (sidecar.istio.io/inject: "false").';
  const nsLabels = nsObject?.metadata?.labels ?? {};
  if (nsLabels['istio-injection'] === 'enabled' || nsLabels['istio.io/rev']) {
    return `Namespace ${pod.metadata?.namespace} is labelled for injection: the pod was probably created before the label or the injector was down; restart it (kubectl rollout restart).`;
  }
  if (nsObject) return `Namespace ${pod.metadata?.namespace} is not labelled for injection (istio-injection=enabled or istio.io/rev=<revision>).`;
  return 'Label its namespace for injection (istio-injection=enabled or istio.io/rev=<revision>) and restart the pod if it should be in the mesh.';
}

/** What to do when the proxy's admin API does not answer, from kubectl's or pilot-agent's words. */
function proxyHint(e: KubectlError, ns: string, name: string): string {
  const logs = `kubectl logs -n ${ns} ${name} -c istio-proxy`;
  if (/connection refused/.test(e.stderr)) return `Envoy is not listening on its admin port 15000 (starting, crashed or restarting): see ${logs}`;
  if (/executable file not found|not found in \$PATH/.test(e.stderr)) return 'the istio-proxy container has no pilot-agent (not an Istio proxy image?): retry with --port-forward';
  if (/container not found|is not running|ContainerCreating|PodInitializing/.test(e.stderr)) return `the istio-proxy container is not running: see kubectl describe pod -n ${ns} ${name}`;
  if (e.kind === 'timeout') return 'raise --request-timeout or check the node and the kubelet';
  return `see ${logs}`;
}

export async function liveTrace(opts: LiveTraceOptions, io: Io): Promise<LiveCollection> {
  const progress = progressFor(io);
  const k = new Kubectl(opts.kube, { env: io.env, onCall: (_args, step) => progress.step(step) });
  try {
    return await collectAndTrace(k, opts);
  } finally {
    progress.done();
    k.dispose();
  }
}

async function collectAndTrace(k: Kubectl, opts: LiveTraceOptions): Promise<LiveCollection> {
  const [, ctx] = await Promise.all([checkKubectlVersion(k), resolveContext(k)]);
  const { pod, note } = await resolveTarget(k, opts.target, ctx.namespace);
  const facts = podFacts(pod);
  const podName = `${facts.namespace}/${facts.name}`;
  if (facts.phase !== 'Running') {
    const reason = (pod.status?.containerStatuses ?? []).map((s) => s.state?.waiting?.reason).find(Boolean) ?? pod.status?.reason;
    throw new UnavailableError(`pod ${podName} is ${facts.phase}${reason ? ` (${reason})` : ''}: there is no running proxy to ask; wait for it, or pick another pod${opts.target.kind === 'pod' ? ' (deploy/NAME or -l picks a running one)' : ''}`);
  }
  if (facts.sidecar === 'none') {
    if (facts.ambient) {
      throw new UnavailableError(`pod ${podName} is in ambient mode (no sidecar; ztunnel and waypoints carry its traffic): trace emulates sidecars only for now`);
    }
    const nsRead = await k.run(['get', 'namespace', facts.namespace, '-o', 'json'], { step: `reading namespace ${facts.namespace}` });
    const nsObject = nsRead.exitCode === 0 ? parseKubectlJson<KubeObject>(nsRead.stdout, `reading namespace ${facts.namespace}`) : undefined;
    const trace = traceWithoutSidecar(viewRequest({ view: { pod, lists: {}, gaps: [] }, dest: opts.dest, flags: opts.request, services: [] }), podName, whyNoSidecar(pod, nsObject));
    return { trace: { ...trace, source: { kind: 'live', context: ctx.context, pod: podName } }, view: { context: ctx.context, pod, lists: {}, gaps: [] }, dump: undefined, stats: { kubectlCalls: k.stats.calls, proxyBytes: 0, rounds: 0, proxyRequests: [] } };
  }
  // a hostname that is a Service resolves to its cluster IP, as the application's DNS lookup would
  const looked = opts.request.address === undefined ? await lookupService(k, buildRequest(opts.dest, {}).host, facts.namespace) : [];
  const request = viewRequest({ view: { pod, lists: {}, gaps: [] }, dest: opts.dest, flags: opts.request, services: looked });
  const controlPlane = facts.controlPlaneNamespace ?? 'istio-system';
  const [view, proxy] = await Promise.all([
    readClusterView(k, ctx.context, pod, { controlPlaneNamespace: controlPlane, revision: facts.revision, lists: ['serviceEntries', 'sidecars', 'destinationRules', 'virtualServices'] }),
    (async () => {
      let opened;
      try {
        opened = await openProxyAdmin(k, { namespace: facts.namespace, name: facts.name, container: 'istio-proxy' }, opts.prefer ? { prefer: opts.prefer } : {});
      } catch (e) {
        if (e instanceof KubectlError) {
          throw new UnavailableError(`cannot reach the proxy of ${podName}: ${e.message}; ${proxyHint(e, facts.namespace, facts.name)}`);
        }
        throw e;
      }
      try {
        // the listeners that can take the connection: the capture listeners and those for the destination
        const capturePorts = [15001, 15006];
        const collected = await collectProxyConfig(
          opened.admin,
          (names) => listenersFor(names, request.address?.text, request.port, capturePorts),
          (dump) => {
            runTrace(dump, request);
          },
        );
        return { ...collected, opened };
      } catch (e) {
        if (e instanceof KubectlError) throw new UnavailableError(`the proxy of ${podName} did not answer: ${e.message}`);
        throw e;
      } finally {
        await opened.admin.close();
      }
    })(),
  ]);
  const notes = [...(note ? [note] : []), ...facts.notes, ...(proxy.opened.execDenied ? [`${proxy.opened.execDenied}: used port-forward`] : []), ...(proxy.whole ? [`the proxy${proxy.opened.envoyVersion ? ` (Envoy ${proxy.opened.envoyVersion})` : ''} predates targeted config_dump queries: its whole configuration was read`] : [])];
  const source = { kind: 'live' as const, context: ctx.context, pod: podName, container: facts.appContainer ?? 'istio-proxy', via: proxy.opened.admin.via, ...(notes.length ? { notes } : {}) };
  const gaps: CollectionGap[] = [...view.gaps];
  const withState: ClusterView = { ...view, ...(proxy.opened.state ? { proxyState: proxy.opened.state } : {}) };
  // trace, then fetch the Services the verdict names, then trace again with them (pure and cheap)
  const first = traceWithView({ dump: proxy.dump, view: withState, dest: opts.dest, flags: opts.request, services: looked, source });
  const serviceRefs = first.verdict.responsible.filter((r) => r.kind === 'Service' && r.name && r.namespace).map((r) => ({ namespace: r.namespace!, name: r.name! }));
  const named = serviceRefs.length ? await readServices(k, serviceRefs, gaps) : [];
  const fullView: ClusterView = { ...withState, gaps };
  const services = [...looked, ...named.filter((s) => !looked.some((l) => l.metadata?.uid === s.metadata?.uid && l.metadata?.uid !== undefined))];
  const trace = traceWithView({ dump: proxy.dump, view: fullView, dest: opts.dest, flags: opts.request, services, source });
  return {
    trace,
    view: fullView,
    dump: proxy.dump,
    stats: { kubectlCalls: k.stats.calls, proxyBytes: proxy.opened.admin.bytes, rounds: proxy.rounds, proxyRequests: proxy.requests },
  };
}
