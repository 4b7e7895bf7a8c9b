/**
 * doctor's orchestration: read (live, in parallel, read-only — except the opt-in probe pod) or
 * unpack a snapshot, trace with the same code as `trace`, run the checks, render.
 *
 * The probe pod must never outlive the command: it runs in parallel with the reads, and whatever
 * ends the run — its result, an error elsewhere, Ctrl-C or SIGTERM — waits for the pod's deletion
 * first (collect/probe.ts deletes it in every case).
 */
import { runDoctor } from '../analyze/doctor/run.js';
import { gatewayPortMapping, gatewayRequest, isGatewayPod } from '../analyze/doctor/gateway.js';
import { upstreamOf } from '../analyze/doctor/facts.js';
import type { DoctorInput, DoctorReport, GatewayPortMapping } from '../analyze/doctor/types.js';
import { reachesThreshold, type FailOn } from '../analyze/finding.js';
import { traceWithView, viewRequest } from '../analyze/trace/from-view.js';
import { podFacts } from '../analyze/trace/pod-settings.js';
import { buildRequest, type RequestFlags } from '../analyze/trace/request.js';
import { FAILING_VERDICTS, type Trace, type TraceRequest, type TraceSource } from '../analyze/trace/types.js';
import { readSnapshot } from '../collect/archives.js';
import { readBugReportCluster } from '../collect/doctor-bug-report.js';
import { loadConfigDump } from '../collect/dump-files.js';
import { runTrace } from '../analyze/trace/engine.js';
import { openPodArchive } from './pod-archive.js';
import { readClusterView, resolveTarget } from '../collect/cluster.js';
import { readDestinationObjects, readNamespaces, readNetworkPolicies, readServicesAll } from '../collect/doctor-reads.js';
import { checkKubectlVersion, Kubectl, resolveContext } from '../collect/kubectl.js';
import { probeImage, probePodName, ProbeInterrupted, runProbe } from '../collect/probe.js';
import type { ClusterView, CollectionGap, KubeObject, Pod } from '../model/cluster-view.js';
import { ConfigDump } from '../model/config-dump.js';
import { DOCTOR_FILES, type DoctorClusterData, type ProbeRun, type ProbeSpec } from '../model/doctor.js';
import { DataError, UnavailableError } from '../model/errors.js';
import type { DoctorOptions } from './commands/doctor.js';
import { EXIT } from './exit-codes.js';
import { useColor, type Io, type SignalName } from './io.js';
import { liveTrace } from './live.js';
import type { CommandContext } from './main.js';

/** 128 + the signal number, as shells report a process ended by it. */
const SIGNAL_EXIT: Readonly<Record<SignalName, number>> = { SIGINT: 130, SIGTERM: 143 };

/** Exit 79 for a failing verdict or a problem at/above --fail-on; never depends on -o. */
export function doctorExitCode(d: DoctorReport, failOn: FailOn): number {
  if (failOn === 'never') return EXIT.OK;
  const verdict = d.steps.find((s) => s.id === 'sidecar')?.data?.verdict as Trace['verdict'] | undefined;
  if (verdict?.code && FAILING_VERDICTS.has(verdict.code)) return EXIT.FINDINGS;
  return reachesThreshold(d.findings, failOn) ? EXIT.FINDINGS : EXIT.OK;
}

/** The connection the probe pod makes, from the request the sidecar is traced with. */
export function probeSpecOf(r: TraceRequest, pod: Pod, timeoutMs: number): ProbeSpec {
  const mode = r.protocol === 'tls' ? (r.raw.startsWith('https://') ? 'https' : 'tls') : r.protocol === 'http' || r.protocol === 'http2' ? 'http' : 'tcp';
  return {
    namespace: pod.metadata?.namespace ?? 'default',
    sourcePod: pod.metadata?.name ?? '',
    host: r.host,
    // the request is built without Service lookups: an address is DEST's own IP or --address
    // (a Service name resolves by DNS in the probe pod, as in the application)
    ...(r.address ? { address: r.address.text } : {}),
    port: r.port,
    mode,
    ...(r.sni && r.sni !== r.host ? { sni: r.sni } : {}),
    path: r.path,
    ...(r.hostHeader && mode !== 'tcp' && mode !== 'tls' ? { hostHeader: r.hostHeader } : {}),
    connectTimeoutMs: Math.min(10_000, Math.max(1000, Math.floor(timeoutMs / 3))),
    deadlineMs: timeoutMs,
  };
}

