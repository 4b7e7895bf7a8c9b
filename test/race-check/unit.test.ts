/**
 * The pure parts of race-check, one rule at a time: log lines (kubelet timestamps, pilot-agent's
 * readiness in text and JSON, how client libraries word a refused connection), the injector's
 * layout (native, hold, versions), capture of an init container's destination, the newest pods of
 * a workload, kubectl's STATUS column.
 */
import { describe, expect, it } from 'vitest';
import { kubectlStatus, raceCheck } from '../../src/analyze/race/check.js';
import { captureOf, egressDestinations, networkNeed, parseAddress, podCapture } from '../../src/analyze/race/egress.js';
import { istioVersionOf, kubeletMinor, nativeSupport, ordering, podLayout } from '../../src/analyze/race/layout.js';
import { isConnectionRefused, parseTime, proxyReadiness, redactSecrets, reduceLogForSnapshot, refusedDestination, splitLog, withoutOwnTimestamp } from '../../src/analyze/race/log-lines.js';
import { newestPods } from '../../src/analyze/race/newest.js';
import { podFacts } from '../../src/analyze/trace/pod-settings.js';
import { serviceOfHost } from '../../src/collect/race.js';
import type { KubeObject, Pod } from '../../src/model/cluster-view.js';
import { Clock, meshPod, type PodDef } from './pods.js';

const asPod = (o: unknown): Pod => o as Pod;

