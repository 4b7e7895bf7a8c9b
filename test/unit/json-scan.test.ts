import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DumpIndexer, type DumpLayout, type EntryRef } from '../../src/model/dump-index.js';
import { JsonStructureScanner, JsonSyntaxError, type ScanVisitor, type ValueInterest } from '../../src/model/json-scan.js';

// ---- helpers ------------------------------------------------------------------------------

/** Splits a buffer into chunks whose sizes cycle through `sizes` (one chunk when empty). */
function split(buf: Buffer, sizes: readonly number[] = []): Buffer[] {
  if (sizes.length === 0) return [buf];
  const out: Buffer[] = [];
  let pos = 0;
  for (let i = 0; pos < buf.length; i++) {
    const n = Math.max(1, sizes[i % sizes.length]!);
    out.push(buf.subarray(pos, pos + n));
    pos += n;
  }
  return out;
}

const SKIP: ValueInterest<object> = { node: undefined, capture: false };
/**
 * A visitor interested in nothing below the top-level container: nested containers are skipped
 * (json-scan.ts: only brackets and strings are tracked there, truncation is still detected).
 */
const quiet: ScanVisitor<object> = { child: () => SKIP, element: () => SKIP };
/** A visitor interested in everything: the scanner validates the full grammar. */
const validating: ScanVisitor<object> = {
  child: () => ({ node: {}, capture: true }),
  element: () => ({ node: {}, capture: true }),
};

function scanText(doc: string | Buffer, sizes: readonly number[] | undefined, visitor: ScanVisitor<object>): void {
  const s = new JsonStructureScanner<object>(visitor, {});
  for (const c of split(Buffer.isBuffer(doc) ? doc : Buffer.from(doc), sizes)) s.push(c);
  s.end();
}

/** The JsonSyntaxError a document raises, or undefined if it is accepted; any other error fails the test. */
function scanError(doc: string | Buffer, sizes?: readonly number[], visitor: ScanVisitor<object> = validating): JsonSyntaxError | undefined {
  try {
    scanText(doc, sizes, visitor);
    return undefined;
  } catch (e) {
    if (e instanceof JsonSyntaxError) return e;
    throw e;
  }
}

function jsonParses(doc: string): boolean {
  try {
    JSON.parse(doc);
    return true;
  } catch {
    return false;
  }
}

function index(doc: string | Buffer, sizes?: readonly number[]): DumpLayout {
  const ix = new DumpIndexer();
  for (const c of split(Buffer.isBuffer(doc) ? doc : Buffer.from(doc), sizes)) ix.push(c);
  return ix.finish();
}

/** A layout as plain data, for equality checks. */
function plain(l: DumpLayout): unknown {
  return {
    ...l,
    entries: l.entries.map((e) => ({ ...e, captures: [...e.captures.entries()].sort(([a], [b]) => (a < b ? -1 : 1)) })),
  };
}

function slice(doc: string | Buffer, e: EntryRef): unknown {
  const buf = Buffer.isBuffer(doc) ? doc : Buffer.from(doc);
  return JSON.parse(buf.subarray(e.start, e.end).toString('utf8'));
}

/** Captured raw JSON values, parsed. */
function captured(e: EntryRef, path: string): unknown[] | undefined {
  return e.captures.get(path)?.map((raw) => JSON.parse(raw) as unknown);
}

/** Deterministic PRNG (mulberry32) so that properties can draw many small choices from one seed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * JSON text of a value with random whitespace between tokens and some string characters written
 * as \uXXXX escapes (keys included).
 */
function serialize(v: unknown, rnd: () => number, opts: { escapes?: boolean; whitespace?: readonly string[] } = {}): string {
  const wsChoices = opts.whitespace ?? ['', '', '', ' ', '\n  ', '\t', '\r\n'];
  const ws = (): string => wsChoices[Math.floor(rnd() * wsChoices.length)]!;
  const str = (s: string): string => {
    let out = '"';
    for (const ch of s) {
      if (opts.escapes && rnd() < 0.2) {
        for (let i = 0; i < ch.length; i++) out += `\\u${ch.charCodeAt(i).toString(16).padStart(4, '0')}`;
      } else out += JSON.stringify(ch).slice(1, -1);
    }
    return `${out}"`;
  };
  const go = (x: unknown): string => {
    if (x === null || typeof x === 'number' || typeof x === 'boolean') return JSON.stringify(x);
    if (typeof x === 'string') return str(x);
    if (Array.isArray(x)) return `[${ws()}${x.map((e) => `${ws()}${go(e)}${ws()}`).join(',')}${ws()}]`;
    const entries = Object.entries(x as Record<string, unknown>);
    return `{${ws()}${entries.map(([k, e]) => `${ws()}${str(k)}${ws()}:${ws()}${go(e)}${ws()}`).join(',')}${ws()}}`;
  };
  return go(v);
}

/** Normalises a value the way a JSON round trip does (-0 becomes 0). */
function roundTrip(v: unknown): unknown {
  return JSON.parse(JSON.stringify(v));
}

// ---- scanner: validation ------------------------------------------------------------------

