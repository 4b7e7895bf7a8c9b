/**
 * race-check scenarios: seed 001 as it happened (Istio 1.3.3, GKE 1.14) and the start-up races
 * and init-container traps around it on current Istio. Each scenario is the cluster as the API
 * server would show it (pods, their events, nodes, Services, the mesh config) plus container logs
 * as the kubelet serves them; the same data feeds the offline snapshots and the e2e test server.
 */
import { configMap, meshConfigMap, namespace, service, stableUid, type KubeObject, type PodLogs } from '../e2e/server/index.js';
import { agent, Clock, logLines, meshPod, node, podEvents, type ContainerDef, type ContainerState, type EventDef, type PodDef } from './pods.js';

export interface Scenario {
  readonly name: string;
  readonly description: string;
  readonly objects: readonly KubeObject[];
  /** `namespace/pod` → container → logs */
  readonly logs: Readonly<Record<string, Record<string, PodLogs>>>;
  /** the pod a snapshot is taken of */
  readonly pod: { readonly namespace: string; readonly name: string };
  /** when the offline snapshot was taken */
  readonly collectedAt: string;
  readonly expect: { readonly exit: number; readonly verdict: string; readonly codes: readonly string[] };
  /** also run live through the e2e test server (decisions that depend on "now" differ there) */
  readonly e2e: boolean;
}

const MESH = meshConfigMap({ outboundTrafficPolicy: 'ALLOW_ANY' });


/** The kubelet's events for an image already on the node, created and started at `t`. */
function started(container: string, image: string, t: number, init = false, count = 1, last?: number): EventDef[] {
  const times = count > 1 ? { count, last: last ?? t } : {};
  return [
    { reason: 'Pulled', message: `Container image "${image}" already present on machine`, container, init, first: t, ...times },
    { reason: 'Created', message: `Created container ${container}`, container, init, first: t, ...times },
    { reason: 'Started', message: `Started container ${container}`, container, init, first: t, ...times },
  ];
}

function scheduled(ns: string, pod: string, nodeName: string): EventDef {
  return { reason: 'Scheduled', message: `Successfully assigned ${ns}/${pod} to ${nodeName}`, first: 0, eventTime: true };
}

/** pilot-agent 1.2x start-up lines up to readiness (the real sequence, trimmed). */
function agentStart(c: Clock, t: number, ready: number, pod: string, ns: string, ip: string): [number, string][] {
  return [
    agent(c, t + 0.051, 'info', 'FLAG: --concurrency="0"'),
    agent(c, t + 0.052, 'info', 'FLAG: --domain="' + ns + '.svc.cluster.local"'),
    agent(c, t + 0.058, 'info', 'Maximum file descriptors (ulimit -n): 1048576'),
    agent(c, t + 0.059, 'info', `Proxy role\tips=[${ip}] type=sidecar id=${pod}.${ns} domain=${ns}.svc.cluster.local`),
    agent(c, t + 0.06, 'info', 'Apply proxy config from env {"discoveryAddress":"istiod.istio-system.svc:15012"}'),
    agent(c, t + 0.071, 'info', 'Opening status port 15020'),
    agent(c, t + 0.074, 'info', 'Starting SDS grpc server', 'sds'),
    agent(c, t + 0.075, 'info', 'starting Http service at 127.0.0.1:15004'),
    agent(c, t + 0.083, 'info', 'Pilot SAN: [istiod.istio-system.svc]'),
    agent(c, t + 0.085, 'info', 'Starting proxy agent'),
    agent(c, t + 0.086, 'info', 'Envoy command: [-c etc/istio/proxy/envoy-rev.json --drain-time-s 45 --drain-strategy immediate --local-address-ip-version v4 --file-flush-interval-msec 1000 --disable-hot-restart --allow-unknown-static-fields -l warning --component-log-level misc:error]'),
    agent(c, t + 0.412, 'info', 'connected to delta upstream XDS server: istiod.istio-system.svc:15012\tid=1', 'xdsproxy'),
    agent(c, t + 0.498, 'info', `generated new workload certificate\tresourceName=default latency=401.83ms ttl=23h59m59.502247614s`, 'cache'),
    agent(c, t + 0.499, 'info', 'Root cert has changed, start rotating root cert', 'cache'),
    agent(c, t + 0.611, 'info', 'ADS: new connection for node:1', 'ads'),
    agent(c, t + 0.631, 'info', 'SDS: PUSH request for node:' + pod + '.' + ns + ' resources:1 size:4.0kB resource:default', 'ads'),
    agent(c, ready, 'info', `Readiness succeeded in ${(ready - t).toFixed(6).replace(/0+$/, '')}s`),
    agent(c, ready + 0.000355, 'info', 'Envoy proxy is ready'),
  ];
}

// ---- builders shared by the scenarios -------------------------------------------------------------

/** A scenario's pod: the object, its events and its containers' logs. */
export interface ScenarioPod {
  readonly pod: KubeObject;
  readonly events: KubeObject[];
  readonly logs: Record<string, PodLogs>;
}

/** A pod of a ReplicaSet (the pod's name without its random suffix unless `rs` says otherwise). */
interface ReplicaPodDef extends Omit<PodDef, 'labels' | 'owner' | 'node' | 'podIP'> {
  readonly app: string;
  /** labels between `app` and `pod-template-hash` */
  readonly labels?: Record<string, string>;
  readonly rs?: string;
  readonly node: string;
  readonly podIP: string;
  /** replaces the scheduler's Scheduled event, which comes first */
  readonly scheduled?: EventDef;
}

interface ReplicaPod {
  readonly pod: KubeObject;
  readonly events: KubeObject[];
  readonly name: string;
  readonly namespace: string;
  /** istio-proxy's log: pilot-agent starting at `start`, Envoy ready at `ready` */
  proxyLog(start: number, ready: number): PodLogs;
}

/** The pod as Istio's injector renders it and the events its scheduler and kubelet record (Scheduled first). */
function replicaPod(def: ReplicaPodDef, events: readonly EventDef[]): ReplicaPod {
  const { app, labels, rs = def.name.replace(/-[a-z0-9]{5}$/, ''), scheduled: sched, ...rest } = def;
  const pod = meshPod({ ...rest, labels: { app, ...labels, 'pod-template-hash': rs.split('-').at(-1)! }, owner: { kind: 'ReplicaSet', name: rs } });
  const c = def.clock;
  return {
    pod,
    events: podEvents(pod, c, [sched ?? scheduled(def.namespace, def.name, def.node), ...events]),
    name: def.name,
    namespace: def.namespace,
    proxyLog: (start, ready) => ({ current: logLines(c, agentStart(c, start, ready, def.name, def.namespace, def.podIP)) }),
  };
}

