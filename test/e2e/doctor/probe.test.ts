/**
 * doctor --probe: the probe pod's whole life through the test server. A fake scheduler/kubelet/curl
 * (fake-kubelet.ts, on the server's create observer) plays each outcome; the CLI must create
 * exactly one pod — labelled as ours, outside the mesh, with a deadline — read its answer, and
 * delete it on success, failure, timeout, Ctrl-C and SIGTERM (in-process through io.signals, and
 * once for real: SIGINT to the built CLI). No other request may change anything.
 */
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../helpers/cli.js';
import { builtCli, spawnBuilt, startCli, type InProcess } from '../../helpers/cli-process.js';
import { expectGolden } from '../../helpers/golden.js';
import { shop } from '../../doctor/scenarios.js';
import { kubectlVersions, startTestServer, type KubeObject, type TestServer } from '../server/index.js';
import { fakeProbeKubelet, type FakeKubelet, type ProbeOutcome } from './fake-kubelet.js';
import { cliEnv, scenarioServer } from './fixture.js';

const EXPECTED = path.join(import.meta.dirname, 'expected');
const NEWEST = kubectlVersions().at(-1) ?? '1.33';
const scenario = shop();
const [NS, POD] = scenario.cases[0]!.pod.split('/') as [string, string];
const appPod = scenario.objects.find((o) => o.kind === 'Pod' && o.metadata.name === POD)!;

let srv: TestServer;
let kubelet: FakeKubelet | undefined;
beforeAll(async () => {
  srv = await startTestServer(scenarioServer(scenario));
});
afterAll(async () => {
  await srv.stop();
});
afterEach(() => {
  kubelet?.stop();
  kubelet = undefined;
});

function env(): Record<string, string> {
  return cliEnv(srv.kubectlEnv(), NEWEST);
}

function start(outcome: ProbeOutcome, opts: { delayMs?: number } = {}): FakeKubelet {
  srv.clearRequests();
  kubelet = fakeProbeKubelet(srv.cluster('prod'), outcome, opts);
  return kubelet;
}

/** The random suffix of the probe pod's name is the only thing that differs between runs. */
function stable(text: string): string {
  return text.replace(/mesh-egress-probe-[0-9a-f]{5}/g, 'mesh-egress-probe-xxxxx');
}

/** Exactly one probe pod: created as ours, then deleted; nothing else changed. */
function expectLifecycle(k: FakeKubelet, o: { deadlineSeconds: number; deleted?: boolean } = { deadlineSeconds: 30 }): KubeObject {
  expect(k.created).toHaveLength(1);
  const p = k.created[0]!;
  const name = p.metadata.name!;
  expect(name).toMatch(/^mesh-egress-probe-[0-9a-f]{5}$/);
  expect(p.metadata.namespace).toBe(NS);
  expect(p.metadata.labels).toEqual({ 'app.kubernetes.io/managed-by': 'kubectl-mesh_egress', 'app.kubernetes.io/name': 'mesh-egress-probe', 'sidecar.istio.io/inject': 'false', 'istio.io/dataplane-mode': 'none' });
  expect(p.metadata.annotations).toMatchObject({ 'sidecar.istio.io/inject': 'false', 'kubectl-mesh-egress/probe-for': `${NS}/${POD}` });
  const spec = p.spec as Record<string, unknown> & { containers: { name: string; command: string[]; args: string[]; securityContext: unknown }[] };
  expect(spec).toMatchObject({ restartPolicy: 'Never', activeDeadlineSeconds: o.deadlineSeconds, automountServiceAccountToken: false, securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } } });
  expect(spec.containers).toHaveLength(1);
  expect(spec.containers[0]).toMatchObject({ name: 'probe', command: ['curl'], securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } } });
  const changes = srv.requests.filter((q) => q.mutating && q.action !== 'exec' && q.action !== 'portforward').map((q) => `${q.method} ${q.pathname}`);
  expect(changes).toEqual([`POST /api/v1/namespaces/${NS}/pods`, `DELETE /api/v1/namespaces/${NS}/pods/${name}`]);
  if (o.deleted !== false) expect(srv.cluster('prod').get('v1', 'Pod', NS, name)).toBeUndefined();
  return p;
}

async function doctor(dest: string, args: readonly string[] = []): Promise<{ code: number; stdout: string; stderr: string }> {
  return runCli(['doctor', `pod/${POD}`, '-n', NS, dest, '--probe', ...args, '-o', 'json'], { env: env() });
}

interface Doc {
  steps: { id: string; status: string; summary: string; evidence: string[]; findings: { code: string; severity: string; message: string }[] }[];
  verdict: { summary: string; problems: { code: string }[] };
}

