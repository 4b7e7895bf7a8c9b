/**
 * `doctor`: seed 000's checklist, one step per item, in its order; then a verdict that ranks what
 * was found, root causes before their symptoms (a subset without pods before the empty cluster it
 * causes and the 503s in the log).
 */
import { SEVERITY_RANK, sortFindings, type Finding } from '../finding.js';
import { networkPolicyStep } from './network-policy.js';
import { outboundPolicyStep } from './outbound-policy.js';
import { portProtocolStep } from './port-protocol.js';
import { probeStep } from './probe.js';
import { sidecarLogsStep } from './sidecar-logs.js';
import { sidecarStep } from './sidecar.js';
import { subsetsStep } from './subsets.js';
import { tlsStep } from './tls.js';
import { STEP_TITLES, type DoctorInput, type DoctorReport, type RankedProblem, type Step } from './types.js';

/**
 * Findings that describe what the user sees rather than why: the empty cluster, unhealthy
 * endpoints, a black-holed connection and the failures in the log follow from a cause another
 * finding names.
 */
const SYMPTOMS = new Set(['MEG023', 'MEG040', 'MEG041', 'MEG044']);

function isSymptom(step: Step, code: string): boolean {
  return SYMPTOMS.has(code) || (step.symptoms ?? []).includes(code);
}

/** A step's findings: causes before symptoms, then worst first (the table's fix column shows the first). */
function ordered(step: Step): Step {
  const rank = (f: Finding): number => (isSymptom(step, f.code) ? 0 : 10) + SEVERITY_RANK[f.severity];
  return { ...step, findings: [...step.findings].sort((a, b) => rank(b) - rank(a)) };
}

/** Causes before symptoms, then severity, then seed 000's step order. */
function rankProblems(steps: readonly Step[]): RankedProblem[] {
  const all: { step: Step; f: Finding; symptom: boolean }[] = steps.flatMap((s) => s.findings.filter((f) => f.severity !== 'info').map((f) => ({ step: s, f, symptom: isSymptom(s, f.code) })));
  // a symptom is only a symptom when something else is reported as the cause
  const hasCause = all.some((x) => !x.symptom);
  const ranked = all.sort(
    (a, b) =>
      Number(hasCause && a.symptom) - Number(hasCause && b.symptom) ||
      SEVERITY_RANK[b.f.severity] - SEVERITY_RANK[a.f.severity] ||
      a.step.number - b.step.number ||
      a.f.code.localeCompare(b.f.code),
  );
  return ranked.map((x, i) => ({ rank: i + 1, step: x.step.number, stepId: x.step.id, code: x.f.code, severity: x.f.severity, message: x.f.message, role: hasCause && x.symptom ? 'symptom' : 'cause' }));
}

export function runDoctor(input: DoctorInput): DoctorReport {
  const probe = probeStep(input, 1, STEP_TITLES.probe);
  const steps: Step[] = [
    probe.step,
    sidecarStep(input, 2, STEP_TITLES.sidecar),
    outboundPolicyStep(input, 3, STEP_TITLES['outbound-policy']),
    portProtocolStep(input, 4, STEP_TITLES['port-protocol']),
    sidecarLogsStep(input, 5, STEP_TITLES['sidecar-logs'], probe.remoteIp),
    networkPolicyStep(input, 6, STEP_TITLES['network-policy'], probe.remoteIp),
    tlsStep(input, 7, STEP_TITLES.tls),
    subsetsStep(input, 8, STEP_TITLES.subsets),
  ].map(ordered);
  const problems = rankProblems(steps);
  const errors = problems.filter((p) => p.severity === 'error');
  const first = problems[0];
  // seed 000's first question: does it work without the mesh? Then the mesh is where to look
  const meshToBlame = probe.step.status === 'ok' && problems.some((p) => p.severity === 'error' && p.stepId !== 'probe' && p.stepId !== 'network-policy');
  const summary = first
    ? `${problems.length} problem(s)${errors.length ? ` (${errors.length} error${errors.length === 1 ? '' : 's'})` : ''}${meshToBlame ? '; the destination answers without the mesh (step 1), so the cause is in the mesh' : ''}; most likely cause (step ${first.step}, ${STEP_TITLES[first.stepId]}): ${first.message}`
    : `No problem found in ${steps.filter((s) => s.status !== 'skipped').length} checked step(s)${steps.some((s) => s.status === 'skipped') ? `; skipped: ${steps.filter((s) => s.status === 'skipped').map((s) => s.number).join(', ')}` : ''}.`;
  const pod = input.view.pod;
  const findings = sortFindings(steps.flatMap((s) => s.findings));
  const assumptions = [
    ...(input.trace?.assumptions ?? []),
    ...(input.notes ?? []),
    ...(input.gateway ? [`DEST port ${input.gateway.servicePort} is port ${input.gateway.servicePort} of gateway Service ${input.gateway.service}: traced on the port its listener is bound to, ${input.gateway.targetPort}`] : []),
  ];
  return {
    source: input.source,
    destination: input.destination,
    target: { pod: pod?.metadata?.name ?? input.trace?.proxy.pod ?? '?', namespace: pod?.metadata?.namespace ?? input.trace?.proxy.namespace ?? '?', proxy: input.trace?.proxy.type ?? 'unknown' },
    request: input.request,
    steps,
    verdict: { status: problems.length ? 'problem' : 'ok', summary, problems },
    findings,
    assumptions,
  };
}
