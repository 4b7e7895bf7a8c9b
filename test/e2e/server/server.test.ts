/**
 * The test API server driven by the real kubectl binaries: 1.27 (SPDY exec and port-forward), the
 * newest installed (websocket v5 exec, SPDY-in-websocket port-forward) and the newest with
 * KUBECTL_REMOTE_COMMAND_WEBSOCKETS / KUBECTL_PORT_FORWARD_WEBSOCKETS=false (SPDY again).
 */
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CoreV1Api, Exec, KubeConfig, PortForward } from '@kubernetes/client-node';
import net from 'node:net';
import { spawn } from 'node:child_process';
import {
  configMap,
  kubectlPath,
  kubectlVersions,
  meshConfigMap,
  namespace,
  pod,
  runKubectl,
  service,
  serviceEntry,
  startPortForward,
  startTestServer,
  workload,
  type KubectlResult,
  type TestServer,
} from './index.js';

const DUMP = new URL('../../scenarios/registry-only/with-serviceentry.json', import.meta.url).pathname;
const versions = kubectlVersions();
const OLD = '1.27';
const NEW = versions.at(-1) ?? 'none';
const haveKubectl = versions.includes(OLD) && NEW !== OLD;

/** The three streaming transports a plugin meets in the wild. */
const MODES = [
  { name: `kubectl ${OLD} (SPDY)`, version: OLD, env: {}, exec: 'spdy', pf: 'spdy' },
  { name: `kubectl ${NEW} (websocket)`, version: NEW, env: {}, exec: 'websocket', pf: 'spdy-over-websocket' },
  { name: `kubectl ${NEW} with *_WEBSOCKETS=false`, version: NEW, env: { KUBECTL_REMOTE_COMMAND_WEBSOCKETS: 'false', KUBECTL_PORT_FORWARD_WEBSOCKETS: 'false' }, exec: 'spdy', pf: 'spdy' },
] as const;

const api = workload({ name: 'api', namespace: 'shop', sidecar: true, replicas: 2 });
const API0 = api.pods[0]?.metadata.name ?? '';
const API1 = api.pods[1]?.metadata.name ?? '';

