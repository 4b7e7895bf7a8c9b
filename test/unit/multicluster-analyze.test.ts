/**
 * `multicluster` analysis on facts built by hand: the rules the e2e scenarios do not reach (primary-remote,
 * istiod not reloaded after cacerts, discoverySelectors, exportTo, a cluster istiod never registered,
 * a gateway without AUTO_PASSTHROUGH Gateway, network label vs injector values, one flat network, three
 * clusters, allowed insecure kubeconfig options) and the rule that missing input is `skipped`, never `ok`.
 */
import { describe, expect, test } from 'vitest';
import { analyzeMulticluster, type MulticlusterInput } from '../../src/analyze/multicluster/analyze.js';
import type { ClusterFacts, ProxyFacts, ServiceFacts } from '../../src/model/multicluster.js';
import { summarizeKubeconfig } from '../../src/model/remote-secret.js';

const ROOT = 'AA:'.repeat(31) + 'AA';
const OTHER = 'BB:'.repeat(31) + 'BB';
const THIRD = 'CC:'.repeat(31) + 'CC';
const IP: Record<string, string> = { east: '10.1.0.5', west: '10.2.0.5', south: '10.3.0.5' };
const GW: Record<string, string> = { east: '198.51.100.1', west: '198.51.100.2', south: '198.51.100.3' };

function kc(server: string, user = '    token: t'): string {
  return `apiVersion: v1\ncurrent-context: c\nclusters:\n- name: c\n  cluster:\n    server: ${server}\ncontexts:\n- name: c\n  context:\n    cluster: c\n    user: u\nusers:\n- name: u\n  user:\n${user}\n`;
}

function cluster(name: string, others: readonly string[], o: Partial<ClusterFacts> = {}): ClusterFacts {
  return {
    context: name,
    server: `https://api.${name}.example:6443`,
    readable: true,
    controlPlaneNamespace: 'istio-system',
    logSince: '1h',
    istiod: [{ name: `istiod-${name}`, running: true, clusterId: name, version: '1.26.2' }],
    injector: { clusterName: name, network: `net-${name}` },
    cacerts: { source: 'secret istio-system/cacerts root-cert.pem', fingerprints: [ROOT], invalid: 0 },
    distributedRoots: { source: 'configmap istio-system/istio-ca-root-cert', fingerprints: [ROOT], invalid: 0 },
    remoteSecrets: others.map((x) => ({ secret: `istio-system/istio-remote-secret-${x}`, key: x, annotatedCluster: x, kubeconfig: summarizeKubeconfig(kc(`https://api.${x}.example:6443`)) })),
    clusterz: [{ id: name, secretName: '', syncStatus: 'synced' }, ...others.map((x) => ({ id: x, secretName: `istio-system/istio-remote-secret-${x}`, syncStatus: 'synced' }))],
    logEvents: [],
    namespaceNetwork: `net-${name}`,
    gateways: [{ namespace: 'istio-system', name: 'istio-eastwestgateway', network: `net-${name}`, mtlsPort: 15443, type: 'LoadBalancer', addresses: [GW[name]!], selector: { istio: 'eastwestgateway' }, labels: { istio: 'eastwestgateway', 'topology.istio.io/network': `net-${name}` } }],
    passthrough: [{ namespace: 'istio-system', name: 'cross-network-gateway', port: 15443, hosts: ['*.local'], selector: { istio: 'eastwestgateway' } }],
    gaps: [],
    ...o,
  };
}

function svc(name: string, o: Partial<ServiceFacts> = {}): ServiceFacts {
  return { context: name, present: true, type: 'ClusterIP', headless: false, ports: [{ name: 'http', port: 5000, protocol: 'TCP', targetPort: '5000' }], namespaceLabels: { 'kubernetes.io/metadata.name': 'sample' }, endpoints: [{ ip: IP[name]!, ready: true }], gaps: [], ...o };
}

