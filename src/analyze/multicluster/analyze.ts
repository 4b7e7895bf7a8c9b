/**
 * `multicluster`: why cross-cluster traffic stays local or fails TLS (seed 004). Pure: facts about each
 * cluster (and the --from proxy) in, one row per check × cluster (or reader → remote pair) and findings
 * out. A check whose input is missing is `skipped`, never `ok`.
 *
 * Sources of the rules (Istio): pkg/kube/multicluster/secretcontroller.go (remote secrets),
 * pkg/kube/util.go sanitizeKubeConfig (kubeconfig options), pilot/pkg/xds/debug.go clusterz and
 * istioctl/pkg/proxyconfig/clusters.go (remote-clusters), pilot/pkg/serviceregistry/kube/controller/
 * network.go (networks and gateways), pilot/pkg/xds/endpoints/ep_filters.go EndpointsByNetworkFilter
 * (remote-network endpoints become the gateway), pilot/pkg/networking/util/util.go
 * AppendLbEndpointMetadata (endpoint cluster ID), pkg/config/analysis/analyzers/multicluster/service.go
 * (IST0170), pilot/pkg/bootstrap/istio_ca.go (cacerts).
 */
import { catalog, newFinding, type CatalogName } from '../catalog.js';
import { sortFindings, type Finding, type Fix } from '../finding.js';
import { shortFingerprint } from '../../model/certs.js';
import type { ClusterFacts, ProxyFacts, ServiceFacts, ServiceRef, TlsErrorSummary } from '../../model/multicluster.js';
import { REMOTE_SECRET_PREFIX } from '../../model/remote-secret.js';
import { clusterIdentity, discovered, gatewayUsable, hasIstiod, intersects, networkOf, sameSet, signingRoot, type Identity, type NetworkOf, type SigningRoot } from './topology.js';

export type CheckStatus = 'ok' | 'error' | 'warning' | 'info' | 'skipped';

export interface CheckRow {
  readonly check: string;
  /** the cluster (context) the row is about; for a pair, the reader */
  readonly cluster: string;
  /** for reader → remote rows, the remote */
  readonly peer?: string;
  readonly status: CheckStatus;
  readonly detail: string;
}

export interface MulticlusterInput {
  readonly clusters: readonly ClusterFacts[];
  readonly service?: ServiceRef;
  /** SERVICE in each cluster, in the order of `clusters` */
  readonly services?: readonly ServiceFacts[];
  readonly proxy?: ProxyFacts;
  /** why the --from proxy could not be read at all */
  readonly proxyError?: string;
  /** the context the --from pod was looked up in */
  readonly fromContext?: string;
}

export interface ClusterSummary {
  readonly context: string;
  readonly readable: boolean;
  readonly clusterId?: Identity;
  readonly network?: NetworkOf;
  readonly root?: { readonly kind: SigningRoot['kind']; readonly source: string; readonly fingerprints: readonly string[] };
}

export interface MulticlusterReport {
  readonly rows: readonly CheckRow[];
  readonly findings: readonly Finding[];
  readonly clusters: readonly ClusterSummary[];
  /** one sentence */
  readonly verdict: string;
}

const CHECK_ORDER = ['cluster', 'cluster-id', 'trust', 'remote-secret', 'control-plane', 'network', 'service', 'endpoints', 'proxy-trust', 'proxy-log'];

const SYNC_PROBLEMS = new Set(['timeout', 'closed']);
const LOG_ERROR_KINDS = new Set(['create-failed', 'legacy-add-failed', 'add-failed', 'sync-timeout']);

const TLS_MEANINGS: Readonly<Record<string, string>> = {
  HTTP_REQUEST:
    'BoringSSL reports HTTP_REQUEST only on the accepting side of a TLS handshake whose first bytes were a plaintext HTTP request (ssl/s3_both.cc, tls_open_handshake: "GET ", "POST ", "HEAD ", "PUT "). Somewhere on the cross-cluster path a hop sent plaintext HTTP to a TLS port: typically a firewall, NAT or HTTP proxy between the clusters that answers or rewrites the connection, or traffic aimed at a port other than the east-west gateway\'s TLS port 15443. Rule out connectivity first, as seed 004 says: call the remote pod\'s IP from a pod without a sidecar.',
  CERTIFICATE_VERIFY_FAILED:
    'the peer\'s certificate does not chain to a root this proxy trusts: the clusters do not share a root of trust (plug in a common CA), or the proxy still has an old root.',
  WRONG_VERSION_NUMBER:
    'the proxy started TLS and the other side answered with something that is not TLS (a plaintext server or a middlebox on the path): mTLS to a port that does not terminate Istio mTLS.',
};

function tlsMeaning(t: TlsErrorSummary): string {
  return TLS_MEANINGS[t.reason] ?? `a TLS handshake with an upstream endpoint failed (${t.reason}); see the sample line.`;
}

interface Ctx {
  readonly input: MulticlusterInput;
  readonly rows: CheckRow[];
  readonly findings: Finding[];
  readonly ids: Map<string, Identity | undefined>;
  readonly networks: Map<string, NetworkOf>;
  readonly roots: Map<string, SigningRoot | undefined>;
  readonly readable: readonly ClusterFacts[];
  /** "reader→remote" pairs whose secret exists under another key */
  readonly misKeyed: Set<string>;
}

function row(ctx: Ctx, r: CheckRow): void {
  ctx.rows.push(r);
}

function idOf(ctx: Ctx, c: ClusterFacts): string | undefined {
  return ctx.ids.get(c.context)?.id;
}

function listNames(xs: readonly string[]): string {
  return xs.length <= 1 ? (xs[0] ?? '') : `${xs.slice(0, -1).join(', ')} and ${xs.at(-1)}`;
}

// ---- cluster, cluster-id -------------------------------------------------------------------------

function checkClusters(ctx: Ctx): void {
  for (const c of ctx.input.clusters) {
    if (!c.readable) {
      row(ctx, { check: 'cluster', cluster: c.context, status: 'error', detail: `not readable: ${c.error ?? 'unknown error'}` });
      ctx.findings.push(
        newFinding('ClusterNotRead', { context: c.context, what: `not readable (${c.error ?? 'unknown error'})`, consequence: 'every check that needs it is skipped; the other clusters are still checked' }, {
          subject: { kind: 'Context', name: c.context },
          fixes: [{ rank: 1, title: 'Check that kubectl can use the context', tradeoffs: 'none: read-only', kind: 'command', content: `kubectl --context ${c.context} get namespace ${c.controlPlaneNamespace}` }],
        }),
      );
      continue;
    }
    if (c.error) {
      row(ctx, { check: 'cluster', cluster: c.context, status: 'error', detail: c.error });
      ctx.findings.push(newFinding('ClusterNotRead', { context: c.context, what: c.error, consequence: 'its control plane checks are skipped' }, { subject: { kind: 'Context', name: c.context } }));
      continue;
    }
    const pods = c.istiod;
    const running = (pods ?? []).filter((p) => p.running);
    const version = running[0]?.version;
    const istiod = pods === undefined ? 'istiod pods not readable' : running.length > 0 ? `istiod ${version ?? ''}${running[0]?.revision && running[0].revision !== 'default' ? ` rev ${running[0].revision}` : ''} (${running.length} running)`.replace('istiod  (', 'istiod (') : 'no running istiod: a remote cluster (a primary\'s istiod reads it)';
    row(ctx, { check: 'cluster', cluster: c.context, status: c.gaps.length ? 'warning' : 'ok', detail: `${c.server ?? ''} · ${istiod}${c.gaps.length ? ` · ${c.gaps.length} read(s) failed` : ''}`.replace(/^ · /, '') });
    if (c.gaps.length) {
      ctx.findings.push(
        newFinding(
          'ClusterNotRead',
          { context: c.context, what: `could not ${listNames(c.gaps.map((g) => `${g.what} (${g.reason})`))}`, consequence: 'the checks that need these reads are skipped' },
          { severity: 'warning', subject: { kind: 'Context', name: c.context }, evidence: c.gaps.map((g) => `${g.what}: ${g.detail}`) },
        ),
      );
    }
  }
}

