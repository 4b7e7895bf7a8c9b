/**
 * Envoy admin API emulator for one sidecar: answers in-process (for `pilot-agent request` exec'd in
 * istio-proxy) and over HTTP on 127.0.0.1 (what port-forward to pod port 15000 reaches).
 */
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { configDumpResponse, envoyJson, parseEnvoyQuery, type AdminResponse, type ConfigDump, type ConfigDumpQueryOptions } from './config-dump.js';
import { isObject } from './schema.js';

/** Envoy's ALL_LOGGER_IDS (source/common/common/logger.h), in registry order: /logging lists them in this order. */
export const ENVOY_LOGGERS = [
  'admin', 'alternate_protocols_cache', 'aws', 'assert', 'backtrace', 'basic_auth', 'cache_filter', 'client', 'config',
  'connection', 'conn_handler', 'decompression', 'dns', 'dubbo', 'envoy_bug', 'ext_authz', 'ext_proc', 'rocketmq', 'file',
  'filter', 'forward_proxy', 'geolocation', 'grpc', 'happy_eyeballs', 'hc', 'health_checker', 'http', 'http2', 'hystrix',
  'init', 'io', 'jwt', 'kafka', 'key_value_store', 'lua', 'main', 'matcher', 'misc', 'mongo', 'multi_connection', 'oauth2',
  'quic', 'quic_stream', 'pool', 'rate_limit_quota', 'rbac', 'rds', 'redis', 'router', 'runtime', 'stats', 'secret', 'tap',
  'testing', 'thrift', 'tracing', 'upstream', 'udp', 'wasm', 'websocket', 'golang',
] as const;

/** spdlog::level::level_string_views as Envoy configures them. */
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warning', 'error', 'critical', 'off'] as const;

const TEXT = 'text/plain; charset=UTF-8';
const JSON_CT = 'application/json';

export interface EnvoyAdminOptions {
  /** Envoy admin `/config_dump` JSON, or a path to such a file. */
  configDump: ConfigDump | string;
  /** `/clusters?format=json` content (object, JSON text or a file path); synthesised from the dump when absent. */
  clusters?: unknown;
  /** `/stats/prometheus` body. */
  statsPrometheus?: string;
  /** `/stats` body. */
  stats?: string;
  /** Logger → level at start. Default: Istio's `--log-level warning,misc:error`. Names not listed keep that default. */
  loggers?: Record<string, string>;
  /** Server state for /ready and /server_info. */
  state?: 'LIVE' | 'PRE_INITIALIZING' | 'INITIALIZING' | 'DRAINING';
  /** Envoy not listening: connections to 15000 are refused and pilot-agent reports it. */
  down?: boolean;
  configDumpOptions?: ConfigDumpQueryOptions;
  /** Extra admin paths (exact path without query) → response. */
  handlers?: Record<string, (method: string, query: string, body: string) => AdminResponse>;
}

export interface AdminRequest {
  method: string;
  path: string;
  via: 'http' | 'pilot-agent';
}

export class EnvoyAdmin {
  readonly name: string;
  /** Every admin request served, in order. */
  readonly requests: AdminRequest[] = [];
  private dump: ConfigDump;
  readonly options: EnvoyAdminOptions;
  private levels = new Map<string, string>();
  private server: http.Server | undefined;
  private sockets = new Set<import('node:net').Socket>();
  state: NonNullable<EnvoyAdminOptions['state']>;
  down: boolean;

  constructor(name: string, opts: EnvoyAdminOptions) {
    this.name = name;
    this.options = opts;
    this.dump = loadJson(opts.configDump) as ConfigDump;
    if (!this.dump || !Array.isArray(this.dump.configs)) throw new Error(`${name}: configDump has no "configs" array`);
    this.state = opts.state ?? 'LIVE';
    this.down = opts.down ?? false;
    this.resetLoggers();
  }

  /** Current logger levels (a copy), in registry order. */
  loggers(): Record<string, string> {
    return Object.fromEntries(this.levels);
  }

  resetLoggers(): void {
    this.levels = new Map(ENVOY_LOGGERS.map((n) => [n, n === 'misc' ? 'error' : 'warning']));
    for (const [k, v] of Object.entries(this.options.loggers ?? {})) this.levels.set(k, v);
  }

