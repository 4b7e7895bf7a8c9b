/**
 * The race check proper: per pod, from its layout (layout.ts), timeline (timeline.ts) and init
 * containers (egress.ts), a verdict and findings with ready-to-apply fixes. Pure: the same
 * evidence gives the same report, live or from a snapshot.
 */
import type { V1Container, V1ContainerStatus } from '@kubernetes/client-node';
import type { CollectionGap, Pod } from '../../model/cluster-view.js';
import { versionAtLeast } from '../../model/proxy.js';
import { newFinding } from '../catalog.js';
import { sortFindings, type Finding, type Fix, type Subject } from '../finding.js';
import { podFacts } from '../trace/pod-settings.js';
import { captureOf, egressDestinations, isVaultAgent, networkNeed, podCapture } from './egress.js';
import { PROXY, nativeSupport, ordering, podLayout, type Layout, type NativeSupport, type Ordering } from './layout.js';
import { clip, humanDuration, parseTime, secondsBetween } from './log-lines.js';
import { annotationFix, excludePortFix, excludeRangeFix, holdFix, nativeFix, readinessLoopFix, restartFix, runAsProxyUidFix, vaultInitFirstFix, workloadOf } from './fixes.js';
import { buildTimeline, logsByContainer, refusedLines, type ContainerLogs, type PodTimeline } from './timeline.js';
import { RACE_VERDICTS, type EgressDestination, type InitContainerReport, type PodEvidence, type PodRace, type RaceInput, type RaceReport, type RaceVerdict } from './types.js';
import { parseIp } from '../../envoy/ip.js';

/** An init container still running after this long, with nothing else to go on, counts as stuck. */
const STUCK_AFTER_SECONDS = 120;
/** ... and one that needs the network and is captured, as blocked. */
const BLOCKED_AFTER_SECONDS = 30;

export function raceCheck(raw: RaceInput): RaceReport {
  // nodes in name order: the API server lists them so, a snapshot may not
  const input: RaceInput = raw.nodes ? { ...raw, nodes: [...raw.nodes].sort((a, b) => a.name.localeCompare(b.name)) } : raw;
  const findings: Finding[] = [];
  const pods: PodRace[] = [];
  for (const ev of input.pods) {
    const r = checkPod(ev, input);
    pods.push(r.race);
    findings.push(...r.findings);
  }
  for (const g of input.gaps) findings.push(gapFinding(g, undefined));
  const verdict = pods.map((p) => p.verdict).sort((a, b) => RACE_VERDICTS.indexOf(a) - RACE_VERDICTS.indexOf(b))[0] ?? 'NO_SIDECAR';
  return { source: input.source, collectedAt: input.collectedAt, selection: input.selection, verdict, pods, findings: sortFindings(findings), gaps: [...input.gaps, ...input.pods.flatMap((p) => p.gaps)] };
}

const GAP_CONSEQUENCE: readonly [RegExp, string][] = [
  [/event/i, "the proxy's readiness probe failures and postStart hook failures are unknown; the timeline rests on the pod status and logs"],
  [/log/i, 'their start-up lines (the proxy\'s readiness, connection errors) are unknown'],
  [/node/i, 'native sidecar support of the nodes cannot be told'],
  [/service/i, 'the destination stays a hostname; exclusions by IP cannot be checked'],
  [/configmap|mesh config/i, 'holdApplicationUntilProxyStarts from the mesh config (defaultConfig) is unknown; the pod\'s own settings still count'],
  [/replicaset/i, 'the newest pods were chosen by creation time instead of by ReplicaSet revision'],
];

function gapFinding(g: CollectionGap, subject: Subject | undefined): Finding {
  const consequence = GAP_CONSEQUENCE.find(([re]) => re.test(g.what))?.[1] ?? 'part of the timeline is unknown';
  return newFinding('CollectionIncomplete', { what: g.what, reason: g.reason === 'forbidden' ? `RBAC denied: ${g.detail}` : g.detail, consequence }, subject ? { subject } : {});
}

interface Ctx {
  readonly pod: Pod;
  readonly subject: Subject;
  readonly layout: Layout;
  readonly ord: Ordering;
  readonly native: NativeSupport;
  readonly tl: PodTimeline;
  readonly logs: Map<string, ContainerLogs>;
  readonly collectedMicros: number | undefined;
  readonly findings: Finding[];
  readonly notes: string[];
}

