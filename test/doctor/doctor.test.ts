/**
 * doctor offline: every scenario case packed as the snapshot archive of its pod and diagnosed with
 * `doctor --snapshot`: the JSON, table and YAML outputs against goldens (expected/<scenario>.<case>.*;
 * the catalog coverage test reads the JSON goldens),
 * the exit code, and the steps each case exists for.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { expectGolden } from '../helpers/golden.js';
import { doctorScenarios, type DoctorCase, type DoctorScenario } from './scenarios.js';
import { writeScenarioSnapshot } from './snapshot.js';

const EXPECTED = path.join(import.meta.dirname, 'expected');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'meg-doctor-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

interface Doc {
  kind: string;
  destination: string;
  steps: { number: number; id: string; status: string; reason?: string; evidence: string[]; findings: { code: string; severity: string }[] }[];
  verdict: { status: string; problems: { rank: number; code: string; role: string; step: number }[] };
  findings: { code: string; fixes: { kind: string; content: string }[] }[];
}

const scenarios = doctorScenarios();
const archives = new Map<string, string>();

beforeAll(async () => {
  for (const s of scenarios) {
    for (const pod of new Set(s.cases.map((c) => c.pod))) {
      const file = path.join(tmp, `${s.name}-${pod.replace('/', '_')}.tar.gz`);
      await writeScenarioSnapshot(file, s, pod);
      archives.set(`${s.name}|${pod}`, file);
    }
  }
});

async function doctor(s: DoctorScenario, c: DoctorCase, output: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return runCli(['doctor', '--snapshot', archives.get(`${s.name}|${c.pod}`)!, c.dest, ...(c.args ?? []), '-o', output]);
}

/** What each case is about: the step and code it must find (beyond the goldens). */
const EXPECT: Readonly<Record<string, { step: string; code?: string; first?: string }>> = {
  'seed003/gateway-subset-no-pods': { step: 'subsets', code: 'MEG043', first: 'MEG043' },
  'shop/catalog-ok': { step: 'subsets' },
  'shop/service-without-pods': { step: 'subsets', code: 'MEG045', first: 'MEG045' },
  'shop/endpoints-not-ready': { step: 'subsets', code: 'MEG046', first: 'MEG046' },
  'shop/registry-only-blocks': { step: 'outbound-policy', code: 'MEG020', first: 'MEG020' },
  'shop/mysql-declared-http': { step: 'port-protocol', code: 'MEG049', first: 'MEG049' },
  'shop/tls-to-http-port': { step: 'port-protocol', code: 'MEG074', first: 'MEG074' },
  'shop/double-tls': { step: 'tls', code: 'MEG070', first: 'MEG070' },
  'shop/istio-mutual-external': { step: 'tls', code: 'MEG071', first: 'MEG071' },
  'shop/mutual-without-cert': { step: 'tls', code: 'MEG073', first: 'MEG073' },
  'shop/origination-no-sni': { step: 'tls', code: 'MEG075' },
  'shop/origination-system-cas': { step: 'tls', code: 'MEG072', first: 'MEG072' },
  'shop/server-first-sniffed': { step: 'port-protocol', code: 'MEG048', first: 'MEG048' },
  'payments/policy-blocks-destination': { step: 'network-policy', code: 'MEG080', first: 'MEG080' },
  'payments/hostname-address-decides': { step: 'network-policy', code: 'MEG082' },
  'payments/dns-blocked': { step: 'network-policy', code: 'MEG081', first: 'MEG081' },
  'payments/no-sidecar': { step: 'network-policy', code: 'MEG080', first: 'MEG080' },
};