interface ScenarioDef {
  readonly name: string;
  readonly description: string;
  /** namespaces besides the pod's own (created with istio-injection=enabled) */
  readonly namespaces?: readonly KubeObject[];
  /** what the cluster holds after the pod and its events: nodes, Services, the mesh config */
  readonly cluster: readonly KubeObject[];
  readonly collectedAt: string;
  readonly expect: Scenario['expect'];
  readonly e2e: boolean;
}

function scenario(p: ScenarioPod, d: ScenarioDef): Scenario {
  const ns = p.pod.metadata.namespace!;
  const name = p.pod.metadata.name!;
  return {
    name: d.name,
    description: d.description,
    objects: [namespace(ns, { 'istio-injection': 'enabled' }), ...(d.namespaces ?? []), p.pod, ...p.events, ...d.cluster],
    logs: { [`${ns}/${name}`]: p.logs },
    pod: { namespace: ns, name },
    collectedAt: d.collectedAt,
    expect: d.expect,
    e2e: d.e2e,
  };
}

function proxyv2(version = '1.26.2'): string {
  return `docker.io/istio/proxyv2:${version}`;
}

/** istio-init (or istio-validation) that ran from 0 to 1 */
const INIT_DONE: ContainerState = { terminated: { at: 0, finished: 1, exitCode: 0 } };
const POD_INITIALIZING: ContainerState = { waiting: { reason: 'PodInitializing' } };

/** The kubelet's warning while Envoy is not ready yet (istio-proxy's startup probe answers 503). */
function startupProbe503(first: number, last?: number, count?: number): EventDef {
  return { reason: 'Unhealthy', type: 'Warning', message: 'Startup probe failed: HTTP probe failed with statuscode: 503', container: 'istio-proxy', first, ...(count !== undefined ? { last, count } : {}) };
}

const HTTP_8080 = [{ containerPort: 8080, name: 'http', protocol: 'TCP' }];

// ---- seed 001, as it happened -----------------------------------------------------------------------

function seed001(): Scenario {
  const c = new Clock('2020-03-31T10:41:11Z');
  const ns = 'feature';
  const name = 'post-feature-service-v1-67d56cdd-g7fvb';
  const nodeName = 'gke-prod-pool-2-9c6e0b7a-kq3z';
  const app = 'post-feature-service';
  const image = 'gcr.io/acme-prod/post-feature-service:v1.8.2';
  const p = replicaPod(
    {
      name,
      namespace: ns,
      clock: c,
      app,
      labels: { version: 'v1' },
      node: nodeName,
      podIP: '10.52.3.18',
      istio: { version: '1.3.3' },
      containers: [{ name: app, image, ports: HTTP_8080, env: [{ name: 'REDIS_ADDR', value: '192.168.9.16:19209' }] }],
      phase: 'Running',
      states: {
        'istio-init': { terminated: { at: 2, finished: 3, exitCode: 0 } },
        'istio-proxy': { running: { at: 4 }, ready: true },
        [app]: { running: { at: 4 }, ready: true },
      },
      conditions: { initialized: 3, ready: 50 },
      scheduled: { reason: 'Scheduled', message: `Successfully assigned ${ns}/${name} to ${nodeName}`, first: 0, component: 'default-scheduler' },
    },
    [
      ...started('istio-init', 'docker.io/istio/proxy_init:1.3.3', 2, true),
      ...started('istio-proxy', 'docker.io/istio/proxyv2:1.3.3', 4),
      ...started(app, image, 4),
      { reason: 'Unhealthy', type: 'Warning', message: 'Readiness probe failed: HTTP probe failed with statuscode: 503', container: 'istio-proxy', first: 6, last: 47, count: 5 },
    ],
  );
  const notReady = 'config not received from Pilot (is Pilot running?): cds updates: 0 successful, 0 rejected; lds updates: 0 successful, 0 rejected';
  const proxyLog = logLines(c, [
    agent(c, 4.208, 'info', 'FLAG: --applicationPorts="[8080]"'),
    agent(c, 4.209, 'info', 'FLAG: --statusPort="15020"'),
    agent(c, 4.217, 'info', 'Version root@a3a9bc1f-docker.io/istio-1.3.3-4e69b05cf4c41bb00c46f8b8a5f4dfc1e51bb2fc-Clean'),
    agent(c, 4.218, 'info', 'Obtained private IP [10.52.3.18]'),
    agent(c, 4.219, 'info', 'PilotSAN []string{"spiffe://cluster.local/ns/istio-system/sa/istio-pilot-service-account"}'),
    agent(c, 4.221, 'info', 'Starting proxy agent'),
    agent(c, 4.2215, 'info', 'watching /etc/certs for changes'),
    agent(c, 4.222, 'info', 'Epoch 0 starting'),
    agent(c, 4.243, 'info', `Envoy command: [-c /etc/istio/proxy/envoy-rev0.json --restart-epoch 0 --drain-time-s 45 --parent-shutdown-time-s 60 --service-cluster ${app}.${ns} --service-node sidecar~10.52.3.18~${name}.${ns}~${ns}.svc.cluster.local --max-obj-name-len 189 --local-address-ip-version v4 --allow-unknown-fields -l warning --component-log-level misc:error --concurrency 2]`),
    [5.301, `[2020-03-31 10:41:16.301][21][warning][config] [bazel-out/k8-opt/bin/external/envoy/source/common/config/_virtual_includes/grpc_stream_lib/common/config/grpc_stream.h:87] gRPC config stream closed: 14, no healthy upstream`],
    agent(c, 6.432, 'info', `Envoy proxy is NOT ready: ${notReady}`),
    agent(c, 15.431, 'info', `Envoy proxy is NOT ready: ${notReady}`),
    agent(c, 17.433, 'info', `Envoy proxy is NOT ready: ${notReady}`),
    agent(c, 20.432, 'info', `Envoy proxy is NOT ready: ${notReady}`),
    agent(c, 47.431, 'info', `Envoy proxy is NOT ready: ${notReady}`),
    agent(c, 49.431, 'info', 'Envoy proxy is ready'),
  ]);
  const err = 'failed to create connection to feature-store redis, err=dial tcp 192.168.9.16:19209: connect: connection refused';
  const appLog = logLines(c, [
    [4.498211034, 'level=info msg="starting post-feature-service" version=v1.8.2 commit=9f1c2ab'],
    [4.501093311, 'level=info msg="http server listening" addr=":8080"'],
    [4.552128897, err],
    [9.553901245, err],
    [19.555377802, err],
    [39.558014771, err],
    [79.561233059, 'level=info msg="connected to feature-store redis" addr="192.168.9.16:19209"'],
  ]);
  return scenario(
    { ...p, logs: { 'istio-proxy': { current: proxyLog }, [app]: { current: appLog } } },
    {
      name: 'seed001',
      description: 'Seed 001 as it happened: Istio 1.3.3 on GKE 1.14, the app starts with its sidecar and dials Redis at 192.168.9.16:19209 0.55 s later; Envoy fails its readiness probe until 10:41:58 and is ready at 10:42:00.',
      cluster: [node(nodeName, 'v1.14.10-gke.27', { 'cloud.google.com/gke-nodepool': 'pool-2' }), configMap({ name: 'istio', namespace: 'istio-system', data: { mesh: 'defaultConfig:\n  discoveryAddress: istio-pilot.istio-system:15010\nrootNamespace: istio-system\n' } })],
      collectedAt: '2020-03-31T10:52:40Z',
      expect: { exit: 79, verdict: 'RACED', codes: ['MEG050', 'MEG058'] },
      e2e: true,
    },
  );
}

