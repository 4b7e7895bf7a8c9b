/**
 * Why one destination was (or would be) black-holed: the cause class, from the trace engine's
 * verdict and findings through the configuration the proxy holds, plus what only the cluster can
 * tell (a Service or ServiceEntry the proxy does not see because of Sidecar egress.hosts or
 * exportTo; a ServiceEntry whose addresses do not contain the IP the application used). Fixes come
 * from the engine's findings; the ones added here cover causes the engine cannot see.
 * Order follows ISTIO_INTERNALS §6.2: loop guard, hidden service, TCP ServiceEntry without
 * addresses, shared-port listener, REGISTRY_ONLY (mesh or Sidecar), subsets, DNS/resolution.
 */
import { yamlDoc as yaml } from '../yaml-doc.js';
import { cidrContains, parseCidr, parseIp } from '../../envoy/ip.js';
import { parseServiceCluster } from '../../envoy/istio-names.js';
import { discoveryType } from '../../envoy/cluster.js';
import type { ClusterView, KubeObject } from '../../model/cluster-view.js';
import type { ConfigDump } from '../../model/config-dump.js';
import { ownerWorkload } from '../../model/proxy.js';
import { newFinding } from '../catalog.js';
import type { Finding, Fix } from '../finding.js';
import { listenerOwners, ownerLabel } from '../trace/attribution.js';
import { applicableSidecar } from '../trace/cluster-context.js';
import { TraceContext } from '../trace/context.js';
import { FAILING_VERDICTS, type Responsible, type Trace } from '../trace/types.js';

export const CAUSE_CLASSES = [
  'loop-guard',
  'sidecar-egress-hosts',
  'export-to',
  'tcp-serviceentry-no-addresses',
  'shared-port-listener',
  'registry-only-mesh',
  'registry-only-sidecar',
  'registry-only',
  'serviceentry-resolution',
  'subset-without-endpoints',
  'cluster-not-found',
  'blackhole-chain',
  'not-captured',
  'passthrough',
  'routed',
  'other',
] as const;

export type CauseClass = (typeof CAUSE_CLASSES)[number];

export interface Cause {
  readonly class: CauseClass;
  /** one sentence naming the responsible objects */
  readonly summary: string;
  readonly objects: readonly Responsible[];
  readonly fixes: readonly Fix[];
  /** findings only the cluster could tell (MEG026) */
  readonly findings: readonly Finding[];
}

function has(t: Trace, name: string): boolean {
  return t.findings.some((f) => f.name === name);
}

/** The engine's fixes, in its order, each title once, re-ranked. */
function traceFixes(t: Trace, names?: readonly string[]): Fix[] {
  const out: Fix[] = [];
  const seen = new Set<string>();
  for (const f of t.findings) {
    if (names ? !names.includes(f.name) : f.severity === 'info') continue;
    for (const x of f.fixes) {
      if (seen.has(x.title)) continue;
      seen.add(x.title);
      out.push(x);
    }
  }
  return out.map((x, i) => ({ ...x, rank: i + 1 }));
}

function rerank(fixes: readonly Fix[]): Fix[] {
  return fixes.map((x, i) => ({ ...x, rank: i + 1 }));
}

// ---- the cluster's objects for a destination -------------------------------------------------

interface PortLike {
  readonly port?: number;
  readonly number?: number;
  readonly name?: string;
  readonly protocol?: string;
  readonly appProtocol?: string;
}

export interface DestinationRef {
  /** the IP the application connected to, when known */
  readonly ip: string | undefined;
  /** hostname: SNI, Host header or DEST's name */
  readonly host: string | undefined;
  readonly port: number;
  readonly podNamespace: string | undefined;
}

export interface CoveringObject {
  readonly object: KubeObject;
  readonly kind: 'Service' | 'ServiceEntry';
  /** the hostname the proxy would know it by */
  readonly host: string;
  /** how it covers the destination */
  readonly by: 'address' | 'host';
}