function checkClusterIds(ctx: Ctx): void {
  const byId = new Map<string, string[]>();
  for (const c of ctx.readable) {
    const id = ctx.ids.get(c.context);
    if (id) byId.set(id.id, [...(byId.get(id.id) ?? []), c.context]);
  }
  for (const c of ctx.readable) {
    const id = ctx.ids.get(c.context);
    if (!id) {
      row(ctx, { check: 'cluster-id', cluster: c.context, status: 'skipped', detail: 'no istiod and no injector values to read the cluster ID from' });
      continue;
    }
    const same = byId.get(id.id) ?? [];
    const proxiesGet = c.injector?.clusterName;
    if (same.length > 1) {
      row(ctx, { check: 'cluster-id', cluster: c.context, status: 'error', detail: `${id.id} (${id.source}): also the ID of ${same.filter((x) => x !== c.context).join(', ')}` });
    } else if (hasIstiod(c) && proxiesGet && proxiesGet !== id.id) {
      row(ctx, { check: 'cluster-id', cluster: c.context, status: 'warning', detail: `istiod runs as ${id.id}, proxies are injected with ISTIO_META_CLUSTER_ID ${proxiesGet}` });
      ctx.findings.push(
        newFinding('ClusterIdConflict', { detail: `In ${c.context}, istiod runs with CLUSTER_ID ${id.id} but the injector gives proxies ISTIO_META_CLUSTER_ID ${proxiesGet}: proxies then ask for another cluster's view (locality and network settings keyed by cluster do not apply).` }, {
          severity: 'warning',
          subject: { kind: 'Context', name: c.context },
          evidence: [id.source, 'istio-sidecar-injector values global.multiCluster.clusterName'],
        }),
      );
    } else {
      row(ctx, { check: 'cluster-id', cluster: c.context, status: 'ok', detail: `${id.id} (${id.source})` });
    }
  }
  for (const [id, contexts] of byId) {
    if (contexts.length < 2) continue;
    ctx.findings.push(
      newFinding(
        'ClusterIdConflict',
        { detail: `Clusters ${listNames(contexts)} ${contexts.length === 2 ? 'both' : 'all'} run with CLUSTER_ID ${id}${id === 'Kubernetes' ? ' (the default: global.multiCluster.clusterName was not set)' : ''}: istiod ignores a remote secret whose key equals its own ID, so these clusters never discover each other.` },
        {
          subject: { kind: 'ClusterID', name: id },
          evidence: contexts.map((x) => `${x}: ${ctx.ids.get(x)?.source}`),
          fixes: [
            {
              rank: 1,
              title: 'Give every cluster its own name at install time',
              tradeoffs: 'changing a cluster ID restarts istiod; remote secrets must be re-created with the new names and proxies restarted to pick it up',
              kind: 'command',
              content: contexts.map((x) => `istioctl install --context ${x} --set values.global.multiCluster.clusterName=${x} --set values.global.meshID=mesh1`).join('\n'),
            },
          ],
        },
      ),
    );
  }
}

// ---- trust ---------------------------------------------------------------------------------------

function rootLabel(r: SigningRoot): string {
  const fp = r.roots.fingerprints.map(shortFingerprint).join(', ');
  const kind = r.kind === 'plugged-in' ? 'plugged-in CA (cacerts)' : r.kind === 'self-signed' ? 'no cacerts: istiod\'s self-signed root' : 'cacerts not readable: the root istiod distributes';
  return `${kind}, root SHA256 ${fp}${r.roots.fingerprints.length > 1 ? ` (${r.roots.fingerprints.length} roots)` : ''}`;
}

const PLUGIN_CA_FIX: Fix = {
  rank: 1,
  title: 'Plug in intermediate CAs signed by one common root in every cluster (istio.io: Plug in CA Certificates)',
  tradeoffs: 'istiod and then every workload must restart to get certificates from the new chain; during the change, cross-cluster mTLS keeps failing until both sides have rotated',
  kind: 'command',
  content: [
    '# per cluster, with certs made from ONE root (tools/certs/Makefile.selfsigned.mk: make -f ... <cluster>-cacerts)',
    'kubectl --context CTX create secret generic cacerts -n istio-system \\',
    '  --from-file=<cluster>/ca-cert.pem --from-file=<cluster>/ca-key.pem \\',
    '  --from-file=<cluster>/root-cert.pem --from-file=<cluster>/cert-chain.pem',
    'kubectl --context CTX rollout restart deployment/istiod -n istio-system',
  ].join('\n'),
};

function checkTrust(ctx: Ctx): void {
  const withRoots = ctx.readable.filter((c) => ctx.roots.get(c.context));
  for (const c of ctx.readable) {
    const r = ctx.roots.get(c.context);
    if (!r) {
      row(ctx, { check: 'trust', cluster: c.context, status: 'skipped', detail: c.cacerts === undefined && c.distributedRoots === undefined ? 'neither secret cacerts nor configmap istio-ca-root-cert could be read' : 'no root certificate found (no cacerts, no istio-ca-root-cert)' });
      continue;
    }
    const others = withRoots.filter((o) => o !== c);
    const disjoint = others.filter((o) => !intersects(r.roots.fingerprints, ctx.roots.get(o.context)!.roots.fingerprints));
    const partial = others.filter((o) => !disjoint.includes(o) && !sameSet(r.roots.fingerprints, ctx.roots.get(o.context)!.roots.fingerprints));
    const status = disjoint.length ? 'error' : partial.length ? 'warning' : 'ok';
    const first = withRoots.find((o) => sameSet(r.roots.fingerprints, ctx.roots.get(o.context)!.roots.fingerprints));
    const label = first && first !== c && !disjoint.length && !partial.length ? `${r.kind === 'plugged-in' ? 'plugged-in CA (cacerts)' : r.kind}, same root as ${first.context}` : rootLabel(r);
    row(ctx, { check: 'trust', cluster: c.context, status, detail: `${label}${disjoint.length ? `; shares no root with ${disjoint.map((o) => o.context).join(', ')}` : ''}${partial.length ? `; only partly the same roots as ${partial.map((o) => o.context).join(', ')}` : ''}` });
    // cacerts plugged in but istiod still hands out another root: it was not restarted
    if (c.cacerts && c.cacerts.fingerprints.length && c.distributedRoots && c.distributedRoots.fingerprints.length && !intersects(c.cacerts.fingerprints, c.distributedRoots.fingerprints)) {
      ctx.findings.push(
        newFinding('TrustRootMismatch', { subject: `Cluster ${c.context}`, detail: `secret cacerts holds root ${shortFingerprint(c.cacerts.fingerprints[0]!)} but istiod still distributes root ${shortFingerprint(c.distributedRoots.fingerprints[0]!)} (configmap istio-ca-root-cert): istiod has not loaded the plugged-in CA; restart it, then the workloads.` }, {
          severity: 'warning',
          subject: { kind: 'Context', name: c.context },
          evidence: [`${c.cacerts.source}: ${c.cacerts.fingerprints.join(', ')}`, `${c.distributedRoots.source}: ${c.distributedRoots.fingerprints.join(', ')}`],
          fixes: [{ rank: 1, title: 'Restart istiod so it loads cacerts, then restart workloads', tradeoffs: 'workloads keep their old certificates until restarted or rotated (24h by default)', kind: 'command', content: `kubectl --context ${c.context} rollout restart deployment -n ${c.controlPlaneNamespace} -l app=istiod` }],
        }),
      );
    }
  }
  // one finding per pair without a common root
  for (let i = 0; i < withRoots.length; i++) {
    for (let j = i + 1; j < withRoots.length; j++) {
      const a = withRoots[i]!;
      const b = withRoots[j]!;
      const ra = ctx.roots.get(a.context)!;
      const rb = ctx.roots.get(b.context)!;
      if (intersects(ra.roots.fingerprints, rb.roots.fingerprints)) continue;
      const why =
        ra.kind === 'self-signed' || rb.kind === 'self-signed'
          ? `${[a, b].filter((x) => ctx.roots.get(x.context)!.kind === 'self-signed').map((x) => x.context).join(' and ')} ha${[a, b].filter((x) => ctx.roots.get(x.context)!.kind === 'self-signed').length > 1 ? 've' : 's'} no cacerts secret, so istiod signs with its own self-signed root`
          : 'their cacerts secrets hold different root certificates';
      ctx.findings.push(
        newFinding('TrustRootMismatch', { subject: `Clusters ${a.context} and ${b.context}`, detail: `no common root of trust (${shortFingerprint(ra.roots.fingerprints[0]!)} vs ${shortFingerprint(rb.roots.fingerprints[0]!)}): ${why}. mTLS between their workloads fails certificate verification.` }, {
          subject: { kind: 'ContextPair', name: `${a.context},${b.context}` },
          evidence: [`${a.context}: ${ra.roots.source} SHA256 ${ra.roots.fingerprints.join(', ')}`, `${b.context}: ${rb.roots.source} SHA256 ${rb.roots.fingerprints.join(', ')}`],
          fixes: [PLUGIN_CA_FIX],
        }),
      );
    }
  }
}

// ---- remote secrets ------------------------------------------------------------------------------

