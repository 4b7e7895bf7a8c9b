/**
 * Live trace: find the pod, read what the verdict needs from the cluster and from the proxy (in
 * parallel, read-only), trace, then look up the objects the verdict names.
 */
import { enrichTrace } from '../analyze/trace/cluster-context.js';
import { runTrace, traceWithoutSidecar } from '../analyze/trace/engine.js';
import { podFacts, type PodFacts } from '../analyze/trace/pod-settings.js';
import { buildRequest, type RequestFlags } from '../analyze/trace/request.js';
import type { CaptureOverrides, Trace, TraceRequest } from '../analyze/trace/types.js';
import { readClusterView, readServices, resolveTarget } from '../collect/cluster.js';
import type { TargetSpec } from '../collect/target-spec.js';
import { openProxyAdmin } from '../collect/envoy-admin.js';
import type { KubeFlags } from '../collect/kube-flags.js';
import { checkKubectlVersion, Kubectl, KubectlError, resolveContext } from '../collect/kubectl.js';
import { collectProxyConfig } from '../collect/proxy-config.js';
import { newFinding } from '../analyze/catalog.js';
import { sortFindings } from '../analyze/finding.js';
import type { ClusterView, CollectionGap, KubeObject, Pod } from '../model/cluster-view.js';
import type { ConfigDump } from '../model/config-dump.js';
import { UnavailableError } from '../model/errors.js';
import type { Io } from './io.js';

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

/** The pod's capture settings under the user's flags (flags win). */
export function withPodCapture(flags: RequestFlags, facts: PodFacts): RequestFlags {
  const user = flags.capture ?? {};
  const pod = facts.capture;
  const merged: CaptureOverrides = { ...pod, ...user, sources: { ...(pod.sources ?? {}), ...Object.fromEntries(Object.keys(user).filter((k) => k !== 'sources').map((k) => [k, 'flag'])) } };
  return {
    ...flags,
    capture: merged,
    ...(flags.podIp === undefined && facts.podIps[0] ? { podIp: facts.podIps[0] } : {}),
    ...(flags.uid === undefined && facts.appUid !== undefined ? { uid: facts.appUid } : {}),
  };
}

