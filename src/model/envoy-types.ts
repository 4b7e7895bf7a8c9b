/**
 * Narrow, read-only views of the Envoy protos the engine reads, in proto field names
 * (snake_case; see normalize.ts). Every field is optional: real dumps omit defaults, and v2-era
 * dumps spell some things differently (noted per field). Only what the emulation needs is typed.
 *
 * References: envoy/api/envoy/config/listener/v3/{listener,listener_components}.proto,
 * config/route/v3/route_components.proto, config/cluster/v3/cluster.proto,
 * config/endpoint/v3/endpoint_components.proto, admin/v3/clusters.proto.
 */

export interface SocketAddress {
  readonly address?: string;
  readonly port_value?: number | string;
  readonly named_port?: string;
  readonly ipv4_compat?: boolean;
  readonly protocol?: string;
}

export interface Address {
  readonly socket_address?: SocketAddress;
  readonly pipe?: { readonly path?: string };
  readonly envoy_internal_address?: { readonly server_listener_name?: string };
}

export interface CidrRangeProto {
  readonly address_prefix?: string;
  readonly prefix_len?: number | string;
}

export interface FilterChainMatch {
  readonly destination_port?: number | string;
  readonly prefix_ranges?: readonly CidrRangeProto[];
  readonly address_suffix?: string;
  readonly suffix_len?: number;
  readonly direct_source_prefix_ranges?: readonly CidrRangeProto[];
  readonly source_type?: 'ANY' | 'SAME_IP_OR_LOOPBACK' | 'EXTERNAL' | number;
  readonly source_prefix_ranges?: readonly CidrRangeProto[];
  readonly source_ports?: readonly (number | string)[];
  readonly server_names?: readonly string[];
  readonly transport_protocol?: string;
  readonly application_protocols?: readonly string[];
}

export interface TypedConfig {
  readonly '@type'?: string;
  readonly [field: string]: unknown;
}

export interface NetworkFilter {
  readonly name?: string;
  readonly typed_config?: TypedConfig;
  /** v2: google.protobuf.Struct config, replaced by typed_config */
  readonly config?: Record<string, unknown>;
  readonly config_discovery?: unknown;
}

export interface Metadata {
  readonly filter_metadata?: Readonly<Record<string, Record<string, unknown>>>;
}

export interface FilterChain {
  readonly name?: string;
  readonly filter_chain_match?: FilterChainMatch;
  readonly filters?: readonly NetworkFilter[];
  readonly transport_socket?: TypedConfigHolder;
  /** v2 */
  readonly tls_context?: unknown;
  readonly metadata?: Metadata;
}

export interface TypedConfigHolder {
  readonly name?: string;
  readonly typed_config?: TypedConfig;
}

export interface ListenerFilterChainMatchPredicate {
  readonly or_match?: { readonly rules?: readonly ListenerFilterChainMatchPredicate[] };
  readonly and_match?: { readonly rules?: readonly ListenerFilterChainMatchPredicate[] };
  readonly not_match?: ListenerFilterChainMatchPredicate;
  readonly any_match?: boolean;
  readonly destination_port_range?: { readonly start?: number | string; readonly end?: number | string };
}

export interface ListenerFilter {
  readonly name?: string;
  readonly typed_config?: TypedConfig;
  readonly config?: Record<string, unknown>;
  readonly filter_disabled?: ListenerFilterChainMatchPredicate;
}

export interface Listener {
  readonly name?: string;
  readonly address?: Address;
  readonly additional_addresses?: readonly { readonly address?: Address }[];
  readonly filter_chains?: readonly FilterChain[];
  readonly default_filter_chain?: FilterChain;
  readonly filter_chain_matcher?: unknown;
  readonly use_original_dst?: boolean;
  readonly listener_filters?: readonly ListenerFilter[];
  readonly listener_filters_timeout?: string;
  readonly continue_on_listener_filters_timeout?: boolean;
  readonly bind_to_port?: boolean;
  /** v2 */
  readonly deprecated_v1?: { readonly bind_to_port?: boolean };
  readonly traffic_direction?: string;
  readonly transparent?: boolean;
  readonly internal_listener?: unknown;
}

