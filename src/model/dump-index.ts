/**
 * Index of an Envoy admin `/config_dump` (or `/clusters?format=json`) document.
 *
 * The index records, for every resource entry, where its bytes are and a handful of small
 * fields (name, listen address, cluster name) captured while scanning. Resources are parsed
 * only when the engine asks for them, so a trace of a huge dump parses one listener, one route
 * configuration and one cluster instead of everything.
 *
 * Storage is columnar (EntryTable): typed arrays for kinds, sections and byte ranges, one flat
 * list of captured values for all entries. A dump of 150k services (360k entries) costs a few
 * tens of MB of index instead of one Map and a handful of arrays per entry.
 *
 * Layouts understood (all seen in real dumps, see ../shared/corpus/istio/MANIFEST.md):
 *   {"configs":[{"@type": "...ListenersConfigDump", "dynamic_listeners":[{name, active_state:{listener}}]}]}   v3
 *   {"configs":[{..., "dynamic_active_listeners":[{listener}]}]}                                              v2alpha
 *   {"configs":[{"@type":"...ListenersConfigDump.DynamicListener", name, active_state}, ...]}                 ?resource=
 *   [ {listener}, ... ]                                                     istioctl proxy-config ... -o json
 *   {"cluster_statuses":[{name, host_statuses:[...]}]}                                   /clusters?format=json
 */
import { JsonStructureScanner, type ScanVisitor, type ValueInterest } from './json-scan.js';
import { snakeKey } from './normalize.js';

export type ResourceKind = 'listener' | 'cluster' | 'route' | 'endpoint' | 'bootstrap' | 'secret' | 'scoped_route' | 'cluster_status' | 'unknown';

/** Kinds by their code in EntryTable.kinds. */
export const KINDS: readonly ResourceKind[] = ['unknown', 'listener', 'cluster', 'route', 'endpoint', 'bootstrap', 'secret', 'scoped_route', 'cluster_status'];
const KIND_CODE: ReadonlyMap<ResourceKind, number> = new Map(KINDS.map((k, i) => [k, i]));

/** Where a listener / cluster / ... entry sits and what was captured about it (a materialised row of an EntryTable). */
export interface EntryRef {
  readonly kind: ResourceKind;
  /** the config-dump section it came from, e.g. "dynamic_listeners", "static_clusters" ("" for bare resources) */
  readonly section: string;
  readonly start: number;
  readonly end: number;
  /**
   * captured primitives by relative path (snake_case, array levels elided), as JSON text
   * (strings are re-serialised from their decoded value)
   */
  readonly captures: ReadonlyMap<string, readonly string[]>;
}

// ---- capture trie -------------------------------------------------------------------------

interface Trie {
  readonly children: Map<string, Trie>;
  capture: boolean;
  path: string;
  /** index in CAPTURE_PATHS when `capture` */
  id: number;
  /** the scan node and interests for this trie position (shared by every entry) */
  node?: Node;
  interest?: ValueInterest<Node>;
}

function trie(path = ''): Trie {
  return { children: new Map(), capture: false, path, id: -1 };
}

const CAPTURE_PATHS: string[] = [];

function addPath(root: Trie, path: string): void {
  let node = root;
  for (const part of path.split('.')) {
    let next = node.children.get(part);
    if (!next) {
      next = trie(node.path ? `${node.path}.${part}` : part);
      node.children.set(part, next);
    }
    node = next;
  }
  if (!node.capture) {
    node.capture = true;
    node.id = CAPTURE_PATHS.length;
    CAPTURE_PATHS.push(node.path);
  }
}

const LISTENER_FIELDS = [
  'name',
  'address.socket_address.address',
  'address.socket_address.port_value',
  'address.socket_address.ipv4_compat',
  'address.pipe.path',
  'additional_addresses.address.socket_address.address',
  'additional_addresses.address.socket_address.port_value',
  'additional_addresses.address.socket_address.ipv4_compat',
];

