/**
 * Just enough protobuf descriptor knowledge to validate FieldMasks the way
 * `FieldMaskUtil::GetFieldDescriptors` does: which fields exist, which are repeated, which are
 * singular messages (the only kind a path may descend into) and which are `google.protobuf.Any`.
 *
 * Admin dump types are complete (api/envoy/admin/v3/config_dump*.proto). For the Any-packed resources
 * only the top-level fields are listed; below that validation is permissive (see `fieldOf`).
 */

export type FieldKind = 'scalar' | 'message' | 'any';

export interface FieldDesc {
  kind: FieldKind;
  repeated?: boolean;
  /** Full message type name for `message` fields; undefined = not modelled (permissive below). */
  type?: string;
}

type Schema = Record<string, Record<string, FieldDesc>>;

const s: FieldDesc = { kind: 'scalar' };
const any: FieldDesc = { kind: 'any' };
const ts: FieldDesc = { kind: 'message', type: 'google.protobuf.Timestamp' };
const m: FieldDesc = { kind: 'message' };
const rm: FieldDesc = { kind: 'message', repeated: true };
const msg = (type: string): FieldDesc => ({ kind: 'message', type });
const rep = (type: string): FieldDesc => ({ kind: 'message', type, repeated: true });
const A = 'envoy.admin.v3.';
const err = msg(`${A}UpdateFailureState`);

export const SCHEMA: Schema = {
  'google.protobuf.Timestamp': { seconds: s, nanos: s },
  'google.protobuf.Any': { type_url: s, value: s },
  [`${A}UpdateFailureState`]: { failed_configuration: any, last_update_attempt: ts, details: s, version_info: s },

  [`${A}BootstrapConfigDump`]: { bootstrap: msg('envoy.config.bootstrap.v3.Bootstrap'), last_updated: ts },

  [`${A}ClustersConfigDump`]: {
    version_info: s,
    static_clusters: rep(`${A}ClustersConfigDump.StaticCluster`),
    dynamic_active_clusters: rep(`${A}ClustersConfigDump.DynamicCluster`),
    dynamic_warming_clusters: rep(`${A}ClustersConfigDump.DynamicCluster`),
  },
  [`${A}ClustersConfigDump.StaticCluster`]: { cluster: any, last_updated: ts },
  [`${A}ClustersConfigDump.DynamicCluster`]: { version_info: s, cluster: any, last_updated: ts, error_state: err, client_status: s },

  [`${A}ListenersConfigDump`]: {
    version_info: s,
    static_listeners: rep(`${A}ListenersConfigDump.StaticListener`),
    dynamic_listeners: rep(`${A}ListenersConfigDump.DynamicListener`),
  },
  [`${A}ListenersConfigDump.StaticListener`]: { listener: any, last_updated: ts },
  [`${A}ListenersConfigDump.DynamicListenerState`]: { version_info: s, listener: any, last_updated: ts },
  [`${A}ListenersConfigDump.DynamicListener`]: {
    name: s,
    active_state: msg(`${A}ListenersConfigDump.DynamicListenerState`),
    warming_state: msg(`${A}ListenersConfigDump.DynamicListenerState`),
    draining_state: msg(`${A}ListenersConfigDump.DynamicListenerState`),
    error_state: err,
    client_status: s,
  },

  [`${A}RoutesConfigDump`]: {
    static_route_configs: rep(`${A}RoutesConfigDump.StaticRouteConfig`),
    dynamic_route_configs: rep(`${A}RoutesConfigDump.DynamicRouteConfig`),
  },
  [`${A}RoutesConfigDump.StaticRouteConfig`]: { route_config: any, last_updated: ts },
  [`${A}RoutesConfigDump.DynamicRouteConfig`]: { version_info: s, route_config: any, last_updated: ts, error_state: err, client_status: s },

  [`${A}ScopedRoutesConfigDump`]: {
    inline_scoped_route_configs: rep(`${A}ScopedRoutesConfigDump.InlineScopedRouteConfigs`),
    dynamic_scoped_route_configs: rep(`${A}ScopedRoutesConfigDump.DynamicScopedRouteConfigs`),
  },
  [`${A}ScopedRoutesConfigDump.InlineScopedRouteConfigs`]: { name: s, scoped_route_configs: { kind: 'any', repeated: true }, last_updated: ts },
  [`${A}ScopedRoutesConfigDump.DynamicScopedRouteConfigs`]: {
    name: s,
    version_info: s,
    scoped_route_configs: { kind: 'any', repeated: true },
    last_updated: ts,
    error_state: err,
    client_status: s,
  },

  [`${A}EndpointsConfigDump`]: {
    static_endpoint_configs: rep(`${A}EndpointsConfigDump.StaticEndpointConfig`),
    dynamic_endpoint_configs: rep(`${A}EndpointsConfigDump.DynamicEndpointConfig`),
  },
  [`${A}EndpointsConfigDump.StaticEndpointConfig`]: { endpoint_config: any, last_updated: ts },
  [`${A}EndpointsConfigDump.DynamicEndpointConfig`]: { version_info: s, endpoint_config: any, last_updated: ts, error_state: err, client_status: s },

  [`${A}SecretsConfigDump`]: {
    static_secrets: rep(`${A}SecretsConfigDump.StaticSecret`),
    dynamic_active_secrets: rep(`${A}SecretsConfigDump.DynamicSecret`),
    dynamic_warming_secrets: rep(`${A}SecretsConfigDump.DynamicSecret`),
  },
  [`${A}SecretsConfigDump.StaticSecret`]: { name: s, last_updated: ts, secret: any },
  [`${A}SecretsConfigDump.DynamicSecret`]: { name: s, version_info: s, last_updated: ts, secret: any, error_state: err, client_status: s },

  [`${A}EcdsConfigDump`]: { ecds_filters: rep(`${A}EcdsConfigDump.EcdsFilterConfig`) },
  [`${A}EcdsConfigDump.EcdsFilterConfig`]: { version_info: s, ecds_filter: any, last_updated: ts, error_state: err, client_status: s },

  // Any-packed resources: top-level fields only (api/envoy/config/*/v3/*.proto).
  'envoy.config.listener.v3.Listener': fields(
    'name stat_prefix drain_type continue_on_listener_filters_timeout traffic_direction reuse_port enable_mptcp ignore_global_conn_limit bypass_overload_manager',
    'address fcds_config filter_chain_matcher use_original_dst default_filter_chain per_connection_buffer_limit_bytes metadata deprecated_v1 listener_filters_timeout transparent freebind tcp_fast_open_queue_length udp_listener_config api_listener connection_balance_config enable_reuse_port tcp_backlog_size max_connections_to_accept_per_socket_event bind_to_port internal_listener',
    'additional_addresses filter_chains listener_filters socket_options access_log',
  ),
  'envoy.config.cluster.v3.Cluster': fields(
    'name alt_stat_name type lb_policy respect_dns_ttl dns_lookup_family use_tcp_for_dns_lookups protocol_selection close_connections_on_host_health_failure ignore_health_on_host_removal track_timeout_budgets connection_pool_per_downstream_connection',
    'cluster_type eds_cluster_config connect_timeout per_connection_buffer_limit_bytes load_assignment max_requests_per_connection circuit_breakers upstream_http_protocol_options common_http_protocol_options http_protocol_options http2_protocol_options dns_refresh_rate dns_failure_refresh_rate dns_resolution_config typed_dns_resolver_config wait_for_warm_on_init outlier_detection cleanup_interval upstream_bind_config lb_subset_config ring_hash_lb_config maglev_lb_config original_dst_lb_config least_request_lb_config round_robin_lb_config common_lb_config transport_socket metadata upstream_connection_options load_balancing_policy lrs_server upstream_config track_cluster_stats preconnect_policy dns_jitter',
    'transport_socket_matches health_checks typed_extension_protocol_options dns_resolvers filters lrs_report_endpoint_metrics',
  ),
  'envoy.config.route.v3.RouteConfiguration': fields(
    'name most_specific_header_mutations_wins ignore_port_in_host_matching ignore_path_parameters_in_path_matching',
    'vhds validate_clusters max_direct_response_body_size_bytes metadata',
    'virtual_hosts internal_only_headers response_headers_to_add response_headers_to_remove request_headers_to_add request_headers_to_remove cluster_specifier_plugins request_mirror_policies typed_per_filter_config',
  ),
  'envoy.config.endpoint.v3.ClusterLoadAssignment': fields('cluster_name', 'policy', 'endpoints named_endpoints'),
  'envoy.extensions.transport_sockets.tls.v3.Secret': fields('name', 'tls_certificate session_ticket_keys validation_context generic_secret', ''),
  'envoy.config.core.v3.TypedExtensionConfig': { name: s, typed_config: any },
  'envoy.config.bootstrap.v3.Bootstrap': fields(
    'flags_path stats_flush_on_admin enable_dispatcher_stats header_prefix use_tcp_for_dns_lookups default_socket_interface perf_tracing_file_path',
    'node static_resources dynamic_resources cluster_manager hds_config deferred_stat_options stats_config stats_flush_interval watchdog watchdogs tracing layered_runtime admin overload_manager stats_server_version_override dns_resolution_config typed_dns_resolver_config default_config_source default_regex_engine xds_delegate_extension xds_config_tracker_extension listener_manager application_log_config grpc_async_client_manager_config memory_allocator_manager',
    'node_context_params stats_sinks bootstrap_extensions fatal_actions config_sources certificate_provider_instances inline_headers',
  ),
};

