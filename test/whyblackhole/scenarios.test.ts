/**
 * whyblackhole offline, one scenario per cause class (test/fixtures/whyblackhole/scenarios.ts):
 * each scenario becomes a snapshot archive (the layout `snapshot` writes), the CLI reads it, and
 * the table and JSON outputs are compared with goldens (UPDATE_GOLDEN=1 rewrites them). Every case
 * also asserts the cause class per destination, the finding codes and the exit code, and that the
 * exit code does not depend on -o.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { scenarios, type WbScenario } from '../fixtures/whyblackhole/scenarios.js';
import { writeScenarioSnapshot } from '../fixtures/whyblackhole/snapshot.js';
import { runCli } from '../helpers/cli.js';
import { expectGolden } from '../helpers/golden.js';
import { tempDir } from '../helpers/temp-dir.js';

const EXPECTED = path.join(import.meta.dirname, 'expected');
const tmp = tempDir('wb-scenarios-');

interface Doc {
  kind: string;
  blackholed: boolean;
  destinations: { destination: string; cause: { class: string; objects: { kind: string; name?: string; namespace?: string }[] }; seen?: { observation: string; count: number }; traced?: { verdict: string } }[];
  findings: { code: string; severity: string; message: string; fixes: { title: string; content: string }[] }[];
  query?: { cause: { class: string }; traced: { verdict: string } };
  evidence: { accessLog: { configured: string; entries: number }; stats: { read: boolean; istioMetrics?: boolean; envoyClusterStatsIncluded: boolean | string } };
}

async function snapshot(s: WbScenario, omit: { log?: boolean; stats?: boolean } = {}): Promise<string> {
  const file = path.join(tmp.path, `${s.name}${omit.log ? '-nolog' : ''}${omit.stats ? '-nostats' : ''}.tar.gz`);
  if (!fs.existsSync(file)) await writeScenarioSnapshot(file, s, omit);
  return file;
}

async function both(args: string[]): Promise<{ code: number; doc: Doc; table: string; json: string }> {
  const t = await runCli(['whyblackhole', ...args]);
  const j = await runCli(['whyblackhole', ...args, '-o', 'json']);
  expect(t.stderr).toBe('');
  expect(j.stderr).toBe('');
  expect(t.code, 'the exit code does not depend on -o').toBe(j.code);
  return { code: j.code, doc: JSON.parse(j.stdout) as Doc, table: t.stdout, json: j.stdout };
}

describe.each(scenarios().map((s) => [s.name, s] as const))('whyblackhole --snapshot: %s', (name, s) => {
  it('names the cause class of every destination seen, reports the codes, exits as expected', async () => {
    const r = await both(['--snapshot', await snapshot(s)]);
    expect(r.doc.kind).toBe('WhyBlackhole');
    expect(r.code).toBe(s.exit);
    const classes = Object.fromEntries(r.doc.destinations.map((d) => [d.destination, d.cause.class]));
    expect(classes).toEqual(s.classes);
    const codes = new Set(r.doc.findings.map((f) => f.code));
    for (const c of s.codes) expect(codes, `${name} reports ${c}`).toContain(c);
    expectGolden(path.join(EXPECTED, `${name}.txt`), r.table);
    expectGolden(path.join(EXPECTED, `${name}.json`), r.json);
  });
});

describe('cause classes: what each one names and fixes', () => {
  async function run(name: string, extra: string[] = []): Promise<Doc> {
    const s = scenarios().find((x) => x.name === name)!;
    return (await both(['--snapshot', await snapshot(s), ...extra])).doc;
  }

  it('REGISTRY_ONLY from the mesh names the mesh ConfigMap and the wildcard listener owner of port 7000', async () => {
    const doc = await run('registry-only-mesh');
    const d7000 = doc.destinations.find((d) => d.destination === '10.0.0.6:7000')!;
    expect(d7000.seen).toMatchObject({ observation: 'blackhole', count: 3 });
    expect(d7000.cause.objects).toContainEqual(expect.objectContaining({ kind: 'MeshConfig', name: 'istio', namespace: 'istio-system' }));
    const f = doc.findings.find((x) => x.code === 'MEG024' && x.message.startsWith('10.0.0.6:7000'))!;
    expect(f.message).toContain('Service tools/admin-console');
    expect(f.fixes[0]!.title).toBe('Register 10.0.0.6:7000 with a ServiceEntry');
    // the HTTP destination is registered by its Host, not by the address it resolved to
    const http = doc.findings.find((x) => x.message.startsWith('api.partner.example.com:8080'))!;
    expect(http.fixes[0]!.content).toContain('api.partner.example.com');
    // a query string in a logged path (it may carry credentials) never reaches the output
    expect(JSON.stringify(doc)).not.toContain('sk_live_not_a_secret');
  });

  it('REGISTRY_ONLY from a Sidecar names it and offers to patch it', async () => {
    const doc = await run('registry-only-sidecar');
    const f = doc.findings.find((x) => x.code === 'MEG024')!;
    expect(f.message).toContain('Sidecar shop/locked-down');
    expect(f.fixes.map((x) => x.title)).toContain('Set outboundTrafficPolicy ALLOW_ANY in Sidecar shop/locked-down');
  });

  it('Sidecar egress.hosts: names the hidden Service and patches the Sidecar to import exactly it', async () => {
    const doc = await run('sidecar-egress-hosts');
    const hidden = doc.findings.filter((x) => x.code === 'MEG026');
    expect(hidden.map((x) => x.message.split(' belongs to ')[1]?.split(',')[0])).toEqual(['Service billing/ledger', 'Service billing/reports']);
    expect(hidden[0]!.fixes[0]!.content).toBe(`kubectl patch sidecar default -n shop --type json -p '[{"op":"add","path":"/spec/egress/0/hosts/-","value":"billing/ledger.billing.svc.cluster.local"}]'`);
    // a mesh Service is not to be registered as an external destination nor bypassed
    const bh = doc.findings.find((x) => x.code === 'MEG024')!;
    expect(bh.fixes.map((x) => x.title)).toEqual(['Import ledger.billing.svc.cluster.local in Sidecar shop/default']);
  });

  it('exportTo: the annotation of a Service and spec.exportTo of a ServiceEntry, each with its own patch', async () => {
    const doc = await run('export-to');
    const hidden = doc.findings.filter((x) => x.code === 'MEG026');
    const fixes = hidden.flatMap((x) => x.fixes.map((f) => f.content));
    expect(fixes).toContain('kubectl annotate service private-db -n payments networking.istio.io/exportTo=payments,ops,shop --overwrite');
    expect(fixes).toContain('kubectl annotate service private-api -n payments networking.istio.io/exportTo=.,shop --overwrite');
    expect(fixes).toContain(`kubectl patch serviceentry partner -n payments --type merge -p '{"spec":{"exportTo":[".","shop"]}}'`);
  });

  it('Istio 1.4 HTTP listener of another namespace: DPE from the 1.3-format log, the owning Service and its appProtocol fix', async () => {
    const doc = await run('shared-port-listener');
    const d = doc.destinations.find((x) => x.destination === '10.0.0.6:7000')!;
    expect(d.traced?.verdict).toBe('PROTOCOL_MISMATCH');
    expect(d.cause.objects).toContainEqual(expect.objectContaining({ kind: 'Service', name: 'paas-gateway', namespace: 'infra' }));
    const f = doc.findings.find((x) => x.code === 'MEG024')!;
    expect(f.fixes.map((x) => x.content)).toContain(`kubectl patch service paas-gateway -n infra -p '{"spec":{"ports":[{"port":7000,"appProtocol":"tcp"}]}}'`);
  });

  it('a TCP ServiceEntry without addresses: the upstream failure is explained by the capture, and it is an error', async () => {
    const doc = await run('tcp-serviceentry-no-addresses');
    const f = doc.findings.find((x) => x.code === 'MEG029')!;
    expect(f.severity).toBe('error');
    expect(f.message).toContain('ServiceEntry shop/pg-legacy');
    expect(f.fixes[0]!.title).toBe('Give ServiceEntry shop/pg-legacy its addresses');
  });

  it('a subset without endpoints and a subset without DestinationRule', async () => {
    expect((await run('subset-without-endpoints')).findings.find((x) => x.code === 'MEG024')!.message).toContain('Subset "v1" of review.review.svc.cluster.local selects no ready pod');
    const nc = await run('cluster-not-found');
    expect(nc.destinations[0]!.traced?.verdict).toBe('NO_CLUSTER');
  });

  it('logs off: says so, with the Telemetry resource and the mesh config patch, and counts what metrics saw', async () => {
    const doc = await run('logs-off');
    expect(doc.evidence.accessLog.configured).toBe('off');
    const off = doc.findings.find((x) => x.code === 'MEG065')!;
    expect(off.message).toContain('meshConfig.accessLogFile is empty (istio-system/istio)');
    expect(off.message).toContain('no Telemetry resource configures access logging for this pod');
    expect(off.fixes[0]!.content).toContain('kind: Telemetry');
    expect(off.fixes[1]!.content).toContain('accessLogFile: /dev/stdout');
    expect(doc.findings.find((x) => x.code === 'MEG027')!.message).toContain('7 TCP connections in istio_tcp_connections_closed_total');
    expect(doc.evidence.stats.envoyClusterStatsIncluded).toBe(false);
    expect(doc.findings.find((x) => x.code === 'MEG066')!.fixes[0]!.content).toContain('proxyStatsMatcher');
  });

  it('no evidence at all: does not claim "nothing black-holed"', async () => {
    const doc = await run('no-evidence');
    expect(doc.findings.map((x) => x.code)).not.toContain('MEG068');
    expect(doc.evidence.stats.istioMetrics).toBe(false);
  });

  it('DEST without traffic seen: traced and answered (REGISTRY_ONLY, exit 79)', async () => {
    const s = scenarios().find((x) => x.name === 'registry-only-mesh')!;
    const r = await both(['--snapshot', await snapshot(s), '10.0.0.6:9042']);
    expect(r.code).toBe(79);
    expect(r.doc.query).toMatchObject({ cause: { class: 'registry-only-mesh' }, traced: { verdict: 'BLACKHOLE' } });
    expect(r.table).toContain('seen: no traffic to it in the evidence read');
    expectGolden(path.join(EXPECTED, 'dest-unseen.txt'), r.table);
    expectGolden(path.join(EXPECTED, 'dest-unseen.json'), r.json);
  });

  it('DEST by name whose ServiceEntry lists other addresses: serviceentry-resolution with an addresses patch', async () => {
    const s = scenarios().find((x) => x.name === 'serviceentry-resolution')!;
    const r = await both(['--snapshot', await snapshot(s), 'db.legacy.example.com:9000', '--address', '10.9.9.9']);
    expect(r.code).toBe(0);
    expect(r.doc.query?.cause.class).toBe('serviceentry-resolution');
    const f = r.doc.findings.find((x) => x.code === 'MEG026')!;
    expect(f.severity).toBe('warning');
    expect(f.fixes[0]!.content).toBe(`kubectl patch serviceentry legacy-db -n shop --type merge -p '{"spec":{"addresses":["240.240.0.10","10.9.9.9/32"]}}'`);
    expectGolden(path.join(EXPECTED, 'dest-serviceentry-resolution.json'), r.json);
  });

  it('DEST the log saw: the query carries the evidence for it', async () => {
    const s = scenarios().find((x) => x.name === 'sidecar-egress-hosts')!;
    const r = await both(['--snapshot', await snapshot(s), '10.96.64.21:5432']);
    expect(r.code).toBe(79);
    expect(r.doc.query?.cause.class).toBe('sidecar-egress-hosts');
    expect(r.table).toMatch(/seen: 4 black-holed \(flags UH/);
  });

  it('an archive without log and stats says what is missing and how to supply it', async () => {
    const s = scenarios().find((x) => x.name === 'registry-only-mesh')!;
    const r = await both(['--snapshot', await snapshot(s, { log: true, stats: true })]);
    const missing = r.doc.findings.filter((x) => x.code === 'MEG069').map((x) => x.message);
    expect(missing).toHaveLength(2);
    expect(missing.join('\n')).toContain('--access-log FILE');
    expect(missing.join('\n')).toContain('--stats FILE');
    expect(r.code).toBe(0);
  });
});
