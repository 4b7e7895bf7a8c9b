/**
 * The log-level e2e world: deploy/checkout in `shop` with three sidecar replicas whose Envoy admin
 * emulators start from different logger levels (two of them away from Istio's defaults, so a
 * "reset to default" restore would show), a pod with the same labels but no sidecar, and a
 * Pending one. The CLI runs in-process with an Io whose signals the test fires, or as the built
 * bundle in a child process that gets real signals.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startCli } from '../../helpers/cli-process.js';
import { ENVOY_LOGGERS, LOG_LEVELS, kubectlPath, kubectlVersions, namespace, pod, workload, type AdminResponse, type ClusterOptions, type EnvoyAdmin, type EnvoyAdminOptions, type KubeObject, startTestServer, type TestServer } from '../server/index.js';

export { spawnBuilt, startCli, type Child, type InProcess } from '../../helpers/cli-process.js';

export const DUMP = path.resolve(import.meta.dirname, '../../scenarios/seed002-modern/registry-only.json');
export const EXPECTED = path.join(import.meta.dirname, 'expected');

/** kubectl 1.27 (SPDY) and the newest installed (websocket). */
export const VERSIONS = [...new Set(['1.27', kubectlVersions().at(-1) ?? '1.27'])];

/** `it` when running with kubectl `version`, else nothing (checks that do not depend on kubectl's transport run once). */
export function onlyWith(version: string, wanted: string): (name: string, fn: () => Promise<void>) => void {
  return version === wanted ? (name, fn) => it(name, fn) : () => undefined;
}

/** Start-up levels per replica: replica 0 and 1 differ from Istio's `warning,misc:error`. */
export const START_LEVELS: readonly Record<string, string>[] = [
  { upstream: 'info', router: 'error', pool: 'trace' },
  { admin: 'debug', connection: 'critical', misc: 'warning' },
  {},
];

export interface World {
  readonly cluster: ClusterOptions;
  readonly pods: readonly string[];
  /** namespace/name of each replica */
  readonly keys: readonly string[];
  readonly noSidecar: string;
  readonly pending: string;
}

export interface WorldOptions {
  readonly sidecars?: (i: number) => Partial<EnvoyAdminOptions>;
  readonly extraPods?: boolean;
  readonly canary?: boolean;
  readonly overrides?: Partial<ClusterOptions>;
}

export function checkoutWorld(o: WorldOptions = {}): World {
  const app = workload({ name: 'checkout', namespace: 'shop', sidecar: true, replicas: 3 });
  const pods = app.pods.map((p) => p.metadata.name!);
  const keys = pods.map((p) => `shop/${p}`);
  const extra: KubeObject[] =
    o.extraPods === false
      ? []
      : [
          pod({ name: 'checkout-debug', namespace: 'shop', labels: { app: 'checkout' } }),
          pod({ name: 'checkout-pending', namespace: 'shop', labels: { app: 'checkout' }, sidecar: true, phase: 'Pending' }),
        ];
  const sidecars: Record<string, EnvoyAdminOptions> = {};
  keys.forEach((k, i) => {
    sidecars[k] = { configDump: DUMP, loggers: { ...START_LEVELS[i] }, ...(o.sidecars?.(i) ?? {}) };
  });
  // the same app in another namespace, for -A
  if (o.canary) {
    extra.push(namespace('shop-canary', { 'istio-injection': 'enabled' }), pod({ name: 'checkout-canary', namespace: 'shop-canary', labels: { app: 'checkout' }, sidecar: true }));
    sidecars['shop-canary/checkout-canary'] = { configDump: DUMP };
  }
  return {
    cluster: { objects: [namespace('shop', { 'istio-injection': 'enabled' }), namespace('istio-system'), ...app.all, ...extra], sidecars, namespace: 'shop', ...o.overrides },
    pods,
    keys,
    noSidecar: 'checkout-debug',
    pending: 'checkout-pending',
  };
}

const TEXT = 'text/plain; charset=UTF-8';

/**
 * `/logging` of an Envoy whose registry lacks `names` (another build), on top of the emulator's
 * own state: those loggers are not listed, and a change naming one is refused as Envoy 1.22+
 * refuses an unknown name (400, all-or-nothing, logs_handler.cc changeLogLevels).
 */
