/**
 * `multicluster` end to end: the CLI drives the real kubectl binaries (1.27 over SPDY, the newest over
 * websockets) against the in-process API server serving two clusters (contexts east and west in one
 * kubeconfig). Scenarios follow seed 004: a healthy pair, root mismatch, a missing remote secret, a
 * wrong data key, only-local endpoints, the HTTP_REQUEST TLS error, a misconfigured pair (same cluster
 * ID, gateway without address, inconsistent Service), a cluster that cannot be reached, RBAC limits,
 * and snapshots. Every run is read-only, reads Secrets only as the verb must (cacerts' root, remote
 * secrets), and no token, key or certificate body reaches any output or snapshot.
 */
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { afterAll, afterEach, describe, expect, test } from 'vitest';
import { runCli, type CliResult } from '../../helpers/cli.js';
import { kubectlPath, kubectlVersions, startTestServer, type TestServer } from '../server/index.js';
import { buildMesh, healthyMesh, PROXY_KEY_CANARY, tokenCanary, type BuiltMesh, type MeshSpec } from './mesh.js';

const EXPECTED = path.join(import.meta.dirname, 'expected');
const FIXTURES = path.join(import.meta.dirname, 'fixtures');
const OLDEST = '1.27';
const NEWEST = kubectlVersions().at(-1) ?? '1.33';
const update = process.env.UPDATE_GOLDEN === '1';
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mesh-egress-mc-'));
const servers: TestServer[] = [];
const closers: (() => Promise<void>)[] = [];

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.stop()));
  await Promise.all(closers.splice(0).map((c) => c()));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

// ---- secrets that must never leave the cluster ------------------------------------------------------

/** Every base64 line of every fixture PEM (certificates and keys), the canary tokens and the proxy key. */
function forbiddenStrings(): string[] {
  const out = [tokenCanary('east'), tokenCanary('west'), 'CANARY-TOKEN', PROXY_KEY_CANARY, 'PRIVATE KEY', 'BEGIN CERTIFICATE', 'certificate-authority-data', 'last-applied-configuration'];
  for (const f of fs.readdirSync(FIXTURES).filter((x) => x.endsWith('.pem'))) {
    const text = fs.readFileSync(path.join(FIXTURES, f), 'utf8');
    for (const line of text.split('\n')) if (/^[A-Za-z0-9+/=]{40,}$/.test(line)) out.push(line);
    // as stored in Secrets, ConfigMaps and config dumps: the whole PEM in base64
    out.push(Buffer.from(text).toString('base64').slice(0, 60));
  }
  return out;
}
const FORBIDDEN = forbiddenStrings();

function expectNoSecrets(text: string, where: string): void {
  for (const s of FORBIDDEN) expect(text.includes(s), `${where} contains ${s.slice(0, 30)}…`).toBe(false);
}

// ---- helpers ----------------------------------------------------------------------------------------

async function serve(mesh: BuiltMesh): Promise<TestServer> {
  const srv = await startTestServer({ clusters: mesh.clusters });
  servers.push(srv);
  return srv;
}

function env(srv: TestServer, version: string, extra: Record<string, string> = {}): Record<string, string> {
  return { ...srv.kubectlEnv(), MESH_EGRESS_KUBECTL: kubectlPath(version), ...extra };
}

/** The API servers listen on random ports: goldens name them by context. */
function normalize(text: string, srv: TestServer): string {
  let out = text;
  for (const [ctx, url] of Object.entries(srv.urls)) out = out.split(url).join(`https://<${ctx} API server>`);
  return out.split(tmp).join('<tmp>');
}

function golden(file: string, actual: string): void {
  if (update || !fs.existsSync(file)) {
    if (!update) throw new Error(`missing golden ${file}: run UPDATE_GOLDEN=1 npx vitest run test/e2e/multicluster`);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, actual);
    return;
  }
  expect(actual).toBe(fs.readFileSync(file, 'utf8'));
}

interface Doc {
  kind: string;
  checks: { check: string; cluster: string; peer?: string; status: string; detail: string }[];
  findings: { code: string; severity: string; message: string; subject?: { kind: string; name?: string } }[];
  verdict: string;
}

function parse(r: CliResult): Doc {
  expect(r.stderr).toBe('');
  return JSON.parse(r.stdout) as Doc;
}

