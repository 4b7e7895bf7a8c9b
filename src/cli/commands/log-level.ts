/**
 * `log-level TARGET [LOGGER=LEVEL | LEVEL]… [--for D] [--follow] [--preset egress] [--detach]`
 * and `log-level --restore [TARGET]`: argv → LogLevelOptions (validated) → runLogLevelCommand,
 * which loads the session code on demand (start-up cost, see trace.ts).
 */
import type { CommandModule } from 'yargs';
import { isChange, parseLevelArgs, PRESETS, type LevelRequest } from '../../analyze/log-level-request.js';
import { isEnvoyLevel } from '../../model/logging-text.js';
import { parseKubeDuration, type KubeFlags } from '../../collect/kube-flags.js';
import { parseTarget, type TargetSpec } from '../../collect/target-spec.js';
import { UsageError } from '../../model/errors.js';
import { kubeOptions, toKubeFlags, type KubeArgs } from '../kube-flags.js';
import type { CommandContext } from '../main.js';

/**
 * `-A` alone: every pod Istio's injector gave a sidecar. The injection template labels them
 * `security.istio.io/tlsMode` (manifests/charts/istio-control/istio-discovery/files/injection-template.yaml);
 * gateways are not labelled: name them (deploy/istio-ingressgateway -n istio-system).
 */
export const INJECTED_SELECTOR = 'security.istio.io/tlsMode';

export interface LogLevelOptions {
  /** undefined only for `--restore` without TARGET */
  readonly target: TargetSpec | undefined;
  /** TARGET as the user wrote it, for messages and leases */
  readonly targetText: string | undefined;
  readonly allNamespaces: boolean;
  readonly kube: KubeFlags;
  readonly request: LevelRequest;
  readonly forMs: number | undefined;
  readonly forText: string | undefined;
  readonly follow: boolean;
  readonly detach: boolean;
  readonly restore: boolean;
  readonly prefer?: 'exec' | 'port-forward';
  readonly output: 'table' | 'wide' | 'json' | 'yaml';
  readonly color: 'auto' | 'always' | 'never';
}

interface LogLevelArgs extends KubeArgs {
  args?: string[];
  'all-namespaces'?: boolean;
  for?: string;
  follow?: boolean;
  preset?: string;
  detach?: boolean;
  restore?: boolean;
  'port-forward'?: boolean;
  output: string;
  color: string;
}

/** `--for` in kubectl's duration syntax (30s, 5m, 1h30m; a bare number is seconds). */
function parseFor(text: string): number {
  let ms: number;
  try {
    ms = parseKubeDuration(text);
  } catch {
    throw new UsageError(`invalid --for "${text}": use a duration such as 30s, 5m or 1h`);
  }
  if (ms <= 0) throw new UsageError(`--for must be longer than 0, got "${text}"`);
  return ms;
}

/** Pod names are DNS subdomains: an argument with = or : is a LOGGER=LEVEL, never a TARGET. */
const LOOKS_LIKE_LEVEL = /[=:]/;

export function toLogLevelOptions(a: LogLevelArgs): LogLevelOptions {
  const positional = (a.args ?? []).map(String);
  const all = a['all-namespaces'] === true;
  const bySelector = a.selector !== undefined || all;
  let targetText: string | undefined;
  let levelArgs: string[];
  if (bySelector) {
    levelArgs = positional;
    const stray = positional.find((p) => !LOOKS_LIKE_LEVEL.test(p) && !isEnvoyLevel(p));
    if (stray !== undefined) throw new UsageError(`"${stray}" is neither LOGGER=LEVEL nor a level: with ${a.selector !== undefined ? '-l' : '-A'} the selector chooses the pods, so give no TARGET`);
  } else {
    targetText = positional[0];
    levelArgs = positional.slice(1);
    if (targetText !== undefined && LOOKS_LIKE_LEVEL.test(targetText)) {
      throw new UsageError(`missing TARGET before ${targetText}: give the pods first (POD, deploy/NAME, -l SELECTOR or -A), then LOGGER=LEVEL`);
    }
  }
  const restore = a.restore === true;
  if (restore) {
    const extra = [levelArgs.length ? 'levels' : '', a.for !== undefined ? '--for' : '', a.follow ? '--follow' : '', a.preset !== undefined ? '--preset' : '', a.detach ? '--detach' : ''].filter(Boolean);
    if (extra.length) throw new UsageError(`--restore restores what a lease recorded; it takes no ${extra.join(', ')} (only an optional TARGET)`);
  }
  const request = parseLevelArgs(levelArgs, a.preset);
  const change = isChange(request);
  let target: TargetSpec | undefined;
  if (restore && !bySelector && targetText === undefined) target = undefined;
  else if (all && a.selector === undefined) target = { kind: 'selector', selector: INJECTED_SELECTOR };
  else target = parseTarget(bySelector ? undefined : targetText, a.selector);
  const output = a.output as LogLevelOptions['output'];
  if (!change && !restore) {
    const extra = [a.for !== undefined ? '--for' : '', a.follow ? '--follow' : '', a.detach ? '--detach' : ''].filter(Boolean);
    if (extra.length) throw new UsageError(`${extra.join(', ')} ${extra.length === 1 ? 'needs' : 'need'} a change: give LOGGER=LEVEL, a LEVEL for every logger, or --preset egress`);
  }
  if (a.detach && a.follow) throw new UsageError('--detach returns at once and --follow streams logs until the change ends: give one or the other');
  if (a.follow && (output === 'json' || output === 'yaml')) throw new UsageError(`--follow streams log lines to standard output, which -o ${output} reserves for one document: drop one of them`);
  const forMs = a.for !== undefined ? parseFor(a.for) : undefined;
  return {
    target,
    targetText: all ? (a.selector !== undefined ? `-l ${a.selector} -A` : '-A') : a.selector !== undefined ? `-l ${a.selector}` : targetText,
    allNamespaces: all,
    kube: toKubeFlags(a),
    request,
    forMs,
    forText: a.for,
    follow: a.follow === true,
    detach: a.detach === true,
    restore,
    ...(a['port-forward'] ? { prefer: 'port-forward' as const } : {}),
    output,
    color: a.color as LogLevelOptions['color'],
  };
}