describe('log lines', () => {
  it('reads the kubelet prefix to the nanosecond, else a timestamp the line starts with', () => {
    const lines = splitLog('2020-03-31T10:41:15.552128897Z failed to create connection\n2026-01-05T08:00:04.412518Z\tinfo\tEnvoy proxy is ready\nno time here\n');
    expect(lines.map((l) => l.at)).toEqual(['2020-03-31T10:41:15.552128897Z', '2026-01-05T08:00:04.412518Z', undefined]);
    expect(lines[0]!.micros! - parseTime('2020-03-31T10:41:15Z')!).toBe(552128);
    expect(lines[0]!.text).toBe('failed to create connection');
    expect(parseTime('2026-01-05T09:00:00+01:00')).toBe(parseTime('2026-01-05T08:00:00Z'));
    expect(parseTime('yesterday')).toBeUndefined();
  });

  it.each([
    ['Go', 'failed to create connection to feature-store redis, err=dial tcp 192.168.9.16:19209: connect: connection refused', '192.168.9.16:19209'],
    ['ioredis', '[ioredis] Unhandled error event: Error: connect ECONNREFUSED 10.0.0.6:7000', '10.0.0.6:7000'],
    ['node-postgres', 'Error: connect ECONNREFUSED 10.96.45.12:5432', '10.96.45.12:5432'],
    ['Java', 'Caused by: java.net.ConnectException: Connection refused', undefined],
    ['Python', "ConnectionRefusedError: [Errno 111] Connection refused", undefined],
    ['requests', "requests.exceptions.ConnectionError: HTTPConnectionPool(host='api.internal', port=80): Max retries exceeded with url: / (Caused by NewConnectionError('<urllib3.connection.HTTPConnection object at 0x7f>: Failed to establish a new connection: [Errno 111] Connection refused'))", undefined],
    ['curl', 'curl: (7) Failed to connect to api.example.com port 443 after 1 ms: Connection refused', 'api.example.com:443'],
    ['Rust', 'Error: Connection refused (os error 111)', undefined],
    ['.NET on Windows', 'No connection could be made because the target machine actively refused it. (10.0.0.5:1433)', '10.0.0.5:1433'],
    ['MySQL', "ERROR 2003 (HY000): Can't connect to MySQL server on 'orders-db' (111)", undefined],
    ['Kafka', '[Producer clientId=producer-1] Connection to node -1 (kafka.data.svc.cluster.local/10.96.12.40:9092) could not be established. Broker may not be available.', '10.96.12.40:9092'],
    ['gRPC', 'rpc error: code = Unavailable desc = connection error: desc = "transport: Error while dialing: dial tcp 10.96.3.3:50051: connect: connection refused"', '10.96.3.3:50051'],
    ['Go DNS (DNS capture on, agent not up)', 'lookup redis.example.com on 10.96.0.10:53: read udp 10.244.1.5:40543->10.96.0.10:53: read: connection refused', '10.96.0.10:53'],
  ])('%s: refused', (_lib, line, dest) => {
    expect(isConnectionRefused(line)).toBe(true);
    expect(refusedDestination(line)).toBe(dest);
  });

  it.each([
    ['Envoy answered (it runs)', 'upstream connect error or disconnect/reset before headers. reset reason: connection failure, transport failure reason: delayed connect error: 111'],
    ['a timeout', 'dial tcp 10.0.0.6:7000: i/o timeout'],
    ['a reset', 'read tcp 10.244.1.17:51234->10.0.0.6:7000: read: connection reset by peer'],
    ['DNS', 'getaddrinfo EAI_AGAIN redis.example.com'],
  ])('%s: not a refused connection', (_what, line) => {
    expect(isConnectionRefused(line)).toBe(false);
  });

  it("pilot-agent's readiness lines in console and JSON format, Istio 1.3 to now", () => {
    expect(proxyReadiness('2026-01-05T08:00:04.412518Z\tinfo\tEnvoy proxy is ready')).toEqual({ kind: 'ready', message: 'Envoy proxy is ready' });
    expect(proxyReadiness('2026-01-05T08:00:04.412163Z\tinfo\tReadiness succeeded in 2.312518s')).toEqual({ kind: 'ready', message: 'Readiness succeeded in 2.312518s' });
    expect(proxyReadiness('2020-03-31T10:41:17.432871Z\tinfo\tEnvoy proxy is NOT ready: config not received from Pilot (is Pilot running?): cds updates: 0 successful, 0 rejected; lds updates: 0 successful, 0 rejected')?.kind).toBe('not-ready');
    expect(proxyReadiness('{"level":"info","time":"2026-01-05T08:00:04.412518Z","msg":"Envoy proxy is ready"}')).toEqual({ kind: 'ready', message: 'Envoy proxy is ready' });
    expect(proxyReadiness('{"level":"warn","time":"2026-01-05T08:00:03.001Z","msg":"Envoy proxy is NOT ready: server is not live, current state is: PRE_INITIALIZING"}')?.kind).toBe('not-ready');
    expect(proxyReadiness('2026-01-05T08:00:01.1Z\tinfo\tWaiting for Envoy proxy to be ready (timeout: 60 seconds)...')).toBeUndefined();
  });

  it('credentials in application logs are masked before they are printed or stored', () => {
    expect(redactSecrets('dial tcp: redis://default:hunter2@10.0.0.6:7000 refused')).toBe('dial tcp: redis://<redacted>@10.0.0.6:7000 refused');
    expect(redactSecrets('connecting with password=hunter2 user=app token: "abc.def"')).toBe('connecting with password=<redacted> user=app token: "<redacted>"');
    expect(redactSecrets('Authorization: Bearer eyJhbGciOi.J9x')).toBe('Authorization: Bearer <redacted>');
    expect(redactSecrets('key AKIAIOSFODNN7EXAMPLE used')).toBe('key <redacted> used');
    expect(redactSecrets('connect ECONNREFUSED 10.0.0.6:7000')).toBe('connect ECONNREFUSED 10.0.0.6:7000');
  });

  it('a snapshot keeps the lines the check reads and the last few, and nothing else', () => {
    const text = [
      '2026-01-05T08:00:02.100000001Z starting with DATABASE_URL=postgres://app:pw@db/app',
      '2026-01-05T08:00:02.200000002Z some business line',
      '2026-01-05T08:00:02.911532871Z [ioredis] Unhandled error event: Error: connect ECONNREFUSED 10.0.0.6:7000',
      '2026-01-05T08:00:03.000000003Z another business line',
      '2026-01-05T08:00:04.412615000Z 2026-01-05T08:00:04.412518Z\tinfo\tEnvoy proxy is ready',
      '2026-01-05T08:00:05.000000004Z last line token=abc',
      '',
    ].join('\n');
    expect(reduceLogForSnapshot(text, 1)).toBe(
      '2026-01-05T08:00:02.911532871Z [ioredis] Unhandled error event: Error: connect ECONNREFUSED 10.0.0.6:7000\n2026-01-05T08:00:04.412615000Z 2026-01-05T08:00:04.412518Z\tinfo\tEnvoy proxy is ready\n2026-01-05T08:00:05.000000004Z last line token=<redacted>\n',
    );
  });

  it('a quoted line loses only its own leading timestamp', () => {
    expect(withoutOwnTimestamp('2026-01-05T14:00:02.124Z [ERROR] agent.auth.handler: error authenticating')).toBe('[ERROR] agent.auth.handler: error authenticating');
    expect(withoutOwnTimestamp('2026-01-05 11:01:03.920  WARN 1 --- [main] x')).toBe('WARN 1 --- [main] x');
    // Envoy's own format keeps its bracketed fields together
    expect(withoutOwnTimestamp('[2020-03-31 10:41:16.301][21][warning][config] gRPC config stream closed')).toBe('[2020-03-31 10:41:16.301][21][warning][config] gRPC config stream closed');
    expect(withoutOwnTimestamp('connect ECONNREFUSED 10.0.0.6:7000')).toBe('connect ECONNREFUSED 10.0.0.6:7000');
  });
});