function codes(d: Doc): string[] {
  return [...new Set(d.findings.map((f) => f.code))].sort();
}

function status(d: Doc, check: string, cluster: string, peer?: string): string | undefined {
  return d.checks.find((c) => c.check === check && c.cluster === cluster && (peer === undefined || c.peer === peer))?.status;
}

/** Only reads; exec only for `pilot-agent request GET` and `pilot-discovery request GET debug/clusterz`; Secrets only as needed. */
function expectReadOnly(srv: TestServer): void {
  expect(srv.requests.filter((q) => q.mutating && q.action !== 'exec' && q.action !== 'portforward').map((q) => `${q.method} ${q.path}`)).toEqual([]);
  for (const q of srv.requests.filter((x) => x.action === 'exec')) {
    const cmd = (q.query.command ?? []).join(' ');
    expect(cmd).toMatch(/^(pilot-agent request GET \S+|pilot-discovery request GET debug\/clusterz)$/);
  }
  for (const q of srv.requests.filter((x) => x.resource === 'secrets')) {
    const cacertsRoot = q.verb === 'get' && q.name === 'cacerts';
    const remoteSecrets = q.verb === 'list' && (q.query.labelSelector ?? []).includes('istio/multiCluster=true');
    expect(cacertsRoot || remoteSecrets, `unexpected Secret read ${q.method} ${q.path}`).toBe(true);
  }
}

const BASE = ['multicluster', '--context', 'east', '--context', 'west'];
const WITH_SERVICE = [...BASE, 'helloworld.sample', '--from', 'deploy/curl', '-n', 'sample'];

interface Scenario {
  readonly spec: () => MeshSpec;
  readonly args: readonly string[];
  readonly exit: number;
  readonly codes: readonly string[];
  readonly check: (d: Doc) => void;
}

