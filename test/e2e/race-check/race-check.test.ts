/**
 * Live `race-check` end to end: the CLI drives the real kubectl binaries (1.27 and the newest)
 * against the in-process API server holding each scenario's pods, events, nodes, Services and
 * container logs (served with kubelet timestamps, --previous and --limit-bytes). A live run must
 * reach the same analysis as the offline snapshot of the same scenario (test/race-check/expected),
 * and a snapshot taken live by `kubectl mesh-egress snapshot` must give it too. Every run is
 * read-only.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { runCli, type CliResult } from '../../helpers/cli.js';
import { expectGolden } from '../../helpers/golden.js';
import { checkoutRacedPod, holdEffectivePod, MESH, SCENARIOS, SHOP_NODES, type Scenario } from '../../race-check/scenarios.js';
import { deployment, namespace, ownerRef, stableUid, startTestServer, type ClusterOptions, type KubeObject, type TestServer } from '../server/index.js';
import { cliEnv } from '../live/fixture.js';
import { liveSuite, NEWEST_KUBECTL as NEWEST, OLDEST_KUBECTL as OLDEST } from '../live/harness.js';

const OFFLINE = path.resolve(import.meta.dirname, '../../race-check/expected');
const EXPECTED = path.join(import.meta.dirname, 'expected');
const suite = liveSuite('race-e2e-');
const servers = suite.servers;

async function serve(cluster: ClusterOptions): Promise<TestServer> {
  const srv = await startTestServer({ clusters: { prod: cluster } });
  servers.push(srv);
  return srv;
}

function clusterOf(s: Scenario, extra: Partial<ClusterOptions> = {}): ClusterOptions {
  return { objects: [...s.objects], logs: s.logs, ...extra };
}

async function race(srv: TestServer, args: readonly string[], version = NEWEST): Promise<CliResult> {
  return runCli(['race-check', ...args], { env: cliEnv(srv.kubectlEnv(), version) });
}

/** Nothing but reads: gets, lists and logs. */
function expectReadOnly(srv: TestServer): void {
  expect(srv.requests.filter((q) => q.mutating).map((q) => `${q.method} ${q.path}`)).toEqual([]);
}

interface Doc {
  verdict: string;
  source: Record<string, unknown>;
  collectedAt: string;
  selection: { what: string; note?: string };
  pods: { name: string; verdict: string }[];
  findings: { code: string; severity: string; message: string }[];
  gaps: unknown[];
}

/** The analysis without where and when it was read. */
function analysis(text: string): unknown {
  const d = JSON.parse(text) as Record<string, unknown>;
  const { source: _s, collectedAt: _c, selection: _sel, ...rest } = d;
  void _s;
  void _c;
  void _sel;
  return rest;
}

/** Goldens of live runs: the collection time is now, so it is replaced. */
function stable(text: string, at: string): string {
  return text.split(at).join('<collected-at>');
}

describe.each([OLDEST, NEWEST])('race-check live with kubectl %s equals the offline snapshot', (version) => {
  for (const s of SCENARIOS.filter((x) => x.e2e)) {
    test(`${s.name}: ${s.expect.verdict}, exit ${s.expect.exit}`, async () => {
      const srv = await serve(clusterOf(s));
      const r = await race(srv, [`pod/${s.pod.name}`, '-n', s.pod.namespace, '-o', 'json'], version);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(s.expect.exit);
      const doc = JSON.parse(r.stdout) as Doc;
      expect(doc.source).toEqual({ kind: 'live', context: 'prod' });
      expect(doc.selection).toEqual({ what: `pod ${s.pod.name}` });
      expect(doc.verdict).toBe(s.expect.verdict);
      expect(analysis(r.stdout)).toEqual(analysis(fs.readFileSync(path.join(OFFLINE, `${s.name}.json`), 'utf8')));
      expectReadOnly(srv);
      // logs were asked with kubelet timestamps from the start, never tailed
      const logReads = srv.requests.filter((q) => q.action === 'log');
      expect(logReads.length).toBeGreaterThan(0);
      for (const q of logReads) {
        expect(q.query.timestamps).toEqual(['true']);
        expect(q.query.tailLines).toBeUndefined();
        expect(q.query.limitBytes).toEqual([String(2 * 1024 * 1024)]);
      }
      // events by the pod's uid
      const events = srv.requests.filter((q) => q.resource === 'events');
      expect(events.map((q) => q.query.fieldSelector)).toEqual([[`involvedObject.uid=${stableUid('Pod', s.pod.namespace, s.pod.name)}`]]);
    });
  }
});