export function withoutLoggers(admin: () => EnvoyAdmin, names: readonly string[]): (method: string, query: string) => AdminResponse {
  const hide = (body: string): string => body.split('\n').filter((l) => !names.some((n) => l.startsWith(`  ${n}: `))).join('\n');
  return (method, query) => {
    if (method !== 'POST') return { status: 405, contentType: TEXT, body: `Method ${method} not allowed, POST required.` };
    const named = query.startsWith('paths=') ? query.slice(6).split(',').map((p) => p.split(':')[0]) : query.startsWith('level=') || query === '' ? [] : [query.split('=')[0]];
    if (named.some((n) => names.includes(n ?? ''))) {
      // an unknown name: the emulator's own error text for one (a name no Envoy has)
      const r = admin().logging('no_such_logger=debug');
      return { ...r, body: hide(r.body) };
    }
    const r = admin().logging(query);
    return { ...r, body: hide(r.body) };
  };
}

/**
 * `/logging` of an Envoy before 1.22 (AdminImpl::handlerLogging): no `paths=`; a change it cannot
 * parse answers 404 with usage text that does not mention paths, followed by the unchanged list.
 * 404 is not an error for `pilot-agent request`, so only the list tells that nothing changed.
 */
export function legacyLogging(admin: () => EnvoyAdmin): (method: string, query: string) => AdminResponse {
  return (method, query) => {
    if (method !== 'POST') return { status: 405, contentType: TEXT, body: `Method ${method} not allowed, POST required.` };
    const eq = query.indexOf('=');
    const key = eq >= 0 ? query.slice(0, eq) : query;
    const value = eq >= 0 ? query.slice(eq + 1) : '';
    // the level is checked first; `paths=a:debug` is a logger "paths" with level "a:debug"
    if (query !== '' && !(LOG_LEVELS as readonly string[]).includes(value)) {
      const usage = `usage: /logging?<name>=<level> (change single level)\nusage: /logging?level=<level> (change all levels)\nlevels: ${LOG_LEVELS.map((l) => `${l} `).join('')}\n`;
      return { status: 404, contentType: TEXT, body: usage + admin().logging('').body };
    }
    // a valid level for a name no logger has: 200 and nothing changes
    if (key !== 'level' && query !== '' && !Object.hasOwn(admin().loggers(), key)) return admin().logging('');
    return admin().logging(query);
  };
}

/** Logger state of every replica, from the emulators. */
export function levels(srv: TestServer, keys: readonly string[]): Record<string, Record<string, string>> {
  return Object.fromEntries(keys.map((k) => [k, srv.cluster().envoy(k)!.loggers()]));
}

/** Istio's start-up levels overlaid with a replica's own: what the emulator starts from. */
export function startLevels(i: number): Record<string, string> {
  const base = Object.fromEntries(ENVOY_LOGGERS.map((n) => [n, n === 'misc' ? 'error' : 'warning']));
  return { ...base, ...START_LEVELS[i] };
}

/** `/logging` requests with a query (changes) a replica's emulator received. */
export function changeRequests(srv: TestServer, key: string): string[] {
  return srv
    .cluster()
    .envoy(key)!
    .requests.filter((r) => r.path.startsWith('/logging?'))
    .map((r) => r.path);
}

export function cacheDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'mesh-egress-cache-'));
}

export function cliEnv(srv: TestServer, version: string, cache: string): Record<string, string> {
  return srv.kubectlEnv({ MESH_EGRESS_KUBECTL: kubectlPath(version), XDG_CACHE_HOME: cache });
}

/** A test server holding a checkout world, a cache directory, and the CLI's environment. */
export interface Served {
  readonly srv: TestServer;
  readonly world: World;
  readonly cache: string;
  /** kubectl of the version given to serveWorld against the server, XDG_CACHE_HOME the cache directory */
  readonly env: Record<string, string>;
  /** every replica's levels as its emulator started (what a restore must come back to) */
  start(): Record<string, Record<string, string>>;
}

/**
 * Registers beforeAll/afterAll where it is called: the world (built in beforeAll; options given as
 * a function can reach the server and world from handlers), its server and a cache directory,
 * stopped and removed after. `version`: the kubectl `env` runs (undefined: no `env`).
 */