function hostMatches(pattern: string, host: string): boolean {
  const p = pattern.toLowerCase();
  const h = host.toLowerCase();
  if (p === '*' || p === h) return true;
  return p.startsWith('*.') && h.endsWith(p.slice(1));
}

/** Services and ServiceEntries of the cluster that cover ip:port or host:port. */
export function coveringObjects(view: ClusterView, d: DestinationRef, domain = 'cluster.local'): CoveringObject[] {
  const out: CoveringObject[] = [];
  const ip = d.ip ? parseIp(d.ip) : undefined;
  for (const s of view.lists.services ?? []) {
    const spec = (s.spec ?? {}) as { clusterIP?: string; clusterIPs?: string[]; ports?: PortLike[] };
    if (!(spec.ports ?? []).some((p) => p.port === d.port)) continue;
    const name = s.metadata?.name ?? '';
    const ns = s.metadata?.namespace ?? '';
    const fqdn = `${name}.${ns}.svc.${domain}`;
    const ips = [...(spec.clusterIPs ?? []), ...(spec.clusterIP ? [spec.clusterIP] : [])];
    if (d.ip && ips.includes(d.ip)) out.push({ object: s, kind: 'Service', host: fqdn, by: 'address' });
    else if (d.host && [fqdn, `${name}.${ns}`, `${name}.${ns}.svc`, ...(ns === d.podNamespace ? [name] : [])].includes(d.host.toLowerCase())) out.push({ object: s, kind: 'Service', host: fqdn, by: 'host' });
  }
  for (const se of view.lists.serviceEntries ?? []) {
    const spec = (se.spec ?? {}) as { hosts?: string[]; addresses?: string[]; ports?: PortLike[] };
    if (!(spec.ports ?? []).some((p) => p.number === d.port)) continue;
    const hosts = spec.hosts ?? [];
    const byAddress = ip !== undefined && (spec.addresses ?? []).some((a) => {
      const c = parseCidr(a.includes('/') ? a : `${a}/${a.includes(':') ? 128 : 32}`);
      return c !== undefined && cidrContains(c, ip);
    });
    const byHost = d.host !== undefined && hosts.find((h) => hostMatches(h, d.host!));
    if (byAddress) out.push({ object: se, kind: 'ServiceEntry', host: hosts[0] ?? '', by: 'address' });
    else if (byHost) out.push({ object: se, kind: 'ServiceEntry', host: byHost, by: 'host' });
  }
  return out;
}

function label(o: CoveringObject): string {
  return `${o.kind} ${o.object.metadata?.namespace}/${o.object.metadata?.name}`;
}

/** exportTo of a Service (annotation) or ServiceEntry (spec), or the mesh default. */
function exportToOf(o: CoveringObject, view: ClusterView): { list: string[]; from: string } {
  if (o.kind === 'Service') {
    const a = o.object.metadata?.annotations?.['networking.istio.io/exportTo'];
    if (a !== undefined) return { list: a.split(',').map((x) => x.trim()).filter(Boolean), from: 'annotation networking.istio.io/exportTo' };
    const d = view.meshConfig?.mesh.defaultServiceExportTo as string[] | undefined;
    if (d?.length) return { list: d, from: 'meshConfig.defaultServiceExportTo' };
  } else {
    const e = (o.object.spec as { exportTo?: string[] } | undefined)?.exportTo;
    if (e?.length) return { list: e, from: 'spec.exportTo' };
    const d = view.meshConfig?.mesh.defaultServiceEntryExportTo as string[] | undefined;
    if (d?.length) return { list: d, from: 'meshConfig.defaultServiceEntryExportTo' };
  }
  return { list: ['*'], from: 'default' };
}

function exportedTo(list: readonly string[], objectNs: string, podNs: string): boolean {
  return list.some((x) => x === '*' || x === podNs || (x === '.' && objectNs === podNs));
}

