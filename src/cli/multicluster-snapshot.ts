/**
 * `multicluster` offline: each snapshot (one per cluster) carries what the multicluster collector read
 * when it was taken (multicluster/cluster.json: ClusterFacts; multicluster/proxy-roots.json: the pod's
 * ROOTCA fingerprints). Snapshots never read Secret objects (DESIGN.md §6, test/e2e/live/offline.test.ts),
 * so offline the remote-secret check works from istiod's own list of registered clusters
 * (/debug/clusterz) and the trust check from the distributed roots (configmap istio-ca-root-cert).
 * The first snapshot's pod is the --from proxy: its EDS comes from the snapshot's config dump, its
 * TLS errors from the snapshot's istio-proxy log.
 */
import { readSnapshot } from '../collect/archives.js';
import { readClusterFacts, readRootCa, scanProxyTlsErrors } from '../collect/multicluster.js';
import { openProxyAdmin } from '../collect/envoy-admin.js';
import { resolveContext } from '../collect/kubectl.js';
import { podFacts } from '../analyze/trace/pod-settings.js';
import type { CollectionGap, KubeObject } from '../model/cluster-view.js';
import { ConfigDump } from '../model/config-dump.js';
import { DataError } from '../model/errors.js';
import { outboundClusterPattern, proxyEndpoints, type ClusterFacts, type ProxyFacts, type RootSet, type ServiceFacts, type ServiceRef } from '../model/multicluster.js';
import type { CollectedMulticluster } from './multicluster.js';
import type { SnapshotCollector } from './snapshot-collectors.js';

export const CLUSTER_FILE = 'multicluster/cluster.json';
export const PROXY_ROOTS_FILE = 'multicluster/proxy-roots.json';
const SNAPSHOT_LOG_SINCE = '1h';

/** The snapshot collector: cluster facts without Secrets, and the pod's ROOTCA fingerprints. */
export const multiclusterCollector: SnapshotCollector = {
  verb: 'multicluster',
  collect: async ({ k, pod, controlPlaneNamespace }) => {
    const gaps: CollectionGap[] = [];
    const files: { file: string; name: string; text: string }[] = [];
    const context = await resolveContext(k).then(
      (c) => c.context,
      () => k.flags.context ?? '',
    );
    const facts = await readClusterFacts(k, context, { controlPlaneNamespace, since: SNAPSHOT_LOG_SINCE, secrets: false });
    files.push({ file: CLUSTER_FILE, name: 'multicluster: cluster facts (roots as fingerprints, no Secret read)', text: `${JSON.stringify(facts, null, 2)}\n` });
    // facts.gaps stay inside cluster.json: snapshot gaps become findings of every offline verb
    const f = podFacts(pod);
    if (f.sidecar !== 'none' && f.phase === 'Running') {
      let roots: RootSet | { error: string };
      try {
        const opened = await openProxyAdmin(k, { namespace: f.namespace, name: f.name, container: 'istio-proxy' });
        try {
          roots = (await readRootCa(opened.admin)) ?? { error: 'the proxy has no ROOTCA secret in its configuration' };
        } finally {
          await opened.admin.close();
        }
      } catch (e) {
        roots = { error: e instanceof Error ? e.message : String(e) };
      }
      files.push({ file: PROXY_ROOTS_FILE, name: 'multicluster: proxy ROOTCA fingerprints', text: `${JSON.stringify(roots, null, 2)}\n` });
    }
    return { files, gaps };
  },
};

function serviceFromList(context: string, ref: ServiceRef, services: readonly KubeObject[] | undefined): ServiceFacts {
  const gaps: CollectionGap[] = [{ what: `list endpointslices of ${ref.namespace}/${ref.name}`, reason: 'not-found', detail: 'snapshots do not store EndpointSlices: ready pods are unknown offline' }];
  if (!services) return { context, gaps: [{ what: 'list services (all namespaces)', reason: 'not-found', detail: 'the snapshot has no services list' }, ...gaps] };
  const s = services.find((x) => x.metadata?.namespace === ref.namespace && x.metadata?.name === ref.name);
  if (!s) return { context, present: false, gaps };
  const spec = (s.spec ?? {}) as { type?: string; clusterIP?: string; ports?: { name?: string; port?: number; protocol?: string; targetPort?: number | string; appProtocol?: string }[] };
  const exportTo = s.metadata?.annotations?.['networking.istio.io/exportTo'];
  return {
    context,
    present: true,
    type: spec.type ?? 'ClusterIP',
    headless: spec.clusterIP === 'None',
    ports: (spec.ports ?? []).map((p) => ({ ...(p.name ? { name: p.name } : {}), port: p.port ?? 0, protocol: p.protocol ?? 'TCP', ...(p.targetPort !== undefined ? { targetPort: String(p.targetPort) } : {}), ...(p.appProtocol ? { appProtocol: p.appProtocol } : {}) })),
    ...(exportTo ? { exportTo: exportTo.split(',').map((x) => x.trim()).filter(Boolean) } : {}),
    gaps,
  };
}

