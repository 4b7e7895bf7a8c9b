/**
 * A two-cluster Istio mesh (contexts east and west in one kubeconfig) as the multicluster e2e tests
 * stand it up, shaped like Istio's multi-primary multi-network install
 * (istio.io "Install Multi-Primary on different networks", samples/multicluster/gen-eastwest-gateway.sh,
 * expose-services.yaml, istioctl create-remote-secret) with the helloworld/curl verification apps of
 * seed 004. Every scenario is a variation of `healthyMesh()`.
 *
 * Secrets carry real-looking material so a leak would show: certificates and keys generated once with
 * openssl (fixtures/generate.sh), bearer tokens with canary markers, a private key in the proxy's config
 * dump, and the last-applied-configuration annotation `kubectl apply` leaves on a remote secret.
 */
import fs from 'node:fs';
import path from 'node:path';
import { configMap, istioObject, namespace, service, workload, type ClusterOptions, type KubeObject, type LogLine } from '../server/index.js';

const FIXTURES = path.join(import.meta.dirname, 'fixtures');
export const pem = (name: string): string => fs.readFileSync(path.join(FIXTURES, `${name}.pem`), 'utf8');
const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64');

export const ISTIO_VERSION = '1.26.2';
export const HELLO_PORT = 5000;
export const GATEWAY_IP: Record<string, string> = { east: '198.51.100.10', west: '203.0.113.20' };
export const API_SERVER: Record<string, string> = { east: 'https://192.0.2.10:6443', west: 'https://192.0.2.20:6443' };
export const POD_IP: Record<string, string> = { east: '10.10.1.5', west: '10.20.1.5' };
export const CURL_IP = '10.10.2.7';

/** Strings that must never appear in any output, JSON, YAML or snapshot. */
export function tokenCanary(cluster: string): string {
  return `eyJhbGciOiJSUzI1NiIsImtpZCI6IkNBTkFSWSJ9.CANARY-TOKEN-${cluster}-b3f1c2d4e5f60718293a4b5c6d7e8f90.c2lnbmF0dXJlLUNBTkFSWQ`;
}
export const PROXY_KEY_CANARY = 'CANARY-PRIVATE-KEY-proxy-5e1d9a';

export interface RemoteSecretSpec {
  /** the cluster the kubeconfig points at */
  readonly target: string;
  /** data key (default: the target's cluster ID) */
  readonly key?: string;
  readonly name?: string;
  readonly server?: string;
  readonly auth?: 'token' | 'exec';
  /** istiod registered the cluster (default: unless the credential is exec, which istiod refuses) */
  readonly registered?: boolean;
}

export interface ClusterSpec {
  readonly name: string;
  readonly clusterId: string;
  readonly network: string;
  /** how the network is declared: the namespace label (default) or meshNetworks fromRegistry */
  readonly networkBy?: 'label' | 'meshNetworks';
  /** cacerts from the shared root (default), none (istiod's self-signed root), or another root */
  readonly ca: 'mesh' | 'none' | 'other';
  /**
   * cacerts layout: istiod's own (ca-cert.pem, ca-key.pem, root-cert.pem, cert-chain.pem; default) or
   * kubernetes.io/tls as cert-manager writes it (tls.crt, tls.key, ca.crt) plus a stale root-cert.pem
   * of another root that istiod ignores in that layout
   */
  readonly caLayout?: 'istiod' | 'tls';
  readonly remoteSecrets: readonly RemoteSecretSpec[];
  /** east-west gateway: exposed (default), pending (no LoadBalancer address), none */
  readonly gateway: 'exposed' | 'pending' | 'none';
  /** /debug/clusterz sync status per remote cluster ID (default: synced for every remote secret) */
  readonly sync?: Readonly<Record<string, string>>;
  readonly istiodLog?: readonly string[];
  readonly helloPort?: number;
}

export interface MeshSpec {
  readonly east: ClusterSpec;
  readonly west: ClusterSpec;
  /** endpoints the curl proxy in east has for outbound|5000||helloworld: local pod, gateway or pod IP of west */
  readonly eds: readonly ('east-pod' | 'west-gateway' | 'west-pod')[];
  /** the cluster ID the west endpoints carry in EDS metadata (default west's ID) */
  readonly westEdsCluster?: string;
  /** the roots the curl proxy trusts (ROOTCA) */
  readonly proxyRoots: readonly string[];
  readonly proxyLog?: readonly string[];
}

