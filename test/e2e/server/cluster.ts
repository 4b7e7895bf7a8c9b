/**
 * One test cluster's state: objects, API resources, RBAC deny rules, injected failures, exec rules,
 * port-forward targets, logs and Envoy admin emulators. The HTTP side lives in server.ts.
 */
import crypto from 'node:crypto';
import net from 'node:net';
import { Duplex } from 'node:stream';
import type { ServerResponse } from 'node:http';
import { EnvoyAdmin } from './envoy/admin.js';
import { BUILTIN_RESOURCES, ISTIO_RESOURCES, Registry, splitApiVersion } from './registry.js';
import { normalizeLogs } from './logs.js';
import type { AuthzAttributes } from './status.js';
import type { PortConnector, PortTargetResult } from './streams.js';
import type { ClusterOptions, CreateHook, DenyRule, FailureRule, KubeObject, LogSource, PodLogs, PortTarget, RecordedRequest, ResourceDef } from './types.js';

export interface Watcher {
  def: ResourceDef;
  namespace?: string;
  filter: (o: KubeObject) => boolean;
  send: (type: 'ADDED' | 'MODIFIED' | 'DELETED', o: KubeObject) => void;
  end: () => void;
}

interface Follower {
  key: string;
  container: string;
  res: ServerResponse;
  write: (line: string) => void;
}

/** Handle on one cluster for tests: inspect and change its state while kubectl runs. */
export interface TestCluster {
  readonly name: string;
  readonly url: string;
  readonly token: string;
  readonly user: string;
  /** Requests this cluster received (a view of the server-wide log). */
  requests(): RecordedRequest[];
  objects(): KubeObject[];
  get(apiVersion: string, kind: string, namespace: string | undefined, name: string): KubeObject | undefined;
  /** Adds or replaces an object (registers its kind if needed); watchers see ADDED/MODIFIED. */
  apply(o: KubeObject): KubeObject;
  delete(apiVersion: string, kind: string, namespace: string | undefined, name: string): boolean;
  /** Registers an API resource at runtime (e.g. install the Istio CRDs mid-test). Discovery caches are the client's business. */
  registerResource(def: ResourceDef): void;
  denyRules: DenyRule[];
  /** Adds a failure rule (500 InternalError by default). */
  fail(rule: FailureRule): void;
  clearFailures(): void;
  /** The Envoy admin emulator of `namespace/pod`. */
  envoy(podKey: string): EnvoyAdmin | undefined;
  /** Attaches (or replaces) an Envoy admin emulator at runtime. */
  addSidecar(podKey: string, admin: EnvoyAdmin): Promise<void>;
  setPortTarget(podKey: string, port: number, target: PortTarget | undefined): void;
  /** Appends log text to a container (followers of `logs -f` receive it). */
  appendLog(podKey: string, container: string, text: string): void;
  /** Ends `logs -f` streams of a container, as when it exits. */
  endLogs(podKey: string, container?: string): void;
  /** Observes creates from now on (as ClusterOptions.onCreate); returns the function that stops it. */
  onCreate(hook: CreateHook): () => void;
}

export class ClusterRuntime implements TestCluster {
  readonly name: string;
  readonly opts: ClusterOptions;
  readonly token: string;
  readonly user: string;
  readonly registry = new Registry();
  readonly admins = new Map<string, EnvoyAdmin>();
  readonly watchers = new Set<Watcher>();
  readonly followers = new Set<Follower>();
  denyRules: DenyRule[];
  url = '';
  private readonly store = new Map<string, KubeObject>();
  private rv = 100;
  private failures: (FailureRule & { used: number })[];
  private readonly portTargets = new Map<string, Map<number, PortTarget>>();
  private readonly logSources = new Map<string, Map<string, PodLogs>>();
  private readonly allRequests: () => RecordedRequest[];
  private readonly createHooks = new Set<CreateHook>();

