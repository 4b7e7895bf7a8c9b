/**
 * Exit codes (DESIGN.md §3), never dependent on -o:
 * 0 nothing wrong found; 1 internal bug; 64 usage; 65 bad input data; 69 unavailable;
 * 79 the diagnosis found a problem at or above --fail-on.
 */
import { DataError, UnavailableError, UsageError } from '../model/errors.js';

export const EXIT = {
  OK: 0,
  INTERNAL: 1,
  USAGE: 64,
  DATA: 65,
  UNAVAILABLE: 69,
  FINDINGS: 79,
} as const;

export function exitCodeOf(err: unknown): number {
  if (err instanceof UsageError) return EXIT.USAGE;
  if (err instanceof DataError) return EXIT.DATA;
  if (err instanceof UnavailableError) return EXIT.UNAVAILABLE;
  return EXIT.INTERNAL;
}