function def(over: Partial<PodDef>): PodDef {
  return {
    name: 'api-7d9f8c6b5-x2k4p',
    namespace: 'shop',
    clock: new Clock('2026-01-05T08:00:00Z'),
    labels: { app: 'api', 'pod-template-hash': '7d9f8c6b5' },
    owner: { kind: 'ReplicaSet', name: 'api-7d9f8c6b5' },
    istio: { version: '1.26.2' },
    containers: [{ name: 'api', image: 'registry.example.com/api:1.0' }],
    phase: 'Running',
    states: {},
    ...over,
  };
}

describe("the injector's layout", () => {
  it('versions from images and kubelets', () => {
    expect(istioVersionOf('docker.io/istio/proxyv2:1.26.2')).toBe('1.26.2');
    expect(istioVersionOf('gcr.io/istio-release/proxyv2:1.27.1-distroless')).toBe('1.27.1');
    expect(istioVersionOf('registry.example.com/proxyv2@sha256:abc')).toBeUndefined();
    expect(istioVersionOf('localhost:5000/istio/proxyv2:1.24.0')).toBe('1.24.0');
    expect(kubeletMinor('v1.33.2-gke.1240000')).toBe(33);
    expect(kubeletMinor('v1.28.15-eks-aeac579')).toBe(28);
    expect(kubeletMinor('garbage')).toBeUndefined();
  });

  it('classic without hold, classic with the hold rendered, native with and without startupProbe', () => {
    const plain = asPod(meshPod(def({})));
    expect(podLayout(plain)).toMatchObject({ layout: 'classic', interception: 'istio-init', appContainers: ['api'], waitHook: undefined });
    expect(ordering(plain, podLayout(plain), undefined)).toMatchObject({ holdRequested: false, holdEffective: false, appWaitsForProxy: false });
    const held = asPod(meshPod(def({ istio: { version: '1.26.2', hold: true }, annotations: { 'proxy.istio.io/config': 'holdApplicationUntilProxyStarts: true\nproxyStatsMatcher:\n  inclusionPrefixes: [cluster.outbound]\n' } })));
    expect(podLayout(held).waitHook).toEqual({ timeoutSeconds: 60 });
    expect(ordering(held, podLayout(held), undefined)).toMatchObject({ holdRequested: true, holdEffective: true, appWaitsForProxy: true, requestedAtInjection: true });
    const native = asPod(meshPod(def({ istio: { version: '1.27.1', native: true } })));
    expect(podLayout(native)).toMatchObject({ layout: 'native', startupProbe: true });
    expect(ordering(native, podLayout(native), undefined).appWaitsForProxy).toBe(true);
    const noProbe = asPod(meshPod(def({ istio: { version: '1.27.1', native: true, startupProbe: false } })));
    expect(ordering(noProbe, podLayout(noProbe), undefined).appWaitsForProxy).toBe(false);
    const dropped = asPod(meshPod(def({ istio: { version: '1.26.2', nativeDropped: true } })));
    expect(podLayout(dropped).layout).toBe('init-without-restart');
  });

  it('the hold requested in the mesh config but not rendered: requested, not effective, and the pod says it was injected without it', () => {
    const pod = asPod(meshPod(def({})));
    const o = ordering(pod, podLayout(pod), { namespace: 'istio-system', name: 'istio', mesh: { defaultConfig: { holdApplicationUntilProxyStarts: true } } });
    expect(o).toMatchObject({ holdRequested: true, holdEffective: false, requestedAtInjection: false });
    expect(o.missing).toHaveLength(2);
    // an explicit false on the pod wins over the mesh default (mesh.ApplyProxyConfig)
    const optOut = asPod(meshPod(def({ annotations: { 'proxy.istio.io/config': '{"holdApplicationUntilProxyStarts": false}' } })));
    expect(ordering(optOut, podLayout(optOut), { namespace: 'istio-system', name: 'istio', mesh: { defaultConfig: { holdApplicationUntilProxyStarts: true } } }).holdRequested).toBe(false);
  });

  it('why a pod has no native sidecar, by Istio version and node versions (webhook.go DetectNativeSidecar)', () => {
    const why = (version: string, nodes: { name: string; kubeletVersion: string }[], annotations: Record<string, string> = {}): string => {
      const pod = asPod(meshPod(def({ istio: { version }, annotations, node: nodes[0]?.name })));
      return nativeSupport(pod, podLayout(pod), nodes, true).why;
    };
    const n133 = [{ name: 'a', kubeletVersion: 'v1.33.1' }, { name: 'b', kubeletVersion: 'v1.33.1' }];
    expect(why('1.18.2', n133)).toContain('predates native sidecar support');
    expect(why('1.22.1', n133)).toContain('ENABLE_NATIVE_SIDECARS=true');
    expect(why('1.26.2', n133)).toContain('defaults ENABLE_NATIVE_SIDECARS to false');
    expect(why('1.27.1', [...n133, { name: 'c', kubeletVersion: 'v1.32.4' }])).toContain('c runs v1.32.4');
    expect(why('1.27.1', n133)).toContain('ENABLE_NATIVE_SIDECARS=false, or the pod was injected before');
    expect(why('1.27.1', n133, { 'sidecar.istio.io/nativeSidecar': 'false' })).toContain('opts out');
  });
});

