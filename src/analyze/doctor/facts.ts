/**
 * Facts several doctor checks share: which Service or ServiceEntry the traffic is for (the
 * "upstream": for a gateway, what its route sends to), the pods behind a Service, the protocol
 * Istio gives a port, and the DestinationRule that applies to a host.
 */
import type { KubeObject, Pod } from '../../model/cluster-view.js';
import { cidrContains, parseCidr, parseIp, type IpAddress } from '../../envoy/ip.js';
import { parseServiceCluster } from '../../envoy/istio-names.js';
import { serviceNameOf } from '../trace/from-view.js';
import type { DoctorInput } from './types.js';

export interface Upstream {
  /** the host as Istio names it: a Service FQDN, a ServiceEntry host, or DEST's host */
  readonly host: string;
  readonly port: number;
  readonly kind: 'service' | 'service-entry' | 'pod' | 'external';
  readonly service?: KubeObject;
  readonly serviceEntries: readonly KubeObject[];
  /** the pod whose IP DEST is */
  readonly pod?: KubeObject;
  /** the subset of the cluster the trace ended in */
  readonly subset?: string;
  /** the address packets go to, when known */
  readonly ip?: IpAddress;
  /** how it was found */
  readonly via: string;
}

export function clusterDomain(input: DoctorInput): string {
  const h = input.trace?.verdict.cluster ? parseServiceCluster(input.trace.verdict.cluster)?.host : undefined;
  const m = h ? /\.svc\.(.+)$/.exec(h) : null;
  return m?.[1] ?? 'cluster.local';
}

export function key(o: KubeObject | undefined): string {
  return `${o?.metadata?.namespace ?? ''}/${o?.metadata?.name ?? ''}`;
}

export function labelsOf(o: KubeObject | undefined): Readonly<Record<string, string>> {
  return o?.metadata?.labels ?? {};
}

/** Istio host matching: exact, or a `*.suffix` / `*` wildcard pattern. */
export function hostMatches(pattern: string, host: string): boolean {
  const p = pattern.toLowerCase();
  const h = host.toLowerCase();
  if (p === '*' || p === h) return true;
  return p.startsWith('*.') && h.endsWith(p.slice(1));
}

/** Whether a ServiceEntry/DestinationRule/VirtualService in `ns` with `exportTo` is visible from `client`. */
export function exportedTo(exportTo: readonly string[] | undefined, ns: string, client: string): boolean {
  if (!exportTo || exportTo.length === 0) return true;
  return exportTo.some((e) => e === '*' || (e === '.' && ns === client) || e === client);
}

function serviceByName(input: DoctorInput, name: string, ns: string): KubeObject | undefined {
  return (input.view.lists.services ?? []).find((s) => s.metadata?.name === name && s.metadata?.namespace === ns);
}

/** A Service FQDN (name.ns.svc.domain) → the Service. */
export function serviceOfHost(input: DoctorInput, host: string): KubeObject | undefined {
  const labels = host.split('.');
  if (labels.length >= 4 && labels[2] === 'svc') return serviceByName(input, labels[0]!, labels[1]!);
  return undefined;
}

export function serviceHost(svc: KubeObject, domain: string): string {
  return `${svc.metadata?.name}.${svc.metadata?.namespace}.svc.${domain}`;
}

function serviceEntriesFor(input: DoctorInput, host: string | undefined, ip: IpAddress | undefined, port: number): KubeObject[] {
  const client = input.view.pod?.metadata?.namespace ?? '';
  return (input.view.lists.serviceEntries ?? []).filter((se) => {
    const spec = (se.spec ?? {}) as { hosts?: string[]; addresses?: string[]; ports?: { number?: number }[]; exportTo?: string[] };
    if (!exportedTo(spec.exportTo, se.metadata?.namespace ?? '', client)) return false;
    if (!(spec.ports ?? []).some((p) => p.number === port)) return false;
    const byHost = host !== undefined && (spec.hosts ?? []).some((h) => hostMatches(h, host));
    const byIp = ip !== undefined && (spec.addresses ?? []).some((a) => {
      const c = parseCidr(a);
      return c !== undefined && cidrContains(c, ip);
    });
    return byHost || byIp;
  });
}