// ---- current Istio, classic sidecar, no hold: the app crashes on ECONNREFUSED -----------------------

const SHOP_X7FZ = 'gke-shop-default-pool-1a2b3c4d-x7fz';
const SHOP_9QWE = 'gke-shop-default-pool-1a2b3c4d-9qwe';
const SHOP_NODES = [node(SHOP_X7FZ, 'v1.31.6-gke.1020000'), node(SHOP_9QWE, 'v1.31.6-gke.1020000')];

export function checkoutRacedPod(name = 'checkout-6b8f9d7c4-7xk2p', rs = 'checkout-6b8f9d7c4'): ScenarioPod {
  const c = new Clock('2026-01-05T08:00:00Z');
  const ns = 'shop';
  const image = 'registry.example.com/shop/checkout:3.4.1';
  const p = replicaPod(
    {
      name,
      namespace: ns,
      clock: c,
      app: 'checkout',
      rs,
      node: SHOP_X7FZ,
      podIP: '10.244.1.17',
      istio: { version: '1.26.2' },
      containers: [{ name: 'checkout', image, ports: HTTP_8080, env: [{ name: 'REDIS_URL', value: 'redis://10.0.0.6:7000' }, { name: 'PGHOST', value: 'orders-db.shop.svc' }] }],
      phase: 'Running',
      states: {
        'istio-init': INIT_DONE,
        'istio-proxy': { running: { at: 2 }, ready: true, started: true },
        checkout: { running: { at: 14 }, last: { at: 2, finished: 3, exitCode: 1, reason: 'Error' }, restarts: 1, ready: true },
      },
      conditions: { initialized: 1, ready: 15 },
    },
    [
      ...started('istio-init', proxyv2(), 0, true),
      ...started('istio-proxy', proxyv2(), 2),
      ...started('checkout', image, 2, false, 2, 14),
      { reason: 'Unhealthy', type: 'Warning', message: 'Startup probe failed: Get "http://10.244.1.17:15021/healthz/ready": dial tcp 10.244.1.17:15021: connect: connection refused', container: 'istio-proxy', first: 2 },
      startupProbe503(3, 4, 2),
      { reason: 'BackOff', type: 'Warning', message: `Back-off restarting failed container checkout in pod ${name}_${ns}(${stableUid('Pod', ns, name)})`, container: 'checkout', first: 4 },
    ],
  );
  const previous = logLines(c, [
    [2.641203776, '> checkout@3.4.1 start'],
    [2.641388012, '> node dist/server.js'],
    [2.873114590, '{"level":30,"time":1767600002873,"pid":17,"hostname":"' + name + '","msg":"checkout listening on :8080"}'],
    [2.911532871, '[ioredis] Unhandled error event: Error: connect ECONNREFUSED 10.0.0.6:7000'],
    [2.911601937, '    at TCPConnectWrap.afterConnect [as oncomplete] (node:net:1611:16)'],
    [2.923870012, '/app/node_modules/pg-pool/index.js:45'],
    [2.923901155, '    Error.captureStackTrace(err)'],
    [2.923958412, 'Error: connect ECONNREFUSED 10.96.45.12:5432'],
    [2.924011760, '    at /app/node_modules/pg-pool/index.js:45:11'],
    [2.924088123, "  errno: -111, code: 'ECONNREFUSED', syscall: 'connect', address: '10.96.45.12', port: 5432"],
    [2.925140005, 'Node.js v20.18.1'],
  ]);
  const current = logLines(c, [
    [14.622310284, '> checkout@3.4.1 start'],
    [14.622498110, '> node dist/server.js'],
    [14.871204667, '{"level":30,"time":1767600014871,"pid":17,"hostname":"' + name + '","msg":"checkout listening on :8080"}'],
    [14.902337190, '{"level":30,"time":1767600014902,"pid":17,"hostname":"' + name + '","msg":"redis ready","addr":"10.0.0.6:7000"}'],
  ]);
  return { pod: p.pod, events: p.events, logs: { 'istio-proxy': p.proxyLog(2.1, 4.412518), checkout: { current, previous } } };
}

function appBeforeProxy(): Scenario {
  return scenario(checkoutRacedPod(), {
    name: 'app-before-proxy',
    description: 'Istio 1.26 classic sidecar without holdApplicationUntilProxyStarts: the Node.js app starts with the proxy, gets ECONNREFUSED from Redis and Postgres 0.9 s later, crashes and comes back after the back-off; Envoy was ready at 08:00:04.41.',
    cluster: [...SHOP_NODES, MESH],
    collectedAt: '2026-01-05T08:20:00Z',
    expect: { exit: 79, verdict: 'RACED', codes: ['MEG050', 'MEG058'] },
    e2e: true,
  });
}

function exposedNoErrors(): Scenario {
  const c = new Clock('2026-01-05T09:30:00Z');
  const image = 'registry.example.com/shop/orders:2.11.0';
  const p = replicaPod(
    {
      name: 'orders-5f7b9c6d8-m4ktz',
      namespace: 'shop',
      clock: c,
      app: 'orders',
      node: SHOP_9QWE,
      podIP: '10.244.2.33',
      istio: { version: '1.26.2' },
      containers: [{ name: 'orders', image, ports: [{ containerPort: 9090, name: 'grpc', protocol: 'TCP' }] }],
      phase: 'Running',
      states: { 'istio-init': INIT_DONE, 'istio-proxy': { running: { at: 2 }, ready: true }, orders: { running: { at: 2 }, ready: true } },
      conditions: { initialized: 1, ready: 4 },
    },
    [...started('istio-init', proxyv2(), 0, true), ...started('istio-proxy', proxyv2(), 2), ...started('orders', image, 2), startupProbe503(2)],
  );
  const app = logLines(c, [
    [2.304511806, '{"level":"info","ts":1767605402.3044,"caller":"orders/main.go:61","msg":"starting orders","version":"2.11.0"}'],
    [2.305002917, '{"level":"info","ts":1767605402.3049,"caller":"grpcserver/server.go:88","msg":"gRPC server listening","addr":":9090"}'],
    [11.882370145, '{"level":"info","ts":1767605411.8822,"caller":"store/pool.go:40","msg":"postgres pool opened","host":"orders-db.shop.svc","conns":4}'],
  ]);
  return scenario(
    { ...p, logs: { 'istio-proxy': p.proxyLog(2.08, 3.241337), orders: { current: app } } },
    {
      name: 'exposed-no-errors',
      description: 'Istio 1.26 classic sidecar without hold: the Go service starts 1.2 s before Envoy is ready but opens its first connection 9 s later, so nothing failed this time; the pod is exposed all the same.',
      cluster: [...SHOP_NODES, MESH],
      collectedAt: '2026-01-05T09:40:00Z',
      expect: { exit: 0, verdict: 'EXPOSED', codes: ['MEG051', 'MEG058'] },
      e2e: false,
    },
  );
}

