/**
 * Identifying network, HTTP and listener filters.
 *
 * Filters are recognised by their typed_config "@type" first (Envoy's own rule since v3: the
 * type, not the name, selects the factory), then by the well-known names of v2-era dumps
 * (`envoy.tcp_proxy`, `envoy.http_connection_manager`, `mixer`), which may carry a Struct
 * `config` instead of a typed_config. A TypedStruct wraps its config in `value`.
 */
import type { HttpConnectionManager, ListenerFilter, NetworkFilter, TcpProxy, TypedConfig } from '../model/envoy-types.js';
import { normalizeKeys } from '../model/normalize.js';
import { isRecord, shortTypeName, typeName } from './values.js';

export type NetworkFilterKind =
  | 'tcp_proxy'
  | 'http_connection_manager'
  /** observes only (stats, telemetry, metadata exchange): no effect on where bytes go */
  | 'observer'
  /** may reject the connection (RBAC, rate limits, ext_authz); not evaluated */
  | 'policy'
  /** rewrites the tcp_proxy cluster from SNI (gateways) */
  | 'sni_cluster'
  | 'tcp_cluster_rewrite'
  /** other terminal protocol proxies we do not emulate */
  | 'other_terminal'
  | 'unknown';

interface FilterSpec {
  readonly kind: NetworkFilterKind;
  readonly types: readonly string[];
  readonly names: readonly string[];
}

const NETWORK_FILTERS: readonly FilterSpec[] = [
  {
    kind: 'tcp_proxy',
    types: ['envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy', 'envoy.config.filter.network.tcp_proxy.v2.TcpProxy'],
    names: ['envoy.filters.network.tcp_proxy', 'envoy.tcp_proxy'],
  },
  {
    kind: 'http_connection_manager',
    types: [
      'envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager',
      'envoy.config.filter.network.http_connection_manager.v2.HttpConnectionManager',
    ],
    names: ['envoy.filters.network.http_connection_manager', 'envoy.http_connection_manager'],
  },
  {
    kind: 'observer',
    types: [
      'stats.PluginConfig',
      'envoy.tcp.metadataexchange.config.MetadataExchange',
      'envoy.extensions.filters.network.metadata_exchange.v3.MetadataExchange',
      'istio.mixer.v1.config.client.TcpClientConfig',
      'envoy.extensions.filters.network.wasm.v3.Wasm',
      'envoy.extensions.filters.network.zookeeper_proxy.v3.ZooKeeperProxy',
      'envoy.extensions.filters.network.mysql_proxy.v3.MySQLProxy',
      'envoy.extensions.filters.network.mongo_proxy.v3.MongoProxy',
      'envoy.extensions.filters.network.postgres_proxy.v3alpha.PostgresProxy',
    ],
    names: [
      'istio.stats',
      'istio.metadata_exchange',
      'envoy.filters.network.metadata_exchange',
      'mixer',
      'envoy.filters.network.wasm',
      'envoy.filters.network.mysql_proxy',
      'envoy.filters.network.mongo_proxy',
      'envoy.filters.network.zookeeper_proxy',
    ],
  },
  {
    kind: 'policy',
    types: [
      'envoy.extensions.filters.network.rbac.v3.RBAC',
      'envoy.config.filter.network.rbac.v2.RBAC',
      'envoy.extensions.filters.network.local_ratelimit.v3.LocalRateLimit',
      'envoy.extensions.filters.network.ratelimit.v3.RateLimit',
      'envoy.extensions.filters.network.ext_authz.v3.ExtAuthz',
      'envoy.extensions.filters.network.connection_limit.v3.ConnectionLimit',
    ],
    names: ['envoy.filters.network.rbac', 'envoy.filters.network.local_ratelimit', 'envoy.filters.network.ext_authz', 'envoy.filters.network.connection_limit'],
  },
  {
    kind: 'sni_cluster',
    types: ['envoy.extensions.filters.network.sni_cluster.v3.SniCluster'],
    names: ['envoy.filters.network.sni_cluster'],
  },
  {
    kind: 'tcp_cluster_rewrite',
    types: ['istio.envoy.config.filter.network.tcp_cluster_rewrite.v2alpha1.TcpClusterRewrite'],
    names: ['istio.tcp_cluster_rewrite', 'envoy.filters.network.tcp_cluster_rewrite'],
  },
  {
    kind: 'other_terminal',
    types: [
      'envoy.extensions.filters.network.redis_proxy.v3.RedisProxy',
      'envoy.extensions.filters.network.thrift_proxy.v3.ThriftProxy',
      'envoy.extensions.filters.network.dubbo_proxy.v3.DubboProxy',
      'envoy.extensions.filters.network.direct_response.v3.Config',
      'envoy.extensions.filters.network.echo.v3.Echo',
      'envoy.extensions.filters.network.sni_dynamic_forward_proxy.v3.FilterConfig',
    ],
    names: ['envoy.filters.network.redis_proxy', 'envoy.redis_proxy', 'envoy.filters.network.thrift_proxy', 'envoy.filters.network.dubbo_proxy', 'envoy.filters.network.direct_response', 'envoy.filters.network.echo'],
  },
];

const BY_TYPE = new Map<string, NetworkFilterKind>();
const BY_NAME = new Map<string, NetworkFilterKind>();
for (const spec of NETWORK_FILTERS) {
  for (const t of spec.types) BY_TYPE.set(t, spec.kind);
  for (const n of spec.names) BY_NAME.set(n, spec.kind);
}