describe('holdApplicationUntilProxyStarts asked for but not carried: the cause the pod shows', () => {
  const check = (pod: Pod) =>
    raceCheck({ pods: [{ pod, logs: [], events: [], gaps: [] }], allNodes: true, nodes: [], collectedAt: '2026-01-05T08:10:00Z', selection: { what: 'pod x' }, source: { kind: 'snapshot' }, gaps: [] }).findings.find((f) => f.code === 'MEG052');
  const states = { 'istio-init': { terminated: { at: 0, finished: 1, exitCode: 0 } }, 'istio-proxy': { running: { at: 2 }, ready: true }, api: { running: { at: 2 }, ready: true } };

  it('the injector saw the setting but rendered no hook: global.proxy.lifecycle', () => {
    const pod = asPod(meshPod(def({ states, annotations: { 'proxy.istio.io/config': '{"holdApplicationUntilProxyStarts": true}' }, istio: { version: '1.26.2', hold: true, holdRendered: false } })));
    const f = check(pod)!;
    expect(f.message).toContain('global.proxy.lifecycle');
    expect(f.fixes[0]!.content).toContain('command: ["pilot-agent", "wait"]');
  });

  it('istio-proxy first with its hook, then another webhook put a container in front of it', () => {
    const o = meshPod(def({ states, annotations: { 'proxy.istio.io/config': '{"holdApplicationUntilProxyStarts": true}' }, istio: { version: '1.26.2', hold: true } }));
    const spec = o.spec as { containers: { name: string }[] };
    spec.containers.unshift({ name: 'log-shipper' });
    const f = check(asPod(o))!;
    expect(f.message).toContain('log-shipper comes before it');
    expect(f.fixes[0]!.content).toContain('reinvocationPolicy: IfNeeded');
  });

  it('a proxy older than Istio 1.7 cannot hold at all', () => {
    const pod = asPod(meshPod(def({ states, annotations: { 'proxy.istio.io/config': '{"holdApplicationUntilProxyStarts": true}' }, istio: { version: '1.6.14' } })));
    expect(check(pod)!.message).toContain('Istio 1.6.14 predates holdApplicationUntilProxyStarts (1.7+)');
  });
});