// ---- holdApplicationUntilProxyStarts ---------------------------------------------------------------------

const PAYMENTS_IMAGE = 'registry.example.com/shop/payments:5.2.0';
const HOLD_ANNOTATION = { 'proxy.istio.io/config': '{"holdApplicationUntilProxyStarts": true}' };

function paymentsLog(c: Clock, t: number, app = 'payments', version = '5.2.0'): PodLogs {
  const main = `${app[0]!.toUpperCase()}${app.slice(1)}Application`;
  return {
    current: logLines(c, [
      [t + 0.712004511, `2026-01-05 10:00:0${Math.floor(t)}.711  INFO 1 --- [           main] ${`c.e.${app}.${main}`.padEnd(40)} : Starting ${main} v${version} using Java 21.0.5`],
      [t + 6.118337025, '2026-01-05 10:00:' + String(Math.floor(t + 6)).padStart(2, '0') + '.118  INFO 1 --- [           main] o.s.b.w.embedded.tomcat.TomcatWebServer  : Tomcat started on port 8080 (http) with context path \'/\''],
    ]),
  };
}

function holdNotEffective(): Scenario {
  const c = new Clock('2026-01-05T10:00:00Z');
  const p = replicaPod(
    {
      name: 'payments-84d6f7c5b9-wq8rn',
      namespace: 'shop',
      clock: c,
      app: 'payments',
      node: SHOP_X7FZ,
      podIP: '10.244.1.41',
      istio: { version: '1.26.2', hold: false },
      containers: [{ name: 'payments', image: PAYMENTS_IMAGE, ports: HTTP_8080 }],
      phase: 'Running',
      states: { 'istio-init': INIT_DONE, 'istio-proxy': { running: { at: 2 }, ready: true }, payments: { running: { at: 2 }, ready: true } },
      conditions: { initialized: 1, ready: 9 },
    },
    [...started('istio-init', proxyv2(), 0, true), ...started('istio-proxy', proxyv2(), 2), ...started('payments', PAYMENTS_IMAGE, 2), startupProbe503(2, 3, 2)],
  );
  // the platform team turned the hold on mesh-wide after these pods were created
  const meshCm = configMap({
    name: 'istio',
    namespace: 'istio-system',
    labels: { 'istio.io/rev': 'default', release: 'istiod' },
    data: { mesh: 'defaultConfig:\n  discoveryAddress: istiod.istio-system.svc:15012\n  holdApplicationUntilProxyStarts: true\noutboundTrafficPolicy:\n  mode: ALLOW_ANY\nrootNamespace: istio-system\ntrustDomain: cluster.local\n', meshNetworks: 'networks: {}' },
  });
  return scenario(
    { ...p, logs: { 'istio-proxy': p.proxyLog(2.07, 3.902113), payments: paymentsLog(c, 2) } },
    {
      name: 'hold-not-effective',
      description: 'The mesh config turns holdApplicationUntilProxyStarts on, but this pod was injected before (its PROXY_CONFIG has no hold, istio-proxy is last without the postStart hook): the Java service starts 1.9 s before Envoy is ready.',
      cluster: [...SHOP_NODES, meshCm],
      collectedAt: '2026-01-05T10:15:00Z',
      expect: { exit: 79, verdict: 'EXPOSED', codes: ['MEG052', 'MEG058'] },
      e2e: true,
    },
  );
}

export function holdEffectivePod(name = 'payments-7c9d5f6b8-k2xvd', rs = 'payments-7c9d5f6b8', app = 'payments', image = PAYMENTS_IMAGE): ScenarioPod {
  const c = new Clock('2026-01-05T10:00:00Z');
  const p = replicaPod(
    {
      name,
      namespace: 'shop',
      clock: c,
      app,
      rs,
      annotations: HOLD_ANNOTATION,
      node: SHOP_9QWE,
      podIP: '10.244.2.51',
      istio: { version: '1.26.2', hold: true },
      containers: [{ name: app, image, ports: HTTP_8080 }],
      phase: 'Running',
      states: { 'istio-init': INIT_DONE, 'istio-proxy': { running: { at: 2 }, ready: true }, [app]: { running: { at: 4 }, ready: true } },
      conditions: { initialized: 1, ready: 11 },
    },
    [...started('istio-init', proxyv2(), 0, true), ...started('istio-proxy', proxyv2(), 2), ...started(app, image, 4), startupProbe503(2, 3, 2)],
  );
  return { pod: p.pod, events: p.events, logs: { 'istio-proxy': p.proxyLog(2.06, 3.617702), [app]: paymentsLog(c, 4, app) } };
}

function holdEffective(): Scenario {
  return scenario(holdEffectivePod(), {
    name: 'hold-effective',
    description: 'proxy.istio.io/config holds the application: istio-proxy is first with a postStart `pilot-agent wait` hook, Envoy is ready at 10:00:03.62 and the kubelet starts the Java service at 10:00:04.',
    cluster: [...SHOP_NODES, MESH],
    collectedAt: '2026-01-05T10:15:00Z',
    expect: { exit: 0, verdict: 'ORDERED', codes: [] },
    e2e: true,
  });
}