export function healthyMesh(): MeshSpec {
  return {
    east: { name: 'east', clusterId: 'east', network: 'network1', ca: 'mesh', remoteSecrets: [{ target: 'west' }], gateway: 'exposed' },
    west: { name: 'west', clusterId: 'west', network: 'network2', ca: 'mesh', remoteSecrets: [{ target: 'east' }], gateway: 'exposed' },
    eds: ['east-pod', 'west-gateway'],
    proxyRoots: ['mesh-root-cert'],
  };
}

function remoteKubeconfig(target: string, server: string, auth: 'token' | 'exec'): string {
  const user = auth === 'token' ? `    token: ${tokenCanary(target)}` : ['    exec:', '      apiVersion: client.authentication.k8s.io/v1beta1', '      command: /usr/local/bin/gke-gcloud-auth-plugin', '      provideClusterInfo: true'].join('\n');
  return [
    'apiVersion: v1',
    'clusters:',
    '- cluster:',
    `    certificate-authority-data: ${b64(pem(`${target === 'east' ? 'east' : 'west'}-ca-cert`))}`,
    `    server: ${server}`,
    `  name: ${target}`,
    'contexts:',
    '- context:',
    `    cluster: ${target}`,
    `    user: ${target}`,
    `  name: ${target}`,
    `current-context: ${target}`,
    'kind: Config',
    'preferences: {}',
    'users:',
    `- name: ${target}`,
    '  user:',
    user,
    '',
  ].join('\n');
}

function secret(name: string, ns: string, data: Record<string, string>, o: { labels?: Record<string, string>; annotations?: Record<string, string> } = {}): KubeObject {
  return { apiVersion: 'v1', kind: 'Secret', type: 'Opaque', metadata: { name, namespace: ns, ...(o.labels ? { labels: o.labels } : {}), ...(o.annotations ? { annotations: o.annotations } : {}) }, data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, b64(v)])) };
}

function rootOf(c: ClusterSpec): string {
  return c.ca === 'mesh' ? 'mesh-root-cert' : c.ca === 'other' ? 'other-root-cert' : `istiod-${c.name}-cert`;
}

/** A clock-free log: kubelet times within the last minutes (for --since), Istio's own timestamps in the text. */
function logLines(lines: readonly string[]): LogLine[] {
  const now = Date.now();
  return lines.map((line, i) => ({ time: new Date(now - (lines.length - i) * 1000), line }));
}

