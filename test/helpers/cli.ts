/**
 * Runs the real CLI in-process with in-memory streams, or, when MESH_EGRESS_BIN names the built
 * single executable, that binary as a child process (CI runs the CLI and e2e suites both ways).
 * Terminal-only behaviour (colour, progress) can only be faked in-process, so those runs stay
 * in-process.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
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

/** The binary under test, if any (relative to the repository root). */
export const BINARY = process.env.MESH_EGRESS_BIN ? path.resolve(import.meta.dirname, '../..', process.env.MESH_EGRESS_BIN) : undefined;

function runBinary(bin: string, args: readonly string[], opts: NonNullable<Parameters<typeof fakeIo>[0]>): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = execFile(bin, [...args], { env: { ...(opts.env ?? {}) }, encoding: 'utf8', maxBuffer: 1 << 28 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : undefined) : 0;
      if (code === undefined) reject(err ?? new Error('no exit code'));
      else resolve({ code, stdout, stderr });
    });
    child.stdin?.end(opts.stdin ?? Buffer.alloc(0));
  });
}

export async function runCli(args: readonly string[], opts: Parameters<typeof fakeIo>[0] = {}): Promise<CliResult> {
  if (BINARY && !opts.isTTY && !opts.stderrIsTTY && opts.columns === undefined) return runBinary(BINARY, args, opts);
  const f = fakeIo(opts);
  const code = await main(args, f.io);
  return { code, stdout: f.out(), stderr: f.err() };
}
