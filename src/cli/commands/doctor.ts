/**
 * `doctor TARGET DEST` / `doctor --snapshot|--bug-report|--config-dump FILE DEST`: seed 000's
 * checklist for one destination.
 * argv → DoctorOptions (validated) → collect (live or offline) → runDoctor → render → exit.
 * Loaded for every command line (the command table needs its flags): only light imports here.
 */
import type { CommandModule } from 'yargs';
import type { FailOn } from '../../analyze/finding.js';
import type { RequestFlags } from '../../analyze/trace/request.js';
import { parseKubeDuration } from '../../collect/kube-flags.js';
import { UsageError } from '../../model/errors.js';
import { kubeOptions, type KubeArgs } from '../kube-flags.js';
import { requestOptions, toRequestFlags, type RequestArgs } from './request-flags.js';
import type { CommandContext } from '../main.js';
import { inputAndDest, offlineOptions, type LiveInput, type OfflineArgs, type OfflineInput } from './offline-input.js';

export type DoctorInputSpec = OfflineInput | LiveInput;

export interface ProbeOptions {
  readonly enabled: boolean;
  readonly image?: string;
  readonly sameNode: boolean;
  /** the whole probe: pod start, connect, handshake (ms) */
  readonly timeoutMs: number;
}

export interface DoctorOptions {
  readonly input: DoctorInputSpec;
  readonly dest: string;
  readonly request: RequestFlags;
  readonly probe: ProbeOptions;
  /** istio-proxy log lines read (step 5) */
  readonly logLines: number;
  readonly output: 'table' | 'wide' | 'json' | 'yaml';
  readonly color: 'auto' | 'always' | 'never';
  readonly failOn: FailOn;
}

interface DoctorArgs extends KubeArgs, OfflineArgs, Pick<RequestArgs, 'protocol' | 'host' | 'sni' | 'server-first' | 'address'> {
  args?: string[];
  'port-forward'?: boolean;
  probe?: boolean;
  'probe-image'?: string;
  'probe-same-node'?: boolean;
  'probe-timeout'?: string;
  'log-lines'?: number;
  output: string;
  color: string;
  'fail-on': string;
}

export const DEFAULT_PROBE_TIMEOUT = '30s';

/** argv → typed, validated options. */
export function toDoctorOptions(a: DoctorArgs): DoctorOptions {
  const { input, dest } = inputAndDest(a);
  if (input.kind !== 'live' && a.probe) throw new UsageError(`--probe needs a live cluster (it starts a pod): drop --${input.kind}, or drop --probe`);
  if (dest === undefined) throw new UsageError('missing DEST: for example 10.0.0.6:7000, api.example.com:443, tls://api.example.com:443 or http://reviews:9080/');
  for (const flag of ['probe-image', 'probe-same-node', 'probe-timeout'] as const) {
    if (a[flag] !== undefined && a[flag] !== false && !a.probe) throw new UsageError(`--${flag} only applies with --probe`);
  }
  let timeoutMs = parseKubeDuration(DEFAULT_PROBE_TIMEOUT);
  if (a['probe-timeout'] !== undefined) {
    try {
      timeoutMs = parseKubeDuration(a['probe-timeout']);
    } catch {
      throw new UsageError(`invalid --probe-timeout "${a['probe-timeout']}": use a duration such as 30s or 2m`);
    }
    if (timeoutMs < 2000 || timeoutMs > 600_000) throw new UsageError(`--probe-timeout must be between 2s and 10m, got ${a['probe-timeout']}`);
  }
  if (a['probe-image'] !== undefined && !/^[a-z0-9][\w.\-/:@]*$/i.test(a['probe-image'])) throw new UsageError(`--probe-image "${a['probe-image']}" is not an image reference`);
  const lines = a['log-lines'] ?? 1000;
  if (!Number.isInteger(lines) || lines < 1 || lines > 100_000) throw new UsageError(`--log-lines must be an integer from 1 to 100000, got ${a['log-lines']}`);
  return {
    input,
    dest,
    request: toRequestFlags(a),
    probe: { enabled: a.probe === true, ...(a['probe-image'] !== undefined ? { image: a['probe-image'] } : {}), sameNode: a['probe-same-node'] === true, timeoutMs },
    logLines: lines,
    output: a.output as DoctorOptions['output'],
    color: a.color as DoctorOptions['color'],
    failOn: a['fail-on'] as FailOn,
  };
}