describe('init containers and capture', () => {
  const vaultPod = asPod(
    meshPod(
      def({
        annotations: { 'vault.hashicorp.com/agent-inject': 'true', 'vault.hashicorp.com/service': 'https://vault.vault.svc:8200', 'traffic.sidecar.istio.io/excludeOutboundIPRanges': '10.96.120.0/24' },
        initContainers: [{ name: 'vault-agent-init', image: 'hashicorp/vault:1.15.2', env: [{ name: 'VAULT_ADDR', value: 'https://token:s3cret@vault.example.com' }] }],
        initAfterIstio: true,
      }),
    ),
  );

  it('destinations come from VAULT_ADDR and the injector\'s annotation, without credentials', () => {
    const d = egressDestinations(vaultPod);
    expect(d).toEqual([
      { container: 'vault-agent-init', source: 'env VAULT_ADDR', scheme: 'https', host: 'vault.example.com', port: 443 },
      { container: 'vault-agent-init', source: 'annotation vault.hashicorp.com/service', scheme: 'https', host: 'vault.vault.svc', port: 8200 },
    ]);
    expect(JSON.stringify(d)).not.toContain('s3cret');
    expect(parseAddress('vault:8200')).toEqual({ host: 'vault', port: 8200 });
    expect(serviceOfHost('vault.vault.svc', 'shop')).toEqual({ name: 'vault', namespace: 'vault' });
    expect(serviceOfHost('vault', 'shop')).toEqual({ name: 'vault', namespace: 'shop' });
    expect(serviceOfHost('vault.example.com', 'shop')).toBeUndefined();
  });

  it('the iptables emulation decides for an IP; a hostname depends on what it resolves to', () => {
    const s = podCapture(podFacts(vaultPod));
    const svc = { container: 'vault-agent-init', source: 'x', host: 'vault.vault.svc', port: 8200 };
    expect(captureOf(s, 100, 1000, { ...svc, serviceIp: '10.96.120.15' })).toMatchObject({ captured: 'no' });
    expect(captureOf(s, 100, 1000, { ...svc, serviceIp: '10.96.121.15' })).toMatchObject({ captured: 'yes' });
    expect(captureOf(s, 100, 1000, svc)).toMatchObject({ captured: 'unknown' });
    expect(captureOf({ ...s, excludeOutboundPorts: '8200' }, 100, 1000, svc)).toMatchObject({ captured: 'no' });
    expect(captureOf(s, 1337, 1000, svc)).toMatchObject({ captured: 'no' });
    expect(captureOf({ ...s, excludeIpRanges: '' }, 100, 1000, svc)).toMatchObject({ captured: 'yes' });
  });

  it('what looks like it needs the network', () => {
    const c = (name: string, image: string, command: string[] = []) => ({ name, image, command });
    const pod = asPod({ metadata: { annotations: {} } });
    expect(networkNeed(c('migrate', 'flyway/flyway:10'), pod, false)).toContain('database migration');
    expect(networkNeed(c('init', 'busybox', ['sh', '-c', 'until nc -z db 5432; do sleep 1; done; curl -fsS http://x']), pod, false)).toBe('it runs curl');
    expect(networkNeed(c('chown', 'busybox', ['chown', '-R', '1000', '/data']), pod, false)).toBeUndefined();
    expect(networkNeed(c('chown', 'busybox'), pod, true)).toBe('its log shows connection-refused errors');
  });
});

