/**
 * What runs when a client execs into a container: the test's rules first, then a few built-in
 * commands, then "executable file not found". Transport-independent.
 */
import { pilotAgent, type EnvoyAdmin } from './envoy/admin.js';
import { SUCCESS, exitCodeStatus } from './status.js';
import type { ExecContext, ExecResult, ExecRule } from './types.js';

export interface ExecEnv {
  rules: ExecRule[];
  /** The Envoy admin emulator of `namespace/pod`, if the test gave it one. */
  admin: (key: string) => EnvoyAdmin | undefined;
  unknownCommand: 'exit127' | 'containerd';
}

export interface ExecOutcome {
  stdout: Buffer;
  stderr: Buffer;
  /** Body of the status/error channel (v4+ JSON). */
  status: Record<string, unknown>;
  /** Exit code as kubectl will report it (for the request log). */
  exitCode: number;
}

function podKey(ctx: ExecContext): string {
  return `${ctx.namespace}/${ctx.pod.metadata.name ?? ''}`;
}

function ruleMatches(r: ExecRule, ctx: ExecContext): boolean {
  const key = podKey(ctx);
  if (r.pod !== undefined && (typeof r.pod === 'string' ? r.pod !== key : !r.pod.test(key))) return false;
  if (r.container !== undefined && r.container !== ctx.container) return false;
  if (r.command !== undefined && (typeof r.command === 'string' ? r.command !== ctx.command[0] : !r.command(ctx.command))) return false;
  return true;
}

const buf = (v: string | Buffer | undefined): Buffer => (v === undefined ? Buffer.alloc(0) : Buffer.isBuffer(v) ? v : Buffer.from(v));

/** The kubelet wraps runtime failures as InternalError on the status channel. */
function internal(message: string): Record<string, unknown> {
  const m = `error executing command in container: ${message}`;
  return { metadata: {}, status: 'Failure', message: `Internal error occurred: ${m}`, reason: 'InternalError', details: { causes: [{ message: m }] }, code: 500 };
}

export async function runExec(env: ExecEnv, ctx: ExecContext): Promise<ExecOutcome> {
  let result: ExecResult | 'unknown' | undefined;
  try {
    for (const r of env.rules) {
      if (!ruleMatches(r, ctx)) continue;
      result = await r.handler(ctx);
      if (result !== undefined) break;
    }
    result ??= await builtin(env, ctx);
  } catch (e) {
    return { stdout: Buffer.alloc(0), stderr: Buffer.alloc(0), status: internal((e as Error).message), exitCode: 1 };
  }
  if (result === 'unknown') {
    const argv0 = ctx.command[0] ?? '';
    const oci = `OCI runtime exec failed: exec failed: unable to start container process: exec: "${argv0}": executable file not found in $PATH: unknown`;
    if (env.unknownCommand === 'containerd') {
      return { stdout: Buffer.alloc(0), stderr: Buffer.alloc(0), status: internal(`failed to exec in container: failed to start exec "${'0'.repeat(64)}": ${oci}`), exitCode: 1 };
    }
    return { stdout: Buffer.alloc(0), stderr: Buffer.from(`${oci}\r\n`), status: exitCodeStatus(ctx.command, 127), exitCode: 127 };
  }
  const code = result.exitCode ?? 0;
  return { stdout: buf(result.stdout), stderr: buf(result.stderr), status: code === 0 ? { ...SUCCESS } : exitCodeStatus(ctx.command, code), exitCode: code };
}

async function builtin(env: ExecEnv, ctx: ExecContext): Promise<ExecResult | 'unknown'> {
  const [argv0, ...args] = ctx.command;
  const containers = (ctx.pod.spec as { containers?: { name: string; image?: string }[]; initContainers?: { name: string; image?: string }[] } | undefined) ?? {};
  const image = [...(containers.containers ?? []), ...(containers.initContainers ?? [])].find((c) => c.name === ctx.container)?.image ?? '';
  // pilot-agent exists in every proxyv2 image, whether or not the test attached an Envoy emulator.
  if ((argv0 === 'pilot-agent' || argv0 === '/usr/local/bin/pilot-agent') && (ctx.container === 'istio-proxy' || /proxyv2/.test(image))) {
    return pilotAgent(env.admin(podKey(ctx)), ctx.command);
  }
  switch (argv0) {
    case 'true':
      return { exitCode: 0 };
    case 'false':
      return { exitCode: 1 };
    case 'echo':
      return { stdout: `${args.join(' ')}\n` };
    case 'cat':
      return args.length === 0 ? { stdout: await ctx.stdin() } : 'unknown';
    case 'sh':
    case '/bin/sh':
    case 'bash': {
      const m = args[0] === '-c' ? /^\s*exit\s+(\d+)\s*$/.exec(args[1] ?? '') : null;
      if (m) return { exitCode: Number(m[1]) };
      return 'unknown';
    }
    default:
      return 'unknown';
  }
}
