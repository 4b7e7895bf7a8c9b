/**
 * Live `trace` end to end: the CLI drives the real kubectl binaries (1.27 over SPDY, the newest
 * over websockets) against the in-process API server, whose Envoy admin emulator follows Envoy's
 * config_dump rules. Every run also proves the trace is read-only and asks the proxy only for what
 * the verdict needs.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { runCli, type CliResult } from '../../helpers/cli.js';
import { expectGolden } from '../../helpers/golden.js';
import { istioObject, kubectlVersions, startTestServer, type TestServer, type TestServerOptions } from '../server/index.js';
import { cliEnv, SCENARIOS, seed002, type Seed002 } from './fixture.js';

const EXPECTED = path.join(import.meta.dirname, 'expected');
const OLDEST = '1.27';
const NEWEST = kubectlVersions().at(-1) ?? '1.33';
const servers: TestServer[] = [];

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.stop()));
});

async function serve(options: TestServerOptions): Promise<TestServer> {
  const srv = await startTestServer(options);
  servers.push(srv);
  return srv;
}

async function trace(srv: TestServer, args: readonly string[], version = NEWEST, extraEnv: Record<string, string> = {}): Promise<CliResult> {
  return runCli(['trace', ...args], { env: { ...cliEnv(srv.kubectlEnv(), version), ...extraEnv } });
}

function json(r: CliResult): { verdict: { code: string; responsible: { kind: string; name?: string; namespace?: string; role: string }[] }; findings: { code: string; message: string }[]; source: Record<string, unknown>; hops: unknown[] } {
  expect(r.stderr).toBe('');
  return JSON.parse(r.stdout) as ReturnType<typeof json>;
}

/** Nothing but reads, plus the exec/port-forward upgrades that reach the proxy. */
function expectReadOnly(srv: TestServer): void {
  const mutating = srv.requests.filter((q) => q.mutating && q.action !== 'exec' && q.action !== 'portforward');
  expect(mutating.map((q) => `${q.method} ${q.path}`)).toEqual([]);
}