export async function runDoctorCommand(opts: DoctorOptions, ctx: CommandContext): Promise<void> {
  const { doctorCommandRun } = await import('../doctor.js');
  await doctorCommandRun(opts, ctx);
}

export function doctorCommand(ctx: CommandContext, run: (opts: DoctorOptions, ctx: CommandContext) => void | Promise<void>): CommandModule<object, DoctorArgs> {
  return {
    command: 'doctor [args..]',
    describe: 'The external-service checklist in one run: probe without the mesh, the sidecar\'s verdict, outbound policy, port protocol, proxy logs, NetworkPolicy, TLS, subsets',
    builder: (y) =>
      requestOptions(offlineOptions(kubeOptions(y), { configDump: 'Envoy admin /config_dump (JSON or YAML; "-" for stdin): only the proxy steps run' }), 'Request:', ['protocol', 'server-first', 'host', 'sni', 'address'])
        .usage('Usage:\n  kubectl mesh-egress doctor TARGET DEST [flags]        (TARGET: POD, pod/NAME, deploy/NAME; or -l SELECTOR DEST)\n  kubectl mesh-egress doctor --snapshot FILE DEST [flags]\n  kubectl mesh-egress doctor --bug-report FILE --pod NAMESPACE/NAME DEST [flags]\n  kubectl mesh-egress doctor --config-dump FILE DEST [flags]\n\nDEST: IP:PORT, HOST:PORT, http://HOST[:PORT]/PATH, https://HOST/PATH, tls://HOST:PORT, tcp://HOST:PORT\nExit status 79 when a step finds a problem at or above --fail-on.')
        .positional('args', { type: 'string', array: true, describe: 'TARGET DEST, or DEST with -l, --snapshot, --bug-report or --config-dump' })
        .option('port-forward', { type: 'boolean', describe: 'Reach the proxy admin API by port-forward instead of exec', group: 'Cluster access (as kubectl):' })
        .option('probe', { type: 'boolean', describe: 'Start a short-lived pod without a sidecar in the pod\'s namespace to test DEST directly (the only change doctor makes; the pod is always deleted)', group: 'Probe (opt-in):' })
        .option('probe-image', { type: 'string', requiresArg: true, describe: 'Image with curl for the probe (default: the pod\'s istio-proxy image, or curlimages/curl for distroless proxies)', group: 'Probe (opt-in):' })
        .option('probe-same-node', { type: 'boolean', describe: 'Run the probe on the pod\'s node (same egress path and firewall rules)', group: 'Probe (opt-in):' })
        .option('probe-timeout', { type: 'string', requiresArg: true, describe: `Bound for the whole probe: start, connect, handshake (default ${DEFAULT_PROBE_TIMEOUT})`, group: 'Probe (opt-in):' })
        .option('log-lines', { type: 'number', requiresArg: true, describe: 'istio-proxy log lines to read (default 1000)', group: 'Request:' })
        .example('kubectl mesh-egress doctor deploy/api 10.0.0.6:7000 -n shop', 'everything seed 000 checks, for an external Redis')
        .example('kubectl mesh-egress doctor deploy/api tls://api.partner.example:443 --probe', 'also test the destination from a pod without a sidecar')
        .example('kubectl mesh-egress doctor -n istio-system deploy/istio-ingressgateway http://review.example.com/', 'a 503 behind an ingress gateway (seed 003)')
        .example('kubectl mesh-egress doctor --snapshot snap.tar.gz 10.0.0.6:7000 -o json', 'offline, as JSON') as never,
    handler: async (argv) => {
      await run(toDoctorOptions(argv), ctx);
    },
  };
}