export async function readMulticlusterSnapshots(files: readonly string[], service: ServiceRef | undefined): Promise<CollectedMulticluster> {
  const clusters: ClusterFacts[] = [];
  const services: ServiceFacts[] = [];
  let proxy: ProxyFacts | undefined;
  let proxyError: string | undefined;
  for (const [i, file] of files.entries()) {
    const contents = await readSnapshot(file);
    try {
      const context = contents.manifest?.context ?? file;
      if (clusters.some((c) => c.context === context)) throw new DataError(file, `is from context ${context}, like an earlier --snapshot: give one snapshot per cluster`);
      const text = contents.readText(CLUSTER_FILE);
      let facts: ClusterFacts;
      if (text === undefined) {
        facts = { context, controlPlaneNamespace: 'istio-system', logSince: SNAPSHOT_LOG_SINCE, readable: false, error: `the snapshot ${file} has no ${CLUSTER_FILE} (taken by a version without the multicluster collector): take it again`, gaps: [] };
      } else {
        try {
          facts = JSON.parse(text) as ClusterFacts;
        } catch {
          throw new DataError(file, `${CLUSTER_FILE} is not valid JSON`);
        }
      }
      clusters.push(facts);
      if (service) services.push(facts.readable ? serviceFromList(context, service, contents.view.lists.services) : { context, gaps: [] });
      if (i !== 0) continue;
      // the first snapshot's pod is the proxy looked through
      const pod = contents.view.pod;
      if (!pod || contents.docs.length === 0) {
        proxyError = `the first snapshot (${file}) has no proxy configuration`;
        continue;
      }
      const f = podFacts(pod);
      const proxyC = [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])].find((c) => c.name === 'istio-proxy');
      const env = (n: string): string | undefined => proxyC?.env?.find((e) => e.name === n)?.value;
      const rootsText = contents.readText(PROXY_ROOTS_FILE);
      const roots = rootsText ? (JSON.parse(rootsText) as RootSet | { error: string }) : { error: 'the snapshot has no proxy ROOTCA fingerprints' };
      let clustersEds: ProxyFacts['clusters'];
      let edsError: string | undefined;
      if (service) {
        const dump = new ConfigDump(contents.docs);
        if (!dump.present.endpoints) edsError = 'the snapshot\'s config dump has no endpoints (EDS)';
        else {
          const re = outboundClusterPattern(service);
          clustersEds = [...dump.clusterNames()]
            .map((name) => ({ name, m: re.exec(name) }))
            .filter((x) => x.m)
            .map((x) => ({ name: x.name, port: Number(x.m![1]), endpoints: proxyEndpoints(dump.endpoints(x.name) ?? {}) }))
            .sort((a, b) => a.port - b.port);
        }
      }
      const tlsErrors = contents.proxyLog !== undefined ? scanProxyTlsErrors(contents.proxyLog) : undefined;
      proxy = {
        context,
        pod: `${f.namespace}/${f.name}`,
        namespace: f.namespace,
        ...(env('ISTIO_META_CLUSTER_ID') ? { clusterId: env('ISTIO_META_CLUSTER_ID')! } : {}),
        ...(env('ISTIO_META_NETWORK') ? { network: env('ISTIO_META_NETWORK')! } : {}),
        via: 'snapshot',
        ...('error' in roots ? { rootError: roots.error } : { roots }),
        ...(clustersEds ? { clusters: clustersEds } : {}),
        ...(edsError ? { edsError } : {}),
        ...(tlsErrors ? { tlsErrors } : { logError: 'the snapshot has no istio-proxy log' }),
        logSince: 'the snapshot\'s log',
      };
    } finally {
      contents.dispose();
    }
  }
  return { clusters, ...(service ? { services } : {}), ...(proxy ? { proxy } : {}), ...(proxyError ? { proxyError } : {}) };
}