function proxy(eps: readonly { address: string; port: number; clusterId: string }[], o: Partial<ProxyFacts> = {}): ProxyFacts {
  return {
    context: 'east',
    pod: 'sample/curl-0',
    namespace: 'sample',
    clusterId: 'east',
    network: 'net-east',
    roots: { source: 'proxy ROOTCA (config_dump)', fingerprints: [ROOT], invalid: 0 },
    clusters: [{ name: 'outbound|5000||helloworld.sample.svc.cluster.local', port: 5000, endpoints: eps.map((e) => ({ ...e, health: 'HEALTHY' })) }],
    tlsErrors: [],
    logSince: '1h',
    ...o,
  };
}

const SERVICE = { name: 'helloworld', namespace: 'sample' };
const BOTH = [
  { address: IP.east!, port: 5000, clusterId: 'east' },
  { address: GW.west!, port: 15443, clusterId: 'west' },
];

function run(input: Partial<MulticlusterInput> & { clusters: ClusterFacts[] }) {
  const r = analyzeMulticluster(input);
  return { ...r, codes: r.findings.map((f) => `${f.code} ${f.severity}`), row: (check: string, c: string, peer?: string) => r.rows.find((x) => x.check === check && x.cluster === c && (peer === undefined || x.peer === peer)) };
}

