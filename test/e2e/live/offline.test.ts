/**
 * Offline inputs end to end: a snapshot taken live through kubectl traces to the same verdict as
 * the live trace, stores no secret and sends no mutating request; an istioctl bug-report archive
 * is traced for one of its pods.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import * as tar from 'tar';
import YAML from 'yaml';
import { afterAll, afterEach, describe, expect, test } from 'vitest';
import { runCli } from '../../helpers/cli.js';
import { kubectlVersions, startTestServer, type TestServer } from '../server/index.js';
import { cliEnv, REGISTRY_ONLY_DUMP, seed002 } from './fixture.js';

const NEWEST = kubectlVersions().at(-1) ?? '1.33';
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mesh-egress-offline-'));
const servers: TestServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.stop()));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const CANARIES = ['CANARY-PRIVATE-KEY-7f3a', 'CANARY-ENV-SECRET-91bd', 'CANARY-LAST-APPLIED-0c2e'];

/** The seed-002 dump plus the secrets section a real sidecar has (certificates and a private key). */
function dumpWithSecrets(): string {
  const dump = JSON.parse(fs.readFileSync(REGISTRY_ONLY_DUMP, 'utf8')) as { configs: unknown[] };
  dump.configs.push({
    '@type': 'type.googleapis.com/envoy.admin.v3.SecretsConfigDump',
    dynamic_active_secrets: [
      {
        name: 'default',
        secret: {
          '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret',
          name: 'default',
          tls_certificate: { certificate_chain: { inline_bytes: 'LS0tLS1CRUdJTi' }, private_key: { inline_string: CANARIES[0] } },
        },
      },
    ],
  });
  const file = path.join(tmp, 'with-secrets.json');
  fs.writeFileSync(file, JSON.stringify(dump));
  return file;
}

/** Every byte of a .tar.gz, uncompressed: secrets must not hide in any member. */
function archiveText(file: string): string {
  return zlib.gunzipSync(fs.readFileSync(file)).toString('latin1');
}

type TraceDoc = { verdict: unknown; hops: unknown; findings: unknown; request: unknown; source: { kind: string } };

describe('snapshot → trace --snapshot', () => {
  test('same verdict, hops and findings as the live trace; no secret stored; read-only', async () => {
    const s = seed002();
    const app = (s.pod.spec as { containers: { name: string; env?: { name: string; value: string }[] }[] }).containers[0]!;
    app.env = [{ name: 'DB_PASSWORD', value: CANARIES[1]! }];
    s.pod.metadata.annotations = { ...s.pod.metadata.annotations, 'kubectl.kubernetes.io/last-applied-configuration': `{"password":"${CANARIES[2]}"}` };
    s.cluster.sidecars![`shop/${s.podName}`]!.configDump = dumpWithSecrets();
    const srv = await startTestServer(s.options);
    servers.push(srv);
    const env = cliEnv(srv.kubectlEnv(), NEWEST);
    const live = await runCli(['trace', 'deploy/checkout', '-n', 'shop', '10.0.0.6:7000', '-o', 'json'], { env });
    expect(live.code).toBe(79);

    const file = path.join(tmp, 'checkout.tar.gz');
    const snap = await runCli(['snapshot', 'deploy/checkout', '-n', 'shop', '-f', file], { env });
    expect(snap.stderr).toBe('');
    expect(snap.code).toBe(0);
    expect(snap.stdout).toContain(`wrote ${file}: shop/${s.podName} in context prod`);
    const mutating = srv.requests.filter((q) => q.mutating && q.action !== 'exec' && q.action !== 'portforward');
    expect(mutating).toEqual([]);
    // the snapshot reads the whole proxy config once; never a Secret object from the API
    expect(srv.requests.some((q) => q.resource === 'secrets')).toBe(false);

    const text = archiveText(file);
    // the pod and the proxy config are in it (so the canaries had their chance), their secrets are not
    expect(text).toContain('DB_PASSWORD');
    expect(text).toContain('BlackHoleCluster');
    for (const canary of CANARIES) expect(text).not.toContain(canary);
    expect(text).not.toContain('SecretsConfigDump');

    const offline = await runCli(['trace', '--snapshot', file, '10.0.0.6:7000', '-o', 'json'], { env: {} });
    expect(offline.stderr).toBe('');
    expect(offline.code).toBe(79);
    const a = JSON.parse(live.stdout) as TraceDoc;
    const b = JSON.parse(offline.stdout) as TraceDoc;
    expect(b.source.kind).toBe('snapshot');
    expect({ verdict: b.verdict, hops: b.hops, findings: b.findings, request: b.request }).toEqual({ verdict: a.verdict, hops: a.hops, findings: a.findings, request: a.request });
  });

  test('offline errors: not an archive, not a snapshot, missing file', async () => {
    const notGz = path.join(tmp, 'plain.tar.gz');
    fs.writeFileSync(notGz, 'hello');
    let r = await runCli(['trace', '--snapshot', notGz, '10.0.0.6:7000']);
    expect(r.code).toBe(65);
    expect(r.stderr).toMatch(/^error: .*plain\.tar\.gz: not a readable tar\.gz archive/);
    const other = path.join(tmp, 'other.tar.gz');
    await tar.c({ gzip: true, file: other, cwd: path.dirname(REGISTRY_ONLY_DUMP) }, [path.basename(REGISTRY_ONLY_DUMP)]);
    r = await runCli(['trace', '--snapshot', other, '10.0.0.6:7000']);
    expect(r.code).toBe(65);
    expect(r.stderr).toContain('has no snapshot/manifest.json: not a kubectl-mesh_egress snapshot');
    r = await runCli(['trace', '--snapshot', path.join(tmp, 'nope.tar.gz'), '10.0.0.6:7000']);
    expect(r.code).toBe(65);
    expect(r.stderr).toContain('cannot open: no such file');
  });
});

