/**
 * Step 6 (seed 000 step 6): the pod's egress NetworkPolicies, evaluated for where the packets
 * really go. With a sidecar the connection still leaves the pod's network namespace, so the pod's
 * policies apply to it; a Service's cluster IP is translated (kube-proxy DNAT, or the sidecar's own
 * endpoint pick) before policies see the packet, so an in-cluster destination is evaluated per
 * endpoint pod on its target port. A hostname needs DNS (port 53 to the cluster DNS pods), and the
 * sidecar itself needs istiod (15012).
 */
import type { KubeObject } from '../../model/cluster-view.js';
import { parseIp, type IpAddress } from '../../envoy/ip.js';
import { evaluateEgress, type EgressEvaluation, type EgressTarget, type NetworkPolicy, type PortProtocol } from '../netpol/evaluate.js';
import { fullLabels } from '../netpol/selector.js';
import { newFinding } from '../catalog.js';
import type { Finding, Fix } from '../finding.js';
import { destinationLabel } from '../trace/request.js';
import { containerPorts, key, labelsOf, matchesSelector, podHasSidecar, podIps, podReady, podsCollected, podsOfService, servicePort, targetPortOn, upstreamOf } from './facts.js';
import { yamlDoc } from '../yaml-doc.js';
import { notInInput, type DoctorInput, type Step } from './types.js';

interface Named {
  readonly label: string;
  readonly target: EgressTarget;
}

/** Labels that identify the workload rather than one pod (for the fix's podSelector). */
function workloadLabels(labels: Readonly<Record<string, string>>): Record<string, string> {
  const drop = /^(pod-template-hash|controller-revision-hash|statefulset\.kubernetes\.io\/pod-name|security\.istio\.io\/tlsMode|service\.istio\.io\/canonical-(name|revision)|pod-template-generation)$/;
  return Object.fromEntries(Object.entries(labels).filter(([k]) => !drop.test(k)));
}

function namespaceLabels(input: DoctorInput, ns: string): EgressTarget['namespaceLabels'] {
  const n = input.cluster.namespaces?.find((o) => o.metadata?.name === ns);
  return n ? fullLabels({ 'kubernetes.io/metadata.name': ns, ...(n.metadata?.labels ?? {}) }) : undefined;
}

function podTarget(input: DoctorInput, pod: KubeObject, port: number, protocol: PortProtocol): EgressTarget {
  const ns = pod.metadata?.namespace ?? '';
  const ip = podIps(pod).map((x) => parseIp(x)).find((x): x is IpAddress => x !== undefined);
  const nsl = namespaceLabels(input, ns);
  return {
    ...(ip ? { ip } : {}),
    port,
    protocol,
    pod: { kind: 'found', namespace: ns, name: pod.metadata?.name ?? '', labels: labelsOf(pod), ports: containerPorts(pod) },
    ...(nsl ? { namespaceLabels: nsl } : {}),
  };
}

/** An address: a pod's (when the pods were read), or outside the pods. */
function addressTarget(input: DoctorInput, ip: IpAddress | undefined, port: number): EgressTarget {
  if (!ip) return { port, protocol: 'TCP', pod: { kind: input.cluster.pods ? 'not-a-pod' : 'unknown' } };
  // live, the pod with this IP was looked up by field selector; a snapshot holds every pod
  const pod = (input.cluster.pods ?? []).find((p) => podIps(p).includes(ip.text));
  if (pod) return { ...podTarget(input, pod, port, 'TCP'), ip };
  return { ip, port, protocol: 'TCP', pod: { kind: input.cluster.pods ? 'not-a-pod' : 'unknown' } };
}

