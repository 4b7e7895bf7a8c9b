/**
 * Istio's naming conventions for Envoy resources (pilot/pkg/model/service.go BuildSubsetKey,
 * ParseSubsetKey; pilot/pkg/networking/util), used to attribute a listener, route or cluster
 * to the Kubernetes Service or ServiceEntry behind it.
 */
import type { Metadata } from '../model/envoy-types.js';
import { isRecord } from './values.js';

export interface ServiceClusterName {
  readonly direction: 'outbound' | 'inbound';
  readonly port: number;
  readonly subset: string;
  readonly host: string;
}

/** "outbound|9080|v1|reviews.default.svc.cluster.local" or the SNI form "outbound_.9080_.v1_.reviews...". */
export function parseServiceCluster(name: string): ServiceClusterName | undefined {
  let parts: string[];
  if (name.includes('|')) parts = name.split('|');
  else if (name.includes('_.')) parts = name.split('_.');
  else return undefined;
  if (parts.length !== 4) return undefined;
  const [direction, port, subset, host] = parts as [string, string, string, string];
  if (direction !== 'outbound' && direction !== 'inbound') return undefined;
  const p = Number(port);
  if (!Number.isInteger(p)) return undefined;
  return { direction, port: p, subset, host };
}

export interface ServiceRef {
  /** the hostname as Istio knows it */
  readonly host: string;
  /** Kubernetes Service name and namespace, when the host is <name>.<ns>.svc.<domain> */
  readonly service?: { readonly name: string; readonly namespace: string };
}

/** "<name>.<namespace>.svc.<domain>" → Kubernetes Service; anything else is a ServiceEntry host. */
export function serviceRefOfHost(host: string): ServiceRef {
  const labels = host.split('.');
  if (labels.length >= 4 && labels[2] === 'svc') {
    return { host, service: { name: labels[0]!, namespace: labels[1]! } };
  }
  return { host };
}

export interface IstioConfigRef {
  readonly kind: 'DestinationRule' | 'VirtualService' | 'Sidecar' | 'ServiceEntry' | 'EnvoyFilter' | 'Gateway' | 'HTTPRoute' | 'Other';
  readonly namespace: string;
  readonly name: string;
  readonly path: string;
}

const KINDS: Readonly<Record<string, IstioConfigRef['kind']>> = {
  'destination-rule': 'DestinationRule',
  'virtual-service': 'VirtualService',
  sidecar: 'Sidecar',
  'service-entry': 'ServiceEntry',
  'envoy-filter': 'EnvoyFilter',
  gateway: 'Gateway',
  httproute: 'HTTPRoute',
};

/** "/apis/networking.istio.io/v1alpha3/namespaces/default/destination-rule/reviews" → DestinationRule default/reviews. */
export function parseConfigPath(path: string): IstioConfigRef | undefined {
  const m = /\/namespaces\/([^/]+)\/([^/]+)\/([^/]+)$/.exec(path);
  if (!m) return undefined;
  return { kind: KINDS[m[2]!] ?? 'Other', namespace: m[1]!, name: m[3]!, path };
}

/** Istio filter_metadata["istio"]: {config: path, services: [{host, name, namespace}], ...}. */
export function istioMetadata(md: Metadata | undefined): { configs: IstioConfigRef[]; services: { host: string; name?: string; namespace?: string }[] } {
  const istio = md?.filter_metadata?.istio;
  const configs: IstioConfigRef[] = [];
  const services: { host: string; name?: string; namespace?: string }[] = [];
  if (!isRecord(istio)) return { configs, services };
  const addConfig = (v: unknown): void => {
    if (typeof v === 'string') {
      const ref = parseConfigPath(v);
      if (ref) configs.push(ref);
    }
  };
  addConfig(istio.config);
  if (Array.isArray(istio.configs)) istio.configs.forEach(addConfig);
  if (Array.isArray(istio.services)) {
    for (const s of istio.services) {
      if (isRecord(s) && typeof s.host === 'string') {
        services.push({
          host: s.host,
          ...(typeof s.name === 'string' ? { name: s.name } : {}),
          ...(typeof s.namespace === 'string' ? { namespace: s.namespace } : {}),
        });
      }
    }
  }
  return { configs, services };
}

/** Istio's virtual host names are "<host>:<port>"; the catch-alls are allow_any / block_all / allow_any_dynamic_dns. */
export const CATCH_ALL_VHOSTS: ReadonlySet<string> = new Set(['allow_any', 'block_all', 'allow_any_dynamic_dns']);

export function hostOfVirtualHostName(name: string | undefined): string | undefined {
  if (!name || CATCH_ALL_VHOSTS.has(name)) return undefined;
  // outbound virtual hosts are "<host>:<port>"; inbound ones ("inbound|http|9080") are not services
  const m = /^([A-Za-z0-9*][A-Za-z0-9.*_-]*):(\d+)$/.exec(name);
  return m ? m[1] : undefined;
}
