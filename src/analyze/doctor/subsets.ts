/**
 * Step 8 (seed 003): subsets and endpoints. A route to a subset sends traffic to the pods of the
 * Service that also carry the subset's labels (Istio builds the subset cluster's endpoints from
 * the Service's endpoints filtered by the subset labels); when none carries them the cluster is
 * empty and Envoy answers 503 "no healthy upstream" — seed 003, where the pods lacked `version`.
 * This step names the pods, their labels, the missing label, and the command that fixes it.
 */
import type { KubeObject } from '../../model/cluster-view.js';
import { parseServiceCluster } from '../../envoy/istio-names.js';
import { newFinding } from '../catalog.js';
import type { Finding, Fix } from '../finding.js';
import { clusterDomain, destinationRuleFor, exportedTo, key, labelsOf, labelText, matchesSelector, podReady, podsOfService, serviceSelector, upstreamOf } from './facts.js';
import { yamlDoc } from '../yaml-doc.js';
import { podLabelFix, templateLabelFix } from './fixes.js';
import { traceFindingsFor } from './sidecar.js';
import { notInInput, type DoctorInput, type Step } from './types.js';

const NOISE = ['pod-template-hash', 'security.istio.io/tlsMode', 'service.istio.io/canonical-name', 'service.istio.io/canonical-revision', 'controller-revision-hash', 'pod-template-generation', 'statefulset.kubernetes.io/pod-name'];

interface SubsetRef {
  readonly subset: string;
  readonly via: string;
}

/** VirtualService destination hosts are resolved in the VirtualService's namespace (short names). */
function vsHost(h: string, ns: string, domain: string): string {
  return h.includes('.') || h.startsWith('*') ? h : `${h}.${ns}.svc.${domain}`;
}

function referencedSubsets(input: DoctorInput, host: string): SubsetRef[] {
  const out = new Map<string, SubsetRef>();
  const add = (subset: string, via: string): void => {
    if (!out.has(subset)) out.set(subset, { subset, via });
  };
  const t = input.trace;
  for (const c of [t?.verdict.cluster, ...(t?.verdict.targets ?? []).map((x) => x.cluster)]) {
    const p = c ? parseServiceCluster(c) : undefined;
    if (p?.subset && p.host === host) add(p.subset, `the trace ends in cluster ${c}`);
  }
  const domain = clusterDomain(input);
  const clientNs = input.view.pod?.metadata?.namespace ?? '';
  for (const vs of input.view.lists.virtualServices ?? []) {
    const ns = vs.metadata?.namespace ?? '';
    if (!exportedTo(vs.spec?.exportTo as string[] | undefined, ns, clientNs) && !(input.gateway || input.trace?.proxy.type === 'router')) continue;
    for (const kind of ['http', 'tcp', 'tls'] as const) {
      for (const rule of (vs.spec?.[kind] as { route?: { destination?: { host?: string; subset?: string } }[] }[] | undefined) ?? []) {
        for (const r of rule.route ?? []) {
          const d = r.destination;
          if (d?.subset && d.host && vsHost(d.host, ns, domain) === host) add(d.subset, `VirtualService ${key(vs)} routes to it`);
        }
      }
    }
  }
  return [...out.values()];
}

/** Endpoint readiness by pod name, as the EndpointSlice controller published it (undefined: no slices). */
function readinessFromSlices(input: DoctorInput, svc: KubeObject): Map<string, boolean> | undefined {
  const slices = (input.cluster.endpointSlices ?? []).filter((s) => s.metadata?.namespace === svc.metadata?.namespace && s.metadata?.labels?.['kubernetes.io/service-name'] === svc.metadata?.name);
  if (!slices.length) return undefined;
  const out = new Map<string, boolean>();
  for (const s of slices) {
    for (const e of ((s as unknown as { endpoints?: { conditions?: { ready?: boolean }; targetRef?: { kind?: string; name?: string } }[] }).endpoints ?? [])) {
      if (e.targetRef?.kind === 'Pod' && e.targetRef.name) out.set(e.targetRef.name, e.conditions?.ready !== false);
    }
  }
  return out;
}

/** The workload whose pod template makes these pods: ReplicaSet → Deployment, or the direct owner. */
function ownerOf(input: DoctorInput, pod: KubeObject): { kind: string; name: string } | undefined {
  const ref = pod.metadata?.ownerReferences?.find((o) => o.controller) ?? pod.metadata?.ownerReferences?.[0];
  if (!ref) return undefined;
  if (ref.kind === 'ReplicaSet') {
    const rs = (input.cluster.workloads ?? []).find((w) => w.kind === 'ReplicaSet' && w.metadata?.name === ref.name && w.metadata?.namespace === pod.metadata?.namespace);
    const dep = rs?.metadata?.ownerReferences?.find((o) => o.kind === 'Deployment');
    if (dep) return { kind: 'Deployment', name: dep.name };
  }
  return { kind: ref.kind, name: ref.name };
}

