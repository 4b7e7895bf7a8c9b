/**
 * `kubectl mesh-egress version`: the tool, the Node.js runtime running it (the one embedded in the
 * single binary, or the node that runs the bundle) and the kubectl the plugin would drive.
 * Always exits 0, also when kubectl is missing. `--version` (a flag) prints the first line only.
 */
import { VERSION } from '../../version.js';
import type { CommandContext } from '../main.js';

export interface VersionInfo {
  readonly meshEgress: string;
  readonly runtime: { readonly node: string; readonly platform: string; readonly singleExecutable: boolean };
  readonly kubectl: { readonly binary: string; readonly clientVersion?: string; readonly platform?: string; readonly kustomizeVersion?: string; readonly error?: string };
}

/** The one-line answer to `--version`. */
export function shortVersion(): string {
  return `kubectl-mesh_egress ${VERSION}\n`;
}

async function isSingleExecutable(): Promise<boolean> {
  try {
    const sea = (await import('node:sea')) as { isSea?: () => boolean };
    return typeof sea.isSea === 'function' && sea.isSea();
  } catch {
    return false; // node:sea is missing before Node 20.12
  }
}

export async function collectVersion(ctx: CommandContext): Promise<VersionInfo> {
  const { kubectlClientVersion } = await import('../../collect/kubectl-version.js');
  const [k, sea] = await Promise.all([kubectlClientVersion({ env: ctx.io.env }), isSingleExecutable()]);
  const kubectl: VersionInfo['kubectl'] =
    k.status === 'ok'
      ? { binary: k.binary, clientVersion: k.gitVersion, ...(k.platform ? { platform: k.platform } : {}), ...(k.kustomizeVersion ? { kustomizeVersion: k.kustomizeVersion } : {}) }
      : k.status === 'not-found'
        ? { binary: k.binary, error: 'not found' }
        : k.status === 'timeout'
          ? { binary: k.binary, error: `no answer within ${k.timeoutMs / 1000}s` }
          : { binary: k.binary, error: k.message };
  return {
    meshEgress: VERSION,
    runtime: { node: process.versions.node, platform: `${process.platform}/${process.arch}`, singleExecutable: sea },
    kubectl,
  };
}

export function formatVersion(v: VersionInfo): string {
  const rt = `node v${v.runtime.node} (${v.runtime.platform}${v.runtime.singleExecutable ? ', embedded in the single executable' : ''})`;
  const binary = v.kubectl.binary === 'kubectl' ? '' : ` (${v.kubectl.binary})`;
  const kc = v.kubectl.clientVersion !== undefined ? `${v.kubectl.clientVersion}${binary}` : `${v.kubectl.error}${binary}`;
  return `kubectl-mesh_egress ${v.meshEgress}\nruntime: ${rt}\nkubectl: ${kc}\n`;
}

export async function runVersionCommand(output: string, ctx: CommandContext): Promise<void> {
  const v = await collectVersion(ctx);
  if (output === 'json') ctx.io.stdout(`${JSON.stringify(v, null, 2)}\n`);
  else if (output === 'yaml') {
    const { default: YAML } = await import('yaml');
    ctx.io.stdout(YAML.stringify(v));
  } else ctx.io.stdout(formatVersion(v));
}