interface EgressListener {
  readonly port?: { number?: number };
  readonly hosts?: string[];
}

/** Whether the Sidecar's egress imports the host of namespace objectNs on port (pilot/pkg/model/sidecar.go). */
function sidecarImports(sidecar: KubeObject, objectNs: string, host: string, port: number): boolean {
  const egress = ((sidecar.spec?.egress as EgressListener[] | undefined) ?? []);
  if (egress.length === 0) return true;
  const sidecarNs = sidecar.metadata?.namespace ?? '';
  return egress.some((e) => {
    if (e.port?.number !== undefined && e.port.number !== port) return false;
    return (e.hosts ?? []).some((h) => {
      const i = h.indexOf('/');
      const ns = i < 0 ? '*' : h.slice(0, i);
      const pattern = i < 0 ? h : h.slice(i + 1);
      const nsOk = ns === '*' || ns === objectNs || (ns === '.' && objectNs === sidecarNs);
      return nsOk && hostMatches(pattern, host);
    });
  });
}

// ---- fixes the engine does not have -----------------------------------------------------------------

function sidecarEgressFix(sidecar: KubeObject, o: CoveringObject): Fix {
  const name = sidecar.metadata?.name ?? 'default';
  const ns = sidecar.metadata?.namespace ?? 'default';
  const entry = `${o.object.metadata?.namespace}/${o.host}`;
  const egress = (sidecar.spec?.egress as EgressListener[] | undefined) ?? [];
  const idx = Math.max(0, egress.findIndex((e) => e.port === undefined));
  const patch = JSON.stringify([{ op: 'add', path: `/spec/egress/${idx}/hosts/-`, value: entry }]);
  return {
    rank: 1,
    title: `Import ${o.host} in Sidecar ${ns}/${name}`,
    tradeoffs: `Adds ${entry} to the Sidecar's egress hosts: the pods it selects get a listener and cluster for it (a little more configuration per proxy). Prefer naming the host over "${o.object.metadata?.namespace}/*", which imports the whole namespace.`,
    kind: 'command',
    content: `kubectl patch sidecar ${name} -n ${ns} --type json -p '${patch}'`,
  };
}

function exportToFix(o: CoveringObject, current: readonly string[], podNs: string): Fix {
  const name = o.object.metadata?.name ?? '';
  const ns = o.object.metadata?.namespace ?? '';
  const next = [...current.filter((x) => x !== '~'), podNs].filter((x, i, a) => a.indexOf(x) === i);
  const content =
    o.kind === 'Service'
      ? `kubectl annotate service ${name} -n ${ns} networking.istio.io/exportTo=${next.join(',')} --overwrite`
      : `kubectl patch serviceentry ${name} -n ${ns} --type merge -p '${JSON.stringify({ spec: { exportTo: next } })}'`;
  return {
    rank: 1,
    title: `Export ${o.kind} ${ns}/${name} to namespace ${podNs}`,
    tradeoffs: `Namespace ${podNs} then sees ${o.host}; the owners of ${ns} restricted its visibility on purpose, so agree it with them. Exporting to "*" would make it visible to every namespace.`,
    kind: 'command',
    content,
  };
}

function sidecarPolicyFix(sidecar: KubeObject): Fix {
  const name = sidecar.metadata?.name ?? '';
  const ns = sidecar.metadata?.namespace ?? '';
  return {
    rank: 1,
    title: `Set outboundTrafficPolicy ALLOW_ANY in Sidecar ${ns}/${name}`,
    tradeoffs: 'Every unregistered destination becomes reachable from the pods this Sidecar selects: the allow-list it enforces today is gone. Prefer registering the destination.',
    kind: 'command',
    content: `kubectl patch sidecar ${name} -n ${ns} --type merge -p '${JSON.stringify({ spec: { outboundTrafficPolicy: { mode: 'ALLOW_ANY' } } })}'`,
  };
}