describe('newest pods of a workload', () => {
  const pod = (name: string, rs: string, created: string): Pod =>
    asPod({ metadata: { name, namespace: 'shop', creationTimestamp: created, labels: { app: 'api', 'pod-template-hash': rs.split('-').at(-1) }, ownerReferences: [{ kind: 'ReplicaSet', name: rs, controller: true }] } });
  const rs = (name: string, revision: string, deploy = 'api'): KubeObject => ({ metadata: { name, annotations: { 'deployment.kubernetes.io/revision': revision }, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: deploy, uid: 'u', controller: true }] } });
  const pods = [pod('api-aaa-1', 'api-aaa', '2026-01-05T08:00:00Z'), pod('api-bbb-1', 'api-bbb', '2026-01-05T09:00:00Z'), pod('api-bbb-2', 'api-bbb', '2026-01-05T09:00:05Z')];

  it('a Deployment: the ReplicaSet with the highest revision, even when its pods are older (a rollback)', () => {
    const r = newestPods(pods, { resource: 'deployments', name: 'api' }, [rs('api-aaa', '3'), rs('api-bbb', '2')]);
    expect(r.pods.map((p) => p.metadata?.name)).toEqual(['api-aaa-1']);
    expect(r.note).toBe('newest ReplicaSet api-aaa (revision 3): 1 pod; 2 pods of older revisions left out');
  });

  it('without ReplicaSets: the template hash of the most recently created pod', () => {
    const r = newestPods(pods, { resource: 'deployments', name: 'api' });
    expect(r.pods.map((p) => p.metadata?.name)).toEqual(['api-bbb-1', 'api-bbb-2']);
    expect(r.note).toContain('newest revision bbb');
  });

  it('one revision: all pods, no note', () => {
    expect(newestPods(pods.slice(1), { resource: 'statefulsets', name: 'api' })).toEqual({ pods: pods.slice(1) });
  });
});

describe("kubectl's STATUS column", () => {
  it.each([
    [{ phase: 'Pending', initContainerStatuses: [{ name: 'istio-init', state: { terminated: { exitCode: 0 } } }, { name: 'vault-agent-init', state: { running: {} } }] }, 'Init:1/2'],
    [{ phase: 'Pending', initContainerStatuses: [{ name: 'istio-init', state: { waiting: { reason: 'CrashLoopBackOff' } } }, { name: 'vault-agent-init', state: { waiting: { reason: 'PodInitializing' } } }] }, 'Init:CrashLoopBackOff'],
    [{ phase: 'Running', initContainerStatuses: [{ name: 'istio-init', state: { terminated: { exitCode: 0 } } }], containerStatuses: [{ name: 'app', state: { waiting: { reason: 'CrashLoopBackOff' } } }] }, 'CrashLoopBackOff'],
    [{ phase: 'Running', initContainerStatuses: [{ name: 'istio-init', state: { terminated: { exitCode: 0 } } }], containerStatuses: [{ name: 'app', state: { running: {} } }] }, 'Running'],
  ])('%j → %s', (status, expected) => {
    const inits = ((status as { initContainerStatuses?: { name: string }[] }).initContainerStatuses ?? []).map((s) => ({ name: s.name }));
    expect(kubectlStatus(asPod({ metadata: {}, spec: { initContainers: inits, containers: [] }, status }))).toBe(expected);
  });
});