function hostOf(server: string | undefined): string | undefined {
  if (!server) return undefined;
  try {
    return new URL(server).host;
  } catch {
    return undefined;
  }
}

function createSecretFix(reader: ClusterFacts, remote: ClusterFacts, remoteId: string, rank = 1, verb = 'Create'): Fix {
  return {
    rank,
    title: `${verb} the remote secret for ${remote.context} in ${reader.context}`,
    tradeoffs: `the secret holds a token of ${remote.context}'s istio-reader service account: istiod in ${reader.context} can then read ${remote.context}'s Services, endpoints and Pods; the server address must be reachable from istiod's pod`,
    kind: 'command',
    content: `istioctl create-remote-secret --context=${remote.context} --name=${remoteId} | kubectl apply -f - --context=${reader.context}`,
  };
}

function checkRemoteSecrets(ctx: Ctx): void {
  for (const reader of ctx.readable) {
    if (reader.error) continue;
    const remotes = ctx.readable.filter((r) => r !== reader);
    if (!hasIstiod(reader)) {
      for (const remote of remotes) row(ctx, { check: 'remote-secret', cluster: reader.context, peer: remote.context, status: 'skipped', detail: `no running istiod in ${reader.context}: it needs no remote secrets (its primary reads it)` });
      continue;
    }
    // PILOT_MULTICLUSTER_KUBECONFIG_PATH: istiod takes remote kubeconfigs from files and never looks at
    // Secrets (secretcontroller.go NewController), so only its own list of clusters says what it has
    const fileSource = reader.istiod?.find((p) => p.running)?.remoteKubeconfigPath;
    if (!reader.remoteSecrets || fileSource !== undefined) {
      const why =
        fileSource !== undefined
          ? `istiod reads remote kubeconfigs from files in ${fileSource} (PILOT_MULTICLUSTER_KUBECONFIG_PATH), not from Secrets`
          : (reader.secretsNotRead ?? `remote secrets in ${reader.controlPlaneNamespace} could not be listed`);
      for (const remote of remotes) {
        const remoteId = idOf(ctx, remote);
        // istiod's own list of the clusters it registered from remote secrets stands in for the secrets
        const z = remoteId !== undefined ? reader.clusterz?.find((x) => x.id === remoteId && x.secretName !== '') : undefined;
        if (!reader.clusterz || remoteId === undefined) {
          row(ctx, { check: 'remote-secret', cluster: reader.context, peer: remote.context, status: 'skipped', detail: `${why}, and istiod's /debug/clusterz was not read` });
        } else if (z) {
          row(ctx, { check: 'remote-secret', cluster: reader.context, peer: remote.context, status: 'ok', detail: `istiod registered ${remoteId} from ${fileSource !== undefined ? 'kubeconfig' : 'secret'} ${z.secretName} (${why}: contents not checked)` });
        } else if (fileSource !== undefined) {
          row(ctx, { check: 'remote-secret', cluster: reader.context, peer: remote.context, status: 'error', detail: `istiod has registered no cluster ${remoteId} (/debug/clusterz; ${why})` });
          // the file source names a cluster by its kubeconfig's current context's cluster (kubeconfig_files.go clusterIDFromKubeconfig)
          ctx.findings.push(
            newFinding('RemoteClusterNotSynced', { reader: reader.context, detail: `it has registered no cluster ${remoteId} (${remote.context}): it reads remote kubeconfigs from files in ${fileSource} (PILOT_MULTICLUSTER_KUBECONFIG_PATH) and ignores remote Secrets, and no file there names cluster ${remoteId} (the cluster of a kubeconfig's current context is its cluster ID).` }, {
              subject: { kind: 'Context', name: reader.context },
              evidence: [`istiod's /debug/clusterz lists: ${reader.clusterz.map((x) => `${x.id}${x.secretName ? ` (${x.secretName})` : ' (config cluster)'}`).join(', ')}`],
              fixes: [{ rank: 1, title: `Add a kubeconfig for ${remote.context} to ${fileSource}, its current context's cluster named ${remoteId}`, tradeoffs: `istiod in ${reader.context} then reads ${remote.context}'s Services, endpoints and Pods with those credentials`, kind: 'text', content: `The file must be mounted into istiod's pod in ${reader.context} under ${fileSource}; istioctl create-remote-secret --context=${remote.context} --name=${remoteId} prints a suitable kubeconfig in its data.` }],
            }),
          );
        } else {
          row(ctx, { check: 'remote-secret', cluster: reader.context, peer: remote.context, status: 'error', detail: `istiod has registered no cluster ${remoteId} (/debug/clusterz; ${why})` });
          ctx.findings.push(
            newFinding('RemoteSecretMissing', { reader: reader.context, remote: remote.context, remoteId, namespace: reader.controlPlaneNamespace }, {
              subject: { kind: 'Context', name: reader.context },
              evidence: [`${why}; istiod's /debug/clusterz lists: ${reader.clusterz.map((x) => `${x.id}${x.secretName ? ` (${x.secretName})` : ' (config cluster)'}`).join(', ')}`],
              fixes: [createSecretFix(reader, remote, remoteId)],
            }),
          );
        }
      }
      continue;
    }
    const readerId = idOf(ctx, reader);
    const allowed = new Set(reader.istiod?.find((p) => p.running)?.insecureKubeconfigOptions ?? []);
    const entries = reader.remoteSecrets;
    const accounted = new Set<number>();
    const knownIds = new Set(ctx.readable.map((c) => idOf(ctx, c)).filter((x): x is string => x !== undefined));
    // secrets meant for a remote but keyed with a name that is no cluster's ID: matched by annotation,
    // secret name or server address; failing those, one unknown key and one unserved remote pair up
    const wrongFor = new Map<string, { idx: number; how: string }>();
    const unserved = remotes.filter((r) => {
      const id = idOf(ctx, r);
      return id !== undefined && id !== readerId && !entries.some((e) => e.key === id);
    });
    const unknown = entries.map((_, i) => i).filter((i) => !knownIds.has(entries[i]!.key));
    for (const remote of unserved) {
      const remoteId = idOf(ctx, remote)!;
      const remoteHost = hostOf(remote.server);
      const i = unknown.find((j) => {
        const e = entries[j]!;
        return ![...wrongFor.values()].some((w) => w.idx === j) && (e.annotatedCluster === remote.context || e.annotatedCluster === remoteId || e.secret.endsWith(`/${REMOTE_SECRET_PREFIX}${remote.context}`) || e.secret.endsWith(`/${REMOTE_SECRET_PREFIX}${remoteId}`) || (remoteHost !== undefined && hostOf(e.kubeconfig.server) === remoteHost));
      });
      if (i !== undefined) wrongFor.set(remote.context, { idx: i, how: 'it names that cluster' });
    }
    const leftRemotes = unserved.filter((r) => !wrongFor.has(r.context));
    const leftKeys = unknown.filter((j) => ![...wrongFor.values()].some((w) => w.idx === j));
    if (leftRemotes.length === 1 && leftKeys.length === 1) wrongFor.set(leftRemotes[0]!.context, { idx: leftKeys[0]!, how: `it is the only secret whose key names no given cluster, and ${leftRemotes[0]!.context} is the only cluster without one` });
    for (const remote of remotes) {
      const remoteId = idOf(ctx, remote);
      if (!remoteId) {
        row(ctx, { check: 'remote-secret', cluster: reader.context, peer: remote.context, status: 'skipped', detail: `the cluster ID of ${remote.context} is unknown` });
        continue;
      }
      if (remoteId === readerId) {
        row(ctx, { check: 'remote-secret', cluster: reader.context, peer: remote.context, status: 'error', detail: `${remote.context} has the same CLUSTER_ID (${remoteId}) as ${reader.context}: istiod ignores any secret for it` });
        entries.forEach((e, i) => e.key === remoteId && accounted.add(i));
        continue;
      }
      const idx = entries.findIndex((e) => e.key === remoteId);
      if (idx < 0) {
        const wrong = wrongFor.get(remote.context);
        if (wrong) {
          const wrongIdx = wrong.idx;
          const e = entries[wrongIdx]!;
          accounted.add(wrongIdx);
          ctx.misKeyed.add(`${reader.context}→${remote.context}`);
          row(ctx, { check: 'remote-secret', cluster: reader.context, peer: remote.context, status: 'error', detail: `${e.secret} has key "${e.key}", but ${remote.context} runs as CLUSTER_ID ${remoteId}` });
          ctx.findings.push(
            newFinding('RemoteSecretInvalid', { reader: reader.context, secret: e.secret, key: e.key, problem: `the data key must be the remote cluster's ID, and this secret is most likely for ${remote.context} (${wrong.how}), which runs with CLUSTER_ID ${remoteId}: istiod registers its endpoints as cluster "${e.key}", so meshNetworks fromRegistry, locality and cluster-scoped settings for ${remoteId} never apply to them.` }, {
              subject: { kind: 'Secret', name: e.secret.split('/')[1] ?? e.secret, namespace: reader.controlPlaneNamespace },
              evidence: [`data keys of ${e.secret}: ${entries.filter((x) => x.secret === e.secret).map((x) => x.key).join(', ')}`, `server ${e.kubeconfig.server ?? '(none)'}`, `${remote.context}: ${ctx.ids.get(remote.context)?.source} = ${remoteId}`, ...(e.annotatedCluster ? [`annotation networking.istio.io/cluster: ${e.annotatedCluster}`] : [])],
              fixes: [
                { ...createSecretFix(reader, remote, remoteId), title: `Re-create the secret with the cluster's ID as its name (${remoteId})` },
                { rank: 2, title: 'Delete the mis-keyed secret', tradeoffs: `until the new secret exists, ${reader.context} sees no endpoints of ${remote.context}`, kind: 'command', content: `kubectl delete secret ${e.secret.split('/')[1]} -n ${reader.controlPlaneNamespace} --context=${reader.context}` },
              ],
            }),
          );
          continue;
        }
        row(ctx, { check: 'remote-secret', cluster: reader.context, peer: remote.context, status: 'error', detail: `no secret labelled istio/multiCluster=true with key "${remoteId}"` });
        ctx.findings.push(
          newFinding('RemoteSecretMissing', { reader: reader.context, remote: remote.context, remoteId, namespace: reader.controlPlaneNamespace }, {
            subject: { kind: 'Context', name: reader.context },
            evidence: [`secrets labelled istio/multiCluster=true in ${reader.controlPlaneNamespace}: ${entries.length ? [...new Set(entries.map((e) => `${e.secret} (keys ${entries.filter((x) => x.secret === e.secret).map((x) => x.key).join(', ')})`))].join('; ') : 'none'}`],
            fixes: [createSecretFix(reader, remote, remoteId)],
          }),
        );
        continue;
      }
      accounted.add(idx);
      const e = entries[idx]!;
      const problems: string[] = [...e.kubeconfig.problems];
      if (e.kubeconfig.loopback) problems.push(`its server ${e.kubeconfig.server} is a loopback address: istiod would dial itself, not ${remote.context}'s API server (istioctl create-remote-secret --server)`);
      const refused = e.kubeconfig.insecureOptions.filter((o) => !allowed.has(o));
      if (refused.length) problems.push(`istiod refuses its ${refused.join(', ')} credential ("kubeconfig is not allowed: ${refused[0] === 'exec' || refused[0] === 'tokenFile' || refused[0] === 'clientKey' || refused[0] === 'clientCertificate' ? `${refused[0]} is not allowed` : `auth provider ${refused[0]} is not allowed`}") unless PILOT_INSECURE_MULTICLUSTER_KUBECONFIG_OPTIONS lists it`);
      const dup = entries.filter((x) => x.key === e.key).length > 1;
      const auth = e.kubeconfig.auth.join(', ');
      if (problems.length) {
        row(ctx, { check: 'remote-secret', cluster: reader.context, peer: remote.context, status: 'error', detail: `${e.secret} key "${e.key}" → ${e.kubeconfig.server ?? '(no server)'} (${auth}): ${problems[0]}` });
        ctx.findings.push(
          newFinding('RemoteSecretInvalid', { reader: reader.context, secret: e.secret, key: e.key, problem: problems.join('; ') }, {
            subject: { kind: 'Secret', name: e.secret.split('/')[1] ?? e.secret, namespace: reader.controlPlaneNamespace },
            evidence: [`server ${e.kubeconfig.server ?? '(none)'}, authentication: ${auth}`],
            fixes: [{ ...createSecretFix(reader, remote, remoteId), title: `Re-create the remote secret for ${remote.context} with a reachable server and a bearer token`, content: `istioctl create-remote-secret --context=${remote.context} --name=${remoteId} --server=https://<address of ${remote.context}'s API server reachable from ${reader.context}> | kubectl apply -f - --context=${reader.context}` }],
          }),
        );
      } else if (e.kubeconfig.auth.length === 1 && e.kubeconfig.auth[0] === 'none') {
        row(ctx, { check: 'remote-secret', cluster: reader.context, peer: remote.context, status: 'warning', detail: `${e.secret} key "${e.key}" → ${e.kubeconfig.server} has no credentials: istiod reads ${remote.context} anonymously` });
        ctx.findings.push(newFinding('RemoteSecretInvalid', { reader: reader.context, secret: e.secret, key: e.key, problem: `the kubeconfig has no credentials: ${remote.context}'s API server will most likely refuse istiod (401/403).` }, { severity: 'warning', subject: { kind: 'Secret', name: e.secret.split('/')[1] ?? e.secret, namespace: reader.controlPlaneNamespace }, fixes: [createSecretFix(reader, remote, remoteId)] }));
      } else {
        row(ctx, { check: 'remote-secret', cluster: reader.context, peer: remote.context, status: dup ? 'warning' : 'ok', detail: `${e.secret} key "${e.key}" → ${e.kubeconfig.server} (${auth})${dup ? `; key "${e.key}" is in more than one secret: istiod uses the first and logs "cluster has already been registered"` : ''}` });
      }
    }
    // secrets that name the reader itself, or no cluster given on the command line
    entries.forEach((e, i) => {
      if (accounted.has(i) || entries.findIndex((x) => x.key === e.key) !== i) return;
      if (readerId !== undefined && e.key === readerId) {
        row(ctx, { check: 'remote-secret', cluster: reader.context, peer: e.key, status: 'error', detail: `${e.secret} has key "${e.key}", ${reader.context}'s own CLUSTER_ID: istiod ignores it` });
        ctx.findings.push(
          newFinding('RemoteSecretInvalid', { reader: reader.context, secret: e.secret, key: e.key, problem: `the key is ${reader.context}'s own CLUSTER_ID; istiod ignores it ("ignoring cluster as it would overwrite the config cluster"). The secret was probably created from the wrong context or with the wrong --name.` }, {
            subject: { kind: 'Secret', name: e.secret.split('/')[1] ?? e.secret, namespace: reader.controlPlaneNamespace },
            evidence: [`server ${e.kubeconfig.server ?? '(none)'}`],
            fixes: [{ rank: 1, title: 'Delete it and create the secret from the remote cluster\'s context', tradeoffs: 'none for this secret: istiod already ignores it', kind: 'command', content: `kubectl delete secret ${e.secret.split('/')[1]} -n ${reader.controlPlaneNamespace} --context=${reader.context}\nistioctl create-remote-secret --context=<remote context> --name=<remote CLUSTER_ID> | kubectl apply -f - --context=${reader.context}` }],
          }),
        );
      } else {
        row(ctx, { check: 'remote-secret', cluster: reader.context, peer: e.key, status: 'info', detail: `${e.secret} key "${e.key}" → ${e.kubeconfig.server ?? '(no server)'}: not one of the clusters given with --context` });
      }
    });
  }
}

