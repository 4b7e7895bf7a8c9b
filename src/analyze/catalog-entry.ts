/**
 * The shape of a catalog entry (see catalog.ts). Entries are grouped by verb in catalog-<verb>.ts
 * files that catalog.ts joins into the one catalog; codes follow the topic ranges there.
 */
import type { Severity } from './finding.js';

export interface Entry<P> {
  readonly code: `MEG0${number}`;
  readonly severity: Severity;
  readonly title: string;
  /** what it means and why it matters (user documentation) */
  readonly description: string;
  readonly message: (p: P) => string;
}

export function entry<P>(e: Entry<P>): Entry<P> {
  return e;
}