function holdWaitTimeout(): Scenario {
  const c = new Clock('2026-01-05T11:00:00Z');
  const ns = 'shop';
  const name = 'ledger-7f5d8c9b6-hq2mt';
  const image = 'registry.example.com/shop/ledger:1.9.3';
  const uid = stableUid('Pod', ns, name);
  const notReady = 'config not received from XDS server (is Istiod running?): cds updates: 0 successful, 0 rejected; lds updates: 0 successful, 0 rejected';
  const hookMsg = `Exec lifecycle hook ([pilot-agent wait]) for Container "istio-proxy" in Pod "${name}_${ns}(${uid})" failed - error: command 'pilot-agent wait' exited with 255: Error: timeout waiting for Envoy proxy to become ready. Last error: HTTP status code 503\n, message: "${c.us(2.3)}\\tinfo\\tWaiting for Envoy proxy to be ready (timeout: 60 seconds)...\\nError: timeout waiting for Envoy proxy to become ready. Last error: HTTP status code 503\\n"`;
  const p = replicaPod(
    {
      name,
      namespace: ns,
      clock: c,
      app: 'ledger',
      annotations: HOLD_ANNOTATION,
      node: SHOP_X7FZ,
      podIP: '10.244.1.62',
      istio: { version: '1.26.2', hold: true },
      containers: [{ name: 'ledger', image, ports: HTTP_8080 }],
      phase: 'Running',
      states: {
        'istio-init': INIT_DONE,
        'istio-proxy': { running: { at: 63 }, last: { at: 2, finished: 62, exitCode: 137, reason: 'Error' }, restarts: 1, ready: true },
        ledger: { running: { at: 62 }, ready: true },
      },
      conditions: { initialized: 1, ready: 70 },
    },
    [
      ...started('istio-init', proxyv2(), 0, true),
      ...started('istio-proxy', proxyv2(), 2, false, 2, 63),
      startupProbe503(3, 61, 59),
      { reason: 'FailedPostStartHook', type: 'Warning', message: hookMsg, container: 'istio-proxy', first: 62 },
      { reason: 'Killing', message: 'FailedPostStartHook', container: 'istio-proxy', first: 62 },
      ...started('ledger', image, 62),
    ],
  );
  const previousProxy = logLines(c, [
    agent(c, 2.12, 'info', 'Opening status port 15020'),
    agent(c, 2.13, 'info', 'Starting proxy agent'),
    agent(c, 2.71, 'warn', 'upstream [0] disconnected: rpc error: code = Unavailable desc = connection error: desc = "transport: Error while dialing: dial tcp 10.96.0.41:15012: i/o timeout"', 'xdsproxy'),
    agent(c, 3.0, 'warn', `Envoy proxy is NOT ready: ${notReady}`),
    agent(c, 33.0, 'warn', `Envoy proxy is NOT ready: ${notReady}`),
    agent(c, 61.0, 'warn', `Envoy proxy is NOT ready: ${notReady}`),
    agent(c, 62.1, 'info', 'Agent draining Proxy for termination'),
  ]);
  const ledger = logLines(c, [
    [62.512004118, '2026-01-05 11:01:02.511  INFO 1 --- [           main] c.e.ledger.LedgerApplication             : Starting LedgerApplication v1.9.3 using Java 21.0.5'],
    [63.920377114, '2026-01-05 11:01:03.920  WARN 1 --- [ad | producer-1] org.apache.kafka.clients.NetworkClient   : [Producer clientId=producer-1] Connection to node -1 (kafka.data.svc.cluster.local/10.96.12.40:9092) could not be established. Broker may not be available.'],
    [64.971003228, '2026-01-05 11:01:04.970  WARN 1 --- [ad | producer-1] org.apache.kafka.clients.NetworkClient   : [Producer clientId=producer-1] Connection to node -1 (kafka.data.svc.cluster.local/10.96.12.40:9092) could not be established. Broker may not be available.'],
    [68.330912775, '2026-01-05 11:01:08.330  INFO 1 --- [ad | producer-1] org.apache.kafka.clients.Metadata        : [Producer clientId=producer-1] Cluster ID: 4L6g3nShT-eMCtK--X86sw'],
  ]);
  return scenario(
    { ...p, logs: { 'istio-proxy': { ...p.proxyLog(63.1, 65.811209), previous: previousProxy }, ledger: { current: ledger } } },
    {
      name: 'hold-wait-timeout',
      description: 'The hold is in place but istiod is unreachable: `pilot-agent wait` times out after 60 s, the kubelet kills istio-proxy and starts the Java service anyway (istio/istio#41086); its Kafka client is refused until the restarted proxy is ready at 11:01:05.81.',
      cluster: [...SHOP_NODES, MESH],
      collectedAt: '2026-01-05T11:10:00Z',
      expect: { exit: 79, verdict: 'RACED', codes: ['MEG050', 'MEG053', 'MEG058'] },
      e2e: false,
    },
  );
}

// ---- native sidecars -------------------------------------------------------------------------------------

const BILLING_NODES = [node('aks-system-38712451-vmss000000', 'v1.33.2'), node('aks-system-38712451-vmss000001', 'v1.33.2')];

function nativeScenario(startupProbe: boolean, readyAt: number, appAt: number, d: Omit<ScenarioDef, 'cluster' | 'collectedAt'>): Scenario {
  const c = new Clock('2026-01-05T12:00:00Z');
  const image = 'registry.example.com/billing/invoices:4.0.2';
  const p = replicaPod(
    {
      name: startupProbe ? 'invoices-6d8f4b7c5-r9tmx' : 'invoices-59c7d8b6f4-z2lqp',
      namespace: 'billing',
      clock: c,
      app: 'invoices',
      node: 'aks-system-38712451-vmss000001',
      podIP: '10.224.0.87',
      istio: { version: '1.27.1', native: true, startupProbe },
      containers: [{ name: 'invoices', image, ports: [{ containerPort: 8000, name: 'http', protocol: 'TCP' }] }],
      phase: 'Running',
      states: { 'istio-init': INIT_DONE, 'istio-proxy': { running: { at: 1 }, ready: true, started: true }, invoices: { running: { at: appAt }, ready: true } },
      conditions: { initialized: appAt, ready: appAt + 2 },
    },
    [
      ...started('istio-init', proxyv2('1.27.1'), 0, true),
      ...started('istio-proxy', proxyv2('1.27.1'), 1, true),
      ...(startupProbe ? [{ ...startupProbe503(1, 2, 2), init: true }] : []),
      ...started('invoices', image, appAt),
    ],
  );
  const app = logLines(c, [
    [appAt + 0.41123, 'INFO:     Started server process [1]'],
    [appAt + 0.41188, 'INFO:     Waiting for application startup.'],
    [appAt + 0.90277, 'INFO:     Application startup complete.'],
    [appAt + 0.90301, 'INFO:     Uvicorn running on http://0.0.0.0:8000 (Press CTRL+C to quit)'],
  ]);
  return scenario({ ...p, logs: { 'istio-proxy': p.proxyLog(1.09, readyAt), invoices: { current: app } } }, { ...d, cluster: [...BILLING_NODES, MESH], collectedAt: '2026-01-05T12:30:00Z' });
}

