/**
 * Runs the real CLI in-process with in-memory streams.
 */
import { main } from '../../src/cli/main.js';
import type { Io } from '../../src/cli/io.js';

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export function fakeIo(opts: { stdin?: Buffer; env?: Record<string, string>; isTTY?: boolean; stderrIsTTY?: boolean; columns?: number } = {}): { io: Io; out: () => string; err: () => string } {
  let out = '';
  let err = '';
  const io: Io = {
    stdout: (t) => {
      out += t;
    },
    stderr: (t) => {
      err += t;
    },
    isTTY: opts.isTTY ?? false,
    stderrIsTTY: opts.stderrIsTTY ?? false,
    env: opts.env ?? {},
    columns: opts.columns ?? 100,
    stdin: () => opts.stdin ?? Buffer.alloc(0),
  };
  return { io, out: () => out, err: () => err };
}

export async function runCli(args: readonly string[], opts: Parameters<typeof fakeIo>[0] = {}): Promise<CliResult> {
  const f = fakeIo(opts);
  const code = await main(args, f.io);
  return { code, stdout: f.out(), stderr: f.err() };
}