// ---- control plane -------------------------------------------------------------------------------

function checkControlPlane(ctx: Ctx): void {
  const ourIds = new Map(ctx.readable.map((c) => [idOf(ctx, c), c.context] as const));
  for (const reader of ctx.readable) {
    if (reader.error || !hasIstiod(reader)) continue;
    const parts: string[] = [];
    const problems: string[] = [];
    const evidence: string[] = [];
    if (reader.clusterz) {
      const remotes = reader.clusterz.filter((z) => z.secretName !== '');
      parts.push(remotes.length ? `remote clusters: ${remotes.map((z) => `${z.id} ${z.syncStatus}`).join(', ')}` : 'no remote clusters registered');
      for (const z of remotes) {
        evidence.push(`debug/clusterz: ${z.id} secret ${z.secretName} ${z.syncStatus}`);
        if (SYNC_PROBLEMS.has(z.syncStatus)) problems.push(`remote cluster ${z.id}${ourIds.has(z.id) && ourIds.get(z.id) !== z.id ? ` (${ourIds.get(z.id)})` : ''} has sync status "${z.syncStatus}" in /debug/clusterz (istioctl remote-clusters)`);
      }
    } else if (reader.clusterzError) parts.push(`debug/clusterz not readable (${reader.clusterzError})`);
    if (reader.logEvents) {
      const errs = reader.logEvents.filter((e) => LOG_ERROR_KINDS.has(e.kind));
      const other = reader.logEvents.filter((e) => !LOG_ERROR_KINDS.has(e.kind));
      parts.push(errs.length ? `${errs.length} remote-cluster error(s) in istiod's log (last ${reader.logSince}), last at ${errs.at(-1)!.time ?? '?'}` : `no remote-cluster errors in istiod's log (last ${reader.logSince})`);
      if (other.length) parts.push(`it also logged "${other.at(-1)!.message}"${other.length > 1 ? ` and ${other.length - 1} more like it` : ''}`);
      if (errs.length) {
        const clusters = [...new Set(errs.map((e) => e.cluster).filter((x): x is string => !!x))];
        problems.push(`istiod's log has ${errs.length} error(s) about remote cluster${clusters.length === 1 ? '' : 's'} ${clusters.join(', ') || '(unnamed)'}, the last at ${errs.at(-1)!.time ?? 'an unknown time'}: "${errs.at(-1)!.message}"`);
      }
      for (const e of [...errs, ...other].slice(-8)) evidence.push(`${e.pod} ${e.time ?? ''} ${e.level} ${e.message}`.replace(/\s+/g, ' ').trim());
    } else parts.push('istiod\'s log not read');
    const readable = reader.clusterz !== undefined || reader.logEvents !== undefined;
    row(ctx, { check: 'control-plane', cluster: reader.context, status: !readable ? 'skipped' : problems.length ? 'error' : 'ok', detail: parts.join('; ') });
    if (problems.length) {
      ctx.findings.push(
        newFinding('RemoteClusterNotSynced', { reader: reader.context, detail: `${problems.join('; ')}.` }, {
          subject: { kind: 'Context', name: reader.context },
          evidence,
          fixes: [
            { rank: 1, title: 'Read istiod\'s own account of the remote clusters', tradeoffs: 'none: read-only', kind: 'command', content: `istioctl remote-clusters --context ${reader.context}\nkubectl logs --context ${reader.context} -n ${reader.controlPlaneNamespace} deploy/istiod --since=${reader.logSince} | grep -iE 'remote cluster|cluster_id'` },
            { rank: 2, title: 'Re-create the remote secret (expired token, wrong server address)', tradeoffs: 'istiod re-syncs the remote cluster; until it has, that cluster\'s endpoints may be missing', kind: 'command', content: `istioctl create-remote-secret --context=<remote context> --name=<remote CLUSTER_ID> --server=https://<API server reachable from istiod> | kubectl apply -f - --context=${reader.context}` },
          ],
        }),
      );
    }
  }
}

