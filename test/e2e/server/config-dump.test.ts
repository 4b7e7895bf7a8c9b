/**
 * The /config_dump query emulation, /logging and pilot-agent against the rules in
 * /work/notes/ENVOY_ADMIN_CONFIG_DUMP.md. Several cases mirror Envoy's own
 * test/server/admin/config_dump_handler_test.cc expectations byte for byte.
 */
import { describe, expect, it } from 'vitest';
import { configDumpResponse, parseEnvoyQuery, type ConfigDump } from './envoy/config-dump.js';
import { EnvoyAdmin, ENVOY_LOGGERS, pilotAgent } from './envoy/admin.js';

const T = 'type.googleapis.com/';
const A = `${T}envoy.admin.v3.`;
const listener = (name: string): Record<string, unknown> => ({ '@type': `${T}envoy.config.listener.v3.Listener`, name, address: { socket_address: { address: '0.0.0.0', port_value: 80 } } });
const cluster = (name: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({ '@type': `${T}envoy.config.cluster.v3.Cluster`, name, ...extra });

/** The shape of Envoy's testDumpClustersConfig (static "foo", dynamic "bar"). */
function clustersDump(): ConfigDump {
  return {
    configs: [
      {
        '@type': `${A}ClustersConfigDump`,
        static_clusters: [{ cluster: cluster('foo', { ignore_health_on_host_removal: true }) }],
        dynamic_active_clusters: [{ version_info: 'baz', cluster: cluster('bar', { ignore_health_on_host_removal: true, http2_protocol_options: { allow_connect: true } }), last_updated: '1970-01-01T00:00:05Z' }],
      },
    ],
  };
}

/** A small sidecar-like dump with every section, in Envoy's order. */
function fullDump(): ConfigDump {
  return {
    configs: [
      { '@type': `${A}BootstrapConfigDump`, bootstrap: { node: { id: 'sidecar~10.0.0.1~a.ns~ns.svc.cluster.local', extensions: [{ name: 'ext1' }, { name: 'ext2' }] } }, last_updated: '2026-01-01T00:00:00Z' },
      {
        '@type': `${A}ClustersConfigDump`,
        version_info: 'v1',
        static_clusters: [{ cluster: cluster('prometheus_stats', { type: 'STATIC', load_assignment: { cluster_name: 'prometheus_stats', endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: 15000 } } } }] }] } }) }],
        dynamic_active_clusters: [
          { version_info: 'v1', cluster: cluster('outbound|80||a.ns.svc.cluster.local', { type: 'EDS', eds_cluster_config: { service_name: 'outbound|80||a.ns.svc.cluster.local' } }) },
          { version_info: 'v1', cluster: cluster('BlackHoleCluster', { type: 'STATIC' }) },
        ],
      },
      {
        '@type': `${A}ListenersConfigDump`,
        version_info: 'v1',
        static_listeners: [{ listener: listener('static-l') }],
        dynamic_listeners: [
          { name: '0.0.0.0_80', active_state: { version_info: 'v1', listener: listener('0.0.0.0_80') } },
          { name: 'virtualOutbound', active_state: { version_info: 'v1', listener: listener('virtualOutbound') } },
          { name: 'bad-listener', error_state: { details: 'rejected', last_update_attempt: '2026-01-01T00:00:00Z' } },
        ],
      },
      { '@type': `${A}ScopedRoutesConfigDump` },
      { '@type': `${A}RoutesConfigDump`, dynamic_route_configs: [{ version_info: 'v1', route_config: { '@type': `${T}envoy.config.route.v3.RouteConfiguration`, name: '80', virtual_hosts: [{ name: 'a', domains: ['*'] }] } }] },
      { '@type': `${A}SecretsConfigDump`, dynamic_active_secrets: [{ name: 'default', secret: { '@type': `${T}envoy.extensions.transport_sockets.tls.v3.Secret`, name: 'default' } }] },
    ],
  };
}

const json = (body: string): { configs?: Record<string, unknown>[] } => JSON.parse(body) as { configs?: Record<string, unknown>[] };
const types = (body: string): string[] => (json(body).configs ?? []).map((c) => String(c['@type']).replace(A, ''));

