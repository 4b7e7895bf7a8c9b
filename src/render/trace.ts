/**
 * Human output of a trace: what was asked, the hop table, the verdict in one sentence naming the
 * responsible objects, then findings with fixes.
 */
import { FAILING_VERDICTS, type Hop, type Trace } from '../analyze/trace/types.js';
import { renderFindings } from './findings.js';
import { paint, table, wrap, type RenderOptions } from './text.js';

const STAGE_LABEL: Readonly<Record<Hop['stage'], string>> = {
  capture: 'capture',
  listener: 'listener',
  listener_filters: 'listener filters',
  filter_chain: 'filter chain',
  network_filters: 'network filters',
  http_route: 'http route',
  cluster: 'cluster',
  endpoints: 'endpoints',
};

function describeRequest(t: Trace): string {
  const r = t.request;
  let what: string;
  if (r.protocol === 'http' || r.protocol === 'http2') what = `${r.protocol === 'http2' ? 'HTTP/2 (h2c)' : 'HTTP/1.1'} ${r.method} ${r.path}, Host ${r.hostHeader}`;
  else if (r.protocol === 'tls') what = `TLS, SNI ${r.sni ?? '(none)'}${r.alpn.length ? `, ALPN ${r.alpn.join(',')}` : ''}`;
  else what = r.serverFirst ? 'TCP, server speaks first' : 'TCP, client speaks first';
  return `${r.raw} (${what})`;
}

function describeProxy(t: Trace): string {
  const p = t.proxy;
  const who = p.pod ? `${p.pod}.${p.namespace ?? '?'}` : (p.id ?? 'unknown proxy');
  const parts = [p.type === 'none' ? 'no sidecar' : p.type, ...(p.istioVersion ? [`Istio ${p.istioVersion}`] : []), ...(p.ips.length ? [p.ips[0]!] : [])];
  return `${who} (${parts.join(', ')})`;
}

/** Only inputs other than a plain dump file are worth a line: they say which cluster was asked. */
function describeSource(t: Trace): string | undefined {
  const s = t.source;
  if (!s || s.kind === 'config-dump') return undefined;
  const what = { live: 'live cluster', snapshot: 'snapshot', 'bug-report': 'istioctl bug-report' }[s.kind];
  const parts = [...(s.context ? [`context ${s.context}`] : []), ...(s.via ? [`admin via ${s.via}`] : []), ...(s.notes ?? [])];
  return parts.length ? `${what} (${parts.join(', ')})` : what;
}

export function renderTrace(t: Trace, opts: RenderOptions): string {
  const out: string[] = [];
  out.push(`${paint(opts, 'bold', 'TRACE')}  ${describeRequest(t)}`);
  out.push(`from   ${describeProxy(t)}`);
  const src = describeSource(t);
  if (src) out.push(`via    ${src}`);
  out.push('');
  const resultWidth = Math.max(40, opts.width - 19);
  const rows = t.hops.map((h) => {
    const lines = [wrap(h.result, resultWidth, '  ', '')];
    if (opts.wide) {
      for (const d of h.details) lines.push(wrap(d, resultWidth, '    ', '  '));
      if (h.evidence) lines.push(wrap(`at ${h.evidence}`, resultWidth, '    ', '  '));
    }
    return [STAGE_LABEL[h.stage], lines.join('\n')];
  });
  out.push(table(['stage', 'result'], rows));
  out.push('');
  const v = t.verdict;
  const code = v.code ?? 'UNDETERMINED';
  const style = v.code === null ? 'yellow' : FAILING_VERDICTS.has(v.code) ? 'red' : v.code === 'ROUTED' ? 'green' : 'yellow';
  const tags = [`outcome ${v.outcome}`, ...(v.responseFlag && v.responseFlag !== '-' ? [`flag ${v.responseFlag}`] : []), ...(v.delayMs ? [`delayed ${v.delayMs / 1000}s`] : [])];
  out.push(`${paint(opts, 'bold', 'VERDICT')}  ${paint(opts, style, code)}  (${tags.join(', ')})`);
  out.push(wrap(v.summary, opts.width, '  '));
  if (v.outboundTrafficPolicy && v.outboundTrafficPolicy !== 'UNKNOWN') out.push(`  Outbound traffic policy: ${v.outboundTrafficPolicy}`);
  if (v.targets?.length) {
    for (const tg of v.targets) out.push(`  ${tg.weight}% → ${tg.cluster}: ${tg.code ?? 'UNDETERMINED'} (${tg.outcome})`);
  }
  if (v.responsible.length) {
    out.push('  Responsible:');
    for (const r of v.responsible.slice(0, opts.wide ? 50 : 6)) {
      const id = r.name ? `${r.kind} ${r.namespace ? `${r.namespace}/` : ''}${r.name}` : `${r.kind} ${r.host ?? ''}${r.namespace ? ` (namespace ${r.namespace})` : ''}`.trim();
      out.push(wrap(`- ${id}: ${r.role}`, opts.width, '      ', '    '));
    }
    if (!opts.wide && v.responsible.length > 6) out.push(`    … and ${v.responsible.length - 6} more (-o wide)`);
  }
  const findings = renderFindings(t.findings, opts);
  if (findings) out.push('', findings);
  if (t.assumptions.length) {
    out.push('', paint(opts, 'bold', 'ASSUMED'));
    for (const a of t.assumptions) out.push(wrap(`- ${a}`, opts.width, '    ', '  '));
  }
  return `${out.join('\n')}\n`;
}