const SCENARIOS: Record<string, Scenario> = {
  'healthy-pair': {
    spec: healthyMesh,
    args: WITH_SERVICE,
    exit: 0,
    codes: [],
    check: (d) => {
      expect(d.checks.every((c) => c.status === 'ok')).toBe(true);
      expect(d.checks.find((c) => c.check === 'endpoints' && c.cluster === 'west')?.detail).toContain('gateway 203.0.113.20:15443');
    },
  },
  'root-mismatch': {
    spec: () => {
      const s = healthyMesh();
      return {
        ...s,
        west: { ...s.west, ca: 'none' },
        proxyLog: [
          '[2026-01-05T08:10:00.000Z] "GET /hello HTTP/1.1" 503 UF upstream_reset_before_response_started{connection_failure,TLS_error:_268435581:SSL_routines:OPENSSL_internal:CERTIFICATE_VERIFY_FAILED} - "TLS error: 268435581:SSL routines:OPENSSL_internal:CERTIFICATE_VERIFY_FAILED" 0 91 1 - "-" "curl/8.16.0" "0d6f2b8e" "helloworld:5000" "203.0.113.20:15443" outbound|5000||helloworld.sample.svc.cluster.local - 10.96.12.7:5000 10.10.2.7:40522 - default',
          '[2026-01-05T08:10:04.000Z] "GET /hello HTTP/1.1" 503 UF upstream_reset_before_response_started{connection_failure,TLS_error:_268435581:SSL_routines:OPENSSL_internal:CERTIFICATE_VERIFY_FAILED} - "TLS error: 268435581:SSL routines:OPENSSL_internal:CERTIFICATE_VERIFY_FAILED" 0 91 1 - "-" "curl/8.16.0" "91ac33f0" "helloworld:5000" "203.0.113.20:15443" outbound|5000||helloworld.sample.svc.cluster.local - 10.96.12.7:5000 10.10.2.7:40530 - default',
        ],
      };
    },
    args: WITH_SERVICE,
    exit: 79,
    codes: ['MEG091', 'MEG099'],
    check: (d) => {
      expect(status(d, 'trust', 'west')).toBe('error');
      expect(status(d, 'proxy-trust', 'east')).toBe('error');
      const pair = d.findings.find((f) => f.code === 'MEG091' && f.subject?.kind === 'ContextPair');
      expect(pair?.message).toMatch(/west has no cacerts secret, so istiod signs with its own self-signed root/);
      expect(d.findings.find((f) => f.code === 'MEG099')?.message).toContain('CERTIFICATE_VERIFY_FAILED');
      expect(status(d, 'endpoints', 'west')).toBe('warning');
    },
  },
  'missing-remote-secret': {
    spec: () => {
      const s = healthyMesh();
      return { ...s, east: { ...s.east, remoteSecrets: [] }, eds: ['east-pod'] };
    },
    args: WITH_SERVICE,
    exit: 79,
    codes: ['MEG092', 'MEG097'],
    check: (d) => {
      expect(status(d, 'remote-secret', 'east', 'west')).toBe('error');
      expect(status(d, 'remote-secret', 'west', 'east')).toBe('ok');
      expect(d.findings.find((f) => f.code === 'MEG097')?.message).toMatch(/no endpoint in cluster west.*Likely cause: istiod in east has no remote secret for west/);
    },
  },
  'wrong-data-key': {
    spec: () => {
      const s = healthyMesh();
      return {
        ...s,
        east: { ...s.east, networkBy: 'meshNetworks', remoteSecrets: [{ target: 'west', key: 'cluster2' }] },
        west: { ...s.west, networkBy: 'meshNetworks' },
        // registered as "cluster2", west's endpoints match no meshNetworks fromRegistry: istiod hands out its pod IP
        eds: ['east-pod', 'west-pod'],
        westEdsCluster: 'cluster2',
      };
    },
    args: WITH_SERVICE,
    exit: 79,
    codes: ['MEG093'],
    check: (d) => {
      expect(status(d, 'remote-secret', 'east', 'west')).toBe('error');
      expect(d.findings.find((f) => f.code === 'MEG093')?.message).toMatch(/key "cluster2".*runs with CLUSTER_ID west/);
      const ep = d.checks.find((c) => c.check === 'endpoints' && c.cluster === 'west');
      expect(ep?.status).toBe('warning');
      expect(ep?.detail).toMatch(/registered them as cluster "cluster2".*reachable only if the networks are routed/);
    },
  },
  'only-local-endpoints': {
    spec: () => {
      const s = healthyMesh();
      return {
        ...s,
        // east's secret for west uses an exec credential istiod refuses; west's secret for east points at a loopback server
        east: {
          ...s.east,
          remoteSecrets: [{ target: 'west', auth: 'exec' }],
          istiodLog: ['2026-01-05T08:00:01.000000Z\terror\tAdd cluster: create remote cluster failed: kubeconfig is not allowed: exec is not allowed\tcluster=west config=istio-system/istio-remote-secret-west'],
        },
        west: {
          ...s.west,
          remoteSecrets: [{ target: 'east', server: 'https://127.0.0.1:6443' }],
          sync: { east: 'timeout' },
          istiodLog: ['2026-01-05T08:00:31.000000Z\terror\tremote cluster east failed to sync after 30s'],
        },
        eds: ['east-pod'],
      };
    },
    args: WITH_SERVICE,
    exit: 79,
    codes: ['MEG093', 'MEG094', 'MEG097'],
    check: (d) => {
      const invalid = d.findings.filter((f) => f.code === 'MEG093').map((f) => f.message);
      expect(invalid.find((m) => m.includes('istio-remote-secret-west in east'))).toContain('"kubeconfig is not allowed: exec is not allowed"');
      expect(invalid.find((m) => m.includes('istio-remote-secret-east in west'))).toContain('https://127.0.0.1:6443 is a loopback address');
      expect(d.findings.filter((f) => f.code === 'MEG094').length).toBe(2);
      expect(d.findings.find((f) => f.code === 'MEG097')?.message).toContain('Likely cause: the remote secret istio-system/istio-remote-secret-west for west is unusable');
      expect(status(d, 'control-plane', 'east')).toBe('error');
    },
  },
  'tls-http-request': {
    spec: () => ({
      ...healthyMesh(),
      proxyLog: [
        '2026-01-05T08:20:00.100000Z\tinfo\tEnvoy proxy is ready',
        '[2026-01-05T08:20:11.512Z] "GET /hello HTTP/1.1" 503 UF upstream_reset_before_response_started{connection_failure,TLS_error:_268435612:SSL_routines:OPENSSL_internal:HTTP_REQUEST} - "TLS error: 268435612:SSL routines:OPENSSL_internal:HTTP_REQUEST" 0 190 3 - "-" "curl/8.16.0" "5c1e0a77" "helloworld:5000" "203.0.113.20:15443" outbound|5000||helloworld.sample.svc.cluster.local - 10.96.12.7:5000 10.10.2.7:51202 - default',
        '[2026-01-05T08:20:12.020Z] "GET /hello HTTP/1.1" 503 UF upstream_reset_before_response_started{connection_failure,TLS_error:_268435612:SSL_routines:OPENSSL_internal:HTTP_REQUEST} - "TLS error: 268435612:SSL routines:OPENSSL_internal:HTTP_REQUEST" 0 190 2 - "-" "curl/8.16.0" "7d0b91e2" "helloworld:5000" "203.0.113.20:15443" outbound|5000||helloworld.sample.svc.cluster.local - 10.96.12.7:5000 10.10.2.7:51210 - default',
        '[2026-01-05T08:20:14.733Z] "GET /hello HTTP/1.1" 200 - via_upstream - "-" 0 60 12 11 "-" "curl/8.16.0" "1f2e3d4c" "helloworld:5000" "10.10.1.5:5000" outbound|5000||helloworld.sample.svc.cluster.local 10.10.2.7:33010 10.96.12.7:5000 10.10.2.7:51220 - default',
      ],
    }),
    args: WITH_SERVICE,
    exit: 79,
    codes: ['MEG099'],
    check: (d) => {
      const f = d.findings.find((x) => x.code === 'MEG099')!;
      expect(f.message).toContain('TLS error: 268435612:SSL routines:OPENSSL_internal:HTTP_REQUEST');
      expect(f.message).toMatch(/2 times: BoringSSL reports HTTP_REQUEST only on the accepting side/);
      expect(status(d, 'proxy-log', 'east')).toBe('error');
    },
  },
  'misconfigured-pair': {
    spec: () => {
      const s = healthyMesh();
      return {
        ...s,
        east: { ...s.east, clusterId: 'Kubernetes' },
        west: { ...s.west, clusterId: 'Kubernetes', gateway: 'pending', helloPort: 5001 },
        eds: ['east-pod'],
      };
    },
    args: WITH_SERVICE,
    exit: 79,
    codes: ['MEG095', 'MEG096', 'MEG097', 'MEG098'],
    check: (d) => {
      expect(d.findings.find((f) => f.code === 'MEG095')?.message).toMatch(/Clusters east and west both run with CLUSTER_ID Kubernetes/);
      expect(d.findings.find((f) => f.code === 'MEG096')?.message).toMatch(/Network network2: .*load balancer is still pending/);
      expect(d.findings.find((f) => f.code === 'MEG098')?.message).toMatch(/ports http 5000\/TCP in east but http 5001\/TCP in west/);
      expect(d.findings.find((f) => f.code === 'MEG097')?.message).toContain('same CLUSTER_ID Kubernetes');
    },
  },
};