function clusterObjects(c: ClusterSpec, all: Record<string, ClusterSpec>): { objects: KubeObject[]; istiodPod: string; helloPod: string } {
  const ns = 'istio-system';
  const objects: KubeObject[] = [];
  objects.push(namespace(ns, c.networkBy === 'meshNetworks' ? {} : { 'topology.istio.io/network': c.network }), namespace('sample', { 'istio-injection': 'enabled' }));
  const istiod = workload({
    name: 'istiod',
    namespace: ns,
    labels: { app: 'istiod', istio: 'pilot', 'istio.io/rev': 'default' },
    selector: { app: 'istiod', 'istio.io/rev': 'default' },
    podIP: c.name === 'east' ? '10.10.0.3' : '10.20.0.3',
    containers: [
      {
        name: 'discovery',
        image: `docker.io/istio/pilot:${ISTIO_VERSION}`,
        ports: [{ containerPort: 8080, protocol: 'TCP' }, { containerPort: 15010, protocol: 'TCP' }, { containerPort: 15017, protocol: 'TCP' }],
        env: [
          { name: 'REVISION', value: 'default' },
          { name: 'PILOT_CERT_PROVIDER', value: 'istiod' },
          { name: 'CLUSTER_ID', value: c.clusterId },
          { name: 'PLATFORM', value: '' },
        ],
      },
    ],
  });
  const istiodPod = istiod.pods[0]!;
  istiodPod.metadata.annotations = { ...istiodPod.metadata.annotations, 'prometheus.io/port': '15014', 'prometheus.io/scrape': 'true', 'sidecar.istio.io/inject': 'false' };
  objects.push(...istiod.all);
  const meshNetworks =
    c.networkBy === 'meshNetworks'
      ? ['networks:', ...Object.values(all).flatMap((x) => [`  ${x.network}:`, '    endpoints:', `    - fromRegistry: ${x.clusterId}`, '    gateways:', `    - registryServiceName: istio-eastwestgateway.istio-system.svc.cluster.local`, '      port: 15443'])].join('\n')
      : 'networks: {}';
  objects.push(
    configMap({
      name: 'istio',
      namespace: ns,
      labels: { 'istio.io/rev': 'default', release: 'istiod' },
      data: { mesh: 'defaultConfig:\n  discoveryAddress: istiod.istio-system.svc:15012\n  meshId: mesh1\nrootNamespace: istio-system\ntrustDomain: cluster.local\n', meshNetworks },
    }),
    configMap({ name: 'istio-sidecar-injector', namespace: ns, labels: { 'istio.io/rev': 'default', release: 'istiod' }, data: { config: 'policy: enabled\n', values: JSON.stringify({ global: { istioNamespace: ns, meshID: 'mesh1', multiCluster: { clusterName: c.clusterId }, network: c.network }, revision: '' }) } }),
    configMap({ name: 'istio-ca-root-cert', namespace: ns, labels: { 'istio.io/config': 'true' }, data: { 'root-cert.pem': pem(rootOf(c)) } }),
    configMap({ name: 'istio-ca-root-cert', namespace: 'sample', labels: { 'istio.io/config': 'true' }, data: { 'root-cert.pem': pem(rootOf(c)) } }),
  );
  if (c.ca !== 'none') {
    const ca = `${c.name}-ca`;
    const root = c.ca === 'mesh' ? 'mesh-root' : 'other-root';
    objects.push(
      secret(
        'cacerts',
        ns,
        c.caLayout === 'tls'
          ? { 'tls.crt': pem(`${ca}-cert`), 'tls.key': pem(`${ca}-key`), 'ca.crt': pem(`${root}-cert`), 'root-cert.pem': pem(root === 'mesh-root' ? 'other-root-cert' : 'mesh-root-cert') }
          : {
              'ca-cert.pem': pem(`${ca}-cert`),
              'ca-key.pem': pem(`${ca}-key`),
              'root-cert.pem': pem(`${root}-cert`),
              'cert-chain.pem': `${pem(`${ca}-cert`)}${pem(`${root}-cert`)}`,
            },
      ),
    );
  }
  for (const rs of c.remoteSecrets) {
    const target = all[rs.target]!;
    const key = rs.key ?? target.clusterId;
    const name = rs.name ?? `istio-remote-secret-${key}`;
    const kubeconfig = remoteKubeconfig(rs.target, rs.server ?? API_SERVER[rs.target]!, rs.auth ?? 'token');
    const data = { [key]: kubeconfig };
    // what `kubectl apply` leaves behind: the whole secret, data included, in an annotation
    const lastApplied = JSON.stringify({ apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace: ns }, data: { [key]: b64(kubeconfig) } });
    objects.push(secret(name, ns, data, { labels: { 'istio/multiCluster': 'true' }, annotations: { 'networking.istio.io/cluster': key, 'kubectl.kubernetes.io/last-applied-configuration': lastApplied } }));
  }
  // an unrelated secret in the namespace: never read
  objects.push(secret('istio-ca-secret', ns, { 'ca-cert.pem': pem(rootOf(c)), 'ca-key.pem': pem(rootOf(c).replace(/-cert$/, '-key')) }));
  if (c.gateway !== 'none') {
    const gw = service({
      name: 'istio-eastwestgateway',
      namespace: ns,
      type: 'LoadBalancer',
      labels: { app: 'istio-eastwestgateway', istio: 'eastwestgateway', 'topology.istio.io/network': c.network },
      selector: { app: 'istio-eastwestgateway', istio: 'eastwestgateway' },
      ports: [
        { name: 'status-port', port: 15021 },
        { name: 'tls', port: 15443 },
        { name: 'tls-istiod', port: 15012 },
        { name: 'tls-webhook', port: 15017 },
      ],
    });
    gw.status = c.gateway === 'exposed' ? { loadBalancer: { ingress: [{ ip: GATEWAY_IP[c.name], ipMode: 'VIP' }] } } : { loadBalancer: {} };
    objects.push(gw);
    objects.push(istioObject('Gateway', 'cross-network-gateway', ns, { selector: { istio: 'eastwestgateway' }, servers: [{ port: { number: 15443, name: 'tls', protocol: 'TLS' }, tls: { mode: 'AUTO_PASSTHROUGH' }, hosts: ['*.local'] }] }));
  }
  const version = c.name === 'east' ? 'v1' : 'v2';
  const hello = workload({ name: `helloworld-${version}`, namespace: 'sample', labels: { app: 'helloworld', version }, selector: { app: 'helloworld', version }, sidecar: true, podIP: POD_IP[c.name], containers: [{ name: 'helloworld', image: `docker.io/istio/examples-helloworld-${version}:1.0`, ports: [{ containerPort: 5000, protocol: 'TCP' }] }] });
  objects.push(...hello.all);
  const helloPod = hello.pods[0]!;
  objects.push(service({ name: 'helloworld', namespace: 'sample', labels: { app: 'helloworld', service: 'helloworld' }, selector: { app: 'helloworld' }, ports: [{ name: 'http', port: c.helloPort ?? HELLO_PORT }] }));
  objects.push({
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: `helloworld-${c.name.slice(0, 1)}x7kq`, namespace: 'sample', labels: { 'kubernetes.io/service-name': 'helloworld', 'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io' }, ownerReferences: [] },
    addressType: 'IPv4',
    endpoints: [{ addresses: [POD_IP[c.name]!], conditions: { ready: true, serving: true, terminating: false }, nodeName: 'node-1', targetRef: { kind: 'Pod', name: helloPod.metadata.name!, namespace: 'sample' } }],
    ports: [{ name: 'http', port: HELLO_PORT, protocol: 'TCP' }],
  });
  return { objects, istiodPod: `${ns}/${istiodPod.metadata.name}`, helloPod: `sample/${helloPod.metadata.name}` };
}