describe(`race-check from a snapshot taken live (kubectl ${NEWEST})`, () => {
  for (const name of ['seed001', 'vault-istio-init-stuck']) {
    test(`${name}: the snapshot verb stores what race-check needs`, async () => {
      const s = SCENARIOS.find((x) => x.name === name)!;
      const srv = await serve(clusterOf(s));
      const file = path.join(suite.dir, `${name}.tar.gz`);
      const snap = await runCli(['snapshot', `pod/${s.pod.name}`, '-n', s.pod.namespace, '-f', file], { env: cliEnv(srv.kubectlEnv(), NEWEST) });
      expect(snap.code, snap.stderr).toBe(0);
      expectReadOnly(srv);
      const r = await runCli(['race-check', '--snapshot', file, '-o', 'json']);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(s.expect.exit);
      expect(analysis(r.stdout)).toEqual(analysis(fs.readFileSync(path.join(OFFLINE, `${s.name}.json`), 'utf8')));
    });
  }
});

/** Deployment checkout at revision 2: one pod of revision 1 that raced, two of revision 2 that are held. */
function rollout(): ClusterOptions {
  const dep = deployment({ name: 'checkout', namespace: 'shop', replicas: 2 });
  (dep.metadata.annotations as Record<string, string>)['deployment.kubernetes.io/revision'] = '2';
  const rs = (name: string, revision: string, replicas: number): KubeObject => ({
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: {
      name,
      namespace: 'shop',
      uid: stableUid('ReplicaSet', 'shop', name),
      resourceVersion: '5120',
      creationTimestamp: revision === '1' ? '2026-01-05T08:00:00Z' : '2026-01-05T10:00:00Z',
      labels: { app: 'checkout', 'pod-template-hash': name.split('-').at(-1)! },
      annotations: { 'deployment.kubernetes.io/desired-replicas': '2', 'deployment.kubernetes.io/max-replicas': '3', 'deployment.kubernetes.io/revision': revision },
      ownerReferences: [ownerRef(dep)],
    },
    spec: { replicas, selector: { matchLabels: { app: 'checkout', 'pod-template-hash': name.split('-').at(-1)! } } },
    status: { replicas, readyReplicas: replicas, availableReplicas: replicas, observedGeneration: 2 },
  });
  const old = checkoutRacedPod('checkout-6b8f9d7c4-7xk2p', 'checkout-6b8f9d7c4');
  const fresh = ['checkout-7c9d5f6b8-k2xvd', 'checkout-7c9d5f6b8-pq7wn'].map((n) => holdEffectivePod(n, 'checkout-7c9d5f6b8', 'checkout', 'registry.example.com/shop/checkout:3.5.0'));
  const logs: Record<string, Record<string, import('../server/index.js').PodLogs>> = { [`shop/${old.pod.metadata.name}`]: old.logs };
  for (const f of fresh) logs[`shop/${f.pod.metadata.name}`] = f.logs;
  return {
    objects: [namespace('shop', { 'istio-injection': 'enabled' }), dep, rs('checkout-6b8f9d7c4', '1', 1), rs('checkout-7c9d5f6b8', '2', 2), old.pod, ...old.events, ...fresh.flatMap((f) => [f.pod, ...f.events]), ...SHOP_NODES, MESH],
    logs,
  };
}