/** A hostname DEST that is a Kubernetes Service resolves, as kube-dns would answer, to its cluster IP. */
async function serviceAddress(k: Kubectl, host: string, podNamespace: string): Promise<string | undefined> {
  const labels = host.replace(/\.$/, '').split('.');
  let name: string;
  let ns: string;
  if (labels.length === 1) [name, ns] = [labels[0]!, podNamespace];
  else if (labels.length === 2 || (labels.length >= 3 && labels[2] === 'svc')) [name, ns] = [labels[0]!, labels[1]!];
  else return undefined;
  const r = await k.run(['get', 'service', name, '-n', ns, '-o', 'json', '--ignore-not-found'], { step: `looking up Service ${ns}/${name}` });
  if (r.exitCode !== 0 || r.stdout.trim() === '') return undefined;
  const ip = (JSON.parse(r.stdout) as KubeObject).spec?.clusterIP as string | undefined;
  return ip && ip !== 'None' ? ip : undefined;
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

export async function liveTrace(opts: LiveTraceOptions, io: Io): Promise<LiveCollection> {
  const k = new Kubectl(opts.kube, { env: io.env });
  const [, ctx] = await Promise.all([checkKubectlVersion(k), resolveContext(k)]);
  const { pod, note } = await resolveTarget(k, opts.target, ctx.namespace);
  const facts = podFacts(pod);
  const podName = `${facts.namespace}/${facts.name}`;
  if (facts.phase !== 'Running') {
    const reason = (pod.status?.containerStatuses ?? []).map((s) => s.state?.waiting?.reason).find(Boolean) ?? pod.status?.reason;
    throw new UnavailableError(`pod ${podName} is ${facts.phase}${reason ? ` (${reason})` : ''}: there is no running proxy to ask; wait for it, or pick another pod${opts.target.kind === 'pod' ? ' (deploy/NAME or -l picks a running one)' : ''}`);
  }
  const baseRequest = buildRequest(opts.dest, withPodCapture(opts.request, facts));
  if (facts.sidecar === 'none') {
    if (facts.ambient) {
      throw new UnavailableError(`pod ${podName} is in ambient mode (no sidecar; ztunnel and waypoints carry its traffic): trace emulates sidecars only for now`);
    }
    const nsRead = await k.run(['get', 'namespace', facts.namespace, '-o', 'json'], { step: `reading namespace ${facts.namespace}` });
    const nsObject = nsRead.exitCode === 0 ? (JSON.parse(nsRead.stdout) as KubeObject) : undefined;
    const trace = traceWithoutSidecar(baseRequest, podName, whyNoSidecar(pod, nsObject));
    return { trace: { ...trace, source: { kind: 'live', context: ctx.context, pod: podName } }, view: { context: ctx.context, pod, lists: {}, gaps: [] }, dump: undefined, stats: { kubectlCalls: k.stats.calls, proxyBytes: 0, rounds: 0, proxyRequests: [] } };
  }
  // a hostname that is a Service resolves to its cluster IP, as the application's DNS lookup would
  let request: TraceRequest = baseRequest;
  if (!request.address && opts.request.address === undefined) {
    const ip = await serviceAddress(k, request.host, facts.namespace);
    if (ip) request = buildRequest(opts.dest, { ...withPodCapture(opts.request, facts), address: ip });
  }
  const controlPlane = facts.controlPlaneNamespace ?? 'istio-system';
  const [view, proxy] = await Promise.all([
    readClusterView(k, ctx.context, pod, { controlPlaneNamespace: controlPlane, revision: facts.revision, lists: ['serviceEntries', 'sidecars', 'destinationRules', 'virtualServices'] }),
    (async () => {
      let opened;
      try {
        opened = await openProxyAdmin(k, { namespace: facts.namespace, name: facts.name, container: 'istio-proxy' }, opts.prefer ? { prefer: opts.prefer } : {});
      } catch (e) {
        if (e instanceof KubectlError) {
          throw new UnavailableError(`cannot reach the proxy of ${podName}: ${e.message}${facts.proxyReady === false ? ' (the istio-proxy container is not ready)' : ''}`);
        }
        throw e;
      }
      try {
        const collected = await collectProxyConfig(opened.admin, (dump) => {
          runTrace(dump, request);
        });
        return { ...collected, opened };
      } catch (e) {
        if (e instanceof KubectlError) throw new UnavailableError(`the proxy of ${podName} did not answer: ${e.message}`);
        throw e;
      } finally {
        await opened.admin.close();
      }
    })(),
  ]);
  let trace = runTrace(proxy.dump, request);
  const serviceRefs = trace.verdict.responsible.filter((r) => r.kind === 'Service' && r.name && r.namespace).map((r) => ({ namespace: r.namespace!, name: r.name! }));
  const gaps: CollectionGap[] = [...view.gaps];
  const services = serviceRefs.length ? await readServices(k, serviceRefs, gaps) : [];
  const fullView: ClusterView = { ...view, gaps };
  trace = enrichTrace(trace, { view: fullView, services, controlPlaneNamespace: controlPlane });
  const extra = [];
  if (facts.proxyReady === false || (proxy.opened.state && proxy.opened.state !== 'LIVE')) {
    extra.push(newFinding('ProxyNotReady', { pod: podName, state: `container ready: ${String(facts.proxyReady)}, Envoy state: ${proxy.opened.state ?? 'unknown'}` }));
  }
  const notes = [...(note ? [note] : []), ...facts.notes, ...(proxy.opened.execDenied ? [`exec was denied (${proxy.opened.execDenied}); used port-forward`] : [])];
  trace = {
    ...trace,
    findings: sortFindings([...trace.findings, ...extra]),
    source: { kind: 'live', context: ctx.context, pod: podName, container: facts.appContainer ?? 'istio-proxy', via: proxy.opened.admin.via, ...(notes.length ? { notes } : {}) },
  };
  return {
    trace,
    view: fullView,
    dump: proxy.dump,
    stats: { kubectlCalls: k.stats.calls, proxyBytes: proxy.opened.admin.bytes, rounds: proxy.rounds, proxyRequests: proxy.requests },
  };
}