describe('JsonStructureScanner accepts JSON', () => {
  it.each([
    '{}',
    '[]',
    '0',
    '-0',
    '-1.5e+10',
    '1E-2',
    '123',
    '"x"',
    '""',
    'true',
    'false',
    'null',
    '{"a":[1,{"b":null}],"c":"\\"}\\\\"}',
    ' \n\t\r{ "a" : [ 1 , 2 ] } \n',
    '[[[[[]]]]]',
    '{"日本":"😀","é":"\\u00e9"}',
  ])('%s', (doc) => {
    expect(jsonParses(doc)).toBe(true);
    for (const visitor of [validating, quiet]) {
      expect(scanError(doc, [], visitor)).toBeUndefined();
      expect(scanError(doc, [1], visitor)).toBeUndefined();
    }
  });
});

describe('JsonStructureScanner (validating visitor) rejects invalid JSON with a JsonSyntaxError at the right offset', () => {
  it.each([
    // [document, offset of the error]
    ['', 0],
    ['   ', 3],
    ['{', 1],
    ['[1,2', 4],
    ['{"a":1', 6],
    ['{"a":"x', 7],
    ['{} x', 3],
    ['{}}', 2],
    ['[] []', 3],
    ['1 2', 2],
    ['{"a":1}]', 7],
    ['"a" "b"', 4],
    ['tru', 0],
    ['nul', 0],
    ['True', 0],
    ['nulll', 0],
    ['[truex]', 1],
    ['01', 0],
    ['1.', 0],
    ['.5', 0],
    ['-', 0],
    ['+1', 0],
    ['1e', 0],
    ['0x10', 0],
    ['NaN', 0],
    ['[Infinity]', 1],
    ['--1', 0],
    ['1.2.3', 0],
    ['{"a" 1}', 5],
    ['{"a"}', 4],
    ['[1 2]', 3],
    ['{"a":1 "b":2}', 7],
    ['[1,]', 3],
    ['{"a":1,}', 7],
    ['[,1]', 1],
    ['[1}', 2],
    ['{"a":1]', 6],
    ['{a:1}', 1],
    ["{'a':1}", 1],
    ['{"a"::1}', 5],
    ['[1,,2]', 3],
    ['{,}', 1],
  ] as const)('%j (at %i)', (doc, offset) => {
    expect(jsonParses(doc)).toBe(false);
    for (const sizes of [[], [1], [2, 3]]) {
      const err = scanError(doc, sizes, validating);
      expect(err, `chunks ${JSON.stringify(sizes)}`).toBeInstanceOf(JsonSyntaxError);
      expect(err!.offset).toBe(offset);
    }
  });
});

describe('JsonStructureScanner in skipped subtrees', () => {
  it('still detects truncation at every cut point, and errors at the top level', () => {
    const doc = '{"a":[{"b":"x\\"]}{[","c":[1,{"d":null}]}],"e":{"f":"\\\\"}}';
    expect(jsonParses(doc)).toBe(true);
    expect(scanError(doc, [], quiet)).toBeUndefined();
    for (let cut = 0; cut < doc.length; cut++) {
      const err = scanError(doc.slice(0, cut), [], quiet);
      expect(err, `cut at ${cut}`).toBeInstanceOf(JsonSyntaxError);
      expect(err!.offset).toBeLessThanOrEqual(cut);
    }
    expect(scanError('{"a":[1]} x', [], quiet)?.offset).toBe(10);
    expect(scanError('{"a" [1]}', [], quiet)?.offset).toBe(5);
    expect(scanError('{"a":[1] "b":2}', [], quiet)?.offset).toBe(9);
  });

  it('brackets inside strings do not count', () => {
    expect(scanError('{"a":["]", "}", "\\"]"]}', [1], quiet)).toBeUndefined();
    expect(scanError('{"a":["]"}', [], quiet)).toBeInstanceOf(JsonSyntaxError);
  });
});

// ---- a realistic dump -------------------------------------------------------------------

const T = {
  boot: 'type.googleapis.com/envoy.admin.v3.BootstrapConfigDump',
  listeners: 'type.googleapis.com/envoy.admin.v3.ListenersConfigDump',
  clusters: 'type.googleapis.com/envoy.admin.v3.ClustersConfigDump',
  routes: 'type.googleapis.com/envoy.admin.v3.RoutesConfigDump',
  endpoints: 'type.googleapis.com/envoy.admin.v3.EndpointsConfigDump',
  listener: 'type.googleapis.com/envoy.config.listener.v3.Listener',
  cluster: 'type.googleapis.com/envoy.config.cluster.v3.Cluster',
  dynListener: 'type.googleapis.com/envoy.admin.v3.ListenersConfigDump.DynamicListener',
  dynCluster: 'type.googleapis.com/envoy.admin.v3.ClustersConfigDump.DynamicCluster',
};

function listenerJson(name: string, address: string, port: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    '@type': T.listener,
    name,
    address: { socket_address: { address, port_value: port } },
    filter_chains: [{ filters: [{ name: 'envoy.filters.network.tcp_proxy', typed_config: { stat_prefix: 'x', cluster: 'PassthroughCluster' } }] }],
    ...extra,
  };
}