export async function doctorCommandRun(opts: DoctorOptions, ctx: CommandContext): Promise<void> {
  let report: DoctorReport;
  try {
    report = opts.input.kind === 'live' ? await liveDoctor(opts, ctx.io) : opts.input.kind === 'snapshot' ? await offlineDoctor(opts, opts.input.file) : opts.input.kind === 'bug-report' ? await bugReportDoctor(opts, opts.input.file, opts.input.pod) : await configDumpDoctor(opts, opts.input.files, ctx.io);
  } catch (e) {
    if (e instanceof Interrupted) {
      ctx.io.stderr(`${e.signal === 'SIGINT' ? 'interrupted' : 'terminated'}: ${e.detail}\n`);
      ctx.setExit(SIGNAL_EXIT[e.signal]);
      return;
    }
    throw e;
  }
  ctx.io.stdout(await formatDoctor(report, opts, ctx));
  ctx.setExit(doctorExitCode(report, opts.failOn));
}

async function formatDoctor(d: DoctorReport, opts: DoctorOptions, ctx: CommandContext): Promise<string> {
  if (opts.output === 'json' || opts.output === 'yaml') {
    const [{ doctorDto }, { formatDocument }] = await Promise.all([import('../render/doctor.js'), import('./output.js')]);
    return formatDocument(doctorDto(d), opts.output);
  }
  const { renderDoctor } = await import('../render/doctor.js');
  return renderDoctor(d, { color: useColor(ctx.io, opts.color), width: Math.min(110, ctx.io.columns ?? 100), wide: opts.output === 'wide' });
}

class Interrupted extends Error {
  constructor(
    readonly signal: SignalName,
    readonly detail: string,
  ) {
    super(detail);
  }
}

function rootNamespaceOf(view: ClusterView, controlPlane: string): string {
  return (view.meshConfig?.mesh.rootNamespace as string | undefined) ?? controlPlane;
}

/** DEST on a gateway's listener port, when TARGET is a gateway and DEST its Service port. */
function gatewayMapped(pod: Pod, services: readonly KubeObject[] | undefined, dest: string, flags: RequestFlags): { dest: string; flags: RequestFlags; mapping?: GatewayPortMapping } {
  if (!isGatewayPod(pod) || !services) return { dest, flags };
  const mapping = gatewayPortMapping(pod, services, buildRequest(dest, flags).port);
  return mapping ? { ...gatewayRequest(dest, flags, mapping), mapping } : { dest, flags };
}

// ---- live ---------------------------------------------------------------------------------------

async function liveDoctor(opts: DoctorOptions, io: Io): Promise<DoctorReport> {
  if (opts.input.kind !== 'live') throw new Error('liveDoctor: live input expected');
  const input = opts.input;
  const k = new Kubectl(input.kube, { env: io.env });
  const abort = new AbortController();
  let signal: SignalName | undefined;
  const aborted = new Promise<never>((_, reject) => abort.signal.addEventListener('abort', () => reject(new Error('aborted')), { once: true }));
  aborted.catch(() => undefined);
  // only a run that creates something has something to undo on Ctrl-C
  const unsubscribe = opts.probe.enabled && io.signals ? io.signals.subscribe((s) => {
    signal ??= s;
    abort.abort();
    k.dispose();
  }) : undefined;
  let probe: Promise<ProbeRun> | undefined;
  try {
    const [, kctx] = await Promise.race([Promise.all([checkKubectlVersion(k), resolveContext(k)]), aborted]);
    const { pod, note } = await Promise.race([resolveTarget(k, input.target, kctx.namespace), aborted]);
    const gateway = isGatewayPod(pod);
    if (opts.probe.enabled && !gateway) {
      const request = viewRequest({ view: { pod, lists: {}, gaps: [] }, dest: opts.dest, flags: opts.request, services: [] });
      const spec = probeSpecOf(request, pod, opts.probe.timeoutMs);
      const image = probeImage(pod, opts.probe.image);
      const cleanup = new Kubectl({ ...input.kube, requestTimeout: undefined }, { env: io.env });
      const probeK = new Kubectl(input.kube, { env: io.env });
      probe = runProbe({ name: probePodName(), spec, sourcePod: pod, image: image.image, imageWhy: image.why, sameNode: opts.probe.sameNode, destination: opts.dest }, { k: probeK, cleanup, abort: abort.signal }).finally(() => {
        probeK.dispose();
        cleanup.dispose();
      });
      probe.catch(() => undefined);
    }
    const body = collectLive(opts, io, k, kctx.context, pod, note, probe, gateway);
    body.catch(() => undefined);
    return await Promise.race([body, aborted]);
  } catch (e) {
    if (!abort.signal.aborted) {
      // an error elsewhere: stop the probe and let it delete its pod before reporting the error
      abort.abort();
      await probe?.catch(() => undefined);
      throw e;
    }
    const result = await probe?.then(
      () => undefined,
      (x: unknown) => x,
    );
    const detail = result instanceof ProbeInterrupted ? result.message : probe ? 'the probe pod was deleted' : 'nothing was changed';
    throw new Interrupted(signal ?? 'SIGINT', detail);
  } finally {
    unsubscribe?.();
    k.dispose();
  }
}