/** Paths captured relative to an entry wrapper. Array levels are transparent. */
const ENTRY_TRIE: Trie = (() => {
  const t = trie();
  addPath(t, 'name');
  addPath(t, 'cluster_name');
  for (const f of LISTENER_FIELDS) {
    addPath(t, f); // bare listener (istioctl -o json)
    addPath(t, `listener.${f}`);
    for (const st of ['active_state', 'warming_state', 'draining_state']) addPath(t, `${st}.listener.${f}`);
    addPath(t, `error_state.failed_configuration.${f}`);
  }
  addPath(t, 'error_state.details');
  addPath(t, 'cluster.name');
  addPath(t, 'route_config.name');
  addPath(t, 'endpoint_config.cluster_name');
  addPath(t, 'scoped_route_config.name');
  return t;
})();

/** The id of a capture path (for EntryTable lookups), -1 when the index never captures it. */
export function capturePathId(path: string): number {
  return CAPTURE_PATHS.indexOf(path);
}

/** Keys that identify what an entry (or bare resource) is. */
const KIND_BY_KEY: ReadonlyMap<string, ResourceKind> = new Map<string, ResourceKind>([
  ['listener', 'listener'],
  ['active_state', 'listener'],
  ['warming_state', 'listener'],
  ['draining_state', 'listener'],
  ['error_state', 'listener'],
  ['cluster', 'cluster'],
  ['route_config', 'route'],
  ['endpoint_config', 'endpoint'],
  ['bootstrap', 'bootstrap'],
  ['secret', 'secret'],
  ['scoped_route_configs', 'scoped_route'],
  // bare resources
  ['filter_chains', 'listener'],
  ['listener_filters', 'listener'],
  ['virtual_hosts', 'route'],
  ['lb_policy', 'cluster'],
  ['connect_timeout', 'cluster'],
  ['eds_cluster_config', 'cluster'],
  ['cluster_type', 'cluster'],
  ['host_statuses', 'cluster_status'],
]);

const SECTION_KIND: ReadonlyMap<string, ResourceKind> = new Map<string, ResourceKind>([
  ['static_listeners', 'listener'],
  ['dynamic_listeners', 'listener'],
  ['dynamic_active_listeners', 'listener'],
  ['dynamic_warming_listeners', 'listener'],
  ['dynamic_draining_listeners', 'listener'],
  ['static_clusters', 'cluster'],
  ['dynamic_active_clusters', 'cluster'],
  ['dynamic_warming_clusters', 'cluster'],
  ['static_route_configs', 'route'],
  ['dynamic_route_configs', 'route'],
  ['static_endpoint_configs', 'endpoint'],
  ['dynamic_endpoint_configs', 'endpoint'],
  ['static_secrets', 'secret'],
  ['dynamic_active_secrets', 'secret'],
  ['dynamic_warming_secrets', 'secret'],
  ['static_scoped_route_configs', 'scoped_route'],
  ['dynamic_scoped_route_configs', 'scoped_route'],
]);

// ---- the table ----------------------------------------------------------------------------

/** capFlags bit: the captured value was a JSON string (the heap holds its UTF-8, escapes resolved) */
export const CAP_STRING = 1;

/**
 * The entries of one document, column by column. Row i: kinds[i] (a KINDS code), the section
 * (sectionNames[sections[i]]), bytes [starts[i], ends[i]), and captures capFrom[i] ..
 * capFrom[i + 1] - 1. Capture c: its path (capPath[c], an id of capturePathId), whether it was a
 * string (capFlags[c] & CAP_STRING), and its bytes in `heap` (capStart[c], capLen[c]): a string's
 * UTF-8 without the quotes, a number's or literal's JSON text. No JS string is made while
 * indexing; values are decoded when read.
 */
export class EntryTable {
  size = 0;
  kinds = new Uint8Array(64);
  sections = new Uint8Array(64);
  starts = new Float64Array(64);
  ends = new Float64Array(64);
  capFrom = new Uint32Array(65);
  capCount = 0;
  capPath = new Uint8Array(128);
  capFlags = new Uint8Array(128);
  capStart = new Uint32Array(128);
  capLen = new Uint32Array(128);
  // zero-filled (not allocUnsafe): the table's bytes depend only on the document, never on old memory
  heap: Buffer = Buffer.alloc(1 << 12);
  heapUsed = 0;
  readonly sectionNames: string[] = [];
  private readonly sectionCodes = new Map<string, number>();