  constructor(name: string, opts: ClusterOptions, allRequests: () => RecordedRequest[]) {
    this.name = name;
    this.opts = opts;
    this.allRequests = allRequests;
    this.token = opts.token ?? `tok-${name}-${crypto.randomBytes(12).toString('hex')}`;
    this.user = opts.user ?? 'system:serviceaccount:default:mesh-egress-test';
    this.denyRules = [...(opts.denyRules ?? [])];
    this.failures = (opts.failures ?? []).map((f) => ({ ...f, used: 0 }));
    for (const d of BUILTIN_RESOURCES) this.registry.add(d);
    if (opts.istio !== false) for (const d of ISTIO_RESOURCES) this.registry.add(d);
    for (const d of opts.resources ?? []) this.registry.add(d);
    for (const o of opts.objects ?? []) this.apply(o, false);
    this.syncCrds();
    for (const [key, ports] of Object.entries(opts.portForward ?? {})) for (const [p, t] of Object.entries(ports)) this.setPortTarget(key, Number(p), t);
    for (const [key, containers] of Object.entries(opts.logs ?? {})) {
      const m = new Map<string, PodLogs>();
      for (const [c, l] of Object.entries(containers)) m.set(c, normalizeLogs(l));
      this.logSources.set(key, m);
    }
    for (const [key, a] of Object.entries(opts.sidecars ?? {})) this.admins.set(key, new EnvoyAdmin(`${name}/${key}`, a));
    if (opts.onCreate) this.createHooks.add(opts.onCreate);
  }

  onCreate(hook: CreateHook): () => void {
    this.createHooks.add(hook);
    return () => this.createHooks.delete(hook);
  }

  /** Runs the create observers (after the object is stored and the response is sent). */
  created(o: KubeObject): void {
    for (const h of this.createHooks) h(structuredClone(o), this);
  }

  async start(): Promise<void> {
    await Promise.all([...this.admins.values()].map((a) => a.listen()));
  }

  async stop(): Promise<void> {
    for (const w of this.watchers) w.end();
    this.watchers.clear();
    for (const f of this.followers) f.res.end();
    this.followers.clear();
    await Promise.all([...this.admins.values()].map((a) => a.close()));
  }

  requests(): RecordedRequest[] {
    return this.allRequests().filter((r) => r.cluster === this.name);
  }

  private key(def: ResourceDef, ns: string | undefined, name: string): string {
    return `${def.group}|${def.plural}|${def.namespaced ? (ns ?? '') : ''}|${name}`;
  }

  /** Keeps apiextensions CustomResourceDefinition objects in step with registered non-built-in resources. */
  private syncCrds(): void {
    const crdDef = this.registry.byKind('apiextensions.k8s.io', 'CustomResourceDefinition');
    if (!crdDef) return;
    for (const crd of this.registry.crds()) {
      const k = this.key(crdDef, undefined, crd.metadata.name ?? '');
      if (!this.store.has(k)) this.store.set(k, crd);
    }
  }

  nextRv(): string {
    return String(++this.rv);
  }

  currentRv(): string {
    return String(this.rv);
  }

  defFor(o: KubeObject): ResourceDef {
    const [group] = splitApiVersion(o.apiVersion);
    return this.registry.byKind(group, o.kind) ?? this.registry.addForObject(o);
  }

  apply(o: KubeObject, notify = true): KubeObject {
    if (!o || typeof o !== 'object' || !o.metadata?.name) throw new Error(`object without metadata.name: ${JSON.stringify(o).slice(0, 200)}`);
    const def = this.defFor(o);
    const obj = structuredClone(o);
    if (!def.namespaced) delete obj.metadata.namespace;
    obj.metadata.resourceVersion = this.nextRv();
    obj.metadata.uid ??= crypto.randomUUID();
    obj.metadata.creationTimestamp ??= new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
    const k = this.key(def, obj.metadata.namespace, obj.metadata.name ?? '');
    const existed = this.store.has(k);
    this.store.set(k, obj);
    if (notify) this.notify(def, existed ? 'MODIFIED' : 'ADDED', obj);
    return obj;
  }

  getByDef(def: ResourceDef, ns: string | undefined, name: string): KubeObject | undefined {
    return this.store.get(this.key(def, ns, name));
  }

