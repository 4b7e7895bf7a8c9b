/**
 * One proxy's configuration, read lazily from one or more indexed documents (a `/config_dump`,
 * optionally a `/clusters?format=json`). Resources are parsed and normalised on first use.
 */
import type { DumpLayout, EntryRef } from './dump-index.js';
import { DataError } from './errors.js';
import type {
  Bootstrap,
  Cluster,
  ClusterLoadAssignment,
  ClusterStatus,
  Listener,
  RouteConfiguration,
} from './envoy-types.js';
import { normalizeKeys, normalizeNode } from './normalize.js';

/** Random access to the bytes of an indexed document. */
export interface ByteSource {
  /** what to call it in messages (a path) */
  readonly name: string;
  read(start: number, end: number): Buffer;
}

export interface IndexedDocument {
  readonly source: ByteSource;
  readonly layout: DumpLayout;
  /**
   * The document holds trimmed resources (a config_dump `mask`): its listeners give names and
   * addresses only, and the full listener must come from another document.
   */
  readonly partial?: boolean;
}

export type DemandKind = 'listener' | 'route' | 'cluster' | 'endpoint';

/**
 * Records what a reader of the dump asked for and did not find, so a live collector can fetch
 * exactly that from the proxy and run the reader again (demand-driven collection).
 */
export class DemandTracker {
  private readonly wanted = new Map<DemandKind, Set<string>>();

  want(kind: DemandKind, name: string): void {
    let set = this.wanted.get(kind);
    if (!set) this.wanted.set(kind, (set = new Set()));
    set.add(name);
  }

  get(kind: DemandKind): string[] {
    return [...(this.wanted.get(kind) ?? [])].sort();
  }

  get size(): number {
    let n = 0;
    for (const s of this.wanted.values()) n += s.size;
    return n;
  }
}

export interface ConfigDumpOptions {
  /** record misses instead of treating them as absent (live collection in progress) */
  readonly demand?: DemandTracker;
  /** the proxy can be asked for any section: nothing is absent for lack of a capture */
  readonly live?: boolean;
}

export type ListenerState = 'active' | 'warming' | 'draining' | 'error' | 'static';

export interface ListenAddress {
  readonly address: string;
  readonly port: number;
  /** an IPv6 socket that also accepts IPv4 (v6only false) */
  readonly ipv4Compat: boolean;
}

/** A listener known from the index alone (no parse yet). */
export interface ListenerRef {
  readonly name: string;
  readonly state: ListenerState;
  /** primary address first, then additional_addresses */
  readonly addresses: readonly ListenAddress[];
  readonly pipe: string | undefined;
  readonly errorDetails: string | undefined;
  /** where in the dump, for evidence paths */
  readonly section: string;
  readonly doc: number;
  readonly entry: EntryRef;
  readonly prefix: string;
}

export type ClusterState = 'active' | 'warming' | 'static';

export interface ClusterRef {
  readonly name: string;
  readonly state: ClusterState;
  readonly section: string;
  readonly doc: number;
  readonly entry: EntryRef;
}

const LISTENER_PREFIXES: readonly { prefix: string; state?: ListenerState }[] = [
  { prefix: '' },
  { prefix: 'listener.' },
  { prefix: 'active_state.listener.', state: 'active' },
  { prefix: 'warming_state.listener.', state: 'warming' },
  { prefix: 'draining_state.listener.', state: 'draining' },
  { prefix: 'error_state.failed_configuration.', state: 'error' },
];

function sectionState(section: string): ListenerState {
  if (section.startsWith('static')) return 'static';
  if (section.includes('warming')) return 'warming';
  if (section.includes('draining')) return 'draining';
  return 'active';
}

function str(raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  try {
    const v: unknown = JSON.parse(raw);
    return typeof v === 'string' ? v : typeof v === 'number' ? String(v) : undefined;
  } catch {
    return undefined;
  }
}

function num(raw: string | undefined): number | undefined {
  const s = str(raw);
  if (s === undefined || s === '') return undefined;
  const n = Number(s);
  return Number.isFinite(n) ? n : undefined;
}

function first(entry: EntryRef, path: string): string | undefined {
  return str(entry.captures.get(path)?.[0]);
}