  kind(i: number): ResourceKind {
    return KINDS[this.kinds[i]!]!;
  }

  section(i: number): string {
    return this.sectionNames[this.sections[i]!]!;
  }

  /** Capture c as text: a string decoded, a number or literal as its JSON text. */
  value(c: number): string {
    const s = this.capStart[c]!;
    return this.heap.toString('utf8', s, s + this.capLen[c]!);
  }

  isString(c: number): boolean {
    return (this.capFlags[c]! & CAP_STRING) !== 0;
  }

  /** Whether capture c is a string whose UTF-8 is exactly `utf8`. */
  stringEquals(c: number, utf8: Uint8Array): boolean {
    if ((this.capFlags[c]! & CAP_STRING) === 0) return false;
    const n = this.capLen[c]!;
    if (n !== utf8.length) return false;
    const heap = this.heap;
    const s = this.capStart[c]!;
    for (let k = 0; k < n; k++) if (heap[s + k] !== utf8[k]) return false;
    return true;
  }

  /** The index of the first capture at a path id for row i, -1 when there is none. */
  firstIndex(i: number, pathId: number): number {
    const to = this.capFrom[i + 1]!;
    for (let c = this.capFrom[i]!; c < to; c++) if (this.capPath[c] === pathId) return c;
    return -1;
  }

  /** The first value captured at a path id for row i (see value()), undefined when there is none. */
  first(i: number, pathId: number): string | undefined {
    const c = this.firstIndex(i, pathId);
    return c < 0 ? undefined : this.value(c);
  }

  /** The indexes of every capture at a path id for row i, in document order. */
  indexes(i: number, pathId: number): number[] {
    const out: number[] = [];
    const to = this.capFrom[i + 1]!;
    for (let c = this.capFrom[i]!; c < to; c++) if (this.capPath[c] === pathId) out.push(c);
    return out;
  }

  /** Row i as an object (tests, debugging; the engine reads the columns). */
  row(i: number): EntryRef {
    const captures = new Map<string, string[]>();
    const to = this.capFrom[i + 1]!;
    for (let c = this.capFrom[i]!; c < to; c++) {
      const path = CAPTURE_PATHS[this.capPath[c]!]!;
      let list = captures.get(path);
      if (!list) captures.set(path, (list = []));
      const v = this.value(c);
      list.push(this.isString(c) ? JSON.stringify(v) : v);
    }
    return { kind: this.kind(i), section: this.section(i), start: this.starts[i]!, end: this.ends[i]!, captures };
  }

  /** Bytes held by the index (typed arrays and the capture heap). */
  get byteSize(): number {
    return this.kinds.length * 18 + (this.capFrom.length * 4) + this.capPath.length * 10 + this.heap.length;
  }

  sectionCode(name: string): number {
    let code = this.sectionCodes.get(name);
    if (code === undefined) {
      code = this.sectionNames.length;
      if (code > 255) throw new Error('too many config dump sections');
      this.sectionNames.push(name);
      this.sectionCodes.set(name, code);
    }
    return code;
  }

  private newCapture(pathId: number, flags: number, len: number): number {
    const c = this.capCount;
    if (c === this.capPath.length) {
      this.capPath = grow(this.capPath);
      this.capFlags = grow(this.capFlags);
      this.capStart = grow(this.capStart);
      this.capLen = grow(this.capLen);
    }
    if (this.heapUsed + len > this.heap.length) {
      const heap = Buffer.alloc(Math.max(this.heap.length * 2, this.heapUsed + len));
      this.heap.copy(heap, 0, 0, this.heapUsed);
      this.heap = heap;
    }
    this.capPath[c] = pathId;
    this.capFlags[c] = flags;
    this.capStart[c] = this.heapUsed;
    this.capLen[c] = len;
    this.heapUsed += len;
    this.capCount = c + 1;
    return c;
  }

  /** A capture whose value is `src[start, end)`: a string's UTF-8 (no escapes) or a number's or literal's text. */
  addCaptureBytes(pathId: number, src: Uint8Array, start: number, end: number, isString: boolean): void {
    const c = this.newCapture(pathId, isString ? CAP_STRING : 0, end - start);
    this.heap.set(src.subarray(start, end), this.capStart[c]!);
  }