const V3_DUMP = {
  configs: [
    { '@type': T.boot, bootstrap: { node: { id: 'sidecar~10.0.0.5~pod.ns~ns.svc.cluster.local', metadata: { ISTIO_VERSION: '1.24.0', 'name with "quotes"': 'v\\1' } } } },
    {
      '@type': T.listeners,
      version_info: '2026-11-02T09:14:05Z/27',
      static_listeners: [{ listener: listenerJson('0.0.0.0_15090', '0.0.0.0', 15090), last_updated: '2026-11-02T09:14:07.512Z' }],
      dynamic_listeners: [
        {
          name: 'virtualOutbound',
          active_state: {
            version_info: '27',
            listener: listenerJson('virtualOutbound', '0.0.0.0', 15001, {
              use_original_dst: true,
              additional_addresses: [{ address: { socket_address: { address: '::', port_value: 15001 } } }],
            }),
            last_updated: '2026-11-02T09:14:07.512Z',
          },
        },
        { name: '10.0.0.6_7000', warming_state: { version_info: '28', listener: listenerJson('10.0.0.6_7000', '10.0.0.6', 7000) } },
        {
          name: 'broken',
          error_state: { failed_configuration: listenerJson('broken', '0.0.0.0', 9999), details: 'error adding listener: "multiple filter chains"' },
        },
      ],
    },
    {
      '@type': T.clusters,
      static_clusters: [{ cluster: { '@type': T.cluster, name: 'BlackHoleCluster', type: 'STATIC', connect_timeout: '10s' } }],
      dynamic_active_clusters: [{ version_info: '27', cluster: { '@type': T.cluster, name: 'outbound|80||reviews.default.svc.cluster.local', type: 'EDS' } }],
    },
    { '@type': T.routes, dynamic_route_configs: [{ version_info: '27', route_config: { name: '80', virtual_hosts: [{ name: 'reviews:80', domains: ['reviews', 'reviews:80'] }] } }] },
    { '@type': T.endpoints, dynamic_endpoint_configs: [{ endpoint_config: { cluster_name: 'outbound|80||reviews.default.svc.cluster.local', endpoints: [{ lb_endpoints: [] }] } }] },
  ],
};

describe('DumpIndexer: v3 /config_dump', () => {
  const doc = JSON.stringify(V3_DUMP, null, 2);
  const layout = index(doc);

  it('finds every entry with its kind and section, in document order', () => {
    expect(layout.entries.map((e) => [e.kind, e.section])).toEqual([
      ['bootstrap', ''],
      ['listener', 'static_listeners'],
      ['listener', 'dynamic_listeners'],
      ['listener', 'dynamic_listeners'],
      ['listener', 'dynamic_listeners'],
      ['cluster', 'static_clusters'],
      ['cluster', 'dynamic_active_clusters'],
      ['route', 'dynamic_route_configs'],
      ['endpoint', 'dynamic_endpoint_configs'],
    ]);
    expect(layout.configTypes).toEqual([T.boot, T.listeners, T.clusters, T.routes, T.endpoints]);
    expect(layout.isBareArray).toBe(false);
    expect(layout.isClusterStatus).toBe(false);
  });

  it('each entry slice parses to the original element', () => {
    const c = V3_DUMP.configs;
    const originals = [
      c[0],
      c[1]!.static_listeners![0],
      ...c[1]!.dynamic_listeners!,
      c[2]!.static_clusters![0],
      c[2]!.dynamic_active_clusters![0],
      c[3]!.dynamic_route_configs![0],
      c[4]!.dynamic_endpoint_configs![0],
    ];
    expect(layout.entries.map((e) => slice(doc, e))).toEqual(originals);
  });

  it('captures names and listen addresses as raw JSON', () => {
    const [, stat, active, warming, failed, blackhole, eds, route, endpoint] = layout.entries;
    expect(stat!.captures.get('listener.name')).toEqual(['"0.0.0.0_15090"']);
    expect(stat!.captures.get('listener.address.socket_address.port_value')).toEqual(['15090']);
    expect(active!.captures.get('name')).toEqual(['"virtualOutbound"']);
    expect(active!.captures.get('active_state.listener.address.socket_address.address')).toEqual(['"0.0.0.0"']);
    expect(active!.captures.get('active_state.listener.address.socket_address.port_value')).toEqual(['15001']);
    // array levels are elided in capture paths
    expect(active!.captures.get('active_state.listener.additional_addresses.address.socket_address.address')).toEqual(['"::"']);
    expect(warming!.captures.get('warming_state.listener.address.socket_address.address')).toEqual(['"10.0.0.6"']);
    expect(failed!.captures.get('error_state.failed_configuration.name')).toEqual(['"broken"']);
    expect(captured(failed!, 'error_state.details')).toEqual(['error adding listener: "multiple filter chains"']);
    expect(blackhole!.captures.get('cluster.name')).toEqual(['"BlackHoleCluster"']);
    expect(captured(eds!, 'cluster.name')).toEqual(['outbound|80||reviews.default.svc.cluster.local']);
    expect(route!.captures.get('route_config.name')).toEqual(['"80"']);
    expect(captured(endpoint!, 'endpoint_config.cluster_name')).toEqual(['outbound|80||reviews.default.svc.cluster.local']);
  });

  it('nothing outside the capture paths is captured', () => {
    const active = layout.entries[2]!;
    expect([...active.captures.keys()].sort()).toEqual(
      [
        'name',
        'active_state.listener.name',
        'active_state.listener.address.socket_address.address',
        'active_state.listener.address.socket_address.port_value',
        'active_state.listener.additional_addresses.address.socket_address.address',
        'active_state.listener.additional_addresses.address.socket_address.port_value',
      ].sort(),
    );
  });

  it('gives the same layout for every two-chunk split', () => {
    const buf = Buffer.from(doc);
    const want = plain(layout);
    for (let cut = 1; cut < buf.length; cut++) {
      const ix = new DumpIndexer();
      ix.push(buf.subarray(0, cut));
      ix.push(buf.subarray(cut));
      expect(plain(ix.finish()), `cut at ${cut}`).toEqual(want);
    }
  });

  it('gives the same layout for 1-byte chunks and for 3-byte chunks', () => {
    const want = plain(layout);
    expect(plain(index(doc, [1]))).toEqual(want);
    expect(plain(index(doc, [3]))).toEqual(want);
  });

  it('rejects the document truncated at every byte, with the offset inside what was read', () => {
    const buf = Buffer.from(JSON.stringify(V3_DUMP));
    for (let cut = 0; cut < buf.length; cut++) {
      const part = buf.subarray(0, cut);
      let err: unknown;
      try {
        index(part);
      } catch (e) {
        err = e;
      }
      expect(err, `cut at ${cut}`).toBeInstanceOf(JsonSyntaxError);
      const off = (err as JsonSyntaxError).offset;
      expect(off >= 0 && off <= cut, `offset ${off} for cut ${cut}`).toBe(true);
    }
  });

  it('rejects trailing garbage after the dump', () => {
    expect(() => index(`${doc}\n{}`)).toThrow(JsonSyntaxError);
    expect(() => index(`${doc},`)).toThrow(JsonSyntaxError);
  });
});

