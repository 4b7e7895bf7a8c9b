/**
 * Live `whyblackhole`: read the pod, the cluster around it, the istio-proxy log (`kubectl logs
 * --since`) and the proxy's stats (`pilot-agent request GET stats/prometheus`: the admin API on
 * 15000, which includes Istio's standard metrics) in parallel, read-only; then fetch the proxy
 * configuration once for every destination the log names (and DEST), trace them all, and report.
 */
import { runTrace } from '../analyze/trace/engine.js';
import { viewRequest } from '../analyze/trace/from-view.js';
import { podFacts } from '../analyze/trace/pod-settings.js';
import type { RequestFlags } from '../analyze/trace/request.js';
import { groupByDestination } from '../analyze/whyblackhole/evidence.js';
import { analyzeWhyBlackhole, makeTracer, planFor, type EvidenceText, type PlannedTrace, type WhyBlackholeReport } from '../analyze/whyblackhole/report.js';
import { readClusterView, resolveTarget } from '../collect/cluster.js';
import { openProxyAdmin, type OpenedAdmin } from '../collect/envoy-admin.js';
import type { KubeFlags } from '../collect/kube-flags.js';
import { checkKubectlVersion, Kubectl, KubectlError, parseKubectlJson, resolveContext } from '../collect/kubectl.js';
import { collectProxyConfig, listenersFor } from '../collect/proxy-config.js';
import type { TargetSpec } from '../collect/target-spec.js';
import { parseAccessLog } from '../model/access-log.js';
import type { ClusterView, KubeObject } from '../model/cluster-view.js';
import { UnavailableError } from '../model/errors.js';
import type { Io } from './io.js';

export interface WhyBlackholeLiveOptions {
  readonly target: TargetSpec;
  readonly kube: KubeFlags;
  readonly since: string;
  readonly dest: string | undefined;
  readonly request: RequestFlags;
  readonly prefer?: 'exec' | 'port-forward';
}

function oneLine(s: string): string {
  return s.trim().split('\n')[0] ?? s.trim();
}

async function readLogs(k: Kubectl, ns: string, name: string, since: string): Promise<EvidenceText> {
  const what = `the istio-proxy log of the last ${since}`;
  try {
    const text = await k.ok(['logs', '-n', ns, name, '-c', 'istio-proxy', `--since=${since}`], `reading istio-proxy logs of ${ns}/${name}`);
    return { text, what };
  } catch (e) {
    if (!(e instanceof KubectlError)) throw e;
    if (e.kind === 'forbidden') return { what, error: { reason: `RBAC: ${oneLine(e.message)}`, remedy: `Ask for "get" on pods/log in namespace ${ns}.` } };
    return { what, error: { reason: oneLine(e.message), remedy: `Check kubectl logs -n ${ns} ${name} -c istio-proxy.` } };
  }
}

async function readTelemetries(k: Kubectl): Promise<KubeObject[] | undefined> {
  const r = await k.run(['get', 'telemetries.telemetry.istio.io', '-A', '-o', 'json'], { step: 'listing Telemetry resources' });
  if (r.exitCode !== 0) return undefined;
  try {
    return parseKubectlJson<{ items?: KubeObject[] }>(r.stdout, 'listing Telemetry resources').items ?? [];
  } catch {
    return undefined;
  }
}

export async function whyBlackholeLive(opts: WhyBlackholeLiveOptions, io: Io): Promise<WhyBlackholeReport> {
  const k = new Kubectl(opts.kube, { env: io.env });
  try {
    return await collectAndAnalyze(k, opts);
  } finally {
    k.dispose();
  }
}