describe('config_dump query emulation', () => {
  it('resource=dynamic_listeners returns each element with its own @type (ConfigDumpFiltersByResource)', () => {
    const dump: ConfigDump = { configs: [{ '@type': `${A}ListenersConfigDump`, dynamic_listeners: [{ name: 'foo' }], static_listeners: [{ listener: listener('bar') }] }] };
    const r = configDumpResponse(dump, 'resource=dynamic_listeners');
    expect(r.status).toBe(200);
    expect(r.contentType).toBe('application/json');
    expect(r.body).toBe(`{\n "configs": [\n  {\n   "@type": "type.googleapis.com/envoy.admin.v3.ListenersConfigDump.DynamicListener",\n   "name": "foo"\n  }\n ]\n}\n`);
  });

  it('resource + mask reaches inside the Any (ConfigDumpFiltersByResourceAndMask, byte for byte)', () => {
    const r = configDumpResponse(clustersDump(), 'resource=dynamic_active_clusters&mask=cluster.name,version_info,cluster.http2_protocol_options');
    expect(r.body).toBe(
      '{\n "configs": [\n  {\n   "@type": "type.googleapis.com/envoy.admin.v3.ClustersConfigDump.DynamicCluster",\n   "version_info": "baz",\n   "cluster": {\n    "@type": "type.googleapis.com/envoy.config.cluster.v3.Cluster",\n    "name": "bar",\n    "http2_protocol_options": {\n     "allow_connect": true\n    }\n   }\n  }\n ]\n}\n',
    );
  });

  it('mask without resource keeps only dumps the mask is valid for (ConfigDumpFiltersByMask, FieldMasksWorkWhenFetchingAllResources)', () => {
    const r = configDumpResponse(fullDump(), 'mask=dynamic_listeners');
    expect(types(r.body)).toEqual(['ListenersConfigDump']);
    expect(Object.keys(json(r.body).configs?.[0] ?? {})).toEqual(['@type', 'dynamic_listeners']);
    const b = configDumpResponse(fullDump(), 'mask=bootstrap');
    expect(types(b.body)).toEqual(['BootstrapConfigDump']);
    expect(Object.keys(json(b.body).configs?.[0] ?? {})).toEqual(['@type', 'bootstrap']);
    const id = configDumpResponse(fullDump(), 'mask=bootstrap.node.id');
    expect(json(id.body).configs?.[0]).toEqual({ '@type': `${A}BootstrapConfigDump`, bootstrap: { node: { id: 'sidecar~10.0.0.1~a.ns~ns.svc.cluster.local' } } });
  });

  it('a mask that no dump accepts is a 400 (InvalidFieldMaskWithoutResourceDoesNotCrash)', () => {
    const r = configDumpResponse(fullDump(), 'mask=bootstrap.node.extensions.name');
    expect(r.status).toBe(400);
    expect(r.contentType).toMatch(/^text\/plain/);
    expect(r.body).toBe('FieldMask bootstrap.node.extensions.name could not be successfully applied to any configs.');
    expect(configDumpResponse(fullDump(), 'mask=dynamic_listeners.name').status).toBe(400);
  });

  it('an invalid mask with resource is a 400 quoting the FieldMask DebugString (InvalidFieldMaskWithResourceDoesNotCrash)', () => {
    const dump: ConfigDump = { configs: [{ '@type': `${A}ClustersConfigDump`, static_clusters: [{ cluster: cluster('x', { transport_socket_matches: [{ name: 'match1' }, { name: 'match2' }] }) }] }] };
    const r = configDumpResponse(dump, 'resource=static_clusters&mask=cluster.transport_socket_matches.name');
    expect(r.status).toBe(400);
    expect(r.headers?.['x-content-type-options']).toBe('nosniff');
    expect(r.body).toBe('FieldMask paths: "cluster.transport_socket_matches.name"\n could not be successfully used.');
    expect(configDumpResponse(clustersDump(), 'resource=static_clusters&mask=bad').body).toContain('could not be successfully used');
  });

  it('masks cannot index into the Any of a DynamicListener; name and state fields work', () => {
    expect(configDumpResponse(fullDump(), 'resource=dynamic_listeners&mask=active_state.listener.name').status).toBe(400);
    const r = configDumpResponse(fullDump(), 'resource=dynamic_listeners&mask=name,active_state.version_info&name_regex=virtualOutbound');
    // bad-listener only carries an error_state, which no name matcher filters out; the mask then trims it to its name.
    expect(json(r.body).configs).toEqual([
      { '@type': `${A}ListenersConfigDump.DynamicListener`, name: 'virtualOutbound', active_state: { version_info: 'v1' } },
      { '@type': `${A}ListenersConfigDump.DynamicListener`, name: 'bad-listener' },
    ]);
  });

  it('a mask that is exactly the Any field fails on modern protobuf, passes with legacyEmptyInnerMaskPath', () => {
    expect(configDumpResponse(clustersDump(), 'resource=dynamic_active_clusters&mask=cluster').status).toBe(400);
    const legacy = configDumpResponse(clustersDump(), 'resource=dynamic_active_clusters&mask=cluster', { legacyEmptyInnerMaskPath: true });
    expect(legacy.status).toBe(200);
    expect(json(legacy.body).configs?.[0]).toEqual({ '@type': `${A}ClustersConfigDump.DynamicCluster`, cluster: cluster('bar', { ignore_health_on_host_removal: true, http2_protocol_options: { allow_connect: true } }) });
  });

  it('unknown resource → 404, scalar resource → 400 (ConfigDumpNonExistentResource, ConfigDumpResourceNotRepeated)', () => {
    const nf = configDumpResponse(fullDump(), 'resource=foo');
    expect([nf.status, nf.body]).toEqual([404, 'foo not found in config dump']);
    const nr = configDumpResponse(fullDump(), 'resource=version_info');
    expect([nr.status, nr.body]).toEqual([400, 'version_info is not a repeated field. Use ?mask=version_info to get only this field']);
    expect(configDumpResponse(fullDump(), 'resource=bootstrap').status).toBe(400);
  });

  it('name_regex is an RE2 full match on each tracker’s own name field', () => {
    const names = (q: string): string[] => (json(configDumpResponse(fullDump(), q).body).configs ?? []).map((c) => String(c.name ?? (c.cluster as { name?: string } | undefined)?.name));
    expect(names('resource=dynamic_listeners&name_regex=virtualOutbound')).toEqual(['virtualOutbound', 'bad-listener']);
    expect(names('resource=dynamic_listeners&name_regex=virtual')).toEqual(['bad-listener']);
    expect(names('resource=dynamic_listeners&name_regex=.*80')).toEqual(['0.0.0.0_80', 'bad-listener']);
    // Istio cluster names contain "|", an RE2 alternation unless escaped.
    expect(names('resource=dynamic_active_clusters&name_regex=outbound%5C%7C80%5C%7C%5C%7C.*')).toEqual(['outbound|80||a.ns.svc.cluster.local']);
    expect(names('resource=dynamic_active_clusters&name_regex=outbound%7C80%7C%7C.*')).toEqual(['outbound|80||a.ns.svc.cluster.local', 'BlackHoleCluster']);
    expect(names('resource=dynamic_active_secrets&name_regex=default')).toEqual(['default']);
    // LDS error states are not filtered by the matcher (listener_manager_impl.cc).
    const err = json(configDumpResponse(fullDump(), 'resource=dynamic_listeners&name_regex=nothing').body).configs;
    expect(err).toEqual([{ '@type': `${A}ListenersConfigDump.DynamicListener`, name: 'bad-listener', error_state: { details: 'rejected', last_update_attempt: '2026-01-01T00:00:00Z' } }]);
    // The bootstrap has no name and is never filtered; an empty match list prints as {}.
    expect(types(configDumpResponse(fullDump(), 'name_regex=nothing').body)).toContain('BootstrapConfigDump');
    expect(configDumpResponse(fullDump(), 'resource=static_clusters&name_regex=nothing').body).toBe('{}\n');
  });

  it('a bad name_regex is a 400 with the absl status text (InvalidRegexIsBadRequest)', () => {
    const r = configDumpResponse(fullDump(), 'name_regex=[');
    expect(r.status).toBe(400);
    expect(r.body).toBe('INVALID_ARGUMENT: Error while parsing name_regex from [: missing ]: [');
    expect(configDumpResponse(fullDump(), 'name_regex=(%3F%3Dx)').body).toContain('invalid perl operator: (?=');
  });

  it('include_eds counts by presence; the endpoint tracker sorts between clusters and listeners', () => {
    expect(types(configDumpResponse(fullDump(), '').body)).toEqual(['BootstrapConfigDump', 'ClustersConfigDump', 'ListenersConfigDump', 'ScopedRoutesConfigDump', 'RoutesConfigDump', 'SecretsConfigDump']);
    for (const q of ['include_eds', 'include_eds=false', 'include_eds=true']) {
      expect(types(configDumpResponse(fullDump(), q).body)).toEqual(['BootstrapConfigDump', 'ClustersConfigDump', 'EndpointsConfigDump', 'ListenersConfigDump', 'ScopedRoutesConfigDump', 'RoutesConfigDump', 'SecretsConfigDump']);
    }
    expect(configDumpResponse(fullDump(), 'resource=dynamic_endpoint_configs').status).toBe(404);
    const eds = json(configDumpResponse(fullDump(), 'include_eds&resource=dynamic_endpoint_configs&name_regex=outbound.*').body).configs;
    expect(eds).toEqual([{ '@type': `${A}EndpointsConfigDump.DynamicEndpointConfig`, endpoint_config: { '@type': `${T}envoy.config.endpoint.v3.ClusterLoadAssignment`, cluster_name: 'outbound|80||a.ns.svc.cluster.local', policy: { overprovisioning_factor: 140 } } }]);
    // A static cluster's hosts come from its load_assignment.
    const st = json(configDumpResponse(fullDump(), 'include_eds&resource=static_endpoint_configs').body).configs?.[0] as { endpoint_config: { endpoints: unknown[] } };
    expect(st.endpoint_config.endpoints).toHaveLength(1);
  });

  it('a dump’s own EDS section is used with include_eds and stripped without it', () => {
    const d = fullDump();
    d.configs.splice(2, 0, { '@type': `${A}EndpointsConfigDump`, dynamic_endpoint_configs: [{ endpoint_config: { '@type': `${T}envoy.config.endpoint.v3.ClusterLoadAssignment`, cluster_name: 'x', endpoints: [{ lb_endpoints: [] }] } }] });
    expect(types(configDumpResponse(d, '').body)).not.toContain('EndpointsConfigDump');
    const r = json(configDumpResponse(d, 'include_eds&resource=dynamic_endpoint_configs').body).configs;
    expect(r?.map((c) => (c.endpoint_config as { cluster_name: string }).cluster_name)).toEqual(['x']);
  });

  it('empty resource= and mask= mean absent (envoy #32794 fix); output is ordered by tracker key', () => {
    const d = fullDump();
    const shuffled: ConfigDump = { configs: [...d.configs].reverse() };
    expect(configDumpResponse(shuffled, 'resource=&mask=&name_regex=').body).toBe(configDumpResponse(d, '').body);
  });

  it('parses queries like Envoy: %XX decoded, + kept, bare keys present, first value wins', () => {
    const q = parseEnvoyQuery('resource=dynamic_listeners&name_regex=a%7Cb+c&include_eds&resource=x');
    expect(q.get('name_regex')).toEqual(['a|b+c']);
    expect(q.get('include_eds')).toEqual(['']);
    expect(q.get('resource')?.[0]).toBe('dynamic_listeners');
  });
});

