/**
 * One proxy's configuration, read lazily from one or more indexed documents (a `/config_dump`,
 * optionally a `/clusters?format=json`). Resources are parsed and normalised on first use.
 */
import { capturePathId, KINDS, type DumpLayout, type EntryTable } from './dump-index.js';
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
  /** row of the document's EntryTable */
  readonly index: number;
  readonly prefix: string;
}

export type ClusterState = 'active' | 'warming' | 'static';

export interface ClusterRef {
  readonly name: string;
  readonly state: ClusterState;
  readonly section: string;
  readonly doc: number;
  /** row of the document's EntryTable */
  readonly index: number;
}

interface ListenerPaths {
  readonly prefix: string;
  readonly state: ListenerState | undefined;
  readonly name: number;
  readonly address: number;
  readonly port: number;
  readonly compat: number;
  readonly pipe: number;
  readonly extraAddress: number;
  readonly extraPort: number;
  readonly extraCompat: number;
}

const LISTENER_PATHS: readonly ListenerPaths[] = (
  [
    { prefix: '' },
    { prefix: 'listener.' },
    { prefix: 'active_state.listener.', state: 'active' },
    { prefix: 'warming_state.listener.', state: 'warming' },
    { prefix: 'draining_state.listener.', state: 'draining' },
    { prefix: 'error_state.failed_configuration.', state: 'error' },
  ] as const
).map(({ prefix, ...rest }) => ({
  prefix,
  state: 'state' in rest ? rest.state : undefined,
  name: capturePathId(`${prefix}name`),
  address: capturePathId(`${prefix}address.socket_address.address`),
  port: capturePathId(`${prefix}address.socket_address.port_value`),
  compat: capturePathId(`${prefix}address.socket_address.ipv4_compat`),
  pipe: capturePathId(`${prefix}address.pipe.path`),
  extraAddress: capturePathId(`${prefix}additional_addresses.address.socket_address.address`),
  extraPort: capturePathId(`${prefix}additional_addresses.address.socket_address.port_value`),
  extraCompat: capturePathId(`${prefix}additional_addresses.address.socket_address.ipv4_compat`),
}));

const P = {
  name: capturePathId('name'),
  clusterName: capturePathId('cluster_name'),
  errorDetails: capturePathId('error_state.details'),
  cluster: capturePathId('cluster.name'),
  route: capturePathId('route_config.name'),
  endpoint: capturePathId('endpoint_config.cluster_name'),
};

const K = {
  listener: KINDS.indexOf('listener'),
  cluster: KINDS.indexOf('cluster'),
  route: KINDS.indexOf('route'),
  endpoint: KINDS.indexOf('endpoint'),
  bootstrap: KINDS.indexOf('bootstrap'),
  clusterStatus: KINDS.indexOf('cluster_status'),
};

function sectionState(section: string): ListenerState {
  if (section.startsWith('static')) return 'static';
  if (section.includes('warming')) return 'warming';
  if (section.includes('draining')) return 'draining';
  return 'active';
}

/**
 * A captured value as text: strings as decoded, numbers as JSON.parse would give them, then
 * String(); true/false/null are no text (undefined).
 */
function text(t: EntryTable, i: number, pathId: number): string | undefined {
  const to = t.capFrom[i + 1]!;
  for (let c = t.capFrom[i]!; c < to; c++) {
    if (t.capPath[c] !== pathId) continue;
    return valueText(t, c);
  }
  return undefined;
}

function valueText(t: EntryTable, c: number): string | undefined {
  const v = t.value(c);
  if (t.isString(c)) return v;
  if (v === 'true' || v === 'false' || v === 'null') return undefined;
  return String(Number(v));
}

function num(s: string | undefined): number | undefined {
  if (s === undefined || s === '') return undefined;
  const n = Number(s);
  return Number.isFinite(n) ? n : undefined;
}

/** The values at a path id of row i, as text (undefined entries kept so that lists stay aligned). */
function texts(t: EntryTable, i: number, pathId: number): (string | undefined)[] {
  const out: (string | undefined)[] = [];
  const to = t.capFrom[i + 1]!;
  for (let c = t.capFrom[i]!; c < to; c++) if (t.capPath[c] === pathId) out.push(valueText(t, c));
  return out;
}

/** `true` written as a JSON literal at that position. */
function isTrue(t: EntryTable, c: number): boolean {
  return !t.isString(c) && t.value(c) === 'true';
}

function firstCapture(t: EntryTable, i: number, pathId: number): number {
  return t.firstIndex(i, pathId);
}