async function collectLive(opts: DoctorOptions, io: Io, k: Kubectl, context: string, pod: Pod, note: string | undefined, probe: Promise<ProbeRun> | undefined, gateway: boolean): Promise<DoctorReport> {
  if (opts.input.kind !== 'live') throw new Error('collectLive: live input expected');
  const live = opts.input;
  const facts = podFacts(pod);
  const ns = facts.namespace;
  const controlPlane = facts.controlPlaneNamespace ?? 'istio-system';
  const gaps: CollectionGap[] = [];
  const servicesRead = readServicesAll(k, gaps);
  const policiesRead = readNetworkPolicies(k, ns, gaps);
  const namespacesRead = readNamespaces(k, gaps);
  const logRead = facts.sidecar !== 'none' ? k.run(['logs', '-n', ns, facts.name, '-c', 'istio-proxy', `--tail=${opts.logLines}`], { step: `reading the istio-proxy log of ${ns}/${facts.name}` }) : undefined;
  const services = await servicesRead;
  const mapped = gateway ? gatewayMapped(pod, services, opts.dest, opts.request) : { dest: opts.dest, flags: opts.request };
  let trace: Trace | undefined;
  let traceSkipped: string | undefined;
  let view: ClusterView | undefined;
  let dump: ConfigDump | undefined;
  try {
    const c = await liveTrace({ target: { kind: 'pod', name: facts.name }, kube: { ...live.kube, namespace: ns }, dest: mapped.dest, request: mapped.flags, ...(live.prefer ? { prefer: live.prefer } : {}) }, io);
    trace = c.trace;
    dump = c.dump;
    view = c.view;
    if (note) trace = { ...trace, source: { ...trace.source!, notes: [note, ...(trace.source?.notes ?? [])] } as TraceSource };
  } catch (e) {
    if (!(e instanceof UnavailableError)) throw e;
    traceSkipped = e.message;
  }
  if (!view || (facts.sidecar !== 'none' && view.meshConfig === undefined && Object.keys(view.lists).length === 0)) {
    view = facts.sidecar === 'none' ? { context, pod, lists: {}, gaps: [] } : await readClusterView(k, context, pod, { controlPlaneNamespace: controlPlane, revision: facts.revision, lists: ['serviceEntries', 'sidecars', 'destinationRules', 'virtualServices'] });
  }
  view = { ...view, lists: { ...view.lists, ...(services ? { services } : {}) } };
  const request = trace?.request ?? viewRequest({ view, dest: mapped.dest, flags: mapped.flags, services: services ?? [] });
  const source: TraceSource = trace?.source ?? { kind: 'live', context, pod: `${ns}/${facts.name}`, ...(note ? { notes: [note] } : {}) };
  const rootNamespace = rootNamespaceOf(view, controlPlane);
  const pre: DoctorInput = { destination: opts.dest, request, view, trace, dump, cluster: { gaps: [] }, proxyLog: undefined, probe: { kind: 'not-requested' }, source, offline: false, rootNamespace };
  const up = upstreamOf(pre);
  const destNs = up.service?.metadata?.namespace ?? (up.kind === 'service' ? up.host.split('.')[1] : undefined);
  const podIp = up.kind !== 'service' && request.address ? request.address.text : undefined;
  const [networkPolicies, namespaces, objects] = await Promise.all([policiesRead, namespacesRead, readDestinationObjects(k, { namespaces: destNs ? [destNs] : [], ...(podIp ? { podIp } : {}), ...(facts.sidecar !== 'none' ? { controlPlaneNamespace: rootNamespace } : {}) }, gaps)]);
  const log = logRead ? await logRead : undefined;
  const cluster: DoctorClusterData = { ...(networkPolicies ? { networkPolicies } : {}), ...(namespaces ? { namespaces } : {}), ...objects, gaps };
  const probeRun: ProbeRun = probe ? await probe : { kind: 'not-requested' };
  return runDoctor({
    ...pre,
    cluster,
    proxyLog: log && log.exitCode === 0 ? log.stdout : undefined,
    ...(log && log.exitCode !== 0 ? { proxyLogMissing: `kubectl logs failed: ${log.stderr.trim().split('\n')[0] ?? ''}` } : facts.sidecar === 'none' ? { proxyLogMissing: 'the pod has no sidecar' } : {}),
    probe: probeRun,
    ...(traceSkipped ? { traceSkipped } : {}),
    ...(mapped.mapping ? { gateway: mapped.mapping } : {}),
  });
}

