/**
 * race-check offline: each scenario as a snapshot archive → `race-check --snapshot` → golden table
 * and JSON (test/race-check/expected/<scenario>.{txt,json}; UPDATE_GOLDEN=1 rewrites them), plus
 * the verdict, the finding codes and the exit code asserted explicitly; the exit code must not
 * depend on -o. Every race-check code (MEG050-059) must show in some golden JSON.
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { raceCodes } from '../../src/analyze/catalog-race.js';
import { expectGolden } from '../helpers/golden.js';
import { tempDir } from '../helpers/temp-dir.js';
import { runCli } from '../helpers/cli.js';
import { SCENARIOS } from './scenarios.js';
import { writeScenarioSnapshot } from './snapshots.js';

const EXPECTED = path.join(import.meta.dirname, 'expected');
const tmp = tempDir('race-check-');
const codesSeen = new Set<string>();

interface Doc {
  apiVersion: string;
  kind: string;
  verdict: string;
  pods: { name: string; verdict: string; window?: { seconds: number }; firstRefused?: { at: string; inWindow: boolean | null }; timeline: { at: string }[] }[];
  findings: { code: string; severity: string; message: string; fixes: { rank: number; kind: string; content: string }[] }[];
}

describe('race-check from snapshots', () => {
  for (const s of SCENARIOS) {
    it(`${s.name}: ${s.expect.verdict}, exit ${s.expect.exit}`, async () => {
      expect(s.description.length).toBeGreaterThan(40);
      const file = path.join(tmp.path, `${s.name}.tar.gz`);
      await writeScenarioSnapshot(s, file);
      const json = await runCli(['race-check', '--snapshot', file, '-o', 'json']);
      expect(json.stderr).toBe('');
      const doc = JSON.parse(json.stdout) as Doc;
      expect(doc.apiVersion).toBe('mesh-egress/v1');
      expect(doc.kind).toBe('RaceCheck');
      expect(doc.verdict).toBe(s.expect.verdict);
      expect(doc.pods.map((p) => p.name)).toEqual([s.pod.name]);
      expect([...new Set(doc.findings.map((f) => f.code))].sort()).toEqual([...s.expect.codes].sort());
      expect(json.code, 'exit code').toBe(s.expect.exit);
      for (const f of doc.findings) codesSeen.add(f.code);
      // the timeline is ordered
      const times = doc.pods[0]!.timeline.map((e) => Date.parse(e.at.replace(/(\.\d{3})\d+/, '$1')));
      expect([...times].sort((a, b) => a - b)).toEqual(times);
      const table = await runCli(['race-check', '--snapshot', file]);
      expect(table.code, 'exit code must not depend on -o').toBe(s.expect.exit);
      expect(table.stderr).toBe('');
      expect(table.stdout).toContain(`VERDICT     ${s.expect.verdict}`);
      expectGolden(path.join(EXPECTED, `${s.name}.json`), json.stdout.replace(JSON.stringify(file).slice(1, -1), `${s.name}.tar.gz`));
      expectGolden(path.join(EXPECTED, `${s.name}.txt`), table.stdout.replace(file, `${s.name}.tar.gz`));
    });
  }

  it('every race-check finding code appears in a golden', () => {
    const ours = Object.values(raceCodes).map((e) => e.code);
    expect(ours.filter((c) => !codesSeen.has(c))).toEqual([]);
  });
});

describe('what the scenarios show', () => {
  async function doc(name: string, extra: string[] = []): Promise<{ code: number; doc: Doc }> {
    const s = SCENARIOS.find((x) => x.name === name)!;
    const file = path.join(tmp.path, `${name}-detail.tar.gz`);
    await writeScenarioSnapshot(s, file);
    const r = await runCli(['race-check', '--snapshot', file, '-o', 'json', ...extra]);
    return { code: r.code, doc: JSON.parse(r.stdout) as Doc };
  }

  it('seed 001: the first error is 0.55 s after the app started, while Envoy still failed its readiness probe', async () => {
    const { doc: d } = await doc('seed001');
    const p = d.pods[0]!;
    expect(p.firstRefused).toMatchObject({ at: '2020-03-31T10:41:15.552128897Z', inWindow: true });
    expect(p.window?.seconds).toBeCloseTo(45.43, 1);
    const race = d.findings.find((f) => f.code === 'MEG050')!;
    expect(race.severity).toBe('error');
    expect(race.message).toContain('dial tcp 192.168.9.16:19209: connect: connection refused');
    // Istio 1.3.3 has no holdApplicationUntilProxyStarts: the readiness loop comes first, on the pod's own status port
    expect(race.fixes[0]!.content).toContain('http://localhost:15020/healthz/ready');
    expect(race.fixes.map((f) => f.content).join('\n')).not.toContain('sidecar.istio.io/nativeSidecar');
  });

  it('a crash on ECONNREFUSED is found in the previous instance\'s log, and the fixes patch the Deployment', async () => {
    const { doc: d } = await doc('app-before-proxy');
    expect(d.pods[0]!.firstRefused).toMatchObject({ inWindow: true });
    const race = d.findings.find((f) => f.code === 'MEG050')!;
    expect(race.fixes[0]!.content).toBe(`kubectl patch deployment/checkout -n shop --type merge -p '{"spec":{"template":{"metadata":{"annotations":{"proxy.istio.io/config":"{\\"holdApplicationUntilProxyStarts\\":true}"}}}}}'`);
    expect(race.fixes[1]!.content).toContain('"sidecar.istio.io/nativeSidecar":"true"');
  });

  it('vault-agent-init behind istio-init: exclusion by the Service IP, not the hostname', async () => {
    const { doc: d } = await doc('vault-istio-init-stuck');
    const f = d.findings.find((x) => x.code === 'MEG054')!;
    const contents = f.fixes.map((x) => x.content).join('\n');
    expect(contents).toContain('"traffic.sidecar.istio.io/excludeOutboundIPRanges":"10.96.120.15/32"');
    expect(contents).toContain('"traffic.sidecar.istio.io/excludeOutboundPorts":"8200"');
    expect(contents).toContain('"vault.hashicorp.com/agent-init-first":"true"');
    expect(contents).toContain('"vault.hashicorp.com/agent-run-as-user":"1337"');
  });

  it('an external Vault hostname: the IP exclusion is left for the user to fill, istio-cni gets no init-first fix', async () => {
    const { doc: d } = await doc('vault-cni-stuck');
    const f = d.findings.find((x) => x.code === 'MEG054')!;
    const ip = f.fixes.find((x) => x.content.includes('excludeOutboundIPRanges'))!;
    expect(ip.kind).toBe('text');
    expect(ip.content).toContain('<IP-or-CIDR-of-vault.example.com>');
    expect(f.fixes.map((x) => x.content).join('\n')).not.toContain('agent-init-first');
  });

  it('--fail-on warning turns an exposed pod into exit 79; --fail-on never always exits 0', async () => {
    expect((await doc('exposed-no-errors', ['--fail-on', 'warning'])).code).toBe(79);
    expect((await doc('seed001', ['--fail-on', 'never'])).code).toBe(0);
  });
});