function appProtocolFix(svc: Responsible, port: number, services: readonly KubeObject[]): Fix | undefined {
  if (!svc.name || !svc.namespace) return undefined;
  const obj = services.find((s) => s.metadata?.name === svc.name && s.metadata?.namespace === svc.namespace);
  const p = ((obj?.spec?.ports as PortLike[] | undefined) ?? []).find((x) => x.port === port);
  const declared = p ? (p.appProtocol ? `appProtocol ${p.appProtocol}` : p.name ? `port name "${p.name}"` : 'no name') : undefined;
  return {
    rank: 1,
    title: `Declare port ${port} of Service ${svc.namespace}/${svc.name} as TCP`,
    tradeoffs: `Only if that Service does not really serve HTTP on ${port}${declared ? ` (today: ${declared})` : ''}: Istio then builds a TCP listener for it, and its HTTP routing, retries and HTTP metrics are lost. appProtocol wins over the port name (Kubernetes 1.20+).`,
    kind: 'command',
    content: `kubectl patch service ${svc.name} -n ${svc.namespace} -p '${JSON.stringify({ spec: { ports: [{ port, appProtocol: 'tcp' }] } })}'`,
  };
}

function seAddressesFix(o: CoveringObject, ip: string): Fix {
  const name = o.object.metadata?.name ?? '';
  const ns = o.object.metadata?.namespace ?? '';
  const addresses = [...(((o.object.spec as { addresses?: string[] } | undefined)?.addresses) ?? []), `${ip}/${ip.includes(':') ? 128 : 32}`];
  return {
    rank: 1,
    title: `Add ${ip} to the addresses of ServiceEntry ${ns}/${name}`,
    tradeoffs: 'Static addresses go stale when the host moves; for a name whose addresses change, let the sidecar answer DNS (ISTIO_META_DNS_CAPTURE with DNS auto-allocation) so the application connects to the address Istio assigns.',
    kind: 'command',
    content: `kubectl patch serviceentry ${name} -n ${ns} --type merge -p '${JSON.stringify({ spec: { addresses } })}'`,
  };
}

// ---- classification -----------------------------------------------------------------------------

export interface CauseInput {
  readonly trace: Trace;
  readonly dest: DestinationRef;
  readonly view: ClusterView | undefined;
  readonly dump: ConfigDump | undefined;
  /** flags seen in the evidence for this destination */
  readonly flags?: Readonly<Record<string, number>>;
}

function isCatchAll(t: Trace): boolean {
  const v = t.verdict;
  const viaCatchAll = v.listener === 'virtualOutbound' || v.filterChain === 'PassthroughFilterChain' || v.filterChain === 'virtualOutbound-catchall-tcp' || v.virtualHost === 'block_all' || v.virtualHost === 'allow_any';
  return (v.code === 'BLACKHOLE' || v.code === 'PASSTHROUGH') && (viaCatchAll || has(t, 'RegistryOnlyBlocksDestination') || has(t, 'PassthroughUnregistered'));
}

function describeDest(d: DestinationRef): string {
  return `${d.host ?? d.ip ?? '?'}${d.host && d.ip && d.host !== d.ip ? ` (${d.ip})` : ''}:${d.port}`;
}

