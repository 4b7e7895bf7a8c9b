/**
 * whyblackhole inputs other than snapshots: --config-dump with --access-log / --stats (also the
 * /stats text format), an istioctl bug-report archive, and the user errors each input can cause
 * (one line, the right exit code, no stack trace).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tar from 'tar';
import YAML from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { byName } from '../fixtures/whyblackhole/scenarios.js';
import { runCli } from '../helpers/cli.js';
import { expectGolden } from '../helpers/golden.js';

const EXPECTED = path.join(import.meta.dirname, 'expected');
let dir: string;

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wb-inputs-'));
});
afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

function write(name: string, text: string): string {
  const f = path.join(dir, name);
  fs.writeFileSync(f, text);
  return f;
}

describe('--config-dump with --access-log and --stats', () => {
  it('reads the evidence files, traces every destination with the dump alone (no cluster view)', async () => {
    const s = byName('registry-only-mesh');
    const dump = write('dump.json', JSON.stringify(s.dump));
    const log = write('proxy.log', s.log!);
    const stats = write('stats.prom', s.stats!);
    const r = await runCli(['whyblackhole', '--config-dump', dump, '--access-log', log, '--stats', stats, '-o', 'json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(79);
    const doc = JSON.parse(r.stdout) as { source: { kind: string }; destinations: { destination: string; cause: { class: string } }[] };
    expect(doc.source).toEqual({ kind: 'config-dump' });
    // without the mesh config or Sidecars, REGISTRY_ONLY cannot be attributed to either
    expect(Object.fromEntries(doc.destinations.map((d) => [d.destination, d.cause.class]))).toEqual({ '10.0.0.6:7000': 'registry-only', '10.0.0.6:6379': 'registry-only', 'api.partner.example.com:8080': 'registry-only', '1.2.3.4:15001': 'loop-guard' });
    expectGolden(path.join(EXPECTED, 'config-dump-files.json'), r.stdout.split(dir).join('<tmp>'));
  });

  it('reads Envoy\'s /stats text with Istio\'s tag encoding and the ";" cluster delimiter', async () => {
    const s = byName('logs-off');
    const dump = write('dump-logs-off.json', JSON.stringify(s.dump));
    const stats = write(
      'stats.txt',
      [
        'cluster.BlackHoleCluster;.upstream_cx_total: 9',
        'cluster.PassthroughCluster;.upstream_cx_total: 2',
        'listener.0.0.0.0_7000.no_filter_chain_match: 0',
        'reporter=.=source;.;source_workload=.=api;.;destination_service_name=.=BlackHoleCluster;.;istio_tcp_connections_closed_total: 9',
        'server.state: 0',
      ].join('\n'),
    );
    const r = await runCli(['whyblackhole', '--config-dump', dump, '--stats', stats, '-o', 'json']);
    expect(r.code).toBe(79);
    const doc = JSON.parse(r.stdout) as { evidence: { stats: { format: string; blackhole: { tcpConnections: number }; envoy: { blackholeConnections: number; passthroughConnections: number }; envoyClusterStatsIncluded: boolean } }; findings: { code: string; message: string }[] };
    expect(doc.evidence.stats).toMatchObject({ format: 'envoy-text', blackhole: { tcpConnections: 9 }, envoy: { blackholeConnections: 9, passthroughConnections: 2 }, envoyClusterStatsIncluded: true });
    const counted = doc.findings.find((f) => f.code === 'MEG027')!;
    expect(counted.message).toContain('9 TCP connections in istio_tcp_connections_closed_total, 9 connections in cluster.BlackHoleCluster.upstream_cx_total');
    // the counters are included, so the stats-inclusion finding must not be there
    expect(doc.findings.map((f) => f.code)).not.toContain('MEG066');
  });

  it('DEST with the dump only', async () => {
    const dump = write('dump-only.json', JSON.stringify(byName('registry-only-mesh').dump));
    const r = await runCli(['whyblackhole', '--config-dump', dump, 'tcp://10.0.0.6:6379']);
    expect(r.code).toBe(79);
    expect(r.stdout).toContain('DESTINATION  tcp://10.0.0.6:6379  BLACKHOLE');
    expect(r.stdout).toContain('cause: registry-only:');
  });
});

describe('--bug-report ARCHIVE --pod ns/name', () => {
  it('reads config_dump, stats/prometheus and istio-proxy.log of the pod, and the cluster resources', async () => {
    const s = byName('sidecar-egress-hosts');
    const root = path.join(dir, 'br');
    const proxyDir = path.join(root, 'bug-report/proxies/shop/sleep-5f7d9c8b6-abcde');
    fs.mkdirSync(path.join(proxyDir, 'stats'), { recursive: true });
    fs.writeFileSync(path.join(proxyDir, 'config_dump?include_eds'), JSON.stringify(s.dump));
    fs.writeFileSync(path.join(proxyDir, 'stats/prometheus'), s.stats!);
    fs.writeFileSync(path.join(proxyDir, 'istio-proxy.log'), s.log!);
    fs.mkdirSync(path.join(root, 'bug-report/cluster'), { recursive: true });
    const k8s = [s.pod, s.mesh!, ...s.objects.filter((o) => o.kind === 'Service')];
    fs.writeFileSync(path.join(root, 'bug-report/cluster/k8s-resources'), k8s.map((o) => YAML.stringify(o)).join('---\n'));
    fs.writeFileSync(path.join(root, 'bug-report/cluster/crs'), s.objects.filter((o) => o.kind !== 'Service').map((o) => YAML.stringify(o)).join('---\n'));
    const archive = path.join(dir, 'bug-report.tar.gz');
    await tar.c({ gzip: true, file: archive, cwd: root }, ['bug-report']);
    const r = await runCli(['whyblackhole', '--bug-report', archive, '--pod', 'shop/sleep-5f7d9c8b6-abcde', '-o', 'json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(79);
    const doc = JSON.parse(r.stdout) as { source: unknown; destinations: { destination: string; cause: { class: string } }[]; findings: { code: string }[] };
    expect(doc.source).toEqual({ kind: 'bug-report', pod: 'shop/sleep-5f7d9c8b6-abcde' });
    expect(doc.destinations.map((d) => d.cause.class)).toEqual(['sidecar-egress-hosts', 'sidecar-egress-hosts']);
    expect(doc.findings.map((f) => f.code)).toContain('MEG026');
  });
});

describe('user errors: one line, the right exit code', () => {
  const cases: [string, string[], number, RegExp][] = [
    ['no TARGET', ['whyblackhole'], 64, /missing TARGET/],
    ['two inputs', ['whyblackhole', '--snapshot', 'a', '--config-dump', 'b'], 64, /cannot be combined/],
    ['--access-log without offline input', ['whyblackhole', 'pod/x', '--access-log', 'f'], 64, /offline evidence/],
    ['--since offline', ['whyblackhole', '--snapshot', 'a', '--since', '1h'], 64, /--since applies to live runs/],
    ['bad --since', ['whyblackhole', 'pod/x', '--since', 'yesterday'], 64, /invalid --since "yesterday"/],
    ['--bug-report without --pod', ['whyblackhole', '--bug-report', 'a'], 64, /needs --pod/],
    ['DEST flags without DEST', ['whyblackhole', '--snapshot', 'a', '--sni', 'x'], 64, /give DEST too/],
    ['too many arguments', ['whyblackhole', 'pod/x', '1.2.3.4:80', 'extra'], 64, /too many arguments/],
    ['missing snapshot', ['whyblackhole', '--snapshot', '/nonexistent/snap.tar.gz'], 65, /cannot open: no such file/],
  ];
  for (const [name, args, code, re] of cases) {
    it(name, async () => {
      const r = await runCli(args);
      expect(r.code).toBe(code);
      expect(r.stderr).toMatch(re);
      expect(r.stderr).not.toMatch(/\n\s+at /);
      expect(r.stdout).toBe('');
    });
  }

  it('an unreadable --access-log file is bad input (65)', async () => {
    const dump = write('dump-err.json', JSON.stringify(byName('quiet').dump));
    const r = await runCli(['whyblackhole', '--config-dump', dump, '--access-log', path.join(dir, 'missing.log')]);
    expect(r.code).toBe(65);
    expect(r.stderr).toBe(`error: ${path.join(dir, 'missing.log')}: cannot read the access log: no such file\n`);
  });

  it('an invalid DEST is a usage error', async () => {
    const dump = write('dump-err2.json', JSON.stringify(byName('quiet').dump));
    const r = await runCli(['whyblackhole', '--config-dump', dump, '10.0.0.6:99999']);
    expect(r.code).toBe(64);
    expect(r.stderr).toMatch(/invalid port "99999"/);
  });
});
