/**
 * `whyblackhole TARGET [DEST]`: which outbound connections the sidecar black-holed or passed
 * through, and why. Live (stats and istio-proxy logs read from the pod, read-only) or offline
 * (`--snapshot`, `--bug-report --pod`, `--config-dump` with `--access-log` / `--stats`).
 *
 * Start-up cost: only the flags are defined here; the engine, readers and renderers are imported
 * when the verb runs (runWhyBlackholeCommand).
 */
import type { CommandModule } from 'yargs';
import { reachesThreshold, type FailOn } from '../../analyze/finding.js';
import type { RequestFlags } from '../../analyze/trace/request.js';
import type { WhyBlackholeReport } from '../../analyze/whyblackhole/report.js';
import type { KubeFlags } from '../../collect/kube-flags.js';
import { parseTarget, type TargetSpec } from '../../collect/target-spec.js';
import { UsageError } from '../../model/errors.js';
import { EXIT } from '../exit-codes.js';
import { useColor } from '../io.js';
import { kubeOptions, toKubeFlags, type KubeArgs } from '../kube-flags.js';
import type { CommandContext } from '../main.js';
import { offlineFlag, offlineOptions, toOfflineInput, type OfflineArgs, type OfflineInput } from './offline-input.js';
import { requestOptions, toRequestFlags, type RequestArgs } from './request-flags.js';

export type WhyBlackholeInputSpec =
  | OfflineInput
  | { readonly kind: 'live'; readonly target: TargetSpec; readonly kube: KubeFlags; readonly prefer?: 'exec' | 'port-forward'; readonly since: string };

export interface WhyBlackholeOptions {
  readonly input: WhyBlackholeInputSpec;
  readonly dest: string | undefined;
  /** offline evidence files (override what an archive holds) */
  readonly accessLogFile?: string;
  readonly statsFile?: string;
  readonly request: RequestFlags;
  readonly output: 'table' | 'wide' | 'json' | 'yaml';
  readonly color: 'auto' | 'always' | 'never';
  readonly failOn: FailOn;
}

interface WhyBlackholeArgs extends KubeArgs, OfflineArgs, Pick<RequestArgs, 'protocol' | 'host' | 'sni' | 'address'> {
  args?: string[];
  'port-forward'?: boolean;
  'access-log'?: string;
  stats?: string;
  since?: string;
  output: string;
  color: string;
  'fail-on': string;
}

/** kubectl logs --since: a Go duration such as 30m, 1h or 2h30m. */
const SINCE = /^(\d+(\.\d+)?(h|m|s|ms))+$/;

export function toWhyBlackholeOptions(a: WhyBlackholeArgs): WhyBlackholeOptions {
  const positional = a.args ?? [];
  const offline = toOfflineInput(a);
  if ((a['access-log'] !== undefined || a.stats !== undefined) && offline === undefined) {
    throw new UsageError('--access-log and --stats are offline evidence: give them with --config-dump, --snapshot or --bug-report (live runs read the pod)');
  }
  if (a.since !== undefined && offline !== undefined) throw new UsageError(`--since applies to live runs (kubectl logs --since); ${offlineFlag(offline)} holds the log as it was collected`);
  if (a.since !== undefined && !SINCE.test(a.since)) throw new UsageError(`invalid --since "${a.since}": use a duration such as 30m, 1h or 2h30m`);
  let input: WhyBlackholeInputSpec;
  let dest: string | undefined;
  if (offline !== undefined) {
    if (positional.length > 1) throw new UsageError(`with ${offlineFlag(offline)} give at most DEST (the input is the proxy); got: ${positional.join(' ')}`);
    dest = positional[0];
    input = offline;
  } else {
    if (a.selector !== undefined && positional.length > 1) throw new UsageError(`give either TARGET (${positional[0]}) or -l SELECTOR, not both`);
    if (positional.length > 2) throw new UsageError(`too many arguments: ${positional.join(' ')} (TARGET [DEST])`);
    if (positional.length === 0 && a.selector === undefined) throw new UsageError('missing TARGET: a pod (POD, pod/NAME, deploy/NAME) or -l SELECTOR; offline: --snapshot, --bug-report or --config-dump');
    const target = parseTarget(a.selector !== undefined ? undefined : positional[0], a.selector);
    dest = a.selector !== undefined ? positional[0] : positional[1];
    input = { kind: 'live', target, kube: toKubeFlags(a), since: a.since ?? '1h', ...(a['port-forward'] ? { prefer: 'port-forward' as const } : {}) };
  }
  if (dest === undefined && (a.protocol !== undefined || a.host !== undefined || a.sni !== undefined || a.address !== undefined)) {
    throw new UsageError('--protocol, --host, --sni and --address describe DEST: give DEST too');
  }
  return {
    input,
    dest,
    ...(a['access-log'] !== undefined ? { accessLogFile: a['access-log'] } : {}),
    ...(a.stats !== undefined ? { statsFile: a.stats } : {}),
    request: toRequestFlags(a),
    output: a.output as WhyBlackholeOptions['output'],
    color: a.color as WhyBlackholeOptions['color'],
    failOn: a['fail-on'] as FailOn,
  };
}