describe('doctor --probe', () => {
  it('reachable without the mesh, blocked with it: the mesh is to blame (pod deleted after success)', async () => {
    const k = start({ kind: 'connects' });
    const r = await doctor('203.0.113.7:6380');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(79);
    const doc = JSON.parse(r.stdout) as Doc;
    const probe = doc.steps[0]!;
    expect(probe).toMatchObject({ id: 'probe', status: 'ok' });
    expect(probe.evidence.join('\n')).toMatch(/TCP connect to 203\.0\.113\.7:6380: ok/);
    expect(doc.verdict.summary).toMatch(/answers without the mesh \(step 1\), so the cause is in the mesh/);
    expect(doc.verdict.problems[0]!.code).toBe('MEG020');
    const pod = expectLifecycle(k);
    // the pod's own proxy image: already on the node; telnet:// sends nothing
    expect((pod.spec as { containers: { image: string; args: string[] }[] }).containers[0]).toMatchObject({ image: 'docker.io/istio/proxyv2:1.26.2', args: expect.arrayContaining(['telnet://203.0.113.7:6380']) });
    expectGolden(path.join(EXPECTED, 'probe-reachable.json'), stable(r.stdout));
  });

  it('unreachable without the mesh either: the destination is at fault (pod deleted after failure)', async () => {
    const k = start({ kind: 'refused' });
    const r = await doctor('10.0.0.99:6380');
    expect(r.code).toBe(79);
    const doc = JSON.parse(r.stdout) as Doc;
    expect(doc.steps[0]).toMatchObject({ status: 'problem', findings: [{ code: 'MEG018', severity: 'error' }] });
    expect(doc.steps[0]!.findings[0]!.message).toMatch(/cannot reach 10\.0\.0\.99:6380 either: the connection was refused or the address is unreachable: Failed to connect to 10\.0\.0\.99 port 6380/);
    expect(doc.verdict.problems[0]!.code).toBe('MEG018');
    expectLifecycle(k);
    expectGolden(path.join(EXPECTED, 'probe-unreachable.json'), stable(r.stdout));
    const table = await runCli(['doctor', `pod/${POD}`, '-n', NS, '10.0.0.99:6380', '--probe'], { env: env() });
    expectGolden(path.join(EXPECTED, 'probe-unreachable.txt'), stable(table.stdout));
  });

  it('TCP connects, the TLS handshake fails: a TLS problem of the destination', async () => {
    const k = start({ kind: 'connects', tls: 'handshake-fails' });
    const r = await doctor('tls://api.github.com:443');
    const doc = JSON.parse(r.stdout) as Doc;
    expect(doc.steps[0]).toMatchObject({ status: 'problem', findings: [{ code: 'MEG077', severity: 'error' }] });
    expect(doc.steps[0]!.evidence.join('\n')).toMatch(/TLS handshake \(SNI api\.github\.com\): failed \(the TLS handshake failed: OpenSSL/);
    const pod = expectLifecycle(k);
    expect((pod.spec as { containers: { args: string[] }[] }).containers[0]!.args.at(-1)).toBe('https://api.github.com:443/');
    expectGolden(path.join(EXPECTED, 'probe-tls-fails.json'), stable(r.stdout));
  });

  it('a certificate the probe cannot verify is reported, the handshake itself works', async () => {
    const k = start({ kind: 'connects', tls: 'untrusted' });
    const r = await doctor('tls://uploads.partner.example:443');
    const doc = JSON.parse(r.stdout) as Doc;
    expect(doc.steps[0]).toMatchObject({ status: 'problem', findings: [{ code: 'MEG077', severity: 'warning' }] });
    expect(doc.steps[0]!.findings[0]!.message).toMatch(/X\.509 verify result 20: unknown issuer/);
    expectLifecycle(k);
  });

  it('the image cannot be pulled: the probe did not run, and the pod is deleted', async () => {
    const k = start({ kind: 'image-pull' });
    const r = await doctor('203.0.113.7:6380', ['--probe-image', 'registry.internal/tools/curl:8']);
    const doc = JSON.parse(r.stdout) as Doc;
    expect(doc.steps[0]).toMatchObject({ status: 'skipped', findings: [{ code: 'MEG019', severity: 'warning' }] });
    expect(doc.steps[0]!.findings[0]!.message).toMatch(/ImagePullBackOff.*pass --probe-image/);
    const pod = expectLifecycle(k);
    expect((pod.spec as { containers: { image: string }[] }).containers[0]!.image).toBe('registry.internal/tools/curl:8');
    expectGolden(path.join(EXPECTED, 'probe-image-pull.json'), stable(r.stdout));
  });

  it('no answer in time: the probe times out and the pod is deleted', async () => {
    const k = start({ kind: 'hang' });
    const t0 = Date.now();
    const r = await doctor('203.0.113.7:6380', ['--probe-timeout', '2s']);
    expect(Date.now() - t0).toBeLessThan(30_000);
    const doc = JSON.parse(r.stdout) as Doc;
    expect(doc.steps[0]).toMatchObject({ status: 'skipped', findings: [{ code: 'MEG019' }] });
    expect(doc.steps[0]!.findings[0]!.message).toMatch(/no answer within 3s \(phase Running\)/);
    expectLifecycle(k, { deadlineSeconds: 2 });
  });

  it('the kubelet enforces activeDeadlineSeconds: reported, pod deleted', async () => {
    const k = start({ kind: 'deadline' });
    const r = await doctor('203.0.113.7:6380', ['--probe-timeout', '5s']);
    const doc = JSON.parse(r.stdout) as Doc;
    expect(doc.steps[0]!.findings[0]!.message).toMatch(/reached its activeDeadlineSeconds \(5s\)/);
    expectLifecycle(k, { deadlineSeconds: 5 });
  });

  it('--probe-same-node: on the pod\'s node, with its tolerations', async () => {
    const k = start({ kind: 'connects' });
    await doctor('203.0.113.7:6380', ['--probe-same-node']);
    const pod = expectLifecycle(k);
    const spec = pod.spec as { nodeName?: string; tolerations?: unknown[] };
    expect(spec.nodeName).toBe((appPod.spec as { nodeName: string }).nodeName);
    expect(spec.tolerations).toEqual((appPod.spec as { tolerations: unknown[] }).tolerations);
  });

  it('RBAC forbids creating pods: the step says what to ask for; nothing is left behind', async () => {
    const cluster = srv.cluster('prod');
    const k = start({ kind: 'connects' });
    cluster.denyRules.push({ verb: 'create', resource: 'pods', namespace: NS });
    try {
      const r = await doctor('203.0.113.7:6380');
      const doc = JSON.parse(r.stdout) as Doc;
      expect(doc.steps[0]).toMatchObject({ status: 'skipped', findings: [{ code: 'MEG019' }] });
      expect(doc.steps[0]!.findings[0]!.message).toMatch(/could not be created: .*forbidden.*Ask for "create" and "delete" on pods in namespace shop/);
      expect(k.created).toEqual([]);
      // the delete is still attempted (a create may have succeeded with its answer lost), --ignore-not-found
      const changes = srv.requests.filter((q) => q.mutating && q.action !== 'exec').map((q) => `${q.method} ${q.pathname} ${q.status}`);
      expect(changes).toEqual([`POST /api/v1/namespaces/${NS}/pods 403`, expect.stringMatching(new RegExp(`^DELETE /api/v1/namespaces/${NS}/pods/mesh-egress-probe-[0-9a-f]{5} 404$`))]);
    } finally {
      cluster.denyRules.pop();
    }
  });
});

/** The CLI in-process with a signal source the test fires (kubectl newest against the server). */
function inProcess(args: readonly string[]): InProcess {
  return startCli(args, env());
}

async function until(cond: () => boolean, what: string, ms = 30_000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('doctor --probe interrupted', () => {
  it.each([
    ['SIGINT', 130, 'interrupted'],
    ['SIGTERM', 143, 'terminated'],
  ] as const)('%s while the probe runs: the pod is deleted before the CLI exits %i', async (signal, code, word) => {
    const k = start({ kind: 'hang' });
    const cli = inProcess(['doctor', `pod/${POD}`, '-n', NS, '203.0.113.7:6380', '--probe']);
    await until(() => k.created.length === 1 && srv.cluster('prod').get('v1', 'Pod', NS, k.created[0]!.metadata.name!)?.status !== undefined, 'the probe pod to run');
    expect(cli.subscribed()).toBeGreaterThan(0);
    cli.signal(signal);
    expect(await cli.done).toBe(code);
    expect(cli.err()).toMatch(new RegExp(`^${word}: the probe pod ${NS}/mesh-egress-probe-[0-9a-f]{5} was deleted\\n$`));
    expect(cli.out()).toBe('');
    expectLifecycle(k);
    expect(cli.subscribed()).toBe(0);
  });

  it('without --probe there is nothing to undo: doctor does not hold signals', async () => {
    srv.clearRequests();
    const cli = inProcess(['doctor', `pod/${POD}`, '-n', NS, '203.0.113.7:6380', '-o', 'json']);
    let held = false;
    const watch = setInterval(() => (held ||= cli.subscribed() > 0), 5);
    await cli.done;
    clearInterval(watch);
    expect(held).toBe(false);
  });
});

describe('doctor --probe, the built CLI gets a real SIGINT', () => {
  const bin = builtCli('meg-doctor-bin-');

  it('deletes the probe pod, then exits 130', async () => {
    const k = start({ kind: 'hang' });
    const c = spawnBuilt(bin.bundle, ['doctor', `pod/${POD}`, '-n', NS, '203.0.113.7:6380', '--probe'], env(), { killAfterMs: 90_000 });
    await until(() => k.created.length === 1 && srv.cluster('prod').get('v1', 'Pod', NS, k.created[0]!.metadata.name!)?.status !== undefined, 'the probe pod to run', 60_000);
    c.child.kill('SIGINT');
    const r = await c.exit;
    expect(r).toEqual({ code: 130, signal: null });
    expect(c.err()).toMatch(new RegExp(`^interrupted: the probe pod ${NS}/mesh-egress-probe-[0-9a-f]{5} was deleted\\n$`));
    expectLifecycle(k);
  });
});
