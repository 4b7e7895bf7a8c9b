/**
 * Step 3 (seed 000 step 3): the outbound traffic policy and whether the destination is
 * registered. The mode comes from the pod's Sidecar resource when it sets one, else from the mesh
 * config (default ALLOW_ANY); the destination is registered when a Service or ServiceEntry visible
 * to the pod's namespace covers it and the pod's Sidecar imports it (egress hosts "ns/host").
 */
import type { KubeObject } from '../../model/cluster-view.js';
import { newFinding } from '../catalog.js';
import type { Finding } from '../finding.js';
import { applicableSidecar } from '../trace/cluster-context.js';
import { seProtocol } from '../trace/fixes.js';
import { destinationLabel } from '../trace/request.js';
import { hostMatches, key, upstreamOf, type Upstream } from './facts.js';
import { serviceEntryFix } from './fixes.js';
import { traceFindingsFor } from './sidecar.js';
import { notInInput, type DoctorInput, type Step } from './types.js';

function modeOf(o: Readonly<Record<string, unknown>> | undefined): string | undefined {
  return (o?.outboundTrafficPolicy as { mode?: string } | undefined)?.mode;
}

/**
 * Whether the Sidecar's egress listeners import a host of namespace `ns` (Istio: "ns/host" with
 * ns "*", "." (the Sidecar's own), "~" (none) or a name; host a DNS name or wildcard).
 */
function sidecarImports(sidecar: KubeObject | undefined, ns: string, host: string): { imported: boolean; by?: string } {
  const egress = (sidecar?.spec?.egress as { hosts?: string[] }[] | undefined) ?? [];
  if (!sidecar || egress.length === 0) return { imported: true };
  const own = sidecar.metadata?.namespace ?? '';
  for (const e of egress) {
    for (const h of e.hosts ?? []) {
      const slash = h.indexOf('/');
      const hns = slash >= 0 ? h.slice(0, slash) : '*';
      const hh = slash >= 0 ? h.slice(slash + 1) : h;
      const nsOk = hns === '*' || (hns === '.' && ns === own) || hns === ns;
      if (hns !== '~' && nsOk && hostMatches(hh, host)) return { imported: true, by: h };
    }
  }
  return { imported: false };
}

function registration(up: Upstream, sidecar: KubeObject | undefined): { registered: boolean; by: string[]; notImported: string[] } {
  const objects: { label: string; ns: string; host: string }[] = [];
  if (up.kind === 'service' && up.service) objects.push({ label: `Service ${key(up.service)}`, ns: up.service.metadata?.namespace ?? '', host: up.host });
  else if (up.kind === 'service' && !up.service && up.serviceEntries.length === 0) {
    const ns = up.host.split('.')[1] ?? '';
    objects.push({ label: `Service host ${up.host}`, ns, host: up.host });
  }
  for (const se of up.serviceEntries) objects.push({ label: `ServiceEntry ${key(se)}`, ns: se.metadata?.namespace ?? '', host: up.host });
  const by: string[] = [];
  const notImported: string[] = [];
  for (const o of objects) {
    const imp = sidecarImports(sidecar, o.ns, o.host);
    if (imp.imported) by.push(`${o.label}${imp.by ? ` (imported by Sidecar egress host ${imp.by})` : ''}`);
    else notImported.push(o.label);
  }
  return { registered: by.length > 0, by, notImported };
}