function lbEndpoint(address: string, port: number, workloadMeta: string): Record<string, unknown> {
  return {
    endpoint: { address: { socket_address: { address, port_value: port } }, health_check_config: {} },
    health_status: 'HEALTHY',
    metadata: { filter_metadata: { 'envoy.transport_socket_match': { tlsMode: 'istio' }, istio: { workload: workloadMeta } } },
    load_balancing_weight: 1,
  };
}

/** The curl sidecar's config dump: bootstrap node, the helloworld cluster and its EDS, and its secrets. */
function curlDump(spec: MeshSpec, podName: string): Record<string, unknown> {
  const host = 'helloworld.sample.svc.cluster.local';
  const cluster = `outbound|${HELLO_PORT}||${host}`;
  const westId = spec.westEdsCluster ?? spec.west.clusterId;
  const eps = spec.eds.map((e) =>
    e === 'east-pod'
      ? lbEndpoint(POD_IP.east!, HELLO_PORT, `helloworld-v1;sample;helloworld;v1;${spec.east.clusterId}`)
      : e === 'west-pod'
        ? lbEndpoint(POD_IP.west!, HELLO_PORT, `helloworld-v2;sample;helloworld;v2;${westId}`)
        : lbEndpoint(GATEWAY_IP.west!, 15443, `;;;;${westId}`),
  );
  const chain = `${pem('east-ca-cert')}${pem('mesh-root-cert')}`;
  return {
    configs: [
      {
        '@type': 'type.googleapis.com/envoy.admin.v3.BootstrapConfigDump',
        bootstrap: { node: { id: `sidecar~${CURL_IP}~${podName}.sample~sample.svc.cluster.local`, cluster: 'curl.sample', metadata: { CLUSTER_ID: spec.east.clusterId, NETWORK: spec.east.network, ISTIO_VERSION, NAMESPACE: 'sample' } } },
      },
      {
        '@type': 'type.googleapis.com/envoy.admin.v3.ClustersConfigDump',
        version_info: '2026-01-05T08:00:00Z/12',
        dynamic_active_clusters: [
          {
            version_info: '2026-01-05T08:00:00Z/12',
            cluster: { '@type': 'type.googleapis.com/envoy.config.cluster.v3.Cluster', name: cluster, type: 'EDS', eds_cluster_config: { eds_config: { ads: {}, initial_fetch_timeout: '0s', resource_api_version: 'V3' }, service_name: cluster }, connect_timeout: '10s', lb_policy: 'LEAST_REQUEST' },
            last_updated: '2026-01-05T08:00:01.000Z',
          },
        ],
      },
      {
        '@type': 'type.googleapis.com/envoy.admin.v3.EndpointsConfigDump',
        dynamic_endpoint_configs: [{ endpoint_config: { '@type': 'type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment', cluster_name: cluster, endpoints: [{ locality: {}, lb_endpoints: eps }], policy: { overprovisioning_factor: 140 } } }],
      },
      {
        '@type': 'type.googleapis.com/envoy.admin.v3.SecretsConfigDump',
        dynamic_active_secrets: [
          {
            name: 'default',
            version_info: '2026-01-05 08:00:00.000',
            last_updated: '2026-01-05T08:00:00.500Z',
            secret: { '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret', name: 'default', tls_certificate: { certificate_chain: { inline_bytes: b64(chain) }, private_key: { inline_bytes: b64(`-----BEGIN EC PRIVATE KEY-----\n${PROXY_KEY_CANARY}\n-----END EC PRIVATE KEY-----\n`) } } },
          },
          {
            name: 'ROOTCA',
            version_info: '2026-01-05 08:00:00.000',
            last_updated: '2026-01-05T08:00:00.400Z',
            secret: { '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret', name: 'ROOTCA', validation_context: { trusted_ca: { inline_bytes: b64(spec.proxyRoots.map(pem).join('')) } } },
          },
        ],
      },
    ],
  };
}

