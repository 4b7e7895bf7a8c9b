/**
 * The pure pieces `multicluster` reads secrets and logs with: certificate fingerprints (compared with
 * node's X509Certificate and with openssl's values for the fixtures), remote-secret kubeconfig
 * summaries (Istio's sanitizeKubeConfig rules, and no credential in the summary), istiod's log formats,
 * the proxy's TLS errors, and EDS/ROOTCA parsing of config dump answers.
 */
import { X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { parseIstiodLog, parseRootCaDump, redactLogText, scanProxyTlsErrors } from '../../src/collect/multicluster.js';
import { scanPem, shortFingerprint } from '../../src/model/certs.js';
import { serviceEndpointsFromDump } from '../../src/model/multicluster.js';
import { isLoopbackHost, summarizeKubeconfig } from '../../src/model/remote-secret.js';

const FIXTURES = path.resolve(import.meta.dirname, '../e2e/multicluster/fixtures');
const pem = (n: string): string => fs.readFileSync(path.join(FIXTURES, `${n}.pem`), 'utf8');

describe('certificate fingerprints', () => {
  test.each(['mesh-root-cert', 'other-root-cert', 'istiod-west-cert', 'east-ca-cert', 'west-ca-cert'])('%s: SHA-256 of the DER, as X509Certificate.fingerprint256 says', (name) => {
    const scan = scanPem(pem(name));
    expect(scan.fingerprints).toEqual([new X509Certificate(pem(name)).fingerprint256]);
    expect(scan.invalid).toBe(0);
  });

  test('openssl x509 -fingerprint -sha256 of the mesh root (recorded when the fixtures were made)', () => {
    expect(scanPem(pem('mesh-root-cert')).fingerprints[0]).toBe('9C:CE:EB:54:C1:7F:DB:39:F8:F8:51:68:04:C5:79:4F:B8:1B:E0:7B:33:2E:D1:D9:6F:17:6C:13:9F:06:C5:89');
    expect(shortFingerprint('9C:CE:EB:54:C1:7F:DB:39:F8:F8:51:68:04:C5:79:4F:B8:1B:E0:7B:33:2E:D1:D9:6F:17:6C:13:9F:06:C5:89')).toBe('9C:CE:EB:54:C1:7F:DB:39');
  });

  test('a bundle keeps its order; keys are counted, never decoded; a broken block is invalid, not skipped silently', () => {
    const bundle = `${pem('east-ca-cert')}\n${pem('east-ca-key')}${pem('mesh-root-cert')}-----BEGIN CERTIFICATE-----\nMIIBnotreallyDER==\n-----END CERTIFICATE-----\n`;
    const scan = scanPem(bundle);
    expect(scan.fingerprints).toEqual([new X509Certificate(pem('east-ca-cert')).fingerprint256, new X509Certificate(pem('mesh-root-cert')).fingerprint256]);
    expect(scan.privateKeys).toBe(1);
    expect(scan.invalid).toBe(1);
  });

  test('CRLF line ends and surrounding text do not matter', () => {
    const crlf = `subject=whatever\r\n${pem('mesh-root-cert').replace(/\n/g, '\r\n')}`;
    expect(scanPem(crlf).fingerprints).toEqual(scanPem(pem('mesh-root-cert')).fingerprints);
  });
});

function kubeconfig(user: string, server = 'https://192.0.2.20:6443', extra = ''): string {
  return `apiVersion: v1\nkind: Config\ncurrent-context: west\nclusters:\n- name: west\n  cluster:\n    server: ${server}\n    certificate-authority-data: ${Buffer.from(pem('west-ca-cert')).toString('base64')}\n${extra}contexts:\n- name: west\n  context:\n    cluster: west\n    user: west\nusers:\n- name: west\n  user:\n${user}\n`;
}

describe('remote secret kubeconfig summary', () => {
  test('bearer token (istioctl create-remote-secret): server and kind only', () => {
    const s = summarizeKubeconfig(kubeconfig('    token: eyJhbGciOiJSUzI1NiJ9.SECRET-TOKEN.sig'));
    expect(s).toEqual({ server: 'https://192.0.2.20:6443', host: '192.0.2.20', loopback: false, auth: ['bearer token'], insecureOptions: [], problems: [], insecureSkipTlsVerify: false });
    expect(JSON.stringify(s)).not.toMatch(/SECRET-TOKEN|BEGIN|LS0t/);
  });

  test.each([
    ['    exec:\n      command: /usr/bin/gke-gcloud-auth-plugin\n      apiVersion: client.authentication.k8s.io/v1beta1', ['exec: gke-gcloud-auth-plugin'], ['exec']],
    ['    tokenFile: /var/run/secrets/token', ['token file'], ['tokenFile']],
    ['    client-certificate: /etc/c.pem\n    client-key: /etc/k.pem', ['client certificate file'], ['clientCertificate', 'clientKey']],
    ['    client-certificate-data: QUJD\n    client-key-data: REVG', ['client certificate'], []],
    ['    auth-provider:\n      name: gcp', ['auth provider gcp'], ['gcp']],
    ['    auth-provider:\n      name: oidc', ['auth provider oidc'], []],
    ['    {}', ['none'], []],
  ])('%s → %j, refused unless allowed: %j (pkg/kube/util.go sanitizeKubeConfig)', (user, auth, insecure) => {
    const s = summarizeKubeconfig(kubeconfig(user));
    expect(s.auth).toEqual(auth);
    expect(s.insecureOptions).toEqual(insecure);
    expect(s.problems).toEqual([]);
  });

  test.each(['https://127.0.0.1:6443', 'https://localhost:6443', 'https://[::1]:6443', '127.0.0.1:6443'])('%s is loopback', (server) => {
    expect(summarizeKubeconfig(kubeconfig('    token: x', server)).loopback).toBe(true);
  });

  test.each(['10.0.0.1', 'api.example.com', '::2', 'localhost.example.com'])('%s is not loopback', (host) => {
    expect(isLoopbackHost(host)).toBe(false);
  });

  test('every user of the kubeconfig is sanitized, not only the current one (pkg/kube/util.go sanitizeKubeConfig walks config.AuthInfos)', () => {
    const extra = `${kubeconfig('    token: x')}- name: spare\n  user:\n    exec:\n      command: /usr/bin/aws\n- name: spare2\n  user:\n    tokenFile: /var/run/token\n`;
    const s = summarizeKubeconfig(extra);
    expect(s.auth).toEqual(['bearer token']);
    expect(s.insecureOptions).toEqual(['exec', 'tokenFile']);
  });

  test('problems are described without quoting the text', () => {
    expect(summarizeKubeconfig('').problems).toEqual(['kubeconfig is empty']);
    const bad = summarizeKubeconfig('token: "SECRET-IN-BROKEN-YAML\n  : : [');
    expect(bad.problems).toEqual(['kubeconfig cannot be loaded: not valid YAML or JSON']);
    expect(summarizeKubeconfig(kubeconfig('    token: x').replace('current-context: west\n', '')).problems[0]).toMatch(/no current-context/);
    expect(summarizeKubeconfig(kubeconfig('    token: x').replace('    server: https://192.0.2.20:6443\n', '')).problems).toEqual(['kubeconfig is not valid: the cluster has no server']);
  });
});

describe('istiod log', () => {
  test('text format with labels (Istio 1.16+), legacy 1.6-1.9 message, JSON format; only remote-cluster events', () => {
    const log = [
      '2026-01-05T08:00:00.100000Z\tinfo\tStarting multicluster remote secrets controller',
      '2026-01-05T08:00:01.000000Z\terror\tAdd cluster: create remote cluster failed: kubeconfig is not allowed: exec is not allowed\tcluster=west config=istio-system/istio-remote-secret-west',
      '2021-04-29T03:00:00.000000Z\terror\tFailed to add remote cluster from secret=istio-system/istio-remote-secret-west for cluster_id=west: Get "https://192.0.2.20:6443/api": dial tcp 192.0.2.20:6443: i/o timeout',
      '{"level":"error","time":"2026-01-05T08:00:31.000000Z","msg":"remote cluster west failed to sync after 30s"}',
      '2026-01-05T08:00:40.000000Z\tinfo\tads\tPush debounce stable[12] 1',
    ].join('\n');
    const ev = parseIstiodLog(log, 'istiod-0');
    expect(ev.map((e) => [e.kind, e.cluster, e.time, e.level])).toEqual([
      ['create-failed', 'west', '2026-01-05T08:00:01.000000Z', 'error'],
      ['legacy-add-failed', 'west', '2021-04-29T03:00:00.000000Z', 'error'],
      ['sync-timeout', 'west', '2026-01-05T08:00:31.000000Z', 'error'],
    ]);
    expect(ev[0]!.message).toBe('Add cluster: create remote cluster failed: kubeconfig is not allowed: exec is not allowed (cluster=west config=istio-system/istio-remote-secret-west)');
  });

  test('credentials-looking text is redacted', () => {
    const t = redactLogText(`kubeconfig cannot be loaded: token: eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhYmMifQ.c2lnbmF0dXJl and -----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE----- data ${'A'.repeat(80)}`);
    expect(t).not.toMatch(/eyJ|MIIB|AAAAAAAAAA/);
    expect(t).toContain('<pem redacted>');
  });
});

describe('proxy TLS errors', () => {
  test('counted per BoringSSL reason with first and last time (access log and Envoy log lines)', () => {
    const log = [
      '[2026-01-05T08:20:11.512Z] "GET /hello HTTP/1.1" 503 UF - "TLS error: 268435612:SSL routines:OPENSSL_internal:HTTP_REQUEST" 0 190 3 - "-"',
      '[2026-01-05 08:20:12.020][24][debug][connection] [C12] TLS error: 268435612:SSL routines:OPENSSL_internal:HTTP_REQUEST',
      '[2026-01-05T08:20:13.000Z] "GET /hello HTTP/1.1" 503 UF - "TLS error: 268435581:SSL routines:OPENSSL_internal:CERTIFICATE_VERIFY_FAILED" 0 91 1',
      '[2026-01-05T08:20:14.733Z] "GET /hello HTTP/1.1" 200 - via_upstream',
    ].join('\n');
    expect(scanProxyTlsErrors(log).map((t) => ({ reason: t.reason, code: t.code, count: t.count, first: t.first, last: t.last }))).toEqual([
      { reason: 'HTTP_REQUEST', code: '268435612', count: 2, first: '2026-01-05T08:20:11.512Z', last: '2026-01-05 08:20:12.020' },
      { reason: 'CERTIFICATE_VERIFY_FAILED', code: '268435581', count: 1, first: '2026-01-05T08:20:13.000Z', last: '2026-01-05T08:20:13.000Z' },
    ]);
  });
});

describe('config dump answers', () => {
  const cla = (name: string) => ({
    cluster_name: name,
    endpoints: [
      {
        lb_endpoints: [
          { endpoint: { address: { socket_address: { address: '203.0.113.20', port_value: 15443 } } }, health_status: 'HEALTHY', metadata: { filter_metadata: { istio: { workload: ';;;;west' } } } },
          { endpoint: { address: { socketAddress: { address: '10.10.1.5', portValue: 5000 } } }, healthStatus: 'HEALTHY', metadata: { filterMetadata: { istio: { workload: 'helloworld-v1;sample;helloworld;v1;east' } } } },
        ],
      },
    ],
  });
  test('EDS of the service only, from resource= elements or whole EndpointsConfigDump documents, snake or camel case', () => {
    const ref = { name: 'helloworld', namespace: 'sample' };
    const byResource = { configs: [{ '@type': 'x.DynamicEndpointConfig', endpoint_config: cla('outbound|5000||helloworld.sample.svc.cluster.local') }, { endpoint_config: cla('outbound|5000|v1|helloworld.sample.svc.cluster.local') }, { endpoint_config: cla('outbound|5000||helloworld.other.svc.cluster.local') }] };
    const whole = { configs: [{ '@type': 'type.googleapis.com/envoy.admin.v3.EndpointsConfigDump', dynamic_endpoint_configs: [{ endpoint_config: cla('outbound|5000||helloworld.sample.svc.cluster.local') }] }] };
    for (const doc of [byResource, whole]) {
      const got = serviceEndpointsFromDump(doc, ref);
      expect(got.map((c) => c.name)).toEqual(['outbound|5000||helloworld.sample.svc.cluster.local']);
      expect(got[0]!.endpoints.map((e) => `${e.address}:${e.port} ${e.clusterId}`)).toEqual(['10.10.1.5:5000 east', '203.0.113.20:15443 west']);
    }
    expect(serviceEndpointsFromDump(byResource, { ...ref, port: 9080 })).toEqual([]);
  });

  test('ROOTCA: fingerprints of trusted_ca only (inline_bytes or inline_string)', () => {
    const answer = { configs: [{ name: 'ROOTCA', secret: { name: 'ROOTCA', validation_context: { trusted_ca: { inline_bytes: Buffer.from(pem('mesh-root-cert') + pem('other-root-cert')).toString('base64') } } } }] };
    const r = parseRootCaDump(JSON.stringify(answer))!;
    expect(r.fingerprints).toEqual([new X509Certificate(pem('mesh-root-cert')).fingerprint256, new X509Certificate(pem('other-root-cert')).fingerprint256]);
    const str = { configs: [{ name: 'ROOTCA', secret: { validationContext: { trustedCa: { inlineString: pem('mesh-root-cert') } } } }] };
    expect(parseRootCaDump(JSON.stringify(str))!.fingerprints).toHaveLength(1);
    expect(parseRootCaDump('{}')).toBeUndefined();
  });
});