  setConfigDump(dump: ConfigDump | string): void {
    this.dump = loadJson(dump) as ConfigDump;
  }

  configDump(): ConfigDump {
    return this.dump;
  }

  /** Port of the HTTP listener (after `listen()`). */
  get port(): number {
    const a = this.server?.address();
    return a && typeof a === 'object' ? a.port : 0;
  }

  async listen(): Promise<number> {
    if (this.server) return this.port;
    const server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const r = this.handle(req.method ?? 'GET', req.url ?? '/', Buffer.concat(chunks).toString('utf8'), 'http');
        res.writeHead(r.status, { 'content-type': r.contentType, 'cache-control': 'no-cache, max-age=0', 'x-content-type-options': 'nosniff', server: 'envoy', ...r.headers });
        res.end(r.body);
      });
    });
    server.on('connection', (s) => {
      // Envoy being "down" means nothing listens on 15000: the kubelet's dial is refused.
      if (this.down) {
        s.destroy();
        return;
      }
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    this.server = server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return (server.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    if (!s) return;
    for (const sock of this.sockets) sock.destroy();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }

  /** One admin request. `pathAndQuery` like `/config_dump?resource=dynamic_listeners`. */
  handle(method: string, pathAndQuery: string, body = '', via: AdminRequest['via'] = 'http'): AdminResponse {
    this.requests.push({ method, path: pathAndQuery, via });
    const q = pathAndQuery.indexOf('?');
    const path = q >= 0 ? pathAndQuery.slice(0, q) : pathAndQuery;
    const query = q >= 0 ? pathAndQuery.slice(q + 1) : '';
    const custom = this.options.handlers?.[path];
    if (custom) return custom(method, query, body);
    const handler = HANDLERS[path];
    if (!handler) return { status: 404, contentType: TEXT, body: `invalid path. ${help()}` };
    // Admin endpoints that mutate server state only answer POST (admin.cc, mutates_server_state).
    if (handler.mutates && method !== 'POST') return { status: 405, contentType: TEXT, body: `Method ${method} not allowed, POST required.` };
    return handler.fn(this, query, method);
  }

  /** POST /logging semantics (logs_handler.cc). */
  logging(query: string): AdminResponse {
    // The logging handler parses the query without percent-decoding.
    const params = parseEnvoyQuery(query, false);
    let status = 200;
    let body = '';
    if (params.size > 0) {
      const err = this.changeLogLevel(params);
      if (err) {
        status = 400;
        body += `error: ${err}\n\n`;
        body += 'usage: /logging?<name>=<level> (change single level)\n';
        body += 'usage: /logging?paths=name1:level1,name2:level2,... (change multiple levels)\n';
        body += 'usage: /logging?level=<level> (change all levels)\n';
        body += `levels: ${LOG_LEVELS.map((l) => `${l} `).join('')}\n`;
      }
    }
    body += 'active loggers:\n';
    for (const [n, l] of this.levels) body += `  ${n}: ${l}\n`;
    body += '\n';
    return { status, contentType: TEXT, body };
  }

  private changeLogLevel(params: Map<string, string[]>): string | undefined {
    // QueryParams is a map: a repeated key counts once, and any second key is an error.
    if (params.size !== 1) return 'invalid number of parameters';
    const [key, values] = [...params][0] ?? ['', ['']];
    const value = values[0] ?? '';
    const isLevel = (l: string): boolean => (LOG_LEVELS as readonly string[]).includes(l);
    if (key === 'level') {
      if (!isLevel(value)) return 'unknown logger level';
      for (const n of this.levels.keys()) this.levels.set(n, value);
      return undefined;
    }
    const changes = new Map<string, string>();
    if (key === 'paths') {
      for (const pair of value.split(',').filter((p) => p.trim() !== '')) {
        const i = pair.indexOf(':');
        const name = (i >= 0 ? pair.slice(0, i) : pair).trim();
        const level = (i >= 0 ? pair.slice(i + 1) : '').trim();
        if (!name || !level) return 'empty logger name or empty logger level';
        if (!isLevel(level)) return 'unknown logger level';
        changes.set(name, level);
      }
    } else {
      if (!isLevel(value)) return 'unknown logger level';
      changes.set(key, value);
    }
    // All-or-nothing: one unknown name rejects the whole change.
    for (const n of changes.keys()) if (!this.levels.has(n)) return 'unknown logger name';
    for (const [n, l] of changes) this.levels.set(n, l);
    return undefined;
  }

  clustersJson(): unknown {
    if (this.options.clusters !== undefined) return loadJson(this.options.clusters);
    const byType = (suffix: string): Record<string, unknown> | undefined => this.dump.configs.find((c) => String(c['@type']).endsWith(suffix));
    const clusters = byType('.ClustersConfigDump');
    const eds = byType('.EndpointsConfigDump');
    const hostsOf = new Map<string, unknown[]>();
    for (const e of [...arr(eds?.static_endpoint_configs), ...arr(eds?.dynamic_endpoint_configs)]) {
      const cla = isObject(e) && isObject(e.endpoint_config) ? e.endpoint_config : {};
      const hosts: unknown[] = [];
      for (const loc of arr(cla.endpoints)) {
        for (const lb of arr(isObject(loc) ? loc.lb_endpoints : undefined)) {
          if (!isObject(lb) || !isObject(lb.endpoint)) continue;
          hosts.push({
            address: lb.endpoint.address,
            stats: [{ name: 'cx_connect_fail' }, { name: 'cx_total' }, { name: 'rq_error' }, { name: 'rq_success' }, { name: 'rq_timeout' }, { name: 'rq_total' }, { type: 'GAUGE', name: 'cx_active' }, { type: 'GAUGE', name: 'rq_active' }],
            health_status: { eds_health_status: typeof lb.health_status === 'string' ? lb.health_status : 'HEALTHY' },
            weight: isObject(lb) && typeof lb.load_balancing_weight === 'number' ? lb.load_balancing_weight : 1,
            locality: isObject(loc) && isObject(loc.locality) ? loc.locality : {},
          });
        }
      }
      if (typeof cla.cluster_name === 'string') hostsOf.set(cla.cluster_name, hosts);
    }
    const statuses = [
      ...arr(clusters?.static_clusters).map((c) => [c, false] as const),
      ...arr(clusters?.dynamic_active_clusters).map((c) => [c, true] as const),
    ].map(([w, viaApi]) => {
      const c = isObject(w) && isObject(w.cluster) ? w.cluster : {};
      const name = typeof c.name === 'string' ? c.name : '';
      const edsName = isObject(c.eds_cluster_config) && typeof c.eds_cluster_config.service_name === 'string' ? c.eds_cluster_config.service_name : name;
      const hosts = hostsOf.get(edsName) ?? [];
      return { name, ...(viaApi ? { added_via_api: true } : {}), ...(hosts.length ? { host_statuses: hosts } : {}), observability_name: name };
    });
    return { cluster_statuses: statuses };
  }

  serverInfo(): Record<string, unknown> {
    const boot = this.dump.configs.find((c) => String(c['@type']).endsWith('.BootstrapConfigDump'));
    const node = isObject(boot) && isObject(boot.bootstrap) && isObject(boot.bootstrap.node) ? boot.bootstrap.node : {};
    const meta = isObject(node.metadata) ? node.metadata : {};
    const istio = typeof meta.ISTIO_VERSION === 'string' ? meta.ISTIO_VERSION : '1.26.2';
    // the proxy's own build, when the bootstrap records it (node.build_version, older Envoys)
    const build = typeof node.build_version === 'string' ? node.build_version : '0000000000000000000000000000000000000000/1.34.2-dev/Clean/RELEASE/BoringSSL';
    return {
      version: `${build} (istio ${istio})`,
      state: this.state,
      hot_restart_version: 'disabled',
      command_line_options: { base_id: '0', concurrency: 2, config_path: 'etc/istio/proxy/envoy-rev.json', log_level: 'warning', component_log_level: 'misc:error', mode: 'Serve', drain_time: '45s', parent_shutdown_time: '60s' },
      node,
      uptime_current_epoch: '3600s',
      uptime_all_epochs: '3600s',
    };
  }
}

interface Handler {
  mutates?: boolean;
  fn: (admin: EnvoyAdmin, query: string, method: string) => AdminResponse;
}

const ok = (): AdminResponse => ({ status: 200, contentType: TEXT, body: 'OK\n' });

const HANDLERS: Record<string, Handler> = {
  '/config_dump': { fn: (a, q) => configDumpResponse(a.configDump(), q, a.options.configDumpOptions) },
  '/clusters': {
    fn: (a, q) => {
      const json = a.clustersJson();
      if (parseEnvoyQuery(q).get('format')?.[0] === 'json') return { status: 200, contentType: JSON_CT, body: envoyJson(json) };
      return { status: 200, contentType: TEXT, body: clustersText(json) };
    },
  },
  '/listeners': {
    fn: (a, q) => {
      const lds = a.configDump().configs.find((c) => String(c['@type']).endsWith('.ListenersConfigDump'));
      const listeners = [
        ...arr(lds?.static_listeners).map((l) => (isObject(l) ? l.listener : undefined)),
        ...arr(lds?.dynamic_listeners).map((l) => (isObject(l) && isObject(l.active_state) ? l.active_state.listener : undefined)),
      ].filter(isObject);
      if (parseEnvoyQuery(q).get('format')?.[0] === 'json') {
        return { status: 200, contentType: JSON_CT, body: envoyJson({ listener_statuses: listeners.map((l) => ({ name: l.name, local_address: l.address })) }) };
      }
      return { status: 200, contentType: TEXT, body: listeners.map((l) => `${String(l.name)}::${addressText(l.address)}\n`).join('') };
    },
  },
  '/stats/prometheus': { fn: (a) => ({ status: 200, contentType: 'text/plain; version=0.0.4; charset=UTF-8', body: optsOf(a).statsPrometheus ?? '# TYPE envoy_server_live gauge\nenvoy_server_live{} 1\n' }) },
  '/stats': { fn: (a) => ({ status: 200, contentType: TEXT, body: optsOf(a).stats ?? 'server.live: 1\nserver.state: 0\n' }) },
  '/server_info': { fn: (a) => ({ status: 200, contentType: JSON_CT, body: envoyJson(a.serverInfo()) }) },
  '/ready': { fn: (a) => ({ status: a.state === 'LIVE' ? 200 : 503, contentType: TEXT, body: `${a.state}\n` }) },
  '/logging': { mutates: true, fn: (a, q) => a.logging(q) },
  '/reset_counters': { mutates: true, fn: ok },
  '/drain_listeners': { mutates: true, fn: ok },
  '/healthcheck/fail': { mutates: true, fn: ok },
  '/healthcheck/ok': { mutates: true, fn: ok },
  '/quitquitquit': { mutates: true, fn: ok },
  '/certs': { fn: () => ({ status: 200, contentType: JSON_CT, body: envoyJson({ certificates: [] }) }) },
  '/memory': { fn: () => ({ status: 200, contentType: JSON_CT, body: envoyJson({ allocated: '10485760', heap_size: '16777216' }) }) },
  '/help': { fn: () => ({ status: 200, contentType: TEXT, body: help() }) },
};

function optsOf(a: EnvoyAdmin): EnvoyAdminOptions {
  return a.options;
}

function help(): string {
  return `admin commands are:\n${Object.keys(HANDLERS)
    .sort()
    .map((p) => `  ${p}: ${HANDLERS[p]?.mutates ? '(POST) ' : ''}emulated\n`)
    .join('')}`;
}

function addressText(a: unknown): string {
  const sa = isObject(a) && isObject(a.socket_address) ? a.socket_address : undefined;
  return sa ? `${String(sa.address)}:${String(sa.port_value ?? 0)}` : '';
}

/** The default `/clusters` text format, derived from the JSON form. */
function clustersText(json: unknown): string {
  let out = '';
  for (const c of arr(isObject(json) ? json.cluster_statuses : undefined)) {
    if (!isObject(c)) continue;
    const n = String(c.name);
    out += `${n}::observability_name::${String(c.observability_name ?? n)}\n`;
    for (const p of ['default_priority', 'high_priority']) {
      out += `${n}::${p}::max_connections::4294967295\n${n}::${p}::max_pending_requests::4294967295\n${n}::${p}::max_requests::4294967295\n${n}::${p}::max_retries::4294967295\n`;
    }
    out += `${n}::added_via_api::${c.added_via_api === true ? 'true' : 'false'}\n`;
    for (const h of arr(c.host_statuses)) {
      if (!isObject(h)) continue;
      const addr = addressText(h.address);
      for (const st of ['cx_active', 'cx_connect_fail', 'cx_total', 'rq_active', 'rq_error', 'rq_success', 'rq_timeout', 'rq_total']) out += `${n}::${addr}::${st}::0\n`;
      const hs = isObject(h.health_status) ? h.health_status.eds_health_status : undefined;
      out += `${n}::${addr}::hostname::\n${n}::${addr}::health_flags::${hs === 'UNHEALTHY' ? '/failed_eds_health' : hs === 'DEGRADED' ? '/degraded_eds_health' : 'healthy'}\n`;
      out += `${n}::${addr}::weight::${String(h.weight ?? 1)}\n${n}::${addr}::region::\n${n}::${addr}::zone::\n${n}::${addr}::sub_zone::\n${n}::${addr}::canary::false\n${n}::${addr}::priority::0\n${n}::${addr}::success_rate::-1\n${n}::${addr}::local_origin_success_rate::-1\n`;
    }
  }
  return out;
}

function arr(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

function loadJson(v: unknown): unknown {
  if (typeof v !== 'string') return v;
  const t = v.trimStart();
  return JSON.parse(t.startsWith('{') || t.startsWith('[') ? v : fs.readFileSync(v, 'utf8'));
}

const ALLOWED_DEBUG_PORTS = [15000, 15004, 15020, 15021];

export interface PilotAgentResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

/**
 * `pilot-agent request <method> <path> [<body>] [--debug-port N]` as Istio implements it
 * (pilot/pkg/request/command.go): body + "\n" on success; status > 399 except 404 is an error that
 * cobra prints as `Error: ...` on stderr before main logs it to stdout and exits -1 (255).
 */
export function pilotAgent(admin: EnvoyAdmin | undefined, argv: string[], now: () => Date = () => new Date()): PilotAgentResult {
  const fail = (msg: string): PilotAgentResult => ({
    stdout: `${now().toISOString().replace(/\.(\d{3})Z$/, '.$1000Z')}\terror\t${msg}\n`,
    stderr: `Error: ${msg}\n`,
    exitCode: 255,
  });
  const args = argv.slice(1);
  let port = 15000;
  const positional: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i] ?? '';
    if (a === '--debug-port') port = Number(args[++i]);
    else if (a.startsWith('--debug-port=')) port = Number(a.slice('--debug-port='.length));
    else if (a.startsWith('--') && a.includes('=')) continue; // logging flags cobra accepts on the root
    else positional.push(a);
  }
  const [sub, method, rawPath, body] = positional;
  if (sub !== 'request') {
    if (sub === undefined) return { stdout: 'Istio Pilot agent runs in the sidecar or gateway container and bootstraps Envoy.\n', stderr: '', exitCode: 0 };
    return fail(`unknown command "${sub}" for "pilot-agent"`);
  }
  if (method === undefined || rawPath === undefined) return fail(`requires at least 2 arg(s), only received ${positional.length - 1}`);
  if (!ALLOWED_DEBUG_PORTS.includes(port)) return fail(`debug port ${port} is not in allowed list [${ALLOWED_DEBUG_PORTS.join(' ')}]`);
  const path = rawPath.replace(/^\//, '');
  const goMethod = method.charAt(0).toUpperCase() + method.slice(1).toLowerCase();
  if (!admin || admin.down || port !== 15000) {
    return fail(`${goMethod} "http://localhost:${port}/${path}": dial tcp [::1]:${port}: connect: connection refused`);
  }
  const res = admin.handle(method, `/${path}`, body ?? '', 'pilot-agent');
  if (res.status > 399 && res.status !== 404) return fail(`received unsuccessful status code ${res.status}: ${res.body}`);
  return { stdout: `${res.body}\n`, stderr: '', exitCode: 0 };
}
