/**
 * `race-check TARGET` / `race-check --snapshot FILE`: does the application (or an init container)
 * start before the proxy is ready? argv → RaceCheckOptions (validated) → collect or read the
 * snapshot → raceCheck → render → exit decision.
 *
 * Start-up cost: loaded for every command line, so it imports only what defining and validating
 * the flags needs; collection, the analysis and the renderers are imported when it runs.
 */
import type { CommandModule } from 'yargs';
import { reachesThreshold, type FailOn } from '../../analyze/finding.js';
import type { KubeFlags } from '../../collect/kube-flags.js';
import { parseTarget, type TargetSpec } from '../../collect/target-spec.js';
import { UsageError } from '../../model/errors.js';
import { EXIT } from '../exit-codes.js';
import { kubeOptions, toKubeFlags, type KubeArgs } from '../kube-flags.js';
import type { CommandContext } from '../main.js';
import { offlineOptions } from './offline-input.js';

export type RaceCheckInput = { readonly kind: 'snapshot'; readonly file: string } | { readonly kind: 'live'; readonly target: TargetSpec; readonly kube: KubeFlags };

export interface RaceCheckOptions {
  readonly input: RaceCheckInput;
  /** at most this many pods are checked (a workload's newest first) */
  readonly maxPods: number;
  /** bytes of each container log read from its start */
  readonly logBytes: number;
  readonly output: 'table' | 'wide' | 'json' | 'yaml';
  readonly color: 'auto' | 'always' | 'never';
  readonly failOn: FailOn;
}

interface RaceCheckArgs extends KubeArgs {
  target?: string;
  snapshot?: string;
  'max-pods'?: number;
  'limit-bytes'?: number;
  output: string;
  color: string;
  'fail-on': string;
}

export function toRaceCheckOptions(a: RaceCheckArgs): RaceCheckOptions {
  let input: RaceCheckInput;
  if (a.snapshot !== undefined) {
    if (a.target !== undefined) throw new UsageError(`with --snapshot give no TARGET (the archive holds the pod); got ${a.target}`);
    if (a.selector !== undefined) throw new UsageError('with --snapshot give no -l SELECTOR (the archive holds the pod)');
    input = { kind: 'snapshot', file: a.snapshot };
  } else {
    input = { kind: 'live', target: parseTarget(a.target, a.selector), kube: toKubeFlags(a) };
  }
  const maxPods = a['max-pods'] ?? 10;
  if (!Number.isInteger(maxPods) || maxPods < 1) throw new UsageError(`--max-pods must be a positive integer, got ${a['max-pods']}`);
  const logBytes = a['limit-bytes'] ?? 2 * 1024 * 1024;
  if (!Number.isInteger(logBytes) || logBytes < 1024) throw new UsageError(`--limit-bytes must be an integer of at least 1024, got ${a['limit-bytes']}`);
  return { input, maxPods, logBytes, output: a.output as RaceCheckOptions['output'], color: a.color as RaceCheckOptions['color'], failOn: a['fail-on'] as FailOn };
}

export async function runRaceCheckCommand(opts: RaceCheckOptions, ctx: CommandContext): Promise<void> {
  const { raceReport } = await import('../race-check.js');
  const report = await raceReport(opts, ctx.io);
  if (opts.output === 'json' || opts.output === 'yaml') {
    const { raceDto } = await import('../../render/race.js');
    const doc = raceDto(report);
    ctx.io.stdout(await (await import('../output.js')).formatDocument(doc, opts.output));
  } else {
    const [{ renderRace }, { useColor }] = await Promise.all([import('../../render/race.js'), import('../io.js')]);
    ctx.io.stdout(renderRace(report, { color: useColor(ctx.io, opts.color), width: Math.min(110, ctx.io.columns ?? 100), wide: opts.output === 'wide' }));
  }
  // exit codes never depend on -o
  ctx.setExit(opts.failOn !== 'never' && reachesThreshold(report.findings, opts.failOn) ? EXIT.FINDINGS : EXIT.OK);
}

export function raceCheckCommand(ctx: CommandContext, run: (opts: RaceCheckOptions, ctx: CommandContext) => void | Promise<void>): CommandModule<object, RaceCheckArgs> {
  return {
    command: 'race-check [target]',
    describe: 'Does the application or an init container start before the proxy is ready? Timeline, cause and fixes',
    builder: (y) =>
      // offline: a snapshot only; a config dump has no timing, and an istioctl bug-report keeps no
      // application container logs (tools/bug-report/pkg/bugreport/bugreport.go collects proxy,
      // istiod, operator and CNI logs), which race-check needs for the failed connections
      offlineOptions(kubeOptions(y), { configDump: false, bugReport: false })
        .usage('Usage:\n  kubectl mesh-egress race-check TARGET [flags]      (TARGET: POD, pod/NAME, deploy/NAME (its newest pods), sts/NAME, ds/NAME; or -l SELECTOR)\n  kubectl mesh-egress race-check --snapshot FILE [flags]')
        .positional('target', { type: 'string', describe: 'POD, pod/NAME, deploy/NAME, sts/NAME, ds/NAME, rs/NAME' })
        .option('max-pods', { type: 'number', describe: 'Check at most this many pods (default 10)', group: 'Collection:' })
        .option('limit-bytes', { type: 'number', describe: 'Bytes of each container log read from its start (default 2 MiB)', group: 'Collection:' })
        .example('kubectl mesh-egress race-check deploy/checkout -n shop', 'the newest pods of a deployment')
        .example('kubectl mesh-egress race-check -l app=checkout -n shop -o json', 'pods by label, as JSON with the timeline')
        .example('kubectl mesh-egress race-check --snapshot checkout.tar.gz', 'offline, from a snapshot') as never,
    handler: async (argv) => {
      await run(toRaceCheckOptions(argv), ctx);
    },
  };
}