/** The proxy was asked by name, never for its whole configuration. */
function expectTargetedProxyQueries(s: Seed002, srv: TestServer): void {
  const admin = srv.cluster('prod').envoy(`shop/${s.podName}`)!;
  const dumps = admin.requests.map((r) => r.path.replace(/^\//, '')).filter((p) => p.startsWith('config_dump'));
  expect(dumps.length).toBeGreaterThan(2);
  for (const p of dumps) expect(p).toMatch(/[?&](mask|resource)=/);
}

describe.each([OLDEST, NEWEST])('seed 002 live with kubectl %s', (version) => {
  test('Redis on 7000 swallowed by the HTTP Service of another namespace: the verdict names it', async () => {
    const s = seed002({ variant: 'istio14' });
    const srv = await serve(s.options);
    const r = await trace(srv, ['deploy/checkout', '-n', 'shop', '10.0.0.6:7000', '-o', 'json'], version);
    expect(r.code).toBe(79);
    const doc = json(r);
    expect(doc.verdict.code).toBe('PROTOCOL_MISMATCH');
    const svc = doc.verdict.responsible.find((x) => x.kind === 'Service');
    expect(svc).toMatchObject({ name: 'paas-gateway', namespace: 'infra' });
    // looked up live: the port's name is what makes Istio treat 7000 as HTTP
    expect(svc?.role).toMatch(/port 7000.*http/i);
    expect(doc.source).toMatchObject({ kind: 'live', context: 'prod', pod: `shop/${s.podName}`, via: 'exec' });
    // an old proxy ignores the targeted query parameters: noticed, and the whole config read once
    expect(doc.source.notes).toEqual([expect.stringContaining('predates targeted config_dump queries: its whole configuration was read')]);
    expectGolden(path.join(EXPECTED, 'seed002-istio14.json'), r.stdout);
    expectReadOnly(srv);
  });

  test('a modern proxy is asked only for what the verdict needs', async () => {
    const s = seed002();
    const srv = await serve(s.options);
    const r = await trace(srv, ['deploy/checkout', '-n', 'shop', '10.0.0.6:7000', '-o', 'json'], version);
    expect(r.code).toBe(79);
    const doc = json(r);
    expect(doc.verdict.code).toBe('BLACKHOLE');
    expect(doc.source.notes).toBeUndefined();
    expectGolden(path.join(EXPECTED, 'seed002-modern.json'), r.stdout);
    expectReadOnly(srv);
    expectTargetedProxyQueries(s, srv);
  });

  test('exec forbidden: the proxy is reached by port-forward, and the trace says so', async () => {
    const s = seed002({ overrides: { denyRules: [{ verb: 'create', resource: 'pods', subresource: 'exec' }] } });
    const srv = await serve(s.options);
    const r = await trace(srv, ['deploy/checkout', '-n', 'shop', '10.0.0.6:7000', '-o', 'json'], version);
    expect(r.code).toBe(79);
    const doc = json(r);
    expect(doc.verdict.code).toBe('BLACKHOLE');
    expect(doc.source).toMatchObject({ via: 'port-forward', notes: ['RBAC forbids create on pods/exec in namespace shop: used port-forward'] });
    expect(srv.requests.some((q) => q.action === 'portforward')).toBe(true);
    expectReadOnly(srv);
  });
});

describe(`live trace outcomes (kubectl ${NEWEST})`, () => {
  test('REGISTRY_ONLY black hole: the mesh ConfigMap read live is named, with the table output', async () => {
    const s = seed002();
    const srv = await serve(s.options);
    const r = await trace(srv, ['deploy/checkout', '-n', 'shop', '10.0.0.6:7000']);
    expect(r.code).toBe(79);
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain('MeshConfig istio-system/istio: outboundTrafficPolicy.mode REGISTRY_ONLY');
    // the fix patches the Deployment that owns the pod, as Istio names it
    expect(r.stdout).toContain('kubectl patch deployment/checkout -n shop');
    expectGolden(path.join(EXPECTED, 'seed002-modern.txt'), r.stdout);
    expectReadOnly(srv);
  });

  test('progress goes to stderr only on a terminal, and is erased before the answer', async () => {
    const s = seed002();
    const srv = await serve(s.options);
    const r = await runCli(['trace', 'deploy/checkout', '-n', 'shop', '10.0.0.6:7000', '-o', 'json'], { env: cliEnv(srv.kubectlEnv(), NEWEST), stderrIsTTY: true });
    expect(r.code).toBe(79);
    expect(r.stderr).toContain('\r\x1b[2K… reading deployments/checkout');
    expect(r.stderr).toContain('proxy for config_dump');
    expect(r.stderr.endsWith('\r\x1b[2K')).toBe(true);
    expect(JSON.parse(r.stdout)).toMatchObject({ kind: 'Trace' });
  });

  test('a pod without a sidecar: NOT_CAPTURED, explained, exit 0', async () => {
    const s = seed002({ sidecar: false });
    const srv = await serve(s.options);
    const r = await trace(srv, [`pod/${s.podName}`, '-n', 'shop', '10.0.0.6:7000', '-o', 'json']);
    expect(r.code).toBe(0);
    const doc = json(r);
    expect(doc.verdict.code).toBe('NOT_CAPTURED');
    expect(doc.findings.map((f) => f.code)).toEqual(['MEG016']);
    expect(doc.findings[0]!.message).toContain('Namespace shop is labelled for injection');
    expectGolden(path.join(EXPECTED, 'no-sidecar.json'), r.stdout);
    expectReadOnly(srv);
  });

  test('RBAC denies listing ServiceEntries: the verdict still comes, with a warning saying what is missing', async () => {
    const s = seed002({ overrides: { denyRules: [{ verb: 'list', group: 'networking.istio.io', resource: 'serviceentries' }] } });
    const srv = await serve(s.options);
    const r = await trace(srv, ['deploy/checkout', '-n', 'shop', '10.0.0.6:7000', '-o', 'json']);
    expect(r.code).toBe(79);
    const doc = json(r);
    expect(doc.verdict.code).toBe('BLACKHOLE');
    const gap = doc.findings.filter((f) => f.code === 'MEG005');
    expect(gap).toHaveLength(1);
    expect(gap[0]!.message).toMatch(/serviceentries.*forbidden|forbidden.*serviceentries/i);
    expectGolden(path.join(EXPECTED, 'rbac-serviceentries.json'), r.stdout);
  });

  test('Istio CRDs missing: each missing list is a warning, the proxy still answers', async () => {
    const s = seed002({ overrides: { istio: false } });
    const srv = await serve(s.options);
    const r = await trace(srv, ['deploy/checkout', '-n', 'shop', '10.0.0.6:7000', '-o', 'json']);
    expect(r.code).toBe(79);
    const doc = json(r);
    expect(doc.verdict.code).toBe('BLACKHOLE');
    const gaps = doc.findings.filter((f) => f.code === 'MEG005').map((f) => f.message);
    expect(gaps).toHaveLength(4);
    for (const g of gaps) expect(g).toContain('the Istio CRD is not installed');
    expectGolden(path.join(EXPECTED, 'crds-missing.json'), r.stdout);
  });

  test('the sidecar is not ready: the verdict comes with MEG017', async () => {
    const s = seed002({ ready: false });
    s.cluster.sidecars![`shop/${s.podName}`]!.state = 'INITIALIZING';
    const srv = await serve(s.options);
    const r = await trace(srv, [`pod/${s.podName}`, '-n', 'shop', '10.0.0.6:7000', '-o', 'json']);
    expect(r.code).toBe(79);
    const doc = json(r);
    const notReady = doc.findings.find((f) => f.code === 'MEG017');
    expect(notReady?.message).toContain('Envoy state: INITIALIZING');
    expectGolden(path.join(EXPECTED, 'proxy-not-ready.json'), r.stdout);
  });

  test('a DestinationRule the proxy still uses but the cluster no longer has: MEG006', async () => {
    const s = seed002({ extra: [istioObject('VirtualService', 'review', 'review', { hosts: ['review'], http: [{ route: [{ destination: { host: 'review', subset: 'v1' } }] }] })] });
    s.cluster.sidecars![`shop/${s.podName}`]!.configDump = path.join(SCENARIOS, 'subset-without-endpoints/config_dump.json');
    const srv = await serve(s.options);
    const r = await trace(srv, ['deploy/checkout', '-n', 'shop', 'http://review.review/', '-o', 'json']);
    expect(r.code).toBe(79);
    const doc = json(r);
    expect(doc.verdict.code).toBe('NO_HEALTHY_UPSTREAM');
    const stale = doc.findings.filter((f) => f.code === 'MEG006');
    expect(stale.map((f) => f.message)).toEqual([expect.stringContaining('DestinationRule review/review, which no longer exists')]);
    // the VirtualService exists: not reported stale
    expect(stale.some((f) => f.message.includes('VirtualService'))).toBe(false);
    expectGolden(path.join(EXPECTED, 'stale-destinationrule.json'), r.stdout);
  });
});

describe(`live trace failures are one line with exit 69 (kubectl ${NEWEST})`, () => {
  async function fails(s: Seed002, args: string[], env: Record<string, string> = {}): Promise<string> {
    const srv = await serve(s.options);
    const r = await trace(srv, args, NEWEST, env);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.code).toBe(69);
    expectReadOnly(srv);
    return r.stderr;
  }

  test('pod not running', async () => {
    const s = seed002({ phase: 'Pending' });
    expect(await fails(s, [`pod/${s.podName}`, '-n', 'shop', '10.0.0.6:7000'])).toMatch(/^error: pod shop\/checkout-\S+ is Pending.*wait for it, or pick another pod/);
  });

  test('pod not found', async () => {
    expect(await fails(seed002(), ['nosuchpod', '-n', 'shop', '10.0.0.6:7000'])).toBe('error: pod nosuchpod not found in namespace shop: check the name, or pass -n NAMESPACE\n');
  });

  test('ambient pod: said, not traced', async () => {
    const s = seed002({ sidecar: false, podLabels: { 'istio.io/dataplane-mode': 'ambient' } });
    expect(await fails(s, [`pod/${s.podName}`, '-n', 'shop', '10.0.0.6:7000'])).toMatch(/is in ambient mode .*trace emulates sidecars only/);
  });

  test('RBAC denies reading the workload: which verb on which resource', async () => {
    const s = seed002({ overrides: { denyRules: [{ verb: 'get', group: 'apps', resource: 'deployments' }] } });
    expect(await fails(s, ['deploy/checkout', '-n', 'shop', '10.0.0.6:7000'])).toMatch(/RBAC denied get on deployments in namespace shop.*ask your cluster admin for "get" on deployments/);
  });

  test('RBAC denies both exec and port-forward', async () => {
    const s = seed002({ overrides: { denyRules: [{ verb: 'create', resource: 'pods', subresource: 'exec' }, { verb: 'create', resource: 'pods', subresource: 'portforward' }, { verb: 'get', resource: 'pods', subresource: 'portforward' }] } });
    expect(await fails(s, ['deploy/checkout', '-n', 'shop', '10.0.0.6:7000'])).toMatch(/RBAC denied both exec and port-forward on shop\/checkout-\S+: ask for "create" on pods\/exec/);
  });

  test('Envoy not listening on its admin port', async () => {
    const s = seed002();
    s.cluster.sidecars![`shop/${s.podName}`]!.down = true;
    expect(await fails(s, ['deploy/checkout', '-n', 'shop', '10.0.0.6:7000'])).toMatch(/cannot reach the proxy of shop\/checkout-\S+: .*Envoy is not listening on its admin port 15000.*kubectl logs -n shop checkout-\S+ -c istio-proxy/);
  });

  test('--request-timeout bounds the whole run', async () => {
    const s = seed002();
    const msg = await fails({ ...s, options: { ...s.options, latencyMs: 1500 } }, ['deploy/checkout', '-n', 'shop', '10.0.0.6:7000', '--request-timeout', '1s']);
    expect(msg).toMatch(/timed out .*\(--request-timeout 1s\): raise --request-timeout/);
  });

  test('kubectl missing', async () => {
    expect(await fails(seed002(), ['deploy/checkout', '-n', 'shop', '10.0.0.6:7000'], { MESH_EGRESS_KUBECTL: '/nonexistent/kubectl' })).toMatch(
      /kubectl not found \(\/nonexistent\/kubectl\): this is a kubectl plugin; install kubectl 1.27 or newer/,
    );
  });

  test('kubectl older than 1.27', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'old-kubectl-'));
    const fake = path.join(dir, 'kubectl');
    fs.writeFileSync(fake, `#!/bin/sh\necho '{"clientVersion":{"major":"1","minor":"26","gitVersion":"v1.26.15"}}'\n`, { mode: 0o755 });
    try {
      expect(await fails(seed002(), ['deploy/checkout', '-n', 'shop', '10.0.0.6:7000'], { MESH_EGRESS_KUBECTL: fake })).toBe('error: kubectl v1.26.15 is too old: kubectl-mesh_egress needs kubectl 1.27 or newer\n');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
