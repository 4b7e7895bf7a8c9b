/**
 * The destination address. An IP in DEST (or --address) is used as is. A hostname is resolved
 * the way the application would see it inside the mesh, from the proxy's own configuration:
 * Kubernetes services and ServiceEntries with addresses list their virtual IP among the domains
 * of their RDS virtual host, and own an IP-specific listener whose tcp_proxy names their cluster
 * (with DNS auto-allocation the VIP is an allocated 240.240/16 address, found the same way).
 * Anything else is resolved by real DNS at run time and cannot be known offline.
 */
import { parseIp, type IpAddress } from '../../envoy/ip.js';
import { hcmConfig, networkFilterKind, tcpProxyConfig } from '../../envoy/filters.js';
import { parseServiceCluster } from '../../envoy/istio-names.js';
import { newFinding } from '../catalog.js';
import type { TraceContext } from './context.js';

export interface ResolvedDestination {
  readonly host: string;
  readonly ip: IpAddress | undefined;
  /** how the address was found */
  readonly how: 'literal' | 'flag' | 'virtual-host' | 'listener' | 'unresolved';
  /** "10.0.0.6:7000", "reviews (10.96.1.2):9080", "api.example.com:443" */
  readonly label: string;
}

/** The names a client in namespace `ns` can use for a service: short, ns-qualified, FQDN. */
export function hostCandidates(host: string, ns: string | undefined, domain: string): string[] {
  const h = host.replace(/\.$/, '').toLowerCase();
  const out = new Set<string>([h]);
  const labels = h.split('.');
  if (labels.length === 1 && ns) out.add(`${h}.${ns}.svc.${domain}`);
  if (labels.length === 2) out.add(`${h}.svc.${domain}`);
  if (labels.length === 3 && labels[2] === 'svc') out.add(`${h}.${domain}`);
  return [...out];
}

function label(host: string, ip: IpAddress | undefined, port: number): string {
  if (!ip) return `${host}:${port}`;
  const ipText = ip.family === 6 ? `[${ip.text}]` : ip.text;
  return host === ip.text ? `${ipText}:${port}` : `${host} (${ipText}):${port}`;
}

function fromVirtualHosts(ctx: TraceContext, names: readonly string[], port: number): IpAddress | undefined {
  const wanted = new Set(names);
  const rcNames = [String(port), ...names.map((n) => `${n}:${port}`)];
  for (const rcName of rcNames) {
    const rc = ctx.dump.routeConfig(rcName);
    for (const vh of rc?.virtual_hosts ?? []) {
      const domains = (vh.domains ?? []).map((d) => d.toLowerCase());
      if (!domains.some((d) => wanted.has(d) || wanted.has(d.replace(/:\d+$/, '')))) continue;
      for (const d of domains) {
        const ip = parseIp(d.replace(/:\d+$/, '').replace(/^\[(.*)\]$/, '$1'));
        if (ip) return ip;
      }
    }
  }
  return undefined;
}

/** More IP-specific listeners on one port than this are not opened one by one to find a hostname. */
const MAX_LISTENERS_SCANNED = 64;

function fromListeners(ctx: TraceContext, names: readonly string[], port: number): IpAddress | undefined {
  const wanted = new Set(names);
  const candidates = ctx.dump.listenerRefs().filter((ref) => {
    if (ref.state !== 'active' && ref.state !== 'static') return false;
    const addr = ref.addresses.find((a) => a.port === port);
    const ip = addr ? parseIp(addr.address) : undefined;
    return ip !== undefined && !ip.bytes.every((b) => b === 0);
  });
  if (candidates.length > MAX_LISTENERS_SCANNED) {
    ctx.assume(`${candidates.length} IP-specific listeners on port ${port}: not scanned for ${names[0]}; pass --address to trace its exact address`);
    return undefined;
  }
  for (const ref of candidates) {
    const ip = parseIp(ref.addresses.find((a) => a.port === port)!.address)!;
    const listener = ctx.listener(ref);
    for (const chain of listener.filter_chains ?? []) {
      for (const f of chain.filters ?? []) {
        const kind = networkFilterKind(f);
        const clusters: string[] = [];
        if (kind === 'tcp_proxy') {
          const tp = tcpProxyConfig(f);
          if (tp.cluster) clusters.push(tp.cluster);
          for (const c of tp.weighted_clusters?.clusters ?? []) if (c.name) clusters.push(c.name);
        } else if (kind === 'http_connection_manager') {
          // sniffed VIP listeners route with RDS "<host>:<port>"
          const rds = hcmConfig(f).rds?.route_config_name;
          const colon = rds?.lastIndexOf(':') ?? -1;
          if (rds && colon > 0 && wanted.has(rds.slice(0, colon))) return ip;
        }
        if (clusters.some((c) => wanted.has(parseServiceCluster(c)?.host ?? ''))) return ip;
      }
    }
  }
  return undefined;
}

/** The destination as given, without looking anything up. */
export function literalDestination(ctx: TraceContext): ResolvedDestination {
  const r = ctx.request;
  return { host: r.host, ip: r.address, how: r.address ? (parseIp(r.host) ? 'literal' : 'flag') : 'unresolved', label: label(r.host, r.address, r.port) };
}

export function resolveDestination(ctx: TraceContext): ResolvedDestination {
  const r = ctx.request;
  if (r.address) {
    const how = parseIp(r.host) ? 'literal' : 'flag';
    return { host: r.host, ip: r.address, how, label: label(r.host, r.address, r.port) };
  }
  const names = hostCandidates(r.host, ctx.proxy.namespace, ctx.clusterDomain());
  const vip = ctx.dump.present.routes ? fromVirtualHosts(ctx, names, r.port) : undefined;
  if (vip) {
    ctx.assume(`${r.host} resolves to its mesh virtual IP ${vip.text} (from its RDS virtual host)`);
    return { host: r.host, ip: vip, how: 'virtual-host', label: label(r.host, vip, r.port) };
  }
  const listenerIp = fromListeners(ctx, names, r.port);
  if (listenerIp) {
    ctx.assume(`${r.host} resolves to ${listenerIp.text}, the address of its IP-specific listener`);
    return { host: r.host, ip: listenerIp, how: 'listener', label: label(r.host, listenerIp, r.port) };
  }
  ctx.report(newFinding('DestinationAddressUnresolved', { host: r.host, port: r.port }));
  return { host: r.host, ip: undefined, how: 'unresolved', label: label(r.host, undefined, r.port) };
}
