/**
 * race-check output: one row per pod (sidecar layout, application start, proxy ready, the window
 * between them, the first connection refused, verdict), then for each pod with a problem (every
 * pod with -o wide) its timeline and init containers, then findings with fixes. The JSON document
 * (kind RaceCheck) carries the same data with full RFC 3339 timestamps.
 */
import type { PodRace, RaceReport } from '../analyze/race/types.js';
import { API_VERSION, findingDto, sortKeys } from './dto.js';
import { renderFindings } from './findings.js';
import { indentBlock, paint, table, wrap, type RenderOptions } from './text.js';

export function raceDto(r: RaceReport): unknown {
  return sortKeys({
    apiVersion: API_VERSION,
    kind: 'RaceCheck',
    source: r.source,
    collectedAt: r.collectedAt,
    selection: r.selection,
    verdict: r.verdict,
    pods: r.pods,
    findings: r.findings.map(findingDto),
    gaps: r.gaps,
  });
}

/** "2026-01-05T08:00:02.552128897Z" → "08:00:02.552" (the date is printed once when all share it). */
function clock(at: string | undefined, withDate: boolean): string {
  if (!at) return '-';
  const m = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2})(?:[.,](\d+))?/.exec(at);
  if (!m) return at;
  const t = `${m[2]}${m[3] ? `.${m[3].slice(0, 3).padEnd(3, '0')}` : ''}`;
  return withDate ? `${m[1]} ${t}` : t;
}

function dates(r: RaceReport): Set<string> {
  const out = new Set<string>();
  for (const p of r.pods) for (const e of p.timeline) out.add(e.at.slice(0, 10));
  return out;
}

function sidecarText(p: PodRace): string {
  const s = p.sidecar;
  if (s.layout === 'none') return 'none';
  if (s.layout === 'ambient') return 'ambient';
  const v = s.istioVersion ? ` ${s.istioVersion}` : '';
  if (s.layout === 'native') return `native${v}${s.startupProbe ? '' : ', no startupProbe'}`;
  if (s.layout === 'init-without-restart') return `native (broken)${v}`;
  return `classic${v}, ${p.ordering.holdEffective ? 'hold' : p.ordering.holdRequested ? 'hold not in effect' : 'no hold'}`;
}

const VERDICT_STYLE: Readonly<Record<string, 'red' | 'yellow' | 'green' | 'cyan'>> = {
  RACED: 'red',
  INIT_BLOCKED: 'red',
  STUCK_IN_INIT: 'red',
  EXPOSED: 'yellow',
  ORDERED: 'green',
  NO_SIDECAR: 'cyan',
};

function windowText(p: PodRace): string {
  if (!p.window) return '-';
  return `${p.window.closed ? '' : '>'}${p.window.seconds.toFixed(p.window.seconds < 10 ? 2 : 1)} s`;
}

function micros(at: string): number {
  const d = Date.parse(at.replace(/(\.\d{3})\d+/, '$1'));
  const frac = /\.(\d+)/.exec(at)?.[1] ?? '';
  return d * 1000 + Number((frac.slice(3) + '000').slice(0, 3));
}

/** The WHAT column of a timeline keeps rows on one line of a 110-column terminal (-o wide: whole). */
const WHAT_WIDTH = 84;

