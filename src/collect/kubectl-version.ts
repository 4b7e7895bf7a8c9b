/**
 * `kubectl version --client -o json`, for `kubectl mesh-egress version`: which kubectl the plugin
 * would drive. Local only (no API server call), bounded by a timeout, and never fatal: a missing
 * or broken kubectl is reported, not thrown, so `version` always exits 0.
 */
import { execa } from 'execa';

export type KubectlVersion =
  | { readonly status: 'ok'; readonly binary: string; readonly gitVersion: string; readonly platform?: string; readonly kustomizeVersion?: string }
  | { readonly status: 'not-found'; readonly binary: string }
  | { readonly status: 'timeout'; readonly binary: string; readonly timeoutMs: number }
  | { readonly status: 'error'; readonly binary: string; readonly message: string };

export interface KubectlVersionOptions {
  /** the kubectl executable (default: MESH_EGRESS_KUBECTL, else "kubectl" on PATH) */
  readonly binary?: string;
  /** the environment kubectl runs in (PATH, KUBECONFIG, ...); default: this process's */
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly timeoutMs?: number;
}

export const KUBECTL_VERSION_TIMEOUT_MS = 5000;

interface VersionJson {
  clientVersion?: { gitVersion?: unknown; platform?: unknown };
  kustomizeVersion?: unknown;
}

/** The first line of kubectl's complaint, without its "error: " prefix and klog noise. */
function firstLine(text: string): string {
  const line = text
    .split('\n')
    .map((l) => l.trim())
    .find((l) => l !== '' && !/^[WIE]\d{4} /.test(l));
  return (line ?? '').replace(/^error: /, '').slice(0, 200);
}

export async function kubectlClientVersion(opts: KubectlVersionOptions = {}): Promise<KubectlVersion> {
  const binary = opts.binary ?? opts.env?.MESH_EGRESS_KUBECTL ?? 'kubectl';
  const timeoutMs = opts.timeoutMs ?? KUBECTL_VERSION_TIMEOUT_MS;
  const r = await execa(binary, ['version', '--client', '-o', 'json'], {
    reject: false,
    timeout: timeoutMs,
    stdin: 'ignore',
    ...(opts.env !== undefined ? { env: { ...opts.env }, extendEnv: false } : {}),
  });
  if (r.timedOut) return { status: 'timeout', binary, timeoutMs };
  const code = (r as { code?: string }).code;
  if (code === 'ENOENT' || code === 'EACCES' || /\bENOENT\b/.test(String((r as { originalMessage?: string }).originalMessage ?? ''))) {
    return { status: 'not-found', binary };
  }
  if (r.failed) {
    const why = firstLine(String(r.stderr ?? '')) || firstLine(String(r.stdout ?? '')) || (r.exitCode !== undefined ? `exit code ${r.exitCode}` : String(r.shortMessage ?? 'failed'));
    return { status: 'error', binary, message: why };
  }
  let parsed: VersionJson;
  try {
    parsed = JSON.parse(String(r.stdout)) as VersionJson;
  } catch {
    return { status: 'error', binary, message: `unexpected output from ${binary} version --client -o json: ${firstLine(String(r.stdout)) || '(empty)'}` };
  }
  const git = parsed.clientVersion?.gitVersion;
  if (typeof git !== 'string' || git === '') return { status: 'error', binary, message: 'no clientVersion.gitVersion in the output of kubectl version --client -o json' };
  return {
    status: 'ok',
    binary,
    gitVersion: git,
    ...(typeof parsed.clientVersion?.platform === 'string' ? { platform: parsed.clientVersion.platform } : {}),
    ...(typeof parsed.kustomizeVersion === 'string' ? { kustomizeVersion: parsed.kustomizeVersion } : {}),
  };
}
