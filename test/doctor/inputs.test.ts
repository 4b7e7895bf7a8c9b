/**
 * doctor from the other offline inputs: an istioctl bug-report (the proxy's dump and log, plus the
 * cluster objects istioctl collects — NetworkPolicies since Istio 1.20, namespaces in a file of
 * their own since 1.30) and a raw /config_dump (the proxy alone). The bug-report must give the
 * snapshot's diagnosis where it holds the same data; every step a dump cannot answer says why.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tar from 'tar';
import YAML from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { expectGolden } from '../helpers/golden.js';
import { comparable } from '../e2e/doctor/fixture.js';
import { doctorScenarios, type DoctorCase, type DoctorScenario } from './scenarios.js';

const EXPECTED = path.join(import.meta.dirname, 'expected');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'meg-doctor-inputs-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

interface Doc {
  source: { kind: string; pod?: string };
  steps: { number: number; id: string; status: string; reason?: string; summary: string; evidence: string[]; findings: { code: string }[] }[];
  verdict: { problems: { code: string }[] };
}

const scenarios = doctorScenarios();
function find(name: string, caseName: string): { s: DoctorScenario; c: DoctorCase } {
  const s = scenarios.find((x) => x.name === name)!;
  return { s, c: s.cases.find((x) => x.name === caseName)! };
}

const ISTIO = /\.istio\.io\//;
const CLUSTER_SCOPED = new Set(['Namespace', 'Node']);

/**
 * The archive istioctl bug-report writes: bug-report/proxies/<ns>/<pod>/{config_dump?include_eds,
 * istio-proxy.log}, bug-report/cluster/{k8s-resources,crs} (and k8s-cluster-resources from 1.30).
 */
async function bugReport(s: DoctorScenario, podKey: string, o: { layout: 'pre-1.30' | '1.30'; networkPolicies?: boolean; log?: boolean }): Promise<string> {
  const root = fs.mkdtempSync(path.join(tmp, 'br-'));
  const [ns, pod] = podKey.split('/') as [string, string];
  const proxyDir = path.join(root, 'bug-report', 'proxies', ns, pod);
  fs.mkdirSync(proxyDir, { recursive: true });
  fs.writeFileSync(path.join(proxyDir, 'config_dump?include_eds'), JSON.stringify(s.dumps[podKey]));
  if (o.log !== false && s.logs[podKey] !== undefined) fs.writeFileSync(path.join(proxyDir, 'istio-proxy.log'), s.logs[podKey]!);
  const clusterDir = path.join(root, 'bug-report', 'cluster');
  fs.mkdirSync(clusterDir, { recursive: true });
  const objects = s.objects.filter((x) => o.networkPolicies !== false || x.kind !== 'NetworkPolicy');
  const core = objects.filter((x) => !ISTIO.test(`${x.apiVersion ?? ''}/`));
  const list = (items: readonly unknown[]): string => YAML.stringify({ apiVersion: 'v1', kind: 'List', items });
  // every namespace holds the kube-root-ca.crt ConfigMap, and bug-report collects configmaps
  const rootCa = objects.filter((x) => x.kind === 'Namespace').map((n) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'kube-root-ca.crt', namespace: n.metadata.name }, data: { 'ca.crt': '-----BEGIN CERTIFICATE-----\n(test)\n-----END CERTIFICATE-----\n' } }));
  if (o.layout === '1.30') {
    fs.writeFileSync(path.join(clusterDir, 'k8s-resources'), list([...core.filter((x) => !CLUSTER_SCOPED.has(x.kind ?? '')), ...rootCa]));
    fs.writeFileSync(path.join(clusterDir, 'k8s-cluster-resources'), list(core.filter((x) => CLUSTER_SCOPED.has(x.kind ?? ''))));
  } else fs.writeFileSync(path.join(clusterDir, 'k8s-resources'), list([...core, ...rootCa]));
  fs.writeFileSync(path.join(clusterDir, 'crs'), objects.filter((x) => ISTIO.test(`${x.apiVersion ?? ''}/`)).map((x) => YAML.stringify(x)).join('---\n'));
  const file = path.join(tmp, `${path.basename(root)}.tar.gz`);
  await tar.c({ gzip: true, file, cwd: root }, ['bug-report']);
  return file;
}

function dumpFile(s: DoctorScenario, podKey: string): string {
  const f = path.join(tmp, `${s.name}-${podKey.replace('/', '_')}.json`);
  fs.writeFileSync(f, JSON.stringify(s.dumps[podKey]));
  return f;
}