describe.skipIf(!haveKubectl)('test API server with real kubectl', () => {
  let srv: TestServer;
  const k = (version: string, args: string[], env: Record<string, string> = {}, input?: string): Promise<KubectlResult> => runKubectl(version, args, { env: srv.kubectlEnv(env), input });
  /** Requests sent while `fn` ran. */
  const during = async <T>(fn: () => Promise<T>): Promise<{ result: T; reqs: TestServer['requests'] }> => {
    const from = srv.requests.length;
    const result = await fn();
    return { result, reqs: srv.requests.slice(from) };
  };

  beforeAll(async () => {
    srv = await startTestServer({
      clusters: {
        prod: {
          objects: [
            namespace('shop', { 'istio-injection': 'enabled' }),
            namespace('payments'),
            ...api.all,
            pod({ name: 'native', namespace: 'payments', sidecar: { native: true }, labels: { app: 'native' } }),
            pod({ name: 'pending', namespace: 'shop', phase: 'Pending' }),
            pod({ name: 'crashing', namespace: 'shop', sidecar: true, notRunning: ['istio-proxy'] }),
            pod({ name: 'completed', namespace: 'shop', phase: 'Succeeded' }),
            pod({ name: 'secret-pod', namespace: 'payments' }),
            service({ name: 'api', namespace: 'shop', ports: [{ port: 8080, name: 'http' }] }),
            serviceEntry({ name: 'redis', namespace: 'shop', hosts: ['redis.example.com'], addresses: ['10.0.0.6/32'], ports: [{ number: 6379, name: 'tcp-redis', protocol: 'TCP' }], resolution: 'NONE' }),
            configMap({ name: 'settings', namespace: 'shop', data: { a: '1' } }),
            meshConfigMap({ outboundTrafficPolicy: 'REGISTRY_ONLY' }),
          ],
          sidecars: { [`shop/${API0}`]: { configDump: DUMP }, [`payments/native`]: { configDump: DUMP } },
          denyRules: [
            { verb: 'get', resource: 'pods', namespace: 'payments', name: 'secret-pod' },
            { verb: 'list', resource: 'secrets' },
            { verb: 'create', resource: 'pods', subresource: 'exec', namespace: 'payments', name: 'secret-pod' },
          ],
          exec: [{ command: 'exit-with', handler: (ctx) => ({ stderr: `exiting ${ctx.command[1]}\n`, exitCode: Number(ctx.command[1]) }) }],
          logs: { [`shop/${API0}`]: { app: 'starting\nlistening on :8080\nGET /healthz 200\n', 'istio-proxy': { current: 'envoy ready\n', previous: 'envoy crashed\n' } } },
        },
        dev: { istio: false, namespace: 'shop', objects: [namespace('shop'), pod({ name: 'dev-pod', namespace: 'shop' })] },
      },
    });
  });

  afterAll(async () => {
    await srv?.stop();
  });

  describe('reads', () => {
    it.each([OLD, NEW])('kubectl %s get pods -o json: a List of the namespace’s pods, one list request, nothing mutated', async (v) => {
      const { result: r, reqs } = await during(() => k(v, ['get', 'pods', '-n', 'shop', '-o', 'json']));
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      const list = JSON.parse(r.stdout) as { kind: string; items: { kind: string; metadata: { name: string; ownerReferences?: { kind: string }[] } }[] };
      expect(list.kind).toBe('List');
      expect(list.items.map((i) => i.metadata.name)).toEqual([API0, API1, 'completed', 'crashing', 'pending'].sort());
      expect(list.items.every((i) => i.kind === 'Pod')).toBe(true);
      expect(list.items.find((i) => i.metadata.name === API0)?.metadata.ownerReferences?.[0]?.kind).toBe('ReplicaSet');
      const lists = reqs.filter((q) => q.action === 'list');
      expect(lists.map((q) => [q.pathname, q.verb, q.resource, q.namespace, q.headers.kubectlCommand])).toEqual([['/api/v1/namespaces/shop/pods', 'list', 'pods', 'shop', 'kubectl get']]);
      expect(lists[0]?.headers.userAgent).toMatch(new RegExp(`^kubectl(\\.${v.replace('.', '\\.')})?/v${v.replace('.', '\\.')}\\.`));
      expect(reqs.every((q) => q.headers.authorization === 'bearer')).toBe(true);
      expect(reqs.filter((q) => q.mutating)).toEqual([]);
    });

    it.each([OLD, NEW])('kubectl %s: -A, -l (=, in, !) and --field-selector', async (v) => {
      const names = async (args: string[]): Promise<string[]> => {
        const r = await k(v, ['get', 'pods', '-o', 'name', ...args]);
        expect(r.stderr).toBe('');
        return r.stdout.trim().split('\n').filter(Boolean);
      };
      expect(await names(['-A'])).toHaveLength(7);
      expect(await names(['-A', '-l', 'app=api'])).toEqual([`pod/${API0}`, `pod/${API1}`]);
      expect(await names(['-A', '-l', 'security.istio.io/tlsMode in (istio),app notin (api)'])).toEqual(['pod/native', 'pod/crashing']);
      expect(await names(['-n', 'shop', '-l', '!security.istio.io/tlsMode'])).toEqual(['pod/completed', 'pod/pending']);
      expect(await names(['-A', '--field-selector', 'status.phase=Pending'])).toEqual(['pod/pending']);
      expect(await names(['-A', '--field-selector', 'metadata.namespace=payments,metadata.name!=native'])).toEqual(['pod/secret-pod']);
      const bad = await k(v, ['get', 'pods', '-A', '--field-selector', 'spec.foo=x']);
      expect(bad.code).toBe(1);
      expect(bad.stderr).toContain('field label not supported: spec.foo');
      const { reqs } = await during(() => names(['-A', '-l', 'app=api']));
      expect(reqs.find((q) => q.action === 'list')?.query).toMatchObject({ labelSelector: ['app=api'] });
    });

    it.each([OLD, NEW])('kubectl %s: 403 and 404 read exactly like the apiserver’s', async (v) => {
      const f = await k(v, ['get', 'pod', 'secret-pod', '-n', 'payments']);
      expect(f.code).toBe(1);
      expect(f.stderr.trim()).toBe('Error from server (Forbidden): pods "secret-pod" is forbidden: User "system:serviceaccount:default:mesh-egress-test" cannot get resource "pods" in API group "" in the namespace "payments"');
      const l = await k(v, ['get', 'secrets', '-A']);
      expect(l.stderr.trim()).toBe('Error from server (Forbidden): secrets is forbidden: User "system:serviceaccount:default:mesh-egress-test" cannot list resource "secrets" in API group "" at the cluster scope');
      const nf = await k(v, ['get', 'pod', 'nope', '-n', 'shop']);
      expect(nf.code).toBe(1);
      expect(nf.stderr.trim()).toBe('Error from server (NotFound): pods "nope" not found');
      const se = await k(v, ['get', 'serviceentry', 'nope', '-n', 'shop']);
      expect(se.stderr.trim()).toBe('Error from server (NotFound): serviceentries.networking.istio.io "nope" not found');
    });

    it.each([OLD, NEW])('kubectl %s: Istio CRDs via discovery; "doesn’t have a resource type" where they are not registered', async (v) => {
      const se = await k(v, ['get', 'serviceentries', '-n', 'shop', '-o', 'json']);
      expect(se.code).toBe(0);
      const items = (JSON.parse(se.stdout) as { items: { apiVersion: string; spec: { hosts: string[] } }[] }).items;
      expect(items.map((i) => [i.apiVersion, i.spec.hosts])).toEqual([['networking.istio.io/v1', ['redis.example.com']]]);
      expect((await k(v, ['get', 'crd', 'serviceentries.networking.istio.io', '-o', 'name'])).stdout.trim()).toBe('customresourcedefinition.apiextensions.k8s.io/serviceentries.networking.istio.io');
      const missing = await k(v, ['--context', 'dev', 'get', 'serviceentries']);
      expect(missing.code).toBe(1);
      expect(missing.stderr.trim()).toBe('error: the server doesn\'t have a resource type "serviceentries"');
      expect((await k(v, ['--context', 'dev', 'get', 'crd', '-o', 'name'])).stdout).toBe('');
    });

    it('two contexts in one kubeconfig reach two clusters; requests are attributed to each', async () => {
      const { result, reqs } = await during(() => Promise.all([k(NEW, ['get', 'pods', '-o', 'name']), k(NEW, ['--context', 'prod', 'get', 'pods', '-n', 'payments', '-o', 'name'])]));
      expect(result[0].stdout.trim()).toBe(''); // current-context is prod; its default namespace "default" is empty
      expect(result[1].stdout.trim().split('\n')).toEqual(['pod/native', 'pod/secret-pod']);
      const dev = await k(NEW, ['--context', 'dev', 'get', 'pods', '-o', 'name']);
      expect(dev.stdout.trim()).toBe('pod/dev-pod'); // dev's context namespace is shop
      expect(new Set(reqs.map((q) => q.cluster))).toEqual(new Set(['prod']));
      expect(srv.cluster('dev').requests().some((q) => q.pathname === '/api/v1/namespaces/shop/pods')).toBe(true);
      expect(srv.urls.dev).not.toBe(srv.urls.prod);
      const only = await runKubectl(NEW, ['get', 'pods', '-o', 'name'], { env: srv.kubectlEnv({ KUBECONFIG: srv.kubeconfigPaths.dev ?? '' }) });
      expect(only.stdout.trim()).toBe('pod/dev-pod');
    });

    it('deny rules change at runtime; writes are recorded as mutations; watches see runtime changes', async () => {
      const rule = { verb: 'get', resource: 'configmaps', namespace: 'shop' };
      srv.cluster().denyRules.push(rule);
      const denied = await k(NEW, ['get', 'configmap', 'settings', '-n', 'shop']);
      expect(denied.stderr.trim()).toBe('Error from server (Forbidden): configmaps "settings" is forbidden: User "system:serviceaccount:default:mesh-egress-test" cannot get resource "configmaps" in API group "" in the namespace "shop"');
      srv.cluster().denyRules.splice(srv.cluster().denyRules.indexOf(rule), 1);
      expect((await k(NEW, ['get', 'configmap', 'settings', '-n', 'shop', '-o', 'name'])).stdout.trim()).toBe('configmap/settings');

      const { reqs } = await during(async () => {
        expect((await k(NEW, ['run', 'probe', '-n', 'shop', '--image=busybox', '--restart=Never', '--labels=app=probe'])).code).toBe(0);
        expect((await k(OLD, ['delete', 'pod', 'probe', '-n', 'shop', '--wait=false'])).stdout.trim()).toBe('pod "probe" deleted');
      });
      expect(reqs.filter((q) => q.mutating).map((q) => [q.verb, q.resource, q.name ?? ''])).toEqual([
        ['create', 'pods', ''],
        ['delete', 'pods', 'probe'],
      ]);

      const watch = spawn(kubectlPath(NEW), ['get', 'pods', '-n', 'payments', '-w', '-o', 'name'], { env: srv.kubectlEnv() });
      let seen = '';
      watch.stdout.on('data', (d: Buffer) => (seen += d.toString()));
      try {
        for (let i = 0; i < 100 && !seen.includes('pod/secret-pod'); i++) await new Promise((r) => setTimeout(r, 20));
        srv.cluster().apply(pod({ name: 'late', namespace: 'payments' }));
        for (let i = 0; i < 100 && !seen.includes('pod/late'); i++) await new Promise((r) => setTimeout(r, 20));
        expect(seen).toBe('pod/native\npod/secret-pod\npod/late\n');
      } finally {
        watch.kill('SIGKILL');
        srv.cluster().delete('v1', 'Pod', 'payments', 'late');
      }
      expect(srv.requests.some((q) => q.action === 'watch' && q.namespace === 'payments' && q.query.resourceVersion !== undefined)).toBe(true);
    });

    it('an injected 500 and an authorization check (auth can-i, JSON and protobuf bodies)', async () => {
      srv.cluster().fail({ method: 'GET', path: '/api/v1/namespaces/shop/configmaps', message: 'etcdserver: request timed out', times: 1 });
      const r = await k(NEW, ['get', 'configmaps', '-n', 'shop']);
      expect(r.code).toBe(1);
      expect(r.stderr.trim()).toBe('Error from server (InternalError): Internal error occurred: etcdserver: request timed out');
      expect((await k(NEW, ['get', 'configmaps', '-n', 'shop', '-o', 'name'])).stdout.trim()).toBe('configmap/settings');
      for (const v of [OLD, NEW]) {
        expect((await k(v, ['auth', 'can-i', 'create', 'pods/exec', '-n', 'payments'])).stdout.trim()).toBe('yes');
        expect((await k(v, ['auth', 'can-i', 'create', 'pods/secret-pod', '--subresource=exec', '-n', 'payments'])).stdout.trim()).toBe('no');
        const no = await k(v, ['auth', 'can-i', 'list', 'secrets', '-A']);
        expect([no.code, no.stdout.trim()]).toEqual([1, 'no']);
      }
    });
  });

  describe.each(MODES)('exec with $name', (mode) => {
    const ex = (args: string[], input?: string): Promise<KubectlResult> => k(mode.version, ['exec', ...(input !== undefined ? ['-i'] : []), ...args], mode.env, input);

    it('pilot-agent request config_dump?resource&name_regex returns exactly the matching resources', async () => {
      const { result: r, reqs } = await during(() => ex([API0, '-n', 'shop', '-c', 'istio-proxy', '--', 'pilot-agent', 'request', 'GET', 'config_dump?resource=dynamic_listeners&name_regex=(virtualOutbound|0\\.0\\.0\\.0_.*)']));
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout.endsWith('}\n\n')).toBe(true); // Envoy's newline + pilot-agent's Println
      const configs = (JSON.parse(r.stdout) as { configs: { '@type': string; name: string }[] }).configs;
      expect(configs.map((c) => c.name)).toEqual(['0.0.0.0_7000', '0.0.0.0_8080', 'virtualOutbound']);
      expect(new Set(configs.map((c) => c['@type']))).toEqual(new Set(['type.googleapis.com/envoy.admin.v3.ListenersConfigDump.DynamicListener']));
      const execReq = reqs.find((q) => q.action === 'exec');
      expect(execReq).toMatchObject({ transport: mode.exec, status: 101, subresource: 'exec', mutating: false, query: { container: ['istio-proxy'] } });
      expect(execReq?.query.command).toEqual(['pilot-agent', 'request', 'GET', 'config_dump?resource=dynamic_listeners&name_regex=(virtualOutbound|0\\.0\\.0\\.0_.*)']);
      expect(reqs.filter((q) => q.mutating)).toEqual([]);
      expect(srv.cluster().envoy(`shop/${API0}`)?.requests.at(-1)).toMatchObject({ via: 'pilot-agent', method: 'GET' });
    });

    it('exit codes travel on the status channel', async () => {
      const { result: three, reqs } = await during(() => ex([API0, '-n', 'shop', '-c', 'app', '--', 'sh', '-c', 'exit 3']));
      expect([three.code, three.stderr.trim()]).toEqual([3, 'command terminated with exit code 3']);
      expect(reqs.find((q) => q.action === 'exec')?.exitCode).toBe(3);
      const f = await ex([API0, '-n', 'shop', '-c', 'app', '--', 'false']);
      expect(f.code).toBe(1);
      const custom = await ex([API0, '-n', 'shop', '--', 'exit-with', '42']);
      expect([custom.code, custom.stderr]).toEqual([42, 'exiting 42\ncommand terminated with exit code 42\n']);
      const unknown = await ex([API0, '-n', 'shop', '-c', 'app', '--', 'curl', 'http://x']);
      expect(unknown.code).toBe(127);
      expect(unknown.stderr).toContain('exec: "curl": executable file not found in $PATH');
      const bad = await ex([API0, '-n', 'shop', '-c', 'istio-proxy', '--', 'pilot-agent', 'request', 'GET', 'config_dump?name_regex=[']);
      expect(bad.code).toBe(255);
      expect(bad.stderr).toContain('Error: received unsuccessful status code 400: INVALID_ARGUMENT: Error while parsing name_regex from [: missing ]: [');
      const cat = await ex([API0, '-n', 'shop', '-c', 'app', '--', 'cat'], 'hello from stdin\n');
      expect([cat.code, cat.stdout]).toEqual([0, 'hello from stdin\n']);
    });

    it('pilot-agent drives /logging: POST sets levels per pod, GET is refused with 405', async () => {
      const admin = srv.cluster().envoy('payments/native');
      admin?.resetLoggers();
      const set = await ex(['native', '-n', 'payments', '-c', 'istio-proxy', '--', 'pilot-agent', 'request', 'POST', 'logging?http=debug']);
      expect(set.code).toBe(0);
      expect(set.stdout).toContain('  http: debug\n');
      expect(admin?.loggers().http).toBe('debug');
      expect(srv.cluster().envoy(`shop/${API0}`)?.loggers().http).toBe('warning');
      const get = await ex(['native', '-n', 'payments', '-c', 'istio-proxy', '--', 'pilot-agent', 'request', 'GET', 'logging']);
      expect(get.code).toBe(255);
      expect(get.stderr).toContain('Error: received unsuccessful status code 405: Method GET not allowed, POST required.');
      const wrong = await ex(['native', '-n', 'payments', '-c', 'istio-proxy', '--', 'pilot-agent', 'request', 'POST', 'logging?nosuch=debug']);
      expect(wrong.code).toBe(255);
      expect(wrong.stderr).toContain('status code 400: error: unknown logger name');
      admin?.resetLoggers();
    });

    it('fails like the apiserver for a bad container, a completed or unscheduled pod, a stopped container, RBAC', async () => {
      const c = await ex([API0, '-n', 'shop', '-c', 'nope', '--', 'true']);
      expect([c.code, c.stderr.trim()]).toEqual([1, `Error from server (BadRequest): container nope is not valid for pod ${API0}`]);
      const done = await ex(['completed', '-n', 'shop', '--', 'true']);
      expect(done.stderr.trim()).toBe('error: cannot exec into a container in a completed pod; current phase is Succeeded');
      const pending = await ex(['pending', '-n', 'shop', '--', 'true']);
      expect(pending.stderr.trim()).toBe('Error from server (BadRequest): pod pending does not have a host assigned');
      const stopped = await ex(['crashing', '-n', 'shop', '-c', 'istio-proxy', '--', 'true']);
      expect(stopped.code).toBe(1);
      // SPDY sees the kubelet's refusal as a failed upgrade; a websocket-translating apiserver reports it on the status channel.
      expect(stopped.stderr.trim()).toBe(mode.exec === 'spdy' ? 'error: unable to upgrade connection: container not found ("istio-proxy")' : 'error: Internal error occurred: unable to upgrade connection: container not found ("istio-proxy")');
      const rbac = await k(mode.version, ['exec', 'secret-pod', '-n', 'payments', '--', 'true'], mode.env);
      expect(rbac.stderr.trim()).toBe('Error from server (Forbidden): pods "secret-pod" is forbidden: User "system:serviceaccount:default:mesh-egress-test" cannot get resource "pods" in API group "" in the namespace "payments"');
    });
  });

  it(`kubectl ${NEW} falls back to SPDY when the websocket upgrade is refused`, async () => {
    srv.cluster().fail({ method: 'GET', path: `/api/v1/namespaces/shop/pods/${API0}/exec`, status: 400, reason: 'BadRequest', message: 'websockets disabled', times: 1 });
    const { result: r, reqs } = await during(() => k(NEW, ['exec', API0, '-n', 'shop', '-c', 'app', '--', 'echo', 'fallback']));
    expect([r.code, r.stdout]).toEqual([0, 'fallback\n']);
    expect(reqs.filter((q) => q.action === 'exec').map((q) => [q.method, q.headers.upgrade, q.status])).toEqual([
      ['GET', 'websocket', 400],
      ['POST', 'SPDY/3.1', 101],
    ]);
  });

  describe.each(MODES)('port-forward with $name', (mode) => {
    it('reaches the Envoy admin emulator on pod port 15000; /logging state is per pod', async () => {
      const from = srv.requests.length;
      const pf = await startPortForward(mode.version, [`pod/${API0}`, '-n', 'shop', ':15000'], { env: srv.kubectlEnv(mode.env) });
      try {
        const base = `http://127.0.0.1:${pf.localPort}`;
        const cd = await fetch(`${base}/config_dump?resource=dynamic_active_clusters&mask=cluster.name&name_regex=.*kube-dns.*`);
        expect(cd.status).toBe(200);
        expect(await cd.json()).toEqual({ configs: [{ '@type': 'type.googleapis.com/envoy.admin.v3.ClustersConfigDump.DynamicCluster', cluster: { '@type': 'type.googleapis.com/envoy.config.cluster.v3.Cluster', name: 'outbound|53||kube-dns.kube-system.svc.cluster.local' } }] });
        const ready = await fetch(`${base}/ready`);
        expect([ready.status, await ready.text()]).toEqual([200, 'LIVE\n']);
        const get = await fetch(`${base}/logging`);
        expect(get.status).toBe(405);
        const post = await fetch(`${base}/logging?level=debug`, { method: 'POST' });
        expect(post.status).toBe(200);
        expect(srv.cluster().envoy(`shop/${API0}`)?.loggers().router).toBe('debug');
        expect(srv.cluster().envoy('payments/native')?.loggers().router).toBe('warning');
        const bad = await fetch(`${base}/logging?level=loud`, { method: 'POST' });
        expect([bad.status, (await bad.text()).split('\n')[0]]).toEqual([400, 'error: unknown logger level']);
        const clusters = (await (await fetch(`${base}/clusters?format=json`)).json()) as { cluster_statuses: { name: string }[] };
        expect(clusters.cluster_statuses.some((c) => c.name === 'BlackHoleCluster')).toBe(true);
      } finally {
        await pf.stop();
        srv.cluster().envoy(`shop/${API0}`)?.resetLoggers();
      }
      const reqs = srv.requests.slice(from);
      expect(reqs.find((q) => q.action === 'portforward')).toMatchObject({ transport: mode.pf, status: 101, mutating: false });
      expect(reqs.filter((q) => q.mutating)).toEqual([]);
    });

    it('reports a port nothing listens on as the kubelet does, and forwards to a test-supplied server', async () => {
      const echo = net.createServer((s) => s.pipe(s));
      await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));
      srv.cluster().setPortTarget(`shop/${API1}`, 9000, (echo.address() as net.AddressInfo).port);
      const pf = await startPortForward(mode.version, [`pod/${API1}`, '-n', 'shop', ':9000', ':15000'], { env: srv.kubectlEnv(mode.env) });
      try {
        const reply = await new Promise<string>((resolve, reject) => {
          const s = net.connect(pf.localPort, '127.0.0.1', () => s.end('ping'));
          let got = '';
          s.on('data', (d: Buffer) => (got += d.toString()));
          s.on('close', () => resolve(got));
          s.on('error', reject);
        });
        expect(reply).toBe('ping');
        // API1 has no Envoy emulator: its :15000 is refused inside the pod.
        const second = Number(/Forwarding from 127\.0\.0\.1:(\d+) -> 15000/.exec(pf.output())?.[1]);
        await fetch(`http://127.0.0.1:${second}/ready`).catch(() => undefined);
        for (let i = 0; i < 150 && !/connection refused/.test(pf.output()); i++) await new Promise((r) => setTimeout(r, 20));
        expect(pf.output()).toMatch(/failed to connect to localhost:15000 inside namespace .*connection refused/);
      } finally {
        await pf.stop();
        echo.close();
        srv.cluster().setPortTarget(`shop/${API1}`, 9000, undefined);
      }
    });
  });

  describe('logs', () => {
    it.each([OLD, NEW])('kubectl %s logs: container, --tail, --previous, default container, errors', async (v) => {
      expect((await k(v, ['logs', API0, '-n', 'shop', '-c', 'app'])).stdout).toBe('starting\nlistening on :8080\nGET /healthz 200\n');
      expect((await k(v, ['logs', API0, '-n', 'shop', '-c', 'app', '--tail=1'])).stdout).toBe('GET /healthz 200\n');
      // kubectl picks kubectl.kubernetes.io/default-container (set by Istio's injector).
      expect((await k(v, ['logs', API0, '-n', 'shop'])).stdout).toBe('starting\nlistening on :8080\nGET /healthz 200\n');
      expect((await k(v, ['logs', API0, '-n', 'shop', '-c', 'istio-proxy', '--previous'])).stdout).toBe('envoy crashed\n');
      const ts = await k(v, ['logs', API0, '-n', 'shop', '-c', 'istio-proxy', '--timestamps']);
      expect(ts.stdout).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z envoy ready\n$/);
      const prev = await k(v, ['logs', API1, '-n', 'shop', '-c', 'app', '--previous']);
      expect(prev.stderr.trim()).toBe(`Error from server (BadRequest): previous terminated container "app" in pod "${API1}" not found`);
      const { reqs } = await during(() => k(v, ['logs', API0, '-n', 'shop', '-c', 'app', '--since=1h', '--tail=5']));
      expect(reqs.find((q) => q.action === 'log')).toMatchObject({ verb: 'get', subresource: 'log', query: { container: ['app'], sinceSeconds: ['3600'], tailLines: ['5'] }, mutating: false });
    });

    it('logs -f streams appended lines until the container ends', async () => {
      const from = srv.requests.length;
      const done = k(NEW, ['logs', '-f', API1, '-n', 'shop', '-c', 'app']);
      // The server registers the follower while handling the request, so once it is logged appends reach it.
      for (let i = 0; i < 250 && !srv.requests.slice(from).some((q) => q.action === 'log' && q.status === 200); i++) await new Promise((r) => setTimeout(r, 20));
      srv.cluster().appendLog(`shop/${API1}`, 'app', 'first\nsecond\n');
      await new Promise((r) => setTimeout(r, 100));
      srv.cluster().endLogs(`shop/${API1}`, 'app');
      const r = await done;
      expect([r.code, r.stdout]).toEqual([0, 'first\nsecond\n']);
    });
  });

  it('records latency per request when asked to (for benchmarks)', async () => {
    srv.setLatencyMs(150);
    try {
      const { result, reqs } = await during(() => k(NEW, ['get', 'pod', API0, '-n', 'shop', '-o', 'name']));
      expect(result.stdout.trim()).toBe(`pod/${API0}`);
      const get = reqs.find((q) => q.action === 'get');
      expect(get?.status).toBe(200);
      expect(result.ms).toBeGreaterThanOrEqual(150);
    } finally {
      srv.setLatencyMs(0);
    }
  });

  it('@kubernetes/client-node reads, execs (websocket v4/v5) and port-forwards (legacy websocket protocol)', async () => {
    const kc = new KubeConfig();
    kc.loadFromFile(srv.kubeconfigPath);
    const list = await kc.makeApiClient(CoreV1Api).listNamespacedPod({ namespace: 'shop', labelSelector: 'app=api' });
    expect(list.items.map((p) => p.metadata?.name)).toEqual([API0, API1]);
    const out = new PassThrough();
    let stdout = '';
    out.on('data', (d: Buffer) => (stdout += d.toString()));
    const status = await new Promise<{ status?: string }>((resolve) => {
      void new Exec(kc).exec('shop', API0, 'istio-proxy', ['pilot-agent', 'request', 'GET', 'config_dump?resource=static_clusters&mask=cluster.name'], out, null, null, false, (s) => resolve(s));
    });
    expect(status.status).toBe('Success');
    expect(stdout).toContain('"name": "prometheus_stats"');
    const pfOut = new PassThrough();
    let body = '';
    pfOut.on('data', (d: Buffer) => (body += d.toString()));
    // With v4.channel.k8s.io, client-node closes the websocket when its input ends: keep it open until the reply is in.
    const input = new PassThrough();
    await new PortForward(kc).portForward('shop', API0, [15000], pfOut, null, input);
    input.write('GET /ready HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    for (let i = 0; i < 100 && !body.includes('LIVE'); i++) await new Promise((r) => setTimeout(r, 20));
    input.end();
    expect(body).toMatch(/^HTTP\/1\.1 200 OK\r\n[\s\S]*\r\nLIVE\n/);
    const pfReq = srv.requests.filter((q) => q.action === 'portforward').at(-1);
    expect(pfReq).toMatchObject({ transport: 'websocket', protocol: 'v4.channel.k8s.io', query: { ports: ['15000'] } });
  });

});
