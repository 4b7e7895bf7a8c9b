/**
 * Step 2 (seed 000 step 2): what the sidecar does with the connection — the trace engine's
 * verdict, hop by hop. The trace's findings about the outbound policy, the port protocol, TLS and
 * endpoints are reported by the steps that check those (see TRACE_CODE_STEP), so each finding is
 * shown once, next to the configuration that explains it.
 */
import type { Finding } from '../finding.js';
import { FAILING_VERDICTS, type Trace } from '../trace/types.js';
import type { DoctorInput, Step, StepId } from './types.js';

/** Trace codes that belong to a later step; everything else stays with the verdict. */
export const TRACE_CODE_STEP: Readonly<Record<string, StepId>> = {
  MEG020: 'outbound-policy',
  MEG021: 'outbound-policy',
  MEG022: 'outbound-policy',
  MEG031: 'port-protocol',
  MEG032: 'port-protocol',
  MEG033: 'port-protocol',
  MEG034: 'port-protocol',
  MEG070: 'tls',
  MEG040: 'subsets',
  MEG041: 'subsets',
  MEG042: 'subsets',
};

export function traceFindingsFor(trace: Trace | undefined, step: StepId): Finding[] {
  return (trace?.findings ?? []).filter((f) => (TRACE_CODE_STEP[f.code] ?? 'sidecar') === step);
}

function hopLine(t: Trace): string {
  const v = t.verdict;
  const parts = [v.listener ? `listener ${v.listener}` : undefined, v.filterChain ? `chain ${v.filterChain}` : undefined, v.routeConfig ? `route config ${v.routeConfig}` : undefined, v.virtualHost ? `virtual host ${v.virtualHost}` : undefined, v.route ? `route ${v.route}` : undefined, v.cluster ? `cluster ${v.cluster}` : undefined].filter(Boolean);
  return parts.join(' → ');
}

export function sidecarStep(input: DoctorInput, number: number, title: string): Step {
  const base = { number, id: 'sidecar' as const, title };
  const t = input.trace;
  if (!t) return { ...base, status: 'skipped', reason: input.traceSkipped ?? 'the proxy configuration is not available', summary: 'not traced', evidence: [], findings: [] };
  if (t.proxy.type === 'none') {
    return { ...base, status: 'skipped', reason: 'the pod has no sidecar: its connections leave directly, so the mesh cannot be the cause', summary: 'no sidecar', evidence: [t.verdict.summary], findings: traceFindingsFor(t, 'sidecar') };
  }
  const v = t.verdict;
  const code = v.code ?? 'UNDETERMINED';
  const evidence = [
    `verdict ${code}: ${v.summary}`,
    ...(hopLine(t) ? [hopLine(t)] : []),
    ...(v.responseFlag && v.responseFlag !== '-' ? [`Envoy would log response flag ${v.responseFlag}; the application sees: ${v.outcome}`] : [`the application sees: ${v.outcome}`]),
    ...input.trace!.hops.map((h) => `${h.stage}: ${h.result}`),
    ...v.responsible.slice(0, 8).map((r) => `responsible: ${r.kind} ${r.name ? `${r.namespace ? `${r.namespace}/` : ''}${r.name}` : (r.host ?? '')} — ${r.role}`),
  ];
  const findings = traceFindingsFor(t, 'sidecar');
  const failing = v.code !== null && FAILING_VERDICTS.has(v.code);
  const status = failing || findings.some((f) => f.severity !== 'info') ? 'problem' : 'ok';
  return {
    ...base,
    status,
    summary: `${code}${v.responseFlag && v.responseFlag !== '-' ? ` (${v.responseFlag})` : ''}: ${v.outcome}`,
    evidence,
    findings,
    data: { verdict: v, proxy: t.proxy, hops: t.hops },
  };
}