describe('DumpIndexer: other layouts', () => {
  it('v2 dynamic_active_listeners', () => {
    const dump = {
      configs: [
        {
          '@type': 'type.googleapis.com/envoy.admin.v2alpha.ListenersConfigDump',
          dynamic_active_listeners: [{ version_info: '1', listener: { name: '0.0.0.0_80', address: { socket_address: { address: '0.0.0.0', port_value: 80 } } }, last_updated: 'x' }],
        },
      ],
    };
    const doc = JSON.stringify(dump);
    const l = index(doc);
    expect(l.entries).toHaveLength(1);
    expect(l.entries[0]!.kind).toBe('listener');
    expect(l.entries[0]!.section).toBe('dynamic_active_listeners');
    expect(l.entries[0]!.captures.get('listener.name')).toEqual(['"0.0.0.0_80"']);
    expect(l.entries[0]!.captures.get('listener.address.socket_address.port_value')).toEqual(['80']);
    expect(slice(doc, l.entries[0]!)).toEqual(dump.configs[0]!.dynamic_active_listeners[0]);
  });

  it('?resource= dumps: the configs elements are the entries themselves', () => {
    const dump = {
      configs: [
        { '@type': T.dynListener, name: 'virtualOutbound', active_state: { listener: listenerJson('virtualOutbound', '0.0.0.0', 15001) } },
        { '@type': T.dynCluster, version_info: '3', cluster: { '@type': T.cluster, name: 'PassthroughCluster' } },
      ],
    };
    const doc = JSON.stringify(dump, null, 1);
    const l = index(doc);
    expect(l.entries.map((e) => [e.kind, e.section])).toEqual([
      ['listener', ''],
      ['cluster', ''],
    ]);
    expect(l.configTypes).toEqual([T.dynListener, T.dynCluster]);
    expect(l.entries[0]!.captures.get('name')).toEqual(['"virtualOutbound"']);
    expect(l.entries[0]!.captures.get('active_state.listener.address.socket_address.port_value')).toEqual(['15001']);
    expect(l.entries[1]!.captures.get('cluster.name')).toEqual(['"PassthroughCluster"']);
    expect(l.entries.map((e) => slice(doc, e))).toEqual(dump.configs);
  });

  it('a bare top-level array of listeners (istioctl proxy-config listeners -o json)', () => {
    const arr = [listenerJson('virtualOutbound', '0.0.0.0', 15001), listenerJson('10.0.0.6_7000', '10.0.0.6', 7000)];
    const doc = JSON.stringify(arr, null, 2);
    const l = index(doc);
    expect(l.isBareArray).toBe(true);
    expect(l.entries.map((e) => [e.kind, e.section])).toEqual([
      ['listener', ''],
      ['listener', ''],
    ]);
    expect(l.entries[1]!.captures.get('name')).toEqual(['"10.0.0.6_7000"']);
    expect(l.entries[1]!.captures.get('address.socket_address.address')).toEqual(['"10.0.0.6"']);
    expect(l.entries.map((e) => slice(doc, e))).toEqual(arr);
  });

  it('camelCase (protojson) keys', () => {
    const dump = {
      configs: [
        {
          '@type': T.listeners,
          dynamicListeners: [
            {
              name: '10.0.0.6_7000',
              activeState: { listener: { name: '10.0.0.6_7000', address: { socketAddress: { address: '10.0.0.6', portValue: 7000 } }, filterChains: [] } },
            },
          ],
        },
        { '@type': T.clusters, dynamicActiveClusters: [{ cluster: { name: 'outbound|7000||x' } }] },
      ],
    };
    const doc = JSON.stringify(dump);
    const l = index(doc);
    expect(l.entries.map((e) => [e.kind, e.section])).toEqual([
      ['listener', 'dynamic_listeners'],
      ['cluster', 'dynamic_active_clusters'],
    ]);
    const e = l.entries[0]!;
    expect(e.captures.get('active_state.listener.address.socket_address.address')).toEqual(['"10.0.0.6"']);
    expect(e.captures.get('active_state.listener.address.socket_address.port_value')).toEqual(['7000']);
    expect(l.entries[1]!.captures.get('cluster.name')).toEqual(['"outbound|7000||x"']);
  });

  it('/clusters?format=json', () => {
    const doc = JSON.stringify({
      cluster_statuses: [
        { name: 'outbound|80||a.default.svc.cluster.local', added_via_api: true, host_statuses: [{ address: { socket_address: { address: '10.1.0.4', port_value: 80 } }, health_status: { eds_health_status: 'HEALTHY' } }] },
        { name: 'BlackHoleCluster' },
      ],
    });
    const l = index(doc);
    expect(l.isClusterStatus).toBe(true);
    expect(l.entries.map((e) => [e.kind, e.section])).toEqual([
      ['cluster_status', 'cluster_statuses'],
      ['cluster_status', 'cluster_statuses'],
    ]);
    expect(captured(l.entries[0]!, 'name')).toEqual(['outbound|80||a.default.svc.cluster.local']);
    expect((slice(doc, l.entries[1]!) as { name: string }).name).toBe('BlackHoleCluster');
  });

  it('keys written with escapes are decoded before they are matched', () => {
    const doc = '{"\\u0063onfigs":[{"@type":"x","dynamic_listeners":[{"n\\u0061me":"a\\"b","\\u0061ctive_state":{"listener":{"name":"\\u00e9"}}}]}]}';
    for (const sizes of [[], [1], [7]]) {
      const l = index(doc, sizes);
      expect(l.entries).toHaveLength(1);
      expect(captured(l.entries[0]!, 'name')).toEqual(['a"b']);
      expect(captured(l.entries[0]!, 'active_state.listener.name')).toEqual(['é']);
    }
  });

  it('a captured string split into three chunks inside an escape keeps every byte', () => {
    const doc = Buffer.from('{"configs":[{"@type":"T","dynamic_listeners":[{"name":"abc\\"def","active_state":{}}]}]}');
    const at = doc.indexOf('abc');
    // middle chunks: 'bc\\' (ends on the backslash), 'bc\\"' (ends after the escaped quote), 'bc\\"d'
    for (const end of [at + 4, at + 5, at + 6]) {
      const ix = new DumpIndexer();
      ix.push(doc.subarray(0, at + 1));
      ix.push(doc.subarray(at + 1, end));
      ix.push(doc.subarray(end));
      const l = ix.finish();
      expect(l.entries[0]?.captures.get('name'), `middle chunk ${JSON.stringify(doc.subarray(at + 1, end).toString())}`).toEqual(['"abc\\"def"']);
    }
  });

  it('a malformed escape in a key the indexer decodes is a JsonSyntaxError, not a bare SyntaxError', () => {
    // The CLI turns only JsonSyntaxError into a "bad input" DataError (exit 65).
    const doc = '{"config\\s":[]}';
    expect(jsonParses(doc)).toBe(false);
    expect(() => index(doc)).toThrow(JsonSyntaxError);
  });
});