function nativeHealthy(): Scenario {
  return nativeScenario(true, 2.806114, 3, {
    name: 'native-healthy',
    description: 'Istio 1.27 on AKS 1.33: ENABLE_NATIVE_SIDECARS=auto injects istio-proxy as a native sidecar with a startupProbe; the kubelet starts the Python service at 12:00:03, after Envoy is ready at 12:00:02.81.',
    expect: { exit: 0, verdict: 'ORDERED', codes: [] },
    e2e: true,
  });
}

function nativeNoStartupProbe(): Scenario {
  return nativeScenario(false, 2.703554, 2, {
    name: 'native-no-startup-probe',
    description: 'A native sidecar rendered with global.proxy.startupProbe.enabled=false: the kubelet starts the application as soon as the proxy process runs, 0.7 s before Envoy is ready.',
    expect: { exit: 0, verdict: 'EXPOSED', codes: ['MEG057'] },
    e2e: false,
  });
}

function nativeDropped(): Scenario {
  const c = new Clock('2026-01-05T13:00:00Z');
  const nodeName = 'ip-10-12-33-104.eu-west-1.compute.internal';
  const p = replicaPod(
    {
      name: 'reports-6c9b7d5f8-d8vhn',
      namespace: 'billing',
      clock: c,
      app: 'reports',
      annotations: { 'sidecar.istio.io/nativeSidecar': 'true' },
      node: nodeName,
      podIP: '10.12.40.7',
      istio: { version: '1.26.2', nativeDropped: true },
      containers: [{ name: 'reports', image: 'registry.example.com/billing/reports:1.2.0' }],
      phase: 'Pending',
      states: { 'istio-init': INIT_DONE, 'istio-proxy': { running: { at: 2 } }, reports: POD_INITIALIZING },
    },
    [...started('istio-init', proxyv2(), 0, true), ...started('istio-proxy', proxyv2(), 2, true)],
  );
  return scenario(
    { ...p, logs: { 'istio-proxy': p.proxyLog(2.11, 3.904002) } },
    {
      name: 'native-dropped',
      description: 'sidecar.istio.io/nativeSidecar: "true" on an EKS 1.28 cluster without SidecarContainers: the API server dropped restartPolicy: Always, so istio-proxy is an ordinary init container that never exits and the pod stays in Init.',
      cluster: [node(nodeName, 'v1.28.15-eks-aeac579'), MESH],
      collectedAt: '2026-01-05T13:25:00Z',
      expect: { exit: 79, verdict: 'STUCK_IN_INIT', codes: ['MEG059'] },
      e2e: false,
    },
  );
}

// ---- init containers that need the network -------------------------------------------------------------

const VAULT_SVC = service({ name: 'vault', namespace: 'vault', clusterIP: '10.96.120.15', ports: [{ port: 8200, name: 'https-internal' }, { port: 8201, name: 'http-rep' }], selector: { 'app.kubernetes.io/name': 'vault' } });

function vaultAgentInit(address: string, role: string): { name: string; image: string; env: { name: string; value: string }[]; command: string[]; args: string[]; securityContext: Record<string, unknown> } {
  const config = {
    auto_auth: { method: { type: 'kubernetes', mount_path: 'auth/kubernetes', config: { role, token_path: '/var/run/secrets/kubernetes.io/serviceaccount/token' } }, sink: [{ type: 'file', config: { path: '/home/vault/.vault-token' } }] },
    exit_after_auth: true,
    pid_file: '/home/vault/.pid',
    vault: { address },
    template: [{ destination: '/vault/secrets/db-creds', contents: `{{ with secret "database/creds/${role}" }}{{ range $k, $v := .Data }}{{ $k }}: {{ $v }}\n{{ end }}{{ end }}`, left_delimiter: '{{', right_delimiter: '}}' }],
    template_config: { exit_on_retry_failure: true },
  };
  return {
    name: 'vault-agent-init',
    image: 'hashicorp/vault:1.15.2',
    command: ['/bin/sh', '-ec'],
    args: ['echo ${VAULT_CONFIG?} | base64 -d > /home/vault/config.json && vault agent -config=/home/vault/config.json'],
    env: [
      { name: 'VAULT_LOG_LEVEL', value: 'info' },
      { name: 'VAULT_LOG_FORMAT', value: 'standard' },
      { name: 'VAULT_CONFIG', value: Buffer.from(JSON.stringify(config)).toString('base64') },
    ],
    securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] }, readOnlyRootFilesystem: true, runAsGroup: 1000, runAsNonRoot: true, runAsUser: 100 },
  };
}

function vaultAnnotations(address: string, role: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    'vault.hashicorp.com/agent-inject': 'true',
    'vault.hashicorp.com/agent-inject-secret-db-creds': `database/creds/${role}`,
    'vault.hashicorp.com/role': role,
    'vault.hashicorp.com/agent-inject-status': 'injected',
    'vault.hashicorp.com/service': address,
    'vault.hashicorp.com/auth-path': 'auth/kubernetes',
    'vault.hashicorp.com/agent-run-as-user': '100',
    'vault.hashicorp.com/agent-run-as-group': '1000',
    ...extra,
  };
}

const VAULT_BANNER = ['==> Vault Agent started! Log data will stream in below:', '', '==> Vault Agent configuration:', '', '           Api Address 1: http://bufconn', '                     Cgo: disabled', '               Log Level: info', '                 Version: Vault v1.15.2, built 2023-11-06T11:33:28Z', '             Version Sha: cf1b5cafa047bc8e4a3f93444fcb4011593b92cb', ''];

function vaultRefusedLog(c: Clock, start: number, url: string, dialed: string, attempts: number): PodLogs {
  const lines: [number, string][] = VAULT_BANNER.map((l, i) => [start + 0.1 + i * 0.0001, l]);
  lines.push([start + 0.118, `${c.ms(start + 0.118)} [INFO]  agent.sink.file: creating file sink`]);
  lines.push([start + 0.1181, `${c.ms(start + 0.118)} [INFO]  agent.sink.file: file sink configured: path=/home/vault/.vault-token mode=-rw-r-----`]);
  lines.push([start + 0.119, `${c.ms(start + 0.119)} [INFO]  agent.template.server: starting template server`]);
  lines.push([start + 0.1191, `${c.ms(start + 0.119)} [INFO]  agent.auth.handler: starting auth handler`]);
  let t = start + 0.12;
  let backoff = 1.37;
  for (let i = 0; i < attempts; i++) {
    lines.push([t, `${c.ms(t)} [INFO]  agent.auth.handler: authenticating`]);
    const e = t + 0.004;
    const b = backoff < 60 ? `${backoff.toFixed(2).replace(/\.?0+$/, '')}s` : `${Math.floor(backoff / 60)}m${(backoff % 60).toFixed(2).replace(/\.?0+$/, '')}s`;
    lines.push([e, `${c.ms(e)} [ERROR] agent.auth.handler: error authenticating: error="Put \\"${url}/v1/auth/kubernetes/login\\": dial tcp ${dialed}: connect: connection refused" backoff=${b}`]);
    t = e + backoff;
    backoff = Math.min(backoff * 1.93, 300);
  }
  return { current: logLines(c, lines) };
}