function hiddenCause(input: CauseInput): Cause | undefined {
  const { trace, view, dest } = input;
  if (!view || !isCatchAll(trace)) return undefined;
  const podNs = dest.podNamespace ?? trace.proxy.namespace;
  if (!podNs) return undefined;
  const covering = coveringObjects(view, { ...dest, podNamespace: podNs });
  if (covering.length === 0) return undefined;
  const rootNs = (view.meshConfig?.mesh.rootNamespace as string | undefined) ?? 'istio-system';
  const sidecar = applicableSidecar(view, rootNs);
  const findings: Finding[] = [];
  const fixes: Fix[] = [];
  const objects: Responsible[] = [];
  let cls: CauseClass | undefined;
  const reasons: string[] = [];
  for (const o of covering) {
    const ns = o.object.metadata?.namespace ?? '';
    const name = o.object.metadata?.name ?? '';
    const exp = exportToOf(o, view);
    const exported = exportedTo(exp.list, ns, podNs);
    const imported = !sidecar || sidecarImports(sidecar, ns, o.host, dest.port);
    if (!imported && sidecar) {
      const how = `Sidecar ${sidecar.metadata?.namespace}/${sidecar.metadata?.name} imports only ${((sidecar.spec?.egress as EgressListener[] | undefined) ?? []).flatMap((e) => e.hosts ?? []).join(', ')} (egress.hosts), not ${ns}/${o.host}`;
      findings.push(newFinding('ServiceHiddenFromProxy', { dest: describeDest(dest), object: label(o), how }, { subject: { kind: o.kind, name, namespace: ns }, evidence: [`${label(o)} ${o.by === 'address' ? 'has this address' : 'has this host'} and port ${dest.port}`, `Sidecar ${sidecar.metadata?.namespace}/${sidecar.metadata?.name} spec.egress`], fixes: [sidecarEgressFix(sidecar, o)] }));
      fixes.push(sidecarEgressFix(sidecar, o));
      objects.push({ kind: 'Sidecar', name: sidecar.metadata?.name ?? '', namespace: sidecar.metadata?.namespace ?? '', role: `egress.hosts does not import ${ns}/${o.host}` });
      cls ??= 'sidecar-egress-hosts';
      reasons.push(how);
    }
    if (!exported) {
      const how = `it is exported only to ${exp.list.map((x) => `"${x}"`).join(', ')} (${exp.from}), not to namespace ${podNs}`;
      findings.push(newFinding('ServiceHiddenFromProxy', { dest: describeDest(dest), object: label(o), how }, { subject: { kind: o.kind, name, namespace: ns }, evidence: [`${label(o)} ${exp.from}: ${exp.list.join(',')}`], fixes: [exportToFix(o, exp.list, podNs)] }));
      fixes.push(exportToFix(o, exp.list, podNs));
      objects.push({ kind: o.kind, name, namespace: ns, host: o.host, role: `exportTo ${exp.list.join(',')} hides it from namespace ${podNs}` });
      cls ??= 'export-to';
      reasons.push(`${label(o)} is not exported to ${podNs} (${exp.from}: ${exp.list.join(',')})`);
    }
    if (imported && exported && o.kind === 'ServiceEntry') {
      const spec = (o.object.spec ?? {}) as { addresses?: string[]; resolution?: string; ports?: PortLike[] };
      const port = (spec.ports ?? []).find((p) => p.number === dest.port);
      const proto = (port?.protocol ?? '').toUpperCase();
      let why: string | undefined;
      if (o.by === 'host' && dest.ip && (spec.addresses ?? []).length > 0) {
        why = `it lists addresses ${spec.addresses!.join(', ')}, but the application connected to ${dest.ip} (what DNS answers for ${o.host} is not among them)`;
        fixes.push(seAddressesFix(o, dest.ip));
      } else if (o.by === 'host' && (proto === 'TLS' || proto === 'HTTPS') && !(spec.addresses ?? []).length) {
        why = `it has no addresses and port ${dest.port} is ${proto}, so the proxy matches it by SNI only; this connection ${trace.request.sni ? `sent SNI ${trace.request.sni}` : 'sent no SNI'}`;
        if (dest.ip) fixes.push(seAddressesFix(o, dest.ip));
      } else if (o.by === 'host' && (spec.resolution ?? 'NONE') === 'NONE' && !(spec.addresses ?? []).length && dest.ip) {
        why = `it has resolution NONE and no addresses, so nothing ties ${dest.ip} to it`;
        fixes.push(seAddressesFix(o, dest.ip));
      }
      if (why) {
        findings.push(newFinding('ServiceHiddenFromProxy', { dest: describeDest(dest), object: label(o), how: `${why}, so the proxy does not tie this connection to it` }, { severity: 'warning', subject: { kind: o.kind, name, namespace: ns }, evidence: [`${label(o)} spec.addresses: ${(spec.addresses ?? []).join(', ') || '(none)'}, resolution ${spec.resolution ?? 'NONE'}`], fixes: fixes.slice(-1) }));
        cls ??= 'serviceentry-resolution';
        reasons.push(`${label(o)} covers ${o.host}:${dest.port} but ${why}`);
        objects.push({ kind: 'ServiceEntry', name, namespace: ns, host: o.host, role: `covers the host but not this connection: ${why}` });
      }
    }
  }
  if (!cls) return undefined;
  const end = trace.verdict.code === 'BLACKHOLE' ? 'so the proxy treats it as unregistered and black-holes it (REGISTRY_ONLY)' : 'so the proxy treats it as unregistered and passes it through';
  // only the fixes that make the proxy see the object: registering a mesh Service's address as an
  // external destination, or bypassing the sidecar for it, would lose its mTLS and policy
  return { class: cls, summary: `${reasons.join('; ')}: ${end}.`, objects: [...objects, ...trace.verdict.responsible], fixes: rerank(fixes), findings };
}