// ---- snapshot -----------------------------------------------------------------------------------

/** Gaps the doctor collector recorded: not the trace's business (it would explain them as its own). */
const DOCTOR_GAP = /^list (networkpolicies|namespaces|pods|endpointslices|workloads|kube-dns|istiod)/;

function readList(text: string | undefined, file: string, what: string): KubeObject[] | undefined {
  if (text === undefined) return undefined;
  try {
    return (JSON.parse(text) as { items?: KubeObject[] }).items ?? [];
  } catch (e) {
    throw new DataError(file, `${what} is not valid JSON: ${(e as Error).message}`);
  }
}

async function offlineDoctor(opts: DoctorOptions, file: string): Promise<DoctorReport> {
  const contents = await readSnapshot(file);
  try {
    const pod = contents.view.pod;
    if (!pod) throw new DataError(file, 'has no pod (cluster/pod.json): take the snapshot again');
    const facts = podFacts(pod);
    const services = contents.view.lists.services;
    const mapped = gatewayMapped(pod, services, opts.dest, opts.request);
    const traceView: ClusterView = { ...contents.view, gaps: contents.view.gaps.filter((g) => !DOCTOR_GAP.test(g.what)) };
    const source: TraceSource = { kind: 'snapshot', ...(contents.view.context ? { context: contents.view.context } : {}), pod: `${facts.namespace}/${facts.name}` };
    let trace: Trace | undefined;
    let traceSkipped: string | undefined;
    const dump = contents.docs.length ? new ConfigDump(contents.docs) : undefined;
    if (dump || facts.sidecar === 'none') trace = traceWithView({ dump, view: traceView, dest: mapped.dest, flags: mapped.flags, services: services ?? [], source });
    else {
      const failed = contents.manifest?.items.find((i) => i.name.startsWith('proxy') && !i.ok);
      traceSkipped = `the snapshot has no proxy configuration${failed?.error ? ` (collection failed: ${failed.error})` : ''}`;
    }
    const at = (f: string, what: string): KubeObject[] | undefined => readList(contents.readText(f), file, what);
    const pods = at(DOCTOR_FILES.pods, 'pods');
    const cluster: DoctorClusterData = {
      ...(at(DOCTOR_FILES.networkPolicies, 'NetworkPolicies') !== undefined ? { networkPolicies: at(DOCTOR_FILES.networkPolicies, 'NetworkPolicies')! } : {}),
      ...(at(DOCTOR_FILES.namespaces, 'namespaces') !== undefined ? { namespaces: at(DOCTOR_FILES.namespaces, 'namespaces')! } : {}),
      ...(pods ? { pods, podNamespaces: ['*'] } : {}),
      ...(at(DOCTOR_FILES.endpointSlices, 'EndpointSlices') !== undefined ? { endpointSlices: at(DOCTOR_FILES.endpointSlices, 'EndpointSlices')! } : {}),
      ...(at(DOCTOR_FILES.workloads, 'workloads') !== undefined ? { workloads: at(DOCTOR_FILES.workloads, 'workloads')! } : {}),
      gaps: contents.view.gaps.filter((g) => DOCTOR_GAP.test(g.what)),
    };
    const request = trace?.request ?? viewRequest({ view: contents.view, dest: mapped.dest, flags: mapped.flags, services: services ?? [] });
    return runDoctor({
      destination: opts.dest,
      request,
      view: contents.view,
      trace,
      ...(traceSkipped ? { traceSkipped } : {}),
      dump,
      cluster,
      proxyLog: contents.proxyLog,
      ...(contents.proxyLog === undefined ? { proxyLogMissing: facts.sidecar === 'none' ? 'the pod has no sidecar' : 'the snapshot has no istio-proxy log' } : {}),
      probe: { kind: 'not-requested' },
      source,
      offline: true,
      rootNamespace: rootNamespaceOf(contents.view, facts.controlPlaneNamespace ?? 'istio-system'),
      ...(mapped.mapping ? { gateway: mapped.mapping } : {}),
    });
  } finally {
    contents.dispose();
  }
}