function listenerRefsOf(entry: EntryRef, doc: number): ListenerRef[] {
  const refs: ListenerRef[] = [];
  for (const { prefix, state } of LISTENER_PREFIXES) {
    const name = first(entry, `${prefix}name`);
    const addr = entry.captures.get(`${prefix}address.socket_address.address`);
    const pipe = first(entry, `${prefix}address.pipe.path`);
    if (name === undefined && addr === undefined && pipe === undefined) continue;
    const addresses: ListenAddress[] = [];
    const primary = str(addr?.[0]);
    if (primary !== undefined) {
      addresses.push({
        address: primary,
        port: num(entry.captures.get(`${prefix}address.socket_address.port_value`)?.[0]) ?? 0,
        ipv4Compat: entry.captures.get(`${prefix}address.socket_address.ipv4_compat`)?.[0] === 'true',
      });
    }
    // additional addresses: the index keeps their fields in document order; ipv4_compat is
    // rare enough there that it is only honoured when every additional address sets it
    const extra = (f: string): readonly string[] => entry.captures.get(`${prefix}additional_addresses.address.socket_address.${f}`) ?? [];
    const extraPorts = extra('port_value');
    const extraCompat = extra('ipv4_compat');
    extra('address').forEach((a, i) => {
      const address = str(a);
      if (address !== undefined) {
        addresses.push({ address, port: num(extraPorts[i]) ?? 0, ipv4Compat: extraCompat.length === extra('address').length && extraCompat[i] === 'true' });
      }
    });
    refs.push({
      // a v3 dynamic listener wrapper carries the name beside the states
      name: name ?? first(entry, 'name') ?? '',
      state: state ?? sectionState(entry.section),
      addresses,
      pipe,
      errorDetails: state === 'error' ? first(entry, 'error_state.details') : undefined,
      section: entry.section,
      doc,
      entry,
      prefix,
    });
  }
  return refs;
}

export class ConfigDump {
  private readonly listenerIndex: ListenerRef[] = [];
  private readonly clusters = new Map<string, ClusterRef[]>();
  private readonly routes = new Map<string, { doc: number; entry: EntryRef }>();
  private readonly endpointIndex = new Map<string, { doc: number; entry: EntryRef }>();
  private readonly statusIndex = new Map<string, { doc: number; entry: EntryRef }>();
  private bootstrapRef: { doc: number; entry: EntryRef } | undefined;
  private readonly parsed = new Map<EntryRef, Record<string, unknown>>();
  /** normalised resources, by entry and path inside it */
  private readonly resources = new Map<EntryRef, Map<string, unknown>>();
  /** which admin sections the inputs had at all: a missing section means "cannot tell" */
  readonly present = { listeners: false, clusters: false, routes: false, endpoints: false, clusterStatuses: false, bootstrap: false };
  readonly configTypes: string[] = [];

  private readonly demand: DemandTracker | undefined;

  constructor(
    readonly docs: readonly IndexedDocument[],
    options: ConfigDumpOptions = {},
  ) {
    this.demand = options.demand;
    if (options.live) {
      this.present.listeners = this.present.clusters = this.present.routes = this.present.endpoints = true;
    }
    docs.forEach((d, doc) => {
      this.configTypes.push(...d.layout.configTypes);
      for (const t of d.layout.configTypes) {
        if (t.endsWith('ListenersConfigDump')) this.present.listeners = true;
        if (t.endsWith('ClustersConfigDump')) this.present.clusters = true;
        if (t.endsWith('RoutesConfigDump') && !t.endsWith('ScopedRoutesConfigDump')) this.present.routes = true;
        if (t.endsWith('EndpointsConfigDump')) this.present.endpoints = true;
      }
      if (d.layout.isClusterStatus) this.present.clusterStatuses = true;
      for (const entry of d.layout.entries) this.add(entry, doc);
    });
    // a listener known from a trimmed index and from a full document: keep the full one
    const full = new Set(this.listenerIndex.filter((r) => !this.docs[r.doc]!.partial).map((r) => `${r.name}\u0000${r.state}`));
    const kept = this.listenerIndex.filter((r) => !this.docs[r.doc]!.partial || !full.has(`${r.name}\u0000${r.state}`));
    this.listenerIndex.length = 0;
    this.listenerIndex.push(...kept);
  }

  private add(entry: EntryRef, doc: number): void {
    switch (entry.kind) {
      case 'listener':
        this.present.listeners = true;
        this.listenerIndex.push(...listenerRefsOf(entry, doc));
        break;
      case 'cluster': {
        this.present.clusters = true;
        const name = first(entry, 'cluster.name') ?? first(entry, 'name');
        if (name === undefined) break;
        const state: ClusterState = entry.section.startsWith('static') ? 'static' : entry.section.includes('warming') ? 'warming' : 'active';
        const list = this.clusters.get(name) ?? [];
        list.push({ name, state, section: entry.section, doc, entry });
        this.clusters.set(name, list);
        break;
      }
      case 'route': {
        this.present.routes = true;
        const name = first(entry, 'route_config.name') ?? first(entry, 'name');
        if (name !== undefined && !this.routes.has(name)) this.routes.set(name, { doc, entry });
        break;
      }
      case 'endpoint': {
        this.present.endpoints = true;
        const name = first(entry, 'endpoint_config.cluster_name') ?? first(entry, 'cluster_name');
        if (name !== undefined && !this.endpointIndex.has(name)) this.endpointIndex.set(name, { doc, entry });
        break;
      }
      case 'cluster_status': {
        const name = first(entry, 'name');
        if (name !== undefined && !this.statusIndex.has(name)) this.statusIndex.set(name, { doc, entry });
        break;
      }
      case 'bootstrap':
        this.present.bootstrap = true;
        this.bootstrapRef ??= { doc, entry };
        break;
      default:
        // secrets are never parsed (nothing prints or stores secrets); scoped routes are noted only
        break;
    }
  }