/** 79 when black-holed traffic was found (or DEST's verdict fails), or findings reach --fail-on. */
export function whyBlackholeExitCode(r: WhyBlackholeReport, failOn: FailOn): number {
  if (failOn === 'never') return EXIT.OK;
  if (r.blackholed) return EXIT.FINDINGS;
  return reachesThreshold(r.findings, failOn) ? EXIT.FINDINGS : EXIT.OK;
}

async function readEvidenceFile(file: string, what: string): Promise<string> {
  const [{ default: fs }, { DataError }] = await Promise.all([import('node:fs'), import('../../model/errors.js')]);
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new DataError(file, `cannot read the ${what}: ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : (e as Error).message}`);
  }
}

export async function runWhyBlackholeCommand(opts: WhyBlackholeOptions, ctx: CommandContext): Promise<void> {
  let report: WhyBlackholeReport;
  const input = opts.input;
  if (input.kind === 'live') {
    const { whyBlackholeLive } = await import('../whyblackhole-live.js');
    report = await whyBlackholeLive({ target: input.target, kube: input.kube, since: input.since, dest: opts.dest, request: opts.request, ...(input.prefer ? { prefer: input.prefer } : {}) }, ctx.io);
  } else {
    const { analyzeWhyBlackhole } = await import('../../analyze/whyblackhole/report.js');
    const logFile = opts.accessLogFile !== undefined ? await readEvidenceFile(opts.accessLogFile, 'access log') : undefined;
    const statsFile = opts.statsFile !== undefined ? await readEvidenceFile(opts.statsFile, 'stats') : undefined;
    if (input.kind === 'config-dump') {
      const { loadConfigDump } = await import('../../collect/dump-files.js');
      const dump = loadConfigDump(input.files, ctx.io.stdin);
      report = analyzeWhyBlackhole({
        dump,
        view: undefined,
        accessLog: logFile !== undefined ? { text: logFile, what: opts.accessLogFile! } : { what: 'the access log (not given: --access-log FILE)' },
        stats: statsFile !== undefined ? { text: statsFile, what: opts.statsFile! } : { what: 'the proxy stats (not given: --stats FILE)' },
        ...(opts.dest !== undefined ? { dest: opts.dest } : {}),
        flags: opts.request,
        source: { kind: 'config-dump' },
      });
    } else {
      const { openPodArchive } = await import('../pod-archive.js');
      const archive = await openPodArchive(input);
      const { contents } = archive;
      try {
        const logWhat = input.kind === 'snapshot' ? 'the istio-proxy log stored in the snapshot' : 'the istio-proxy log in the bug report';
        const statsWhat = input.kind === 'snapshot' ? 'the proxy stats stored in the snapshot' : 'the proxy stats in the bug report';
        const telemetryText = contents.readText('cluster/telemetries.json');
        let telemetries;
        if (telemetryText !== undefined) {
          try {
            telemetries = (JSON.parse(telemetryText) as { items?: [] }).items ?? [];
          } catch {
            telemetries = undefined;
          }
        }
        const logText = logFile ?? contents.proxyLog;
        const statsText = statsFile ?? contents.stats;
        const missing = (what: string, remedy: string) => ({ what, error: { reason: 'not in the archive', remedy } });
        report = analyzeWhyBlackhole({
          dump: archive.dump,
          view: contents.view,
          ...(telemetries ? { telemetries } : {}),
          accessLog: logText !== undefined ? { text: logText, what: logFile !== undefined ? opts.accessLogFile! : logWhat } : missing(logWhat, 'Pass the istio-proxy log with --access-log FILE (kubectl logs POD -c istio-proxy).'),
          stats: statsText !== undefined ? { text: statsText, what: statsFile !== undefined ? opts.statsFile! : statsWhat } : missing(statsWhat, 'Pass the proxy stats with --stats FILE (kubectl exec POD -c istio-proxy -- pilot-agent request GET stats/prometheus).'),
          ...(opts.dest !== undefined ? { dest: opts.dest } : {}),
          flags: opts.request,
          source: archive.source,
        });
      } finally {
        archive.dispose();
      }
    }
  }
  ctx.io.stdout(await formatReport(report, opts, ctx));
  ctx.setExit(whyBlackholeExitCode(report, opts.failOn));
}

