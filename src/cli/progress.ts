/**
 * Progress for live verbs (DESIGN.md §3): one line on stderr, rewritten in place, only when stderr
 * is a terminal; erased before the answer is printed. Never in pipes, files or CI logs.
 */
import type { Io } from './io.js';

export interface Progress {
  /** "reading pod shop/api", "asking the proxy for config_dump" */
  readonly step: (what: string) => void;
  /** erases the line */
  readonly done: () => void;
}

const SILENT: Progress = { step: () => undefined, done: () => undefined };

export function progressFor(io: Io): Progress {
  if (!io.stderrIsTTY || io.env.TERM === 'dumb') return SILENT;
  const width = Math.max(20, (io.columns ?? 80) - 1);
  let shown = false;
  return {
    step: (what) => {
      const line = `… ${what}`;
      io.stderr(`\r\x1b[2K${line.length > width ? `${line.slice(0, width - 1)}…` : line}`);
      shown = true;
    },
    done: () => {
      if (shown) io.stderr('\r\x1b[2K');
      shown = false;
    },
  };
}
