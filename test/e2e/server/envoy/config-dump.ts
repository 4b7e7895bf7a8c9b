/**
 * Envoy admin `/config_dump` query emulation: include_eds, resource, mask, name_regex, with Envoy's
 * ordering, filtering and error responses. Rules and source quotes: /work/notes/ENVOY_ADMIN_CONFIG_DUMP.md.
 * Pure: JSON in, response out.
 */
import { SCHEMA, fieldOf, isObject, typeNameOf, type FieldDesc } from './schema.js';

export interface ConfigDump {
  configs: Record<string, unknown>[];
}

export interface AdminResponse {
  status: number;
  contentType: string;
  body: string;
  headers?: Record<string, string>;
}

export interface ConfigDumpQueryOptions {
  /**
   * Protobuf < 22 split FieldMask paths skipping empty pieces, so `?resource=dynamic_active_clusters&mask=cluster`
   * (inner path "") was accepted; modern Envoy answers 400. Default false (modern).
   */
  legacyEmptyInnerMaskPath?: boolean;
  /**
   * Query parameters this Envoy predates. The admin handler only reads the parameters it knows, so
   * an older Envoy answers as if they were absent (e.g. the full dump for ?resource=…&mask=…).
   */
  unsupportedParams?: readonly ('resource' | 'mask' | 'name_regex' | 'include_eds')[];
}

const TEXT = 'text/plain; charset=UTF-8';
const JSON_CT = 'application/json';
const A = 'envoy.admin.v3.';

/** ConfigTracker keys; the admin handler walks a std::map, so output is in key order. */
const TRACKER_KEY: Record<string, string> = {
  BootstrapConfigDump: 'bootstrap',
  ClustersConfigDump: 'clusters',
  EcdsConfigDump: 'ecds_filter',
  EndpointsConfigDump: 'endpoint',
  ListenersConfigDump: 'listeners',
  ScopedRoutesConfigDump: 'route_scopes',
  RoutesConfigDump: 'routes',
  SecretsConfigDump: 'secrets',
};

/** Trackers a running sidecar always has, even if a captured dump file lacks their section. */
const ALWAYS_REGISTERED = ['BootstrapConfigDump', 'ClustersConfigDump', 'ListenersConfigDump', 'ScopedRoutesConfigDump', 'RoutesConfigDump', 'SecretsConfigDump'];

interface Tracker {
  key: string;
  /** Full proto type name, e.g. envoy.admin.v3.ListenersConfigDump. */
  type: string;
  message: Record<string, unknown>;
}

/** Envoy's `QueryParamsMulti::parseAndDecodeQueryString`: `%XX` decoded, `+` left alone, bare keys get "". */
export function parseEnvoyQuery(query: string, decode = true): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const q = query.startsWith('?') ? query.slice(1) : query;
  if (q === '') return out;
  for (const part of q.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const rawK = eq >= 0 ? part.slice(0, eq) : part;
    const rawV = eq >= 0 ? part.slice(eq + 1) : '';
    const k = decode ? percentDecode(rawK) : rawK;
    const v = decode ? percentDecode(rawV) : rawV;
    const list = out.get(k);
    if (list) list.push(v);
    else out.set(k, [v]);
  }
  return out;
}