describe.each([OLDEST, NEWEST])('multicluster with kubectl %s', (version) => {
  test.each(Object.keys(SCENARIOS))('%s', async (name) => {
    const sc = SCENARIOS[name]!;
    const srv = await serve(buildMesh(sc.spec()));
    const json = await runCli([...sc.args, '-o', 'json'], { env: env(srv, version) });
    expect(json.code, json.stderr).toBe(sc.exit);
    const doc = parse(json);
    expect(doc.kind).toBe('Multicluster');
    expect(codes(doc)).toEqual([...sc.codes].sort());
    sc.check(doc);
    golden(path.join(EXPECTED, `${name}.json`), normalize(json.stdout, srv));
    const table = await runCli([...sc.args], { env: env(srv, version) });
    expect(table.code).toBe(sc.exit);
    expect(table.stderr).toBe('');
    golden(path.join(EXPECTED, `${name}.txt`), normalize(table.stdout, srv));
    expectNoSecrets(json.stdout + table.stdout, `${name} output`);
    expectReadOnly(srv);
  });
});

describe('multicluster: outputs never carry secrets, whatever the format', () => {
  test.each(['only-local-endpoints', 'root-mismatch'])('%s in table, wide, json and yaml', async (name) => {
    const sc = SCENARIOS[name]!;
    const srv = await serve(buildMesh(sc.spec()));
    for (const o of ['table', 'wide', 'json', 'yaml']) {
      const r = await runCli([...sc.args, '-o', o, '--color', 'always'], { env: env(srv, NEWEST, { MESH_EGRESS_DEBUG: '1' }) });
      expect(r.code).toBe(sc.exit);
      expectNoSecrets(r.stdout + r.stderr, `${name} -o ${o}`);
    }
    // the secrets were there to leak: the API served them to kubectl
    expect(srv.requests.some((q) => q.resource === 'secrets' && q.verb === 'list')).toBe(true);
    expect(srv.requests.some((q) => q.resource === 'secrets' && q.name === 'cacerts')).toBe(true);
  });
});