function listenerRefsOf(t: EntryTable, i: number, doc: number): ListenerRef[] {
  const refs: ListenerRef[] = [];
  const section = t.section(i);
  for (const p of LISTENER_PATHS) {
    const name = text(t, i, p.name);
    const addrAt = firstCapture(t, i, p.address);
    const pipe = text(t, i, p.pipe);
    if (name === undefined && addrAt < 0 && pipe === undefined) continue;
    const addresses: ListenAddress[] = [];
    const primary = addrAt >= 0 ? valueText(t, addrAt) : undefined;
    if (primary !== undefined) {
      const compatAt = firstCapture(t, i, p.compat);
      addresses.push({ address: primary, port: num(text(t, i, p.port)) ?? 0, ipv4Compat: compatAt >= 0 && isTrue(t, compatAt) });
    }
    // additional addresses: the index keeps their fields in document order; ipv4_compat is
    // rare enough there that it is only honoured when every additional address sets it
    const extra = texts(t, i, p.extraAddress);
    if (extra.length) {
      const extraPorts = texts(t, i, p.extraPort);
      const compat: boolean[] = [];
      const to = t.capFrom[i + 1]!;
      for (let c = t.capFrom[i]!; c < to; c++) if (t.capPath[c] === p.extraCompat) compat.push(isTrue(t, c));
      extra.forEach((address, k) => {
        if (address !== undefined) addresses.push({ address, port: num(extraPorts[k]) ?? 0, ipv4Compat: compat.length === extra.length && compat[k] === true });
      });
    }
    refs.push({
      // a v3 dynamic listener wrapper carries the name beside the states
      name: name ?? text(t, i, P.name) ?? '',
      state: p.state ?? sectionState(section),
      addresses,
      pipe,
      errorDetails: p.state === 'error' ? text(t, i, P.errorDetails) : undefined,
      section,
      doc,
      index: i,
      prefix: p.prefix,
    });
  }
  return refs;
}

/** Where the name of a row of each kind is captured, in order of preference. */
const NAME_PATHS: ReadonlyMap<number, readonly number[]> = new Map([
  [K.cluster, [P.cluster, P.name]],
  [K.route, [P.route, P.name]],
  [K.endpoint, [P.endpoint, P.clusterName]],
  [K.clusterStatus, [P.name]],
]);

/** The name of a row of some kind (the key of by-name lookups). */
function rowName(t: EntryTable, i: number, paths: readonly number[]): string | undefined {
  for (const p of paths) {
    const v = text(t, i, p);
    if (v !== undefined) return v;
  }
  return undefined;
}

/** rowName(...) === name, comparing bytes in the index instead of decoding each name. */
function rowNameIs(t: EntryTable, i: number, paths: readonly number[], name: string, utf8: Uint8Array): boolean {
  for (const p of paths) {
    const c = t.firstIndex(i, p);
    if (c < 0) continue;
    if (t.isString(c)) return t.stringEquals(c, utf8);
    const v = valueText(t, c);
    if (v !== undefined) return v === name;
  }
  return false;
}

/** A row: document and row number packed in one number (doc * 2^32 + row). */
type Row = number;
const ROW_SPAN = 2 ** 32;

/** Lookups answered by scanning the columns before a name → row map is worth building. */
const SCANS_BEFORE_MAP = 8;

/**
 * Rows of one kind by name, found lazily: the first few lookups scan the kind's rows (a scan of
 * 150k rows costs well under a millisecond, a Map of them tens of ms and MB), later ones use a
 * Map built once.
 */
class NameIndex {
  private lookups = 0;
  private map: Map<string, Row[]> | undefined;
  private readonly paths: readonly number[];
  constructor(
    private readonly docs: readonly IndexedDocument[],
    private readonly kind: number,
  ) {
    this.paths = NAME_PATHS.get(kind)!;
  }

  /** All rows with that name, in document order. */
  find(name: string): Row[] {
    if (this.map) return this.map.get(name) ?? [];
    if (++this.lookups > SCANS_BEFORE_MAP) return this.build().get(name) ?? [];
    const out: Row[] = [];
    const utf8 = Buffer.from(name, 'utf8');
    this.docs.forEach((d, doc) => {
      const t = d.layout.table;
      const kinds = t.kinds;
      for (let i = 0; i < t.size; i++) if (kinds[i] === this.kind && rowNameIs(t, i, this.paths, name, utf8)) out.push(doc * ROW_SPAN + i);
    });
    return out;
  }

  names(): IterableIterator<string> {
    return this.build().keys();
  }

  get size(): number {
    let n = 0;
    for (const rows of this.build().values()) n += rows.length;
    return n;
  }

