/**
 * The world the CLI talks to, injected so that tests run the real command with in-memory streams.
 */
export interface Io {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  /** stdout is a terminal (colour) */
  readonly isTTY: boolean;
  /** stderr is a terminal: progress lines go there, and only then */
  readonly stderrIsTTY?: boolean;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** terminal width when known */
  readonly columns: number | undefined;
  /** bytes of standard input, read on demand (for "-" file arguments) */
  readonly stdin: () => Buffer;
  /** SIGINT/SIGTERM, for verbs that must undo a change when interrupted (absent: none arrive) */
  readonly signals?: Signals;
}

export type SignalName = 'SIGINT' | 'SIGTERM';

export interface Signals {
  /**
   * Calls `handler` for each SIGINT and SIGTERM until the returned function is called. While a
   * handler is subscribed the signals no longer end the process: subscribe only for as long as
   * there is something to undo.
   */
  subscribe(handler: (signal: SignalName) => void): () => void;
}

/** Colour only on a terminal, never with NO_COLOR or TERM=dumb, unless forced. */
export function useColor(io: Io, flag: 'auto' | 'always' | 'never'): boolean {
  if (flag === 'always') return true;
  if (flag === 'never') return false;
  if (io.env.NO_COLOR !== undefined && io.env.NO_COLOR !== '') return false;
  if (io.env.TERM === 'dumb') return false;
  return io.isTTY;
}
