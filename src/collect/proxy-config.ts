/**
 * Demand-driven collection of a proxy's configuration: ask Envoy only for what the trace needs.
 *
 * Round 0 fetches the bootstrap and a trimmed index of every listener (names and addresses, via
 * the config_dump `mask`). Then the caller's `explore` (a trace run) reads a ConfigDump built from
 * what has been fetched; whatever it asked for and did not find (a full listener, a route
 * configuration, a cluster, endpoints) is fetched by name (`resource` + `name_regex`) and the
 * trace runs again, until it asks for nothing new. Names the proxy does not have are fetched
 * once, found absent, and then really are absent.
 */
import { ConfigDump, DemandTracker, type DemandKind, type IndexedDocument } from '../model/config-dump.js';
import { indexBuffer } from './dump-files.js';
import type { ProxyAdmin } from './envoy-admin.js';

/** RE2/ECMAScript-safe alternation of exact names. */
export function exactNamesRegex(names: readonly string[]): string {
  return `^(${names.map((n) => n.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&')).join('|')})$`;
}

const LISTENER_INDEX_MASK = [
  'name',
  'active_state.listener.name',
  'active_state.listener.address',
  'active_state.listener.additional_addresses',
  'warming_state.listener.name',
  'warming_state.listener.address',
  'draining_state.listener.name',
  'draining_state.listener.address',
  'error_state.details',
].join(',');

/** The admin queries, one place (the Envoy admin emulator in test/e2e implements the same rules). */
export const QUERIES = {
  bootstrap: 'config_dump?mask=bootstrap',
  listenerIndex: `config_dump?resource=dynamic_listeners&mask=${LISTENER_INDEX_MASK}`,
  staticListeners: 'config_dump?resource=static_listeners',
  byName: (resource: string, names: readonly string[], eds = false): string => `config_dump?resource=${resource}${eds ? '&include_eds' : ''}&name_regex=${encodeURIComponent(exactNamesRegex(names))}`,
};

/** Which config_dump resources hold each kind of demanded object. */
const RESOURCES: Readonly<Record<DemandKind, readonly string[]>> = {
  listener: ['dynamic_listeners'],
  route: ['dynamic_route_configs'],
  cluster: ['dynamic_active_clusters', 'dynamic_warming_clusters', 'static_clusters'],
  endpoint: ['dynamic_endpoint_configs', 'static_endpoint_configs'],
};

export interface ProxyConfigCollection {
  /** the configuration to trace on (no demand tracking) */
  readonly dump: ConfigDump;
  readonly rounds: number;
  readonly requests: readonly string[];
}

export async function collectProxyConfig(admin: ProxyAdmin, explore: (dump: ConfigDump) => void, opts: { maxRounds?: number } = {}): Promise<ProxyConfigCollection> {
  const docs: IndexedDocument[] = [];
  const requests: string[] = [];
  const fetch = async (path: string, section: string, partial = false): Promise<void> => {
    requests.push(path);
    const body = await admin.get(path);
    docs.push(indexBuffer(`proxy ${path.split('&name_regex')[0]}`, Buffer.from(body), { section, partial }));
  };
  await Promise.all([fetch(QUERIES.bootstrap, 'bootstrap'), fetch(QUERIES.listenerIndex, 'dynamic_listeners', true), fetch(QUERIES.staticListeners, 'static_listeners')]);
  const fetched = new Map<DemandKind, Set<string>>();
  const maxRounds = opts.maxRounds ?? 8;
  let rounds = 0;
  for (; rounds < maxRounds; rounds++) {
    const demand = new DemandTracker();
    explore(new ConfigDump(docs, { demand, live: true }));
    const batches: Promise<void>[] = [];
    for (const kind of ['listener', 'route', 'cluster', 'endpoint'] as const) {
      const done = fetched.get(kind) ?? new Set<string>();
      fetched.set(kind, done);
      const wanted = demand.get(kind).filter((n) => !done.has(n));
      if (wanted.length === 0) continue;
      for (const n of wanted) done.add(n);
      for (const resource of RESOURCES[kind]) batches.push(fetch(QUERIES.byName(resource, wanted, kind === 'endpoint'), resource));
    }
    if (batches.length === 0) break;
    await Promise.all(batches);
  }
  return { dump: new ConfigDump(docs, { live: true }), rounds, requests };
}
