/**
 * The offline inputs every read-only verb accepts instead of a live pod (DESIGN.md §2):
 * `--config-dump FILE…` (Envoy admin output), `--snapshot FILE` (kubectl mesh-egress snapshot) and
 * `--bug-report FILE --pod NAMESPACE/NAME` (istioctl bug-report). One definition of the flags and of
 * their validation, so that every verb says the same thing about the same mistake.
 *
 * Loaded for every command line (the command table needs the flags): light imports only.
 */
import type { Argv } from 'yargs';
import type { KubeFlags } from '../../collect/kube-flags.js';
import { parseTarget, type TargetSpec } from '../../collect/target-spec.js';
import { UsageError } from '../../model/errors.js';
import { toKubeFlags, type KubeArgs } from '../kube-flags.js';

export type OfflineInput =
  | { readonly kind: 'config-dump'; readonly files: readonly string[] }
  | { readonly kind: 'snapshot'; readonly file: string }
  | { readonly kind: 'bug-report'; readonly file: string; readonly pod: string };

export interface OfflineArgs {
  'config-dump'?: string[];
  snapshot?: string;
  'bug-report'?: string;
  pod?: string;
}

export const OFFLINE_GROUP = 'Offline input:';

/** Which offline inputs a verb takes, and how it describes --config-dump. */
export interface OfflineFlags {
  /** the --config-dump description; false when the verb cannot work from a dump alone */
  readonly configDump: string | false;
  /** false when the verb cannot read an istioctl bug-report */
  readonly bugReport?: boolean;
}

/** Adds the offline-input flags to a command's builder. */
export function offlineOptions<T>(y: Argv<T>, flags: OfflineFlags): Argv<T> {
  let out = y;
  if (flags.configDump !== false) out = out.option('config-dump', { type: 'string', array: true, requiresArg: true, describe: flags.configDump, group: OFFLINE_GROUP }) as Argv<T>;
  out = out.option('snapshot', { type: 'string', requiresArg: true, describe: 'An archive written by kubectl mesh-egress snapshot', group: OFFLINE_GROUP }) as Argv<T>;
  if (flags.bugReport !== false) {
    out = out
      .option('bug-report', { type: 'string', requiresArg: true, describe: 'An istioctl bug-report archive (with --pod)', group: OFFLINE_GROUP })
      .option('pod', { type: 'string', requiresArg: true, describe: 'NAMESPACE/NAME of the pod in the --bug-report archive', group: OFFLINE_GROUP }) as Argv<T>;
  }
  return out;
}

/** The flag that selected an offline input, for messages. */
export function offlineFlag(input: OfflineInput): string {
  return `--${input.kind}`;
}

/**
 * argv → the offline input, or undefined for a live run. Refuses two inputs at once, --pod without
 * --bug-report, and --bug-report without a NAMESPACE/NAME --pod (an archive holds many proxies).
 */
export function toOfflineInput(a: OfflineArgs): OfflineInput | undefined {
  const dumps = a['config-dump'] ?? [];
  const given = [dumps.length > 0 ? '--config-dump' : '', a.snapshot !== undefined ? '--snapshot' : '', a['bug-report'] !== undefined ? '--bug-report' : ''].filter(Boolean);
  if (given.length > 1) throw new UsageError(`give one input: ${given.join(' and ')} cannot be combined`);
  if (a.pod !== undefined && a['bug-report'] === undefined) throw new UsageError('--pod NAMESPACE/NAME only applies to --bug-report');
  if (a['bug-report'] !== undefined) {
    if (a.pod === undefined) throw new UsageError('--bug-report needs --pod NAMESPACE/NAME: the archive holds many proxies');
    if (!/^[^/]+\/[^/]+$/.test(a.pod)) throw new UsageError(`--pod must be NAMESPACE/NAME, got "${a.pod}"`);
    return { kind: 'bug-report', file: a['bug-report'], pod: a.pod };
  }
  if (a.snapshot !== undefined) return { kind: 'snapshot', file: a.snapshot };
  if (dumps.length > 0) return { kind: 'config-dump', files: dumps };
  return undefined;
}

export type LiveInput = { readonly kind: 'live'; readonly target: TargetSpec; readonly kube: KubeFlags; readonly prefer?: 'exec' | 'port-forward' };

/**
 * The positionals of a verb that asks about one destination: `TARGET DEST` or `-l SELECTOR DEST`
 * live, only `DEST` with an offline input. DEST may still be undefined (the caller says what it
 * needs); more positionals than that are refused.
 */
export function inputAndDest(a: KubeArgs & OfflineArgs & { args?: string[]; 'port-forward'?: boolean }): { input: OfflineInput | LiveInput; dest: string | undefined } {
  const positional = a.args ?? [];
  const offline = toOfflineInput(a);
  if (offline !== undefined) {
    const what = offline.kind === 'config-dump' ? 'the dump is the proxy' : 'the archive holds the pod';
    if (positional.length > 1) throw new UsageError(`with ${offlineFlag(offline)} give only DEST (${what}); got ${positional.length} arguments: ${positional.join(' ')}`);
    return { input: offline, dest: positional[0] };
  }
  if (a.selector !== undefined && positional.length === 2) throw new UsageError(`give either TARGET (${positional[0]}) or -l SELECTOR, not both`);
  if (positional.length > 2 || (a.selector !== undefined && positional.length > 1)) throw new UsageError(`too many arguments: ${positional.join(' ')} (TARGET DEST, or -l SELECTOR DEST)`);
  const target = parseTarget(a.selector !== undefined ? undefined : positional[0], a.selector);
  return {
    input: { kind: 'live', target, kube: toKubeFlags(a), ...(a['port-forward'] ? { prefer: 'port-forward' as const } : {}) },
    dest: a.selector !== undefined ? positional[0] : positional[1],
  };
}
