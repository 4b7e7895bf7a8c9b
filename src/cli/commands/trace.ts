/**
 * `trace TARGET DEST` / `trace --config-dump FILE DEST`: emulate the sidecar hop by hop.
 * argv → TraceOptions (validated) → load → runTrace → render → exit decision.
 *
 * Start-up cost: this module is loaded for every command line (the command table and --help need
 * its flags), so it imports only what defining and validating the flags needs. The trace engine,
 * the dump reader, the renderers and yaml are imported when a trace actually runs (runTraceCommand).
 */
import type { CommandModule } from 'yargs';
import { reachesThreshold, type FailOn } from '../../analyze/finding.js';
import type { RequestFlags } from '../../analyze/trace/request.js';
import { FAILING_VERDICTS, type Trace } from '../../analyze/trace/types.js';
import { UsageError } from '../../model/errors.js';
import { kubeOptions, type KubeArgs } from '../kube-flags.js';
import { inputAndDest, offlineOptions, type LiveInput, type OfflineArgs, type OfflineInput } from './offline-input.js';
import { requestOptions, toRequestFlags, type RequestArgs } from './request-flags.js';
import { EXIT } from '../exit-codes.js';
import { useColor } from '../io.js';
import type { CommandContext } from '../main.js';

/** Where the proxy's configuration comes from. */
export type TraceInput = OfflineInput | LiveInput;

export interface TraceOptions {
  readonly input: TraceInput;
  readonly dest: string;
  readonly request: RequestFlags;
  readonly output: 'table' | 'wide' | 'json' | 'yaml';
  readonly color: 'auto' | 'always' | 'never';
  readonly failOn: FailOn;
}

interface TraceArgs extends KubeArgs, OfflineArgs, RequestArgs {
  args?: string[];
  'port-forward'?: boolean;
  'pod-ip'?: string;
  uid?: number;
  'exclude-ip-ranges'?: string;
  'include-ip-ranges'?: string;
  'exclude-ports'?: string;
  'include-ports'?: string;
  'dns-capture'?: boolean;
  'interception-mode'?: string;
  output: string;
  color: string;
  'fail-on': string;
}

/** argv → typed, validated options (the argv contract is pinned by test/unit/cli-contract.test.ts). */
export function toTraceOptions(a: TraceArgs): TraceOptions {
  const { input, dest } = inputAndDest(a);
  if (dest === undefined) throw new UsageError('missing DEST: for example 10.0.0.6:7000, redis.example.com:6379 or http://api/path');
  if (a.uid !== undefined && (!Number.isInteger(a.uid) || a.uid < 0)) throw new UsageError(`--uid must be a non-negative integer, got ${a.uid}`);
  const mode = a['interception-mode'];
  if (mode !== undefined && mode !== 'REDIRECT' && mode !== 'TPROXY' && mode !== 'NONE') throw new UsageError(`--interception-mode must be REDIRECT, TPROXY or NONE, got ${mode}`);
  const capture = {
    ...(a['include-ip-ranges'] !== undefined ? { includeIpRanges: a['include-ip-ranges'] } : {}),
    ...(a['exclude-ip-ranges'] !== undefined ? { excludeIpRanges: a['exclude-ip-ranges'] } : {}),
    ...(a['include-ports'] !== undefined ? { includePorts: a['include-ports'] } : {}),
    ...(a['exclude-ports'] !== undefined ? { excludePorts: a['exclude-ports'] } : {}),
    ...(a['dns-capture'] !== undefined ? { dnsCapture: a['dns-capture'] } : {}),
    ...(mode !== undefined ? { interceptionMode: mode as 'REDIRECT' | 'TPROXY' | 'NONE' } : {}),
  };
  return {
    input,
    dest,
    request: {
      ...toRequestFlags(a),
      ...(a['pod-ip'] !== undefined ? { podIp: a['pod-ip'] } : {}),
      ...(a.uid !== undefined ? { uid: a.uid } : {}),
      capture,
    },
    output: a.output as TraceOptions['output'],
    color: a.color as TraceOptions['color'],
    failOn: a['fail-on'] as FailOn,
  };
}

/** Exit 79 for a failing verdict or findings at/above --fail-on; never depends on -o. */
export function traceExitCode(t: Trace, failOn: FailOn): number {
  if (failOn === 'never') return EXIT.OK;
  if (t.verdict.code !== null && FAILING_VERDICTS.has(t.verdict.code)) return EXIT.FINDINGS;
  return reachesThreshold(t.findings, failOn) ? EXIT.FINDINGS : EXIT.OK;
}