// ---- network -------------------------------------------------------------------------------------

interface NetworkGatewayState {
  readonly usable: string[];
  readonly reasons: string[];
  readonly missingPassthrough: string[];
}

function gatewaysFor(ctx: Ctx, network: string): NetworkGatewayState {
  const usable: string[] = [];
  const reasons: string[] = [];
  const missingPassthrough: string[] = [];
  for (const c of ctx.readable) {
    for (const g of (c.gateways ?? []).filter((x) => x.network === network)) {
      const u = gatewayUsable(g);
      if (!u.ok) {
        reasons.push(`${c.context}: ${u.why}`);
        continue;
      }
      // the Gateway that lets 15443 through: AUTO_PASSTHROUGH on that port, selecting the gateway's pods
      if (c.passthrough !== undefined) {
        const sel = { ...g.selector };
        const pt = c.passthrough.find((p) => p.port === g.mtlsPort && Object.entries(p.selector).every(([k, v]) => sel[k] === v || g.labels[k] === v));
        if (!pt) {
          missingPassthrough.push(`${c.context}: ${g.namespace}/${g.name}`);
          reasons.push(`${c.context}: no Gateway with an AUTO_PASSTHROUGH server on port ${g.mtlsPort} selects ${g.namespace}/${g.name} (samples/multicluster/expose-services.yaml)`);
          continue;
        }
      }
      usable.push(...(u.endpoints.length ? u.endpoints : [`${g.namespace}/${g.name} node port ${g.nodePort}`]).map((x) => `${x} (${c.context})`));
    }
    for (const n of c.meshNetworks?.networks ?? []) {
      if (n.name !== network) continue;
      for (const g of n.gateways) if (g.address) usable.push(`${g.address}:${g.port ?? 15443} (meshNetworks in ${c.context})`);
    }
  }
  return { usable: [...new Set(usable)], reasons, missingPassthrough };
}

function checkNetworks(ctx: Ctx): Map<string, NetworkGatewayState> {
  const states = new Map<string, NetworkGatewayState>();
  const nets = [...new Set(ctx.readable.filter((c) => !c.error).map((c) => ctx.networks.get(c.context)!.network))];
  const multi = nets.length > 1;
  for (const n of nets) states.set(n, gatewaysFor(ctx, n));
  for (const c of ctx.readable) {
    if (c.error) continue;
    const nw = ctx.networks.get(c.context)!;
    const label = nw.network || '(no network)';
    const st = states.get(nw.network)!;
    const gws = c.gateways === undefined ? 'gateway Services not readable' : st.usable.length ? `east-west gateway ${st.usable.filter((u) => u.endsWith(`(${c.context})`)).map((u) => u.replace(/ \(.*\)$/, '')).join(', ') || `in another cluster (${st.usable.join(', ')})`}` : 'no usable east-west gateway';
    const injected = c.injector?.network;
    const mismatch = injected !== undefined && nw.network !== '' && injected !== nw.network && c.namespaceNetwork !== undefined;
    if (!multi) {
      row(ctx, { check: 'network', cluster: c.context, status: 'ok', detail: `${label} (${nw.source}); all clusters on one network: pods reach each other directly, no east-west gateway needed` });
      continue;
    }
    const missing = st.usable.length === 0;
    row(ctx, { check: 'network', cluster: c.context, status: missing ? 'error' : mismatch ? 'warning' : 'ok', detail: `${label} (${nw.source}); ${gws}${missing && st.reasons.length ? `: ${st.reasons[0]}` : ''}${mismatch ? `; proxies are injected with ISTIO_META_NETWORK ${injected}` : ''}` });
    if (mismatch) {
      ctx.findings.push(
        newFinding('NetworkGatewayMissing', { network: nw.network, detail: `in ${c.context}, istiod puts endpoints on network ${nw.network} (${nw.source}) but proxies are injected with ISTIO_META_NETWORK ${injected}: proxies take their own cluster's endpoints for another network's and send them through a gateway.` }, {
          severity: 'warning',
          subject: { kind: 'Namespace', name: c.controlPlaneNamespace },
          fixes: [{ rank: 1, title: 'Use one network name for the namespace label and values.global.network', tradeoffs: 'proxies pick up a new ISTIO_META_NETWORK only when restarted', kind: 'command', content: `kubectl --context ${c.context} label namespace ${c.controlPlaneNamespace} topology.istio.io/network=${injected} --overwrite` }],
        }),
      );
    }
  }
  if (multi) {
    for (const n of nets) {
      const st = states.get(n)!;
      if (st.usable.length) continue;
      const members = ctx.readable.filter((c) => !c.error && ctx.networks.get(c.context)!.network === n).map((c) => c.context);
      const detail = `${members.join(', ')} ${members.length === 1 ? 'is' : 'are'} on network ${n || '(unset)'} while other clusters are on ${nets.filter((x) => x !== n).map((x) => x || '(unset)').join(', ')}, and ${st.reasons.length ? st.reasons.join('; ') : `no Service labelled topology.istio.io/network=${n} with port 15443 and an external address exists`}. Proxies on other networks get no usable endpoint in ${members.join(', ')} (istiod drops them or hands out unreachable pod IPs).`;
      const host = members[0] ?? '<context>';
      ctx.findings.push(
        newFinding('NetworkGatewayMissing', { network: n || '(unset)', detail }, {
          subject: { kind: 'Network', name: n || '(unset)' },
          evidence: st.reasons,
          fixes: [
            {
              rank: 1,
              title: `Install an east-west gateway for ${n || 'the network'} and expose services through it`,
              tradeoffs: 'a LoadBalancer Service with a public or inter-cluster address on port 15443; all cross-network traffic goes through it',
              kind: 'command',
              content: `samples/multicluster/gen-eastwest-gateway.sh --network ${n || '<network>'} | istioctl --context=${host} install -y -f -\nkubectl --context=${host} apply -n istio-system -f samples/multicluster/expose-services.yaml`,
            },
          ],
        }),
      );
    }
  }
  return states;
}

// ---- service consistency -------------------------------------------------------------------------

function portKey(p: { name?: string; port: number; protocol: string; targetPort?: string; appProtocol?: string }): string {
  return `${p.name ?? ''}/${p.port}/${p.protocol}/${p.targetPort ?? ''}/${p.appProtocol ?? ''}`;
}