function missingText(pods: readonly KubeObject[], want: Readonly<Record<string, string>>): { text: string; absentKeys: Record<string, string>; differing: string[] } {
  const parts: string[] = [];
  const absentKeys: Record<string, string> = {};
  const differing: string[] = [];
  for (const [k, v] of Object.entries(want)) {
    const values = [...new Set(pods.map((p) => labelsOf(p)[k]))];
    if (values.every((x) => x === v)) continue;
    if (values.every((x) => x === undefined)) {
      parts.push(`${k}=${v} (no pod has the label "${k}")`);
      absentKeys[k] = v;
    } else {
      const others = values.filter((x) => x !== undefined && x !== v);
      parts.push(`${k}=${v} (pods have ${others.map((o) => `${k}=${o}`).join(', ')}${values.includes(undefined) ? ` or no "${k}" label` : ''})`);
      differing.push(k);
      if (values.includes(undefined)) absentKeys[k] = v;
    }
  }
  return { text: parts.join('; '), absentKeys, differing };
}

export function subsetsStep(input: DoctorInput, number: number, title: string): Step {
  const base = { number, id: 'subsets' as const, title };
  const up = upstreamOf(input);
  const findings: Finding[] = [...traceFindingsFor(input.trace, 'subsets')];
  const evidence: string[] = [];
  const status = (): Step['status'] => (findings.some((f) => f.severity !== 'info') ? 'problem' : 'ok');
  if (up.kind !== 'service' || !up.service) {
    const why = up.kind === 'service' ? (input.view.lists.services === undefined ? notInInput(input, `the Service of ${up.host} is`) : `Service of ${up.host} was not read`) : `${up.host} is not a Kubernetes Service (${up.via})`;
    if (findings.length) return { ...base, status: status(), summary: findings[0]!.message, evidence: [why], findings };
    return { ...base, status: 'skipped', reason: `${why}: no pods or subsets to check`, summary: 'not applicable', evidence: [], findings };
  }
  const svc = up.service;
  const svcName = `Service ${key(svc)}`;
  const ns = svc.metadata?.namespace ?? '';
  const sel = serviceSelector(svc);
  const pods = podsOfService(input, svc);
  if (!sel) {
    evidence.push(`${svcName} has no selector: its endpoints are managed by hand (EndpointSlices), subsets select among them`);
    return { ...base, status: status(), summary: findings.length ? findings[0]!.message : 'selectorless Service', evidence, findings };
  }
  if (pods === undefined) {
    return { ...base, status: findings.length ? status() : 'skipped', reason: input.offline ? notInInput(input, `the pods of namespace ${ns} are`) : `the pods of namespace ${ns} were not read`, summary: 'pods not read', evidence: [`${svcName} selects ${labelText(sel)}`], findings };
  }
  const sliceReady = readinessFromSlices(input, svc);
  const isReady = (p: KubeObject): boolean => sliceReady?.get(p.metadata?.name ?? '') ?? podReady(p);
  const ready = pods.filter(isReady);
  evidence.push(`${svcName} selects ${labelText(sel)}: ${pods.length} pod(s), ${ready.length} ready${pods.length ? `: ${pods.slice(0, 6).map((p) => `${p.metadata?.name} (${labelText(labelsOf(p), NOISE)}${isReady(p) ? '' : ', not ready'})`).join(', ')}${pods.length > 6 ? ` and ${pods.length - 6} more` : ''}` : ''}`);
  const subject = { kind: 'Service', name: svc.metadata?.name ?? '', namespace: ns };
  if (sliceReady) evidence.push(`readiness from the EndpointSlices of ${svcName}`);
  if (pods.length === 0) {
    findings.push(newFinding('ServiceSelectsNoPods', { service: key(svc), selector: labelText(sel) }, { subject }));
  } else if (ready.length < pods.length) {
    const notReady = pods.filter((p) => !isReady(p));
    findings.push(newFinding('ServiceEndpointsNotReady', { service: key(svc), ready: ready.length, notReady: notReady.slice(0, 5).map((p) => p.metadata?.name).join(', ') }, { subject, ...(ready.length === 0 ? { severity: 'error' as const } : {}) }));
  }
  // subsets are the sidecar's business: without one, kube-proxy spreads over all the Service's pods
  const refs = input.trace?.proxy.type === 'none' ? [] : referencedSubsets(input, up.host);
  const dr = destinationRuleFor(input, up.host);
  const subsets = ((dr?.spec?.subsets as { name?: string; labels?: Record<string, string> }[] | undefined) ?? []);
  if (dr) evidence.push(`DestinationRule ${key(dr)} subsets: ${subsets.map((s) => `${s.name} (${labelText(s.labels ?? {})})`).join(', ') || '(none)'}`);
  if (refs.length === 0) evidence.push(`no route to a subset of ${up.host}`);
  const data: { subsets: { subset: string; via: string; labels: Record<string, string> | null; pods: string[] }[] } = { subsets: [] };
  for (const ref of refs) {
    const def = subsets.find((s) => s.name === ref.subset);
    if (!def) {
      evidence.push(`subset "${ref.subset}" (${ref.via}): no DestinationRule for ${up.host} defines it`);
      const cluster = `outbound|${up.port}|${ref.subset}|${up.host}`;
      if (!(input.trace?.findings ?? []).some((f) => f.code === 'MEG036' && f.message.includes(cluster))) {
        findings.push(newFinding('ClusterMissing', { cluster, why: `is not built: ${ref.via}, but ${dr ? `DestinationRule ${key(dr)}` : 'no DestinationRule for the host'} defines no subset "${ref.subset}"`, result: 'Envoy answers 503 (NC, cluster not found)' }, { subject: { kind: 'Service', name: svc.metadata?.name ?? '', namespace: ns } }));
      }
      data.subsets.push({ subset: ref.subset, via: ref.via, labels: null, pods: [] });
      continue;
    }
    const want = def.labels ?? {};
    const matching = pods.filter((p) => matchesSelector(labelsOf(p), want));
    evidence.push(`subset "${ref.subset}" (${ref.via}) selects ${labelText(want)}: ${matching.length} of ${pods.length} pod(s)${matching.length ? `: ${matching.slice(0, 6).map((p) => p.metadata?.name).join(', ')}` : ''}`);
    data.subsets.push({ subset: ref.subset, via: ref.via, labels: { ...want }, pods: matching.map((p) => p.metadata?.name ?? '') });
    if (matching.length > 0 || pods.length === 0) continue;
    const miss = missingText(pods, want);
    const fixes: Fix[] = [];
    const owners = new Map<string, { kind: string; name: string }>();
    for (const p of pods) {
      const o = ownerOf(input, p);
      if (o) owners.set(`${o.kind}/${o.name}`, o);
    }
    const valueMismatch = miss.differing.length > 0;
    const drFix: Fix | undefined = dr
      ? {
          rank: valueMismatch ? 1 : 3,
          title: `Or make subset "${ref.subset}" select the labels the pods have`,
          tradeoffs: `Changes the subset for every client of ${up.host}; right when the pods are correct and the DestinationRule is not.`,
          kind: 'yaml',
          content: yamlDoc({ apiVersion: 'networking.istio.io/v1', kind: 'DestinationRule', metadata: { name: dr.metadata?.name, namespace: dr.metadata?.namespace }, spec: { host: dr.spec?.host, subsets: subsets.map((s) => (s.name === ref.subset ? { name: s.name, labels: Object.fromEntries(Object.keys(want).map((k) => [k, labelsOf(pods[0])[k] ?? want[k]!])) } : s)) } }, `subset "${ref.subset}" changed to the labels of pod ${pods[0]!.metadata?.name}; other fields of the rule are unchanged only if you merge this into it`),
        }
      : undefined;
    let rank = valueMismatch ? 2 : 1;
    for (const o of owners.values()) fixes.push(templateLabelFix({ kind: o.kind === 'ReplicaSet' ? 'ReplicaSet' : o.kind, name: o.name, namespace: ns, labels: want, rank: rank++ }));
    fixes.push(podLabelFix({ pods: pods.map((p) => p.metadata?.name ?? ''), namespace: ns, labels: want, rank: rank++, overwrite: valueMismatch }));
    if (drFix) fixes.push({ ...drFix, rank: valueMismatch ? 1 : rank });
    fixes.sort((a, b) => a.rank - b.rank);
    findings.push(
      newFinding(
        'SubsetSelectsNoPods',
        {
          subset: ref.subset,
          host: up.host,
          destinationRule: dr ? key(dr) : '(none)',
          selector: labelText(want),
          pods: pods.slice(0, 5).map((p) => `${p.metadata?.name} (${labelText(labelsOf(p), NOISE)})`).join(', ') + (pods.length > 5 ? ` and ${pods.length - 5} more` : ''),
          missing: miss.text,
        },
        { subject: dr ? { kind: 'DestinationRule', name: dr.metadata?.name ?? '', namespace: dr.metadata?.namespace ?? '' } : subject, evidence: [`${ref.via}`, ...(owners.size ? [`the pods come from ${[...owners.values()].map((o) => `${o.kind.toLowerCase()}/${o.name}`).join(', ')}`] : [])], fixes },
      ),
    );
  }
  const problem = status() === 'problem';
  const own = findings.find((f) => f.code === 'MEG043') ?? findings.find((f) => f.code === 'MEG045') ?? findings.find((f) => f.code === 'MEG046') ?? findings.find((f) => f.severity !== 'info');
  const summary = !problem
    ? `${ready.length} ready pod(s)${refs.length ? `; subsets ${refs.map((r) => r.subset).join(', ')} have pods` : ''}`
    : own?.code === 'MEG043'
      ? `subset ${data.subsets.filter((x) => x.labels && x.pods.length === 0).map((x) => `"${x.subset}"`).join(', ')} selects none of the ${pods.length} pod(s)`
      : own?.code === 'MEG045'
        ? `${svcName} selects no pods`
        : own?.code === 'MEG046'
          ? `${ready.length} of ${pods.length} pod(s) ready`
          : (own?.message ?? 'problem');
  return { ...base, status: status(), summary, evidence, findings, data };
}