function checkPod(ev: PodEvidence, input: RaceInput): { race: PodRace; findings: Finding[] } {
  const pod = ev.pod;
  const namespace = pod.metadata?.namespace ?? 'default';
  const name = pod.metadata?.name ?? '?';
  const subject: Subject = { kind: 'Pod', namespace, name };
  const layout = podLayout(pod);
  const ord = ordering(pod, layout, input.meshConfig);
  const native = nativeSupport(pod, layout, input.nodes, input.allNodes);
  const logs = logsByContainer(ev.logs);
  const tl = buildTimeline(pod, layout, ev.events, logs);
  const findings: Finding[] = ev.gaps.map((g) => gapFinding(g, subject));
  const notes: string[] = [...tl.notes];
  const ctx: Ctx = { pod, subject, layout, ord, native, tl, logs, collectedMicros: parseTime(input.collectedAt), findings, notes };
  const node = input.nodes?.find((n) => n.name === pod.spec?.nodeName);
  const w = workloadOf(pod);
  const base = {
    namespace,
    name,
    ...(pod.spec?.nodeName ? { node: pod.spec.nodeName } : {}),
    ...(node ? { kubeletVersion: node.kubeletVersion } : {}),
    phase: pod.status?.phase ?? 'Unknown',
    status: kubectlStatus(pod),
    ...(w ? { owner: { kind: w.ref.split('/')[0]!, name: w.ref.split('/')[1]! } } : {}),
    sidecar: {
      layout: layout.layout,
      ...(layout.istioVersion ? { istioVersion: layout.istioVersion } : {}),
      interception: layout.interception,
      startupProbe: layout.startupProbe,
      ...(layout.readinessEndpoint ? { readinessEndpoint: layout.readinessEndpoint } : {}),
    },
    ordering: { holdRequested: ord.holdRequested, ...(ord.requestedBy ? { requestedBy: ord.requestedBy } : {}), holdEffective: ord.holdEffective, appWaitsForProxy: ord.appWaitsForProxy, how: ord.how },
    nativeSidecars: { used: native.used, ...(native.annotation !== undefined ? { annotation: native.annotation } : {}), ...(native.nodeSupports !== undefined ? { nodeSupports: native.nodeSupports } : {}), explanation: `${native.why}. ${native.support}` },
    restarts: restartsOf(pod),
    timeline: tl.entries,
  };
  if (layout.layout === 'none' || layout.layout === 'ambient') {
    const why = layout.layout === 'ambient' ? 'It is in ambient mode: ztunnel redirects its traffic from the start, and there is no sidecar start-up race.' : 'Without a sidecar there is no proxy start-up race.';
    findings.push(newFinding('PodWithoutSidecar', { pod: `${namespace}/${name}`, why }, { subject }));
    return { race: { ...base, initContainers: [], refusedInWindow: 0, verdict: 'NO_SIDECAR', notes }, findings };
  }
  if (ev.events === undefined && ev.logs.length === 0) {
    findings.push(
      newFinding('InputIncomplete', { missing: 'pod events or container logs', consequence: 'the start-up timeline rests on the pod status alone', remedy: 'Take the snapshot again with this version of kubectl-mesh_egress, which stores them.' }, { subject }),
    );
  } else if (ev.events !== undefined && ev.events.length === 0) {
    const created = parseTime(typeof pod.metadata?.creationTimestamp === 'string' ? pod.metadata.creationTimestamp : pod.metadata?.creationTimestamp?.toISOString());
    if (created !== undefined && ctx.collectedMicros !== undefined && ctx.collectedMicros - created > 3600e6) notes.push('the pod has no events left: the API server keeps events for one hour by default (--event-ttl)');
  }

  for (const s of pod.status?.containerStatuses ?? []) {
    if (layout.appContainers.includes(s.name) && (s.restartCount ?? 0) >= 2) {
      notes.push(`${s.name} restarted ${s.restartCount} times: the kubelet keeps the logs of the current and the previous instance only, so connection errors of earlier instances cannot be seen`);
    }
  }

  // ---- the start-up window ---------------------------------------------------------------------
  const window = startupWindow(tl);
  const inWindow = (micros: number): boolean | null => {
    if (tl.proxyReady && !tl.proxyReady.bound) return micros < tl.proxyReady.micros;
    if (tl.proxyNotReadyUntil && micros <= tl.proxyNotReadyUntil.micros) return true;
    if (tl.proxyReady && micros >= tl.proxyReady.micros) return false;
    return null;
  };
  const refusedIn = tl.refused.filter((r) => inWindow(r.micros) === true);
  const first = tl.refused[0];
  const firstRefused = refusedIn[0] ?? (tl.refused.some((r) => inWindow(r.micros) === null) ? tl.refused.find((r) => inWindow(r.micros) === null) : first);
  const initContainers = initReports(ctx, ev.destinations ?? egressDestinations(pod));
  const stuck = stuckInInit(ctx, initContainers);
  const raced = appRace(ctx, firstRefused ? { ...firstRefused, inWindow: inWindow(firstRefused.micros) } : undefined, refusedIn.length);
  holdChecks(ctx);
  if (layout.layout === 'native' && !layout.startupProbe) {
    findings.push(newFinding('NativeSidecarWithoutStartupProbe', { containers: layout.appContainers.join(', ') }, { subject, evidence: ['istio-proxy (initContainers, restartPolicy: Always) has no startupProbe'], fixes: [startupProbeFix(1), ...(layout.appContainers.length ? [readinessLoopFix(layout, layout.appContainers, 2)] : [])] }));
  }
  if (!ord.appWaitsForProxy && layout.layout === 'classic' && !ord.holdRequested && !raced && !stuck && tl.appStarted) {
    const appLogsRead = layout.appContainers.some((c) => logs.get(c)?.current !== undefined || logs.get(c)?.previous !== undefined);
    const measured = measuredText(tl, appLogsRead);
    findings.push(newFinding('AppNotHeldForProxy', { containers: layout.appContainers.join(', '), how: ord.how, measured }, { subject, evidence: timingEvidence(tl), fixes: appFixes(ctx) }));
  }
  const problems = findings.some((f) => ['MEG050', 'MEG051', 'MEG052', 'MEG053', 'MEG054', 'MEG055'].includes(f.code));
  if (layout.layout === 'classic' && problems) {
    findings.push(newFinding('NativeSidecarsNotUsed', { why: native.why, support: native.support }, { subject, evidence: nativeEvidence(pod, input) }));
  }
  let verdict: RaceVerdict;
  if (raced) verdict = 'RACED';
  else if (findings.some((f) => f.code === 'MEG054')) verdict = 'INIT_BLOCKED';
  else if (stuck) verdict = 'STUCK_IN_INIT';
  else if (!ord.appWaitsForProxy || findings.some((f) => ['MEG050', 'MEG052', 'MEG053'].includes(f.code))) verdict = 'EXPOSED';
  else verdict = 'ORDERED';
  if (tl.refused.length && !refusedIn.length && first && inWindow(first.micros) === false) {
    notes.push(`${tl.refused.length} connection-refused line(s) in the application's logs all come after the proxy was ready (first ${first.at}): not a start-up race; trace the destination (kubectl mesh-egress trace ${name} -n ${namespace} ${first.destination ?? 'DEST'})`);
  }
  const race: PodRace = {
    ...base,
    ...(tl.appStarted ? { appStarted: { at: tl.appStarted.at, source: tl.appStarted.source, container: tl.appStarted.container } } : {}),
    ...(tl.proxyStarted ? { proxyStarted: { at: tl.proxyStarted.at, source: tl.proxyStarted.source } } : {}),
    ...(tl.proxyReady ? { proxyReady: { at: tl.proxyReady.at, source: tl.proxyReady.source, bound: tl.proxyReady.bound } } : {}),
    ...(tl.proxyNotReadyUntil ? { proxyNotReadyUntil: { at: tl.proxyNotReadyUntil.at, source: tl.proxyNotReadyUntil.source } } : {}),
    ...(window ? { window } : {}),
    ...(firstRefused ? { firstRefused: { at: firstRefused.at, container: firstRefused.container, previous: firstRefused.previous, line: firstRefused.line, ...(firstRefused.destination ? { destination: firstRefused.destination } : {}), inWindow: inWindow(firstRefused.micros) } } : {}),
    refusedInWindow: refusedIn.length,
    initContainers,
    verdict,
    notes,
  };
  return { race, findings };
}