describe('trace --bug-report', () => {
  /** The layout istioctl bug-report writes: bug-report/proxies/<ns>/<pod>/…, bug-report/cluster/… */
  async function bugReport(): Promise<{ file: string; pod: string }> {
    const s = seed002();
    const root = fs.mkdtempSync(path.join(tmp, 'br-'));
    const proxyDir = path.join(root, 'bug-report', 'proxies', 'shop', s.podName);
    fs.mkdirSync(proxyDir, { recursive: true });
    fs.copyFileSync(REGISTRY_ONLY_DUMP, path.join(proxyDir, 'config_dump?include_eds'));
    const clusterDir = path.join(root, 'bug-report', 'cluster');
    fs.mkdirSync(clusterDir, { recursive: true });
    const objects = s.cluster.objects ?? [];
    const core = objects.filter((o) => !o.apiVersion?.includes('istio.io'));
    fs.writeFileSync(path.join(clusterDir, 'k8s-resources'), core.map((o) => YAML.stringify(o)).join('---\n'));
    fs.writeFileSync(path.join(clusterDir, 'crs'), YAML.stringify({ apiVersion: 'v1', kind: 'List', items: [] }));
    const file = path.join(tmp, 'bug-report.tar.gz');
    await tar.c({ gzip: true, file, cwd: root }, ['bug-report']);
    return { file, pod: `shop/${s.podName}` };
  }

  test('a pod of the archive traces with the cluster resources it holds', async () => {
    const br = await bugReport();
    const r = await runCli(['trace', '--bug-report', br.file, '--pod', br.pod, '10.0.0.6:7000', '-o', 'json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(79);
    const doc = JSON.parse(r.stdout) as { verdict: { code: string; responsible: { kind: string; name?: string }[] }; source: { kind: string; pod: string }; proxy: { pod: string } };
    expect(doc.verdict.code).toBe('BLACKHOLE');
    // the mesh ConfigMap came from the archive's cluster resources
    expect(doc.verdict.responsible).toEqual([expect.objectContaining({ kind: 'MeshConfig', name: 'istio' })]);
    expect(doc.source).toMatchObject({ kind: 'bug-report', pod: br.pod });
    expect(doc.proxy.pod).toBe(br.pod.split('/')[1]);
  });

  test('a pod the archive does not hold: exit 65 naming the expected path', async () => {
    const br = await bugReport();
    const r = await runCli(['trace', '--bug-report', br.file, '--pod', 'shop/ghost', '10.0.0.6:7000']);
    expect(r.code).toBe(65);
    expect(r.stderr).toMatch(/has no proxy data for pod shop\/ghost \(bug-report\/proxies\/shop\/ghost\/config_dump\?include_eds\)/);
  });
});
