/**
 * Who the proxy is, read from its bootstrap node (Istio's NodeMetadata, pkg/model/proxy.go):
 * node id "<type>~<ip>~<pod>.<ns>~<ns>.svc.<domain>", ISTIO_VERSION, INSTANCE_IPS, NAMESPACE,
 * ANNOTATIONS / LABELS (Istio <= 1.4 flattened annotations and labels into the metadata itself),
 * INTERCEPTION_MODE, DNS_CAPTURE, OWNER, WORKLOAD_NAME.
 */
import type { Bootstrap } from './envoy-types.js';

export type ProxyType = 'sidecar' | 'router' | 'waypoint' | 'ztunnel' | 'unknown';

export interface ProxyInfo {
  readonly id: string | undefined;
  readonly type: ProxyType;
  readonly ips: readonly string[];
  readonly podName: string | undefined;
  readonly namespace: string | undefined;
  readonly istioVersion: string | undefined;
  readonly envoyVersion: string | undefined;
  readonly interceptionMode: string | undefined;
  readonly dnsCapture: boolean | undefined;
  readonly annotations: Readonly<Record<string, string>>;
  readonly labels: Readonly<Record<string, string>>;
  /** e.g. kubernetes://apis/apps/v1/namespaces/default/deployments/productpage-v1 */
  readonly owner: string | undefined;
  readonly workloadName: string | undefined;
  /** whether the bootstrap was present at all (a partial dump may lack it) */
  readonly fromBootstrap: boolean;
}

function asString(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

function stringMap(v: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (v && typeof v === 'object' && !Array.isArray(v)) {
    for (const [k, val] of Object.entries(v as Record<string, unknown>)) if (typeof val === 'string') out[k] = val;
  }
  return out;
}

/** Istio <= 1.4 put pod annotations straight into node metadata: keep the ones that look like annotations. */
function flattenedAnnotations(meta: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(meta)) {
    if (typeof v === 'string' && k.includes('/') && (k.includes('istio.io') || k.includes('kubernetes.io'))) out[k] = v;
  }
  return out;
}

const TYPES: readonly ProxyType[] = ['sidecar', 'router', 'waypoint', 'ztunnel'];

export function describeProxy(bootstrap: Bootstrap | undefined): ProxyInfo {
  const node = bootstrap?.node;
  const meta = (node?.metadata ?? {}) as Record<string, unknown>;
  const id = asString(node?.id);
  const parts = id?.split('~') ?? [];
  const type = (TYPES as readonly string[]).includes(parts[0] ?? '') ? (parts[0] as ProxyType) : 'unknown';
  const podDotNs = parts[2];
  const dot = podDotNs?.lastIndexOf('.') ?? -1;
  const instanceIps = asString(meta.INSTANCE_IPS);
  const ips = instanceIps
    ? instanceIps.split(',').map((s) => s.trim()).filter(Boolean)
    : parts[1]
      ? [parts[1]]
      : [];
  const annotations = { ...flattenedAnnotations(meta), ...stringMap(meta.ANNOTATIONS) };
  const labels = Object.keys(stringMap(meta.LABELS)).length ? stringMap(meta.LABELS) : {};
  const dns = asString(meta.DNS_CAPTURE);
  const buildVersion = asString(node?.build_version);
  const ua = (node as { user_agent_build_version?: { version?: { major_number?: number; minor_number?: number; patch?: number } } } | undefined)?.user_agent_build_version?.version;
  const uaVersion = ua ? `${ua.major_number ?? 0}.${ua.minor_number ?? 0}.${ua.patch ?? 0}` : undefined;
  return {
    id,
    type,
    ips,
    podName: asString(meta.NAME) ?? asString(meta.POD_NAME) ?? (podDotNs && dot > 0 ? podDotNs.slice(0, dot) : undefined),
    namespace: asString(meta.NAMESPACE) ?? (podDotNs && dot > 0 ? podDotNs.slice(dot + 1) : undefined),
    istioVersion: asString(meta.ISTIO_VERSION),
    // "sha/1.12.0-dev/Clean/RELEASE/BoringSSL" → "1.12.0-dev"
    envoyVersion: uaVersion ?? buildVersion?.split('/')[1],
    interceptionMode: asString(meta.INTERCEPTION_MODE) ?? annotations['sidecar.istio.io/interceptionMode'],
    dnsCapture: dns === undefined ? undefined : dns.toLowerCase() === 'true',
    annotations,
    labels,
    owner: asString(meta.OWNER),
    workloadName: asString(meta.WORKLOAD_NAME),
    fromBootstrap: node !== undefined,
  };
}

/** "kubernetes://apis/apps/v1/namespaces/ns/deployments/name" → {kind: 'deployment', name, namespace}. */
export function ownerWorkload(owner: string | undefined): { kind: string; name: string; namespace: string } | undefined {
  if (!owner) return undefined;
  const m = /namespaces\/([^/]+)\/([^/]+)\/([^/]+)$/.exec(owner);
  if (!m) return undefined;
  const plural = m[2]!;
  const kind = plural.endsWith('s') ? plural.slice(0, -1) : plural;
  return { kind, namespace: m[1]!, name: m[3]! };
}

/** Compares dotted versions ("1.5.2", "1.21.0-1226"); returns undefined when unparsable. */
export function versionAtLeast(version: string | undefined, major: number, minor: number): boolean | undefined {
  if (!version) return undefined;
  const m = /^(\d+)\.(\d+)/.exec(version);
  if (!m) return undefined;
  const a = Number(m[1]);
  const b = Number(m[2]);
  return a > major || (a === major && b >= minor);
}
