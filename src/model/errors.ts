/**
 * Errors a user can cause or meet, each mapped to one exit code by the CLI
 * (DESIGN.md §3: 64 usage, 65 bad input data, 69 unavailable, 1 internal bug).
 * Messages are one line: what was wrong and what to do.
 */

/** Bad flags or arguments (exit 64). */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** Unreadable, malformed, truncated or unsupported input data (exit 65). */
export class DataError extends Error {
  override readonly name = 'DataError';
  constructor(
    readonly file: string,
    problem: string,
  ) {
    super(`${file}: ${problem}`);
  }
}

/** The cluster, proxy or a required tool cannot give an answer (exit 69). */
export class UnavailableError extends Error {
  override readonly name: string = 'UnavailableError';
}