  removeByDef(def: ResourceDef, ns: string | undefined, name: string): KubeObject | undefined {
    const k = this.key(def, ns, name);
    const o = this.store.get(k);
    if (!o) return undefined;
    this.store.delete(k);
    o.metadata.resourceVersion = this.nextRv();
    this.notify(def, 'DELETED', o);
    return o;
  }

  /** Objects of a resource, sorted like etcd keys (namespace, then name). */
  list(def: ResourceDef, ns?: string): KubeObject[] {
    const prefix = `${def.group}|${def.plural}|`;
    const out: KubeObject[] = [];
    for (const [k, o] of this.store) if (k.startsWith(prefix) && (ns === undefined || !def.namespaced || (o.metadata.namespace ?? '') === ns)) out.push(o);
    return out.sort((a, b) => `${a.metadata.namespace ?? ''}/${a.metadata.name ?? ''}`.localeCompare(`${b.metadata.namespace ?? ''}/${b.metadata.name ?? ''}`));
  }

  /** Recent changes, so a watch from a list's resourceVersion misses nothing that happened in between. */
  private readonly history: { rv: number; def: ResourceDef; type: 'ADDED' | 'MODIFIED' | 'DELETED'; obj: KubeObject }[] = [];

  eventsSince(def: ResourceDef, rv: number): { type: 'ADDED' | 'MODIFIED' | 'DELETED'; obj: KubeObject }[] {
    return this.history.filter((e) => e.def === def && e.rv > rv);
  }

  private notify(def: ResourceDef, type: 'ADDED' | 'MODIFIED' | 'DELETED', o: KubeObject): void {
    this.history.push({ rv: Number(o.metadata.resourceVersion), def, type, obj: structuredClone(o) });
    if (this.history.length > 2000) this.history.splice(0, this.history.length - 2000);
    for (const w of this.watchers) {
      if (w.def !== def) continue;
      if (w.namespace !== undefined && def.namespaced && o.metadata.namespace !== w.namespace) continue;
      if (w.filter(o)) w.send(type, o);
    }
  }

  objects(): KubeObject[] {
    return [...this.store.values()].map((o) => structuredClone(o));
  }

  get(apiVersion: string, kind: string, namespace: string | undefined, name: string): KubeObject | undefined {
    const def = this.registry.byKind(splitApiVersion(apiVersion)[0], kind);
    const o = def ? this.getByDef(def, namespace, name) : undefined;
    return o ? structuredClone(o) : undefined;
  }

  delete(apiVersion: string, kind: string, namespace: string | undefined, name: string): boolean {
    const def = this.registry.byKind(splitApiVersion(apiVersion)[0], kind);
    return def ? this.removeByDef(def, namespace, name) !== undefined : false;
  }

  registerResource(def: ResourceDef): void {
    this.registry.add(def);
    this.syncCrds();
  }

  /** The first deny rule matching these attributes, if any. */
  denied(a: AuthzAttributes): DenyRule | undefined {
    const m = (rule: string | undefined, v: string | undefined): boolean => rule === undefined || rule === '*' || rule === (v ?? '');
    return this.denyRules.find(
      (r) =>
        m(r.verb, a.verb) &&
        m(r.group, a.group) &&
        m(r.resource, a.resource) &&
        // A rule without subresource covers the resource itself, as an RBAC rule on "pods" does not grant "pods/exec".
        (r.subresource === undefined ? !a.subresource : m(r.subresource, a.subresource)) &&
        m(r.namespace, a.namespace) &&
        m(r.name, a.name),
    );
  }

  fail(rule: FailureRule): void {
    this.failures.push({ ...rule, used: 0 });
  }

  clearFailures(): void {
    this.failures = [];
  }

  /** Consumes a matching failure rule. */
  failure(method: string, pathname: string): FailureRule | undefined {
    for (const f of this.failures) {
      if (f.method && f.method.toUpperCase() !== method.toUpperCase()) continue;
      if (typeof f.path === 'string' ? f.path !== pathname : !f.path.test(pathname)) continue;
      if (f.times !== undefined && f.used >= f.times) continue;
      f.used++;
      return f;
    }
    return undefined;
  }