const VAULT_IMAGE = 'hashicorp/vault:1.15.2';

/** A pod in shop with Vault's injector: vault-agent-init among the init containers, vault-agent beside the app (both run as the app's service account). */
function vaultPod(def: Omit<ReplicaPodDef, 'namespace' | 'containers' | 'initContainers' | 'serviceAccount'> & { address: string; image: string; ports?: ContainerDef['ports'] }, events: readonly EventDef[]): ReplicaPod {
  const { address, image, ports, ...rest } = def;
  return replicaPod(
    {
      ...rest,
      namespace: 'shop',
      containers: [{ name: def.app, image, ...(ports ? { ports } : {}) }, { name: 'vault-agent', image: VAULT_IMAGE }],
      initContainers: [vaultAgentInit(address, def.app)],
      serviceAccount: def.app,
    },
    events,
  );
}

function vaultIstioInitStuck(): Scenario {
  const c = new Clock('2026-01-05T14:00:00Z');
  const address = 'https://vault.vault.svc:8200';
  const p = vaultPod(
    {
      name: 'catalog-5d9c7b8f64-tq2wz',
      clock: c,
      app: 'catalog',
      address,
      image: 'registry.example.com/shop/catalog:7.1.0',
      ports: HTTP_8080,
      annotations: vaultAnnotations(address, 'catalog'),
      node: SHOP_X7FZ,
      podIP: '10.244.1.93',
      istio: { version: '1.26.2' },
      initAfterIstio: true,
      phase: 'Pending',
      states: { 'istio-init': INIT_DONE, 'vault-agent-init': { running: { at: 2 } }, catalog: POD_INITIALIZING, 'vault-agent': POD_INITIALIZING, 'istio-proxy': POD_INITIALIZING },
    },
    [...started('istio-init', proxyv2(), 0, true), ...started('vault-agent-init', VAULT_IMAGE, 2, true)],
  );
  return scenario(
    { ...p, logs: { 'vault-agent-init': vaultRefusedLog(c, 2, address, '10.96.120.15:8200', 9) } },
    {
      name: 'vault-istio-init-stuck',
      description: "Seed 001's Vault race: Vault's injector ran after Istio's and appended vault-agent-init after istio-init, so its login to vault.vault.svc:8200 is redirected to port 15001 while no proxy runs; it retries forever and the pod stays in Init:1/2.",
      namespaces: [namespace('vault')],
      cluster: [...SHOP_NODES, VAULT_SVC, MESH],
      collectedAt: '2026-01-05T14:14:10Z',
      expect: { exit: 79, verdict: 'INIT_BLOCKED', codes: ['MEG054', 'MEG058'] },
      e2e: true,
    },
  );
}

function vaultCniExcluded(): Scenario {
  const c = new Clock('2026-01-05T15:00:00Z');
  const address = 'https://vault.vault.svc:8200';
  const image = 'registry.example.com/shop/catalog:7.1.0';
  const p = vaultPod(
    {
      name: 'catalog-8f6c4d7b95-hn5xk',
      clock: c,
      app: 'catalog',
      address,
      image,
      ports: HTTP_8080,
      annotations: { ...vaultAnnotations(address, 'catalog'), 'traffic.sidecar.istio.io/excludeOutboundIPRanges': '10.96.120.15/32', ...HOLD_ANNOTATION },
      node: SHOP_9QWE,
      podIP: '10.244.2.70',
      istio: { version: '1.26.2', cni: true, hold: true },
      phase: 'Running',
      states: {
        'istio-validation': INIT_DONE,
        'vault-agent-init': { terminated: { at: 2, finished: 3, exitCode: 0 } },
        'istio-proxy': { running: { at: 4 }, ready: true },
        catalog: { running: { at: 6 }, ready: true },
        'vault-agent': { running: { at: 6 }, ready: true },
      },
      conditions: { initialized: 3, ready: 9 },
    },
    [
      ...started('istio-validation', proxyv2(), 0, true),
      ...started('vault-agent-init', VAULT_IMAGE, 2, true),
      ...started('istio-proxy', proxyv2(), 4),
      ...started('catalog', image, 6),
      ...started('vault-agent', VAULT_IMAGE, 6),
    ],
  );
  const vault = logLines(c, [
    ...VAULT_BANNER.map((l, i): [number, string] => [2.1 + i * 0.0001, l]),
    [2.118, `${c.ms(2.118)} [INFO]  agent.auth.handler: authenticating`],
    [2.241, `${c.ms(2.241)} [INFO]  agent.auth.handler: authentication successful, sending token to sinks`],
    [2.242, `${c.ms(2.242)} [INFO]  agent.sink.file: token written: path=/home/vault/.vault-token`],
    [2.391, `${c.ms(2.391)} [INFO]  agent: (runner) rendered "(dynamic)" => "/vault/secrets/db-creds"`],
    [2.392, `${c.ms(2.392)} [INFO]  agent: (runner) stopping`],
  ]);
  return scenario(
    { ...p, logs: { 'vault-agent-init': { current: vault }, 'istio-proxy': p.proxyLog(4.08, 5.512338) } },
    {
      name: 'vault-cni-excluded',
      description: 'istio-cni installs the capture rules before any init container, but the pod excludes the Vault Service IP 10.96.120.15/32: vault-agent-init logs in directly and completes; the application is held until Envoy is ready.',
      namespaces: [namespace('vault')],
      cluster: [...SHOP_NODES, VAULT_SVC, MESH],
      collectedAt: '2026-01-05T15:20:00Z',
      expect: { exit: 0, verdict: 'ORDERED', codes: [] },
      e2e: true,
    },
  );
}