async function formatReport(r: WhyBlackholeReport, opts: WhyBlackholeOptions, ctx: CommandContext): Promise<string> {
  const { whyBlackholeDto, renderWhyBlackhole } = await import('../../render/whyblackhole.js');
  if (opts.output === 'json' || opts.output === 'yaml') return (await import('../output.js')).formatDocument(whyBlackholeDto(r), opts.output);
  return renderWhyBlackhole(r, { color: useColor(ctx.io, opts.color), width: Math.min(110, ctx.io.columns ?? 100), wide: opts.output === 'wide' });
}

export function whyBlackholeCommand(ctx: CommandContext, run: (opts: WhyBlackholeOptions, ctx: CommandContext) => void | Promise<void>): CommandModule<object, WhyBlackholeArgs> {
  return {
    command: 'whyblackhole [args..]',
    describe: 'Which outbound connections the sidecar black-holed or passed through (access log, metrics), and why',
    builder: (y) =>
      requestOptions(
        offlineOptions(kubeOptions(y), { configDump: 'Envoy admin /config_dump (JSON or YAML; "-" for stdin)' })
          .usage(
            'Usage:\n  kubectl mesh-egress whyblackhole TARGET [DEST] [flags]     (TARGET: POD, pod/NAME, deploy/NAME; or -l SELECTOR [DEST])\n  kubectl mesh-egress whyblackhole --snapshot FILE [DEST]\n  kubectl mesh-egress whyblackhole --bug-report FILE --pod NS/NAME [DEST]\n  kubectl mesh-egress whyblackhole --config-dump FILE [--access-log FILE] [--stats FILE] [DEST]',
          )
          .positional('args', { type: 'string', array: true, describe: 'TARGET [DEST]; offline: [DEST]' })
          .option('since', { type: 'string', describe: 'Read the istio-proxy log of this long ago until now (kubectl logs --since; default 1h)', group: 'Evidence:' })
          .option('port-forward', { type: 'boolean', describe: 'Reach the proxy admin API by port-forward instead of exec', group: 'Cluster access (as kubectl):' })
          .option('access-log', { type: 'string', requiresArg: true, describe: 'istio-proxy log (text or JSON access log) to read instead of the archive\'s', group: 'Offline input:' })
          .option('stats', { type: 'string', requiresArg: true, describe: 'Proxy stats (/stats/prometheus or /stats text) to read instead of the archive\'s', group: 'Offline input:' }),
        'DEST:',
        ['protocol', 'host', 'sni', 'address'],
      )
        .example('kubectl mesh-egress whyblackhole deploy/checkout -n shop', 'what the sidecar black-holed in the last hour, and why')
        .example('kubectl mesh-egress whyblackhole deploy/checkout -n shop 10.0.0.6:7000', 'one destination, even before any traffic')
        .example('kubectl mesh-egress whyblackhole --snapshot snap.tar.gz', 'from a snapshot')
        .example('kubectl mesh-egress whyblackhole --config-dump dump.json --access-log proxy.log --stats stats.prom', 'from files') as never,
    handler: async (argv) => {
      await run(toWhyBlackholeOptions(argv), ctx);
    },
  };
}