  /** A capture given as text (a decoded string, or a number's or literal's JSON text). */
  addCaptureText(pathId: number, text: string, isString: boolean): void {
    const len = Buffer.byteLength(text);
    const c = this.newCapture(pathId, isString ? CAP_STRING : 0, len);
    this.heap.write(text, this.capStart[c]!, len, 'utf8');
  }

  /** Appends a row whose captures are the ones added since capture index `capStart`. */
  addRow(kind: ResourceKind, section: number, start: number, end: number, capStart: number): void {
    const i = this.size;
    if (i === this.kinds.length) {
      this.kinds = grow(this.kinds);
      this.sections = grow(this.sections);
      this.starts = grow(this.starts);
      this.ends = grow(this.ends);
      const from = new Uint32Array(this.kinds.length + 1);
      from.set(this.capFrom);
      this.capFrom = from;
    }
    this.kinds[i] = KIND_CODE.get(kind)!;
    this.sections[i] = section;
    this.starts[i] = start;
    this.ends[i] = end;
    this.capFrom[i] = capStart;
    this.capFrom[i + 1] = this.capCount;
    this.size = i + 1;
  }
}

function grow<T extends Uint8Array | Uint32Array | Float64Array>(a: T): T {
  const b = new (a.constructor as new (n: number) => T)(a.length * 2);
  b.set(a);
  return b;
}

export interface DumpLayout {
  /** the entries, columnar */
  readonly table: EntryTable;
  /** the entries as objects, materialised on first use (tests and small documents; the engine reads `table`) */
  readonly entries: readonly EntryRef[];
  /** @type of each element of `configs`, in order */
  readonly configTypes: readonly string[];
  /** byte range of each element of `configs` (to copy a dump without some sections) */
  readonly configRanges: readonly { readonly type: string; readonly start: number; readonly end: number }[];
  /** true when the document is a `/clusters?format=json` output */
  readonly isClusterStatus: boolean;
  /** true when the top level is a bare array of resources */
  readonly isBareArray: boolean;
}

// ---- scan nodes ---------------------------------------------------------------------------

type Role = 'root' | 'configs' | 'config' | 'config-type' | 'section' | 'entry' | 'inner' | 'statuses';

/**
 * What a scanned container (or captured value) is. Nodes are shared: the entry or config being
 * built is the visitor's state (entries never nest, and a config holds sections of entries).
 */
interface Node {
  readonly role: Role;
  readonly section?: string;
  /** capture trie position (inside entries) */
  readonly trie?: Trie;
  /** for 'section'/'statuses': the interest in each element */
  elementInterest?: ValueInterest<Node>;
}

interface EntryBuilder {
  start: number;
  section: string;
  kindHint: ResourceKind | undefined;
  keyKind: ResourceKind | undefined;
  /** captures go straight to the table (index of the first); a config element's own captures are held in `held` */
  capStart: number;
  held: { path: number; value: string; isString: boolean }[] | undefined;
}

interface ConfigBuilder {
  type: string | undefined;
  hadSections: boolean;
  /** the element itself, for `?resource=` dumps whose elements are entries */
  self: EntryBuilder;
}

const SKIP: ValueInterest<Node> = { node: undefined, capture: false };
const ROOT: Node = { role: 'root' };
const CONFIGS: Node = { role: 'configs' };
const CONFIG: Node = { role: 'config' };
const CONFIG_TYPE: Node = { role: 'config-type' };
const I_CONFIGS: ValueInterest<Node> = { node: CONFIGS, capture: false };
const I_CONFIG: ValueInterest<Node> = { node: CONFIG, capture: false };
const I_CONFIG_TYPE: ValueInterest<Node> = { node: CONFIG_TYPE, capture: true };
const ENTRY_NODES = new Map<string, Node>();
const SECTION_NODES = new Map<string, ValueInterest<Node>>();

function entryNode(section: string): Node {
  let n = ENTRY_NODES.get(section);
  if (!n) ENTRY_NODES.set(section, (n = { role: 'entry', section, trie: ENTRY_TRIE }));
  return n;
}