export interface BuiltMesh {
  readonly clusters: Record<string, ClusterOptions>;
  readonly curlPod: string;
  readonly istiodPods: Record<string, string>;
}

export function buildMesh(spec: MeshSpec): BuiltMesh {
  const all: Record<string, ClusterSpec> = { east: spec.east, west: spec.west };
  const clusters: Record<string, ClusterOptions> = {};
  const istiodPods: Record<string, string> = {};
  const curl = workload({ name: 'curl', namespace: 'sample', sidecar: true, podIP: CURL_IP, containers: [{ name: 'curl', image: 'curlimages/curl:8.16.0', command: ['/bin/sleep', 'infinity'] }] });
  const curlPod = curl.pods[0]!;
  // what the injector renders from the injector values: ISTIO_META_CLUSTER_ID and ISTIO_META_NETWORK
  const proxy = (curlPod.spec as { containers: { name: string; env?: { name: string; value?: string }[] }[] }).containers.find((c) => c.name === 'istio-proxy')!;
  proxy.env = [...(proxy.env ?? []).filter((e) => e.name !== 'ISTIO_META_CLUSTER_ID'), { name: 'ISTIO_META_CLUSTER_ID', value: spec.east.clusterId }, { name: 'ISTIO_META_NETWORK', value: spec.east.network }];
  const curlName = curlPod.metadata.name!;
  for (const c of [spec.east, spec.west]) {
    const built = clusterObjects(c, all);
    istiodPods[c.name] = built.istiodPod;
    const remoteIds = c.remoteSecrets.map((r) => ({ id: r.key ?? all[r.target]!.clusterId, secret: `istio-system/${r.name ?? `istio-remote-secret-${r.key ?? all[r.target]!.clusterId}`}`, registered: r.registered ?? r.auth !== 'exec' }));
    // pkg/kube/multicluster/secretcontroller.go addRemoteConfig: a key equal to istiod's own ID is ignored, a refused kubeconfig never registered
    const clusterz = [{ id: c.clusterId, secretName: '', syncStatus: 'synced' }, ...remoteIds.filter((r) => r.id !== c.clusterId && r.registered).map((r) => ({ id: r.id, secretName: r.secret, syncStatus: c.sync?.[r.id] ?? 'synced' }))];
    const ignored = remoteIds.filter((r) => r.id === c.clusterId).map((r) => `2026-01-05T08:00:00.900000Z\tinfo\tignoring cluster as it would overwrite the config cluster\tcluster=${r.id} config=${r.secret}`);
    const istiodLog = ['2026-01-05T08:00:00.100000Z\tinfo\tStarting multicluster remote secrets controller', ...ignored, ...(c.istiodLog ?? []), '2026-01-05T08:00:02.000000Z\tinfo\tads\tPush debounce stable[12] 1 for config ServiceEntry/sample/helloworld.sample.svc.cluster.local'];
    clusters[c.name] = {
      objects: [...built.objects, ...(c.name === 'east' ? curl.all : [])],
      namespace: 'sample',
      exec: [
        {
          pod: built.istiodPod,
          container: 'discovery',
          command: 'pilot-discovery',
          handler: (x) => (x.command.slice(1).join(' ') === 'request GET debug/clusterz' ? { stdout: `${JSON.stringify(clusterz)}\n` } : { stderr: `unknown request ${x.command.join(' ')}\n`, exitCode: 1 }),
        },
      ],
      logs: {
        [built.istiodPod]: { discovery: logLines(istiodLog) },
        ...(c.name === 'east' ? { [`sample/${curlName}`]: { 'istio-proxy': logLines(spec.proxyLog ?? ['2026-01-05T08:00:00.200000Z\tinfo\tEnvoy proxy is ready']) } } : {}),
      },
      ...(c.name === 'east' ? { sidecars: { [`sample/${curlName}`]: { configDump: curlDump(spec, curlName) as never } } } : {}),
    };
  }
  return { clusters, curlPod: `sample/${curlName}`, istiodPods };
}