/** The services a wildcard listener was built for (its RDS virtual hosts, its tcp_proxy clusters). */
function ownersText(t: Trace, dump: ConfigDump | undefined): string {
  const named = t.verdict.responsible.filter((r) => r.kind === 'Service' || r.kind === 'ServiceEntry');
  if (named.length) return named.map((r) => (r.name ? `${r.kind} ${r.namespace ? `${r.namespace}/` : ''}${r.name}` : `${r.kind} ${r.host}`)).join(', ');
  const name = t.verdict.listener;
  if (!dump || !name || !/^(0\.0\.0\.0|\[?::\]?)_\d+$/.test(name)) return '';
  try {
    // the ref that carries the listener itself (a dynamic listener's wrapper is indexed too)
    const refs = dump.listenerRefs().filter((r) => r.name === name && (r.state === 'active' || r.state === 'static'));
    const ref = refs.find((r) => r.addresses.length > 0) ?? refs[0];
    if (!ref) return '';
    const ctx = new TraceContext(dump, t.request);
    const owners = listenerOwners(ctx, ctx.listener(ref)).filter((o) => o.host !== t.request.host);
    return owners.slice(0, 5).map(ownerLabel).join(', ') + (owners.length > 5 ? ` and ${owners.length - 5} more` : '');
  } catch {
    return '';
  }
}

