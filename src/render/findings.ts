/**
 * Findings with their fixes, for every verb's human output.
 */
import type { Finding } from '../analyze/finding.js';
import { indentBlock, paint, wrap, type RenderOptions } from './text.js';

const LEVEL: Readonly<Record<Finding['severity'], { label: string; style: 'red' | 'yellow' | 'cyan' }>> = {
  error: { label: 'ERROR', style: 'red' },
  warning: { label: 'WARN ', style: 'yellow' },
  info: { label: 'INFO ', style: 'cyan' },
};

export function renderFindings(findings: readonly Finding[], opts: RenderOptions): string {
  if (findings.length === 0) return '';
  const out: string[] = [paint(opts, 'bold', 'FINDINGS')];
  for (const f of findings) {
    const lvl = LEVEL[f.severity];
    const head = `  ${paint(opts, lvl.style, lvl.label)} ${f.code}  `;
    out.push(wrap(f.message, opts.width, ' '.repeat(16), head));
    if (opts.wide) for (const e of f.evidence) out.push(wrap(`evidence: ${e}`, opts.width, '      '));
    for (const fix of f.fixes) {
      out.push(`      Fix ${fix.rank}: ${fix.title}`);
      out.push(wrap(`Trade-offs: ${fix.tradeoffs}`, opts.width, '        '));
      out.push(indentBlock(fix.content, '        '));
    }
  }
  return out.join('\n');
}
