/**
 * Demand-driven collection of a proxy's configuration: ask Envoy only for what the trace needs.
 *
 * Envoy's admin rules (source/server/admin/config_dump_handler.cc; /work/notes/ENVOY_ADMIN_CONFIG_DUMP.md):
 * `mask` cannot reach into the Any of a DynamicListener, so an index of all listeners can hold
 * their names only (`resource=dynamic_listeners&mask=name`); `name_regex` is an RE2 full match on
 * each resource's name; `mask` without `resource` trims every per-type dump it is valid for and
 * silently drops the others, and answers 400 when it fits none. A mask naming fields of two dump
 * types (clusters and routes) therefore fits none: each kind is one request (all of that kind's
 * names in one regex), and the kinds of a round are asked in parallel.
 *
 * Round 0: the bootstrap and the listener names. Round 1: the full listeners that can receive the
 * connection (chosen by the caller from the names: Istio names listeners "<ip>_<port>", and any
 * listener whose name does not follow that rule is fetched too, since its address is unknown).
 * Then the caller's `explore` (a trace run) reads what has been fetched; whatever it asked for
 * and did not find is fetched by name and the trace runs again, until it asks for nothing new.
 */
import { ConfigDump, DemandTracker, type DemandKind, type IndexedDocument } from '../model/config-dump.js';
import { indexBuffer } from './dump-files.js';
import type { ProxyAdmin } from './envoy-admin.js';

/** RE2-safe alternation of exact names (name_regex is a full match). */
export function exactNamesRegex(names: readonly string[]): string {
  return `(${names.map((n) => n.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&')).join('|')})`;
}

/** Fields of one per-type dump each (ListenersConfigDump, RoutesConfigDump, ClustersConfigDump, EndpointsConfigDump). */
const SECTIONS: Readonly<Record<DemandKind, readonly string[]>> = {
  listener: ['dynamic_listeners'],
  route: ['dynamic_route_configs', 'static_route_configs'],
  cluster: ['dynamic_active_clusters', 'dynamic_warming_clusters', 'static_clusters'],
  endpoint: ['dynamic_endpoint_configs', 'static_endpoint_configs'],
};

/** The admin queries, one place (the Envoy admin emulator in test/e2e implements Envoy's rules). */
export const QUERIES = {
  bootstrap: 'config_dump?mask=bootstrap',
  /** the bootstrap's own listeners (prometheus, health): few, nameless in the index, taken whole */
  staticListeners: 'config_dump?mask=static_listeners',
  listenerNames: 'config_dump?resource=dynamic_listeners&mask=name',
  /** everything, for proxies that predate resource=/mask= */
  full: 'config_dump?include_eds',
  clusters: 'clusters?format=json',
  /** resources of one kind by exact name */
  byName: (kind: DemandKind, names: readonly string[]): string =>
    `config_dump?${kind === 'endpoint' ? 'include_eds&' : ''}mask=${SECTIONS[kind].join(',')}&name_regex=${encodeURIComponent(exactNamesRegex(names))}`,
};

/** Istio's listener names: "<ip>_<port>" (pilot/pkg/networking/core getListenerName). */
const ISTIO_LISTENER_NAME = /^(\d{1,3}(?:\.\d{1,3}){3}|[0-9a-fA-F:]+|\[[0-9a-fA-F:]+\])_(\d+)$/;

export interface ListenerNameFacts {
  readonly ip: string;
  readonly port: number;
}

export function parseListenerName(name: string): ListenerNameFacts | undefined {
  const m = ISTIO_LISTENER_NAME.exec(name);
  return m ? { ip: m[1]!.replace(/^\[|\]$/g, ''), port: Number(m[2]) } : undefined;
}

export interface ProxyConfigCollection {
  /** the configuration to trace on (no demand tracking) */
  readonly dump: ConfigDump;
  readonly rounds: number;
  readonly requests: readonly string[];
  /** the proxy predates targeted queries: its whole configuration was read */
  readonly whole: boolean;
}

function configsOf(body: string): Record<string, unknown>[] {
  try {
    const doc = JSON.parse(body) as { configs?: unknown };
    return Array.isArray(doc.configs) ? (doc.configs as Record<string, unknown>[]) : [];
  } catch {
    return [];
  }
}

function namesFrom(body: string): string[] {
  return configsOf(body)
    .map((c) => c.name)
    .filter((n): n is string => typeof n === 'string');
}

/**
 * Whether the answer to the names index is what `resource=` gives (one element per dynamic
 * listener) or a whole dump: an Envoy that predates a query parameter ignores it (its admin
 * handler reads only the parameters it knows), so an old proxy answers the full dump.
 */
function isResourceAnswer(body: string): boolean {
  return configsOf(body).every((c) => typeof c['@type'] === 'string' && (c['@type'] as string).endsWith('ListenersConfigDump.DynamicListener'));
}

/** The names of the resources in a per-type dump answer (listeners, clusters, routes, endpoints). */
function returnedNames(body: string): Set<string> {
  const names = new Set<string>();
  for (const c of configsOf(body)) {
    for (const [key, value] of Object.entries(c)) {
      if (key === '@type' || !Array.isArray(value)) continue;
      for (const el of value as Record<string, Record<string, unknown> | undefined>[]) {
        const name = el?.name ?? el?.cluster?.name ?? el?.route_config?.name ?? el?.endpoint_config?.cluster_name;
        if (typeof name === 'string') names.add(name);
      }
    }
  }
  return names;
}

