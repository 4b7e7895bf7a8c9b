/**
 * Ready-to-apply fixes with their trade-offs, ranked as seed 002 ranks them: register the
 * destination with a ServiceEntry (keeps mesh features and the allow-list), bypass the sidecar
 * for that range (loses telemetry, mTLS and policy; needs a rollout), or model it as a
 * selectorless Service + Endpoints (the application must use the Service name).
 */
import { ownerWorkload } from '../../model/proxy.js';
import type { Fix } from '../finding.js';
import { yamlDoc as yaml } from '../yaml-doc.js';
import type { TraceContext } from './context.js';
import type { Protocol } from './types.js';

function dashed(ip: string): string {
  return ip.replace(/[.:]/g, '-').replace(/^-+|-+$/g, '');
}

export function seProtocol(p: Protocol): string {
  switch (p) {
    case 'http':
      return 'HTTP';
    case 'http2':
      return 'HTTP2';
    case 'tls':
      return 'TLS';
    default:
      return 'TCP';
  }
}

export interface DestinationFacts {
  readonly host: string;
  /** the IP, when the destination is an address */
  readonly ip: string | undefined;
  readonly port: number;
  readonly protocol: Protocol;
}

function isIpLiteral(host: string): boolean {
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(host) || host.includes(':');
}

/** Whether the proxy has an outbound cluster for the host on any port. */
function hostHasCluster(ctx: TraceContext, host: string): boolean {
  const suffix = `||${host}`;
  for (const name of ctx.dump.clusterNames()) if (name.startsWith('outbound|') && name.endsWith(suffix)) return true;
  return false;
}

function baseName(d: DestinationFacts, named: boolean): string {
  const stem = d.ip && !named ? `egress-${dashed(d.ip)}` : `egress-${d.host.replace(/^\*\./, 'wildcard.').replace(/[^a-z0-9-]+/gi, '-')}`;
  return `${stem}-${d.port}`.toLowerCase().slice(0, 63).replace(/-+$/, '');
}

/** ServiceEntry registering the destination (Istio networking.istio.io/v1). */
export function serviceEntryFix(ctx: TraceContext, d: DestinationFacts, rank: number, why: string): Fix {
  const ns = ctx.namespace();
  const protocol = seProtocol(d.protocol);
  // HTTP is routed by its Host header and TLS by its SNI (virtual hosts, server_names), so a named
  // destination is registered by name; plain TCP is matched only by destination IP, so it also
  // needs the address it connects to (a TCP ServiceEntry without addresses takes the whole port)
  // ... unless some ServiceEntry or Service already declares the host (a cluster outbound|*||host
  // exists): a second ServiceEntry for the same host conflicts with it (Istio keeps one per host
  // and namespace, IST0109-style), so the new one is keyed by the IP as before
  const declared = d.host !== '' && hostHasCluster(ctx, d.host);
  // A short name (no dot) is not registered by name either: ServiceEntry hosts are not expanded
  // with the namespace the way VirtualService hosts are, so "mailer" would be resolved as is.
  // Without an address to key on, the host is all there is.
  const named = d.ip === undefined || (d.host.includes('.') && !isIpLiteral(d.host) && !declared);
  const byAddress = d.ip !== undefined && (protocol === 'TCP' || !named);
  const hosts = named ? [d.host] : [`${dashed(d.ip ?? d.host)}.external`];
  const spec: Record<string, unknown> = {
    hosts,
    ...(byAddress ? { addresses: [`${d.ip}/${d.ip!.includes(':') ? 128 : 32}`] } : {}),
    ports: [{ number: d.port, name: `${protocol.toLowerCase()}-${d.port}`, protocol }],
    location: 'MESH_EXTERNAL',
    resolution: named ? 'DNS' : 'NONE',
  };
  const comment = !named
    ? 'hosts is only a label here: a TCP ServiceEntry with addresses is matched by IP'
    : protocol === 'TCP' && !byAddress
      ? `add the addresses ${d.host} resolves to: a TCP ServiceEntry without addresses captures every destination on port ${d.port} (IST0134)`
      : undefined;
  const doc = { apiVersion: 'networking.istio.io/v1', kind: 'ServiceEntry', metadata: { name: baseName(d, named), namespace: ns }, spec };
  return {
    rank,
    title: `Register ${named ? d.host : (d.ip ?? d.host)}:${d.port} with a ServiceEntry`,
    tradeoffs: `${why} Keeps mesh telemetry and policy for this destination and works under REGISTRY_ONLY; visible to every namespace unless you add exportTo: ["."].`,
    kind: 'yaml',
    content: yaml(doc, comment),
  };
}