  private build(): Map<string, Row[]> {
    if (this.map) return this.map;
    const map = new Map<string, Row[]>();
    this.docs.forEach((d, doc) => {
      const t = d.layout.table;
      const kinds = t.kinds;
      for (let i = 0; i < t.size; i++) {
        if (kinds[i] !== this.kind) continue;
        const name = rowName(t, i, this.paths);
        if (name === undefined) continue;
        const list = map.get(name);
        if (list) list.push(doc * ROW_SPAN + i);
        else map.set(name, [doc * ROW_SPAN + i]);
      }
    });
    this.map = map;
    return map;
  }
}

export class ConfigDump {
  private listenerIndex: ListenerRef[] | undefined;
  private readonly clusters: NameIndex;
  private readonly routes: NameIndex;
  private readonly endpointIndex: NameIndex;
  private readonly statusIndex: NameIndex;
  private bootstrapRow: Row | undefined | null = null;
  /** parsed entries and the normalised resources inside them, per document, by row */
  private readonly parsed: Map<number, Record<string, unknown>>[];
  private readonly resources: Map<number, Map<string, unknown>>[];
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
    this.parsed = docs.map(() => new Map());
    this.resources = docs.map(() => new Map());
    this.clusters = new NameIndex(docs, K.cluster);
    this.routes = new NameIndex(docs, K.route);
    this.endpointIndex = new NameIndex(docs, K.endpoint);
    this.statusIndex = new NameIndex(docs, K.clusterStatus);
    for (const d of docs) {
      this.configTypes.push(...d.layout.configTypes);
      for (const t of d.layout.configTypes) {
        if (t.endsWith('ListenersConfigDump')) this.present.listeners = true;
        if (t.endsWith('ClustersConfigDump')) this.present.clusters = true;
        if (t.endsWith('RoutesConfigDump') && !t.endsWith('ScopedRoutesConfigDump')) this.present.routes = true;
        if (t.endsWith('EndpointsConfigDump')) this.present.endpoints = true;
      }
      if (d.layout.isClusterStatus) this.present.clusterStatuses = true;
      const t = d.layout.table;
      const seen = new Set<number>();
      for (let i = 0; i < t.size; i++) seen.add(t.kinds[i]!);
      if (seen.has(K.listener)) this.present.listeners = true;
      if (seen.has(K.cluster)) this.present.clusters = true;
      if (seen.has(K.route)) this.present.routes = true;
      if (seen.has(K.endpoint)) this.present.endpoints = true;
      if (seen.has(K.bootstrap)) this.present.bootstrap = true;
    }
  }

  private table(doc: number): EntryTable {
    return this.docs[doc]!.layout.table;
  }

  /** The raw JSON of an entry, parsed once. */
  private load(doc: number, i: number): Record<string, unknown> {
    const hit = this.parsed[doc]!.get(i);
    if (hit !== undefined) return hit;
    const source = this.docs[doc]!.source;
    const t = this.table(doc);
    const kind = t.kind(i);
    const start = t.starts[i]!;
    let value: unknown;
    try {
      value = JSON.parse(source.read(start, t.ends[i]!).toString('utf8'));
    } catch (e) {
      throw new DataError(source.name, `invalid JSON in a ${kind} entry at byte ${start}: ${(e as Error).message}`);
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      throw new DataError(source.name, `a ${kind} entry at byte ${start} is not an object`);
    }
    this.parsed[doc]!.set(i, value as Record<string, unknown>);
    return value as Record<string, unknown>;
  }

  /** The resource at `path` inside an entry, normalised to snake_case once. */
  private resource(doc: number, i: number, path: readonly string[], normalize: (v: unknown) => unknown = normalizeKeys): unknown {
    const key = path.join('.');
    let byPath = this.resources[doc]!.get(i);
    const hit = byPath?.get(key);
    if (hit !== undefined) return hit;
    let node: unknown = this.load(doc, i);
    for (const part of path) node = pickField(node, part);
    const out = normalize(node ?? {});
    if (!byPath) this.resources[doc]!.set(i, (byPath = new Map()));
    byPath.set(key, out);
    return out;
  }

  /** Every listener known to the inputs, in dump order (from the index; no parsing). */
  listenerRefs(): readonly ListenerRef[] {
    if (this.listenerIndex) return this.listenerIndex;
    const all: ListenerRef[] = [];
    this.docs.forEach((d, doc) => {
      const t = d.layout.table;
      for (let i = 0; i < t.size; i++) if (t.kinds[i] === K.listener) all.push(...listenerRefsOf(t, i, doc));
    });
    // a listener known from a trimmed index and from a full document: keep the full one
    if (this.docs.some((d) => d.partial)) {
      const full = new Set(all.filter((r) => !this.docs[r.doc]!.partial).map((r) => `${r.name}\u0000${r.state}`));
      this.listenerIndex = all.filter((r) => !this.docs[r.doc]!.partial || !full.has(`${r.name}\u0000${r.state}`));
    } else this.listenerIndex = all;
    return this.listenerIndex;
  }

  listener(ref: ListenerRef): Listener {
    if (this.docs[ref.doc]!.partial) this.demand?.want('listener', ref.name);
    return this.resource(ref.doc, ref.index, ref.prefix.split('.').filter(Boolean)) as Listener;
  }

  /** All active/static listeners with that name, then any other state. */
  listenerByName(name: string): ListenerRef | undefined {
    const refs = this.listenerRefs().filter((r) => r.name === name);
    return refs.find((r) => r.state === 'active' || r.state === 'static') ?? refs[0];
  }

  clusterRefs(name: string): readonly ClusterRef[] {
    const rows = this.clusters.find(name);
    if (rows.length === 0) {
      this.demand?.want('cluster', name);
      return [];
    }
    return rows.map((row) => {
      const doc = Math.floor(row / ROW_SPAN);
      const index = row % ROW_SPAN;
      const section = this.table(doc).section(index);
      const state: ClusterState = section.startsWith('static') ? 'static' : section.includes('warming') ? 'warming' : 'active';
      return { name, state, section, doc, index };
    });
  }

  clusterNames(): IterableIterator<string> {
    return this.clusters.names();
  }

  cluster(ref: ClusterRef): Cluster {
    return this.resource(ref.doc, ref.index, this.wrapped(ref.doc, ref.index, 'cluster')) as Cluster;
  }

  /** `[field]` when the entry wraps its resource in `field` (admin dump), `[]` for a bare resource. */
  private wrapped(doc: number, i: number, field: string): string[] {
    return pickField(this.load(doc, i), field) !== undefined ? [field] : [];
  }

  private firstRow(index: NameIndex, name: string): { doc: number; i: number } | undefined {
    const row = index.find(name)[0];
    return row === undefined ? undefined : { doc: Math.floor(row / ROW_SPAN), i: row % ROW_SPAN };
  }

  routeConfig(name: string): RouteConfiguration | undefined {
    const ref = this.firstRow(this.routes, name);
    if (!ref) {
      this.demand?.want('route', name);
      return undefined;
    }
    return this.resource(ref.doc, ref.i, this.wrapped(ref.doc, ref.i, 'route_config')) as RouteConfiguration;
  }

  routeConfigNames(): IterableIterator<string> {
    return this.routes.names();
  }

  endpoints(clusterName: string): ClusterLoadAssignment | undefined {
    const ref = this.firstRow(this.endpointIndex, clusterName);
    if (!ref) {
      this.demand?.want('endpoint', clusterName);
      return undefined;
    }
    return this.resource(ref.doc, ref.i, this.wrapped(ref.doc, ref.i, 'endpoint_config')) as ClusterLoadAssignment;
  }

  clusterStatus(name: string): ClusterStatus | undefined {
    const ref = this.firstRow(this.statusIndex, name);
    if (!ref) return undefined;
    return this.resource(ref.doc, ref.i, []) as ClusterStatus;
  }

  bootstrap(): Bootstrap | undefined {
    if (this.bootstrapRow === null) {
      this.bootstrapRow = undefined;
      for (let doc = 0; doc < this.docs.length && this.bootstrapRow === undefined; doc++) {
        const t = this.table(doc);
        for (let i = 0; i < t.size; i++) {
          if (t.kinds[i] === K.bootstrap) {
            this.bootstrapRow = doc * ROW_SPAN + i;
            break;
          }
        }
      }
    }
    if (this.bootstrapRow === undefined) return undefined;
    const doc = Math.floor(this.bootstrapRow / ROW_SPAN);
    const i = this.bootstrapRow % ROW_SPAN;
    // node.metadata is a Struct whose keys are data: only the Node's own fields are renamed
    return this.resource(doc, i, this.wrapped(doc, i, 'bootstrap'), (b) => {
      const o = b as Record<string, unknown>;
      return { ...(normalizeKeys({ ...o, node: undefined }) as Record<string, unknown>), node: normalizeNode(o.node) };
    }) as Bootstrap;
  }

  /** Number of indexed entries of each kind (for reports and benchmarks). */
  counts(): Record<string, number> {
    // routes, endpoints and statuses count names (the first of each wins), clusters every entry
    let routes = 0;
    let endpoints = 0;
    let statuses = 0;
    for (const _ of this.routes.names()) routes++;
    for (const _ of this.endpointIndex.names()) endpoints++;
    for (const _ of this.statusIndex.names()) statuses++;
    return {
      listeners: this.listenerRefs().length,
      clusters: this.clusters.size,
      routes,
      endpoints,
      clusterStatuses: statuses,
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