export function podIps(p: KubeObject): string[] {
  const st = (p.status ?? {}) as { podIP?: string; podIPs?: { ip?: string }[] };
  return [...new Set([...(st.podIPs ?? []).map((x) => x.ip ?? ''), st.podIP ?? ''].filter(Boolean))];
}

/** The destination the configuration is about. */
export function upstreamOf(input: DoctorInput): Upstream {
  const domain = clusterDomain(input);
  const r = input.request;
  const clientNs = input.view.pod?.metadata?.namespace ?? '';
  const verdictCluster = input.trace?.verdict.cluster ? parseServiceCluster(input.trace.verdict.cluster) : undefined;
  if (verdictCluster && verdictCluster.direction === 'outbound') {
    const svc = serviceOfHost(input, verdictCluster.host);
    const ip = r.address;
    if (svc) return { host: verdictCluster.host, port: verdictCluster.port, kind: 'service', service: svc, serviceEntries: [], ...(verdictCluster.subset ? { subset: verdictCluster.subset } : {}), ...(ip ? { ip } : {}), via: `cluster ${input.trace!.verdict.cluster}` };
    const ses = serviceEntriesFor(input, verdictCluster.host, undefined, verdictCluster.port);
    const labels = verdictCluster.host.split('.');
    const k8s = labels.length >= 4 && labels[2] === 'svc';
    return { host: verdictCluster.host, port: verdictCluster.port, kind: k8s ? 'service' : 'service-entry', serviceEntries: ses, ...(verdictCluster.subset ? { subset: verdictCluster.subset } : {}), ...(ip ? { ip } : {}), via: `cluster ${input.trace!.verdict.cluster}` };
  }
  const ip = r.address;
  const isIpDest = parseIp(r.host) !== undefined;
  if (ip) {
    const byVip = (input.view.lists.services ?? []).find((s) => {
      const spec = (s.spec ?? {}) as { clusterIP?: string; clusterIPs?: string[]; ports?: { port?: number }[] };
      const ips = [...(spec.clusterIPs ?? []), spec.clusterIP ?? ''].filter((x) => x && x !== 'None');
      return ips.includes(ip.text) && (spec.ports ?? []).some((p) => p.port === r.port);
    });
    if (byVip && (isIpDest || serviceNameOf(r.host, clientNs))) return { host: serviceHost(byVip, domain), port: r.port, kind: 'service', service: byVip, serviceEntries: [], ip, via: `Service ${key(byVip)} has cluster IP ${ip.text}` };
    const pod = (input.cluster.pods ?? []).find((p) => podIps(p).includes(ip.text));
    if (pod && isIpDest) return { host: r.host, port: r.port, kind: 'pod', pod, serviceEntries: [], ip, via: `pod ${key(pod)} has IP ${ip.text}` };
  }
  const ref = isIpDest ? undefined : serviceNameOf(r.host, clientNs);
  const svc = ref ? serviceByName(input, ref.name, ref.namespace) : undefined;
  if (svc) return { host: serviceHost(svc, domain), port: r.port, kind: 'service', service: svc, serviceEntries: [], ...(ip ? { ip } : {}), via: `DEST names Service ${key(svc)}` };
  const ses = serviceEntriesFor(input, isIpDest ? undefined : r.host, ip, r.port);
  const seHost = ses.length ? (((ses[0]!.spec?.hosts as string[] | undefined) ?? []).find((h) => !isIpDest && hostMatches(h, r.host)) ?? r.host) : r.host;
  return { host: seHost, port: r.port, kind: ses.length ? 'service-entry' : 'external', serviceEntries: ses, ...(ip ? { ip } : {}), via: ses.length ? `ServiceEntry ${ses.map(key).join(', ')}` : 'DEST itself (no Service or ServiceEntry covers it)' };
}

/** Whether the pods of `ns` were collected (a missing pod is then a fact, not a gap). */
export function podsCollected(input: DoctorInput, ns: string): boolean {
  const covered = input.cluster.podNamespaces ?? [];
  return input.cluster.pods !== undefined && (covered.includes('*') || covered.includes(ns));
}

export function serviceSelector(svc: KubeObject): Readonly<Record<string, string>> | undefined {
  const sel = svc.spec?.selector as Record<string, string> | undefined;
  return sel && Object.keys(sel).length ? sel : undefined;
}