function sectionInterest(section: string, role: 'section' | 'statuses' = 'section'): ValueInterest<Node> {
  const key = `${role}:${section}`;
  let i = SECTION_NODES.get(key);
  if (!i) {
    const node: Node = { role, section, elementInterest: { node: entryNode(section), capture: false } };
    SECTION_NODES.set(key, (i = { node, capture: false }));
  }
  return i;
}

function innerInterest(parentTrie: Trie, key: string): ValueInterest<Node> {
  const t = parentTrie.children.get(key);
  if (!t) return SKIP;
  if (!t.interest) {
    t.node = { role: 'inner', trie: t };
    t.interest = { node: t.node, capture: t.capture };
  }
  return t.interest;
}

/** Array elements inside an entry are transparent for captures: the element is the array's own trie position. */
const ELEMENT_INTERESTS = new WeakMap<Node, ValueInterest<Node>>();
function transparent(node: Node): ValueInterest<Node> {
  let i = ELEMENT_INTERESTS.get(node);
  if (!i) ELEMENT_INTERESTS.set(node, (i = { node, capture: node.trie!.capture }));
  return i;
}

class DumpVisitor implements ScanVisitor<Node> {
  /** `resourceSection`: the section a `?resource=` answer's elements belong to ('' when unknown) */
  constructor(private readonly resourceSection: string) {}
  readonly table = new EntryTable();
  readonly configTypes: string[] = [];
  readonly configRanges: { type: string; start: number; end: number }[] = [];
  isClusterStatus = false;
  isBareArray = false;
  /** the config element being scanned */
  private config: ConfigBuilder | undefined;
  /** the section entry being scanned (inside a config's section, a bare array or cluster_statuses) */
  private entry: EntryBuilder | undefined;

  child(parent: Node, rawKey: string): ValueInterest<Node> {
    switch (parent.role) {
      case 'root': {
        const key = snakeKey(rawKey);
        if (key === 'configs') return I_CONFIGS;
        if (key === 'cluster_statuses') {
          this.isClusterStatus = true;
          return sectionInterest('cluster_statuses', 'statuses');
        }
        return SKIP;
      }
      case 'config': {
        const key = snakeKey(rawKey);
        const cfg = this.config!;
        if (key === '@type') return I_CONFIG_TYPE;
        if (SECTION_KIND.has(key)) {
          cfg.hadSections = true;
          return sectionInterest(key);
        }
        noteKey(cfg.self, key);
        return innerInterest(ENTRY_TRIE, key);
      }
      case 'entry': {
        const key = snakeKey(rawKey);
        noteKey(this.entry!, key);
        return innerInterest(parent.trie!, key);
      }
      case 'inner':
        return innerInterest(parent.trie!, snakeKey(rawKey));
      default:
        return SKIP;
    }
  }

  element(parent: Node): ValueInterest<Node> {
    switch (parent.role) {
      case 'root':
        // a top-level array: bare resources (istioctl proxy-config ... -o json)
        this.isBareArray = true;
        return sectionInterest('').node!.elementInterest!;
      case 'configs':
        return I_CONFIG;
      case 'section':
      case 'statuses':
        return parent.elementInterest!;
      case 'inner':
        // arrays inside an entry are transparent for captures
        return transparent(parent);
      default:
        return SKIP;
    }
  }

  open(node: Node, offset: number, isArray: boolean): void {
    if (isArray) return;
    if (node.role === 'config') {
      this.config = { type: undefined, hadSections: false, self: this.newEntry(offset, this.resourceSection, SECTION_KIND.get(this.resourceSection), true) };
    } else if (node.role === 'entry') {
      const section = node.section!;
      const hint = section === 'cluster_statuses' ? 'cluster_status' : SECTION_KIND.get(section);
      this.entry = this.newEntry(offset, section, hint, false);
    }
  }

  close(node: Node, end: number, isArray: boolean): void {
    if (isArray) return;
    if (node.role === 'config') {
      const cfg = this.config!;
      this.configTypes.push(cfg.type ?? '');
      this.configRanges.push({ type: cfg.type ?? '', start: cfg.self.start, end });
      if (!cfg.hadSections && (cfg.self.keyKind || cfg.self.kindHint)) this.finishEntry(cfg.self, end);
      this.config = undefined;
    } else if (node.role === 'entry') {
      this.finishEntry(this.entry!, end);
      this.entry = undefined;
    }
  }

