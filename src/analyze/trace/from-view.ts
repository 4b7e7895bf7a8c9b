/**
 * A trace with the cluster around the proxy: the pod's own capture settings and UID, a Service
 * name resolved to its cluster IP (as the pod's DNS lookup would), and the verdict's objects looked
 * up. Live collection, snapshots and bug-report archives all come through here, so the same data
 * gives the same verdict whatever its source.
 */
import type { ClusterView, KubeObject } from '../../model/cluster-view.js';
import type { ConfigDump } from '../../model/config-dump.js';
import { newFinding } from '../catalog.js';
import { sortFindings } from '../finding.js';
import { enrichTrace } from './cluster-context.js';
import { runTrace, traceWithoutSidecar } from './engine.js';
import { podFacts, type PodFacts } from './pod-settings.js';
import { buildRequest, type RequestFlags } from './request.js';
import type { CaptureOverrides, Trace, TraceRequest, TraceSource } from './types.js';

/** The pod's capture settings under the user's flags (flags win). */
export function withPodCapture(flags: RequestFlags, facts: PodFacts): RequestFlags {
  const user = flags.capture ?? {};
  const fromUser = Object.fromEntries(Object.keys(user).filter((k) => k !== 'sources').map((k) => [k, 'flag']));
  const merged: CaptureOverrides = { ...facts.capture, ...user, sources: { ...(facts.capture.sources ?? {}), ...fromUser } };
  return {
    ...flags,
    capture: merged,
    ...(flags.podIp === undefined && facts.podIps[0] ? { podIp: facts.podIps[0] } : {}),
    ...(flags.uid === undefined && facts.appUid !== undefined ? { uid: facts.appUid } : {}),
    workload: { pod: facts.name, namespace: facts.namespace, ...(facts.owner ? { owner: facts.owner } : {}) },
  };
}

/** NAME, NAME.NS, NAME.NS.svc[.domain] → the Service it names, seen from namespace `podNs`. */
export function serviceNameOf(host: string, podNs: string): { namespace: string; name: string } | undefined {
  const labels = host.replace(/\.$/, '').split('.');
  if (labels.length === 1) return { name: labels[0]!, namespace: podNs };
  if (labels.length === 2 || (labels.length >= 3 && labels[2] === 'svc')) return { name: labels[0]!, namespace: labels[1]! };
  return undefined;
}

/** The cluster IP kube-dns would answer for a Service name (undefined: not a Service, or headless). */
export function serviceClusterIp(host: string, podNs: string, services: readonly KubeObject[]): string | undefined {
  const ref = serviceNameOf(host, podNs);
  if (!ref) return undefined;
  const svc = services.find((s) => s.metadata?.name === ref.name && s.metadata?.namespace === ref.namespace);
  const ip = svc?.spec?.clusterIP as string | undefined;
  return ip && ip !== 'None' ? ip : undefined;
}

export interface ViewTraceInput {
  readonly dump: ConfigDump | undefined;
  readonly view: ClusterView;
  readonly dest: string;
  readonly flags: RequestFlags;
  /** Services known (a full list, or the ones fetched by name) */
  readonly services: readonly KubeObject[];
  readonly source: TraceSource;
}

/** The request the proxy is traced with: pod capture settings, Service names resolved. */
export function viewRequest(input: Pick<ViewTraceInput, 'view' | 'dest' | 'flags' | 'services'>): TraceRequest {
  const facts = input.view.pod ? podFacts(input.view.pod) : undefined;
  const flags = facts ? withPodCapture(input.flags, facts) : input.flags;
  const first = buildRequest(input.dest, flags);
  if (first.address || flags.address !== undefined || !facts) return first;
  const ip = serviceClusterIp(first.host, facts.namespace, input.services);
  return ip ? buildRequest(input.dest, { ...flags, address: ip }) : first;
}

export function traceWithView(input: ViewTraceInput): Trace {
  const facts = input.view.pod ? podFacts(input.view.pod) : undefined;
  const request = viewRequest(input);
  const podName = facts ? `${facts.namespace}/${facts.name}` : undefined;
  if (facts && facts.sidecar === 'none') {
    return { ...traceWithoutSidecar(request, podName!, 'The pod spec has no istio-proxy container.'), source: input.source };
  }
  if (!input.dump) throw new Error('traceWithView: a proxy configuration is required for a pod with a sidecar');
  let trace = runTrace(input.dump, request);
  trace = enrichTrace(trace, { view: input.view, services: input.services, ...(facts?.controlPlaneNamespace ? { controlPlaneNamespace: facts.controlPlaneNamespace } : {}) });
  const notReady = facts?.proxyReady === false || (input.view.proxyState !== undefined && input.view.proxyState !== 'LIVE');
  const extra = notReady && podName ? [newFinding('ProxyNotReady', { pod: podName, state: `container ready: ${String(facts?.proxyReady ?? 'unknown')}, Envoy state: ${input.view.proxyState ?? 'unknown'}` })] : [];
  return { ...trace, findings: sortFindings([...trace.findings, ...extra]), source: input.source };
}