  /** The raw JSON of an entry, parsed once. */
  private load(doc: number, entry: EntryRef): Record<string, unknown> {
    const hit = this.parsed.get(entry);
    if (hit !== undefined) return hit;
    const source = this.docs[doc]!.source;
    let value: unknown;
    try {
      value = JSON.parse(source.read(entry.start, entry.end).toString('utf8'));
    } catch (e) {
      throw new DataError(source.name, `invalid JSON in a ${entry.kind} entry at byte ${entry.start}: ${(e as Error).message}`);
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      throw new DataError(source.name, `a ${entry.kind} entry at byte ${entry.start} is not an object`);
    }
    this.parsed.set(entry, value as Record<string, unknown>);
    return value as Record<string, unknown>;
  }

  /** The resource at `path` inside an entry, normalised to snake_case once. */
  private resource(doc: number, entry: EntryRef, path: readonly string[], normalize: (v: unknown) => unknown = normalizeKeys): unknown {
    const key = path.join('.');
    let byPath = this.resources.get(entry);
    const hit = byPath?.get(key);
    if (hit !== undefined) return hit;
    let node: unknown = this.load(doc, entry);
    for (const part of path) node = pickField(node, part);
    const out = normalize(node ?? {});
    if (!byPath) this.resources.set(entry, (byPath = new Map()));
    byPath.set(key, out);
    return out;
  }

  /** Every listener known to the inputs, in dump order (no parsing). */
  listenerRefs(): readonly ListenerRef[] {
    return this.listenerIndex;
  }

  listener(ref: ListenerRef): Listener {
    if (this.docs[ref.doc]!.partial) this.demand?.want('listener', ref.name);
    return this.resource(ref.doc, ref.entry, ref.prefix.split('.').filter(Boolean)) as Listener;
  }

  /** All active/static listeners with that name, then any other state. */
  listenerByName(name: string): ListenerRef | undefined {
    const refs = this.listenerIndex.filter((r) => r.name === name);
    return refs.find((r) => r.state === 'active' || r.state === 'static') ?? refs[0];
  }

  clusterRefs(name: string): readonly ClusterRef[] {
    const refs = this.clusters.get(name);
    if (!refs) this.demand?.want('cluster', name);
    return refs ?? [];
  }

  clusterNames(): IterableIterator<string> {
    return this.clusters.keys();
  }

  cluster(ref: ClusterRef): Cluster {
    return this.resource(ref.doc, ref.entry, this.wrapped(ref.doc, ref.entry, 'cluster')) as Cluster;
  }

  /** `[field]` when the entry wraps its resource in `field` (admin dump), `[]` for a bare resource. */
  private wrapped(doc: number, entry: EntryRef, field: string): string[] {
    return pickField(this.load(doc, entry), field) !== undefined ? [field] : [];
  }

  routeConfig(name: string): RouteConfiguration | undefined {
    const ref = this.routes.get(name);
    if (!ref) {
      this.demand?.want('route', name);
      return undefined;
    }
    return this.resource(ref.doc, ref.entry, this.wrapped(ref.doc, ref.entry, 'route_config')) as RouteConfiguration;
  }

  routeConfigNames(): IterableIterator<string> {
    return this.routes.keys();
  }

  endpoints(clusterName: string): ClusterLoadAssignment | undefined {
    const ref = this.endpointIndex.get(clusterName);
    if (!ref) {
      this.demand?.want('endpoint', clusterName);
      return undefined;
    }
    return this.resource(ref.doc, ref.entry, this.wrapped(ref.doc, ref.entry, 'endpoint_config')) as ClusterLoadAssignment;
  }

  clusterStatus(name: string): ClusterStatus | undefined {
    const ref = this.statusIndex.get(name);
    if (!ref) return undefined;
    return this.resource(ref.doc, ref.entry, []) as ClusterStatus;
  }

  bootstrap(): Bootstrap | undefined {
    const { doc, entry } = this.bootstrapRef ?? {};
    if (doc === undefined || !entry) return undefined;
    // node.metadata is a Struct whose keys are data: only the Node's own fields are renamed
    return this.resource(doc, entry, this.wrapped(doc, entry, 'bootstrap'), (b) => {
      const o = b as Record<string, unknown>;
      return { ...(normalizeKeys({ ...o, node: undefined }) as Record<string, unknown>), node: normalizeNode(o.node) };
    }) as Bootstrap;
  }

  /** Number of indexed entries of each kind (for reports and benchmarks). */
  counts(): Record<string, number> {
    let clusters = 0;
    for (const list of this.clusters.values()) clusters += list.length;
    return {
      listeners: this.listenerIndex.length,
      clusters,
      routes: this.routes.size,
      endpoints: this.endpointIndex.size,
      clusterStatuses: this.statusIndex.size,
    };
  }
}

function pickField(node: unknown, snake: string): unknown {
  if (node === null || typeof node !== 'object') return undefined;
  const o = node as Record<string, unknown>;
  if (snake in o) return o[snake];
  const camel = snake.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
  return o[camel];
}