/** From the application's first start to the proxy's ready time (closed) or last not-ready evidence (open). */
function startupWindow(tl: PodTimeline): PodRace['window'] {
  if (!tl.appStarted) return undefined;
  const end = tl.proxyReady && !tl.proxyReady.bound ? { at: tl.proxyReady.at, micros: tl.proxyReady.micros, closed: true } : tl.proxyNotReadyUntil ? { ...tl.proxyNotReadyUntil, closed: false } : tl.proxyReady ? { at: tl.proxyReady.at, micros: tl.proxyReady.micros, closed: true } : undefined;
  if (!end || end.micros <= tl.appStarted.micros) return undefined;
  return { from: tl.appStarted.at, to: end.at, seconds: secondsBetween(tl.appStarted.micros, end.micros), closed: end.closed };
}

function measuredText(tl: PodTimeline, appLogsRead: boolean): string {
  const start = tl.appStarted;
  const ready = tl.proxyReady;
  if (!start) return 'The application has not started yet.';
  if (!appLogsRead) {
    const when = ready ? ` Envoy was ready ${ready.bound ? 'by' : 'at'} ${ready.at}.` : tl.proxyNotReadyUntil ? ` The proxy was still not ready at ${tl.proxyNotReadyUntil.at} (${tl.proxyNotReadyUntil.source}).` : '';
    return `${start.container} started at ${start.at}.${when} Its logs could not be read, so whether it hit connection errors then is unknown.`;
  }
  if (ready && !ready.bound) {
    const d = secondsBetween(start.micros, ready.micros);
    if (d > 0) return `This time ${start.container} started ${humanDuration(d)} before Envoy was ready (${start.at} → ${ready.at}); no connection-refused lines were found in its logs.`;
    return `This time Envoy was ready ${humanDuration(-d)} before ${start.container} started (${ready.at} → ${start.at}), by luck.`;
  }
  if (tl.proxyNotReadyUntil && tl.proxyNotReadyUntil.micros > start.micros) {
    return `This time ${start.container} started at ${start.at} and the proxy was still not ready at ${tl.proxyNotReadyUntil.at} (${tl.proxyNotReadyUntil.source}); no connection-refused lines were found in its logs.`;
  }
  return `The proxy's ready time is unknown (no pilot-agent readiness line in the istio-proxy log read); ${start.container} started at ${start.at}.`;
}

function timingEvidence(tl: PodTimeline): string[] {
  const out: string[] = [];
  if (tl.appStarted) out.push(`${tl.appStarted.container} started ${tl.appStarted.at} (${tl.appStarted.source})`);
  if (tl.proxyStarted) out.push(`istio-proxy started ${tl.proxyStarted.at} (${tl.proxyStarted.source})`);
  if (tl.proxyNotReadyUntil) out.push(`istio-proxy not ready at ${tl.proxyNotReadyUntil.at} (${tl.proxyNotReadyUntil.source})`);
  if (tl.proxyReady) out.push(`istio-proxy ready ${tl.proxyReady.bound ? 'by ' : ''}${tl.proxyReady.at} (${tl.proxyReady.source})`);
  return out;
}

