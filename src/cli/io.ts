/**
 * The world the CLI talks to, injected so that tests run the real command with in-memory streams.
 */
export interface Io {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  /** stdout is a terminal (colour, progress) */
  readonly isTTY: boolean;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** terminal width when known */
  readonly columns: number | undefined;
  /** bytes of standard input, read on demand (for "-" file arguments) */
  readonly stdin: () => Buffer;
}

/** Colour only on a terminal, never with NO_COLOR or TERM=dumb, unless forced. */
export function useColor(io: Io, flag: 'auto' | 'always' | 'never'): boolean {
  if (flag === 'always') return true;
  if (flag === 'never') return false;
  if (io.env.NO_COLOR !== undefined && io.env.NO_COLOR !== '') return false;
  if (io.env.TERM === 'dumb') return false;
  return io.isTTY;
}