function fields(scalars: string, messages: string, repeated: string): Record<string, FieldDesc> {
  const out: Record<string, FieldDesc> = {};
  for (const n of scalars.split(/\s+/).filter(Boolean)) out[n] = s;
  for (const n of messages.split(/\s+/).filter(Boolean)) out[n] = m;
  // Repeated message and map fields: a FieldMask can name them but never descend into them.
  for (const n of repeated.split(/\s+/).filter(Boolean)) out[n] = rm;
  return out;
}

/** `type.googleapis.com/envoy.admin.v3.ListenersConfigDump` → `envoy.admin.v3.ListenersConfigDump`. */
export function typeNameOf(typeUrl: unknown): string | undefined {
  if (typeof typeUrl !== 'string') return undefined;
  const i = typeUrl.lastIndexOf('/');
  return i >= 0 ? typeUrl.slice(i + 1) : typeUrl;
}

/**
 * The descriptor of `name` in message type `type`, given the value that message has in the dump (used
 * only where the type is not modelled). Returns null when the field does not exist.
 */
export function fieldOf(type: string | undefined, name: string, data: unknown): FieldDesc | null {
  if (name === '') return null;
  const known = type !== undefined ? SCHEMA[type] : undefined;
  const fromSchema = known?.[name];
  if (fromSchema) return fromSchema;
  const value = isObject(data) ? data[name] : undefined;
  if (known && value === undefined) return null;
  // Not modelled (or modelled but incomplete and the dump shows the field): infer from the data.
  if (Array.isArray(value)) return rm;
  if (value === undefined || isObject(value)) return m;
  return s;
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