describe.each(scenarios.map((s) => [s.name, s] as const))('doctor --snapshot, scenario %s', (_name, s) => {
  it.each(s.cases.map((c) => [c.name, c] as const))('%s', async (_case, c) => {
    const id = `${s.name}/${c.name}`;
    const json = await doctor(s, c, 'json');
    expect(json.stderr).toBe('');
    expect(json.code, id).toBe(c.exit);
    expectGolden(path.join(EXPECTED, `${s.name}.${c.name}.json`), json.stdout);
    const doc = JSON.parse(json.stdout) as Doc;
    expect(doc.kind).toBe('Doctor');
    expect(doc.destination).toBe(c.dest);
    // every step is in the document, in seed 000's order
    expect(doc.steps.map((x) => x.number)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    // offline: the probe cannot run, and says how to run it
    expect(doc.steps[0]!.status).toBe('skipped');
    expect(doc.steps[0]!.reason).toMatch(/--probe|gateway/);
    const want = EXPECT[id];
    if (!want) throw new Error(`no expectation for ${id}`);
    const step = doc.steps.find((x) => x.id === want.step)!;
    if (want.code) {
      expect(step.status, id).toBe('problem');
      expect(step.findings.map((f) => f.code), id).toContain(want.code);
    } else expect(step.status, id).toBe('ok');
    if (want.first) expect(doc.verdict.problems[0]?.code, id).toBe(want.first);
    if (c.exit === 0 && !want.code) expect(doc.verdict.status).toBe('ok');
    const table = await doctor(s, c, 'table');
    expect(table.code).toBe(c.exit);
    expectGolden(path.join(EXPECTED, `${s.name}.${c.name}.txt`), table.stdout);
    const yaml = await doctor(s, c, 'yaml');
    expect(yaml.code).toBe(c.exit);
    expect(YAML.parse(yaml.stdout)).toEqual(doc);
  });
});

describe('seed 003 at the ingress gateway', () => {
  it('names the pods, their labels, the missing label and the commands that fix it', async () => {
    const s = scenarios.find((x) => x.name === 'seed003')!;
    const doc = JSON.parse((await doctor(s, s.cases[0]!, 'json')).stdout) as Doc;
    const f = doc.findings.find((x) => x.code === 'MEG043')! as unknown as { message: string; fixes: { kind: string; title: string; content: string }[] };
    expect(f.message).toMatch(/Subset "v1" of review\.review\.svc\.cluster\.local .*selects version=v1.*review-\S+ \(app=review\).*Missing: version=v1 \(no pod has the label "version"\)/);
    expect(f.fixes.map((x) => x.content)).toEqual([
      `kubectl patch deployment review -n review --type merge -p '{"spec":{"template":{"metadata":{"labels":{"version":"v1"}}}}}'`,
      expect.stringMatching(/^kubectl label pod -n review review-\S+ version=v1$/),
      expect.stringContaining('kind: DestinationRule'),
    ]);
    // gateway mode: no capture, the listener is on the Service's target port
    const sidecar = doc.steps.find((x) => x.id === 'sidecar')!;
    expect(sidecar.evidence.join('\n')).toMatch(/listener 0\.0\.0\.0_8080 .*route config http\.8080 .*cluster outbound\|80\|v1\|review/);
    expect(sidecar.evidence.join('\n')).not.toMatch(/capture:/);
    expect(doc.steps.find((x) => x.id === 'outbound-policy')!.status).toBe('skipped');
    expect(doc.verdict.problems.map((p) => `${p.code}:${p.role}`)).toEqual(['MEG043:cause', 'MEG040:symptom', 'MEG044:symptom']);
  });

  it('a snapshot without the doctor collector\'s files: the checks that need them say so', async () => {
    const s = scenarios.find((x) => x.name === 'seed003')!;
    const file = path.join(tmp, 'seed003-bare.tar.gz');
    await writeScenarioSnapshot(file, s, s.cases[0]!.pod, { doctor: true });
    const r = await runCli(['doctor', '--snapshot', file, s.cases[0]!.dest, '-o', 'json']);
    const doc = JSON.parse(r.stdout) as Doc;
    expect(doc.steps.find((x) => x.id === 'network-policy')).toMatchObject({ status: 'skipped', reason: expect.stringMatching(/NetworkPolicies are not in the snapshot/) });
    expect(doc.steps.find((x) => x.id === 'subsets')).toMatchObject({ reason: expect.stringMatching(/the pods of namespace review are not in the snapshot/) });
    // the trace alone still finds the empty subset cluster
    expect(doc.findings.map((f) => f.code)).toContain('MEG040');
    expect(r.code).toBe(79);
  });
});

describe('doctor input errors', () => {
  it.each([
    [['doctor'], /missing TARGET/],
    [['doctor', 'pod/x'], /missing DEST/],
    [['doctor', 'pod/x', 'a:1', 'b:2'], /too many arguments/],
    [['doctor', '--snapshot', 'x.tar.gz', '1.2.3.4:5', '--probe'], /--probe needs a live cluster/],
    [['doctor', 'pod/x', '1.2.3.4:5', '--probe-image', 'busybox'], /--probe-image only applies with --probe/],
    [['doctor', 'pod/x', '1.2.3.4:5', '--probe', '--probe-timeout', '1s'], /between 2s and 10m/],
    [['doctor', 'pod/x', '1.2.3.4:5', '--probe', '--probe-timeout', 'soon'], /invalid --probe-timeout/],
    [['doctor', 'pod/x', '1.2.3.4:5', '--log-lines', '0'], /--log-lines must be/],
  ])('%j → usage error', async (args, re) => {
    const r = await runCli(args);
    expect(r.code).toBe(64);
    expect(r.stderr).toMatch(re);
    expect(r.stderr.split('\n')[0]).toMatch(/^error: /);
    expect(r.stdout).toBe('');
  });
  it('an unreadable snapshot is a data error, one line', async () => {
    const f = path.join(tmp, 'not-an-archive.tar.gz');
    fs.writeFileSync(f, 'nope');
    const r = await runCli(['doctor', '--snapshot', f, '1.2.3.4:5']);
    expect(r.code).toBe(65);
    expect(r.stderr).toMatch(/^error: .*not a readable tar\.gz archive/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});