describe('multicluster analysis', () => {
  test('the healthy baseline has no finding and every row ok', () => {
    const r = run({ clusters: [cluster('east', ['west']), cluster('west', ['east'])], service: SERVICE, services: [svc('east'), svc('west')], proxy: proxy(BOTH) });
    expect(r.codes).toEqual([]);
    expect(r.rows.filter((x) => x.status !== 'ok')).toEqual([]);
  });

  test('primary-remote: the remote cluster runs no istiod and needs no secrets; its ID comes from the injector values', () => {
    const remote = cluster('west', [], { istiod: [], clusterz: undefined, logEvents: undefined, remoteSecrets: [] });
    const r = run({ clusters: [cluster('east', ['west']), remote] });
    expect(r.row('remote-secret', 'west', 'east')?.status).toBe('skipped');
    expect(r.row('remote-secret', 'east', 'west')?.status).toBe('ok');
    expect(r.row('cluster-id', 'west')?.detail).toMatch(/west \(istio-sidecar-injector values/);
    expect(r.codes).toEqual([]);
  });

  test('cacerts plugged in but istiod still distributes its old root: not restarted (warning)', () => {
    const r = run({ clusters: [cluster('east', ['west'], { distributedRoots: { source: 'configmap istio-system/istio-ca-root-cert', fingerprints: [OTHER], invalid: 0 } }), cluster('west', ['east'])] });
    expect(r.codes).toEqual(['MEG091 warning']);
    expect(r.findings[0]!.message).toMatch(/istiod has not loaded the plugged-in CA; restart it/);
  });

  test('three clusters, one on another root: one finding per pair without a common root', () => {
    const r = run({ clusters: [cluster('east', ['west', 'south']), cluster('west', ['east', 'south']), cluster('south', ['east', 'west'], { cacerts: { source: 'secret istio-system/cacerts root-cert.pem', fingerprints: [THIRD], invalid: 0 }, distributedRoots: { source: 'c', fingerprints: [THIRD], invalid: 0 } })] });
    expect(r.findings.filter((f) => f.code === 'MEG091').map((f) => f.subject?.name)).toEqual(['east,south', 'west,south']);
    expect(r.row('trust', 'east')?.status).toBe('error');
  });

  test('missing endpoints: the namespace is outside the discoverySelectors of the proxy\'s istiod', () => {
    const east = cluster('east', ['west'], { discoverySelectors: [{ matchLabels: { 'istio-discovery': 'enabled' } }] });
    const r = run({ clusters: [east, cluster('west', ['east'])], service: SERVICE, services: [svc('east', { namespaceLabels: { 'istio-discovery': 'enabled' } }), svc('west')], proxy: proxy([BOTH[0]!]) });
    expect(r.codes).toEqual(['MEG097 error']);
    expect(r.findings[0]!.message).toMatch(/namespace sample in west does not match the discoverySelectors of east's mesh config/);
  });

  test('missing endpoints: the Service in the remote cluster is exported only to its own namespace', () => {
    const r = run({ clusters: [cluster('east', ['west']), cluster('west', ['east'])], service: SERVICE, services: [svc('east'), svc('west', { exportTo: ['.'] })], proxy: proxy([BOTH[0]!], { namespace: 'tools', pod: 'tools/curl-0' }) });
    expect(r.findings[0]!.message).toMatch(/exported only to \. \(networking\.istio\.io\/exportTo\)/);
  });

  test('missing endpoints: the secret is fine but istiod never registered the cluster', () => {
    const east = cluster('east', ['west'], { clusterz: [{ id: 'east', secretName: '', syncStatus: 'synced' }] });
    const r = run({ clusters: [east, cluster('west', ['east'])], service: SERVICE, services: [svc('east'), svc('west')], proxy: proxy([BOTH[0]!]) });
    expect(r.findings.find((f) => f.code === 'MEG097')!.message).toMatch(/has not registered cluster west \(missing from \/debug\/clusterz\)/);
  });

  test('a gateway with an address but no AUTO_PASSTHROUGH Gateway on 15443 is not usable', () => {
    const r = run({ clusters: [cluster('east', ['west']), cluster('west', ['east'], { passthrough: [] })] });
    expect(r.codes).toEqual(['MEG096 error']);
    expect(r.findings[0]!.message).toMatch(/no Gateway with an AUTO_PASSTHROUGH server on port 15443 selects istio-system\/istio-eastwestgateway/);
  });

  test('namespace label and injector values name different networks: warning', () => {
    const r = run({ clusters: [cluster('east', ['west'], { injector: { clusterName: 'east', network: 'net-other' } }), cluster('west', ['east'])] });
    expect(r.codes).toEqual(['MEG096 warning']);
    expect(r.row('network', 'east')?.status).toBe('warning');
  });

  test('one flat network: no gateway needed, pod IPs of the other cluster are fine', () => {
    const flat = (n: string, o: string): ClusterFacts => cluster(n, [o], { namespaceNetwork: undefined, injector: { clusterName: n }, gateways: [], passthrough: [] });
    const r = run({ clusters: [flat('east', 'west'), flat('west', 'east')], service: SERVICE, services: [svc('east'), svc('west')], proxy: proxy([BOTH[0]!, { address: IP.west!, port: 5000, clusterId: 'west' }], { network: undefined }) });
    expect(r.codes).toEqual([]);
    expect(r.row('network', 'east')?.detail).toMatch(/all clusters on one network/);
    expect(r.row('endpoints', 'west')?.detail).toBe('1 ready pod; the proxy has 1 pod IP');
  });

  test('an exec credential allowed by PILOT_INSECURE_MULTICLUSTER_KUBECONFIG_OPTIONS is accepted', () => {
    const east = cluster('east', ['west']);
    const exec = { ...east.remoteSecrets![0]!, kubeconfig: summarizeKubeconfig(kc('https://api.west.example:6443', '    exec:\n      command: aws')) };
    const allowed = run({ clusters: [{ ...east, remoteSecrets: [exec], istiod: [{ ...east.istiod![0]!, insecureKubeconfigOptions: ['exec'] }] }, cluster('west', ['east'])] });
    expect(allowed.codes).toEqual([]);
    const refused = run({ clusters: [{ ...east, remoteSecrets: [exec] }, cluster('west', ['east'])] });
    expect(refused.codes).toEqual(['MEG093 error']);
  });

  test('PILOT_MULTICLUSTER_KUBECONFIG_PATH: istiod ignores remote Secrets, only its clusterz counts (secretcontroller.go NewController)', () => {
    const east = cluster('east', ['west']);
    const files = { ...east, istiod: [{ ...east.istiod![0]!, remoteKubeconfigPath: '/etc/istio/remote-kubeconfigs' }] };
    // registered from a file (clusterz config key "/west"), no Secret at all: ok
    const ok = run({ clusters: [{ ...files, remoteSecrets: [], clusterz: [{ id: 'east', secretName: '', syncStatus: 'synced' }, { id: 'west', secretName: '/west', syncStatus: 'synced' }] }, cluster('west', ['east'])] });
    expect(ok.codes).toEqual([]);
    expect(ok.row('remote-secret', 'east', 'west')?.detail).toMatch(/istiod registered west from kubeconfig \/west \(istiod reads remote kubeconfigs from files in \/etc\/istio\/remote-kubeconfigs/);
    // a perfect Secret does not help when istiod reads files: not registered is an error, and the endpoint cause says so
    const r = run({ clusters: [{ ...files, clusterz: [{ id: 'east', secretName: '', syncStatus: 'synced' }] }, cluster('west', ['east'])], service: SERVICE, services: [svc('east'), svc('west')], proxy: proxy([BOTH[0]!]) });
    expect(r.codes).toEqual(['MEG094 error', 'MEG097 error']);
    expect(r.row('remote-secret', 'east', 'west')?.status).toBe('error');
    expect(r.findings.find((f) => f.code === 'MEG094')!.message).toMatch(/registered no cluster west \(west\): it reads remote kubeconfigs from files in \/etc\/istio\/remote-kubeconfigs .* and ignores remote Secrets/);
    expect(r.findings.find((f) => f.code === 'MEG097')!.message).toMatch(/Likely cause: istiod in east has not registered cluster west \(missing from \/debug\/clusterz/);
  });

  test('secrets not readable: istiod\'s clusterz without the remote names the cause of the missing endpoints', () => {
    const east = cluster('east', ['west'], { remoteSecrets: undefined, clusterz: [{ id: 'east', secretName: '', syncStatus: 'synced' }] });
    const r = run({ clusters: [east, cluster('west', ['east'])], service: SERVICE, services: [svc('east'), svc('west')], proxy: proxy([BOTH[0]!]) });
    expect(r.codes).toEqual(['MEG092 error', 'MEG097 error']);
    expect(r.findings.find((f) => f.code === 'MEG097')!.message).toMatch(/Likely cause: istiod in east has not registered cluster west/);
  });

  test('a NodePort east-west gateway without traffic.istio.io/nodeSelector gets no address from istiod', () => {
    const west = cluster('west', ['east']);
    const gw = { ...west.gateways![0]!, type: 'NodePort', addresses: [], nodePortWithoutSelector: true as const };
    const r = run({ clusters: [cluster('east', ['west']), { ...west, gateways: [gw] }] });
    expect(r.codes).toEqual(['MEG096 error']);
    expect(r.findings[0]!.message).toMatch(/has no external address: istiod uses the node addresses of a NodePort gateway only when it is annotated traffic\.istio\.io\/nodeSelector/);
    const selected = run({ clusters: [cluster('east', ['west']), { ...west, gateways: [{ ...west.gateways![0]!, type: 'NodePort', addresses: [], nodePort: 31443 }] }] });
    expect(selected.codes).toEqual([]);
  });

  test('SERVICE without --from: the endpoint rows are skipped and say what to give', () => {
    const r = run({ clusters: [cluster('east', ['west']), cluster('west', ['east'])], service: SERVICE, services: [svc('east'), svc('west')] });
    expect(r.rows.filter((x) => x.check === 'endpoints').map((x) => `${x.cluster} ${x.status} ${x.detail}`)).toEqual([
      'east skipped no proxy to compare with: give --from POD (a pod in the mesh that calls the service)',
      'west skipped no proxy to compare with: give --from POD (a pod in the mesh that calls the service)',
    ]);
    expect(r.codes).toEqual([]);
  });

  test('missing input is skipped, never ok', () => {
    const blind = cluster('east', ['west'], { cacerts: undefined, distributedRoots: undefined, remoteSecrets: undefined, clusterz: undefined, logEvents: undefined, gaps: [{ what: 'list secrets', reason: 'forbidden', detail: 'forbidden' }] });
    const r = run({ clusters: [blind, cluster('west', ['east'])] });
    expect(r.row('trust', 'east')?.status).toBe('skipped');
    expect(r.row('remote-secret', 'east', 'west')?.status).toBe('skipped');
    expect(r.row('control-plane', 'east')?.status).toBe('skipped');
    expect(r.row('cluster', 'east')?.status).toBe('warning');
    expect(r.codes).toEqual(['MEG090 warning']);
  });
});
