/**
 * doctor's building blocks: Istio's port protocol rules (pkg/config/kube/conversion_test.go's
 * table), DestinationRule precedence, the gateway port mapping, the probe's curl invocation, pod
 * manifest and result parsing, and the argv → options contract.
 */
import { describe, expect, it } from 'vitest';
import { destinationRuleFor, hostMatches, istioProtocolOfServicePort, parseProtocolName } from '../../src/analyze/doctor/facts.js';
import { gatewayPortMapping, gatewayRequest, isGatewayPod } from '../../src/analyze/doctor/gateway.js';
import { parseCurlWriteOut } from '../../src/analyze/doctor/probe.js';
import { spokenProtocol } from '../../src/analyze/doctor/port-protocol.js';
import type { DoctorInput } from '../../src/analyze/doctor/types.js';
import { buildRequest } from '../../src/analyze/trace/request.js';
import { probeSpecOf } from '../../src/cli/doctor.js';
import { doctorCommand, type DoctorOptions } from '../../src/cli/commands/doctor.js';
import { globalOptions, main } from '../../src/cli/main.js';
import { curlArgs, DEFAULT_PROBE_IMAGE, probeImage, probePodManifest, WRITE_OUT } from '../../src/collect/probe.js';
import type { KubeObject, Pod } from '../../src/model/cluster-view.js';
import type { ProbeSpec } from '../../src/model/doctor.js';
import { fakeIo } from '../helpers/cli.js';
import { pod as podBuilder, service, workload } from '../e2e/server/index.js';

describe("Istio's protocol of a Service port (ConvertProtocol)", () => {
  it.each([
    [{ port: 80 }, 'UNSUPPORTED'],
    [{ port: 80, protocol: 'UDP', name: 'http' }, 'UDP'],
    [{ port: 80, name: 'http-something' }, 'HTTP'],
    [{ port: 80, name: 'http-something', appProtocol: 'https' }, 'HTTPS'],
    [{ port: 80, name: 'something-httpx', appProtocol: 'https' }, 'HTTPS'],
    [{ port: 80, name: 'grpc-web-x' }, 'GRPC-WEB'],
    [{ port: 80, name: 'grpcweb-x' }, 'UNSUPPORTED'],
    [{ port: 3306, name: 'random-name' }, 'TCP'],
    [{ port: 3306, name: 'random-name', appProtocol: 'kubernetes.io/h2c' }, 'HTTP2'],
    [{ port: 443, name: 'x', appProtocol: 'kubernetes.io/wss' }, 'HTTPS'],
    [{ port: 6379, name: 'redis' }, 'REDIS'],
    [{ port: 8080, name: 'web' }, 'UNSUPPORTED'],
    [{ port: 8080, name: 'HTTP2-api' }, 'HTTP2'],
  ])('%j → %s', (sp, want) => {
    expect(istioProtocolOfServicePort(sp).protocol).toBe(want);
  });
  it('parses names and appProtocols alike', () => {
    expect(parseProtocolName('tls-passthrough')).toBe('TLS');
    expect(parseProtocolName('mongo')).toBe('MONGO');
    expect(parseProtocolName('http_proxy')).toBe('HTTP_PROXY');
  });
});

describe('what the destination speaks', () => {
  it.each([
    ['tls://api:443', {}, 'TLS', false],
    ['https://api/x', {}, 'TLS', false],
    ['http://api:8080/', {}, 'HTTP', false],
    ['db:3306', {}, 'MySQL', true],
    ['cache:6379', {}, 'Redis', false],
    ['mail:2525', { serverFirst: true }, 'a server-first TCP protocol', true],
    ['x:9000', {}, 'TCP', false],
  ] as const)('%s → %s', (dest, flags, name, serverFirst) => {
    const s = spokenProtocol(buildRequest(dest, flags));
    expect(s.name).toBe(name);
    expect(s.serverFirst).toBe(serverFirst);
  });
});

