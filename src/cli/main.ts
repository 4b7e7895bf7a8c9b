/**
 * The command table. `main` returns an exit code and never calls process.exit: tests run it
 * in-process with in-memory streams (cmd/ is the only place that touches the real process).
 */
import type { Argv } from 'yargs';
import { UsageError } from '../model/errors.js';
import { VERSION } from '../version.js';
import { doctorCommand, runDoctorCommand } from './commands/doctor.js';
import { logLevelCommand, runLogLevelCommand } from './commands/log-level.js';
import { multiclusterCommand, runMulticlusterCommand } from './commands/multicluster.js';
import { raceCheckCommand, runRaceCheckCommand } from './commands/race-check.js';
import { runSnapshotCommand, snapshotCommand, type SnapshotCommandOptions } from './commands/snapshot.js';
import { runTraceCommand, traceCommand, type TraceOptions } from './commands/trace.js';
import { shortVersion } from './commands/version.js';
import { runWhyBlackholeCommand, whyBlackholeCommand } from './commands/whyblackhole.js';
import { EXIT, exitCodeOf } from './exit-codes.js';
import type { Io } from './io.js';

export interface CommandContext {
  readonly io: Io;
  /** the verb's exit code (0 or 79); errors are thrown instead */
  setExit(code: number): void;
}

/** What each verb does once its options are validated; tests replace it to pin argv → options. */
export interface Runners {
  readonly trace: (opts: TraceOptions, ctx: CommandContext) => void | Promise<void>;
  readonly snapshot: (opts: SnapshotCommandOptions, ctx: CommandContext) => Promise<void>;
}

const DEFAULT_RUNNERS: Runners = { trace: runTraceCommand, snapshot: runSnapshotCommand };

/** Flags shared by every verb, named as kubectl names them. */
export function globalOptions<T>(y: Argv<T>) {
  return y
    .option('output', { alias: 'o', type: 'string', choices: ['table', 'wide', 'json', 'yaml'] as const, default: 'table' as const, describe: 'Output format', global: true })
    .option('color', { type: 'string', choices: ['auto', 'always', 'never'] as const, default: 'auto' as const, describe: 'Colour: auto = on a terminal without NO_COLOR', global: true })
    .option('fail-on', {
      type: 'string',
      choices: ['error', 'warning', 'info', 'never'] as const,
      default: 'error' as const,
      describe: 'Exit 79 when a finding has at least this severity (a failing verdict counts as an error)',
      global: true,
    });
}

/** The hidden verb kubectl_complete-mesh_egress calls (cobra's name for it). */
export const COMPLETE_VERB = '__complete';

/** Flags whose value may be "-" (standard input); yargs would take a lone "-" for a positional. */
const STDIN_FLAGS = new Set(['--config-dump']);

function joinStdinValues(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (STDIN_FLAGS.has(a) && argv[i + 1] === '-') {
      out.push(`${a}=-`);
      i++;
    } else out.push(a);
  }
  return out;
}

export async function main(rawArgv: readonly string[], io: Io, given: Partial<Runners> = {}): Promise<number> {
  const runners: Runners = { ...DEFAULT_RUNNERS, ...given };
  // start-up: `--version` alone is answered before the command table (and yargs) is loaded
  if (rawArgv.length === 1 && rawArgv[0] === '--version') {
    io.stdout(shortVersion());
    return EXIT.OK;
  }
  // `__complete WORD...`: shell completion, run by kubectl_complete-mesh_egress (see completion.ts)
  const completing = rawArgv[0] === COMPLETE_VERB;
  const argv = completing ? [] : joinStdinValues(rawArgv);
  // loaded on demand, like every module a verb needs (see commands/trace.ts): start-up cost
  const { default: yargs } = await import('yargs');
  let exitCode: number = EXIT.OK;
  const ctx: CommandContext = {
    io,
    setExit: (code) => {
      exitCode = code;
    },
  };
  const width = Math.min(110, io.columns ?? 100);
  const parser = globalOptions(yargs([...argv]))
    .scriptName('kubectl mesh-egress')
    .parserConfiguration({ 'greedy-arrays': false })
    .usage('Explain why a pod\'s outbound connection fails inside an Istio mesh, and how to fix it.\n\nUsage: kubectl mesh-egress VERB [flags]')
    .command(traceCommand(ctx, runners.trace))
    .command(snapshotCommand(ctx, runners.snapshot))
    .command(logLevelCommand(ctx, runLogLevelCommand))
    .command(whyBlackholeCommand(ctx, runWhyBlackholeCommand))
    .command(raceCheckCommand(ctx, runRaceCheckCommand))
    .command(multiclusterCommand(ctx, runMulticlusterCommand))
    .command(doctorCommand(ctx, runDoctorCommand))
    .command(
      'version',
      'Print the plugin version, the Node.js runtime it runs on and the kubectl version',
      (y) => y,
      async (a) => {
        const { runVersionCommand } = await import('./commands/version.js');
        await runVersionCommand(String(a.output), ctx);
      },
    )
    .demandCommand(1, 'give a verb, for example: kubectl mesh-egress trace --config-dump dump.json 10.0.0.6:7000')
    .recommendCommands()
    .strict()
    .help('help')
    .alias('help', 'h')
    .version('version', 'Print the plugin version and exit', `kubectl-mesh_egress ${VERSION}`)
    .wrap(width)
    .exitProcess(false)
    .showHelpOnFail(false)
    .fail((msg, err) => {
      // yargs' own parse errors (YError) are usage errors; ours keep their class
      if (err && err.name !== 'YError') throw err;
      throw new UsageError((msg ?? err?.message ?? 'invalid arguments').replace(/\s*\n\s*/g, ' '));
    });
  // start-up: once a verb's handler has started, yargs lays out that verb's whole help text and
  // keeps it in case the handler fails later (usage.cacheHelpMessage): 20-40 ms on every run. This
  // CLI prints its own errors and never shows help on failure, so that text is never used.
  (parser as unknown as { getInternalMethods(): { getUsageInstance(): { cacheHelpMessage(): void } } }).getInternalMethods().getUsageInstance().cacheHelpMessage = () => undefined;
  if (completing) {
    const { completions, formatCompletions } = await import('./completion.js');
    io.stdout(formatCompletions(completions(parser, rawArgv.slice(1))));
    return EXIT.OK;
  }
  try {
    let helpText = '';
    await parser.parseAsync([...argv], {}, (_err, _parsed, output) => {
      if (output) helpText = output;
    });
    if (helpText) io.stdout(`${helpText}\n`);
    return exitCode;
  } catch (err) {
    return reportError(err, io, argv);
  }
}

function reportError(err: unknown, io: Io, argv: readonly string[]): number {
  const code = exitCodeOf(err);
  const message = err instanceof Error ? err.message : String(err);
  if (code === EXIT.INTERNAL) {
    io.stderr(`internal error: ${message}\nThis is a bug in kubectl-mesh_egress ${VERSION}; please report it with the command you ran.${io.env.MESH_EGRESS_DEBUG ? '' : ' (MESH_EGRESS_DEBUG=1 prints a stack trace)'}\n`);
    if (io.env.MESH_EGRESS_DEBUG && err instanceof Error && err.stack) io.stderr(`${err.stack}\n`);
    return code;
  }
  io.stderr(`error: ${message}\n`);
  if (code === EXIT.USAGE) {
    const verb = argv.find((a) => !a.startsWith('-'));
    io.stderr(`See 'kubectl mesh-egress ${verb && verb !== 'help' ? `${verb} ` : ''}--help'.\n`);
  }
  return code;
}