async function collectAndAnalyze(k: Kubectl, opts: WhyBlackholeLiveOptions): Promise<WhyBlackholeReport> {
  const [, ctx] = await Promise.all([checkKubectlVersion(k), resolveContext(k)]);
  const { pod, note } = await resolveTarget(k, opts.target, ctx.namespace);
  const facts = podFacts(pod);
  const podName = `${facts.namespace}/${facts.name}`;
  if (facts.phase !== 'Running') {
    throw new UnavailableError(`pod ${podName} is ${facts.phase}: there is no running proxy to ask; wait for it, or pick another pod${opts.target.kind === 'pod' ? ' (deploy/NAME or -l picks a running one)' : ''}`);
  }
  if (facts.sidecar === 'none') {
    throw new UnavailableError(`pod ${podName} has no istio-proxy sidecar${facts.ambient ? ' (ambient mode: ztunnel carries its traffic)' : ''}: no sidecar black-holes its connections, they go out directly; check the namespace's injection label`);
  }
  const controlPlane = facts.controlPlaneNamespace ?? 'istio-system';
  let opened: OpenedAdmin | undefined;
  try {
    const [view, telemetries, logs, admin] = await Promise.all([
      readClusterView(k, ctx.context, pod, { controlPlaneNamespace: controlPlane, revision: facts.revision, lists: ['services', 'serviceEntries', 'sidecars', 'destinationRules', 'virtualServices'] }),
      readTelemetries(k),
      readLogs(k, facts.namespace, facts.name, opts.since),
      (async () => {
        try {
          opened = await openProxyAdmin(k, { namespace: facts.namespace, name: facts.name, container: 'istio-proxy' }, opts.prefer ? { prefer: opts.prefer } : {});
        } catch (e) {
          if (e instanceof KubectlError) throw new UnavailableError(`cannot reach the proxy of ${podName}: ${e.message}; see kubectl logs -n ${facts.namespace} ${facts.name} -c istio-proxy`);
          throw e;
        }
        let stats: EvidenceText;
        const what = 'the proxy stats (stats/prometheus)';
        try {
          stats = { text: await opened.admin.get('stats/prometheus'), what };
        } catch (e) {
          if (!(e instanceof KubectlError)) throw e;
          stats = { what, error: { reason: oneLine(e.message), remedy: 'Retry, or read them with kubectl exec POD -c istio-proxy -- pilot-agent request GET stats/prometheus.' } };
        }
        return { opened, stats };
      })(),
    ]);
    const withState: ClusterView = { ...view, ...(admin.opened.state ? { proxyState: admin.opened.state } : {}) };
    const services = view.lists.services ?? [];
    // what to trace: every destination the log names, and DEST
    const groups = logs.text !== undefined ? groupByDestination(parseAccessLog(logs.text), new Set(facts.podIps)) : [];
    const plans: PlannedTrace[] = groups.map((g) => planFor(g, opts.request)).filter((p): p is PlannedTrace => p !== undefined);
    if (opts.dest !== undefined) plans.push({ dest: opts.dest, flags: opts.request });
    const requests = plans.map((p) => viewRequest({ view: withState, dest: p.dest, flags: p.flags, services }));
    const collected = await (async () => {
      try {
        return await collectProxyConfig(
          admin.opened.admin,
          (names) => [...new Set(requests.flatMap((r) => listenersFor(names, r.address?.text, r.port, [15001, 15006])).concat(requests.length ? [] : listenersFor(names, undefined, 15001, [15001, 15006])))],
          (dump) => {
            for (const r of requests) {
              try {
                runTrace(dump, r);
              } catch {
                // a destination whose trace fails here is reported by the analysis below
              }
            }
          },
        );
      } catch (e) {
        if (e instanceof KubectlError) throw new UnavailableError(`the proxy of ${podName} did not answer: ${e.message}`);
        throw e;
      }
    })();
    const notes = [...(note ? [note] : []), ...facts.notes, ...(admin.opened.execDenied ? [`${admin.opened.execDenied}: used port-forward`] : [])];
    const source = { kind: 'live' as const, context: ctx.context, pod: podName, via: admin.opened.admin.via, ...(notes.length ? { notes } : {}) };
    const input = {
      dump: collected.dump,
      view: withState,
      ...(telemetries ? { telemetries } : {}),
      accessLog: logs,
      stats: admin.stats,
      ...(opts.dest !== undefined ? { dest: opts.dest } : {}),
      flags: opts.request,
      source,
      services,
    };
    return analyzeWhyBlackhole(input, makeTracer(input));
  } finally {
    await opened?.admin.close();
  }
}