function destinationTargets(input: DoctorInput, probeIp: string | undefined): { targets: Named[]; notes: string[] } {
  const up = upstreamOf(input);
  const notes: string[] = [];
  if (up.kind === 'service' && up.service) {
    const sp = servicePort(up.service, up.port);
    const pods = podsOfService(input, up.service);
    if (pods === undefined) {
      notes.push(`the pods of Service ${key(up.service)} were not read: evaluated as an unknown destination`);
      return { targets: [{ label: `Service ${key(up.service)}`, target: { port: up.port, protocol: 'TCP', pod: { kind: 'unknown' } } }], notes };
    }
    if (pods.length === 0) {
      notes.push(`Service ${key(up.service)} has no pods to send to (see step 8)`);
      return { targets: [], notes };
    }
    const ready = pods.filter(podReady);
    const chosen = (ready.length ? ready : pods).slice(0, 10);
    if (pods.length > chosen.length) notes.push(`evaluated ${chosen.length} of ${pods.length} pods of Service ${key(up.service)}`);
    notes.push(`Service ${key(up.service)} port ${up.port} is translated to its pods' target port before NetworkPolicy applies`);
    return {
      targets: chosen.map((p) => {
        const port = (sp ? targetPortOn(p, sp) : undefined) ?? up.port;
        return { label: `pod ${key(p)}:${port}`, target: podTarget(input, p, port, ((sp?.protocol ?? 'TCP').toUpperCase() as PortProtocol)) };
      }),
      notes,
    };
  }
  if (up.kind === 'pod' && up.pod) return { targets: [{ label: `pod ${key(up.pod)}:${up.port}`, target: podTarget(input, up.pod, up.port, 'TCP') }], notes };
  const ip = input.request.address ?? up.ip ?? (probeIp ? parseIp(probeIp) : undefined);
  if (!input.request.address && !up.ip && probeIp) notes.push(`${input.request.host} resolved to ${probeIp} from the probe pod`);
  return { targets: [{ label: ip ? `${ip.text}:${up.port}` : `${input.request.host}:${up.port} (address unknown)`, target: addressTarget(input, ip, up.port) }], notes };
}

function dnsTargets(input: DoctorInput): Named[] {
  const svc = (input.view.lists.services ?? []).find((s) => s.metadata?.namespace === 'kube-system' && s.metadata?.name === 'kube-dns');
  const sel = (svc?.spec?.selector as Record<string, string> | undefined) ?? { 'k8s-app': 'kube-dns' };
  const pods = (input.cluster.pods ?? []).filter((p) => p.metadata?.namespace === 'kube-system' && matchesSelector(labelsOf(p), sel)).slice(0, 3);
  const out: Named[] = [];
  for (const p of pods) {
    for (const proto of ['UDP', 'TCP'] as const) {
      const sp = svc ? ((svc.spec?.ports as { port?: number; protocol?: string; targetPort?: number | string; name?: string }[] | undefined) ?? []).find((x) => x.port === 53 && (x.protocol ?? 'TCP').toUpperCase() === proto) : undefined;
      const port = (sp ? targetPortOn(p, { port: 53, protocol: proto, ...(sp.targetPort !== undefined ? { targetPort: sp.targetPort } : {}) }) : undefined) ?? 53;
      out.push({ label: `${proto} pod ${key(p)}:${port}`, target: podTarget(input, p, port, proto) });
    }
  }
  return out;
}

function istiodTargets(input: DoctorInput): Named[] {
  const ns = input.rootNamespace;
  const pods = (input.cluster.pods ?? []).filter((p) => p.metadata?.namespace === ns && (labelsOf(p).app === 'istiod' || labelsOf(p).istio === 'pilot')).slice(0, 3);
  return pods.map((p) => ({ label: `pod ${key(p)}:15012`, target: podTarget(input, p, 15012, 'TCP') }));
}

function selectingNames(e: EgressEvaluation): string {
  return e.policies.filter((p) => p.selects).map((p) => p.name).join(', ');
}

function describe(e: EgressEvaluation, label: string): string[] {
  const out: string[] = [];
  if (!e.isolated) return [`${label}: allowed (no egress policy selects the pod)`];
  const allowing = e.policies.filter((p) => p.allows === true).map((p) => `${p.name} rule ${p.rules.find((r) => r.matches === true)?.index ?? '?'}`);
  out.push(`${label}: ${e.verdict}${allowing.length ? ` by ${allowing.join(', ')}` : ''}`);
  if (e.verdict !== 'allowed') {
    for (const p of e.policies.filter((x) => x.selects)) {
      if (p.rules.length === 0) out.push(`  ${p.name}: selects the pod for egress and has no egress rule (denies all)`);
      for (const r of p.rules) out.push(`  ${p.name} rule ${r.index}: ${r.matches === true ? 'matches' : r.matches === false ? 'no match' : 'cannot tell'} — ${r.why}`);
    }
  }
  out.push(...e.notes.map((n) => `  note: ${n}`));
  return out;
}

function allowFix(input: DoctorInput, podLabels: Record<string, string>, name: string, to: unknown[], ports: { protocol: string; port: number }[], rank: number, title: string, tradeoffs: string, comment?: string): Fix {
  const ns = input.view.pod?.metadata?.namespace ?? '';
  const doc = { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name, namespace: ns }, spec: { podSelector: { matchLabels: podLabels }, policyTypes: ['Egress'], egress: [{ to, ports }] } };
  return { rank, title, tradeoffs, kind: 'yaml', content: yamlDoc(doc, comment) };
}