/** Istio's service clusters "outbound|<port>|<subset>|<host>" (and inbound): EDS when the service has endpoints. */
const SERVICE_CLUSTER = /^(?:outbound|inbound)\|\d+\|[^|]*\|.+$/;

/**
 * Istio names an EDS cluster's ClusterLoadAssignment after the cluster (its
 * eds_cluster_config.service_name, pilot/pkg/networking/core/cluster_builder.go): the endpoints of
 * the service clusters asked for in a round are asked for in the same round (in parallel) instead
 * of one round later. A guess that finds nothing costs one small answer and no extra round.
 */
function speculateEndpoints(want: Map<DemandKind, string[]>, fetchedEndpoints: ReadonlySet<string>, complete: ReadonlySet<DemandKind>): void {
  const clusters = want.get('cluster');
  if (!clusters || complete.has('endpoint')) return;
  const eds = clusters.filter((n) => SERVICE_CLUSTER.test(n) && !fetchedEndpoints.has(n));
  if (eds.length) want.set('endpoint', [...new Set([...(want.get('endpoint') ?? []), ...eds])]);
}

export async function collectProxyConfig(
  admin: ProxyAdmin,
  chooseListeners: (names: readonly string[]) => readonly string[],
  explore: (dump: ConfigDump) => void,
  opts: { maxRounds?: number } = {},
): Promise<ProxyConfigCollection> {
  let docs: IndexedDocument[] = [];
  const requests: string[] = [];
  const fetch = async (path: string, opt: { section?: string; partial?: boolean } = {}): Promise<string> => {
    requests.push(path);
    const body = await admin.get(path);
    docs.push(indexBuffer(`proxy ${path.split('&name_regex')[0]}`, Buffer.from(body), opt));
    return body;
  };
  const fetched = new Map<DemandKind, Set<string>>(Object.keys(SECTIONS).map((k) => [k as DemandKind, new Set<string>()]));
  // kinds whose every resource has arrived: an Envoy that predates name_regex answers all of them
  const complete = new Set<DemandKind>();
  const fetchByName = async (want: Map<DemandKind, string[]>): Promise<void> => {
    const asks = [...want].filter(([, names]) => names.length > 0);
    for (const [k, names] of asks) for (const n of names) fetched.get(k)!.add(n);
    await Promise.all(
      asks.map(async ([k, names]) => {
        const unique = [...new Set(names)].sort();
        const body = await fetch(QUERIES.byName(k, unique));
        if ([...returnedNames(body)].some((n) => !unique.includes(n))) complete.add(k);
      }),
    );
  };
  const [, , index] = await Promise.all([
    fetch(QUERIES.bootstrap, { section: 'bootstrap' }),
    fetch(QUERIES.staticListeners, { section: 'static_listeners' }),
    fetch(QUERIES.listenerNames, { section: 'dynamic_listeners', partial: true }),
  ]);
  if (!isResourceAnswer(index)) {
    // an Envoy without `resource=`/`mask=`: each of the answers above was the whole dump; ask once
    // for everything, endpoints included (and /clusters, which old proxies answer without EDS)
    docs = [];
    await Promise.all([fetch(QUERIES.full), fetch(QUERIES.clusters).catch(() => '')]);
    return { dump: new ConfigDump(docs, { live: true }), rounds: 1, requests, whole: true };
  }
  await fetchByName(new Map([['listener', [...chooseListeners(namesFrom(index))]]]));
  const maxRounds = opts.maxRounds ?? 8;
  let rounds = 1;
  for (; rounds < maxRounds; rounds++) {
    const demand = new DemandTracker();
    explore(new ConfigDump(docs, { demand, live: true }));
    const want = new Map<DemandKind, string[]>();
    for (const kind of Object.keys(SECTIONS) as DemandKind[]) {
      if (complete.has(kind)) continue;
      const fresh = demand.get(kind).filter((n) => !fetched.get(kind)!.has(n));
      if (fresh.length) want.set(kind, fresh);
    }
    if (want.size === 0) break;
    speculateEndpoints(want, fetched.get('endpoint')!, complete);
    await fetchByName(want);
  }
  return { dump: new ConfigDump(docs, { live: true }), rounds, requests, whole: false };
}

/**
 * The listeners a connection to `ip:port` can be handed to, or that take it (the capture
 * listeners): Istio-named ones on that port at that IP or a wildcard, the virtual listeners, and
 * every listener whose name does not tell its address. `ip` undefined: every listener on the port
 * (a hostname whose address is looked for among them).
 */
export function listenersFor(names: readonly string[], ip: string | undefined, port: number, capturePorts: readonly number[]): string[] {
  const wildcard = new Set(['0.0.0.0', '::', '[::]']);
  return names.filter((n) => {
    if (n === 'virtualOutbound' || n === 'virtualInbound') return true;
    const f = parseListenerName(n);
    if (!f) return true;
    if (capturePorts.includes(f.port) && wildcard.has(f.ip)) return true;
    if (f.port !== port) return false;
    return ip === undefined || wildcard.has(f.ip) || f.ip === ip;
  });
}