/** The effective type of a filter config: a TypedStruct's type_url when wrapped. */
function effectiveType(tc: TypedConfig | undefined): string | undefined {
  if (!tc) return undefined;
  const t = typeName(tc['@type']);
  if ((t === 'udpa.type.v1.TypedStruct' || t === 'xds.type.v3.TypedStruct') && typeof tc.type_url === 'string') {
    return typeName(tc.type_url);
  }
  return t;
}

export function networkFilterKind(f: NetworkFilter): NetworkFilterKind {
  const t = effectiveType(f.typed_config);
  if (t) {
    const k = BY_TYPE.get(t);
    if (k) return k;
  }
  if (f.name) {
    const k = BY_NAME.get(f.name);
    if (k) return k;
  }
  return 'unknown';
}

/** Display label: the filter name, or the short type name. */
export function filterLabel(f: { name?: string; typed_config?: TypedConfig }): string {
  return f.name ?? shortTypeName(f.typed_config?.['@type']) ?? '(unnamed filter)';
}

/**
 * The filter's configuration object, in snake_case: typed_config, a TypedStruct's value, or a
 * v2 Struct `config` (whose keys are proto field names, so they are normalised here).
 */
export function filterConfig<T>(f: NetworkFilter | ListenerFilter): T {
  const tc = f.typed_config;
  if (tc) {
    const t = typeName(tc['@type']);
    if ((t === 'udpa.type.v1.TypedStruct' || t === 'xds.type.v3.TypedStruct') && isRecord(tc.value)) {
      return normalizeKeys(tc.value) as T;
    }
    return tc as T;
  }
  if (isRecord(f.config)) return normalizeKeys(f.config) as T;
  return {} as T;
}

export function tcpProxyConfig(f: NetworkFilter): TcpProxy {
  return filterConfig<TcpProxy>(f);
}

export function hcmConfig(f: NetworkFilter): HttpConnectionManager {
  return filterConfig<HttpConnectionManager>(f);
}

// ---- listener filters ---------------------------------------------------------------------

export type ListenerFilterKind = 'tls_inspector' | 'http_inspector' | 'original_dst' | 'original_src' | 'proxy_protocol' | 'other';

const LISTENER_FILTERS: readonly { kind: ListenerFilterKind; types: readonly string[]; names: readonly string[] }[] = [
  {
    kind: 'tls_inspector',
    types: ['envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector', 'envoy.config.filter.listener.tls_inspector.v2.TlsInspector'],
    names: ['envoy.filters.listener.tls_inspector', 'envoy.listener.tls_inspector'],
  },
  {
    kind: 'http_inspector',
    types: ['envoy.extensions.filters.listener.http_inspector.v3.HttpInspector', 'envoy.config.filter.listener.http_inspector.v2.HttpInspector'],
    names: ['envoy.filters.listener.http_inspector', 'envoy.listener.http_inspector'],
  },
  {
    kind: 'original_dst',
    types: ['envoy.extensions.filters.listener.original_dst.v3.OriginalDst'],
    names: ['envoy.filters.listener.original_dst', 'envoy.listener.original_dst'],
  },
  {
    kind: 'original_src',
    types: ['envoy.extensions.filters.listener.original_src.v3.OriginalSrc'],
    names: ['envoy.filters.listener.original_src', 'envoy.listener.original_src'],
  },
  {
    kind: 'proxy_protocol',
    types: ['envoy.extensions.filters.listener.proxy_protocol.v3.ProxyProtocol'],
    names: ['envoy.filters.listener.proxy_protocol', 'envoy.listener.proxy_protocol'],
  },
];

export function listenerFilterKind(f: ListenerFilter): ListenerFilterKind {
  const t = effectiveType(f.typed_config);
  for (const spec of LISTENER_FILTERS) {
    if (t && spec.types.includes(t)) return spec.kind;
  }
  for (const spec of LISTENER_FILTERS) {
    if (f.name && spec.names.includes(f.name)) return spec.kind;
  }
  return 'other';
}

// ---- HTTP filters -------------------------------------------------------------------------

/** HTTP filters that only observe; anything else may change the outcome and is reported. */
const PASSIVE_HTTP_FILTERS = new Set([
  'envoy.filters.http.router',
  'envoy.router',
  'istio.stats',
  'istio.alpn',
  'istio.metadata_exchange',
  'envoy.filters.http.grpc_stats',
  'envoy.filters.http.cors',
  'envoy.cors',
  'envoy.fault',
  'envoy.filters.http.fault',
  'mixer',
  'envoy.filters.http.wasm',
  'istio_authn',
  'istio.authn',
  'envoy.filters.http.upstream_codec',
]);

const PASSIVE_HTTP_TYPES = new Set([
  'envoy.extensions.filters.http.router.v3.Router',
  'stats.PluginConfig',
  'istio.envoy.config.filter.http.alpn.v2alpha1.FilterConfig',
  'envoy.extensions.filters.http.grpc_stats.v3.FilterConfig',
  'envoy.extensions.filters.http.cors.v3.Cors',
  'envoy.extensions.filters.http.fault.v3.HTTPFault',
  'istio.mixer.v1.config.client.HttpClientConfig',
]);

/** True when the HTTP filter cannot change routing or reject a request on its own. */
export function isPassiveHttpFilter(f: NetworkFilter): boolean {
  const t = effectiveType(f.typed_config);
  if (t && PASSIVE_HTTP_TYPES.has(t)) return true;
  return f.name !== undefined && PASSIVE_HTTP_FILTERS.has(f.name);
}
