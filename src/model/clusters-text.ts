/**
 * Envoy's text `/clusters` output (what `istioctl bug-report` stores as `clusters`), converted to
 * the `/clusters?format=json` shape. Lines are `<cluster>::<key>::<value>` for cluster settings and
 * `<cluster>::<host>::<stat>::<value>` for hosts; a host's health is the `health_flags` line:
 * `healthy`, or `/`-joined flags such as `/failed_outlier_check/failed_eds_health`
 * (source/server/admin/clusters_handler.cc, HostUtility::healthFlagsToString).
 */
import type { ClusterStatus, HostStatus } from './envoy-types.js';

function splitAddress(host: string): HostStatus['address'] {
  if (host.startsWith('unix://') || host.startsWith('/')) return { pipe: { path: host.replace(/^unix:\/\//, '') } };
  const m = /^\[?([^\]]+?)\]?:(\d+)$/.exec(host);
  if (!m) return { socket_address: { address: host } };
  return { socket_address: { address: m[1]!, port_value: Number(m[2]) } };
}

/** Returns undefined when the text is not Envoy's /clusters format. */
export function parseClustersText(text: string): { cluster_statuses: ClusterStatus[] } | undefined {
  const clusters = new Map<string, Map<string, HostStatus & { health_status: NonNullable<HostStatus['health_status']> }>>();
  let lines = 0;
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    const parts = line.split('::');
    if (parts.length < 3) return undefined;
    lines++;
    const [cluster, second, third, fourth] = parts as [string, string, string, string | undefined];
    const hosts = clusters.get(cluster) ?? new Map();
    clusters.set(cluster, hosts);
    if (parts.length < 4 || fourth === undefined) continue; // cluster-level setting
    // host line: cluster::host::stat::value
    const host = second;
    let status = hosts.get(host);
    if (!status) {
      status = { address: splitAddress(host), health_status: {} };
      hosts.set(host, status);
    }
    if (third === 'health_flags') {
      const flags = fourth.split('/').filter(Boolean);
      const hs = status.health_status as Record<string, unknown>;
      if (flags.includes('failed_outlier_check')) hs.failed_outlier_check = true;
      if (flags.includes('failed_active_hc')) hs.failed_active_health_check = true;
      if (flags.includes('degraded_active_hc')) hs.failed_active_degraded_check = true;
      if (flags.includes('pending_dynamic_removal')) hs.pending_dynamic_removal = true;
      hs.eds_health_status = flags.includes('failed_eds_health') ? 'UNHEALTHY' : flags.includes('degraded_eds_health') ? 'DEGRADED' : flags.includes('eds_status_draining') ? 'DRAINING' : 'HEALTHY';
    }
  }
  if (lines === 0) return undefined;
  return {
    cluster_statuses: [...clusters].map(([name, hosts]) => ({ name, host_statuses: [...hosts.values()] })),
  };
}