/** Load or collect → trace → render → exit decision. The heavy modules are imported here, on first use. */
export async function runTraceCommand(opts: TraceOptions, ctx: CommandContext): Promise<void> {
  let trace: Trace;
  if (opts.input.kind === 'config-dump') {
    const [{ buildRequest }, { loadConfigDump }, { runTrace }] = await Promise.all([
      import('../../analyze/trace/request.js'),
      import('../../collect/dump-files.js'),
      import('../../analyze/trace/engine.js'),
    ]);
    const request = buildRequest(opts.dest, opts.request);
    trace = { ...runTrace(loadConfigDump(opts.input.files, ctx.io.stdin), request), source: { kind: 'config-dump' } };
  } else if (opts.input.kind === 'live') {
    const { liveTrace } = await import('../live.js');
    const input = opts.input;
    trace = (await liveTrace({ target: input.target, kube: input.kube, dest: opts.dest, request: opts.request, ...(input.prefer ? { prefer: input.prefer } : {}) }, ctx.io)).trace;
  } else {
    const [{ openPodArchive }, { traceWithView }] = await Promise.all([import('../pod-archive.js'), import('../../analyze/trace/from-view.js')]);
    const archive = await openPodArchive(opts.input);
    try {
      const { view } = archive.contents;
      trace = traceWithView({ dump: archive.dump, view, dest: opts.dest, flags: opts.request, services: view.lists.services ?? [], source: archive.source });
    } finally {
      archive.dispose();
    }
  }
  ctx.io.stdout(await formatTrace(trace, opts, ctx));
  ctx.setExit(traceExitCode(trace, opts.failOn));
}

export function traceCommand(ctx: CommandContext, run: (opts: TraceOptions, ctx: CommandContext) => void | Promise<void>): CommandModule<object, TraceArgs> {
  return {
    command: 'trace [args..]',
    describe: 'Emulate the sidecar hop by hop for one connection: capture, listener, filter chain, route, cluster, endpoints',
    builder: (y) =>
      requestOptions(offlineOptions(kubeOptions(y), { configDump: 'Envoy admin /config_dump (JSON or YAML; "-" for stdin); repeat to add /clusters?format=json' }), 'Request:', ['protocol', 'server-first', 'host', 'sni', 'alpn', 'method', 'header', 'address'])
        .usage(
          'Usage:\n  kubectl mesh-egress trace TARGET DEST [flags]        (TARGET: POD, pod/NAME, deploy/NAME; or -l SELECTOR DEST)\n  kubectl mesh-egress trace --config-dump FILE DEST [flags]\n\nDEST: IP:PORT, HOST:PORT, [IPv6]:PORT, http://HOST[:PORT]/PATH, https://HOST/PATH, tls://HOST:PORT, tcp://HOST:PORT',
        )
        .positional('args', { type: 'string', array: true, describe: 'TARGET DEST, or DEST with -l or --config-dump' })
        .option('port-forward', { type: 'boolean', describe: 'Reach the proxy admin API by port-forward instead of exec', group: 'Cluster access (as kubectl):' })
        .option('pod-ip', { type: 'string', describe: "The pod's IP (default: INSTANCE_IPS from the dump)", group: 'Capture (when only a dump is given):' })
        .option('uid', { type: 'number', describe: 'UID the application runs as (1337 bypasses capture)', group: 'Capture (when only a dump is given):' })
        .option('exclude-ip-ranges', { type: 'string', describe: 'traffic.sidecar.istio.io/excludeOutboundIPRanges', group: 'Capture (when only a dump is given):' })
        .option('include-ip-ranges', { type: 'string', describe: 'traffic.sidecar.istio.io/includeOutboundIPRanges ("*" = all)', group: 'Capture (when only a dump is given):' })
        .option('exclude-ports', { type: 'string', describe: 'traffic.sidecar.istio.io/excludeOutboundPorts', group: 'Capture (when only a dump is given):' })
        .option('include-ports', { type: 'string', describe: 'traffic.sidecar.istio.io/includeOutboundPorts', group: 'Capture (when only a dump is given):' })
        .option('dns-capture', { type: 'boolean', describe: 'DNS capture on (ISTIO_META_DNS_CAPTURE)', group: 'Capture (when only a dump is given):' })
        .option('interception-mode', { type: 'string', describe: 'REDIRECT, TPROXY or NONE', group: 'Capture (when only a dump is given):' })
        .example('kubectl mesh-egress trace pod/api-7c9f 10.0.0.6:7000 -n shop', 'TCP to an external Redis, live')
        .example('kubectl mesh-egress trace deploy/api http://reviews:9080/ratings', 'HTTP from any ready pod of a deployment')
        .example('kubectl mesh-egress trace --config-dump dump.json 10.0.0.6:7000', 'from a captured config dump')
        .example('kubectl mesh-egress trace --config-dump dump.json http://reviews:9080/ratings', 'an HTTP request')
        .example('kubectl mesh-egress trace --config-dump dump.json tls://api.example.com:443 -o json', 'TLS with SNI, as JSON') as never,
    handler: async (argv) => {
      await run(toTraceOptions(argv), ctx);
    },
  };
}

async function formatTrace(trace: Trace, opts: TraceOptions, ctx: CommandContext): Promise<string> {
  if (opts.output === 'json' || opts.output === 'yaml') {
    const [{ traceDto }, { formatDocument }] = await Promise.all([import('../../render/dto.js'), import('../output.js')]);
    return formatDocument(traceDto(trace), opts.output);
  }
  const { renderTrace } = await import('../../render/trace.js');
  return renderTrace(trace, { color: useColor(ctx.io, opts.color), width: Math.min(110, ctx.io.columns ?? 100), wide: opts.output === 'wide' });
}