function podBlock(p: PodRace, opts: RenderOptions, withDate: boolean): string {
  const out: string[] = [paint(opts, 'bold', `POD ${p.namespace}/${p.name}`)];
  const facts: string[] = [];
  facts.push(`${p.ordering.how}.`);
  if (p.node) facts.push(`Node ${p.node}${p.kubeletVersion ? ` (kubelet ${p.kubeletVersion})` : ''}.`);
  if (p.proxyReady) facts.push(`Proxy ready ${p.proxyReady.bound ? 'by' : 'at'} ${p.proxyReady.at} (${p.proxyReady.source}).`);
  if (p.proxyNotReadyUntil && (!p.proxyReady || p.proxyReady.bound)) facts.push(`Proxy still not ready at ${p.proxyNotReadyUntil.at} (${p.proxyNotReadyUntil.source}).`);
  if (p.window) facts.push(`Window: ${p.window.from} → ${p.window.to}${p.window.closed ? '' : ' (at least)'}, ${p.window.seconds} s; ${p.refusedInWindow} connection-refused line${p.refusedInWindow === 1 ? '' : 's'} inside it.`);
  out.push(wrap(facts.join(' '), opts.width, '  ', '  '));
  if (p.timeline.length) {
    const t0 = micros(p.timeline[0]!.at);
    const rows = p.timeline.map((e) => {
      const suffix = e.count && e.count > 1 ? ` (${e.count} times${e.until ? `, last ${clock(e.until, withDate)}` : ''})` : '';
      const room = WHAT_WIDTH - suffix.length;
      const what = !opts.wide && e.what.length > room ? `${e.what.slice(0, room - 1)}…` : e.what;
      return [clock(e.at, withDate), `+${((micros(e.at) - t0) / 1e6).toFixed(2)}`, e.source, e.container ?? '-', `${what}${suffix}`];
    });
    out.push(indentBlock(table(['time', '+s', 'source', 'container', 'what'], rows), '  '));
  }
  const user = p.initContainers.filter((c) => c.role === 'user' || c.state !== 'completed');
  if (p.initContainers.length && (user.length || opts.wide)) {
    const rows = p.initContainers.map((c) => [String(c.index + 1), c.name, c.state, c.needsNetwork ? `${c.needsNetwork}${c.destination ? ` (${c.destination})` : ''}` : '-', c.captured ? `${c.captured}${c.proxyRunning ? ', proxy ready first' : ''}` : '-']);
    out.push('', indentBlock(table(['#', 'init container', 'state', 'network', 'captured'], rows), '  '));
  }
  if (p.restarts.length) out.push('', `  Restarts: ${p.restarts.map((r) => `${r.container} ${r.count}${r.last ? ` (last: ${r.last})` : ''}`).join('; ')}`);
  for (const n of p.notes) out.push(wrap(`Note: ${n}`, opts.width, '    ', '  '));
  return out.join('\n');
}

export function renderRace(r: RaceReport, opts: RenderOptions): string {
  const ds = dates(r);
  const withDate = ds.size > 1;
  const out: string[] = [];
  const head = `${r.selection.what}${r.selection.note ? `: ${r.selection.note}` : ''}`;
  out.push(wrap(head, opts.width, '            ', `${paint(opts, 'bold', 'RACE CHECK')}  `));
  const src = r.source.kind === 'snapshot' ? `snapshot ${r.source.file}${r.source.context ? ` (context ${r.source.context})` : ''}` : `live, context ${r.source.context ?? '?'}`;
  out.push(`SOURCE      ${src}, collected ${r.collectedAt}`);
  if (ds.size === 1) out.push(`TIMES       UTC, ${[...ds][0]}`);
  out.push(`VERDICT     ${paint(opts, VERDICT_STYLE[r.verdict] ?? 'bold', r.verdict)}`, '');
  const rows = r.pods.map((p) => [
    p.name,
    p.status,
    sidecarText(p),
    p.appStarted ? clock(p.appStarted.at, withDate) : '-',
    p.proxyReady ? `${p.proxyReady.bound ? '<=' : ''}${clock(p.proxyReady.at, withDate)}` : p.proxyNotReadyUntil ? `>${clock(p.proxyNotReadyUntil.at, withDate)}` : '-',
    windowText(p),
    p.firstRefused ? `${clock(p.firstRefused.at, withDate)}${p.firstRefused.inWindow === false ? ' (after)' : ''}` : '-',
    paint(opts, VERDICT_STYLE[p.verdict] ?? 'bold', p.verdict),
  ]);
  out.push(table(['pod', 'status', 'sidecar', 'app started', 'proxy ready', 'window', 'first refused', 'verdict'], rows));
  for (const p of r.pods) {
    if (!opts.wide && (p.verdict === 'ORDERED' || p.verdict === 'NO_SIDECAR') && !p.notes.length) continue;
    out.push('', podBlock(p, opts, withDate));
  }
  const findings = renderFindings(r.findings, opts);
  if (findings) out.push('', findings);
  return `${out.join('\n')}\n`;
}