function nativeEvidence(pod: Pod, input: RaceInput): string[] {
  const out: string[] = [];
  const ann = pod.metadata?.annotations?.['sidecar.istio.io/nativeSidecar'];
  if (ann !== undefined) out.push(`annotation sidecar.istio.io/nativeSidecar: ${JSON.stringify(ann)}`);
  for (const n of (input.nodes ?? []).slice(0, 5)) out.push(`node ${n.name}: kubelet ${n.kubeletVersion}`);
  if (!input.nodes) out.push('node versions: not read');
  return out;
}

// ---- application containers ------------------------------------------------------------------------

function appFixes(ctx: Ctx): Fix[] {
  const { pod, layout, native } = ctx;
  const fixes: Fix[] = [];
  const v = layout.istioVersion;
  const holdSupported = versionAtLeast(v, 1, 7) !== false;
  if (layout.layout === 'classic' && holdSupported && !ctx.ord.holdEffective) fixes.push(holdFix(pod, fixes.length + 1));
  const nativePossible = layout.layout === 'classic' && versionAtLeast(v, 1, 19) !== false && native.nodeSupports !== false;
  if (nativePossible) fixes.push(nativeFix(pod, native, layout, fixes.length + 1, false));
  if (layout.appContainers.length) fixes.push(readinessLoopFix(layout, layout.appContainers, fixes.length + 1));
  if (layout.layout === 'classic' && !holdSupported) {
    fixes.push({
      rank: fixes.length + 1,
      title: 'Upgrade Istio to use holdApplicationUntilProxyStarts',
      tradeoffs: `Istio ${v} predates holdApplicationUntilProxyStarts (added in 1.7, istio/istio#24737); after the upgrade, annotate the pod template with proxy.istio.io/config: '{"holdApplicationUntilProxyStarts": true}'.`,
      kind: 'text',
      content: `Upgrade the control plane and the proxies (Istio ${v} → a supported release), then:\n${holdFix(pod, 0).content}`,
    });
  }
  return fixes;
}

function causeText(ctx: Ctx): string {
  const { layout, ord, tl } = ctx;
  if (tl.hookFailures.length) return 'The postStart `pilot-agent wait` hook failed and the kubelet started the application anyway (see MEG053).';
  if (layout.layout === 'native') return layout.startupProbe ? 'The native sidecar was not ready although the kubelet should have waited for its startupProbe: the proxy restarted or was killed in between.' : 'The native sidecar has no startupProbe, so the kubelet did not wait for Envoy (see MEG057).';
  if (ord.holdRequested && !ord.holdEffective) return 'holdApplicationUntilProxyStarts is requested but not in effect for this pod (see MEG052), so nothing held the application back.';
  return 'Nothing holds the application until the proxy is ready (no holdApplicationUntilProxyStarts, no native sidecar): iptables already redirected its connections to port 15001, where Envoy was not listening yet.';
}

function appRace(ctx: Ctx, first: (PodRace['firstRefused'] & { micros: number }) | undefined, inWindowCount: number): boolean {
  const { tl, subject } = ctx;
  if (!first || first.inWindow === false || !tl.appStarted) return false;
  const ready = tl.proxyReady && !tl.proxyReady.bound ? tl.proxyReady : undefined;
  const started = tl.appStarted;
  const startedOfContainer = tl.entries.filter((e) => e.kind === 'app-started' && e.container === first.container).map((e) => ({ at: e.at, micros: parseTime(e.at)! })).sort((a, b) => a.micros - b.micros)[0] ?? started;
  let gap: string;
  let readyText: string;
  if (ready) {
    gap = humanDuration(secondsBetween(startedOfContainer.micros, ready.micros));
    readyText = `${ready.at}, ${ready.source}`;
  } else if (tl.proxyNotReadyUntil) {
    gap = `at least ${humanDuration(secondsBetween(startedOfContainer.micros, tl.proxyNotReadyUntil.micros))}`;
    readyText = `still not ready at ${tl.proxyNotReadyUntil.at}, ${tl.proxyNotReadyUntil.source}${tl.proxyReady ? `; ready by ${tl.proxyReady.at}, ${tl.proxyReady.source}` : ''}`;
  } else {
    gap = 'an unknown time';
    readyText = tl.proxyReady ? `ready by ${tl.proxyReady.at}, ${tl.proxyReady.source}; the exact time is unknown` : 'ready time unknown: no pilot-agent readiness line or probe events were read';
  }
  const evidence = [
    ...timingEvidence(tl),
    `first connection refused: ${first.container}${first.previous ? ' (previous instance)' : ''} ${first.at}: ${first.line}`,
    ...(inWindowCount > 1 ? [`${inWindowCount} connection-refused lines inside the window`] : []),
  ];
  const severity = first.inWindow === true ? undefined : 'warning';
  ctx.findings.push(
    newFinding(
      'AppStartedBeforeProxyReady',
      { container: first.container, started: startedOfContainer.at, ready: readyText, gap, errorAt: first.at, line: first.line, cause: causeText(ctx) },
      { subject, evidence, fixes: appFixes(ctx), ...(severity ? { severity } : {}) },
    ),
  );
  return first.inWindow === true;
}