export function serveWorld(version: string | undefined, options: WorldOptions | ((served: Served) => WorldOptions) = {}): Served {
  let srv: TestServer | undefined;
  let world: World | undefined;
  let cache: string | undefined;
  let env: Record<string, string> | undefined;
  const ready = <T>(v: T | undefined, what: string): T => {
    if (v === undefined) throw new Error(`serveWorld: no ${what} (before beforeAll, or no kubectl version given)`);
    return v;
  };
  const served: Served = {
    get srv() {
      return ready(srv, 'server');
    },
    get world() {
      return ready(world, 'world');
    },
    get cache() {
      return ready(cache, 'cache directory');
    },
    get env() {
      return ready(env, 'environment');
    },
    start: () => Object.fromEntries(served.world.keys.map((k, i) => [k, startLevels(i)])),
  };
  beforeAll(async () => {
    world = checkoutWorld(typeof options === 'function' ? options(served) : options);
    srv = await startTestServer({ clusters: { prod: world.cluster } });
    cache = cacheDir();
    if (version !== undefined) env = cliEnv(srv, version, cache);
  });
  afterAll(async () => {
    await srv?.stop();
    if (cache) fs.rmSync(cache, { recursive: true, force: true });
  });
  return served;
}

export async function runCli(args: readonly string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  const c = startCli(args, env);
  const code = await c.done;
  return { code, stdout: c.out(), stderr: c.err() };
}

const update = process.env.UPDATE_GOLDEN === '1';

/** Golden files under expected/ (UPDATE_GOLDEN=1 rewrites them). */
export function golden(name: string, actual: string): void {
  const file = path.join(EXPECTED, name);
  if (update || !fs.existsSync(file)) {
    if (!update) throw new Error(`missing golden ${file}: run UPDATE_GOLDEN=1 npx vitest run test/e2e/log-level`);
    fs.mkdirSync(EXPECTED, { recursive: true });
    fs.writeFileSync(file, actual);
    return;
  }
  expect(actual).toBe(fs.readFileSync(file, 'utf8'));
}

/** Replaces what changes between runs (temp dir, clock, random suffix) in a document before comparing it with a golden. */
export function stable(json: string, cache: string): string {
  return json
    .replaceAll(cache, '$XDG_CACHE_HOME')
    .replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z/g, '<time>')
    .replace(/\d{8}T\d{6}Z-prod-[0-9a-f]{6}\.json/g, '<lease>.json');
}

/**
 * `/logging` of an Envoy started with --enable-fine-grain-logging (logs_handler.cc with
 * FineGrainLogContext, source/common/common/fine_grain_logger.cc): loggers are source files, the
 * list prints them "  <file>: <level>"; a change (`paths=` or `<name>=`) replaces the whole list of
 * verbosity updates and re-levels every logger, so those it does not name fall back to the default
 * level (updateVerbositySetting); names are globs there, so an unknown one is not an error.
 */
export function fineGrainLogging(files: readonly string[], defaultLevel: string, initial: Record<string, string>): { handler: (method: string, query: string) => AdminResponse; levels: () => Record<string, string> } {
  let updates = new Map(Object.entries(initial));
  let fallback = defaultLevel;
  const levelsNow = (): Record<string, string> => Object.fromEntries(files.map((f) => [f, updates.get(f) ?? fallback]));
  const isLevel = (l: string): boolean => (LOG_LEVELS as readonly string[]).includes(l);
  const answer = (status: number, prefix: string): AdminResponse => ({
    status,
    contentType: TEXT,
    body: `${prefix}active loggers:\n${Object.entries(levelsNow()).map(([f, l]) => `  ${f}: ${l}`).join('\n')}\n`,
  });
  const refuse = (why: string): AdminResponse => answer(400, `error: ${why}\n\nusage: /logging?<name>=<level> (change single level)\nusage: /logging?paths=name1:level1,name2:level2,... (change multiple levels)\nusage: /logging?level=<level> (change all levels)\nlevels: ${LOG_LEVELS.map((l) => `${l} `).join('')}\n`);
  return {
    levels: levelsNow,
    handler(method, query) {
      if (method !== 'POST') return { status: 405, contentType: TEXT, body: `Method ${method} not allowed, POST required.` };
      if (query === '') return answer(200, '');
      const params = query.split('&');
      if (params.length !== 1) return refuse('invalid number of parameters');
      const [key, value = ''] = params[0]!.split(/=(.*)/s);
      if (key === 'level') {
        if (!isLevel(value)) return refuse('unknown logger level');
        fallback = value;
        return answer(200, '');
      }
      const next = new Map<string, string>();
      for (const pair of key === 'paths' ? value.split(',') : [`${key}:${value}`]) {
        const i = pair.indexOf(':');
        const [name, level] = [pair.slice(0, i), pair.slice(i + 1)];
        if (!name || !level) return refuse('empty logger name or empty logger level');
        if (!isLevel(level)) return refuse('unknown logger level');
        next.set(name, level);
      }
      updates = next;
      return answer(200, '');
    },
  };
}