// ---- properties ---------------------------------------------------------------------------

/**
 * A visitor interested in everything: it records the byte range of every container and the raw
 * text of every primitive, by path, so that they can be checked against JSON.parse.
 */
interface PathNode {
  readonly path: readonly (string | number)[];
  next: number;
}

function recordAll(doc: Buffer, sizes?: readonly number[]) {
  const containers: { path: readonly (string | number)[]; start: number; end: number }[] = [];
  const primitives: { path: readonly (string | number)[]; raw: string }[] = [];
  const starts = new Map<PathNode, number>();
  const visitor: ScanVisitor<PathNode> = {
    child: (p, key) => ({ node: { path: [...p.path, key], next: 0 }, capture: true }),
    element: (p) => ({ node: { path: [...p.path, p.next++], next: 0 }, capture: true }),
    open: (n, offset) => void starts.set(n, offset),
    close: (n, end) => void containers.push({ path: n.path, start: starts.get(n)!, end }),
    primitive: (n, raw) => void primitives.push({ path: n.path, raw }),
  };
  const s = new JsonStructureScanner<PathNode>(visitor, { path: [], next: 0 });
  for (const c of split(doc, sizes)) s.push(c);
  s.end();
  return { containers, primitives };
}

function at(v: unknown, path: readonly (string | number)[]): unknown {
  let x = v;
  for (const k of path) x = (x as Record<string | number, unknown>)[k];
  return x;
}

