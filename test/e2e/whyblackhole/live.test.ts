/**
 * Live `whyblackhole` end to end: the CLI drives the real kubectl binaries (1.27 over SPDY, the
 * newest over websockets) against the in-process API server. The pod's istio-proxy log comes from
 * the server's pods/log (kubectl logs --since), its stats from the Envoy admin emulator's
 * /stats/prometheus (pilot-agent request GET stats/prometheus), its configuration from the
 * emulator's config_dump; the scenarios are those of the offline tests
 * (test/fixtures/whyblackhole/scenarios.ts). Every run must be read-only.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { byName, clusterObjects, type WbScenario } from '../../fixtures/whyblackhole/scenarios.js';
import { runCli, type CliResult } from '../../helpers/cli.js';
import { expectGolden } from '../../helpers/golden.js';
import { kubectlPath, startTestServer, type ClusterOptions, type TestServer } from '../server/index.js';
import { liveSuite, NEWEST_KUBECTL as NEWEST, OLDEST_KUBECTL as OLDEST } from '../live/harness.js';

const EXPECTED = path.join(import.meta.dirname, 'expected');
const suite = liveSuite('wb-e2e-');
const servers = suite.servers;

function podKey(s: WbScenario): { ns: string; name: string; key: string } {
  const md = s.pod.metadata as { namespace: string; name: string };
  return { ns: md.namespace, name: md.name, key: `${md.namespace}/${md.name}` };
}

async function serve(s: WbScenario, overrides: Partial<ClusterOptions> = {}): Promise<TestServer> {
  const { key } = podKey(s);
  const dump = path.join(suite.dir, `${s.name}.json`);
  fs.writeFileSync(dump, JSON.stringify(s.dump));
  const cluster: ClusterOptions = {
    objects: clusterObjects(s),
    sidecars: { [key]: { configDump: dump, ...(s.stats !== undefined ? { statsPrometheus: s.stats } : {}) } },
    logs: { [key]: { 'istio-proxy': s.log ?? '', app: 'listening on :8080\n' } },
    ...overrides,
  };
  const srv = await startTestServer({ clusters: { prod: cluster } });
  servers.push(srv);
  return srv;
}

async function wb(srv: TestServer, args: readonly string[], version = NEWEST): Promise<CliResult> {
  return runCli(['whyblackhole', ...args], { env: { ...srv.kubectlEnv(), MESH_EGRESS_KUBECTL: kubectlPath(version) } });
}

function expectReadOnly(srv: TestServer): void {
  const mutating = srv.requests.filter((q) => q.mutating && q.action !== 'exec' && q.action !== 'portforward');
  expect(mutating.map((q) => `${q.method} ${q.path}`)).toEqual([]);
}

interface Doc {
  source: Record<string, unknown>;
  destinations: { destination: string; cause: { class: string } }[];
  findings: { code: string; message: string; fixes: { content: string }[] }[];
  query?: { cause: { class: string }; traced: { verdict: string } };
  evidence: { accessLog: { configured: string; entries: number; error?: string }; stats: { read: boolean } };
}

describe.each([OLDEST, NEWEST])('whyblackhole live with kubectl %s', (version) => {
  test('REGISTRY_ONLY seen in the log and the metrics: every destination traced, the mesh config named', async () => {
    const s = byName('registry-only-mesh');
    const { ns, name, key } = podKey(s);
    const srv = await serve(s);
    const r = await wb(srv, [`pod/${name}`, '-n', ns, '-o', 'json'], version);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(79);
    const doc = JSON.parse(r.stdout) as Doc;
    expect(doc.source).toMatchObject({ kind: 'live', context: 'prod', pod: key, via: 'exec' });
    expect(Object.fromEntries(doc.destinations.map((d) => [d.destination, d.cause.class]))).toEqual(s.classes);
    expectGolden(path.join(EXPECTED, 'registry-only-mesh.json'), r.stdout);
    expectReadOnly(srv);
    // kubectl logs --since=1h (the default window)
    expect(srv.requests.some((q) => q.path.includes(`/pods/${name}/log`) && q.path.includes('container=istio-proxy') && q.path.includes('sinceSeconds=3600'))).toBe(true);
    // the proxy: its stats, and its configuration by name only
    const admin = srv.cluster('prod').envoy(key)!.requests.map((q) => q.path);
    expect(admin).toContain('/stats/prometheus');
    expect(admin.filter((x) => x.startsWith('/config_dump')).length).toBeGreaterThan(0);
    for (const p of admin.filter((x) => x.startsWith('/config_dump'))) expect(p).toMatch(/[?&](mask|resource)=/);
  });
});

describe(`whyblackhole live (kubectl ${NEWEST})`, () => {
  test('Sidecar egress.hosts hides billing/ledger: table output names it and the patch', async () => {
    const s = byName('sidecar-egress-hosts');
    const { ns, name } = podKey(s);
    const srv = await serve(s);
    const r = await wb(srv, [`pod/${name}`, '-n', ns]);
    expect(r.code).toBe(79);
    expect(r.stdout).toContain('MEG026  10.96.64.21:5432 belongs to Service billing/ledger');
    expect(r.stdout).toContain(`kubectl patch sidecar default -n shop --type json -p '[{"op":"add","path":"/spec/egress/0/hosts/-","value":"billing/ledger.billing.svc.cluster.local"}]'`);
    expectGolden(path.join(EXPECTED, 'sidecar-egress-hosts.txt'), r.stdout);
    expectReadOnly(srv);
  });

  test('DEST never seen: traced and answered; --since reaches kubectl logs', async () => {
    const s = byName('registry-only-mesh');
    const { ns, name } = podKey(s);
    const srv = await serve(s);
    const r = await wb(srv, [`pod/${name}`, '-n', ns, '10.0.0.6:9042', '--since', '30m', '-o', 'json']);
    expect(r.code).toBe(79);
    const doc = JSON.parse(r.stdout) as Doc;
    expect(doc.query).toMatchObject({ cause: { class: 'registry-only-mesh' }, traced: { verdict: 'BLACKHOLE' } });
    expect(srv.requests.some((q) => q.path.includes(`/pods/${name}/log`) && q.path.includes('sinceSeconds=1800'))).toBe(true);
    expectReadOnly(srv);
  });

  test('logs off: says so, with how to turn them on; the metrics still count', async () => {
    const s = byName('logs-off');
    const { ns, name } = podKey(s);
    const srv = await serve(s);
    const r = await wb(srv, [`pod/${name}`, '-n', ns, '-o', 'json']);
    expect(r.code).toBe(79);
    const doc = JSON.parse(r.stdout) as Doc;
    expect(doc.evidence.accessLog.configured).toBe('off');
    expect(doc.findings.map((f) => f.code)).toEqual(expect.arrayContaining(['MEG027', 'MEG065', 'MEG066']));
    // read live: no Telemetry resource exists, and the mesh config has no accessLogFile
    expect(doc.findings.find((f) => f.code === 'MEG065')!.message).toContain('no Telemetry resource configures access logging for this pod');
    expectGolden(path.join(EXPECTED, 'logs-off.json'), r.stdout);
  });

  test('RBAC denies pods/log: the log is a reported gap, the metrics still answer', async () => {
    const s = byName('registry-only-mesh');
    const { ns, name } = podKey(s);
    const srv = await serve(s, { denyRules: [{ verb: 'get', resource: 'pods', subresource: 'log' }] });
    const r = await wb(srv, [`pod/${name}`, '-n', ns, '-o', 'json']);
    expect(r.stderr).toBe('');
    const doc = JSON.parse(r.stdout) as Doc;
    const gap = doc.findings.find((f) => f.code === 'MEG069')!;
    expect(gap.message).toMatch(/Could not read the istio-proxy log of the last 1h \(RBAC: .*forbidden/);
    expect(gap.message).toContain('Ask for "get" on pods/log in namespace shop.');
    // 5 connections and 1 request counted by Istio's metrics, no destination named
    expect(doc.findings.find((f) => f.code === 'MEG027')!.message).toContain('5 TCP connections');
    expect(r.code).toBe(79);
    expectReadOnly(srv);
  });

  test('snapshot then --snapshot: the archive holds the log, stats and Telemetry list, and gives the live answer', async () => {
    const s = byName('export-to');
    const { ns, name } = podKey(s);
    const srv = await serve(s);
    const file = path.join(suite.dir, 'live-snapshot.tar.gz');
    const snap = await runCli(['snapshot', `pod/${name}`, '-n', ns, '-f', file], { env: { ...srv.kubectlEnv(), MESH_EGRESS_KUBECTL: kubectlPath(NEWEST) } });
    expect(snap.code).toBe(0);
    const live = JSON.parse((await wb(srv, [`pod/${name}`, '-n', ns, '-o', 'json'])).stdout) as Doc;
    const offline = await runCli(['whyblackhole', '--snapshot', file, '-o', 'json']);
    expect(offline.code).toBe(79);
    const doc = JSON.parse(offline.stdout) as Doc;
    expect(doc.destinations).toEqual(live.destinations);
    expect(doc.findings.map((f) => f.code)).toEqual(live.findings.map((f) => f.code));
    // the whyblackhole collector stored the (empty) Telemetry list: the report says none applies
    expect(srv.requests.some((q) => q.path.includes('/apis/telemetry.istio.io/v1/telemetries'))).toBe(true);
    expectReadOnly(srv);
  });

  test('a pod without a sidecar: one line, exit 69', async () => {
    const s = byName('quiet');
    const { ns, name } = podKey(s);
    const srv = await serve(s);
    // the same pod without istio-proxy
    const bare = { ...s, pod: (await import('../server/builders.js')).pod({ name, namespace: ns, labels: { app: 'api' }, sidecar: false }) };
    await srv.stop();
    servers.splice(servers.indexOf(srv), 1);
    const srv2 = await startTestServer({ clusters: { prod: { objects: clusterObjects(bare) } } });
    servers.push(srv2);
    const r = await wb(srv2, [`pod/${name}`, '-n', ns]);
    expect(r.code).toBe(69);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(`error: pod shop/${name} has no istio-proxy sidecar: no sidecar black-holes its connections, they go out directly; check the namespace's injection label\n`);
  });
});