// ---- HTTP ---------------------------------------------------------------------------------

export interface StringMatcher {
  readonly exact?: string;
  readonly prefix?: string;
  readonly suffix?: string;
  readonly contains?: string;
  readonly safe_regex?: { readonly regex?: string };
  readonly ignore_case?: boolean;
}

export interface HeaderMatcher {
  readonly name?: string;
  readonly exact_match?: string;
  readonly safe_regex_match?: { readonly regex?: string };
  /** v2 (std::regex) */
  readonly regex_match?: string;
  readonly range_match?: { readonly start?: number | string; readonly end?: number | string };
  readonly present_match?: boolean;
  readonly prefix_match?: string;
  readonly suffix_match?: string;
  readonly contains_match?: string;
  readonly string_match?: StringMatcher;
  readonly invert_match?: boolean;
  readonly treat_missing_header_as_empty?: boolean;
}

export interface QueryParameterMatcher {
  readonly name?: string;
  readonly string_match?: StringMatcher;
  readonly present_match?: boolean;
  /** v2 */
  readonly value?: string;
  readonly regex?: boolean;
}

export interface RouteMatch {
  readonly prefix?: string;
  readonly path?: string;
  readonly safe_regex?: { readonly regex?: string };
  /** v2 (std::regex) */
  readonly regex?: string;
  readonly path_separated_prefix?: string;
  readonly connect_matcher?: unknown;
  readonly path_match_policy?: unknown;
  readonly case_sensitive?: boolean;
  readonly headers?: readonly HeaderMatcher[];
  readonly query_parameters?: readonly QueryParameterMatcher[];
  readonly runtime_fraction?: unknown;
  readonly grpc?: unknown;
  readonly tls_context?: { readonly presented?: boolean; readonly validated?: boolean };
  readonly dynamic_metadata?: readonly unknown[];
  readonly filter_state?: readonly unknown[];
}

export interface WeightedClusterEntry {
  readonly name?: string;
  readonly weight?: number | string;
  readonly cluster_header?: string;
}

export interface RouteAction {
  readonly cluster?: string;
  readonly cluster_header?: string;
  readonly weighted_clusters?: {
    readonly clusters?: readonly WeightedClusterEntry[];
    readonly total_weight?: number | string;
  };
  readonly cluster_specifier_plugin?: string;
  readonly inline_cluster_specifier_plugin?: unknown;
  readonly cluster_not_found_response_code?: string | number;
  readonly timeout?: string;
}

export interface Route {
  readonly name?: string;
  readonly match?: RouteMatch;
  readonly route?: RouteAction;
  readonly redirect?: {
    readonly response_code?: string | number;
    readonly https_redirect?: boolean;
    readonly scheme_redirect?: string;
    readonly host_redirect?: string;
    readonly path_redirect?: string;
    readonly prefix_rewrite?: string;
    readonly port_redirect?: number;
  };
  readonly direct_response?: { readonly status?: number | string; readonly body?: unknown };
  readonly non_forwarding_action?: unknown;
  readonly metadata?: Metadata;
}

export interface VirtualHost {
  readonly name?: string;
  readonly domains?: readonly string[];
  readonly routes?: readonly Route[];
  readonly require_tls?: 'NONE' | 'EXTERNAL_ONLY' | 'ALL' | number;
  readonly metadata?: Metadata;
}

export interface RouteConfiguration {
  readonly name?: string;
  readonly virtual_hosts?: readonly VirtualHost[];
  readonly ignore_port_in_host_matching?: boolean;
  readonly validate_clusters?: boolean;
  readonly vhds?: unknown;
}

export interface HttpConnectionManager {
  readonly stat_prefix?: string;
  readonly codec_type?: string;
  readonly rds?: { readonly route_config_name?: string };
  readonly route_config?: RouteConfiguration;
  readonly scoped_routes?: unknown;
  readonly http_filters?: readonly NetworkFilter[];
  readonly strip_any_host_port?: boolean;
  readonly strip_matching_host_port?: boolean;
  readonly normalize_path?: boolean;
  readonly merge_slashes?: boolean;
}