function portsText(s: ServiceFacts): string {
  return (s.ports ?? []).map((p) => `${p.name ? `${p.name} ` : ''}${p.port}/${p.protocol}${p.targetPort && p.targetPort !== String(p.port) ? `→${p.targetPort}` : ''}${p.appProtocol ? ` (${p.appProtocol})` : ''}`).join(', ');
}

function checkServices(ctx: Ctx, ref: ServiceRef, services: readonly ServiceFacts[]): void {
  const present = services.filter((s) => s.present);
  const first = present[0];
  const diffs = new Set<string>();
  const odd = new Set<string>();
  if (first) {
    for (const s of present.slice(1)) {
      if (s.headless !== first.headless) {
        diffs.add('headless in some clusters and ClusterIP in others');
        present.forEach((x) => odd.add(x.context));
      }
      if (s.type !== first.type) {
        diffs.add(`type ${first.type} in ${first.context} but ${s.type} in ${s.context}`);
        odd.add(s.context).add(first.context);
      }
      const a = [...(first.ports ?? [])].map(portKey).sort();
      const b = [...(s.ports ?? [])].map(portKey).sort();
      if (a.join(',') !== b.join(',')) {
        diffs.add(`ports ${portsText(first)} in ${first.context} but ${portsText(s)} in ${s.context}`);
        odd.add(s.context).add(first.context);
      }
    }
  }
  for (const s of services) {
    const ready = s.endpoints?.filter((e) => e.ready).length;
    if (s.present === undefined) {
      row(ctx, { check: 'service', cluster: s.context, status: 'skipped', detail: `${ref.namespace}/${ref.name} could not be read` });
    } else if (!s.present) {
      row(ctx, { check: 'service', cluster: s.context, status: 'info', detail: `no Service ${ref.namespace}/${ref.name} here${s.namespaceLabels === null ? ` (no namespace ${ref.namespace})` : ''}` });
    } else {
      const desc = `${s.headless ? 'headless' : s.type}, ports ${portsText(s)}; ${ready === undefined ? 'endpoints not readable' : `${ready} ready endpoint${ready === 1 ? '' : 's'}`}`;
      row(ctx, { check: 'service', cluster: s.context, status: odd.has(s.context) ? 'warning' : 'ok', detail: s !== first && !odd.has(s.context) && ready !== undefined ? `same as ${first!.context}; ${ready} ready endpoint${ready === 1 ? '' : 's'}` : desc });
    }
  }
  if (diffs.size) {
    ctx.findings.push(
      newFinding('ServiceInconsistent', { service: `${ref.namespace}/${ref.name}`, clusters: services.map((x) => x.context).filter((c) => odd.has(c)).join(', '), differences: [...diffs].join('; ') }, {
        subject: { kind: 'Service', name: ref.name, namespace: ref.namespace },
        fixes: [{ rank: 1, title: 'Deploy the same Service definition (type, ports, clusterIP None or not) in every cluster', tradeoffs: 'changing a Service\'s type or ports can break local clients that rely on the old shape', kind: 'text', content: `Compare: ${services.map((x) => x.context).filter((c) => odd.has(c)).map((c) => `kubectl --context ${c} get service ${ref.name} -n ${ref.namespace} -o yaml`).join(' ; ')}` }],
      }),
    );
  }
}

// ---- endpoints through the --from proxy ----------------------------------------------------------

function missingCause(ctx: Ctx, ref: ServiceRef, target: ClusterFacts, svc: ServiceFacts, proxy: ProxyFacts, gwStates: Map<string, NetworkGatewayState>): { cause: string; fixes: Fix[] } {
  const source = ctx.input.clusters.find((c) => c.context === proxy.context);
  const targetId = idOf(ctx, target);
  if (source === target) {
    if (svc.exportTo && !svc.exportTo.includes('*') && !svc.exportTo.includes(proxy.namespace) && !(svc.exportTo.includes('.') && proxy.namespace === ref.namespace)) {
      return { cause: `the Service is exported only to ${svc.exportTo.join(', ')} (networking.istio.io/exportTo), not to ${proxy.namespace}.`, fixes: [] };
    }
    return { cause: 'these are the proxy\'s own cluster\'s pods: its configuration is stale or scoped (check istioctl proxy-status and any Sidecar resource in its namespace).', fixes: [{ rank: 1, title: 'Compare the proxy\'s configuration with istiod\'s', tradeoffs: 'none: read-only', kind: 'command', content: `istioctl --context ${proxy.context} proxy-status ${proxy.pod.split('/')[1]}.${proxy.namespace}` }] };
  }
  if (!source || !source.readable) return { cause: `the proxy's cluster ${proxy.context} could not be read, so its istiod's remote secrets are unknown.`, fixes: [] };
  if (!hasIstiod(source)) return { cause: `${proxy.context} has no istiod: the primary that serves it needs a remote secret for ${target.context}; run this command against the primary's context too.`, fixes: [] };
  if (!targetId) return { cause: `${target.context}'s cluster ID is unknown.`, fixes: [] };
  if (targetId === idOf(ctx, source)) return { cause: `${target.context} and ${proxy.context} run with the same CLUSTER_ID ${targetId} (see MEG095): istiod in ${proxy.context} ignores a remote secret keyed with its own ID.`, fixes: [] };
  // with PILOT_MULTICLUSTER_KUBECONFIG_PATH the Secrets do not count: only clusterz below does
  const secrets = source.istiod?.find((p) => p.running)?.remoteKubeconfigPath === undefined ? source.remoteSecrets : undefined;
  const entry = secrets?.find((e) => e.key === targetId);
  if (source.clusterz && !source.clusterz.some((z) => z.id === targetId) && !entry && !secrets) {
    return { cause: `istiod in ${proxy.context} has not registered cluster ${targetId} (missing from /debug/clusterz; see the remote-secret row).`, fixes: [] };
  }
  if (secrets && !entry) {
    return ctx.misKeyed.has(`${source.context}→${target.context}`)
      ? { cause: `istiod in ${proxy.context} has a remote secret for ${target.context} under the wrong data key (see MEG093): it does not know the endpoints as ${targetId}'s.`, fixes: [createSecretFix(source, target, targetId, 1, 'Re-create')] }
      : { cause: `istiod in ${proxy.context} has no remote secret for ${target.context} (key "${targetId}"), so it never reads ${target.context}'s endpoints (seed 004).`, fixes: [createSecretFix(source, target, targetId)] };
  }
  if (entry && (entry.kubeconfig.problems.length || entry.kubeconfig.loopback || entry.kubeconfig.insecureOptions.length)) {
    return { cause: `the remote secret ${entry.secret} for ${target.context} is unusable (see MEG093).`, fixes: [createSecretFix(source, target, targetId, 1, 'Re-create')] };
  }
  const sync = source.clusterz?.find((z) => z.id === targetId);
  const logErrs = (source.logEvents ?? []).filter((e) => LOG_ERROR_KINDS.has(e.kind) && (e.cluster === undefined || e.cluster === targetId));
  if ((sync && sync.syncStatus !== 'synced') || logErrs.length) {
    return { cause: `istiod in ${proxy.context} has the secret but cannot read ${target.context}${sync ? ` (clusterz: ${sync.syncStatus})` : ''}${logErrs.length ? `; its log says: "${logErrs.at(-1)!.message}"` : ''}.`, fixes: [] };
  }
  if (source.clusterz && !sync && entry) {
    return { cause: `istiod in ${proxy.context} has the secret ${entry.secret} but has not registered cluster ${targetId} (missing from /debug/clusterz): it may still be processing it, or failed before logging in the window read.`, fixes: [] };
  }
  const tNet = ctx.networks.get(target.context)!.network;
  const pNet = proxy.network ?? ctx.networks.get(source.context)!.network;
  if (tNet !== pNet && (gwStates.get(tNet)?.usable.length ?? 0) === 0) {
    return { cause: `${target.context} is on network ${tNet || '(unset)'}, the proxy on ${pNet || '(unset)'}, and network ${tNet || '(unset)'} has no usable east-west gateway (see MEG096).`, fixes: [] };
  }
  if (svc.namespaceLabels && !discovered(source.discoverySelectors, svc.namespaceLabels)) {
    return { cause: `namespace ${ref.namespace} in ${target.context} does not match the discoverySelectors of ${proxy.context}'s mesh config, so istiod ignores it.`, fixes: [{ rank: 1, title: `Label ${ref.namespace} in ${target.context} so a discovery selector matches`, tradeoffs: 'istiod then watches every object of that namespace in that cluster', kind: 'text', content: `discoverySelectors of ${proxy.context}: ${JSON.stringify(source.discoverySelectors)}` }] };
  }
  if (svc.exportTo && !svc.exportTo.includes('*') && !svc.exportTo.includes(proxy.namespace) && !(svc.exportTo.includes('.') && proxy.namespace === ref.namespace)) {
    return { cause: `the Service in ${target.context} is exported only to ${svc.exportTo.join(', ')} (networking.istio.io/exportTo).`, fixes: [] };
  }
  return { cause: `nothing in the collected data explains it: istiod in ${proxy.context} has a usable remote secret and reports no error; compare istioctl proxy-status and istiod's /debug/endpointShardz for ${ref.name}.${ref.namespace}.`, fixes: [] };
}