describe('DestinationRule precedence (PushContext.destinationRule)', () => {
  const dr = (name: string, ns: string, host: string, exportTo?: string[]): KubeObject => ({ apiVersion: 'networking.istio.io/v1', kind: 'DestinationRule', metadata: { name, namespace: ns }, spec: { host, ...(exportTo ? { exportTo } : {}) } });
  const input = (drs: KubeObject[], clientNs = 'shop'): DoctorInput => ({ view: { pod: { metadata: { name: 'p', namespace: clientNs } }, lists: { destinationRules: drs }, gaps: [] }, rootNamespace: 'istio-system' }) as unknown as DoctorInput;
  const host = 'reviews.bookinfo.svc.cluster.local';
  it('the client namespace first, then the service namespace, then the root namespace', () => {
    const root = dr('root', 'istio-system', '*.bookinfo.svc.cluster.local');
    const svcNs = dr('svc', 'bookinfo', 'reviews');
    const client = dr('client', 'shop', host);
    expect(destinationRuleFor(input([root, svcNs, client]), host)?.metadata?.name).toBe('client');
    expect(destinationRuleFor(input([root, svcNs]), host)?.metadata?.name).toBe('svc');
    expect(destinationRuleFor(input([root]), host)?.metadata?.name).toBe('root');
  });
  it('a bare host is in the rule\'s namespace; exportTo "." hides a rule from other namespaces; exact beats wildcard', () => {
    expect(destinationRuleFor(input([dr('a', 'other', 'reviews')]), host)).toBeUndefined();
    expect(destinationRuleFor(input([dr('b', 'bookinfo', 'reviews', ['.'])]), host)).toBeUndefined();
    expect(destinationRuleFor(input([dr('b', 'bookinfo', 'reviews', ['.'])], 'bookinfo'), host)?.metadata?.name).toBe('b');
    expect(destinationRuleFor(input([dr('w', 'shop', '*.svc.cluster.local'), dr('e', 'shop', host)]), host)?.metadata?.name).toBe('e');
  });
  it('host patterns', () => {
    expect(hostMatches('*.example.com', 'api.example.com')).toBe(true);
    expect(hostMatches('*.example.com', 'example.com')).toBe(false);
    expect(hostMatches('*', 'anything')).toBe(true);
  });
});

describe('gateways', () => {
  const gw = workload({ name: 'istio-ingressgateway', namespace: 'istio-system', selector: { istio: 'ingressgateway' }, containers: [{ name: 'istio-proxy', args: ['proxy', 'router', '--domain', 'x'], ports: [{ containerPort: 8080, name: 'http2' }, { containerPort: 8443, name: 'https' }] }] });
  const gwPod = gw.pods[0] as unknown as Pod;
  const svc = service({ name: 'istio-ingressgateway', namespace: 'istio-system', selector: { istio: 'ingressgateway' }, ports: [{ port: 80, name: 'http2', targetPort: 8080 }, { port: 443, name: 'https', targetPort: 'https' }] });
  (svc.spec as { ports: Record<string, unknown>[] }).ports[0]!.nodePort = 30125;
  it('a router proxy is a gateway; a sidecar is not', () => {
    expect(isGatewayPod(gwPod)).toBe(true);
    expect(isGatewayPod(podBuilder({ name: 'a', sidecar: true }) as unknown as Pod)).toBe(false);
  });
  it('maps the Service port (or node port) to the listener\'s target port, by number or name', () => {
    const svcs = [svc as unknown as KubeObject];
    expect(gatewayPortMapping(gwPod, svcs, 80)).toEqual({ service: 'istio-system/istio-ingressgateway', servicePort: 80, targetPort: 8080 });
    expect(gatewayPortMapping(gwPod, svcs, 30125)).toEqual({ service: 'istio-system/istio-ingressgateway', servicePort: 30125, targetPort: 8080 });
    expect(gatewayPortMapping(gwPod, svcs, 443)).toMatchObject({ targetPort: 8443 });
    expect(gatewayPortMapping(gwPod, svcs, 8080)).toBeUndefined();
  });
  it('keeps the Host header and SNI the client sends', () => {
    const m = { service: 's', servicePort: 80, targetPort: 8080 };
    const http = gatewayRequest('http://review.example.com/reviews/1', {}, m);
    expect(http.dest).toBe('http://review.example.com:8080/reviews/1');
    expect(buildRequest(http.dest, http.flags)).toMatchObject({ port: 8080, hostHeader: 'review.example.com', path: '/reviews/1' });
    const tls = gatewayRequest('tls://api.example.com:443', {}, { ...m, servicePort: 443, targetPort: 8443 });
    expect(buildRequest(tls.dest, tls.flags)).toMatchObject({ port: 8443, sni: 'api.example.com' });
  });
});