  envoy(podKey: string): EnvoyAdmin | undefined {
    return this.admins.get(podKey);
  }

  async addSidecar(podKey: string, admin: EnvoyAdmin): Promise<void> {
    await this.admins.get(podKey)?.close();
    this.admins.set(podKey, admin);
    await admin.listen();
  }

  setPortTarget(podKey: string, port: number, target: PortTarget | undefined): void {
    const m = this.portTargets.get(podKey) ?? new Map<number, PortTarget>();
    if (target === undefined) m.delete(port);
    else m.set(port, target);
    this.portTargets.set(podKey, m);
  }

  /** What the kubelet's port-forward dials inside the pod's network namespace. */
  connector(p: KubeObject): PortConnector {
    const key = `${p.metadata.namespace ?? ''}/${p.metadata.name ?? ''}`;
    const uid = p.metadata.uid ?? '';
    const sandbox = crypto.createHash('sha256').update(uid).digest('hex');
    const refused = (port: number): PortTargetResult => ({
      error: `error forwarding port ${port} to pod ${sandbox}, uid : failed to execute portforward in network namespace "/var/run/netns/cni-${uid}": failed to connect to localhost:${port} inside namespace "${sandbox}", IPv4: dial tcp4 127.0.0.1:${port}: connect: connection refused IPv6 dial tcp6 [::1]:${port}: connect: connection refused `,
    });
    return async (port) => {
      let target = this.portTargets.get(key)?.get(port);
      const admin = this.admins.get(key);
      if (target === undefined && port === 15000 && admin && !admin.down) target = admin.port;
      if (target === undefined) return refused(port);
      if (typeof target === 'function') {
        const [ours, theirs] = duplexPair();
        target(theirs);
        return { stream: ours };
      }
      const port2 = target;
      return new Promise<PortTargetResult>((resolve) => {
        const s = net.connect(port2, '127.0.0.1');
        s.once('connect', () => resolve({ stream: s }));
        s.once('error', () => resolve(refused(port)));
      });
    };
  }

  logsOf(podKey: string, container: string): PodLogs {
    return this.logSources.get(podKey)?.get(container) ?? {};
  }

  appendLog(podKey: string, container: string, text: string): void {
    const m = this.logSources.get(podKey) ?? new Map<string, PodLogs>();
    this.logSources.set(podKey, m);
    const cur = m.get(container) ?? {};
    const now = new Date();
    const lines = text.split('\n');
    if (lines.at(-1) === '') lines.pop();
    const existing: LogSource = cur.current ?? [];
    const asLines = typeof existing === 'string' ? existing.split('\n').filter((l, i, a) => i < a.length - 1 || l !== '').map((line) => ({ time: now, line })) : existing;
    m.set(container, { ...cur, current: [...asLines, ...lines.map((line) => ({ time: now, line }))] });
    for (const f of this.followers) if (f.key === podKey && f.container === container) for (const l of lines) f.write(l);
  }

  endLogs(podKey: string, container?: string): void {
    for (const f of [...this.followers]) {
      if (f.key !== podKey || (container !== undefined && f.container !== container)) continue;
      f.res.end();
      this.followers.delete(f);
    }
  }

  follow(key: string, container: string, res: ServerResponse, write: (line: string) => void): void {
    const f: Follower = { key, container, res, write };
    this.followers.add(f);
    res.on('close', () => this.followers.delete(f));
  }
}

/** An in-memory socket pair (stream.duplexPair arrived only in Node 22). */
export function duplexPair(): [Duplex, Duplex] {
  let a: Duplex | undefined;
  let b: Duplex | undefined;
  const make = (peer: () => Duplex | undefined): Duplex =>
    new Duplex({
      read() {},
      write(chunk: Buffer, _enc, cb) {
        peer()?.push(chunk);
        cb();
      },
      final(cb) {
        peer()?.push(null);
        cb();
      },
    });
  a = make(() => b);
  b = make(() => a);
  return [a, b];
}