/** Every path of a JSON value, split into containers and leaves (the root excluded from leaves). */
function paths(v: unknown, prefix: (string | number)[] = [], out = { containers: [] as string[], leaves: [] as string[] }) {
  if (v !== null && typeof v === 'object') {
    out.containers.push(JSON.stringify(prefix));
    if (Array.isArray(v)) v.forEach((e, i) => paths(e, [...prefix, i], out));
    else for (const [k, e] of Object.entries(v)) paths(e, [...prefix, k], out);
  } else if (prefix.length > 0) out.leaves.push(JSON.stringify(prefix));
  return out;
}

const chunkSizes = fc.oneof(fc.constant([1]), fc.array(fc.integer({ min: 1, max: 24 }), { minLength: 1, maxLength: 12 }));

describe('property: JsonStructureScanner against JSON.parse', () => {
  it('accepts every JSON document, whatever the whitespace and chunking', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.integer(), chunkSizes, (v, seed, sizes) => {
        const doc = serialize(v, prng(seed), { escapes: true });
        expect(jsonParses(doc)).toBe(true);
        for (const visitor of [validating, quiet]) {
          expect(scanError(doc, sizes, visitor)).toBeUndefined();
          expect(scanError(JSON.stringify(v), sizes, visitor)).toBeUndefined();
        }
      }),
      { numRuns: 500 },
    );
  });

  it('reports every container range and primitive so that they parse to the JSON.parse values', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 4 }), fc.integer(), chunkSizes, (v0, seed, sizes) => {
        const doc = Buffer.from(serialize(v0, prng(seed), { escapes: true }));
        const v = JSON.parse(doc.toString('utf8')) as unknown;
        const rec = recordAll(doc, sizes);
        for (const c of rec.containers) expect(JSON.parse(doc.subarray(c.start, c.end).toString('utf8'))).toEqual(at(v, c.path));
        for (const p of rec.primitives) expect(JSON.parse(p.raw)).toEqual(at(v, p.path));
        const want = paths(v);
        expect(rec.containers.map((c) => JSON.stringify(c.path)).sort()).toEqual(want.containers.sort());
        expect(rec.primitives.map((p) => JSON.stringify(p.path)).sort()).toEqual(want.leaves.sort());
      }),
      { numRuns: 300 },
    );
  });

  // Documents whose strings hold no backslash and no control character: then JSON.parse fails
  // only for structural reasons, which the scanner must detect exactly.
  const safeChar = fc.constantFrom('a', 'b', 'é', '日', ' ', ':', ',', '{', '}', '[', ']', '1', 'e', 'n');
  const safeString = fc.string({ unit: safeChar, maxLength: 6 });
  const { value: safeValue } = fc.letrec<{ value: unknown }>((tie) => ({
    value: fc.oneof(
      { depthSize: 'small' },
      fc.constant(null),
      fc.boolean(),
      fc.integer(),
      fc.double({ noNaN: true, noDefaultInfinity: true }),
      safeString,
      fc.array(tie('value'), { maxLength: 4 }),
      fc.dictionary(safeString, tie('value'), { maxKeys: 4 }),
    ),
  }));
  const mutation = fc.record({
    kind: fc.constantFrom('delete', 'insert', 'replace'),
    at: fc.nat(),
    ch: fc.constantFrom('{', '}', '[', ']', ':', ',', '"', '0', '1', '-', '.', 'e', 'E', '+', 't', 'r', 'u', 'f', 'a', 'l', 's', 'n', ' ', 'x'),
  });

  it('after random edits, a validating scan accepts exactly what JSON.parse accepts; errors carry an offset inside the document', () => {
    fc.assert(
      fc.property(safeValue, fc.integer(), fc.array(mutation, { minLength: 1, maxLength: 3 }), chunkSizes, (v, seed, edits, sizes) => {
        let doc = serialize(v, prng(seed), { whitespace: ['', ' '] });
        for (const m of edits) {
          const i = doc.length === 0 ? 0 : m.at % (doc.length + (m.kind === 'insert' ? 1 : 0));
          if (m.kind === 'delete') doc = doc.slice(0, i) + doc.slice(i + 1);
          else if (m.kind === 'insert') doc = doc.slice(0, i) + m.ch + doc.slice(i);
          else doc = doc.slice(0, i) + m.ch + doc.slice(i + 1);
        }
        const ok = jsonParses(doc);
        const err = scanError(doc, sizes, validating);
        expect(err === undefined, doc).toBe(ok);
        if (err) {
          expect(err.offset).toBeGreaterThanOrEqual(0);
          expect(err.offset).toBeLessThanOrEqual(Buffer.byteLength(doc));
        }
        // skipping nested containers may let structural errors inside them pass, never the reverse
        if (ok) expect(scanError(doc, sizes, quiet)).toBeUndefined();
      }),
      { numRuns: 2000 },
    );
  });
});