export async function runLogLevelCommand(opts: LogLevelOptions, ctx: CommandContext): Promise<void> {
  const { runLogLevel } = await import('../log-level.js');
  await runLogLevel(opts, ctx);
}

export function logLevelCommand(ctx: CommandContext, run: (opts: LogLevelOptions, ctx: CommandContext) => Promise<void>): CommandModule<object, LogLevelArgs> {
  return {
    command: 'log-level [args..]',
    describe: 'Show or change Envoy logger levels on every selected proxy, and restore exactly the previous levels afterwards',
    builder: (y) =>
      kubeOptions(y)
        .usage(
          'Usage: kubectl mesh-egress log-level TARGET [LOGGER=LEVEL | LEVEL]... [--for DURATION] [--follow] [--preset egress] [--detach]\n' +
            '       kubectl mesh-egress log-level --restore [TARGET]\n\n' +
            'TARGET: POD, pod/NAME, deploy/NAME (sts, ds, rs), -l SELECTOR, -A (every injected sidecar; with -l, that selector in every namespace).\n' +
            'Without levels: print every logger\'s level per pod. With levels: read the current levels, check every LOGGER against the proxies\' own lists, ' +
            'set the new levels on all pods in parallel, and set exactly the previous levels back when --for expires, on Ctrl-C or SIGTERM, or when a pod fails. ' +
            'Without --for the change lasts until Ctrl-C. Levels: trace debug info warning error critical off.',
        )
        .positional('args', { type: 'string', array: true, describe: 'TARGET, then LOGGER=LEVEL or LEVEL (every logger)' })
        .option('all-namespaces', { alias: 'A', type: 'boolean', describe: 'Pods in every namespace: with -l, that selector; alone, every injected sidecar', group: 'Cluster access (as kubectl):' })
        .option('for', { type: 'string', requiresArg: true, describe: 'Restore after this long (30s, 5m); with --detach: when the lease expires (default 1h)' })
        .option('follow', { type: 'boolean', describe: 'Stream the istio-proxy logs of the pods, prefixed by pod, while the change lasts' })
        .option('preset', { type: 'string', requiresArg: true, choices: Object.keys(PRESETS), describe: `Loggers for a question: egress = ${PRESETS.egress!.describe}` })
        .option('detach', { type: 'boolean', describe: 'Leave the change in place and record it in a lease file; undo with --restore' })
        .option('restore', { type: 'boolean', describe: 'Restore what detached (or unfinished) runs recorded in their lease files, for the current context' })
        .option('port-forward', { type: 'boolean', describe: 'Reach the proxy admin API by port-forward instead of exec', group: 'Cluster access (as kubectl):' })
        .example('kubectl mesh-egress log-level deploy/checkout -n shop --preset egress --for 2m --follow', 'debug the egress path of every replica for two minutes, logs streamed')
        .example('kubectl mesh-egress log-level -l app=checkout -A upstream=debug', 'until Ctrl-C, then back to what each proxy had')
        .example('kubectl mesh-egress log-level deploy/checkout -n shop', 'every logger\'s level, one column per pod') as never,
    handler: async (argv) => {
      await run(toLogLevelOptions(argv), ctx);
    },
  };
}
