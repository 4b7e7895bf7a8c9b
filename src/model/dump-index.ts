/**
 * Index of an Envoy admin `/config_dump` (or `/clusters?format=json`) document.
 *
 * The index records, for every resource entry, where its bytes are and a handful of small
 * fields (name, listen address, cluster name) captured while scanning. Resources are parsed
 * only when the engine asks for them, so a trace of a huge dump parses one listener, one route
 * configuration and one cluster instead of everything.
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

/** Where a listener / cluster / ... entry sits and what was captured about it. */
export interface EntryRef {
  readonly kind: ResourceKind;
  /** the config-dump section it came from, e.g. "dynamic_listeners", "static_clusters" ("" for bare resources) */
  readonly section: string;
  readonly start: number;
  readonly end: number;
  /** captured primitives by relative path (snake_case, array levels elided), raw JSON text */
  readonly captures: ReadonlyMap<string, readonly string[]>;
}

export interface DumpLayout {
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

// ---- capture trie -------------------------------------------------------------------------

interface Trie {
  readonly children: Map<string, Trie>;
  capture: boolean;
  path: string;
}

function trie(path = ''): Trie {
  return { children: new Map(), capture: false, path };
}

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
  node.capture = true;
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

// ---- scan nodes ---------------------------------------------------------------------------

type Role = 'root' | 'configs' | 'config' | 'config-type' | 'section' | 'entry' | 'inner' | 'statuses';

/** One node per scanned container of interest; entry/config nodes are fresh per element. */
interface Node {
  readonly role: Role;
  readonly section?: string;
  /** capture trie position (entries and inside them) */
  readonly trie?: Trie;
  /** the entry being built; set when its object opens */
  entry?: EntryBuilder;
  /** for config elements */
  config?: ConfigBuilder;
}

interface EntryBuilder {
  start: number;
  section: string;
  kindHint: ResourceKind | undefined;
  keyKind: ResourceKind | undefined;
  captures: Map<string, string[]>;
}

interface ConfigBuilder {
  type: string | undefined;
  hadSections: boolean;
  /** the element itself, for `?resource=` dumps whose elements are entries */
  self: EntryBuilder;
}

const SKIP: ValueInterest<Node> = { node: undefined, capture: false };

class DumpVisitor implements ScanVisitor<Node> {
  /** `resourceSection`: the section a `?resource=` answer's elements belong to ('' when unknown) */
  constructor(private readonly resourceSection: string) {}
  readonly entries: EntryRef[] = [];
  readonly configTypes: string[] = [];
  readonly configRanges: { type: string; start: number; end: number }[] = [];
  isClusterStatus = false;
  isBareArray = false;

  child(parent: Node, rawKey: string): ValueInterest<Node> {
    const key = snakeKey(rawKey);
    switch (parent.role) {
      case 'root':
        if (key === 'configs') return { node: { role: 'configs' }, capture: false };
        if (key === 'cluster_statuses') {
          this.isClusterStatus = true;
          return { node: { role: 'statuses', section: 'cluster_statuses' }, capture: false };
        }
        return SKIP;
      case 'config': {
        const cfg = parent.config!;
        if (key === '@type') return { node: { role: 'config-type', config: cfg }, capture: true };
        if (SECTION_KIND.has(key)) {
          cfg.hadSections = true;
          return { node: { role: 'section', section: key }, capture: false };
        }
        noteKey(cfg.self, key);
        return innerInterest(ENTRY_TRIE, key, cfg.self);
      }
      case 'entry':
        noteKey(parent.entry!, key);
        return innerInterest(parent.trie!, key, parent.entry!);
      case 'inner':
        return innerInterest(parent.trie!, key, parent.entry!);
      default:
        return SKIP;
    }
  }