/** kubectl patch adding the range to the workload's excludeOutboundIPRanges. */
export function excludeRangeFix(ctx: TraceContext, ip: string, rank: number): Fix {
  const annotation = 'traffic.sidecar.istio.io/excludeOutboundIPRanges';
  const cidr = `${ip}/${ip.includes(':') ? 128 : 32}`;
  const existing = ctx.proxy.annotations[annotation];
  const value = existing && existing.trim() !== '' ? `${existing},${cidr}` : cidr;
  const owner = ownerWorkload(ctx.proxy.owner);
  const target = owner ? `${owner.kind}/${owner.name}` : ctx.proxy.workloadName ? `deployment/${ctx.proxy.workloadName}` : 'deployment/<workload>';
  const ns = ctx.namespace();
  const patch = JSON.stringify({ spec: { template: { metadata: { annotations: { [annotation]: value } } } } });
  return {
    rank,
    title: `Bypass the sidecar for ${cidr}`,
    tradeoffs: 'The pod talks to this range directly: no mesh telemetry, mTLS, retries or egress policy for it, and REGISTRY_ONLY no longer protects it. Takes effect after the pods restart (the patch triggers a rollout).',
    kind: 'command',
    content: `kubectl patch ${target} -n ${ns} --type merge -p '${patch}'`,
  };
}

/** A selectorless Service + Endpoints for the destination (the application must use its name). */
export function serviceAndEndpointsFix(ctx: TraceContext, d: DestinationFacts & { ip: string }, rank: number): Fix {
  const ns = ctx.namespace();
  const name = baseName(d, false);
  const portName = `${seProtocol(d.protocol).toLowerCase()}-${d.port}`;
  const svc = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: ns },
    spec: { ports: [{ name: portName, protocol: 'TCP', port: d.port, targetPort: d.port }] },
  };
  const eps = {
    apiVersion: 'v1',
    kind: 'Endpoints',
    metadata: { name, namespace: ns },
    subsets: [{ addresses: [{ ip: d.ip }], ports: [{ name: portName, port: d.port }] }],
  };
  return {
    rank,
    title: `Model ${d.ip}:${d.port} as a Service without selector`,
    tradeoffs: `Istio builds a listener for the new Service's cluster IP: the application must connect to ${name}.${ns}.svc instead of ${d.ip}, and you maintain the Endpoints by hand.`,
    kind: 'yaml',
    content: `${yaml(svc)}---\n${yaml(eps)}`,
  };
}

/** Switching the outbound traffic policy to ALLOW_ANY, mesh-wide or for this namespace. */
export function allowAnyFix(ctx: TraceContext, rank: number): Fix {
  const ns = ctx.namespace();
  const sidecar = {
    apiVersion: 'networking.istio.io/v1',
    kind: 'Sidecar',
    metadata: { name: 'default', namespace: ns },
    spec: { outboundTrafficPolicy: { mode: 'ALLOW_ANY' } },
  };
  return {
    rank,
    title: `Allow unregistered destinations for namespace ${ns}`,
    tradeoffs: 'Every unregistered destination becomes reachable from this namespace: you lose the allow-list REGISTRY_ONLY gives. A namespace may have only one Sidecar without workloadSelector: merge into an existing one. Mesh-wide: meshConfig.outboundTrafficPolicy.mode: ALLOW_ANY.',
    kind: 'yaml',
    content: yaml(sidecar),
  };
}

/** Mesh-wide protocolDetectionTimeout so server-first protocols continue as TCP after a delay. */
export function detectionTimeoutFix(rank: number): Fix {
  return {
    rank,
    title: 'Give protocol detection a timeout',
    tradeoffs: 'Server-first connections then work after the timeout instead of hanging, but each one starts that much later, and a slow HTTP client may be treated as raw TCP. Applies mesh-wide after proxies reload.',
    kind: 'yaml',
    content: yaml({ meshConfig: { protocolDetectionTimeout: '5s' } }, 'IstioOperator / Helm values (istiod); restart not needed, proxies receive it with new listeners'),
  };
}

