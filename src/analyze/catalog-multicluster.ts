/**
 * Finding codes of `multicluster`: trust, remote secrets, topology, endpoints across clusters. Codes MEG090–MEG099.
 * Codes are forever (see catalog.ts).
 */
import { entry } from './catalog-entry.js';

export const multiclusterCodes = {
  ClusterNotRead: entry<{ context: string; what: string; consequence: string }>({
    code: 'MEG090',
    severity: 'error',
    title: 'A cluster of the mesh could not be read (or only in part)',
    description:
      'One of the contexts could not be reached, authenticated, or read where a check needs it (RBAC, missing control plane). The checks that need it are reported as skipped, never as healthy; the other clusters are still answered.',
    message: (p) => `Cluster ${p.context}: ${p.what}; ${p.consequence}.`,
  }),
  TrustRootMismatch: entry<{ subject: string; detail: string }>({
    code: 'MEG091',
    severity: 'error',
    title: 'The clusters do not share a root of trust',
    description:
      'Cross-cluster mTLS needs every proxy to trust the root that signed the other cluster\'s workload certificates. Without a plugged-in CA (secret cacerts with the same root-cert.pem in every cluster) each istiod signs with its own self-signed root, and handshakes between clusters fail certificate verification.',
    message: (p) => `${p.subject}: ${p.detail}`,
  }),
  RemoteSecretMissing: entry<{ reader: string; remote: string; remoteId: string; namespace: string }>({
    code: 'MEG092',
    severity: 'error',
    title: 'istiod has no remote secret for another cluster',
    description:
      'istiod discovers another cluster\'s Services and endpoints only through a Secret labelled istio/multiCluster=true in its namespace whose data key is that cluster\'s ID. Without it the proxies of this cluster only ever see local endpoints (seed 004: cross-cluster load balancing does not work).',
    message: (p) =>
      `istiod in ${p.reader} has no remote secret for cluster ${p.remote} (CLUSTER_ID ${p.remoteId}): no Secret in ${p.namespace} labelled istio/multiCluster=true has a data key "${p.remoteId}", so ${p.reader} never sees ${p.remote}'s endpoints.`,
  }),
  RemoteSecretInvalid: entry<{ reader: string; secret: string; key: string; problem: string }>({
    code: 'MEG093',
    severity: 'error',
    title: 'A remote secret is unusable or points at the wrong cluster',
    description:
      'A remote secret\'s data key must equal the remote cluster\'s CLUSTER_ID and its kubeconfig must be loadable by istiod: a server on a loopback address, an exec or token-file credential (refused unless PILOT_INSECURE_MULTICLUSTER_KUBECONFIG_OPTIONS allows it), or a key naming the local or an unknown cluster each leave the remote cluster undiscovered or registered under the wrong ID.',
    message: (p) => `Remote secret ${p.secret} in ${p.reader} (key "${p.key}"): ${p.problem}`,
  }),
  RemoteClusterNotSynced: entry<{ reader: string; detail: string }>({
    code: 'MEG094',
    severity: 'error',
    title: 'istiod reports errors reading a remote cluster',
    description:
      'istiod has the remote secret but could not build a client from it or could not sync the remote cluster (its /debug/clusterz status, as istioctl remote-clusters shows it, or its log: "create remote cluster failed", "Failed to add remote cluster from secret", "remote cluster … failed to sync"). Usually the remote API server is unreachable from istiod, the token has expired, or RBAC in the remote cluster forbids it.',
    message: (p) => `istiod in ${p.reader}: ${p.detail}`,
  }),
  ClusterIdConflict: entry<{ detail: string }>({
    code: 'MEG095',
    severity: 'error',
    title: 'Cluster IDs are not distinct or not consistent',
    description:
      'Every cluster of a multicluster mesh needs its own CLUSTER_ID (Helm global.multiCluster.clusterName; default "Kubernetes"), and the proxies\' ISTIO_META_CLUSTER_ID must equal their istiod\'s. Two clusters with the same ID make istiod ignore the other\'s remote secret and mix up endpoints.',
    message: (p) => p.detail,
  }),
  NetworkGatewayMissing: entry<{ network: string; detail: string }>({
    code: 'MEG096',
    severity: 'error',
    title: 'A network of the mesh has no usable east-west gateway',
    description:
      'When clusters are on different networks (topology.istio.io/network on the control-plane namespace, meshNetworks), istiod replaces endpoints of another network by that network\'s east-west gateway (a Service labelled topology.istio.io/network with port 15443 and an external address, plus a Gateway with an AUTO_PASSTHROUGH TLS server on 15443). Without one, proxies get no usable endpoints for the other network, or unreachable pod IPs.',
    message: (p) => `Network ${p.network}: ${p.detail}`,
  }),
  RemoteEndpointsMissing: entry<{ service: string; cluster: string; pods: number; cause: string }>({
    code: 'MEG097',
    severity: 'error',
    title: 'The proxy has no endpoints in a cluster that runs the service',
    description:
      'The chosen proxy\'s outbound cluster for the service lists no endpoint from a cluster whose pods back the service (neither the pod IPs nor that network\'s east-west gateway), so requests stay in the other clusters (seed 004: "only local instances answer"). The message names the most likely cause found in the collected data.',
    message: (p) => `${p.service}: the proxy has no endpoint in cluster ${p.cluster}, which has ${p.pods} ready pod${p.pods === 1 ? '' : 's'}. Likely cause: ${p.cause}`,
  }),
  ServiceInconsistent: entry<{ service: string; clusters: string; differences: string }>({
    code: 'MEG098',
    severity: 'warning',
    title: 'The service differs between clusters',
    description:
      'Istio merges a Service of the same name and namespace from every cluster into one host (istioctl analyze IST0170 MultiClusterInconsistentService): different types, ports, or a headless Service in one cluster and a ClusterIP in another give undefined behaviour.',
    message: (p) => `${p.service} is inconsistent across clusters ${p.clusters}: ${p.differences}.`,
  }),
  ProxyTlsError: entry<{ pod: string; reason: string; count: number; meaning: string }>({
    code: 'MEG099',
    severity: 'error',
    title: 'The proxy logs TLS failures to upstream endpoints',
    description:
      'The proxy\'s log carries BoringSSL handshake errors ("transport failure reason: TLS error: …"). HTTP_REQUEST (268435612, seed 004) is raised only by a TLS server whose peer sent plaintext HTTP (BoringSSL ssl/s3_both.cc tls_open_handshake): a hop on the cross-cluster path spoke plaintext to a TLS port, typically a firewall or proxy between the clusters or a port that is not the east-west gateway\'s 15443. CERTIFICATE_VERIFY_FAILED means the peer\'s certificate does not chain to a trusted root.',
    message: (p) => `${p.pod} logged "${p.reason}" ${p.count} time${p.count === 1 ? '' : 's'}: ${p.meaning}`,
  }),
} as const;