describe('multicluster: partial and total failure, usage', () => {
  test('a third context that cannot be reached is a row; the other two are still answered (exit 79)', async () => {
    const srv = await serve(buildMesh(healthyMesh()));
    const extra = path.join(tmp, 'gone.kubeconfig');
    fs.writeFileSync(
      extra,
      ['apiVersion: v1', 'kind: Config', 'clusters:', '- name: gone', '  cluster:', '    server: https://127.0.0.1:1', '    insecure-skip-tls-verify: true', 'users:', '- name: gone', '  user:', '    token: not-a-secret', 'contexts:', '- name: gone', '  context:', '    cluster: gone', '    user: gone', ''].join('\n'),
    );
    const e = env(srv, NEWEST, { KUBECONFIG: `${srv.kubeconfigPath}${path.delimiter}${extra}` });
    const r = await runCli([...BASE, '--context', 'gone', '-o', 'json'], { env: e });
    expect(r.code).toBe(79);
    const d = parse(r);
    expect(status(d, 'cluster', 'gone')).toBe('error');
    expect(d.checks.find((c) => c.check === 'cluster' && c.cluster === 'gone')?.detail).toMatch(/not readable: .*127\.0\.0\.1:1/);
    expect(status(d, 'remote-secret', 'east', 'west')).toBe('ok');
    expect(d.checks.some((c) => c.cluster === 'east' && c.peer === 'gone')).toBe(false);
    expect(codes(d)).toEqual(['MEG090']);
    golden(path.join(EXPECTED, 'unreachable-third-cluster.json'), normalize(r.stdout, srv).replace(/dial tcp 127\.0\.0\.1:1: connect: connection refused/g, 'dial tcp 127.0.0.1:1: connect: connection refused'));
  });

  test('a context the kubeconfig does not have is a row', async () => {
    const srv = await serve(buildMesh(healthyMesh()));
    const r = await runCli([...BASE, '--context', 'nope', '-o', 'json'], { env: env(srv, OLDEST) });
    expect(r.code).toBe(79);
    const d = parse(r);
    expect(d.checks.find((c) => c.check === 'cluster' && c.cluster === 'nope')?.detail).toMatch(/^not readable: context nope cannot be used \((cannot locate context nope|context "nope" does not exist)\): check kubectl config get-contexts and --kubeconfig$/);
  });

  test.each([
    [['--from', 'deploy/nope', '-n', 'sample'], /the --from proxy could not be read \(.*nope.*\)/],
    [['--from', 'deploy/istiod', '-n', 'istio-system'], /the --from proxy could not be read \(pod istio-system\/istiod-\S+ has no istio-proxy sidecar: choose a pod in the mesh\)/],
  ])('--from %j that cannot be read: a warning, the skipped rows say why, the clusters are still answered', async (from, message) => {
    const srv = await serve(buildMesh(healthyMesh()));
    const r = await runCli([...BASE, 'helloworld.sample', ...from, '-o', 'json'], { env: env(srv, NEWEST) });
    expect(r.code).toBe(0);
    const d = parse(r);
    expect(d.findings.map((f) => `${f.code} ${f.severity}`)).toEqual(['MEG090 warning']);
    expect(d.findings[0]!.message).toMatch(message);
    expect(status(d, 'proxy-trust', 'east')).toBe('skipped');
    expect(d.checks.filter((c) => c.check === 'endpoints').map((c) => c.status)).toEqual(['skipped', 'skipped']);
    expect(status(d, 'remote-secret', 'east', 'west')).toBe('ok');
    expectReadOnly(srv);
  });

  test('cacerts in the kubernetes.io/tls layout (cert-manager): the root is ca.crt, a stale root-cert.pem is ignored as istiod ignores it', async () => {
    const s = healthyMesh();
    const srv = await serve(buildMesh({ ...s, west: { ...s.west, caLayout: 'tls' } }));
    const r = await runCli([...BASE, '-o', 'json'], { env: env(srv, NEWEST) });
    expect(r.code).toBe(0);
    const d = parse(r);
    expect(codes(d)).toEqual([]);
    expect(d.checks.find((c) => c.check === 'trust' && c.cluster === 'west')).toMatchObject({ status: 'ok', detail: 'plugged-in CA (cacerts), same root as east' });
    expect((JSON.parse(r.stdout) as { clusters: { context: string; cacerts?: { source: string } }[] }).clusters.find((c) => c.context === 'west')?.cacerts?.source).toBe('secret istio-system/cacerts ca.crt (kubernetes.io/tls layout)');
    expectNoSecrets(r.stdout, 'tls layout output');
    expectReadOnly(srv);
  });

  test('kubectl missing: exit 69 with one line', async () => {
    const r = await runCli([...BASE], { env: { MESH_EGRESS_KUBECTL: path.join(tmp, 'no-such-kubectl') } });
    expect(r.code).toBe(69);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^error: kubectl not found \(.*no-such-kubectl\): this is a kubectl plugin; install kubectl 1\.27 or newer/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  test('no cluster readable: exit 69 with one line', async () => {
    const srv = await serve(buildMesh(healthyMesh()));
    const r = await runCli(['multicluster', '--context', 'nope1', '--context', 'nope2'], { env: env(srv, NEWEST) });
    expect(r.code).toBe(69);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^error: no cluster could be read \(nope1: .*; nope2: .*\): check the contexts/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  test.each([
    [['multicluster'], /give at least two --context flags.*got 0/],
    [['multicluster', '--context', 'east'], /give at least two --context flags.*got 1/],
    [['multicluster', '--context', 'east', '--context', 'east'], /--context east is given twice/],
    [['multicluster', '--context', 'a', '--context', 'b', 'helloworld'], /SERVICE must be NAME\.NAMESPACE\[:PORT\].*or NAME with -n NAMESPACE/],
    [['multicluster', '--context', 'a', '--context', 'b', 'helloworld.sample:99999'], /port must be 1-65535/],
    [['multicluster', '--context', 'a', '--context', 'b', '--from-context', 'c', '--from', 'x'], /--from-context c is not one of the --context flags/],
    [['multicluster', '--context', 'a', '--context', 'b', '--since', 'yesterday'], /invalid --since "yesterday"/],
    [['multicluster', '--snapshot', 'a.tgz'], /at least two --snapshot files/],
    [['multicluster', '--snapshot', 'a.tgz', '--snapshot', 'b.tgz', '--context', 'x'], /either --context \(live\) or --snapshot \(offline\)/],
  ])('usage: %j → 64', async (args, message) => {
    const r = await runCli(args);
    expect(r.code).toBe(64);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).toMatch(/See 'kubectl mesh-egress multicluster --help'/);
  });
});

describe('multicluster: RBAC limits', () => {
  test('Secrets and exec forbidden in east: remote secrets from istiod\'s clusterz (read by port-forward, as istioctl does), the gap reported', async () => {
    const mesh = buildMesh(healthyMesh());
    // istiod's monitoring port behind port-forward: /debug/clusterz as pilot/pkg/xds/debug.go serves it
    const clusterz = http.createServer((req, res) => {
      if (req.url === '/debug/clusterz') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify([{ id: 'east', secretName: '', syncStatus: 'synced' }, { id: 'west', secretName: 'istio-system/istio-remote-secret-west', syncStatus: 'synced' }]));
      } else {
        res.writeHead(404);
        res.end('404 page not found\n');
      }
    });
    await new Promise<void>((resolve) => clusterz.listen(0, '127.0.0.1', resolve));
    closers.push(() => new Promise((resolve) => clusterz.close(() => resolve())));
    const east = mesh.clusters.east!;
    east.denyRules = [
      { verb: 'list', resource: 'secrets', namespace: 'istio-system' },
      { verb: 'get', resource: 'secrets', namespace: 'istio-system' },
      { verb: 'create', resource: 'pods', subresource: 'exec', namespace: 'istio-system' },
    ];
    east.portForward = { [mesh.istiodPods.east!]: { 15014: (clusterz.address() as AddressInfo).port } };
    const srv = await serve(mesh);
    const r = await runCli([...BASE, '-o', 'json'], { env: env(srv, OLDEST) });
    expect(r.code).toBe(0);
    const d = parse(r);
    expect(d.checks.find((c) => c.check === 'remote-secret' && c.cluster === 'east')).toMatchObject({ status: 'ok', detail: expect.stringMatching(/istiod registered west from secret istio-system\/istio-remote-secret-west/) });
    expect(status(d, 'cluster', 'east')).toBe('warning');
    expect(d.findings.map((f) => `${f.code} ${f.severity}`)).toEqual(['MEG090 warning']);
    expect(d.findings[0]!.message).toMatch(/RBAC|forbidden/);
    expect(srv.requests.some((q) => q.action === 'portforward' && q.cluster === 'east')).toBe(true);
    expectReadOnly(srv);
  });
});

describe('multicluster offline: one snapshot per cluster', () => {
  test('snapshots store no Secret and no certificate body; offline, the missing remote secret is found from istiod\'s clusterz', async () => {
    const sc = SCENARIOS['missing-remote-secret']!;
    const srv = await serve(buildMesh(sc.spec()));
    const e = env(srv, NEWEST);
    const a = path.join(tmp, 'east.tar.gz');
    const b = path.join(tmp, 'west.tar.gz');
    let r = await runCli(['snapshot', 'deploy/curl', '-n', 'sample', '--context', 'east', '-f', a], { env: e });
    expect(r.code, r.stderr).toBe(0);
    r = await runCli(['snapshot', 'deploy/helloworld-v2', '-n', 'sample', '--context', 'west', '-f', b], { env: e });
    expect(r.code, r.stderr).toBe(0);
    // snapshots never read a Secret object
    expect(srv.requests.some((q) => q.resource === 'secrets')).toBe(false);
    for (const f of [a, b]) {
      const text = zlib.gunzipSync(fs.readFileSync(f)).toString('latin1');
      expect(text).toContain('multicluster/cluster.json');
      expectNoSecrets(text, f);
    }
    const off = await runCli(['multicluster', '--snapshot', a, '--snapshot', b, 'helloworld.sample', '-o', 'json'], { env: {} });
    expect(off.code).toBe(79);
    const d = parse(off);
    // offline, ready pods are unknown (snapshots hold no EndpointSlices): the endpoint rows say so, no guess
    expect(codes(d)).toEqual(['MEG092']);
    expect(d.checks.filter((c) => c.check === 'endpoints').map((c) => c.status)).toEqual(['skipped', 'skipped']);
    expect(d.checks.find((c) => c.check === 'endpoints' && c.cluster === 'west')?.detail).toMatch(/the proxy has 0 endpoint\(s\) attributed to west/);
    // offline, istiod's clusterz stands in for the remote secrets
    expect(d.checks.find((c) => c.check === 'remote-secret' && c.cluster === 'east')?.detail).toMatch(/istiod has registered no cluster west \(\/debug\/clusterz; snapshots never read Secret objects\)/);
    golden(path.join(EXPECTED, 'offline-missing-remote-secret.json'), normalize(off.stdout, srv));
    const table = await runCli(['multicluster', '--snapshot', a, '--snapshot', b, 'helloworld.sample'], { env: {} });
    golden(path.join(EXPECTED, 'offline-missing-remote-secret.txt'), normalize(table.stdout, srv));
    expectNoSecrets(off.stdout + table.stdout, 'offline output');
  });

  test('two snapshots of the same context are refused (65)', async () => {
    const srv = await serve(buildMesh(healthyMesh()));
    const e = env(srv, NEWEST);
    const a = path.join(tmp, 'a.tar.gz');
    expect((await runCli(['snapshot', 'deploy/curl', '-n', 'sample', '--context', 'east', '-f', a], { env: e })).code).toBe(0);
    const r = await runCli(['multicluster', '--snapshot', a, '--snapshot', a], { env: {} });
    expect(r.code).toBe(65);
    expect(r.stderr).toMatch(/is from context east, like an earlier --snapshot: give one snapshot per cluster/);
  });
});