export function matchesSelector(labels: Readonly<Record<string, string>>, sel: Readonly<Record<string, string>>): boolean {
  return Object.entries(sel).every(([k, v]) => labels[k] === v);
}

/** The pods a Service selects (undefined: its namespace's pods were not collected). */
export function podsOfService(input: DoctorInput, svc: KubeObject): KubeObject[] | undefined {
  const ns = svc.metadata?.namespace ?? '';
  const sel = serviceSelector(svc);
  if (!sel || !podsCollected(input, ns)) return undefined;
  return (input.cluster.pods ?? [])
    .filter((p) => p.metadata?.namespace === ns && matchesSelector(labelsOf(p), sel))
    .filter((p) => (p.status?.phase as string | undefined) !== 'Succeeded' && (p.status?.phase as string | undefined) !== 'Failed')
    .sort((a, b) => key(a).localeCompare(key(b)));
}

export function podReady(p: KubeObject): boolean {
  return ((p.status?.conditions as { type?: string; status?: string }[] | undefined) ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
}

export interface ServicePort {
  readonly port: number;
  readonly name?: string;
  readonly protocol?: string;
  readonly appProtocol?: string;
  readonly targetPort?: number | string;
}

export function servicePort(svc: KubeObject, port: number): ServicePort | undefined {
  return ((svc.spec?.ports as ServicePort[] | undefined) ?? []).find((p) => p.port === port);
}

export interface ContainerPortSpec {
  readonly name?: string;
  readonly containerPort: number;
  readonly protocol?: string;
}

export function containerPorts(p: KubeObject): ContainerPortSpec[] {
  const spec = (p.spec ?? {}) as { containers?: { ports?: ContainerPortSpec[] }[] };
  return (spec.containers ?? []).flatMap((c) => c.ports ?? []);
}

/** The pod port a Service port sends to (targetPort by number or by container port name). */
export function targetPortOn(pod: KubeObject, sp: ServicePort): number | undefined {
  const t = sp.targetPort ?? sp.port;
  if (typeof t === 'number') return t;
  if (/^\d+$/.test(t)) return Number(t);
  return containerPorts(pod).find((c) => c.name === t && (c.protocol ?? 'TCP') === (sp.protocol ?? 'TCP'))?.containerPort;
}

/** Whether a pod runs an Istio sidecar (classic container or native sidecar) — from its spec. */
export function podHasSidecar(p: KubeObject | Pod): boolean {
  const spec = (p.spec ?? {}) as { containers?: { name?: string }[]; initContainers?: { name?: string; restartPolicy?: string }[] };
  return (spec.containers ?? []).some((c) => c.name === 'istio-proxy') || (spec.initContainers ?? []).some((c) => c.name === 'istio-proxy' && c.restartPolicy === 'Always');
}

/**
 * Istio's protocol for a Service port (pkg/config/kube/conversion.go ConvertProtocol): UDP for
 * UDP ports; else appProtocol, else the port name, up to its first "-" (grpc-web whole), parsed by
 * protocol.Parse; unknown → sniffed, except the well-known ports 25, 53, 3306, 27017 (TCP).
 */
export function istioProtocolOfServicePort(sp: ServicePort): { protocol: string; from: string } {
  if ((sp.protocol ?? 'TCP').toUpperCase() === 'UDP') return { protocol: 'UDP', from: 'protocol UDP' };
  if (sp.appProtocol !== undefined) {
    const special: Record<string, string> = { 'kubernetes.io/h2c': 'HTTP2', 'kubernetes.io/ws': 'HTTP', 'kubernetes.io/wss': 'HTTPS' };
    const p = special[sp.appProtocol] ?? parseProtocolName(sp.appProtocol);
    if (p !== 'UNSUPPORTED') return { protocol: p, from: `appProtocol ${sp.appProtocol}` };
    return wellKnown(sp.port) ?? { protocol: 'UNSUPPORTED', from: `appProtocol ${sp.appProtocol} (not a protocol Istio knows)` };
  }
  const name = sp.name ?? '';
  const p = parseProtocolName(name);
  if (p !== 'UNSUPPORTED') return { protocol: p, from: `port name "${name}"` };
  return wellKnown(sp.port) ?? { protocol: 'UNSUPPORTED', from: name ? `port name "${name}" (no protocol prefix)` : 'no port name' };
}

function wellKnown(port: number): { protocol: string; from: string } | undefined {
  return [25, 53, 3306, 27017].includes(port) ? { protocol: 'TCP', from: `well-known port ${port} (Istio never sniffs it)` } : undefined;
}

/** protocol.Parse over a port name or appProtocol ("grpc-web" whole, else the part before "-"). */
export function parseProtocolName(name: string): string {
  const lower = name.toLowerCase();
  if (lower.startsWith('grpc-web')) return 'GRPC-WEB';
  const prefix = lower.split('-')[0]!;
  const known: Record<string, string> = { tcp: 'TCP', udp: 'UDP', grpc: 'GRPC', http: 'HTTP', http_proxy: 'HTTP_PROXY', http2: 'HTTP2', https: 'HTTPS', tls: 'TLS', mongo: 'MONGO', redis: 'REDIS', mysql: 'MYSQL' };
  return known[prefix] ?? 'UNSUPPORTED';
}

/** ServiceEntry port protocol (protocol.Parse of ports[].protocol; empty → sniffed). */
export function istioProtocolOfServiceEntryPort(p: { protocol?: string; name?: string }): { protocol: string; from: string } {
  if (!p.protocol) return { protocol: 'UNSUPPORTED', from: 'no protocol' };
  const known: Record<string, string> = { tcp: 'TCP', udp: 'UDP', grpc: 'GRPC', 'grpc-web': 'GRPC-WEB', http: 'HTTP', http_proxy: 'HTTP_PROXY', http2: 'HTTP2', https: 'HTTPS', tls: 'TLS', mongo: 'MONGO', redis: 'REDIS', mysql: 'MYSQL' };
  return { protocol: known[p.protocol.toLowerCase()] ?? 'UNSUPPORTED', from: `protocol ${p.protocol}` };
}

export const HTTP_FAMILY = new Set(['HTTP', 'HTTP2', 'HTTP_PROXY', 'GRPC', 'GRPC-WEB']);
export const TLS_FAMILY = new Set(['TLS', 'HTTPS']);

/** A DestinationRule's host, resolved as Istio does (ResolveShortnameToFQDN): a bare name is in the rule's namespace. */
export function destinationRuleHost(dr: KubeObject, domain: string): string {
  const h = (dr.spec?.host as string | undefined) ?? '';
  if (h.includes('.') || h.startsWith('*')) return h;
  return `${h}.${dr.metadata?.namespace}.svc.${domain}`;
}

/**
 * The DestinationRule Istio applies for `host` to a client in `clientNs`
 * (PushContext.destinationRule): the client's namespace first, then the host's Service namespace,
 * then the root namespace; within one, the most specific host (exact before wildcards, longer
 * wildcards first); only rules exported to the client.
 */
export function destinationRuleFor(input: DoctorInput, host: string): KubeObject | undefined {
  const drs = input.view.lists.destinationRules;
  if (!drs) return undefined;
  const domain = clusterDomain(input);
  const clientNs = input.view.pod?.metadata?.namespace ?? '';
  const serviceNs = host.split('.')[2] === 'svc' ? host.split('.')[1] : undefined;
  const candidates = drs.filter((d) => exportedTo(d.spec?.exportTo as string[] | undefined, d.metadata?.namespace ?? '', clientNs) && hostMatches(destinationRuleHost(d, domain), host));
  const specificity = (d: KubeObject): number => {
    const h = destinationRuleHost(d, domain);
    return h.startsWith('*') ? h.length : 10_000;
  };
  for (const ns of [clientNs, serviceNs, input.rootNamespace]) {
    if (ns === undefined) continue;
    const inNs = candidates.filter((d) => d.metadata?.namespace === ns).sort((a, b) => specificity(b) - specificity(a) || key(a).localeCompare(key(b)));
    if (inNs.length) return inNs[0];
  }
  return undefined;
}

/** "a=1,b=2" */
export function labelText(labels: Readonly<Record<string, string>>, omit: readonly string[] = []): string {
  const shown = Object.entries(labels).filter(([k]) => !omit.includes(k));
  return shown.length ? shown.map(([k, v]) => `${k}=${v}`).join(',') : '(no labels)';
}