// ---- property: DumpIndexer is independent of chunking ------------------------------------------

interface Expected {
  kind: string;
  section: string;
  element: unknown;
  /** capture path -> parsed values */
  captures: Record<string, unknown[]>;
}

interface GenDump {
  doc: unknown;
  expected: Expected[];
}

const tricky = fc.constantFrom('a"b', 'c\\d', '\\"', '"\\', 'é', '日本語', '😀', 'x😀y', '\\u0041', 'outbound|80||reviews.default.svc.cluster.local');
const nameArb = fc.oneof(tricky, fc.string({ unit: 'binary', maxLength: 8 }), fc.string({ maxLength: 8 }));
const addrArb = fc.constantFrom('0.0.0.0', '10.0.0.6', '::', '2001:db8::1');
const portArb = fc.integer({ min: 1, max: 65535 });
const fillerArb = fc.jsonValue({ maxDepth: 2 });

const listenerSpec = fc.record({
  name: nameArb,
  address: addrArb,
  port: portArb,
  extra: fc.array(fc.tuple(addrArb, portArb), { maxLength: 2 }),
  filler: fillerArb,
});
type ListenerSpec = typeof listenerSpec extends fc.Arbitrary<infer U> ? U : never;

function keyer(camel: boolean): (k: string) => string {
  return (k) => (camel ? k.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase()) : k);
}

/** A listener resource and the captures expected below `prefix`. */
function buildListener(s: ListenerSpec, k: (k: string) => string, prefix: string): { json: unknown; captures: Record<string, unknown[]> } {
  const sa = (a: string, p: number) => ({ [k('socket_address')]: { address: a, [k('port_value')]: p } });
  const json = {
    '@type': T.listener,
    name: s.name,
    address: sa(s.address, s.port),
    ...(s.extra.length ? { [k('additional_addresses')]: s.extra.map(([a, p]) => ({ address: sa(a, p) })) } : {}),
    [k('filter_chains')]: [{ filters: [{ name: 'envoy.filters.network.tcp_proxy' }] }],
    metadata: { filter_metadata: { x: s.filler } },
  };
  const captures: Record<string, unknown[]> = {
    [`${prefix}name`]: [s.name],
    [`${prefix}address.socket_address.address`]: [s.address],
    [`${prefix}address.socket_address.port_value`]: [s.port],
  };
  if (s.extra.length) {
    captures[`${prefix}additional_addresses.address.socket_address.address`] = s.extra.map(([a]) => a);
    captures[`${prefix}additional_addresses.address.socket_address.port_value`] = s.extra.map(([, p]) => p);
  }
  return { json, captures };
}

const dynState = fc.constantFrom('active_state', 'warming_state', 'draining_state', 'error_state');