export interface TcpProxy {
  readonly stat_prefix?: string;
  readonly cluster?: string;
  readonly weighted_clusters?: { readonly clusters?: readonly WeightedClusterEntry[] };
  readonly tunneling_config?: unknown;
  readonly on_demand?: unknown;
  readonly idle_timeout?: string;
}

// ---- clusters and endpoints ---------------------------------------------------------------

export type HealthStatus = 'UNKNOWN' | 'HEALTHY' | 'UNHEALTHY' | 'DRAINING' | 'TIMEOUT' | 'DEGRADED';

export interface LbEndpoint {
  readonly endpoint?: {
    readonly address?: Address;
    readonly hostname?: string;
    readonly health_check_config?: unknown;
  };
  readonly health_status?: HealthStatus | number;
  readonly load_balancing_weight?: number;
  readonly metadata?: Metadata;
}

export interface LocalityLbEndpoints {
  readonly locality?: { readonly region?: string; readonly zone?: string; readonly sub_zone?: string };
  readonly lb_endpoints?: readonly LbEndpoint[];
  readonly load_balancing_weight?: number;
  readonly priority?: number;
}

export interface ClusterLoadAssignment {
  readonly cluster_name?: string;
  readonly endpoints?: readonly LocalityLbEndpoints[];
  readonly policy?: unknown;
}

export interface Cluster {
  readonly name?: string;
  readonly alt_stat_name?: string;
  readonly type?: 'STATIC' | 'STRICT_DNS' | 'LOGICAL_DNS' | 'EDS' | 'ORIGINAL_DST' | number;
  readonly cluster_type?: { readonly name?: string; readonly typed_config?: TypedConfig };
  readonly eds_cluster_config?: { readonly service_name?: string };
  readonly load_assignment?: ClusterLoadAssignment;
  /** v2 */
  readonly hosts?: readonly Address[];
  readonly lb_policy?: string;
  readonly connect_timeout?: string;
  readonly common_lb_config?: { readonly healthy_panic_threshold?: { readonly value?: number } };
  readonly outlier_detection?: unknown;
  readonly transport_socket?: TypedConfigHolder;
  readonly transport_socket_matches?: readonly { readonly name?: string; readonly transport_socket?: TypedConfigHolder }[];
  /** v2 */
  readonly tls_context?: unknown;
  readonly metadata?: Metadata;
  readonly original_dst_lb_config?: { readonly use_http_header?: boolean };
  readonly dns_lookup_family?: string;
}

/** `/clusters?format=json` host status (admin/v3/clusters.proto HostStatus). */
export interface HostStatus {
  readonly address?: Address;
  readonly hostname?: string;
  readonly health_status?: {
    readonly failed_active_health_check?: boolean;
    readonly failed_outlier_check?: boolean;
    readonly failed_active_degraded_check?: boolean;
    readonly pending_dynamic_removal?: boolean;
    readonly pending_active_hc?: boolean;
    readonly excluded_via_immediate_hc_fail?: boolean;
    readonly active_hc_timeout?: boolean;
    readonly eds_health_status?: HealthStatus;
  };
  readonly weight?: number;
  readonly priority?: number;
  readonly locality?: unknown;
}

export interface ClusterStatus {
  readonly name?: string;
  readonly added_via_api?: boolean;
  readonly host_statuses?: readonly HostStatus[];
}

// ---- bootstrap ----------------------------------------------------------------------------

export interface EnvoyNode {
  readonly id?: string;
  readonly cluster?: string;
  /** google.protobuf.Struct: keys are data (ISTIO_VERSION, LABELS, annotations...) */
  readonly metadata?: Readonly<Record<string, unknown>>;
  readonly build_version?: string;
  readonly user_agent_build_version?: unknown;
}

export interface Bootstrap {
  readonly node?: EnvoyNode;
  readonly admin?: unknown;
  readonly stats_config?: unknown;
}