export function outboundPolicyStep(input: DoctorInput, number: number, title: string): Step {
  const base = { number, id: 'outbound-policy' as const, title };
  const t = input.trace;
  if (t?.proxy.type === 'router') return { ...base, status: 'skipped', reason: 'the target is a gateway: it has no outbound traffic policy and only forwards what its Gateway and VirtualService routes name', summary: 'not applicable', evidence: [], findings: [] };
  if (t?.proxy.type === 'none') return { ...base, status: 'skipped', reason: 'the pod has no sidecar: no outbound traffic policy applies', summary: 'not applicable', evidence: [], findings: [] };
  const ns = input.view.pod?.metadata?.namespace ?? '';
  const noObjects = input.view.meshConfig === undefined && input.view.lists.sidecars === undefined && input.view.lists.serviceEntries === undefined && input.view.lists.services === undefined;
  if (noObjects && t) return fromProxyOnly(input, base);
  const sidecar = applicableSidecar(input.view, input.rootNamespace);
  const sidecarMode = modeOf(sidecar?.spec);
  const meshRead = input.view.meshConfig !== undefined;
  const meshMode = modeOf(input.view.meshConfig?.mesh) ?? (meshRead ? 'ALLOW_ANY' : undefined);
  const effective = sidecarMode ?? meshMode;
  const up = upstreamOf(input);
  const reg = registration(up, sidecar);
  const dest = destinationLabel(input.request);
  const evidence: string[] = [
    meshRead ? `mesh config ${input.view.meshConfig!.namespace}/${input.view.meshConfig!.name}: outboundTrafficPolicy.mode ${modeOf(input.view.meshConfig!.mesh) ?? 'not set (ALLOW_ANY)'}` : 'mesh config not read',
    sidecar ? `Sidecar ${key(sidecar)} applies to the pod${sidecarMode ? `: outboundTrafficPolicy.mode ${sidecarMode} (overrides the mesh)` : ' (sets no outbound traffic policy)'}` : input.view.lists.sidecars ? 'no Sidecar resource applies to the pod' : 'Sidecar resources not read',
    `effective policy: ${effective ?? 'unknown'}`,
    ...(t?.verdict.outboundTrafficPolicy && t.verdict.outboundTrafficPolicy !== 'UNKNOWN' ? [`the proxy's catch-all says ${t.verdict.outboundTrafficPolicy}${effective && t.verdict.outboundTrafficPolicy !== effective && t.verdict.outboundTrafficPolicy !== 'EGRESS_PROXY' ? ` — differs from the configuration (${effective}): the proxy may not have the latest push` : ''}`] : []),
    reg.registered ? `registered: ${reg.by.join('; ')}` : `not registered: ${up.via}${input.view.lists.serviceEntries === undefined ? ' (ServiceEntries not read)' : ''}`,
    ...(reg.notImported.length ? [`not imported by Sidecar ${key(sidecar)} (egress hosts ${JSON.stringify((sidecar?.spec?.egress as { hosts?: string[] }[] | undefined)?.flatMap((e) => e.hosts ?? []) ?? [])}): ${reg.notImported.join('; ')}`] : []),
  ];
  const findings: Finding[] = traceFindingsFor(t, 'outbound-policy');
  const data = { meshMode: meshMode ?? null, sidecar: sidecar ? { name: sidecar.metadata?.name, namespace: sidecar.metadata?.namespace, mode: sidecarMode ?? null } : null, effective: effective ?? null, proxyPolicy: t?.verdict.outboundTrafficPolicy ?? null, registered: reg.registered, registeredBy: reg.by, notImported: reg.notImported };
  const blocked = effective === 'REGISTRY_ONLY' && !reg.registered;
  if (blocked && !findings.some((f) => f.code === 'MEG020')) {
    const how = reg.notImported.length ? `it is registered (${reg.notImported.join(', ')}) but the pod's Sidecar ${key(sidecar)} does not import it` : 'no Service or ServiceEntry covers it';
    const ip = input.request.address && input.request.host === input.request.address.text ? input.request.address.text : undefined;
    findings.push(
      newFinding('RegistryOnlyBlocksDestination', { dest, how }, {
        fixes: [serviceEntryFix({ namespace: ns, host: input.request.host, ...(ip ? { ip } : {}), port: input.request.port, protocol: seProtocol(input.request.protocol), rank: 1, why: 'The recommended way to allow an external destination under REGISTRY_ONLY.' })],
      }),
    );
  }
  // registered, yet the proxy sent it to the catch-all: the port's protocol or listener did not match it (step 4)
  const unmatched = reg.registered && findings.some((f) => f.code === 'MEG020');
  if (unmatched) evidence.push('registered, but the proxy does not match this connection to the registration: it fell to the catch-all (see the port protocol step)');
  const problem = findings.some((f) => f.severity !== 'info');
  const summary = effective === undefined ? 'policy unknown (mesh config not read)' : `${effective}; ${reg.registered ? 'registered' : 'not registered'}${blocked ? ': blocked' : effective === 'ALLOW_ANY' && !reg.registered ? ': passes through' : ''}`;
  if (effective === undefined && !findings.length) return { ...base, status: 'skipped', reason: 'the mesh config and Sidecars could not be read', summary, evidence, findings, data };
  return { ...base, status: problem ? 'problem' : 'ok', summary: unmatched ? `${effective}; registered, but not matched: blocked` : summary, evidence, findings, data, ...(unmatched ? { symptoms: ['MEG020'] } : {}) };
}

/**
 * Only the proxy's configuration (a config dump): the policy as the proxy applies it — its
 * catch-all (PassthroughCluster = ALLOW_ANY, BlackHoleCluster = REGISTRY_ONLY) — and whether the
 * destination matched a cluster Istio built for a Service or ServiceEntry. Which object sets the
 * mode, and what registers the host, are not in the input.
 */
function fromProxyOnly(input: DoctorInput, base: { number: number; id: 'outbound-policy'; title: string }): Step {
  const t = input.trace!;
  const policy = t.verdict.outboundTrafficPolicy;
  const known = policy !== undefined && policy !== 'UNKNOWN';
  const cluster = t.verdict.cluster;
  const registered = cluster !== undefined && cluster !== null && cluster.startsWith('outbound|');
  const findings = traceFindingsFor(t, 'outbound-policy');
  const evidence = [
    notInInput(input, 'the mesh config, Sidecar resources, Services and ServiceEntries are'),
    known ? `the proxy's catch-all says ${policy}` : "the proxy's catch-all does not show the policy",
    registered ? `registered: the connection matched cluster ${cluster}, which Istio builds for a Service or ServiceEntry` : `not matched to a registered host${cluster ? ` (cluster ${cluster})` : ''}`,
  ];
  const data = { meshMode: null, sidecar: null, effective: known ? policy : null, proxyPolicy: policy ?? null, registered, registeredBy: registered ? [`cluster ${cluster}`] : [], notImported: [] };
  if (!known && !findings.length) return { ...base, status: 'skipped', reason: `${notInInput(input, 'the mesh config and Sidecars are')}, and the proxy's catch-all does not show the policy`, summary: 'policy unknown', evidence, findings, data };
  const problem = findings.some((f) => f.severity !== 'info');
  return { ...base, status: problem ? 'problem' : 'ok', summary: `${known ? `${policy} (from the proxy)` : 'policy unknown'}; ${registered ? 'registered' : 'not registered'}${problem ? ': blocked' : ''}`, evidence, findings, data };
}
