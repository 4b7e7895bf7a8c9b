/**
 * `snapshot TARGET -f FILE.tar.gz`: capture what the verbs read, for offline use.
 */
import type { CommandModule } from 'yargs';
import type { KubeFlags } from '../../collect/kube-flags.js';
import { parseTarget, type TargetSpec } from '../../collect/target-spec.js';
import { UsageError } from '../../model/errors.js';
import { kubeOptions, toKubeFlags, type KubeArgs } from '../kube-flags.js';
import type { CommandContext } from '../main.js';

export interface SnapshotCommandOptions {
  readonly target: TargetSpec;
  readonly kube: KubeFlags;
  readonly out: string;
  readonly logLines: number;
  readonly output: 'table' | 'wide' | 'json' | 'yaml';
  readonly prefer?: 'exec' | 'port-forward';
}

interface SnapshotArgs extends KubeArgs {
  target?: string;
  filename?: string;
  'log-lines'?: number;
  'port-forward'?: boolean;
  output: string;
}

export function toSnapshotOptions(a: SnapshotArgs): SnapshotCommandOptions {
  if (!a.filename) throw new UsageError('missing -f FILE.tar.gz: where to write the snapshot');
  if (!/\.(tar\.gz|tgz)$/.test(a.filename)) throw new UsageError(`-f ${a.filename}: the snapshot is a gzipped tar archive; name it .tar.gz or .tgz`);
  const lines = a['log-lines'] ?? 2000;
  if (!Number.isInteger(lines) || lines < 0) throw new UsageError(`--log-lines must be a non-negative integer, got ${lines}`);
  return {
    target: parseTarget(a.target, a.selector),
    kube: toKubeFlags(a),
    out: a.filename,
    logLines: lines,
    output: a.output as SnapshotCommandOptions['output'],
    ...(a['port-forward'] ? { prefer: 'port-forward' as const } : {}),
  };
}

export async function runSnapshotCommand(opts: SnapshotCommandOptions, ctx: CommandContext): Promise<void> {
  const { takeSnapshot } = await import('../snapshot.js');
  const manifest = await takeSnapshot({ target: opts.target, kube: opts.kube, out: opts.out, logLines: opts.logLines, ...(opts.prefer ? { prefer: opts.prefer } : {}) }, ctx.io, () => new Date());
  if (opts.output === 'json' || opts.output === 'yaml') {
    const { sortKeys } = await import('../../render/dto.js');
    ctx.io.stdout(await (await import('../output.js')).formatDocument(sortKeys({ ...manifest, file: opts.out }), opts.output));
    return;
  }
  const ok = manifest.items.filter((i) => i.ok);
  const failed = manifest.items.filter((i) => !i.ok);
  const lines = [`wrote ${opts.out}: ${manifest.target.namespace}/${manifest.target.pod} in context ${manifest.context}, ${ok.length} item(s)${failed.length ? `, ${failed.length} not collected` : ''}`];
  for (const i of ok) lines.push(`  ok      ${i.name}${i.bytes !== undefined ? ` (${i.bytes} bytes)` : ''}`);
  for (const i of failed) lines.push(`  missing ${i.name}: ${i.error ?? 'failed'}`);
  lines.push(`Trace it offline: kubectl mesh-egress trace --snapshot ${opts.out} DEST`);
  ctx.io.stdout(`${lines.join('\n')}\n`);
}

export function snapshotCommand(ctx: CommandContext, run: (opts: SnapshotCommandOptions, ctx: CommandContext) => Promise<void>): CommandModule<object, SnapshotArgs> {
  return {
    command: 'snapshot [target]',
    describe: 'Capture everything the verbs read about a pod into an archive, for offline analysis (secrets scrubbed)',
    builder: (y) =>
      kubeOptions(y)
        .usage('Usage: kubectl mesh-egress snapshot TARGET -f FILE.tar.gz [flags]   (TARGET: POD, pod/NAME, deploy/NAME; or -l SELECTOR)')
        .positional('target', { type: 'string', describe: 'POD, pod/NAME, deploy/NAME' })
        .option('filename', { alias: 'f', type: 'string', requiresArg: true, describe: 'Archive to write (.tar.gz)' })
        .option('log-lines', { type: 'number', describe: 'istio-proxy log lines to keep (default 2000)' })
        .option('port-forward', { type: 'boolean', describe: 'Reach the proxy admin API by port-forward instead of exec', group: 'Cluster access (as kubectl):' })
        .example('kubectl mesh-egress snapshot deploy/api -n shop -f api.tar.gz', 'then: kubectl mesh-egress trace --snapshot api.tar.gz 10.0.0.6:7000') as never,
    handler: async (argv) => {
      await run(toSnapshotOptions(argv), ctx);
    },
  };
}