function vaultCniStuck(): Scenario {
  const c = new Clock('2026-01-05T16:00:00Z');
  const address = 'https://vault.example.com:8200';
  const p = vaultPod(
    {
      name: 'search-7b4f9c8d6-p6wjs',
      clock: c,
      app: 'search',
      address,
      image: 'registry.example.com/shop/search:3.3.0',
      annotations: vaultAnnotations(address, 'search'),
      node: SHOP_9QWE,
      podIP: '10.244.2.88',
      istio: { version: '1.26.2', cni: true },
      phase: 'Pending',
      states: { 'istio-validation': INIT_DONE, 'vault-agent-init': { running: { at: 2 } }, search: POD_INITIALIZING, 'vault-agent': POD_INITIALIZING, 'istio-proxy': POD_INITIALIZING },
    },
    [...started('istio-validation', proxyv2(), 0, true), ...started('vault-agent-init', VAULT_IMAGE, 2, true)],
  );
  return scenario(
    { ...p, logs: { 'vault-agent-init': vaultRefusedLog(c, 2, address, '203.0.113.10:8200', 7) } },
    {
      name: 'vault-cni-stuck',
      description: 'istio-cni without an exclusion: the capture rules exist before vault-agent-init runs, its login to the external Vault at vault.example.com:8200 (203.0.113.10) is refused at port 15001, and the pod stays in Init.',
      cluster: [...SHOP_NODES, MESH],
      collectedAt: '2026-01-05T16:06:00Z',
      expect: { exit: 79, verdict: 'INIT_BLOCKED', codes: ['MEG054', 'MEG058'] },
      e2e: false,
    },
  );
}

function cniNotReady(): Scenario {
  const c = new Clock('2026-01-05T17:00:00Z');
  const ns = 'shop';
  const name = 'cart-6f8d9b7c5-x4v2m';
  const nodeName = 'gke-shop-default-pool-1a2b3c4d-7tnp';
  const p = replicaPod(
    {
      name,
      namespace: ns,
      clock: c,
      app: 'cart',
      node: nodeName,
      podIP: '10.244.3.12',
      istio: { version: '1.26.2', cni: true },
      containers: [{ name: 'cart', image: 'registry.example.com/shop/cart:2.0.4' }],
      phase: 'Pending',
      states: { 'istio-validation': { waiting: { reason: 'CrashLoopBackOff', message: `back-off 40s restarting failed container=istio-validation pod=${name}_${ns}(${stableUid('Pod', ns, name)})` }, last: { at: 42, finished: 47, exitCode: 126, reason: 'Error' }, restarts: 3 }, cart: POD_INITIALIZING, 'istio-proxy': POD_INITIALIZING },
    },
    [
      ...started('istio-validation', proxyv2(), 1, true, 4, 42),
      { reason: 'BackOff', type: 'Warning', message: `Back-off restarting failed container istio-validation in pod ${name}_${ns}(${stableUid('Pod', ns, name)})`, container: 'istio-validation', init: true, first: 7, last: 60, count: 6 },
    ],
  );
  const v = logLines(c, [
    agent(c, 42.101, 'info', 'Istio iptables environment:'),
    agent(c, 42.104, 'info', 'Istio iptables variables:'),
    agent(c, 42.112, 'info', 'Starting iptables validation. This check verifies that iptables rules are properly established for the network.'),
    agent(c, 42.113, 'info', 'Listening on 127.0.0.1:15001'),
    agent(c, 42.113, 'info', 'Listening on 127.0.0.1:15006'),
    agent(c, 42.116, 'error', 'Error connecting to 127.0.0.6:15002: dial tcp 127.0.0.1:0->127.0.0.6:15002: connect: connection refused'),
    agent(c, 47.113, 'error', 'Validation failed: validation timeout'),
    agent(c, 47.114, 'error', 'iptables validation failed; workload is not ready for Istio.'),
    [47.1141, 'When using Istio CNI, this can occur if a pod is scheduled before the node is ready.'],
    [47.1142, ''],
    [47.1143, "If installed with 'cni.repair.deletePods=true', this pod should automatically be deleted and retry."],
    [47.1144, 'Otherwise, this pod will need to be manually removed so that it is scheduled on a node with istio-cni running, allowing iptables rules to be established.'],
  ]);
  return scenario(
    { ...p, logs: { 'istio-validation': { previous: v } } },
    {
      name: 'cni-not-ready',
      description: 'The pod was scheduled on a new node before its istio-cni agent was ready: istio-validation finds no redirection (exit code 126) and crash-loops, so the pod never leaves Init.',
      cluster: [...SHOP_NODES, node(nodeName, 'v1.31.6-gke.1020000'), MESH],
      collectedAt: '2026-01-05T17:03:00Z',
      expect: { exit: 79, verdict: 'STUCK_IN_INIT', codes: ['MEG056'] },
      e2e: false,
    },
  );
}

function dbMigratePending(): Scenario {
  const c = new Clock('2026-01-05T18:00:00Z');
  const p = replicaPod(
    {
      name: 'orders-7d5c8b9f6-b7rkq',
      namespace: 'shop',
      clock: c,
      app: 'orders',
      node: SHOP_X7FZ,
      podIP: '10.244.1.120',
      istio: { version: '1.26.2', cni: true },
      containers: [{ name: 'orders', image: 'registry.example.com/shop/orders:2.12.0' }],
      initContainers: [
        { name: 'wait-for-postgres', image: 'busybox:1.36', command: ['sh', '-c', 'until nc -z -w 2 orders-db.shop.svc 5432; do echo waiting for orders-db; sleep 2; done'] },
        { name: 'flyway-migrate', image: 'flyway/flyway:10.17', args: ['-url=jdbc:postgresql://orders-db.shop.svc:5432/orders', 'migrate'] },
      ],
      phase: 'Pending',
      states: { 'istio-validation': INIT_DONE, 'wait-for-postgres': { running: { at: 1 } }, 'flyway-migrate': POD_INITIALIZING, orders: POD_INITIALIZING, 'istio-proxy': POD_INITIALIZING },
    },
    [...started('istio-validation', proxyv2(), 0, true), ...started('wait-for-postgres', 'busybox:1.36', 1, true)],
  );
  const wait = logLines(c, [1.31, 3.34, 5.36, 7.39, 9.41, 11.43].map((t): [number, string] => [t, 'waiting for orders-db']));
  return scenario(
    { ...p, logs: { 'wait-for-postgres': { current: wait } } },
    {
      name: 'db-migrate-pending',
      description: 'istio-cni, a wait-for-postgres loop and a Flyway migration as init containers, 12 s into the pod\'s life: both will be captured while no proxy runs; the loop has not given up yet and the migration has not run.',
      cluster: [...SHOP_NODES, MESH],
      collectedAt: '2026-01-05T18:00:12Z',
      expect: { exit: 0, verdict: 'EXPOSED', codes: ['MEG055', 'MEG058'] },
      e2e: false,
    },
  );
}

export const SCENARIOS: readonly Scenario[] = [
  seed001(),
  appBeforeProxy(),
  exposedNoErrors(),
  holdNotEffective(),
  holdEffective(),
  holdWaitTimeout(),
  nativeHealthy(),
  nativeNoStartupProbe(),
  nativeDropped(),
  vaultIstioInitStuck(),
  vaultCniExcluded(),
  vaultCniStuck(),
  cniNotReady(),
  dbMigratePending(),
];

export { MESH, SHOP_NODES };