function checkEndpoints(ctx: Ctx, ref: ServiceRef, services: readonly ServiceFacts[], proxy: ProxyFacts, gwStates: Map<string, NetworkGatewayState>): void {
  const host = `${ref.name}.${ref.namespace}`;
  if (!proxy.clusters) {
    for (const s of services) row(ctx, { check: 'endpoints', cluster: s.context, status: 'skipped', detail: `the proxy's endpoints could not be read: ${proxy.edsError ?? 'unknown'}` });
    return;
  }
  const eps = proxy.clusters.flatMap((c) => c.endpoints.map((e) => ({ ...e, cluster: c.name })));
  const outbound = proxy.clusters.map((c) => c.name);
  // gateway addresses, by network
  const gatewayAddr = new Map<string, string>();
  for (const c of ctx.readable) {
    for (const g of c.gateways ?? []) {
      const u = gatewayUsable(g);
      if (u.ok) for (const a of u.endpoints) gatewayAddr.set(a, g.network);
    }
    for (const n of c.meshNetworks?.networks ?? []) for (const g of n.gateways) if (g.address) gatewayAddr.set(`${g.address}:${g.port ?? 15443}`, n.name);
  }
  const used = new Set<number>();
  for (const s of services) {
    const c = ctx.input.clusters.find((x) => x.context === s.context)!;
    if (!c.readable) {
      row(ctx, { check: 'endpoints', cluster: s.context, status: 'skipped', detail: 'cluster not readable' });
      continue;
    }
    if (!s.present) {
      row(ctx, { check: 'endpoints', cluster: s.context, status: s.present === false ? 'info' : 'skipped', detail: s.present === false ? 'no Service here: nothing expected' : 'the Service could not be read' });
      continue;
    }
    const ready = (s.endpoints ?? []).filter((e) => e.ready);
    const ips = new Set(ready.map((e) => e.ip));
    const id = idOf(ctx, c);
    const net = ctx.networks.get(c.context)!.network;
    const direct = eps.filter((e, i) => ips.has(e.address) && used.add(i));
    const knownIds = new Set(ctx.readable.map((x) => idOf(ctx, x)));
    const viaGw = eps.filter((e, i) => {
      const gwNet = gatewayAddr.get(`${e.address}:${e.port}`);
      if (ips.has(e.address) || gwNet === undefined) return false;
      // a gateway endpoint carries the remote's cluster ID; an ID that is no given cluster's (a mis-keyed secret) counts by network
      const mine = e.clusterId ? e.clusterId === id || (!knownIds.has(e.clusterId) && gwNet === net) : gwNet === net;
      return mine && used.add(i);
    });
    const byMeta = eps.filter((e, i) => !used.has(i) && e.clusterId !== undefined && e.clusterId === id && used.add(i));
    const found = direct.length + viaGw.length + byMeta.length;
    if (s.endpoints === undefined) {
      const why = s.gaps.find((g) => g.what.includes('endpointslices'))?.detail ?? 'endpoint slices not readable';
      row(ctx, { check: 'endpoints', cluster: s.context, status: 'skipped', detail: `${why}; the proxy has ${found} endpoint(s) attributed to ${s.context}` });
      continue;
    }
    const have = [
      direct.length ? `${direct.length} pod IP${direct.length === 1 ? '' : 's'}` : '',
      viaGw.length ? `gateway ${[...new Set(viaGw.map((e) => `${e.address}:${e.port}`))].join(', ')}` : '',
      byMeta.length ? `${byMeta.length} other (cluster ${id} by metadata)` : '',
    ].filter(Boolean);
    if (ready.length === 0) {
      row(ctx, { check: 'endpoints', cluster: s.context, status: 'info', detail: `no ready pods here; the proxy has ${have.length ? have.join(', ') : 'none'}` });
      continue;
    }
    if (found === 0) {
      const { cause, fixes } = missingCause(ctx, ref, c, s, proxy, gwStates);
      row(ctx, { check: 'endpoints', cluster: s.context, status: 'error', detail: `${ready.length} ready pod${ready.length === 1 ? '' : 's'}, the proxy has none of them: ${cause}` });
      ctx.findings.push(
        newFinding('RemoteEndpointsMissing', { service: host, cluster: c.context, pods: ready.length, cause }, {
          subject: { kind: 'Service', name: ref.name, namespace: ref.namespace },
          evidence: [
            `${proxy.pod} EDS ${outbound.join(', ') || `(no outbound cluster for ${host})`}: ${eps.length ? eps.map((e) => `${e.address}:${e.port}${e.clusterId ? ` [${e.clusterId}]` : ''}`).join(', ') : 'no endpoints'}`,
            `${c.context} ready pod IPs: ${[...ips].join(', ')}`,
          ],
          fixes: [
            ...fixes,
            {
              rank: fixes.length + 1,
              title: 'Rule out connectivity between the clusters (seed 004)',
              tradeoffs: `runs a temporary pod without a sidecar in ${proxy.context}'s default namespace (--rm deletes it when the command ends); needs permission to create pods there`,
              kind: 'command',
              content: `kubectl --context ${c.context} get pod -n ${ref.namespace} -o wide   # note a ${ref.name} pod IP\nkubectl --context ${proxy.context} run mc-probe -n default --rm -it --image=curlimages/curl --labels=sidecar.istio.io/inject=false -- curl -sS <pod IP>:<port>`,
            },
          ],
        }),
      );
      continue;
    }
    const foreign = [...new Set([...direct, ...viaGw].map((e) => e.clusterId).filter((x): x is string => x !== undefined && x !== id))];
    const pNet = proxy.network ?? '';
    const crossDirect = direct.length > 0 && c.context !== proxy.context && net !== pNet;
    const trustBroken = ctx.findings.some((f) => f.code === 'MEG091' && f.subject?.kind === 'ContextPair' && (f.subject.name === `${proxy.context},${c.context}` || f.subject.name === `${c.context},${proxy.context}`));
    const status = crossDirect || trustBroken || foreign.length ? 'warning' : 'ok';
    const note = [
      foreign.length ? `; istiod registered them as cluster ${foreign.map((f) => `"${f}"`).join(', ')}, not ${id}` : '',
      crossDirect ? `; these are pod IPs of network ${net || '(unset)'} while the proxy is on ${pNet || '(unset)'}: reachable only if the networks are routed (no east-west gateway is used)` : '',
      trustBroken ? `; but ${c.context} does not share a root with ${proxy.context}: mTLS to them fails` : '',
    ].join('');
    row(ctx, { check: 'endpoints', cluster: s.context, status, detail: `${ready.length} ready pod${ready.length === 1 ? '' : 's'}; the proxy has ${have.join(', ')}${note}` });
  }
}

// ---- proxy trust and log -------------------------------------------------------------------------