/**
 * An istioctl bug-report: the proxy's configuration and log of the pod, and the cluster objects
 * istioctl collected (collect/doctor-bug-report.ts says which, since which istioctl).
 */
async function bugReportDoctor(opts: DoctorOptions, file: string, podRef: string): Promise<DoctorReport> {
  const archive = await openPodArchive({ kind: 'bug-report', file, pod: podRef });
  try {
    const { view, proxyLog } = archive.contents;
    const pod = view.pod;
    if (!pod) throw new DataError(file, `has proxy data for ${podRef} but not the pod itself (bug-report/cluster/k8s-resources): doctor needs the pod; use trace --bug-report for the proxy alone`);
    const facts = podFacts(pod);
    const services = view.lists.services;
    const mapped = gatewayMapped(pod, services, opts.dest, opts.request);
    const trace = traceWithView({ dump: archive.dump, view, dest: mapped.dest, flags: mapped.flags, services: services ?? [], source: archive.source });
    const cluster = await readBugReportCluster(file, facts.namespace);
    return runDoctor({
      destination: opts.dest,
      request: trace.request,
      view,
      trace,
      dump: archive.dump,
      cluster,
      proxyLog,
      ...(proxyLog === undefined ? { proxyLogMissing: facts.sidecar === 'none' ? 'the pod has no sidecar' : `the bug-report has no istio-proxy log for ${podRef}` } : {}),
      probe: { kind: 'not-requested' },
      source: archive.source,
      offline: true,
      rootNamespace: rootNamespaceOf(view, facts.controlPlaneNamespace ?? 'istio-system'),
      ...(mapped.mapping ? { gateway: mapped.mapping } : {}),
    });
  } finally {
    archive.dispose();
  }
}

/**
 * A raw /config_dump: the proxy is all there is. Steps 2 (trace), 4 and 7 (from the proxy's own
 * listeners and clusters) and 8 (its endpoints) run; what needs Kubernetes objects, the log or the
 * cluster's network says so.
 */
async function configDumpDoctor(opts: DoctorOptions, files: readonly string[], io: Io): Promise<DoctorReport> {
  const dump = loadConfigDump(files, io.stdin);
  const request = buildRequest(opts.dest, opts.request);
  const source: TraceSource = { kind: 'config-dump' };
  const trace: Trace = { ...runTrace(dump, request), source };
  // a gateway listens on its Service's target ports: without the Service, DEST must name one
  const ports = [...new Set(dump.listenerRefs().map((l) => /_(\d+)$/.exec(l.name)?.[1]).filter((p): p is string => p !== undefined && !['15021', '15090'].includes(p)))];
  const notes = trace.proxy.type === 'router' && trace.verdict.code === 'NO_LISTENER' && ports.length
    ? [`a gateway listens on its Service's target ports, not on the Service ports clients use; this one on ${ports.join(', ')}: give DEST with one of them, or use --snapshot or --bug-report (they hold the gateway Service, and doctor maps the port)`]
    : [];
  return runDoctor({
    notes,
    destination: opts.dest,
    request: trace.request,
    view: { lists: {}, gaps: [] },
    trace,
    dump,
    cluster: { gaps: [] },
    proxyLog: undefined,
    proxyLogMissing: 'a config dump holds no istio-proxy log (use --snapshot, --bug-report, or run against the cluster)',
    probe: { kind: 'not-requested' },
    source,
    offline: true,
    rootNamespace: 'istio-system',
  });
}