function percentDecode(s: string): string {
  // Envoy's PercentEncoding::decode leaves malformed escapes as they are instead of failing.
  const bytes: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x25 && i + 2 < s.length && /^[0-9a-fA-F]{2}$/.test(s.slice(i + 1, i + 3))) {
      bytes.push(parseInt(s.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      for (const b of Buffer.from(s[i] ?? '', 'utf8')) bytes.push(b);
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

/** Compiles an RE2 pattern into a full-match JS RegExp, or returns RE2's error text. */
export function compileRe2FullMatch(re: string): RegExp | { error: string } {
  // RE2 rejects Perl look-around and back-references that JS would accept.
  const perl = /\(\?(<=|<!|=|!|>)/.exec(re);
  if (perl) return { error: `invalid perl operator: (?${perl[1]}` };
  const esc = /\\([1-9Z])/.exec(re);
  if (esc) return { error: `invalid escape sequence: \\${esc[1]}` };
  let js = re
    .replace(/\(\?P</g, '(?<')
    .replace(/\\A/g, '^')
    .replace(/\\z/g, '$')
    .replace(/\\Q(.*?)(\\E|$)/g, (_m, lit: string) => lit.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&'));
  const posix: Record<string, string> = {
    alpha: 'a-zA-Z', digit: '0-9', alnum: '0-9A-Za-z', upper: 'A-Z', lower: 'a-z', space: '\\t\\n\\v\\f\\r ',
    xdigit: '0-9A-Fa-f', word: '0-9A-Za-z_', punct: '!-/:-@[-`{-~',
  };
  js = js.replace(/\[:(\w+):\]/g, (m, n: string) => posix[n] ?? m);
  try {
    return new RegExp(`^(?:${js})$`);
  } catch (e) {
    const msg = (e as Error).message;
    if (/Unterminated character class/.test(msg)) return { error: `missing ]: ${re.slice(re.indexOf('['))}` };
    if (/Unterminated group/.test(msg)) return { error: `missing ): ${re}` };
    if (/Unmatched '\)'/.test(msg)) return { error: `unexpected ): ${re}` };
    if (/Nothing to repeat/.test(msg)) return { error: `missing argument to repetition operator: ${/[*+?{]/.exec(re)?.[0] ?? '*'}` };
    return { error: msg.replace(/^Invalid regular expression: /, '') };
  }
}

function text(status: number, body: string): AdminResponse {
  return { status, contentType: TEXT, body, headers: { 'x-content-type-options': 'nosniff' } };
}

/** Pretty JSON the way `getJsonStringFromMessageOrError(dump, true)` prints it: 1-space indent, trailing newline. */
export function envoyJson(value: unknown): string {
  return `${JSON.stringify(value, null, 1)}\n`;
}

/** Answers `GET /config_dump?<query>` for a pod whose configuration is `dump`. */
export function configDumpResponse(dump: ConfigDump, query: string, opts: ConfigDumpQueryOptions = {}): AdminResponse {
  const params = parseEnvoyQuery(query);
  for (const p of opts.unsupportedParams ?? []) params.delete(p);
  const first = (k: string): string | undefined => params.get(k)?.[0];
  // Empty resource/mask count as absent (envoy PR #33044); include_eds counts by presence.
  const resource = first('resource') || undefined;
  const mask = first('mask') || undefined;
  const includeEds = params.has('include_eds');
  const nameRegex = first('name_regex');

  let match: (name: string) => boolean = () => true;
  if (nameRegex) {
    const re = compileRe2FullMatch(nameRegex);
    if (!(re instanceof RegExp)) return text(400, `INVALID_ARGUMENT: Error while parsing name_regex from ${nameRegex}: ${re.error}`);
    match = (name) => re.test(name);
  }

  const trackers = buildTrackers(dump, includeEds, resource !== undefined);
  for (const t of trackers) filterByName(t, match);

  if (resource !== undefined) return resourceResponse(trackers, resource, mask, opts);

  const configs: Record<string, unknown>[] = [];
  const maskPaths = mask !== undefined ? splitMask(mask) : undefined;
  for (const t of trackers) {
    if (maskPaths) {
      // Invalid for this dump type: skipped, not an error (different dumps take different masks).
      if (!maskPaths.every((p) => validPath(t.type, p, t.message))) continue;
      trim(t.message, buildTree(maskPaths));
    }
    configs.push({ '@type': `type.googleapis.com/${t.type}`, ...t.message });
  }
  if (configs.length === 0 && mask !== undefined) {
    return text(400, `FieldMask ${mask} could not be successfully applied to any configs.`);
  }
  return { status: 200, contentType: JSON_CT, body: envoyJson(configs.length ? { configs } : {}) };
}

function buildTrackers(dump: ConfigDump, includeEds: boolean, forResource: boolean): Tracker[] {
  const out: Tracker[] = [];
  let clusters: Record<string, unknown> | undefined;
  let eds: Tracker | undefined;
  for (const c of dump.configs ?? []) {
    const type = typeNameOf(c['@type']);
    if (!type) continue;
    const short = type.slice(type.lastIndexOf('.') + 1);
    const { '@type': _t, ...rest } = structuredClone(c);
    void _t;
    // v2alpha dumps are served under their own type but ordered like v3.
    const t: Tracker = { key: TRACKER_KEY[short] ?? short.toLowerCase(), type, message: rest };
    if (short === 'ClustersConfigDump') clusters = rest;
    if (short === 'EndpointsConfigDump') {
      eds = t;
      continue;
    }
    out.push(t);
  }
  if (forResource) {
    for (const short of ALWAYS_REGISTERED) {
      if (!out.some((t) => t.type.endsWith(`.${short}`))) out.push({ key: TRACKER_KEY[short] ?? short, type: `${A}${short}`, message: {} });
    }
  }
  // The "endpoint" tracker exists only with include_eds and at least one active cluster.
  const active = [...arr(clusters?.static_clusters), ...arr(clusters?.dynamic_active_clusters)];
  if (includeEds && active.length > 0) {
    out.push(eds ?? { key: 'endpoint', type: `${A}EndpointsConfigDump`, message: synthesizeEds(clusters ?? {}) });
  }
  // Stable sort: same-key trackers (several ECDS categories) keep the dump's order.
  return out.map((t, i) => ({ t, i })).sort((a, b) => (a.t.key < b.t.key ? -1 : a.t.key > b.t.key ? 1 : a.i - b.i)).map((x) => x.t);
}

/** What dumpEndpointConfigs would print when the captured dump has no EDS section: names, no hosts. */
function synthesizeEds(clusters: Record<string, unknown>): Record<string, unknown> {
  const cla = (wrapper: unknown): Record<string, unknown> => {
    const c = isObject(wrapper) && isObject(wrapper.cluster) ? wrapper.cluster : {};
    const edsName = isObject(c.eds_cluster_config) ? c.eds_cluster_config.service_name : undefined;
    const la = isObject(c.load_assignment) ? c.load_assignment : undefined;
    return {
      endpoint_config: {
        '@type': 'type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment',
        cluster_name: typeof edsName === 'string' && edsName ? edsName : (c.name ?? ''),
        ...(la && Array.isArray(la.endpoints) ? { endpoints: la.endpoints } : {}),
        policy: { overprovisioning_factor: 140 },
      },
    };
  };
  const out: Record<string, unknown> = {};
  const st = arr(clusters.static_clusters).map(cla);
  const dy = arr(clusters.dynamic_active_clusters).map(cla);
  if (st.length) out.static_endpoint_configs = st;
  if (dy.length) out.dynamic_endpoint_configs = dy;
  return out;
}

function arr(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

function nameIn(v: unknown, ...path: string[]): string {
  let cur: unknown = v;
  for (const p of path) cur = isObject(cur) ? cur[p] : undefined;
  return typeof cur === 'string' ? cur : '';
}

/** Each tracker applies the matcher to its own notion of a resource name (see the notes). */
function filterByName(t: Tracker, match: (n: string) => boolean): void {
  const m = t.message;
  const keep = (field: string, name: (e: unknown) => string): void => {
    if (Array.isArray(m[field])) m[field] = (m[field] as unknown[]).filter((e) => match(name(e)));
  };
  const short = t.type.slice(t.type.lastIndexOf('.') + 1);
  switch (short) {
    case 'ClustersConfigDump':
      for (const f of ['static_clusters', 'dynamic_active_clusters', 'dynamic_warming_clusters']) keep(f, (e) => nameIn(e, 'cluster', 'name'));
      break;
    case 'EndpointsConfigDump':
      for (const f of ['static_endpoint_configs', 'dynamic_endpoint_configs']) keep(f, (e) => nameIn(e, 'endpoint_config', 'cluster_name'));
      break;
    case 'ListenersConfigDump':
      keep('static_listeners', (e) => nameIn(e, 'listener', 'name'));
      if (Array.isArray(m.dynamic_listeners)) {
        // LDS error states are listed whatever the matcher says; the listener states are filtered.
        m.dynamic_listeners = (m.dynamic_listeners as unknown[]).flatMap((e) => {
          if (!isObject(e)) return [];
          if (typeof e.name !== 'string' || match(e.name)) return [e];
          return e.error_state !== undefined ? [{ name: e.name, error_state: e.error_state }] : [];
        });
      }
      break;
    case 'RoutesConfigDump':
      for (const f of ['static_route_configs', 'dynamic_route_configs']) keep(f, (e) => nameIn(e, 'route_config', 'name'));
      break;
    case 'ScopedRoutesConfigDump':
      for (const f of ['inline_scoped_route_configs', 'dynamic_scoped_route_configs']) {
        for (const c of arr(m[f])) if (isObject(c) && Array.isArray(c.scoped_route_configs)) c.scoped_route_configs = c.scoped_route_configs.filter((s) => match(nameIn(s, 'name')));
      }
      break;
    case 'SecretsConfigDump':
      for (const f of ['static_secrets', 'dynamic_active_secrets', 'dynamic_warming_secrets']) keep(f, (e) => nameIn(e, 'name'));
      break;
    case 'EcdsConfigDump':
      keep('ecds_filters', (e) => nameIn(e, 'ecds_filter', 'name'));
      break;
    default:
      break;
  }
  // Proto3 JSON drops empty repeated fields.
  for (const [k, v] of Object.entries(m)) if (Array.isArray(v) && v.length === 0) delete m[k];
}

function splitMask(mask: string): string[] {
  return mask.split(',').filter((p) => p !== '');
}

function resourceResponse(trackers: Tracker[], resource: string, mask: string | undefined, opts: ConfigDumpQueryOptions): AdminResponse {
  for (const t of trackers) {
    const fd = fieldOf(SCHEMA[t.type] ? t.type : undefined, resource, t.message);
    if (!fd || (!SCHEMA[t.type] && t.message[resource] === undefined)) continue;
    if (!fd.repeated) return text(400, `${resource} is not a repeated field. Use ?mask=${resource} to get only this field`);
    const paths = mask !== undefined ? splitMask(mask) : undefined;
    const configs: Record<string, unknown>[] = [];
    for (const el of arr(t.message[resource])) {
      if (!isObject(el)) continue;
      if (paths && !trimResource(fd.type, el, paths, opts)) {
        return text(400, `FieldMask ${paths.map((p) => `paths: "${p.replace(/[\\"]/g, '\\$&')}"\n`).join('')} could not be successfully used.`);
      }
      configs.push(fd.type ? { '@type': `type.googleapis.com/${fd.type}`, ...el } : el);
    }
    return { status: 200, contentType: JSON_CT, body: envoyJson(configs.length ? { configs } : {}) };
  }
  return text(404, `${resource} not found in config dump`);
}

/** trimResourceMessage: paths starting with the element's singular Any field are applied inside the Any. */
function trimResource(type: string | undefined, el: Record<string, unknown>, paths: string[], opts: ConfigDumpQueryOptions): boolean {
  const outer: string[] = [];
  const inner: string[] = [];
  let anyField: string | undefined;
  for (const p of paths) {
    const frags = p.split('.');
    const head = frags[0] ?? '';
    const fd = type ? SCHEMA[type]?.[head] : undefined;
    if (fd && fd.kind === 'any' && !fd.repeated) {
      anyField ??= head;
      outer.push(head);
      inner.push(frags.slice(1).join('.'));
    } else {
      outer.push(p);
    }
  }
  if (anyField !== undefined && isObject(el[anyField])) {
    const packed = el[anyField] as Record<string, unknown>;
    const innerType = typeNameOf(packed['@type']);
    const innerPaths = opts.legacyEmptyInnerMaskPath ? inner.filter((p) => p !== '') : inner;
    if (!innerPaths.every((p) => validPath(innerType, p, packed))) return false;
    if (innerPaths.length > 0) trim(packed, buildTree(innerPaths));
  }
  if (!outer.every((p) => validPath(type, p, el))) return false;
  trim(el, buildTree(outer));
  return true;
}

/** FieldMaskUtil::GetFieldDescriptors: each step names a field; only singular messages can be descended into. */
function validPath(type: string | undefined, path: string, data: unknown): boolean {
  // absl::StrSplit without SkipEmpty: "" and "a..b" contain an empty component, which names no field.
  let curType: string | undefined = type;
  let curData: unknown = data;
  let canDescend = true;
  for (const part of path.split('.')) {
    if (!canDescend) return false;
    const fd: FieldDesc | null = fieldOf(curType, part, curData);
    if (!fd) return false;
    if (!fd.repeated && fd.kind === 'message') {
      curType = fd.type;
      curData = isObject(curData) ? curData[part] : undefined;
    } else if (!fd.repeated && fd.kind === 'any') {
      // Envoy's JSON shows the packed message, but the descriptor is google.protobuf.Any.
      curType = 'google.protobuf.Any';
      curData = undefined;
    } else {
      canDescend = false;
    }
  }
  return true;
}

type Tree = Map<string, Tree | null>;

/** FieldMaskTree: a shorter path covers any longer one below it. */
function buildTree(paths: string[]): Tree {
  const root: Tree = new Map();
  for (const p of paths) {
    const parts = p.split('.');
    let node: Tree = root;
    for (let i = 0; i < parts.length; i++) {
      const part = parts[i] ?? '';
      const last = i === parts.length - 1;
      const existing = node.get(part);
      if (existing === null) break;
      if (last) {
        node.set(part, null);
        break;
      }
      const next: Tree = existing ?? new Map();
      node.set(part, next);
      node = next;
    }
  }
  return root;
}

/** FieldMaskTree::TrimMessage on proto3 JSON (keeps an Any's "@type"). */
function trim(obj: Record<string, unknown>, tree: Tree): void {
  for (const key of Object.keys(obj)) {
    if (key === '@type') continue;
    if (!tree.has(key)) {
      delete obj[key];
      continue;
    }
    const sub = tree.get(key);
    const v = obj[key];
    // Well-known types (Timestamp, Duration, wrappers) print as scalars; their sub-masks keep them whole.
    if (sub && isObject(v)) trim(v, sub);
  }
}