describe('the probe pod', () => {
  const app = workload({ name: 'api', namespace: 'shop', sidecar: true }).pods[0] as unknown as Pod;
  const spec = (over: Partial<ProbeSpec> = {}): ProbeSpec => ({ namespace: 'shop', sourcePod: 'api-0', host: '10.0.0.6', port: 7000, mode: 'tcp', path: '/', connectTimeoutMs: 3000, deadlineMs: 30_000, ...over });
  it('curl for each kind of destination', () => {
    expect(curlArgs(spec())).toEqual(['-q', '-sS', '-o', '/dev/null', '--connect-timeout', '3.0', '--max-time', '4.0', '-w', WRITE_OUT, 'telnet://10.0.0.6:7000']);
    expect(curlArgs(spec({ host: 'api.example.com', port: 443, mode: 'tls' })).slice(-2)).toEqual(['--insecure', 'https://api.example.com:443/']);
    // an address for a name: pinned with --resolve, so that the SNI is still the name
    expect(curlArgs(spec({ host: 'api.example.com', address: '198.51.100.7', port: 443, mode: 'tls' })).slice(-4)).toEqual(['--insecure', '--resolve', 'api.example.com:443:198.51.100.7', 'https://api.example.com:443/']);
    // an IP with an explicit SNI
    expect(curlArgs(spec({ host: '198.51.100.7', address: '198.51.100.7', sni: 'api.example.com', port: 443, mode: 'tls' })).slice(-3)).toEqual(['--resolve', 'api.example.com:443:198.51.100.7', 'https://api.example.com:443/']);
    expect(curlArgs(spec({ host: 'reviews', port: 9080, mode: 'http', path: '/ratings', hostHeader: 'reviews:9080' })).slice(-3)).toEqual(['-H', 'Host: reviews:9080', 'http://reviews:9080/ratings']);
    expect(curlArgs(spec({ host: '2001:db8::1', address: '2001:db8::1' })).at(-1)).toBe('telnet://[2001:db8::1]:7000');
  });
  it('the probe spec follows the traced request', () => {
    expect(probeSpecOf(buildRequest('tls://api.example.com:443'), app, 30_000)).toMatchObject({ mode: 'tls', host: 'api.example.com', connectTimeoutMs: 10_000, deadlineMs: 30_000 });
    expect(probeSpecOf(buildRequest('https://api.example.com/v1'), app, 6000)).toMatchObject({ mode: 'https', path: '/v1', connectTimeoutMs: 2000 });
    expect(probeSpecOf(buildRequest('10.0.0.6:7000'), app, 30_000)).toMatchObject({ mode: 'tcp', address: '10.0.0.6' });
    // a Service name resolves by DNS in the probe as in the app; only a user-given address is pinned
    expect(probeSpecOf(buildRequest('db.example:5432', { address: '10.0.8.9' }), app, 30_000)).toMatchObject({ host: 'db.example', address: '10.0.8.9' });
  });
  it('the image: the pod\'s proxy image unless distroless; --probe-image wins', () => {
    expect(probeImage(app, undefined).image).toBe('docker.io/istio/proxyv2:1.26.2');
    const distroless = structuredClone(app);
    distroless.spec!.containers.find((c) => c.name === 'istio-proxy')!.image = 'gcr.io/istio-release/proxyv2:1.26.2-distroless';
    expect(probeImage(distroless, undefined)).toMatchObject({ image: DEFAULT_PROBE_IMAGE, why: expect.stringMatching(/distroless/) });
    expect(probeImage(app, 'my/curl:1').image).toBe('my/curl:1');
  });
  it('labelled as ours, outside the mesh, time-limited, least privilege; same node only when asked', () => {
    const m = probePodManifest({ name: 'mesh-egress-probe-abcde', spec: spec(), sourcePod: app, image: 'curl', sameNode: false, destination: '10.0.0.6:7000' });
    expect(m.metadata?.labels).toMatchObject({ 'app.kubernetes.io/managed-by': 'kubectl-mesh_egress', 'sidecar.istio.io/inject': 'false', 'istio.io/dataplane-mode': 'none' });
    expect(m.spec).toMatchObject({ restartPolicy: 'Never', activeDeadlineSeconds: 30, automountServiceAccountToken: false, dnsPolicy: 'ClusterFirst' });
    expect(m.spec?.nodeName).toBeUndefined();
    // none of the application's labels: a Service selecting them would send traffic to the probe
    expect(Object.keys(m.metadata?.labels ?? {})).not.toContain('app');
    const same = probePodManifest({ name: 'x', spec: spec(), sourcePod: app, image: 'curl', sameNode: true, destination: 'd' });
    expect(same.spec).toMatchObject({ nodeName: app.spec?.nodeName, tolerations: app.spec?.tolerations });
  });
  it('reads curl\'s answer', () => {
    expect(parseCurlWriteOut('mesh-egress-probe time_connect=0.012000 time_appconnect=0.000000 remote_ip=10.0.0.6 remote_port=7000 http_code=000 ssl_verify_result=0\ncurl: (28) Operation timed out after 4001 milliseconds with 0 bytes received\n', 28)).toEqual({ exitCode: 28, error: 'Operation timed out after 4001 milliseconds with 0 bytes received', connectMs: 12, remoteIp: '10.0.0.6', remotePort: 7000, sslVerifyResult: 0 });
    expect(parseCurlWriteOut("curl: (6) Could not resolve host: nope.example\nmesh-egress-probe time_connect=0.000000 time_appconnect=0.000000 remote_ip= remote_port=0 http_code=000 ssl_verify_result=0\n", 6)).toMatchObject({ exitCode: 6, error: 'Could not resolve host: nope.example' });
    expect(parseCurlWriteOut('mesh-egress-probe time_connect=0.010 time_appconnect=0.040 remote_ip=1.2.3.4 remote_port=443 http_code=204 ssl_verify_result=20\n', 0)).toMatchObject({ connectMs: 10, tlsMs: 40, httpCode: 204, sslVerifyResult: 20 });
    expect(parseCurlWriteOut('exec /usr/bin/curl: no such file or directory\n', 1)).toBeUndefined();
  });
});