describe(`race-check of workloads (kubectl ${NEWEST})`, () => {
  test('deploy/NAME checks the pods of the newest ReplicaSet only', async () => {
    const srv = await serve(rollout());
    const r = await race(srv, ['deploy/checkout', '-n', 'shop', '-o', 'json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as Doc;
    expect(doc.selection).toEqual({ what: 'deployments/checkout', note: 'newest ReplicaSet checkout-7c9d5f6b8 (revision 2): 2 pods; 1 pod of older revisions left out' });
    expect(doc.pods.map((p) => [p.name, p.verdict])).toEqual([
      ['checkout-7c9d5f6b8-k2xvd', 'ORDERED'],
      ['checkout-7c9d5f6b8-pq7wn', 'ORDERED'],
    ]);
    expect(doc.verdict).toBe('ORDERED');
    expectGolden(path.join(EXPECTED, 'deploy-newest.json'), stable(r.stdout, doc.collectedAt));
    const table = await race(srv, ['deploy/checkout', '-n', 'shop', '-o', 'wide']);
    expect(table.code).toBe(0);
    expectGolden(path.join(EXPECTED, 'deploy-newest.txt'), stable(table.stdout, doc.collectedAt.slice(0, 19)).replace(/collected \S+/, 'collected <collected-at>'));
    expect(srv.requests.some((q) => q.resource === 'replicasets' && q.verb === 'get')).toBe(true);
    expectReadOnly(srv);
  });

  test('-l SELECTOR checks every pod it matches: the old revision raced', async () => {
    const srv = await serve(rollout());
    const r = await race(srv, ['-l', 'app=checkout', '-n', 'shop', '-o', 'json']);
    expect(r.code).toBe(79);
    const doc = JSON.parse(r.stdout) as Doc;
    expect(doc.pods.map((p) => [p.name, p.verdict]).sort()).toEqual([
      ['checkout-6b8f9d7c4-7xk2p', 'RACED'],
      ['checkout-7c9d5f6b8-k2xvd', 'ORDERED'],
      ['checkout-7c9d5f6b8-pq7wn', 'ORDERED'],
    ]);
    expect(doc.verdict).toBe('RACED');
    expect(doc.findings.filter((f) => f.code === 'MEG050')).toHaveLength(1);
    const two = JSON.parse((await race(srv, ['-l', 'app=checkout', '-n', 'shop', '--max-pods', '2', '-o', 'json'])).stdout) as Doc;
    expect(two.selection).toEqual({ what: 'selector app=checkout', note: '3 pods match; checking 2 (pods not ready first; raise --max-pods)' });
    expect(two.pods).toHaveLength(2);
  });

  test('without the right to read ReplicaSets the newest pods are chosen by creation time, and the report says so', async () => {
    const srv = await serve({ ...rollout(), denyRules: [{ verb: 'get', group: 'apps', resource: 'replicasets' }] });
    const r = await race(srv, ['deploy/checkout', '-n', 'shop', '-o', 'json']);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as Doc;
    expect(doc.pods.map((p) => p.name)).toEqual(['checkout-7c9d5f6b8-k2xvd', 'checkout-7c9d5f6b8-pq7wn']);
    expect(doc.selection.note).toContain('newest revision 7c9d5f6b8');
    expect(doc.findings.find((f) => f.code === 'MEG005')?.message).toContain('newest pods were chosen by creation time');
  });
});

describe(`race-check degrades and fails in one line (kubectl ${NEWEST})`, () => {
  const seed = SCENARIOS.find((x) => x.name === 'seed001')!;
  const podArgs = [`pod/${seed.pod.name}`, '-n', seed.pod.namespace];

  test('events and nodes denied: the verdict still comes from logs and status, with warnings saying what is missing', async () => {
    const srv = await serve(clusterOf(seed, { denyRules: [{ verb: 'list', resource: 'events' }, { verb: 'list', resource: 'nodes' }, { verb: 'get', resource: 'nodes' }] }));
    const r = await race(srv, [...podArgs, '-o', 'json']);
    expect(r.code).toBe(79);
    const doc = JSON.parse(r.stdout) as Doc;
    expect(doc.verdict).toBe('RACED');
    const gaps = doc.findings.filter((f) => f.code === 'MEG005').map((f) => f.message);
    expect(gaps).toEqual(expect.arrayContaining([expect.stringMatching(/^Could not list events of pod feature\/post-feature-service-v1-67d56cdd-g7fvb \(RBAC denied/), expect.stringMatching(/^Could not get node gke-prod-pool-2-9c6e0b7a-kq3z \(kubelet versions\) \(RBAC denied.*native sidecar support of the nodes cannot be told/)]));
    // still RACED with an exact window: pilot-agent's own log gives the ready time
    expect(doc.findings.find((f) => f.code === 'MEG050')?.severity).toBe('error');
  });

  test('logs denied: the race cannot be proven, the timeline rests on status and events', async () => {
    const srv = await serve(clusterOf(seed, { denyRules: [{ verb: 'get', resource: 'pods', subresource: 'log' }] }));
    const r = await race(srv, [...podArgs, '-o', 'json']);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as Doc;
    expect(doc.verdict).toBe('EXPOSED');
    // one warning for the logs RBAC keeps from being read, and no proof of a race either way
    expect(doc.findings.map((f) => f.code).sort()).toEqual(['MEG005', 'MEG051', 'MEG058']);
    expect(doc.findings.find((f) => f.code === 'MEG005')?.message).toMatch(/^Could not read logs of post-feature-service, istio-proxy \(RBAC denied: .*cannot get resource "pods\/log"/);
    expect(doc.findings.find((f) => f.code === 'MEG051')?.message).toContain('Its logs could not be read, so whether it hit connection errors then is unknown.');
  });

  test('pod not found: exit 69, one line', async () => {
    const srv = await serve(clusterOf(seed));
    const r = await race(srv, ['pod/nope', '-n', 'feature']);
    expect(r.code).toBe(69);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe('error: pod nope not found in namespace feature: check the name, or pass -n NAMESPACE\n');
  });

  test('cluster unreachable: exit 69, one line', async () => {
    // a kubeconfig whose API server address nothing listens on
    const kubeconfig = path.join(suite.dir, 'unreachable.kubeconfig');
    fs.writeFileSync(
      kubeconfig,
      'apiVersion: v1\nkind: Config\nclusters:\n- name: gone\n  cluster:\n    server: https://127.0.0.1:9\n    insecure-skip-tls-verify: true\ncontexts:\n- name: gone\n  context:\n    cluster: gone\n    user: u\ncurrent-context: gone\nusers:\n- name: u\n  user:\n    token: t\n',
    );
    const env = { KUBECONFIG: kubeconfig, MESH_EGRESS_KUBECTL: cliEnv({}, NEWEST).MESH_EGRESS_KUBECTL!, HOME: suite.dir, PATH: process.env.PATH ?? '' };
    const r = await runCli(['race-check', ...podArgs, '--request-timeout', '10s'], { env });
    expect(r.code).toBe(69);
    expect(r.stderr.split('\n').filter(Boolean)).toHaveLength(1);
    expect(r.stderr).toMatch(/^error: .*(connect|refused|reach)/i);
  });
});