function snapshotGolden(name: string, caseName: string): Record<string, unknown> {
  return JSON.parse(fs.readFileSync(path.join(EXPECTED, `${name}.${caseName}.json`), 'utf8')) as Record<string, unknown>;
}

describe('doctor --bug-report', () => {
  it.each([
    ['payments', 'policy-blocks-destination', '1.30'],
    ['seed003', 'gateway-subset-no-pods', 'pre-1.30'],
    ['shop', 'registry-only-blocks', '1.30'],
  ] as const)('%s/%s (%s layout): the snapshot\'s diagnosis', async (name, caseName, layout) => {
    const { s, c } = find(name, caseName);
    const file = await bugReport(s, c.pod, { layout });
    const r = await runCli(['doctor', '--bug-report', file, '--pod', c.pod, c.dest, ...(c.args ?? []), '-o', 'json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(c.exit);
    const doc = JSON.parse(r.stdout) as Doc & Record<string, unknown>;
    expect(doc.source).toEqual({ kind: 'bug-report', pod: c.pod });
    const withPolicies = s.objects.some((x) => x.kind === 'NetworkPolicy');
    // with no NetworkPolicy anywhere in the archive, "none exist" and "not collected" look alike
    const step6 = (d: Record<string, unknown>): Record<string, unknown> => (withPolicies ? d : { ...d, steps: (d.steps as { id: string }[]).filter((x) => x.id !== 'network-policy') });
    expect(step6(comparable(doc))).toEqual(step6(comparable(snapshotGolden(name, caseName))));
    if (!withPolicies) expect(doc.steps.find((x) => x.id === 'network-policy')).toMatchObject({ status: 'skipped', reason: expect.stringMatching(/the bug-report holds no NetworkPolicy/) });
    expectGolden(path.join(EXPECTED, `bug-report.${name}.${caseName}.json`), r.stdout);
  });

  it('an archive without NetworkPolicies (istioctl before 1.20): step 6 is skipped, not "allowed"', async () => {
    const { s, c } = find('payments', 'policy-blocks-destination');
    const file = await bugReport(s, c.pod, { layout: 'pre-1.30', networkPolicies: false, log: false });
    const r = await runCli(['doctor', '--bug-report', file, '--pod', c.pod, c.dest]);
    expect(r.stderr).toBe('');
    expectGolden(path.join(EXPECTED, 'bug-report.no-networkpolicies.txt'), r.stdout);
    const doc = JSON.parse((await runCli(['doctor', '--bug-report', file, '--pod', c.pod, c.dest, '-o', 'json'])).stdout) as Doc;
    expect(doc.steps.find((x) => x.id === 'network-policy')).toMatchObject({ status: 'skipped', reason: expect.stringMatching(/not in the input: the bug-report holds no NetworkPolicy: either none exist or istioctl \(before 1\.20\) did not collect them/), findings: [] });
    expect(doc.steps.find((x) => x.id === 'sidecar-logs')).toMatchObject({ status: 'skipped', reason: `the bug-report has no istio-proxy log for ${c.pod}` });
    expect(doc.steps[0]!.reason).toMatch(/offline \(an istioctl bug-report\); run doctor against the cluster with --probe/);
  });

  it('the pod is not in the archive: one line, exit 65', async () => {
    const { s, c } = find('payments', 'policy-blocks-destination');
    const file = await bugReport(s, c.pod, { layout: '1.30' });
    const r = await runCli(['doctor', '--bug-report', file, '--pod', 'payments/ghost', c.dest]);
    expect(r.code).toBe(65);
    expect(r.stderr).toMatch(/^error: .*has no proxy data for pod payments\/ghost/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });
});

describe('doctor --config-dump', () => {
  it.each([
    ['shop', 'registry-only-blocks', undefined],
    // a gateway's dump alone: DEST on the port its listener is bound to (the Service maps 80 → 8080)
    ['seed003', 'gateway-subset-no-pods', 'http://review.example.com:8080/reviews/1'],
    ['shop', 'double-tls', undefined],
  ] as const)('%s/%s: the proxy steps run, the rest say why not', async (name, caseName, destOverride) => {
    const { s, c } = find(name, caseName);
    const file = dumpFile(s, c.pod);
    const dest = destOverride ?? c.dest;
    const json = await runCli(['doctor', '--config-dump', file, dest, ...(c.args ?? []), '-o', 'json']);
    expect(json.stderr).toBe('');
    expect(json.code).toBe(c.exit);
    expectGolden(path.join(EXPECTED, `config-dump.${name}.${caseName}.json`), json.stdout);
    const table = await runCli(['doctor', '--config-dump', file, dest, ...(c.args ?? [])]);
    expect(table.code).toBe(c.exit);
    expectGolden(path.join(EXPECTED, `config-dump.${name}.${caseName}.txt`), table.stdout);
    const doc = JSON.parse(json.stdout) as Doc;
    expect(doc.source).toEqual({ kind: 'config-dump' });
    const step = (id: string) => doc.steps.find((x) => x.id === id)!;
    // what a dump cannot hold: skipped, each with the reason
    expect(step('probe')).toMatchObject({ status: 'skipped' });
    expect(step('sidecar-logs')).toMatchObject({ status: 'skipped', reason: expect.stringMatching(/a config dump holds no istio-proxy log/) });
    expect(step('network-policy')).toMatchObject({ status: 'skipped', reason: expect.stringMatching(/not in a config dump, which holds only the proxy's configuration/) });
    // the proxy itself answers step 2, and the problems it shows are still found
    expect(step('sidecar').status).not.toBe('skipped');
    const snapshot = snapshotGolden(name, caseName) as unknown as Doc;
    const proxyCodes = new Set(['MEG020', 'MEG040', 'MEG070']);
    const want = snapshot.verdict.problems.map((p) => p.code).filter((x) => proxyCodes.has(x));
    expect(want.length).toBeGreaterThan(0);
    expect(doc.verdict.problems.map((p) => p.code)).toEqual(expect.arrayContaining(want));
  });

  it('a gateway asked on its Service port: NO_LISTENER, and the note says which ports it listens on', async () => {
    const { s, c } = find('seed003', 'gateway-subset-no-pods');
    const doc = JSON.parse((await runCli(['doctor', '--config-dump', dumpFile(s, c.pod), c.dest, '-o', 'json'])).stdout) as Doc & { assumptions: string[] };
    expect(doc.steps.find((x) => x.id === 'sidecar')!.summary).toMatch(/^NO_LISTENER/);
    expect(doc.assumptions).toContainEqual(expect.stringMatching(/a gateway listens on its Service's target ports, .*this one on 8080: give DEST with one of them/));
  });

  it('the outbound policy as the proxy applies it', async () => {
    const { s, c } = find('shop', 'registry-only-blocks');
    const doc = JSON.parse((await runCli(['doctor', '--config-dump', dumpFile(s, c.pod), c.dest, '-o', 'json'])).stdout) as Doc;
    const step = doc.steps.find((x) => x.id === 'outbound-policy')!;
    expect(step).toMatchObject({ status: 'problem', summary: 'REGISTRY_ONLY (from the proxy); not registered: blocked' });
    expect(step.findings.map((f) => f.code)).toEqual(['MEG020']);
  });
});

describe('doctor offline input errors', () => {
  it.each([
    [['doctor', '--config-dump', 'd.json', 'pod/x', '1.2.3.4:5'], /with --config-dump give only DEST \(the dump is the proxy\)/],
    [['doctor', '--bug-report', 'b.tar.gz', '1.2.3.4:5'], /--bug-report needs --pod NAMESPACE\/NAME/],
    [['doctor', '--bug-report', 'b.tar.gz', '--pod', 'x', '1.2.3.4:5'], /--pod must be NAMESPACE\/NAME/],
    [['doctor', '--config-dump', 'd.json', '1.2.3.4:5', '--probe'], /--probe needs a live cluster \(it starts a pod\): drop --config-dump/],
    [['doctor', '--snapshot', 's.tar.gz', '--config-dump', 'd.json', '1.2.3.4:5'], /give one input: --config-dump and --snapshot cannot be combined/],
    [['doctor', '--config-dump', 'd.json'], /missing DEST/],
  ])('%j → usage error, one line', async (args, re) => {
    const r = await runCli(args);
    expect(r.code).toBe(64);
    expect(r.stderr.split('\n')[0]).toMatch(re);
    expect(r.stdout).toBe('');
  });

  it('a missing or unreadable dump is a data error, one line', async () => {
    let r = await runCli(['doctor', '--config-dump', path.join(tmp, 'nope.json'), '1.2.3.4:5']);
    expect(r.code).toBe(65);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    const bad = path.join(tmp, 'bad.json');
    fs.writeFileSync(bad, '{"configs": [');
    r = await runCli(['doctor', '--config-dump', bad, '1.2.3.4:5']);
    expect(r.code).toBe(65);
    expect(r.stderr).toMatch(/^error: /);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});