export function networkPolicyStep(input: DoctorInput, number: number, title: string, probeIp?: string): Step {
  const base = { number, id: 'network-policy' as const, title };
  const pod = input.view.pod;
  if (!pod) return { ...base, status: 'skipped', reason: notInInput(input, 'the pod and its NetworkPolicies are'), summary: 'not evaluated', evidence: [], findings: [] };
  const policies = input.cluster.networkPolicies as readonly NetworkPolicy[] | undefined;
  const ns = pod.metadata?.namespace ?? '';
  if (policies === undefined) {
    const gap = input.cluster.gaps.find((g) => g.what.includes('networkpolicies'));
    // an offline input that lacks them is not a failed read: say so, without a warning
    if (gap?.reason === 'not-found' && input.offline) return { ...base, status: 'skipped', reason: `NetworkPolicies of namespace ${ns} are not in the input: ${gap.detail}`, summary: 'not evaluated', evidence: [], findings: [] };
    const findings = gap ? [newFinding('CollectionIncomplete', { what: gap.what, reason: gap.reason === 'forbidden' ? `RBAC: ${gap.detail.replace(/^[^:]*: /, '')}` : gap.detail, consequence: 'egress NetworkPolicies are not evaluated' })] : [];
    return { ...base, status: 'skipped', reason: gap ? `NetworkPolicies of namespace ${ns} could not be read (${gap.reason})` : notInInput(input, 'NetworkPolicies are'), summary: 'not evaluated', evidence: [], findings };
  }
  const source = { namespace: ns, labels: (pod.metadata?.labels ?? {}) as Record<string, string> };
  const podName = `${ns}/${pod.metadata?.name}`;
  const srcLabels = workloadLabels(source.labels);
  const findings: Finding[] = [];
  const evidence: string[] = [`${policies.filter((p) => p.metadata?.namespace === ns).length} NetworkPolic${policies.length === 1 ? 'y' : 'ies'} in namespace ${ns}`];
  const { targets, notes } = destinationTargets(input, probeIp);
  evidence.push(...notes);
  const results = targets.map((t) => ({ t, e: evaluateEgress(policies, source, t.target) }));
  for (const { t, e } of results) evidence.push(...describe(e, t.label));
  const denied = results.filter((x) => x.e.verdict === 'denied');
  const unknown = results.filter((x) => x.e.verdict === 'unknown');
  const dest = destinationLabel(input.request);
  if (denied.length) {
    const first = denied[0]!;
    const t = first.t.target;
    const to = t.pod.kind === 'found' ? [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': t.pod.namespace } }, podSelector: { matchLabels: workloadLabels(t.pod.labels) } }] : [{ ipBlock: { cidr: t.ip ? `${t.ip.text}/${t.ip.family === 4 ? 32 : 128}` : '<ADDRESS>/32' } }];
    const fix = allowFix(input, srcLabels, `allow-egress-${(input.request.host.replace(/[^a-z0-9]+/gi, '-').toLowerCase() || 'dest').slice(0, 40)}-${t.port}`, to, [{ protocol: t.protocol, port: t.port }], 1, `Allow egress from ${podName.split('/')[1]}'s workload to ${first.t.label}`, 'Adds an allowance (policies are additive): nothing else changes. Review it with whoever owns the namespace\'s policies.', t.ip ? undefined : `NetworkPolicy cannot name hosts: put the addresses ${input.request.host} resolves to here`);
    findings.push(
      newFinding('NetworkPolicyDeniesEgress', { dest: denied.length === results.length ? dest : `${dest} (${denied.length} of ${results.length} endpoints: ${denied.map((d) => d.t.label).join(', ')})`, pod: podName, policies: selectingNames(first.e) }, { ...(denied.length < results.length ? { severity: 'warning' as const } : {}), subject: { kind: 'Pod', name: pod.metadata?.name ?? '', namespace: ns }, evidence: denied.flatMap((d) => describe(d.e, d.t.label)), fixes: [fix] }),
    );
  } else if (unknown.length) {
    const why = unknown[0]!.e.policies.flatMap((p) => p.rules.filter((r) => r.matches === 'unknown').map((r) => `${p.name} rule ${r.index}: ${r.why}`))[0] ?? 'facts are missing';
    findings.push(newFinding('NetworkPolicyUndetermined', { dest, why, remedy: unknown[0]!.t.target.ip ? 'Snapshot or read the namespaces and pods the policies name.' : 'Pass --address with the IP the name resolves to, or run with --probe to resolve it from the namespace.' }));
  }
  const isolated = results.some((x) => x.e.isolated) || evaluateEgress(policies, source, { port: 1, protocol: 'TCP', pod: { kind: 'not-a-pod' } }).isolated;
  // DNS for a hostname, istiod for the sidecar: only worth checking when policies isolate the pod
  const hostname = parseIp(input.request.host) === undefined;
  if (!isolated && hostname) evidence.push(`DNS (${input.request.host} is a hostname): allowed (no egress policy selects the pod)`);
  if (isolated && hostname) {
    const dns = dnsTargets(input);
    if (dns.length === 0) evidence.push('DNS: the cluster DNS pods (kube-system, k8s-app=kube-dns) are not in the input: not evaluated');
    else {
      const dr = dns.map((t) => ({ t, e: evaluateEgress(policies, source, t.target) }));
      const ok = dr.some((x) => x.e.verdict === 'allowed');
      evidence.push(`DNS (${input.request.host} is a hostname): ${ok ? 'allowed' : dr.some((x) => x.e.verdict === 'unknown') ? 'cannot tell' : 'denied'} to ${dns.filter((_, i) => i % 2 === 0).map((t) => t.label.replace(/^UDP /, '')).join(', ')}`);
      if (!ok && dr.every((x) => x.e.verdict === 'denied')) {
        const t = dr[0]!.t.target;
        const fix = allowFix(input, srcLabels, 'allow-dns', [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } }, podSelector: { matchLabels: t.pod.kind === 'found' ? workloadLabels(t.pod.labels) : { 'k8s-app': 'kube-dns' } } }], [{ protocol: 'UDP', port: 53 }, { protocol: 'TCP', port: 53 }], 1, 'Allow DNS to the cluster DNS pods', 'Lookups work again; DNS is rarely worth blocking (the target port, 53 here, is what the policy must name).');
        findings.push(newFinding('NetworkPolicyBlocksDns', { pod: podName, dns: dns.filter((_, i) => i % 2 === 0).map((x) => x.label.replace(/^UDP pod /, '')).join(', '), policies: selectingNames(dr[0]!.e) }, { subject: { kind: 'Pod', name: pod.metadata?.name ?? '', namespace: ns }, evidence: dr.flatMap((x) => describe(x.e, x.t.label)), fixes: [fix] }));
      }
    }
  }
  if (isolated && podHasSidecar(pod)) {
    const istiod = istiodTargets(input);
    if (istiod.length) {
      const ir = istiod.map((t) => ({ t, e: evaluateEgress(policies, source, t.target) }));
      const ok = ir.some((x) => x.e.verdict === 'allowed');
      evidence.push(`istiod (the sidecar's xDS and certificates): ${ok ? 'allowed' : ir.some((x) => x.e.verdict === 'unknown') ? 'cannot tell' : 'denied'}`);
      if (ir.every((x) => x.e.verdict === 'denied')) {
        const t = ir[0]!.t.target;
        const fix = allowFix(input, srcLabels, 'allow-istiod', [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': input.rootNamespace } }, podSelector: { matchLabels: t.pod.kind === 'found' ? { app: t.pod.labels.app ?? 'istiod' } : { app: 'istiod' } } }], [{ protocol: 'TCP', port: 15012 }], 1, 'Allow the sidecar to reach istiod', 'Required for every pod with a sidecar under egress policies (istio/istio#32945).');
        findings.push(newFinding('NetworkPolicyBlocksIstiod', { pod: podName, istiod: istiod.map((x) => x.label.replace(/^pod /, '')).join(', '), policies: selectingNames(ir[0]!.e) }, { subject: { kind: 'Pod', name: pod.metadata?.name ?? '', namespace: ns }, fixes: [fix] }));
      }
    } else if (podsCollected(input, input.rootNamespace)) evidence.push(`istiod: no istiod pod found in ${input.rootNamespace}`);
  }
  const problem = findings.some((f) => f.severity !== 'info');
  const summary = !isolated ? 'no egress NetworkPolicy selects the pod' : denied.length ? `denied by ${selectingNames(denied[0]!.e)}` : unknown.length ? 'cannot tell' : results.length ? `allowed by ${[...new Set(results.flatMap((x) => x.e.policies.filter((p) => p.allows === true).map((p) => p.name)))].join(', ')}` : 'no destination pods to evaluate';
  return {
    ...base,
    status: problem ? 'problem' : 'ok',
    summary: findings.some((f) => f.code === 'MEG081') && !denied.length ? `${summary}; DNS denied` : findings.some((f) => f.code === 'MEG083') && !denied.length ? `${summary}; istiod denied` : summary,
    evidence,
    findings,
    data: { isolated, targets: results.map((x) => ({ target: x.t.label, verdict: x.e.verdict, selecting: x.e.policies.filter((p) => p.selects).map((p) => p.name), allowing: x.e.policies.filter((p) => p.allows === true).map((p) => p.name) })) },
  };
}
