/**
 * Findings: what a check or the trace engine concluded, with evidence and ranked fixes.
 * Sorted and de-duplicated once, here, never in renderers.
 */

export type Severity = 'error' | 'warning' | 'info';

export const SEVERITY_RANK: Readonly<Record<Severity, number>> = { error: 3, warning: 2, info: 1 };

export interface Fix {
  /** 1 = recommended first */
  readonly rank: number;
  readonly title: string;
  /** what it costs or changes */
  readonly tradeoffs: string;
  /** ready-to-apply YAML, a kubectl command, or prose */
  readonly kind: 'yaml' | 'command' | 'text';
  readonly content: string;
}

export interface Subject {
  readonly kind: string;
  readonly name?: string;
  readonly namespace?: string;
}

export interface Finding {
  readonly code: string;
  readonly name: string;
  readonly severity: Severity;
  readonly message: string;
  readonly subject?: Subject;
  /** where the conclusion comes from: dump paths, rules, log lines */
  readonly evidence: readonly string[];
  readonly fixes: readonly Fix[];
}

function subjectKey(s: Subject | undefined): string {
  return s ? `${s.kind}/${s.namespace ?? ''}/${s.name ?? ''}` : '';
}

/** Severity (high first), then code, then subject, then message; duplicates removed. */
export function sortFindings(findings: readonly Finding[]): Finding[] {
  const seen = new Set<string>();
  const out: Finding[] = [];
  for (const f of findings) {
    const key = `${f.code}\u0000${subjectKey(f.subject)}\u0000${f.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(f);
  }
  return out.sort(
    (a, b) =>
      SEVERITY_RANK[b.severity] - SEVERITY_RANK[a.severity] ||
      a.code.localeCompare(b.code) ||
      subjectKey(a.subject).localeCompare(subjectKey(b.subject)) ||
      a.message.localeCompare(b.message),
  );
}

export type FailOn = Severity | 'never';

/** Whether findings reach the --fail-on threshold (exit 79). */
export function reachesThreshold(findings: readonly Finding[], failOn: FailOn): boolean {
  if (failOn === 'never') return false;
  const min = SEVERITY_RANK[failOn];
  return findings.some((f) => SEVERITY_RANK[f.severity] >= min);
}