  element(parent: Node): ValueInterest<Node> {
    switch (parent.role) {
      case 'root':
        // a top-level array: bare resources (istioctl proxy-config ... -o json)
        this.isBareArray = true;
        return { node: { role: 'entry', section: '', trie: ENTRY_TRIE }, capture: false };
      case 'configs':
        return { node: { role: 'config' }, capture: false };
      case 'section':
      case 'statuses':
        return { node: { role: 'entry', section: parent.section!, trie: ENTRY_TRIE }, capture: false };
      case 'inner':
        // arrays inside an entry are transparent for captures
        return { node: parent, capture: parent.trie!.capture };
      default:
        return SKIP;
    }
  }

  open(node: Node, offset: number, isArray: boolean): void {
    if (isArray) return;
    if (node.role === 'config' && !node.config) {
      node.config = { type: undefined, hadSections: false, self: newEntry(offset, this.resourceSection, SECTION_KIND.get(this.resourceSection)) };
    } else if (node.role === 'entry' && !node.entry) {
      const section = node.section ?? '';
      const hint = section === 'cluster_statuses' ? 'cluster_status' : SECTION_KIND.get(section);
      node.entry = newEntry(offset, section, hint);
    }
  }

  close(node: Node, end: number, isArray: boolean): void {
    if (isArray) return;
    if (node.role === 'config' && node.config) {
      const cfg = node.config;
      this.configTypes.push(cfg.type ?? '');
      this.configRanges.push({ type: cfg.type ?? '', start: cfg.self.start, end });
      if (!cfg.hadSections && (cfg.self.keyKind || cfg.self.kindHint)) this.finishEntry(cfg.self, end);
    } else if (node.role === 'entry' && node.entry) {
      this.finishEntry(node.entry, end);
    }
  }

  primitive(node: Node, raw: string): void {
    if (node.role === 'config-type') {
      node.config!.type = JSON.parse(raw) as string;
      return;
    }
    if (node.role !== 'inner' || !node.trie?.capture) return;
    const captures = node.entry!.captures;
    let list = captures.get(node.trie.path);
    if (!list) captures.set(node.trie.path, (list = []));
    list.push(raw);
  }

  private finishEntry(entry: EntryBuilder, end: number): void {
    const kind = entry.kindHint ?? entry.keyKind ?? 'unknown';
    this.entries.push({ kind, section: entry.section, start: entry.start, end, captures: entry.captures });
  }
}

function newEntry(start: number, section: string, kindHint: ResourceKind | undefined): EntryBuilder {
  return { start, section, kindHint, keyKind: undefined, captures: new Map() };
}

function noteKey(entry: EntryBuilder, key: string): void {
  const kind = KIND_BY_KEY.get(key);
  if (kind && entry.keyKind === undefined) entry.keyKind = kind;
}

function innerInterest(parentTrie: Trie, key: string, entry: EntryBuilder): ValueInterest<Node> {
  const t = parentTrie.children.get(key);
  if (!t) return SKIP;
  return { node: { role: 'inner', trie: t, entry }, capture: t.capture };
}

/** Incremental indexer: feed chunks in order, then call finish(). */
export class DumpIndexer {
  /**
   * `defaultSection`: the config-dump section of a `?resource=` answer, whose elements do not say
   * which section they came from (a DynamicCluster may be active or warming).
   */
  constructor(defaultSection = '') {
    this.visitor = new DumpVisitor(defaultSection);
    this.scanner = new JsonStructureScanner<Node>(this.visitor, { role: 'root' });
  }
  private readonly visitor: DumpVisitor;
  private readonly scanner: JsonStructureScanner<Node>;

  push(chunk: Buffer): void {
    this.scanner.push(chunk);
  }

  /** Throws JsonSyntaxError on truncated or malformed input. */
  finish(): DumpLayout {
    this.scanner.end();
    return {
      entries: this.visitor.entries,
      configTypes: this.visitor.configTypes,
      configRanges: this.visitor.configRanges,
      isClusterStatus: this.visitor.isClusterStatus,
      isBareArray: this.visitor.isBareArray,
    };
  }
}