/** The cause class of one destination, from its trace (and the cluster, when known). */
export function classify(input: CauseInput): Cause {
  const { trace: t, view, dump } = input;
  const v = t.verdict;
  const objects = v.responsible;
  if (has(t, 'OutboundLoop')) {
    return { class: 'loop-guard', summary: `port ${t.request.port} is the sidecar's own capture port; Istio's virtualOutbound-blackhole chain resets such connections so they cannot loop through the proxy. Connect to the real service port instead.`, objects, fixes: [], findings: [] };
  }
  const hidden = hiddenCause(input);
  if (hidden) return hidden;
  if (has(t, 'ServiceEntryWithoutAddressesCapturesPort')) {
    const se = objects.find((r) => r.kind === 'ServiceEntry');
    const who = se ? (se.name ? `ServiceEntry ${se.namespace}/${se.name} (host ${se.host})` : `the ServiceEntry for ${se.host}`) : 'a TCP ServiceEntry';
    return { class: 'tcp-serviceentry-no-addresses', summary: `${who} has a TCP port ${t.request.port} and no addresses, so its match-all chain on ${v.listener} captures every connection on that port, to any IP, and sends it to ${v.cluster} (istioctl IST0134).`, objects, fixes: seNoAddressFixes(t, objects), findings: [] };
  }
  if (has(t, 'NonHttpIntoHttpManager') || has(t, 'ProtocolDetectionStall') || has(t, 'ProtocolDetectionDelay')) {
    const owners = ownersText(t, dump);
    const extra = objects.filter((r) => r.kind === 'Service').map((r) => appProtocolFix(r, t.request.port, view?.lists.services ?? [])).filter((x): x is Fix => x !== undefined);
    return { class: 'shared-port-listener', summary: `listener ${v.listener}${owners ? ` (built for ${owners})` : ''} handles every connection to port ${t.request.port}. ${v.summary}`, objects, fixes: rerank([...traceFixes(t, ['NonHttpIntoHttpManager', 'ProtocolDetectionStall', 'ProtocolDetectionDelay']), ...extra]), findings: [] };
  }
  if (has(t, 'RegistryOnlyBlocksDestination')) {
    const sidecar = objects.find((r) => r.kind === 'Sidecar');
    const mesh = objects.find((r) => r.kind === 'MeshConfig');
    const owners = v.listener && v.listener !== 'virtualOutbound' ? ownersText(t, dump) : '';
    const built = owners ? `, the wildcard listener built for ${owners}` : '';
    const shared = !v.listener || v.listener === 'virtualOutbound' ? '' : v.virtualHost === 'block_all' ? ` (its Host matches no virtual host of route configuration ${v.routeConfig ?? '?'} on ${v.listener}${built}: the block_all virtual host answers 502)` : ` (through the default chain of ${v.listener}${built})`;
    if (sidecar) {
      const obj = view?.lists.sidecars?.find((s) => s.metadata?.name === sidecar.name && s.metadata?.namespace === sidecar.namespace);
      return { class: 'registry-only-sidecar', summary: `no Service or ServiceEntry covers it, and Sidecar ${sidecar.namespace}/${sidecar.name} sets outboundTrafficPolicy REGISTRY_ONLY for this pod${shared}.`, objects, fixes: rerank([...traceFixes(t, ['RegistryOnlyBlocksDestination']), ...(obj ? [sidecarPolicyFix(obj)] : [])]), findings: [] };
    }
    if (mesh) return { class: 'registry-only-mesh', summary: `no Service or ServiceEntry covers it, and the mesh config ${mesh.namespace}/${mesh.name} sets outboundTrafficPolicy REGISTRY_ONLY${shared}.`, objects, fixes: traceFixes(t, ['RegistryOnlyBlocksDestination']), findings: [] };
    return { class: 'registry-only', summary: `no Service or ServiceEntry covers it, and the outbound traffic policy is REGISTRY_ONLY (the mesh config or a Sidecar; the input cannot tell which)${shared}.`, objects, fixes: traceFixes(t, ['RegistryOnlyBlocksDestination']), findings: [] };
  }
  if (v.code === 'NO_HEALTHY_UPSTREAM' || has(t, 'ClusterHasNoEndpoints')) {
    const parsed = v.cluster ? parseServiceCluster(v.cluster) : undefined;
    const type = v.cluster && dump ? clusterType(dump, v.cluster) : undefined;
    if (type === 'STRICT_DNS' || type === 'LOGICAL_DNS') {
      return { class: 'serviceentry-resolution', summary: `cluster ${v.cluster} resolves ${parsed?.host ?? 'its host'} by DNS (${type}) and has no address to send to: the name does not resolve from the proxy, or the ServiceEntry lists no endpoints.`, objects, fixes: traceFixes(t), findings: [] };
    }
    if (parsed?.subset) return { class: 'subset-without-endpoints', summary: `${v.summary} Subset "${parsed.subset}" of ${parsed.host} selects no ready pod.`, objects, fixes: traceFixes(t), findings: [] };
  }
  if (v.code === 'NO_CLUSTER') return { class: 'cluster-not-found', summary: v.summary, objects, fixes: traceFixes(t), findings: [] };
  if (input.flags?.DF) {
    return { class: 'serviceentry-resolution', summary: `the proxy could not resolve the destination's name (flag DF, DNS resolution failed)${v.cluster ? ` for cluster ${v.cluster}` : ''}.`, objects, fixes: traceFixes(t), findings: [] };
  }
  if (v.code === 'BLACKHOLE') return { class: 'blackhole-chain', summary: v.summary, objects, fixes: traceFixes(t), findings: [] };
  if (v.code === 'NOT_CAPTURED') return { class: 'not-captured', summary: v.summary, objects, fixes: [], findings: [] };
  if (v.code === 'PASSTHROUGH') return { class: 'passthrough', summary: v.summary, objects, fixes: traceFixes(t, ['PassthroughUnregistered']), findings: [] };
  if (v.code === 'ROUTED' || v.code === 'DIRECT_RESPONSE') return { class: 'routed', summary: v.summary, objects, fixes: [], findings: [] };
  return { class: 'other', summary: v.summary, objects, fixes: v.code !== null && FAILING_VERDICTS.has(v.code) ? traceFixes(t) : [], findings: [] };
}

