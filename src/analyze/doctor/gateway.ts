/**
 * Gateways (seed 003 was found at an ingress gateway). The trace engine emulates a gateway proxy
 * ("router" node, no iptables capture: the listener that owns the port takes the connection), but
 * a client addresses the gateway's Service port (80, 443), while Istio binds the gateway listener
 * to the port the Service forwards to (targetPort 8080, 8443: non-root gateways cannot bind below
 * 1024; pilot/pkg/model/gateway.go resolves Gateway server ports to the workload's target ports).
 * This maps DEST from the Service port to the listener's port, keeping the Host header and SNI
 * the client sends.
 */
import type { KubeObject, Pod } from '../../model/cluster-view.js';
import { parseDestination, type RequestFlags } from '../trace/request.js';
import { key, matchesSelector, serviceSelector, targetPortOn, type ServicePort } from './facts.js';
import type { GatewayPortMapping } from './types.js';

/** The injected or deployed gateway runs `pilot-agent proxy router` (sidecars run `proxy sidecar`). */
export function isGatewayPod(pod: Pod): boolean {
  const all = [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])];
  const proxy = all.find((c) => c.name === 'istio-proxy');
  const args = proxy?.args ?? [];
  const i = args.indexOf('proxy');
  return i >= 0 && args[i + 1] === 'router';
}

/** The gateway Service port DEST addresses (port or nodePort), when it forwards to another port. */
export function gatewayPortMapping(pod: Pod, services: readonly KubeObject[], port: number): GatewayPortMapping | undefined {
  const ns = pod.metadata?.namespace;
  const labels = pod.metadata?.labels ?? {};
  for (const svc of services) {
    if (svc.metadata?.namespace !== ns) continue;
    const sel = serviceSelector(svc);
    if (!sel || !matchesSelector(labels, sel)) continue;
    const ports = (svc.spec?.ports as (ServicePort & { nodePort?: number })[] | undefined) ?? [];
    const sp = ports.find((p) => p.port === port) ?? ports.find((p) => p.nodePort === port);
    if (!sp) continue;
    const target = targetPortOn(pod as unknown as KubeObject, sp);
    if (target === undefined || target === port) return undefined;
    return { service: key(svc), servicePort: port, targetPort: target };
  }
  return undefined;
}

/** DEST on the listener's port; the Host header (HTTP) stays what the client sends. */
export function gatewayRequest(dest: string, flags: RequestFlags, m: GatewayPortMapping): { dest: string; flags: RequestFlags } {
  const d = parseDestination(dest);
  const host = d.host.includes(':') ? `[${d.host}]` : d.host;
  const defaultPort = d.scheme === 'https' ? 443 : 80;
  const hostHeader = flags.host ?? (d.port === defaultPort ? host : `${host}:${d.port}`);
  const rewritten = d.scheme ? `${d.scheme}://${host}:${m.targetPort}${d.path === '/' && !dest.endsWith('/') ? '' : d.path}` : `${host}:${m.targetPort}`;
  const http = d.scheme === 'http' || d.scheme === 'https' || flags.protocol === 'http' || flags.protocol === 'http2';
  return { dest: rewritten, flags: { ...flags, ...(http ? { host: hostHeader } : {}) } };
}