describe('doctor argv → options', () => {
  /** The options the command builds from argv (the runner is replaced, as in cli/contract.test.ts). */
  async function parse(argv: string[]): Promise<DoctorOptions> {
    const { default: yargs } = await import('yargs');
    let seen: DoctorOptions | undefined;
    await globalOptions(yargs(argv))
      .command(doctorCommand({ io: fakeIo().io, setExit: () => undefined }, (o) => void (seen = o)))
      .strict()
      .exitProcess(false)
      .fail((m, e) => {
        throw e ?? new Error(m);
      })
      .parseAsync();
    if (!seen) throw new Error('runner not called');
    return seen;
  }
  it('defaults', async () => {
    expect(await parse(['doctor', 'deploy/api', '10.0.0.6:7000', '-n', 'shop'])).toEqual({
      input: { kind: 'live', target: { kind: 'workload', resource: 'deployments', name: 'api' }, kube: { namespace: 'shop' } },
      dest: '10.0.0.6:7000',
      request: {},
      probe: { enabled: false, sameNode: false, timeoutMs: 30_000 },
      logLines: 1000,
      output: 'table',
      color: 'auto',
      failOn: 'error',
    });
  });
  it('every flag', async () => {
    expect(await parse(['doctor', '-l', 'app=api', 'tls://api.example.com:443', '--probe', '--probe-image', 'curlimages/curl:8.11.1', '--probe-same-node', '--probe-timeout', '45s', '--sni', 'x.example.com', '--address', '1.2.3.4', '--log-lines', '50', '--port-forward', '-o', 'json', '--fail-on', 'warning'])).toEqual({
      input: { kind: 'live', target: { kind: 'selector', selector: 'app=api' }, kube: {}, prefer: 'port-forward' },
      dest: 'tls://api.example.com:443',
      request: { sni: 'x.example.com', address: '1.2.3.4' },
      probe: { enabled: true, image: 'curlimages/curl:8.11.1', sameNode: true, timeoutMs: 45_000 },
      logLines: 50,
      output: 'json',
      color: 'auto',
      failOn: 'warning',
    });
  });
  it('offline', async () => {
    expect(await parse(['doctor', '--snapshot', 's.tar.gz', 'http://reviews:9080/', '--server-first', '--protocol', 'tcp'])).toMatchObject({ input: { kind: 'snapshot', file: 's.tar.gz' }, request: { serverFirst: true, protocol: 'tcp' } });
  });
  it('the verb is in the command table', async () => {
    const f = fakeIo();
    expect(await main(['doctor', '--help'], f.io)).toBe(0);
    expect(f.out()).toMatch(/kubectl mesh-egress doctor TARGET DEST/);
    expect(f.out()).toMatch(/--probe-same-node/);
  });
});
