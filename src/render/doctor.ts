/**
 * Human and machine output of `doctor`: one table (step, status, evidence, fix), the verdict
 * ranking the problems, then the findings with their fixes; `-o json|yaml` is the `kind: Doctor`
 * document carrying every step.
 */
import type { DoctorReport, Step } from '../analyze/doctor/types.js';
import type { TraceRequest } from '../analyze/trace/types.js';
import { API_VERSION, findingDto, requestDto, sortKeys } from './dto.js';
import { renderFindings } from './findings.js';
import { paint, table, wrap, type RenderOptions } from './text.js';

const SHORT: Readonly<Record<Step['id'], string>> = {
  probe: 'without the mesh',
  sidecar: 'with the sidecar',
  'outbound-policy': 'outbound policy',
  'port-protocol': 'port protocol',
  'sidecar-logs': 'sidecar logs',
  'network-policy': 'NetworkPolicy',
  tls: 'TLS',
  subsets: 'subsets, endpoints',
};

export function doctorDto(d: DoctorReport): unknown {
  return sortKeys({
    apiVersion: API_VERSION,
    kind: 'Doctor',
    destination: d.destination,
    source: d.source,
    target: d.target,
    request: requestDto(d.request),
    steps: d.steps.map((s) => ({
      number: s.number,
      id: s.id,
      title: s.title,
      status: s.status,
      reason: s.reason,
      summary: s.summary,
      evidence: s.evidence,
      findings: s.findings.map(findingDto),
      data: s.data,
    })),
    verdict: d.verdict,
    findings: d.findings.map(findingDto),
    assumptions: d.assumptions,
  });
}

function describeRequest(dest: string, r: TraceRequest): string {
  const what = r.protocol === 'http' || r.protocol === 'http2' ? `HTTP ${r.method} ${r.path}, Host ${r.hostHeader}` : r.protocol === 'tls' ? `TLS, SNI ${r.sni ?? '(none)'}` : r.serverFirst ? 'TCP, server speaks first' : 'TCP';
  return `${dest} (${what}${r.raw !== dest ? `; traced as ${r.raw}` : ''})`;
}

function fixCell(s: Step): string {
  const worst = s.findings.find((f) => f.severity === 'error') ?? s.findings.find((f) => f.severity === 'warning');
  if (!worst) return s.status === 'problem' ? 'see VERDICT' : '-';
  const fix = [...worst.fixes].sort((a, b) => a.rank - b.rank)[0];
  return fix ? `${fix.title} (${worst.code})` : `see ${worst.code}`;
}

export function renderDoctor(d: DoctorReport, opts: RenderOptions): string {
  const out: string[] = [];
  out.push(`${paint(opts, 'bold', 'DOCTOR')}  ${describeRequest(d.destination, d.request)}`);
  out.push(`from    ${d.target.namespace}/${d.target.pod} (${d.target.proxy === 'none' ? 'no sidecar' : d.target.proxy})`);
  const s = d.source;
  if (s.kind !== 'config-dump') {
    const what = { live: 'live cluster', snapshot: 'snapshot', 'bug-report': 'istioctl bug-report', 'config-dump': 'config dump' }[s.kind];
    const parts = [...(s.context ? [`context ${s.context}`] : []), ...(s.via ? [`admin via ${s.via}`] : []), ...(s.notes ?? [])];
    out.push(`via     ${what}${parts.length ? ` (${parts.join(', ')})` : ''}`);
  }
  out.push('');
  const stepW = 22;
  const statusW = 8;
  const fixW = Math.max(18, Math.floor((opts.width - stepW - statusW - 6) * 0.32));
  const evW = Math.max(30, opts.width - stepW - statusW - fixW - 6);
  const style = (st: Step['status']): 'green' | 'red' | 'dim' => (st === 'ok' ? 'green' : st === 'problem' ? 'red' : 'dim');
  const rows = d.steps.map((st) => {
    const lines = [st.status === 'skipped' ? `because ${st.reason ?? 'not applicable'}` : st.summary];
    const extra = opts.wide ? st.evidence : st.status === 'problem' ? st.evidence.slice(0, 1) : [];
    for (const e of extra) if (e !== lines[0]) lines.push(e);
    return [
      wrap(`${st.number} ${SHORT[st.id]}`, stepW, '  '),
      paint(opts, style(st.status), st.status),
      lines.map((l, i) => wrap(l, evW, '  ', i === 0 ? '' : '- ')).join('\n'),
      wrap(fixCell(st), fixW, ''),
    ];
  });
  out.push(table(['step', 'status', 'evidence', 'fix'], rows));
  out.push('');
  const v = d.verdict;
  out.push(`${paint(opts, 'bold', 'VERDICT')}  ${paint(opts, v.status === 'ok' ? 'green' : 'red', v.status === 'ok' ? 'OK' : 'PROBLEM')}`);
  out.push(wrap(v.summary, opts.width, '  ', '  '));
  for (const p of v.problems) {
    out.push(wrap(`${p.rank}. [${p.severity}] ${p.code} (step ${p.step}${p.role === 'symptom' ? ', symptom' : ''}): ${p.message}`, opts.width, '       ', '    '));
  }
  const findings = renderFindings(d.findings, opts);
  if (findings) out.push('', findings);
  if (d.assumptions.length) {
    out.push('', paint(opts, 'bold', 'ASSUMED'));
    for (const a of d.assumptions) out.push(wrap(`- ${a}`, opts.width, '    ', '  '));
  }
  return `${out.join('\n')}\n`;
}