  string(node: Node, value: string): void {
    if (node.role === 'config-type') {
      this.config!.type = value;
      return;
    }
    this.capture(node, value, true);
  }

  primitive(node: Node, raw: string): void {
    if (node.role === 'config-type') {
      // a non-string @type: as JSON.parse would give it, then String()
      this.config!.type = String(JSON.parse(raw) as unknown);
      return;
    }
    this.capture(node, raw, false);
  }

  stringBytes(node: Node, buf: Buffer, start: number, end: number): void {
    if (node.role !== 'inner' || this.entry === undefined) {
      this.string(node, buf.toString('utf8', start, end));
      return;
    }
    if (node.trie!.capture) this.table.addCaptureBytes(node.trie!.id, buf, start, end, true);
  }

  primitiveBytes(node: Node, buf: Buffer, start: number, end: number): void {
    if (node.role !== 'inner' || this.entry === undefined) {
      this.primitive(node, buf.toString('latin1', start, end));
      return;
    }
    if (node.trie!.capture) this.table.addCaptureBytes(node.trie!.id, buf, start, end, false);
  }

  private capture(node: Node, value: string, isString: boolean): void {
    if (node.role !== 'inner' || !node.trie!.capture) return;
    const target = this.entry ?? this.config?.self;
    if (!target) return;
    if (target.held) target.held.push({ path: node.trie!.id, value, isString });
    else this.table.addCaptureText(node.trie!.id, value, isString);
  }

  private newEntry(start: number, section: string, kindHint: ResourceKind | undefined, hold: boolean): EntryBuilder {
    return { start, section, kindHint, keyKind: undefined, capStart: this.table.capCount, held: hold ? [] : undefined };
  }

  private finishEntry(entry: EntryBuilder, end: number): void {
    const kind = entry.kindHint ?? entry.keyKind ?? 'unknown';
    let capStart = entry.capStart;
    if (entry.held) {
      capStart = this.table.capCount;
      for (const h of entry.held) this.table.addCaptureText(h.path, h.value, h.isString);
    }
    this.table.addRow(kind, this.table.sectionCode(entry.section), entry.start, end, capStart);
  }
}

function noteKey(entry: EntryBuilder, key: string): void {
  if (entry.keyKind !== undefined) return;
  const kind = KIND_BY_KEY.get(key);
  if (kind) entry.keyKind = kind;
}

function layoutOf(v: DumpVisitor): DumpLayout {
  const table = v.table;
  let entries: EntryRef[] | undefined;
  const layout: Omit<DumpLayout, 'table'> = {
    get entries(): readonly EntryRef[] {
      entries ??= Array.from({ length: table.size }, (_, i) => table.row(i));
      return entries;
    },
    configTypes: v.configTypes,
    configRanges: v.configRanges,
    isClusterStatus: v.isClusterStatus,
    isBareArray: v.isBareArray,
  };
  // The table is storage, not content: `entries` is its content as data (what equality and
  // printing look at); the table's arrays carry spare capacity. Not enumerable, so a copy or a
  // deep comparison of a layout sees the entries.
  Object.defineProperty(layout, 'table', { value: table, enumerable: false });
  return layout as DumpLayout;
}

/** Incremental indexer: feed chunks in order, then call finish(). */
export class DumpIndexer {
  /**
   * `defaultSection`: the config-dump section of a `?resource=` answer, whose elements do not say
   * which section they came from (a DynamicCluster may be active or warming).
   */
  constructor(defaultSection = '') {
    this.visitor = new DumpVisitor(defaultSection);
    this.scanner = new JsonStructureScanner<Node>(this.visitor, ROOT);
  }
  private readonly visitor: DumpVisitor;
  private readonly scanner: JsonStructureScanner<Node>;

  push(chunk: Buffer): void {
    this.scanner.push(chunk);
  }

  /** Throws JsonSyntaxError on truncated or malformed input. */
  finish(): DumpLayout {
    this.scanner.end();
    return layoutOf(this.visitor);
  }
}