const configArb = (camel: boolean): fc.Arbitrary<{ config: unknown; expected: Expected[] }> => {
  const k = keyer(camel);
  return fc.oneof(
    // v3 listeners: static and dynamic with a state
    fc.record({ stat: fc.array(listenerSpec, { maxLength: 2 }), dyn: fc.array(fc.tuple(listenerSpec, dynState), { maxLength: 3 }) }).map(({ stat, dyn }) => {
      const expected: Expected[] = [];
      const statics = stat.map((s) => {
        const b = buildListener(s, k, 'listener.');
        const element = { listener: b.json, [k('last_updated')]: 'x' };
        expected.push({ kind: 'listener', section: 'static_listeners', element, captures: b.captures });
        return element;
      });
      const dynamics = dyn.map(([s, state]) => {
        const inner = state === 'error_state' ? 'error_state.failed_configuration.' : `${state}.listener.`;
        const b = buildListener(s, k, inner);
        const stateValue = state === 'error_state' ? { [k('failed_configuration')]: b.json, details: `bad ${s.name}` } : { [k('version_info')]: '1', listener: b.json };
        const element = { name: s.name, [k(state)]: stateValue };
        const captures: Record<string, unknown[]> = { name: [s.name], ...b.captures };
        if (state === 'error_state') captures['error_state.details'] = [`bad ${s.name}`];
        expected.push({ kind: 'listener', section: 'dynamic_listeners', element, captures });
        return element;
      });
      return {
        config: { '@type': T.listeners, [k('version_info')]: 'v', [k('static_listeners')]: statics, [k('dynamic_listeners')]: dynamics },
        expected,
      };
    }),
    // v2 listeners
    fc.array(listenerSpec, { maxLength: 2 }).map((ls) => {
      const expected: Expected[] = [];
      const elements = ls.map((s) => {
        const b = buildListener(s, k, 'listener.');
        const element = { [k('version_info')]: '1', listener: b.json };
        expected.push({ kind: 'listener', section: 'dynamic_active_listeners', element, captures: b.captures });
        return element;
      });
      return { config: { '@type': 'type.googleapis.com/envoy.admin.v2alpha.ListenersConfigDump', [k('dynamic_active_listeners')]: elements }, expected };
    }),
    // clusters
    fc.record({ stat: fc.array(nameArb, { maxLength: 2 }), dyn: fc.array(fc.tuple(nameArb, fillerArb), { maxLength: 2 }) }).map(({ stat, dyn }) => {
      const expected: Expected[] = [];
      const s = stat.map((name) => {
        const element = { cluster: { '@type': T.cluster, name, type: 'STATIC' } };
        expected.push({ kind: 'cluster', section: 'static_clusters', element, captures: { 'cluster.name': [name] } });
        return element;
      });
      const d = dyn.map(([name, filler]) => {
        const element = { [k('version_info')]: '2', cluster: { '@type': T.cluster, name, metadata: { filter_metadata: { istio: filler } } } };
        expected.push({ kind: 'cluster', section: 'dynamic_active_clusters', element, captures: { 'cluster.name': [name] } });
        return element;
      });
      return { config: { '@type': T.clusters, [k('static_clusters')]: s, [k('dynamic_active_clusters')]: d }, expected };
    }),
    // routes
    fc.array(fc.tuple(nameArb, fillerArb), { maxLength: 2 }).map((rs) => {
      const expected: Expected[] = [];
      const elements = rs.map(([name, filler]) => {
        const element = { [k('route_config')]: { '@type': 'x', name, [k('virtual_hosts')]: [{ name: 'vh', domains: ['*'], metadata: filler }] } };
        expected.push({ kind: 'route', section: 'dynamic_route_configs', element, captures: { 'route_config.name': [name] } });
        return element;
      });
      return { config: { '@type': T.routes, [k('dynamic_route_configs')]: elements }, expected };
    }),
    // endpoints
    fc.array(nameArb, { maxLength: 2 }).map((ns) => {
      const expected: Expected[] = [];
      const elements = ns.map((name) => {
        const element = { [k('endpoint_config')]: { [k('cluster_name')]: name, endpoints: [] } };
        expected.push({ kind: 'endpoint', section: 'dynamic_endpoint_configs', element, captures: { 'endpoint_config.cluster_name': [name] } });
        return element;
      });
      return { config: { '@type': T.endpoints, [k('dynamic_endpoint_configs')]: elements }, expected };
    }),
    // ?resource= elements
    listenerSpec.map((s) => {
      const b = buildListener(s, k, 'active_state.listener.');
      const config = { '@type': T.dynListener, name: s.name, [k('active_state')]: { listener: b.json } };
      return { config, expected: [{ kind: 'listener', section: '', element: config, captures: { name: [s.name], ...b.captures } }] };
    }),
    nameArb.map((name) => {
      const config = { '@type': T.dynCluster, cluster: { name } };
      return { config, expected: [{ kind: 'cluster', section: '', element: config, captures: { 'cluster.name': [name] } }] };
    }),
  );
};

const dumpArb: fc.Arbitrary<GenDump> = fc.oneof(
  fc.boolean().chain((camel) =>
    fc.array(configArb(camel), { maxLength: 4 }).map((cs) => ({
      doc: { configs: cs.map((c) => c.config) },
      expected: cs.flatMap((c) => c.expected),
    })),
  ),
  fc.array(listenerSpec, { maxLength: 3 }).map((ls) => {
    const built = ls.map((s) => buildListener(s, (x) => x, ''));
    return { doc: built.map((b) => b.json), expected: built.map((b) => ({ kind: 'listener', section: '', element: b.json, captures: b.captures })) };
  }),
  fc.array(fc.tuple(nameArb, fillerArb), { maxLength: 3 }).map((cs) => {
    const elements = cs.map(([name, filler]) => ({ name, added_via_api: true, host_statuses: [{ address: { socket_address: { address: '10.0.0.1', port_value: 80 } }, weight: 1, filler }] }));
    return {
      doc: { cluster_statuses: elements },
      expected: elements.map((element) => ({ kind: 'cluster_status', section: 'cluster_statuses', element, captures: { name: [element.name] } })),
    };
  }),
);

describe('property: DumpIndexer', () => {
  it('finds the same entries however the bytes are chunked, and each slice parses to its element', () => {
    fc.assert(
      fc.property(dumpArb, fc.integer(), chunkSizes, ({ doc, expected }, seed, sizes) => {
        const text = serialize(doc, prng(seed), { escapes: true });
        const buf = Buffer.from(text);
        const whole = index(buf);
        const chunked = index(buf, sizes);
        expect(plain(chunked)).toEqual(plain(whole));
        expect(whole.entries.map((e) => [e.kind, e.section])).toEqual(expected.map((e) => [e.kind, e.section]));
        whole.entries.forEach((e, i) => {
          const want = expected[i]!;
          expect(slice(buf, e)).toEqual(roundTrip(want.element));
          for (const [path, values] of Object.entries(want.captures)) expect(captured(e, path), path).toEqual(roundTrip(values));
        });
      }),
      { numRuns: 500 },
    );
  });
});