describe('Envoy admin /logging', () => {
  const admin = (): EnvoyAdmin => new EnvoyAdmin('t', { configDump: fullDump() });

  it('lists loggers on POST, refuses GET with 405', () => {
    const a = admin();
    const r = a.handle('POST', '/logging');
    expect(r.status).toBe(200);
    expect(r.body.startsWith('active loggers:\n  admin: warning\n  alternate_protocols_cache: warning\n')).toBe(true);
    expect(r.body).toContain('\n  misc: error\n');
    expect(r.body.endsWith('  golang: warning\n\n')).toBe(true);
    expect(r.body.split('\n').filter((l) => l.startsWith('  '))).toHaveLength(ENVOY_LOGGERS.length);
    const g = a.handle('GET', '/logging');
    expect([g.status, g.body]).toEqual([405, 'Method GET not allowed, POST required.']);
  });

  it('sets one logger, several (paths=) or all (level=)', () => {
    const a = admin();
    expect(a.handle('POST', '/logging?http=debug').status).toBe(200);
    expect(a.loggers().http).toBe('debug');
    expect(a.loggers().router).toBe('warning');
    a.handle('POST', '/logging?paths=router:trace,upstream:info');
    expect([a.loggers().router, a.loggers().upstream]).toEqual(['trace', 'info']);
    a.handle('POST', '/logging?level=error');
    expect(new Set(Object.values(a.loggers()))).toEqual(new Set(['error']));
  });

  it('rejects unknown loggers and levels with Envoy’s messages, changing nothing', () => {
    const a = admin();
    const n = a.handle('POST', '/logging?nosuch=debug');
    expect(n.status).toBe(400);
    expect(n.body.startsWith('error: unknown logger name\n\nusage: /logging?<name>=<level> (change single level)\n')).toBe(true);
    expect(n.body).toContain('levels: trace debug info warning error critical off \nactive loggers:\n');
    expect(a.handle('POST', '/logging?http=verbose').body.startsWith('error: unknown logger level\n')).toBe(true);
    expect(a.handle('POST', '/logging?level=loud').body.startsWith('error: unknown logger level\n')).toBe(true);
    expect(a.handle('POST', '/logging?http=debug&router=debug').body.startsWith('error: invalid number of parameters\n')).toBe(true);
    expect(a.handle('POST', '/logging?paths=http:debug,nosuch:debug').body.startsWith('error: unknown logger name\n')).toBe(true);
    expect(a.loggers().http).toBe('warning');
  });
});

