/**
 * What a live cluster (or a snapshot of one) adds to a trace: the objects the proxy's
 * configuration points at, looked up and shown. The Envoy config already decided the verdict;
 * this names the exact Sidecar or mesh setting behind the outbound traffic policy, the
 * ServiceEntry (by name) behind a host, the declared protocol of a Service's port, and says when
 * the proxy refers to objects that no longer exist (it has not received a newer push).
 */
import type { ClusterView, KubeObject } from '../../model/cluster-view.js';
import { newFinding } from '../catalog.js';
import { sortFindings, type Finding } from '../finding.js';
import type { Responsible, Trace } from './types.js';

const OUTBOUND_POLICY_KIND = 'OutboundTrafficPolicy';

function labelsMatch(selector: Readonly<Record<string, string>> | undefined, labels: Readonly<Record<string, string>>): boolean {
  if (!selector) return false;
  return Object.entries(selector).every(([k, v]) => labels[k] === v);
}

/**
 * The Sidecar resource that applies to a pod (Istio: one with a matching workloadSelector in the
 * pod's namespace, else the namespace-wide one, else the namespace-wide one of the root namespace).
 */
export function applicableSidecar(view: ClusterView, rootNamespace: string): KubeObject | undefined {
  const pod = view.pod;
  const sidecars = view.lists.sidecars;
  if (!pod || !sidecars) return undefined;
  const ns = pod.metadata?.namespace;
  const labels = pod.metadata?.labels ?? {};
  const inNs = sidecars.filter((s) => s.metadata?.namespace === ns);
  const selected = inNs.filter((s) => labelsMatch((s.spec?.workloadSelector as { labels?: Record<string, string> } | undefined)?.labels, labels));
  const byName = (a: KubeObject, b: KubeObject): number => (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? '');
  if (selected.length) return [...selected].sort(byName)[0];
  const nsWide = inNs.filter((s) => !s.spec?.workloadSelector);
  if (nsWide.length) return [...nsWide].sort(byName)[0];
  return sidecars.filter((s) => s.metadata?.namespace === rootNamespace && !s.spec?.workloadSelector).sort(byName)[0];
}

function policyOf(o: Readonly<Record<string, unknown>> | undefined): string | undefined {
  const p = o?.outboundTrafficPolicy as { mode?: string } | undefined;
  return p?.mode;
}

function servicePortDetail(svc: KubeObject, port: number | undefined): string | undefined {
  const ports = (svc.spec?.ports as { port?: number; name?: string; protocol?: string; appProtocol?: string }[] | undefined) ?? [];
  const p = port !== undefined ? ports.find((x) => x.port === port) : undefined;
  if (!p) return undefined;
  const declared = p.appProtocol ? `appProtocol ${p.appProtocol}` : p.name ? `port name "${p.name}"` : 'no port name (protocol sniffed)';
  return `port ${p.port}: ${declared}`;
}

export interface EnrichInput {
  readonly view: ClusterView;
  /** Services fetched by name after the trace */
  readonly services?: readonly KubeObject[];
  /** the control plane namespace (the default root namespace of the mesh) */
  readonly controlPlaneNamespace?: string;
}

export function enrichTrace(trace: Trace, input: EnrichInput): Trace {
  const { view } = input;
  const findings: Finding[] = [...trace.findings];
  const responsible: Responsible[] = [];
  const meshRoot = (view.meshConfig?.mesh.rootNamespace as string | undefined) ?? input.controlPlaneNamespace ?? 'istio-system';

  for (const r of trace.verdict.responsible) {
    if (r.kind === OUTBOUND_POLICY_KIND) {
      const sidecar = applicableSidecar(view, meshRoot);
      const sidecarMode = policyOf(sidecar?.spec);
      const meshMode = policyOf(view.meshConfig?.mesh) ?? (view.meshConfig ? 'ALLOW_ANY' : undefined);
      if (sidecar && sidecarMode) {
        responsible.push({ kind: 'Sidecar', name: sidecar.metadata?.name ?? '', namespace: sidecar.metadata?.namespace ?? '', role: `sets outboundTrafficPolicy.mode ${sidecarMode} for this pod` });
      } else if (view.meshConfig && meshMode) {
        responsible.push({ kind: 'MeshConfig', name: view.meshConfig.name, namespace: view.meshConfig.namespace, role: `outboundTrafficPolicy.mode ${meshMode} (mesh-wide; no Sidecar of this pod overrides it)` });
      } else responsible.push(r);
      continue;
    }
    if (r.kind === 'ServiceEntry' && r.host && view.lists.serviceEntries) {
      const se = view.lists.serviceEntries.find((o) => ((o.spec?.hosts as string[] | undefined) ?? []).includes(r.host!) && (r.namespace === undefined || o.metadata?.namespace === r.namespace));
      if (se) {
        responsible.push({ ...r, name: se.metadata?.name ?? '', namespace: se.metadata?.namespace ?? '' });
        continue;
      }
    }
    if (r.kind === 'Service' && r.name && r.namespace && input.services) {
      const svc = input.services.find((s) => s.metadata?.name === r.name && s.metadata?.namespace === r.namespace);
      // the services named by a trace own the destination port (shared listener or VIP listener)
      const detail = svc ? servicePortDetail(svc, trace.request.port) : undefined;
      responsible.push(detail ? { ...r, role: `${r.role} (${detail})` } : r);
      continue;
    }
    if ((r.kind === 'DestinationRule' || r.kind === 'VirtualService') && r.name && r.namespace) {
      const list = r.kind === 'DestinationRule' ? view.lists.destinationRules : view.lists.virtualServices;
      if (list && !list.some((o) => o.metadata?.name === r.name && o.metadata?.namespace === r.namespace)) {
        findings.push(newFinding('StaleProxyConfig', { kind: r.kind, name: r.name, namespace: r.namespace }, { subject: { kind: r.kind, name: r.name, namespace: r.namespace } }));
      }
    }
    responsible.push(r);
  }

  const consequence: Record<string, string> = {
    serviceentries: 'ServiceEntries are named by host only, as the proxy configuration shows them',
    sidecars: 'whether a Sidecar resource or the mesh config sets the outbound traffic policy cannot be told',
    destinationrules: 'DestinationRules are named only as the proxy configuration records them',
    virtualservices: 'VirtualServices are named only as the proxy configuration records them',
    configmap: 'the mesh-wide settings (outbound traffic policy, protocol detection timeout) are only known as the proxy applies them',
    services: 'Service port protocols are not shown',
  };
  for (const g of view.gaps) {
    const key = Object.keys(consequence).find((k) => g.what.includes(k)) ?? 'services';
    const reason = g.reason === 'crd-missing' ? 'the Istio CRD is not installed' : g.reason === 'forbidden' ? `RBAC: ${g.detail.replace(/^[^:]*: /, '')}` : g.detail;
    findings.push(newFinding('CollectionIncomplete', { what: g.what, reason, consequence: consequence[key]! }));
  }
  return { ...trace, verdict: { ...trace.verdict, responsible }, findings: sortFindings(findings) };
}