function checkProxy(ctx: Ctx, proxy: ProxyFacts): void {
  const who = `${proxy.pod} (${proxy.context})`;
  // the clusters' own finding carries the CA fix; the proxy's findings point at it
  const trustFix: Fix = ctx.findings.some((f) => f.code === 'MEG091' && f.subject?.kind === 'ContextPair')
    ? { rank: 1, title: 'Fix the clusters\' root of trust (MEG091 above)', tradeoffs: 'workloads pick up certificates from the new chain only when restarted or rotated', kind: 'text', content: 'Once every cluster\'s cacerts comes from one root and the workloads have restarted, this proxy trusts the other clusters\' workloads.' }
    : PLUGIN_CA_FIX;
  const own = ctx.input.clusters.find((c) => c.context === proxy.context);
  const ownId = own && hasIstiod(own) ? idOf(ctx, own) : undefined;
  if (ownId !== undefined && proxy.clusterId !== undefined && proxy.clusterId !== ownId) {
    ctx.findings.push(
      newFinding('ClusterIdConflict', { detail: `The --from proxy ${who} runs with ISTIO_META_CLUSTER_ID ${proxy.clusterId}, but istiod in ${proxy.context} runs as ${ownId}: the proxy was injected before the cluster was renamed, or by another revision's injector; restart it.` }, {
        severity: 'warning',
        subject: { kind: 'Pod', name: proxy.pod.split('/')[1], namespace: proxy.namespace },
        fixes: [{ rank: 1, title: 'Restart the workload so the injector renders the current cluster ID', tradeoffs: 'a rolling restart of the workload', kind: 'command', content: `kubectl --context ${proxy.context} rollout restart deployment -n ${proxy.namespace} <the pod's deployment>` }],
      }),
    );
  }
  if (!proxy.roots) {
    row(ctx, { check: 'proxy-trust', cluster: proxy.context, status: 'skipped', detail: `the proxy's trusted root could not be read: ${proxy.rootError ?? 'unknown'}` });
  } else {
    const trusted = proxy.roots.fingerprints;
    const untrusted = ctx.readable.filter((c) => {
      const r = ctx.roots.get(c.context);
      return r !== undefined && !intersects(trusted, r.roots.fingerprints);
    });
    const trustedBy = ctx.readable.filter((c) => ctx.roots.get(c.context) && !untrusted.includes(c));
    row(ctx, {
      check: 'proxy-trust',
      cluster: proxy.context,
      status: untrusted.length ? 'error' : 'ok',
      detail: `${proxy.pod} trusts ${trusted.map(shortFingerprint).join(', ') || 'no root'}${trustedBy.length ? `: the root of ${trustedBy.map((c) => c.context).join(', ')}` : ''}${untrusted.length ? `; not the root of ${untrusted.map((c) => c.context).join(', ')}` : ''}`,
    });
    for (const c of untrusted) {
      const r = ctx.roots.get(c.context)!;
      ctx.findings.push(
        newFinding('TrustRootMismatch', { subject: `Proxy ${who}`, detail: `its ROOTCA (${trusted.map(shortFingerprint).join(', ') || 'empty'}) does not contain ${c.context}'s root ${shortFingerprint(r.roots.fingerprints[0]!)}: it rejects the certificates of ${c.context}'s workloads (CERTIFICATE_VERIFY_FAILED).` }, {
          subject: { kind: 'Pod', name: proxy.pod.split('/')[1], namespace: proxy.namespace },
          evidence: [`${proxy.roots.source}: ${trusted.join(', ')}`, `${c.context}: ${r.roots.source}: ${r.roots.fingerprints.join(', ')}`],
          fixes: [trustFix],
        }),
      );
    }
  }
  if (!proxy.tlsErrors) {
    row(ctx, { check: 'proxy-log', cluster: proxy.context, status: 'skipped', detail: `istio-proxy log not read: ${proxy.logError ?? 'unknown'}` });
    return;
  }
  if (proxy.tlsErrors.length === 0) {
    row(ctx, { check: 'proxy-log', cluster: proxy.context, status: 'ok', detail: `no TLS errors in ${proxy.pod}'s log (last ${proxy.logSince})` });
    return;
  }
  row(ctx, { check: 'proxy-log', cluster: proxy.context, status: 'error', detail: proxy.tlsErrors.map((t) => `${t.reason} ×${t.count}${t.last ? ` (last ${t.last})` : ''}`).join(', ') });
  for (const t of proxy.tlsErrors) {
    ctx.findings.push(
      newFinding('ProxyTlsError', { pod: proxy.pod, reason: `TLS error: ${t.code}:SSL routines:OPENSSL_internal:${t.reason}`, count: t.count, meaning: tlsMeaning(t) }, {
        subject: { kind: 'Pod', name: proxy.pod.split('/')[1], namespace: proxy.namespace },
        evidence: [`${t.count} line(s)${t.first ? ` from ${t.first}` : ''}${t.last ? ` to ${t.last}` : ''}`, `sample: ${t.sample}`],
        fixes:
          t.reason === 'CERTIFICATE_VERIFY_FAILED'
            ? [trustFix]
            : [
                {
                  rank: 1,
                  title: 'Test the path without Istio (seed 004): an uninjected pod calls the remote pod IP directly',
                  tradeoffs: 'creates a temporary pod without a sidecar; if this fails too, the problem is the network between the clusters, not Istio',
                  kind: 'command',
                  content: `kubectl --context ${proxy.context} run mc-probe -n default --rm -it --image=curlimages/curl --labels=sidecar.istio.io/inject=false -- curl -sS <remote pod IP>:<port>`,
                },
                {
                  rank: 2,
                  title: 'Let TLS on port 15443 of the east-west gateways pass unmodified between the clusters',
                  tradeoffs: 'firewall or proxy rules between the clusters must allow raw TCP/TLS to the gateways\' external addresses',
                  kind: 'text',
                  content: 'Cross-network traffic is mTLS to the remote east-west gateway on 15443 (AUTO_PASSTHROUGH by SNI); no HTTP proxy or TLS inspection may sit on that path.',
                },
              ],
      }),
    );
  }
}

// ---- entry point ---------------------------------------------------------------------------------

export function analyzeMulticluster(input: MulticlusterInput): MulticlusterReport {
  const readable = input.clusters.filter((c) => c.readable);
  const ctx: Ctx = {
    input,
    rows: [],
    findings: [],
    ids: new Map(readable.map((c) => [c.context, c.error ? undefined : clusterIdentity(c)])),
    networks: new Map(readable.map((c) => [c.context, networkOf(c, readable)])),
    roots: new Map(readable.map((c) => [c.context, c.error ? undefined : signingRoot(c)])),
    readable,
    misKeyed: new Set(),
  };
  checkClusters(ctx);
  checkClusterIds(ctx);
  checkTrust(ctx);
  checkRemoteSecrets(ctx);
  checkControlPlane(ctx);
  const gwStates = checkNetworks(ctx);
  if (input.service && input.services) {
    checkServices(ctx, input.service, input.services);
    if (input.proxy) checkEndpoints(ctx, input.service, input.services, input.proxy, gwStates);
    else {
      const why = input.proxyError ? `the --from proxy could not be read: ${input.proxyError}` : 'no proxy to compare with: give --from POD (a pod in the mesh that calls the service)';
      for (const s of input.services) row(ctx, { check: 'endpoints', cluster: s.context, status: 'skipped', detail: why });
    }
  }
  if (input.proxy) checkProxy(ctx, input.proxy);
  else if (input.proxyError) {
    const where = input.fromContext ?? '';
    row(ctx, { check: 'proxy-trust', cluster: where, status: 'skipped', detail: `--from proxy not read: ${input.proxyError}` });
    ctx.findings.push(newFinding('ClusterNotRead', { context: where, what: `the --from proxy could not be read (${input.proxyError})`, consequence: 'the endpoint, proxy trust and proxy log checks are skipped' }, { severity: 'warning', subject: { kind: 'Context', name: where } }));
  }
  const order = new Map(input.clusters.map((c, i) => [c.context, i]));
  const rows = ctx.rows
    .map((r, i) => ({ r, i }))
    .sort((a, b) => CHECK_ORDER.indexOf(a.r.check) - CHECK_ORDER.indexOf(b.r.check) || (order.get(a.r.cluster) ?? 99) - (order.get(b.r.cluster) ?? 99) || a.i - b.i)
    .map((x) => x.r);
  const findings = sortFindings(ctx.findings);
  const errors = findings.filter((f) => f.severity === 'error');
  const warnings = findings.filter((f) => f.severity === 'warning');
  const titles = (fs: readonly Finding[]): string => [...new Map(fs.map((f) => [f.code, `${catalog[f.name as CatalogName].title.replace(/^[A-Z](?![A-Z])/, (c) => c.toLowerCase())} (${f.code})`])).values()].join('; ');
  const verdict =
    readable.length === 0
      ? 'No cluster could be read.'
      : errors.length
        ? `${errors.length} problem${errors.length === 1 ? '' : 's'} found: ${titles(errors)}.${warnings.length ? ` ${warnings.length} warning${warnings.length === 1 ? '' : 's'}.` : ''}`
        : warnings.length
          ? `No blocking problem found; ${warnings.length} warning${warnings.length === 1 ? '' : 's'}: ${titles(warnings)}.`
          : `No problem found in ${readable.length} cluster${readable.length === 1 ? '' : 's'}.`;
  return {
    rows,
    findings,
    clusters: input.clusters.map((c) => {
      const r = ctx.roots.get(c.context);
      return {
        context: c.context,
        readable: c.readable,
        ...(ctx.ids.get(c.context) ? { clusterId: ctx.ids.get(c.context)! } : {}),
        ...(ctx.networks.get(c.context) ? { network: ctx.networks.get(c.context)! } : {}),
        ...(r ? { root: { kind: r.kind, source: r.roots.source, fingerprints: r.roots.fingerprints } } : {}),
      };
    }),
    verdict,
  };
}