describe('pilot-agent request', () => {
  const a = new EnvoyAdmin('t', { configDump: fullDump() });

  it('prints the body plus a newline; a 404 is printed with exit 0', () => {
    const ok = pilotAgent(a, ['pilot-agent', 'request', 'GET', '/ready']);
    expect(ok).toEqual({ stdout: 'LIVE\n\n', stderr: '', exitCode: 0 });
    const nf = pilotAgent(a, ['pilot-agent', 'request', 'GET', 'config_dump?resource=foo']);
    expect(nf).toEqual({ stdout: 'foo not found in config dump\n', stderr: '', exitCode: 0 });
  });

  it('status > 399 (not 404) → cobra error on stderr, log line on stdout, exit 255', () => {
    const r = pilotAgent(a, ['pilot-agent', 'request', 'GET', 'logging'], () => new Date('2026-01-02T03:04:05.678Z'));
    expect(r.exitCode).toBe(255);
    expect(r.stderr).toBe('Error: received unsuccessful status code 405: Method GET not allowed, POST required.\n');
    expect(r.stdout).toBe('2026-01-02T03:04:05.678000Z\terror\treceived unsuccessful status code 405: Method GET not allowed, POST required.\n');
  });

  it('argument and port errors, and an Envoy that is down', () => {
    expect(pilotAgent(a, ['pilot-agent', 'request', 'GET']).stderr).toBe('Error: requires at least 2 arg(s), only received 1\n');
    expect(pilotAgent(a, ['pilot-agent', 'request', '--debug-port', '9999', 'GET', 'ready']).stderr).toBe('Error: debug port 9999 is not in allowed list [15000 15004 15020 15021]\n');
    expect(pilotAgent(undefined, ['pilot-agent', 'request', 'GET', 'config_dump']).stderr).toBe('Error: Get "http://localhost:15000/config_dump": dial tcp [::1]:15000: connect: connection refused\n');
  });
});
