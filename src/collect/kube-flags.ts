/**
 * kubectl's global flags and duration syntax. Kept free of heavy imports: the command table
 * validates them before anything runs.
 */
import { UsageError } from '../model/errors.js';

/** kubectl's global flags, as the user gave them. */
export interface KubeFlags {
  readonly kubeconfig?: string;
  readonly context?: string;
  readonly cluster?: string;
  readonly user?: string;
  readonly as?: string;
  readonly asGroups?: readonly string[];
  readonly namespace?: string;
  /** kubectl duration ("30s", "2m") bounding the whole run */
  readonly requestTimeout?: string;
}

/** Parses "30s", "2m", "1h", "500ms", "0" (kubectl's --request-timeout forms) into ms; 0 = none. */
export function parseKubeDuration(s: string): number {
  const t = s.trim();
  if (/^\d+$/.test(t)) return Number(t) * 1000;
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h)/g;
  let total = 0;
  let consumed = 0;
  for (const m of t.matchAll(re)) {
    const n = Number(m[1]);
    total += m[2] === 'ms' ? n : m[2] === 's' ? n * 1000 : m[2] === 'm' ? n * 60_000 : n * 3_600_000;
    consumed += m[0].length;
  }
  if (consumed !== t.length || t === '') throw new UsageError(`invalid --request-timeout "${s}": use a duration such as 30s or 2m`);
  return total;
}