function clusterType(dump: ConfigDump, name: string): string | undefined {
  try {
    const ref = dump.clusterRefs(name).find((r) => r.state !== 'warming');
    return ref ? discoveryType(dump.cluster(ref)) : undefined;
  } catch {
    return undefined;
  }
}

/** A TCP ServiceEntry without addresses: give it addresses (the engine's ServiceEntry fix registers the real destination). */
function seNoAddressFixes(t: Trace, objects: readonly Responsible[]): Fix[] {
  const se = objects.find((r) => r.kind === 'ServiceEntry' && r.name && r.namespace);
  const fixes: Fix[] = [];
  if (se) {
    fixes.push({
      rank: 1,
      title: `Give ServiceEntry ${se.namespace}/${se.name} its addresses`,
      tradeoffs: `With addresses, Istio builds IP-specific listeners for ${se.host} and port ${t.request.port} stops being captured for every other destination. List every address ${se.host} resolves to and keep them current (or use DNS auto-allocation with ISTIO_META_DNS_CAPTURE).`,
      kind: 'command',
      content: `kubectl patch serviceentry ${se.name} -n ${se.namespace} --type merge -p '${JSON.stringify({ spec: { addresses: ['<address of ' + (se.host ?? 'the host') + '>/32'] } })}'`,
    });
  }
  const dest = t.request.address?.text;
  if (dest) {
    fixes.push({
      rank: 2,
      title: `Register ${dest}:${t.request.port} with its own ServiceEntry`,
      tradeoffs: 'An address-specific listener wins over the wildcard one, so this destination gets its own cluster; the other ServiceEntry keeps capturing everything else on the port.',
      kind: 'yaml',
      content: yaml({
        apiVersion: 'networking.istio.io/v1',
        kind: 'ServiceEntry',
        metadata: { name: `egress-${dest.replace(/[.:]/g, '-')}-${t.request.port}`, namespace: t.proxy.namespace ?? 'default' },
        spec: { hosts: [`${dest.replace(/[.:]/g, '-')}.external`], addresses: [`${dest}/${dest.includes(':') ? 128 : 32}`], ports: [{ number: t.request.port, name: `tcp-${t.request.port}`, protocol: 'TCP' }], location: 'MESH_EXTERNAL', resolution: 'NONE' },
      }),
    });
  }
  return rerank(fixes);
}

/** The workload to patch for pod-template annotations, "deployment/<name>" when known (Istio OWNER form in). */
export function workloadTarget(owner: string | undefined, workloadName?: string): string {
  const o = ownerWorkload(owner);
  return o ? `${o.kind}/${o.name}` : workloadName ? `deployment/${workloadName}` : 'deployment/<workload>';
}