/** MEG052 (hold requested, not carried) and MEG053 (the hold hook failed). */
function holdChecks(ctx: Ctx): void {
  const { pod, layout, ord, tl, subject } = ctx;
  if (layout.layout === 'classic' && ord.holdRequested && !ord.holdEffective) {
    const v = layout.istioVersion;
    let consequence: string;
    const fixes: Fix[] = [];
    if (versionAtLeast(v, 1, 7) === false) {
      consequence = `Istio ${v} predates holdApplicationUntilProxyStarts (1.7+): the setting has no effect on this proxy.`;
      fixes.push(...appFixes(ctx));
    } else if (ord.requestedAtInjection === false) {
      consequence = 'The pod was injected without it (PROXY_CONFIG has no holdApplicationUntilProxyStarts): the setting came after the pod was created, or the annotation was added to the running pod. Only newly injected pods get it.';
      fixes.push(restartFix(pod, 1, 'The injector applies holdApplicationUntilProxyStarts when it injects the new pods.'));
      if (!pod.metadata?.annotations?.['proxy.istio.io/config'] || !workloadOf(pod)) fixes.push(holdFix(pod, 2));
      else fixes.push({ ...holdFix(pod, 2), title: 'Make sure the workload\'s pod template carries the annotation' });
    } else {
      const missingHook = ord.missing.some((m) => m.includes('postStart'));
      consequence = missingHook
        ? 'The injector rendered another lifecycle: `global.proxy.lifecycle` in the injector values replaces the postStart hook (injection-template.yaml), or a custom template omits it.'
        : 'Another mutating webhook added containers ahead of istio-proxy after Istio\'s injector ran.';
      fixes.push({
        rank: 1,
        title: missingHook ? 'Let the injector render the pilot-agent wait hook' : 'Let Istio\'s injector run after the other webhooks',
        tradeoffs: missingHook ? 'Removing global.proxy.lifecycle drops whatever else it configured (preStop hooks); merge the two if you need both.' : 'With reinvocationPolicy IfNeeded the API server calls Istio\'s webhook again after the others, and reorderPod puts istio-proxy first again; every pod admission takes one more webhook call.',
        kind: 'yaml',
        content: missingHook
          ? '# istiod Helm values (or IstioOperator spec.values): remove the override, or include the hook in it\nglobal:\n  proxy:\n    lifecycle:\n      postStart:\n        exec:\n          command: ["pilot-agent", "wait"]\n'
          : '# istiod Helm values\nsidecarInjectorWebhook:\n  reinvocationPolicy: IfNeeded\n',
      });
      fixes.push(restartFix(pod, 2, 'Then recreate the pods so they are injected again.'));
    }
    ctx.findings.push(newFinding('HoldNotEffective', { requestedBy: ord.requestedBy ?? 'requested', missing: ord.missing.join('; '), consequence }, { subject, evidence: [ord.how], fixes }));
  }
  for (const e of tl.hookFailures) {
    const wait = /pilot-agent[^\]]*wait|timeout waiting for Envoy/.test(e.message);
    if (!wait && !layout.waitHook) continue;
    const detail = /(timeout waiting for Envoy proxy to become ready[^"\\\n]*)/.exec(e.message)?.[1]?.replace(/[.\s]+$/, '') ?? clip(e.message, 160);
    const reasons = tl.notReadyReasons.length ? [`pilot-agent said: Envoy proxy is NOT ready: ${tl.notReadyReasons[0]}`] : [];
    const fixes: Fix[] = [
      {
        rank: 1,
        title: 'Find why Envoy is not ready within the hook\'s timeout',
        tradeoffs: 'The hold works only if Envoy becomes ready within `pilot-agent wait --timeoutSeconds` (60 s by default): usually istiod is unreachable or slow to push, or a certificate cannot be issued. A longer timeout (custom injection template) only delays the failure.',
        kind: 'text',
        content: `kubectl logs -n ${subject.namespace} ${subject.name} -c istio-proxy --previous | grep -E 'NOT ready|warn|error'\nistioctl proxy-status ${subject.name}.${subject.namespace}`,
      },
    ];
    if (versionAtLeast(layout.istioVersion, 1, 19) !== false && ctx.native.nodeSupports !== false) fixes.push(nativeFix(pod, ctx.native, layout, 2, false));
    ctx.findings.push(
      newFinding('ProxyWaitFailed', { at: e.count > 1 ? `${e.first} (${e.count} times, last ${e.last})` : e.first, detail }, { subject, evidence: [`event ${e.reason} ${e.container ?? ''}: ${clip(e.message, 300)}`, ...reasons], fixes }),
    );
  }
}

function startupProbeFix(rank: number): Fix {
  return {
    rank,
    title: 'Turn the proxy startupProbe back on',
    tradeoffs: 'With the startupProbe the kubelet waits up to 600 s for Envoy before starting the next containers; pods become ready a little later.',
    kind: 'yaml',
    content: '# istiod Helm values (or IstioOperator spec.values); then restart the workloads\nglobal:\n  proxy:\n    startupProbe:\n      enabled: true\n',
  };
}

// ---- init containers -------------------------------------------------------------------------------

function statusOf(pod: Pod, name: string): V1ContainerStatus | undefined {
  return (pod.status?.initContainerStatuses ?? []).find((s) => s.name === name);
}

function stateText(s: V1ContainerStatus | undefined, restartable: boolean): string {
  if (!s) return 'not started';
  const lastExit = s.lastState?.terminated ? `, last exit code ${s.lastState.terminated.exitCode}` : '';
  if (s.state?.running) return restartable ? `running${s.started ? ', started' : ', not started yet (startupProbe)'}` : `running since ${iso(s.state.running.startedAt)}`;
  if (s.state?.terminated) return s.state.terminated.exitCode === 0 ? 'completed' : `failed (exit code ${s.state.terminated.exitCode}${s.state.terminated.reason ? `, ${s.state.terminated.reason}` : ''})`;
  if (s.state?.waiting) return `waiting: ${s.state.waiting.reason ?? 'unknown'}${lastExit}`;
  return 'unknown';
}

function iso(d: Date | string | undefined): string {
  return d === undefined ? '?' : typeof d === 'string' ? d : d.toISOString().replace(/\.000Z$/, 'Z');
}

function runningSeconds(ctx: Ctx, s: V1ContainerStatus | undefined): number | undefined {
  const started = s?.state?.running?.startedAt;
  const m = parseTime(started === undefined ? undefined : iso(started));
  return m !== undefined && ctx.collectedMicros !== undefined ? (ctx.collectedMicros - m) / 1e6 : undefined;
}

function roleOf(c: V1Container): InitContainerReport['role'] {
  return c.name === 'istio-init' ? 'istio-init' : c.name === 'istio-validation' ? 'istio-validation' : c.name === PROXY ? 'istio-proxy' : 'user';
}

function destinationFor(c: V1Container, pod: Pod, all: readonly EgressDestination[]): EgressDestination | undefined {
  return all.find((d) => d.container === c.name && d.serviceIp) ?? all.find((d) => d.container === c.name) ?? (isVaultAgent(c, pod) ? all.find((d) => d.container === '*') : undefined);
}

/** Which init containers need the network and whether they are captured while no proxy runs. */
function initReports(ctx: Ctx, destinations: readonly EgressDestination[]): InitContainerReport[] {
  const { pod, layout, subject } = ctx;
  const facts = podFacts(pod);
  const settings = podCapture(facts);
  const inits = pod.spec?.initContainers ?? [];
  const out: InitContainerReport[] = [];
  inits.forEach((c, index) => {
    const role = roleOf(c);
    const s = statusOf(pod, c.name);
    const restartable = c.restartPolicy === 'Always';
    const base = { name: c.name, index, role, state: stateText(s, restartable), restarts: s?.restartCount ?? 0 };
    if (role !== 'user') {
      out.push({ ...base, proxyRunning: false });
      return;
    }
    const l = ctx.logs.get(c.name);
    const refused = [...refusedLines(c.name, l?.previous, true), ...refusedLines(c.name, l?.current, false)];
    const need = networkNeed(c, pod, refused.length > 0);
    const dest = destinationFor(c, pod, destinations);
    const destText = dest ? `${dest.host}:${dest.port}` : refused[0]?.destination;
    const proxyRunning = layout.layout === 'native' && layout.proxyIndex < index;
    const rules =
      settings.mode === 'NONE' || layout.interception === 'none'
        ? undefined
        : layout.interception === 'istio-cni'
          ? 'istio-cni installed the capture rules before any init container ran'
          : layout.istioInitIndex < index
            ? `it runs after istio-init (init container ${layout.istioInitIndex + 1} of ${inits.length}) installed the capture rules`
            : undefined;
    const uid = c.securityContext?.runAsUser ?? pod.spec?.securityContext?.runAsUser;
    const gid = c.securityContext?.runAsGroup ?? pod.spec?.securityContext?.runAsGroup;
    const decision = rules ? captureOf(settings, uid, gid, dest) : { captured: 'no' as const, reason: layout.interception === 'istio-init' ? 'it runs before istio-init installs the capture rules' : 'no capture rules' };
    const report: InitContainerReport = {
      ...base,
      ...(need ? { needsNetwork: need } : {}),
      ...(destText ? { destination: destText } : {}),
      captured: decision.captured,
      captureReason: proxyRunning ? `${decision.reason}; istio-proxy (native sidecar) is ready before it runs` : decision.reason,
      proxyRunning,
    };
    out.push(report);
    if (!need || !rules || proxyRunning || decision.captured === 'no') return;
    const completed = s?.state?.terminated?.exitCode === 0;
    if (completed) {
      ctx.notes.push(`init container ${c.name} completed although ${decision.captured === 'yes' ? 'its connections are captured' : 'its connections may be captured'} while no proxy runs: it may not need the network, or an exclusion this check cannot see covers it`);
      return;
    }
    const running = runningSeconds(ctx, s);
    const failing = refused.length > 0 || (s?.restartCount ?? 0) > 0 || (s?.state?.terminated !== undefined && !completed) || (s?.state?.waiting !== undefined && s.state.waiting.reason !== 'PodInitializing');
    const blocked = failing || (running !== undefined && running > BLOCKED_AFTER_SECONDS);
    const destination = destText ? ` to ${destText}` : '';
    const capture = decision.captured === 'unknown' ? `${rules} (${decision.reason})` : rules;
    const fixes = initFixes(ctx, c, dest);
    const evidence = [
      `init containers in order: ${inits.map((x) => x.name).join(' → ')}`,
      `capture: ${decision.reason}`,
      ...(dest ? [`destination from ${dest.source}: ${dest.scheme ? `${dest.scheme}://` : ''}${dest.host}:${dest.port}${dest.serviceIp ? ` (Service IP ${dest.serviceIp})` : ''}`] : []),
      ...(refused[0] ? [`${c.name}${refused[0].previous ? ' (previous instance)' : ''} ${refused[0].at}: ${refused[0].line}`] : []),
      ...(refused.length > 1 ? [`${refused.length} connection-refused lines in its log`] : []),
    ];
    if (blocked && (decision.captured === 'yes' || refused.length > 0)) {
      const since = s?.state?.running ? `has been running since ${iso(s.state.running.startedAt)}` : `is ${base.state}`;
      const state = `${since}${refused.length ? `, with ${refused.length} connection-refused error${refused.length > 1 ? 's' : ''} in its log (first at ${refused[0]!.at})` : ''}${s?.restartCount ? ` and ${s.restartCount} restart${s.restartCount > 1 ? 's' : ''}` : ''}, so the pod stays in Init`;
      ctx.findings.push(newFinding('InitContainerEgressBlocked', { container: c.name, why: need, capture, destination, state }, { subject, evidence, fixes }));
    } else {
      const outcome = s?.state?.running ? `are refused: it has been running since ${iso(s.state.running.startedAt)} without finishing${running !== undefined ? ` (${Math.round(running)} s when this was read)` : ''}` : 'will be refused when it runs';
      ctx.findings.push(newFinding('InitContainerEgressCaptured', { container: c.name, why: need, capture, destination, outcome }, { subject, evidence, fixes }));
    }
  });
  return out;
}

function initFixes(ctx: Ctx, c: V1Container, dest: EgressDestination | undefined): Fix[] {
  const { pod, layout, native } = ctx;
  const fixes: Fix[] = [];
  const vault = isVaultAgent(c, pod);
  const next = (): number => fixes.length + 1;
  if (layout.layout === 'classic' && versionAtLeast(layout.istioVersion, 1, 19) !== false && native.nodeSupports !== false) fixes.push(nativeFix(pod, native, layout, next(), true));
  if (dest) {
    const ip = parseIp(dest.serviceIp ?? dest.host);
    if (ip) {
      const note = dest.serviceIp ? ` ${dest.host} is the Service with cluster IP ${dest.serviceIp}; kube-proxy still forwards it once Envoy is bypassed.` : '';
      fixes.push(excludeRangeFix(pod, `${ip.text}/${ip.family === 4 ? 32 : 128}`, next(), note));
    } else {
      const a = 'traffic.sidecar.istio.io/excludeOutboundIPRanges';
      const fix = annotationFix(pod, { [a]: '<IP-or-CIDR-of-' + dest.host + '>' }, next(), `Exclude ${dest.host}'s addresses from capture (excludeOutboundIPRanges)`, `${dest.host} is a hostname and the rule needs addresses: replace the placeholder with the IPs or CIDR ${dest.host} resolves to (they must stay stable). Connections to them then bypass Envoy.`);
      fixes.push({ ...fix, kind: 'text' });
    }
    fixes.push(excludePortFix(pod, dest.port, next()));
  }
  if (vault && layout.interception === 'istio-init') fixes.push(vaultInitFirstFix(pod, next()));
  fixes.push(runAsProxyUidFix(pod, c.name, vault, next()));
  return fixes;
}

/** MEG056 / MEG059: the pod does not get through its init containers. */
function stuckInInit(ctx: Ctx, reports: readonly InitContainerReport[]): boolean {
  const { pod, layout, subject, tl } = ctx;
  const inits = pod.spec?.initContainers ?? [];
  if (layout.layout === 'init-without-restart') {
    const s = statusOf(pod, PROXY);
    ctx.findings.push(
      newFinding(
        'NativeSidecarNotSupported',
        {
          what: `istio-proxy was injected as a native sidecar, but it is an init container without restartPolicy: Always: the API server dropped the field because SidecarContainers is off (Kubernetes before 1.29${ctx.native.nodeSupports === false ? `; ${ctx.native.support.replace(/:.*$/, '')}` : ''})`,
          consequence: `An ordinary init container must exit before the next one starts, and the proxy never exits: the pod never leaves Init (istio-proxy is ${stateText(s, false)}). Turn native sidecars off for this workload, or upgrade the cluster to 1.29+`,
        },
        { subject, evidence: [`initContainers: ${inits.map((c) => `${c.name}${c.restartPolicy ? ` (restartPolicy ${c.restartPolicy})` : ''}`).join(' → ')}`], fixes: [annotationFix(pod, { 'sidecar.istio.io/nativeSidecar': 'false' }, 1, 'Inject a classic sidecar into this workload', 'The proxy runs as a regular container again, with the start-up races native sidecars avoid (use holdApplicationUntilProxyStarts).')] },
      ),
    );
    return true;
  }
  if (pod.status?.phase !== 'Pending') return false;
  for (const r of reports) {
    const c = inits[r.index]!;
    const s = statusOf(pod, c.name);
    if (s?.state?.terminated?.exitCode === 0) continue;
    if (c.restartPolicy === 'Always' && s?.started) continue;
    if (!s || (s.state?.waiting?.reason === 'PodInitializing' && !s.lastState?.terminated)) return false;
    if (ctx.findings.some((f) => f.code === 'MEG054' && f.message.startsWith(`Init container ${c.name} `))) return true;
    const running = runningSeconds(ctx, s);
    const failing = (s.restartCount ?? 0) > 0 || s.state?.terminated !== undefined || (s.state?.waiting !== undefined && s.state.waiting.reason !== 'PodInitializing');
    if (!failing && !(running !== undefined && running > STUCK_AFTER_SECONDS)) return false;
    const exit = s.state?.terminated?.exitCode ?? s.lastState?.terminated?.exitCode;
    const lastLine = lastLogLine(ctx.logs.get(c.name));
    let why: string;
    const fixes: Fix[] = [];
    if (r.role === 'istio-validation') {
      why = `istio-cni has not set up the pod's traffic redirection${exit === 126 ? ' (exit code 126: "iptables validation failed; workload is not ready for Istio")' : exit !== undefined ? ` (exit code ${exit})` : ''}. The istio-cni node agent was not ready on ${pod.spec?.nodeName ?? 'the node'} when the pod was created; with cni.repair enabled the pod is deleted and recreated, otherwise delete it.`;
      fixes.push({ rank: 1, title: 'Check the istio-cni agent on the node, then recreate the pod', tradeoffs: 'The new pod gets its rules once the agent is ready; turning on cni.repair.deletePods makes this automatic.', kind: 'command', content: `kubectl get pods -n kube-system -l k8s-app=istio-cni-node --field-selector spec.nodeName=${pod.spec?.nodeName ?? '<node>'} -o wide\nkubectl delete pod ${subject.name} -n ${subject.namespace}` });
    } else if (r.role === 'istio-init') {
      why = `istio-init could not install the iptables rules${exit !== undefined ? ` (exit code ${exit})` : ''}${lastLine ? `: "${lastLine}"` : ''}. It needs NET_ADMIN and NET_RAW (Pod Security admission "restricted" forbids them; istio-cni avoids the privileged init container).`;
    } else if (r.role === 'istio-proxy') {
      const probe = tl.proxyNotReadyUntil ? ` (${tl.proxyNotReadyUntil.source} at ${tl.proxyNotReadyUntil.at})` : '';
      why = `the native sidecar has not passed its startupProbe${probe}${tl.notReadyReasons[0] ? `: Envoy proxy is NOT ready: ${tl.notReadyReasons[0]}` : ''}. Every later container waits for it.`;
    } else {
      why = `${stateText(s, false)}${s.restartCount ? ` after ${s.restartCount} restart${s.restartCount > 1 ? 's' : ''}` : ''}${lastLine ? `; its last log line: "${lastLine}"` : ''}.`;
    }
    if (r.role === 'istio-proxy' && ctx.native.nodeSupports === false) {
      ctx.findings.push(newFinding('NativeSidecarNotSupported', { what: `istio-proxy is a native sidecar but node ${pod.spec?.nodeName} runs an old kubelet`, consequence: `${ctx.native.support}. An older kubelet runs it as an ordinary init container that never exits, so the pod stays in Init` }, { subject, fixes: [annotationFix(pod, { 'sidecar.istio.io/nativeSidecar': 'false' }, 1, 'Inject a classic sidecar into this workload', 'The proxy runs as a regular container again; use holdApplicationUntilProxyStarts against the start-up race.')] }));
      return true;
    }
    ctx.findings.push(newFinding('PodStuckInInit', { container: c.name, state: stateText(s, c.restartPolicy === 'Always'), why }, { subject, evidence: [`status ${kubectlStatus(pod)}`, ...(lastLine ? [`last log line of ${c.name}: ${lastLine}`] : [])], fixes }));
    return true;
  }
  return false;
}

function lastLogLine(l: ContainerLogs | undefined): string | undefined {
  const lines = l?.current?.length ? l.current : l?.previous;
  const last = lines?.at(-1);
  return last ? clip(last.text, 160) : undefined;
}

// ---- status ----------------------------------------------------------------------------------------

/** kubectl get pod's STATUS column (pkg/printers/internalversion printPod, simplified). */
export function kubectlStatus(pod: Pod): string {
  if (pod.metadata?.deletionTimestamp) return 'Terminating';
  const inits = pod.spec?.initContainers ?? [];
  const initStatuses = pod.status?.initContainerStatuses ?? [];
  let done = 0;
  for (const c of inits) {
    const s = initStatuses.find((x) => x.name === c.name);
    if (!s) continue;
    const t = s.state?.terminated;
    if (t && t.exitCode === 0) {
      done++;
      continue;
    }
    if (c.restartPolicy === 'Always' && s.started) {
      done++;
      continue;
    }
    if (t) return t.reason ? `Init:${t.reason}` : `Init:ExitCode:${t.exitCode}`;
    const waiting = s.state?.waiting?.reason;
    if (waiting && waiting !== 'PodInitializing') return `Init:${waiting}`;
    return `Init:${done}/${inits.length}`;
  }
  for (const s of pod.status?.containerStatuses ?? []) {
    const w = s.state?.waiting?.reason;
    if (w) return w;
    const t = s.state?.terminated?.reason;
    if (t) return t;
  }
  return pod.status?.phase ?? 'Unknown';
}

function restartsOf(pod: Pod): PodRace['restarts'] {
  return [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])]
    .filter((s) => (s.restartCount ?? 0) > 0)
    .map((s) => {
      const t = s.lastState?.terminated;
      return { container: s.name, count: s.restartCount, ...(t ? { last: `exit code ${t.exitCode}${t.reason ? ` (${t.reason})` : ''} at ${iso(t.finishedAt)}` } : {}) };
    });
}
