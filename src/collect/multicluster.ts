/**
 * Reading one cluster of a multicluster mesh, read-only, in parallel where independent (DESIGN.md §6):
 * istiod's pods, the control-plane ConfigMaps (mesh config, meshNetworks, injector values, the
 * distributed root), the plugged-in CA's root (secret cacerts: its root certificate only), remote secrets,
 * east-west gateways, AUTO_PASSTHROUGH Gateways, istiod's log and its /debug/clusterz.
 *
 * Secrets: `cacerts` is read with a jsonpath naming only the root certificate, so no key reaches this
 * process. Remote secrets must be read whole (the kubeconfig is the data); each is decoded, summarised
 * (model/remote-secret.ts) and dropped in the same function: no token, certificate or kubeconfig leaves it.
 */
import YAML from 'yaml';
import type { CollectionGap, KubeObject, Pod } from '../model/cluster-view.js';
import { scanPem } from '../model/certs.js';
import { UnavailableError } from '../model/errors.js';
import type {
  ClusterFacts,
  ClusterzEntry,
  ControlPlaneLogEvent,
  IstiodPod,
  LabelSelectorSpec,
  MeshNetworks,
  NetworkGateway,
  PassthroughGateway,
  ProxyFacts,
  RemoteSecretEntry,
  RootSet,
  ServiceFacts,
  ServiceRef,
  TlsErrorSummary,
} from '../model/multicluster.js';
import { outboundClusterRegex, serviceEndpointsFromDump } from '../model/multicluster.js';
import { CLUSTER_NAME_ANNOTATION, MULTICLUSTER_SECRET_LABEL, summarizeKubeconfig } from '../model/remote-secret.js';
import { openProxyAdmin, type ProxyAdmin } from './envoy-admin.js';
import { KubeconfigContextError, KubectlError, resolveContext, type Kubectl } from './kubectl.js';

export const NETWORK_LABEL = 'topology.istio.io/network';
const NODE_SELECTOR_ANNOTATION = 'traffic.istio.io/nodeSelector';

export interface ClusterReadOptions {
  readonly controlPlaneNamespace: string;
  /** kubectl --since for istiod's log, e.g. "1h" */
  readonly since: string;
  /** istiod pods whose log is read (most recent first) */
  readonly maxLogPods?: number;
  /** read secret cacerts (root only) and remote secrets (default true; snapshots never read Secrets) */
  readonly secrets?: boolean;
}

function gapReason(e: KubectlError): CollectionGap['reason'] {
  return e.kind === 'forbidden' ? 'forbidden' : e.kind === 'not-found' ? 'not-found' : e.kind === 'no-resource-type' ? 'crd-missing' : e.kind === 'timeout' ? 'timeout' : 'error';
}

/** The cluster stopped answering: the whole cluster is unreadable, not one read. */
class ClusterUnreachable extends Error {}

async function optional<T>(what: string, gaps: CollectionGap[], read: () => Promise<T>, notFound?: () => T): Promise<T | undefined> {
  try {
    return await read();
  } catch (e) {
    if (!(e instanceof KubectlError)) throw e;
    if (e.kind === 'unreachable' || e.kind === 'unauthorized') throw new ClusterUnreachable(e.message);
    if (e.kind === 'not-found' && notFound) return notFound();
    gaps.push({ what, reason: gapReason(e), detail: e.message });
    return undefined;
  }
}

/** JSON from kubectl without ever quoting the text in an error (it may hold secret data). */
function parseQuiet<T>(text: string, step: string): T {
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new KubectlError('other', `${step}: kubectl printed something that is not JSON`, 0, '');
  }
}

async function getList(k: Kubectl, args: readonly string[], step: string): Promise<KubeObject[]> {
  return parseQuiet<{ items?: KubeObject[] }>(await k.ok(['get', ...args, '-o', 'json'], step), step).items ?? [];
}

function rootSet(pem: string, source: string): RootSet {
  const scan = scanPem(pem);
  return { source, fingerprints: scan.fingerprints, invalid: scan.invalid };
}

// ---- istiod ------------------------------------------------------------------------------------

interface ContainerLike {
  name?: string;
  image?: string;
  env?: { name?: string; value?: string }[];
}

function envOf(c: ContainerLike | undefined, name: string): string | undefined {
  return c?.env?.find((e) => e.name === name)?.value;
}

function istiodPod(p: Pod): IstiodPod {
  const containers = (p.spec?.containers ?? []) as ContainerLike[];
  const discovery = containers.find((c) => c.name === 'discovery') ?? containers[0];
  const insecure = envOf(discovery, 'PILOT_INSECURE_MULTICLUSTER_KUBECONFIG_OPTIONS');
  const version = /:([^:@/]+)(@.*)?$/.exec(discovery?.image ?? '')?.[1];
  const clusterId = envOf(discovery, 'CLUSTER_ID');
  const kubeconfigPath = envOf(discovery, 'PILOT_MULTICLUSTER_KUBECONFIG_PATH');
  return {
    name: p.metadata?.name ?? '',
    running: p.status?.phase === 'Running',
    ...(p.metadata?.labels?.['istio.io/rev'] ? { revision: p.metadata.labels['istio.io/rev'] } : {}),
    ...(version ? { version } : {}),
    ...(clusterId !== undefined ? { clusterId } : {}),
    ...(insecure ? { insecureKubeconfigOptions: insecure.split(',').map((s) => s.trim()).filter(Boolean) } : {}),
    ...(kubeconfigPath ? { remoteKubeconfigPath: kubeconfigPath } : {}),
  };
}

/** FindIstiodMonitoringPort (pkg/kube/client.go): prometheus.io/port, else 15014. */
function monitoringPort(p: Pod | undefined): number {
  const v = Number(p?.metadata?.annotations?.['prometheus.io/port']);
  return Number.isInteger(v) && v > 0 ? v : 15014;
}

const LOG_PATTERNS: readonly [RegExp, string][] = [
  [/create remote cluster failed|initialize cluster failed|kubeconfig (?:cannot be loaded|is not valid|is not allowed)|failed to create kube clients/i, 'create-failed'],
  [/Failed to add remote cluster from secret|Error (?:creating|updating) cluster_id/, 'legacy-add-failed'],
  [/error adding (?:remote config|secret)/i, 'add-failed'],
  [/remote cluster \S+ failed to sync|Timed out waiting for cluster \S+ to sync|remote clusters failed to sync/, 'sync-timeout'],
  [/cluster has already been registered|ClusterID reused in two different secrets/, 'already-registered'],
  [/ignoring cluster as it would overwrite the config cluster/, 'ignored-config-cluster'],
];

/** Drops PEM blocks, JWT-like tokens and long base64 runs from a log message, and shortens it. */
export function redactLogText(text: string, max = 400): string {
  const out = text
    .replace(/-----BEGIN [A-Z ]+-----[\s\S]*?(-----END [A-Z ]+-----|$)/g, '<pem redacted>')
    .replace(/\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*/g, '<token redacted>')
    .replace(/((?:token|password|client-key-data|client-certificate-data|certificate-authority-data)["']?\s*[:=]\s*["']?)[^\s"',}]+/gi, '$1<redacted>')
    .replace(/[A-Za-z0-9+/_-]{48,}={0,2}/g, '<redacted>');
  return out.length > max ? `${out.slice(0, max - 1)}…` : out;
}

/** Istio's log formats: `TIME\tLEVEL\t[SCOPE\t]MESSAGE[\tk=v k=v]` or one JSON object per line (--log_as_json). */
export function parseIstiodLog(text: string, pod: string): ControlPlaneLogEvent[] {
  const events: ControlPlaneLogEvent[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trimEnd();
    if (!line) continue;
    const kind = LOG_PATTERNS.find(([re]) => re.test(line))?.[1];
    if (!kind) continue;
    let time: string | undefined;
    let level = '';
    let message = line;
    let cluster: string | undefined;
    if (line.startsWith('{')) {
      try {
        const j = JSON.parse(line) as Record<string, unknown>;
        time = typeof j.time === 'string' ? j.time : undefined;
        level = typeof j.level === 'string' ? j.level : '';
        message = typeof j.msg === 'string' ? j.msg : line;
        cluster = typeof j.cluster === 'string' ? j.cluster : undefined;
      } catch {
        // not JSON after all: keep the line
      }
    } else {
      const fields = line.split('\t');
      if (fields.length >= 3 && /^\d{4}-\d\d-\d\dT/.test(fields[0]!)) {
        time = fields[0];
        level = fields[1]!.trim();
        const rest = fields.slice(2);
        const labels = rest.length > 1 && /^(\S+=\S*)( \S+=\S*)*$/.test(rest.at(-1)!) ? rest.pop()! : undefined;
        message = rest.join('\t');
        if (labels) cluster = /(?:^| )cluster=(\S+)/.exec(labels)?.[1];
        if (labels) message = `${message} (${labels})`;
      }
    }
    cluster ??= /cluster_id=([^\s,:]+)|remote cluster (\S+) failed|cluster (\S+) to sync|for cluster_id=([^\s,:]+)/.exec(message)?.slice(1).find(Boolean);
    events.push({ pod, ...(time ? { time } : {}), level, message: redactLogText(message), ...(cluster ? { cluster } : {}), kind });
  }
  return events;
}

// ---- ConfigMaps --------------------------------------------------------------------------------

function parseMeshNetworks(text: string | undefined): MeshNetworks | undefined {
  if (!text) return undefined;
  let doc: unknown;
  try {
    doc = YAML.parse(text);
  } catch {
    return undefined;
  }
  const networks = (doc as { networks?: Record<string, unknown> } | null)?.networks;
  if (!networks || typeof networks !== 'object') return { networks: [] };
  return {
    networks: Object.entries(networks).map(([name, v]) => {
      const n = (v ?? {}) as { endpoints?: Record<string, unknown>[]; gateways?: Record<string, unknown>[] };
      const eps = Array.isArray(n.endpoints) ? n.endpoints : [];
      const gws = Array.isArray(n.gateways) ? n.gateways : [];
      return {
        name,
        fromRegistry: eps.map((e) => e.fromRegistry).filter((x): x is string => typeof x === 'string'),
        fromCidr: eps.map((e) => e.fromCidr).filter((x): x is string => typeof x === 'string'),
        gateways: gws.map((g) => ({
          ...(typeof g.registryServiceName === 'string' ? { registryServiceName: g.registryServiceName } : {}),
          ...(typeof g.address === 'string' ? { address: g.address } : {}),
          ...(typeof g.port === 'number' ? { port: g.port } : {}),
        })),
      };
    }),
  };
}

interface ConfigMapFacts {
  injector?: ClusterFacts['injector'];
  distributedRoots?: RootSet | null;
  meshNetworks?: MeshNetworks;
  discoverySelectors?: LabelSelectorSpec[];
  trustDomain?: string;
}

function configMapFacts(cms: readonly KubeObject[], ns: string, revision: string | undefined, gaps: CollectionGap[]): ConfigMapFacts {
  const byName = new Map(cms.map((c) => [c.metadata?.name ?? '', c]));
  const pick = (base: string): KubeObject | undefined => (revision && revision !== 'default' ? (byName.get(`${base}-${revision}`) ?? byName.get(base)) : (byName.get(base) ?? [...byName.entries()].find(([n]) => n.startsWith(`${base}-`))?.[1]));
  const out: ConfigMapFacts = {};
  const mesh = pick('istio');
  if (mesh) {
    try {
      const m = (YAML.parse(mesh.data?.mesh ?? '') ?? {}) as { discoverySelectors?: LabelSelectorSpec[]; trustDomain?: string };
      if (Array.isArray(m.discoverySelectors)) out.discoverySelectors = m.discoverySelectors;
      if (typeof m.trustDomain === 'string') out.trustDomain = m.trustDomain;
    } catch {
      gaps.push({ what: `parse the mesh config ${ns}/${mesh.metadata?.name}`, reason: 'error', detail: 'invalid YAML' });
    }
    const mn = parseMeshNetworks(mesh.data?.meshNetworks);
    if (mn) out.meshNetworks = mn;
  } else gaps.push({ what: `get configmap ${ns}/istio`, reason: 'not-found', detail: `no mesh config ConfigMap in ${ns}` });
  const injector = pick('istio-sidecar-injector');
  if (injector?.data?.values) {
    try {
      const v = JSON.parse(injector.data.values) as { global?: { network?: string; meshID?: string; multiCluster?: { clusterName?: string } } };
      out.injector = {
        ...(v.global?.multiCluster?.clusterName ? { clusterName: v.global.multiCluster.clusterName } : {}),
        ...(v.global?.network ? { network: v.global.network } : {}),
        ...(v.global?.meshID ? { meshId: v.global.meshID } : {}),
      };
    } catch {
      gaps.push({ what: `parse ${ns}/${injector.metadata?.name} values`, reason: 'error', detail: 'invalid JSON' });
    }
  }
  const root = byName.get('istio-ca-root-cert');
  out.distributedRoots = root?.data?.['root-cert.pem'] ? rootSet(root.data['root-cert.pem'], `configmap ${ns}/istio-ca-root-cert`) : null;
  return out;
}

// ---- gateways ----------------------------------------------------------------------------------

interface ServiceLike {
  metadata?: KubeObject['metadata'];
  spec?: { type?: string; ports?: { name?: string; port?: number; nodePort?: number; protocol?: string; targetPort?: number | string; appProtocol?: string }[]; externalIPs?: string[]; selector?: Record<string, string>; clusterIP?: string };
  status?: { loadBalancer?: { ingress?: { ip?: string; hostname?: string }[] } };
}

/**
 * A gateway Service as istiod sees it: labelled topology.istio.io/network (port from
 * networking.istio.io/gatewayPort, default 15443; network.go getGatewayDetails), or named by a meshNetworks
 * gateway's registryServiceName (`named`: that network and port).
 */
function gatewayOf(s: ServiceLike, named?: { network: string; port: number }): NetworkGateway {
  const labels = s.metadata?.labels ?? {};
  const ports = s.spec?.ports ?? [];
  const wanted = named?.port ?? Number(labels['networking.istio.io/gatewayPort'] ?? 15443);
  const mtls = ports.find((p) => p.port === wanted);
  const addresses = [...(s.status?.loadBalancer?.ingress ?? []).map((i) => i.ip ?? i.hostname ?? '').filter(Boolean), ...(s.spec?.externalIPs ?? [])];
  return {
    namespace: s.metadata?.namespace ?? '',
    name: s.metadata?.name ?? '',
    network: named?.network ?? labels[NETWORK_LABEL] ?? '',
    ...(mtls ? { mtlsPort: wanted } : {}),
    ...(ports.some((p) => p.port === 15008) ? { hbonePort: true } : {}),
    type: s.spec?.type ?? 'ClusterIP',
    addresses,
    // a NodePort gateway gets node addresses only with traffic.istio.io/nodeSelector
    // (pilot/pkg/serviceregistry/kube/conversion.go ConvertService, controller.go addOrUpdateService)
    ...(mtls?.nodePort && s.spec?.type === 'NodePort' ? (s.metadata?.annotations?.[NODE_SELECTOR_ANNOTATION] !== undefined ? { nodePort: mtls.nodePort } : { nodePortWithoutSelector: true }) : {}),
    selector: s.spec?.selector ?? {},
    labels,
  };
}

function passthroughOf(g: KubeObject): PassthroughGateway[] {
  const spec = (g.spec ?? {}) as { selector?: Record<string, string>; servers?: { port?: { number?: number }; tls?: { mode?: string }; hosts?: string[] }[] };
  return (spec.servers ?? [])
    .filter((s) => s.tls?.mode === 'AUTO_PASSTHROUGH' && typeof s.port?.number === 'number')
    .map((s) => ({ namespace: g.metadata?.namespace ?? '', name: g.metadata?.name ?? '', port: s.port!.number!, hosts: s.hosts ?? [], selector: spec.selector ?? {} }));
}

// ---- remote secrets ----------------------------------------------------------------------------

/** Reads and summarises remote secrets; the kubeconfigs never leave this function. */
async function readRemoteSecrets(k: Kubectl, ns: string): Promise<RemoteSecretEntry[]> {
  const step = `listing remote secrets in ${ns}`;
  let text: string | undefined = await k.ok(['get', 'secrets', '-n', ns, '-l', `${MULTICLUSTER_SECRET_LABEL}=true`, '-o', 'json'], step);
  const list = parseQuiet<{ items?: { metadata?: { name?: string; annotations?: Record<string, string> }; data?: Record<string, string> }[] }>(text, step);
  text = undefined;
  const out: RemoteSecretEntry[] = [];
  for (const s of list.items ?? []) {
    const name = s.metadata?.name ?? '';
    const annotated = s.metadata?.annotations?.[CLUSTER_NAME_ANNOTATION];
    for (const [key, b64] of Object.entries(s.data ?? {})) {
      const kubeconfig = summarizeKubeconfig(Buffer.from(b64, 'base64').toString('utf8'));
      out.push({ secret: `${ns}/${name}`, key, ...(annotated ? { annotatedCluster: annotated } : {}), kubeconfig });
    }
    s.data = {};
  }
  return out.sort((a, b) => `${a.secret}/${a.key}`.localeCompare(`${b.secret}/${b.key}`));
}

/**
 * The root of secret cacerts, and nothing of its keys; null when there is no cacerts. istiod takes the
 * kubernetes.io/tls layout (tls.crt, tls.key, ca.crt = root) when tls.crt exists, else the istiod layout
 * with root-cert.pem (pilot/pkg/bootstrap/istio_ca.go detectSigningCABundleAndCRL). tls.crt is a public
 * certificate, asked for only to tell the layouts apart.
 */
async function readCacerts(k: Kubectl, ns: string): Promise<RootSet | null> {
  const out = await k.ok(['get', 'secret', 'cacerts', '-n', ns, '-o', 'jsonpath={.data.root-cert\\.pem}{"|"}{.data.ca\\.crt}{"|"}{.data.tls\\.crt}'], `reading the root of secret ${ns}/cacerts`);
  const [root = '', caCrt = '', tlsCrt = ''] = out.trim().split('|');
  const tlsLayout = tlsCrt !== '';
  const b64 = tlsLayout ? caCrt : root;
  const source = `secret ${ns}/cacerts ${tlsLayout ? 'ca.crt (kubernetes.io/tls layout)' : 'root-cert.pem'}`;
  if (!b64) return { source: `secret ${ns}/cacerts (no ${tlsLayout ? 'ca.crt' : 'root-cert.pem'})`, fingerprints: [], invalid: 0 };
  return rootSet(Buffer.from(b64, 'base64').toString('utf8'), source);
}

// ---- istiod's view -----------------------------------------------------------------------------

async function readClusterz(k: Kubectl, ns: string, pod: Pod): Promise<ClusterzEntry[]> {
  const name = pod.metadata?.name ?? '';
  let body: string;
  try {
    body = await k.ok(['exec', '-n', ns, name, '-c', 'discovery', '--', 'pilot-discovery', 'request', 'GET', 'debug/clusterz'], `asking istiod ${ns}/${name} for debug/clusterz`);
  } catch (e) {
    if (!(e instanceof KubectlError) || e.kind !== 'forbidden') throw e;
    // istioctl remote-clusters' own way: port-forward to the monitoring port (pkg/kube/client.go AllDiscoveryDo)
    const opened = await openProxyAdmin(k, { namespace: ns, name, container: 'discovery' }, { prefer: 'port-forward', adminPort: monitoringPort(pod) });
    try {
      body = await opened.admin.get('debug/clusterz');
    } finally {
      await opened.admin.close();
    }
  }
  const parsed = JSON.parse(body.trim() || '[]') as unknown;
  if (!Array.isArray(parsed)) throw new Error('debug/clusterz did not answer a list');
  return parsed.map((d: { id?: unknown; secretName?: unknown; syncStatus?: unknown }) => ({ id: String(d.id ?? ''), secretName: String(d.secretName ?? ''), syncStatus: String(d.syncStatus ?? '') }));
}

// ---- one cluster -------------------------------------------------------------------------------

/** Why a context cannot be used, in this verb's words (the user named it with --context). */
export function contextUnusable(context: string, e: UnavailableError): string {
  return e instanceof KubeconfigContextError ? `context ${context} cannot be used (${e.detail}): check kubectl config get-contexts and --kubeconfig` : e.message;
}

export async function readClusterFacts(k: Kubectl, context: string, opts: ClusterReadOptions): Promise<ClusterFacts> {
  const ns = opts.controlPlaneNamespace;
  const base = { context, controlPlaneNamespace: ns, logSince: opts.since };
  const gaps: CollectionGap[] = [];
  const readSecrets = opts.secrets !== false;
  // every first-level read at once (kubectl start-up dominates): a context that does not resolve or a
  // cluster that does not answer fails them all alike, and only then are their errors looked at
  const settle = <T>(p: Promise<T>): Promise<{ ok: true; v: T } | { ok: false; e: unknown }> => p.then((v) => ({ ok: true as const, v }), (e: unknown) => ({ ok: false as const, e }));
  const resolved = settle(resolveContext(k));
  const reads = Promise.all([
    settle(optional(`get namespace ${ns}`, gaps, () => k.getJson<KubeObject>(['namespace', ns], `reading namespace ${ns}`), () => null)),
    settle(optional(`list pods -l app=istiod in ${ns}`, gaps, () => getList(k, ['pods', '-n', ns, '-l', 'app=istiod'], `listing istiod pods in ${ns}`))),
    settle(optional(`list configmaps in ${ns}`, gaps, () => getList(k, ['configmaps', '-n', ns], `listing configmaps in ${ns}`))),
    settle(readSecrets ? optional(`get secret ${ns}/cacerts`, gaps, () => readCacerts(k, ns), () => null) : Promise.resolve(undefined)),
    settle(readSecrets ? optional(`list secrets -l ${MULTICLUSTER_SECRET_LABEL}=true in ${ns}`, gaps, () => readRemoteSecrets(k, ns)) : Promise.resolve(undefined)),
    settle(optional(`list services -l ${NETWORK_LABEL} (all namespaces)`, gaps, () => getList(k, ['services', '-A', '-l', NETWORK_LABEL], 'listing east-west gateway services'))),
    settle(optional('list gateways.networking.istio.io (all namespaces)', gaps, () => getList(k, ['gateways.networking.istio.io', '-A'], 'listing Istio Gateways'))),
  ] as const);
  const r = await resolved;
  const all = await reads;
  if (!r.ok) {
    if (!(r.e instanceof UnavailableError)) throw r.e;
    return { ...base, readable: false, error: contextUnusable(context, r.e), gaps: [] };
  }
  const server = r.v.server;
  const failed = all.find((x) => !x.ok) as { ok: false; e: unknown } | undefined;
  if (failed) {
    const e = failed.e;
    if (e instanceof ClusterUnreachable || (e instanceof UnavailableError && !(e instanceof KubectlError))) return { ...base, server, readable: false, error: (e as Error).message, gaps: [] };
    throw e;
  }
  const value = <T>(x: { ok: true; v: T } | { ok: false; e: unknown }): T => (x as { ok: true; v: T }).v;
  const nsObj = value(all[0]);
  const pods = value(all[1]);
  const cms = value(all[2]);
  const cacerts = value(all[3]);
  const secrets = value(all[4]);
  const gatewaySvcs = value(all[5]);
  const gateways = value(all[6]);
  try {
    if (nsObj === null) {
      return { ...base, server, readable: true, error: `namespace ${ns} does not exist: Istio is not installed here, or its control plane runs in another namespace (--istio-namespace)`, gaps: gaps.filter((g) => g.reason !== 'not-found') };
    }
    const istiodPods = (pods as Pod[] | undefined)?.map(istiodPod).sort((a, b) => Number(b.running) - Number(a.running) || a.name.localeCompare(b.name));
    const running = ((pods ?? []) as Pod[]).filter((p) => p.status?.phase === 'Running').sort((a, b) => (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''));
    const revision = istiodPods?.find((p) => p.running)?.revision;
    const cmFacts = cms ? configMapFacts(cms, ns, revision, gaps) : {};
    let clusterz: ClusterzEntry[] | undefined;
    let clusterzError: string | undefined;
    let logEvents: ControlPlaneLogEvent[] | undefined;
    // meshNetworks gateways named by Service (registryServiceName): their external address is that Service's
    const named = new Map<string, { network: string; port: number | undefined }>();
    for (const n of cmFacts.meshNetworks?.networks ?? []) for (const g of n.gateways) if (g.registryServiceName) named.set(g.registryServiceName, { network: n.name, port: g.port });
    const labelled = new Set(((gatewaySvcs ?? []) as ServiceLike[]).map((x) => `${x.metadata?.name}.${x.metadata?.namespace}`));
    const registryRead = Promise.all(
      [...named].map(async ([host, nw]) => {
        const [name, namespace] = host.split('.');
        if (!name || !namespace || labelled.has(`${name}.${namespace}`)) return undefined;
        const step = `reading meshNetworks gateway service ${namespace}/${name}`;
        const r = await k.run(['get', 'service', name, '-n', namespace, '--ignore-not-found', '-o', 'json'], { step });
        if (r.exitCode !== 0 || r.stdout.trim() === '') return undefined;
        return gatewayOf(parseQuiet<ServiceLike>(r.stdout, step), { network: nw.network, port: nw.port ?? 15443 });
      }),
    );
    if (running.length > 0) {
      const logPods = running.slice(0, opts.maxLogPods ?? 2);
      const [cz, logs] = await Promise.all([
        readClusterz(k, ns, running[0]!).catch((e: unknown) => {
          if (e instanceof KubectlError && (e.kind === 'unreachable' || e.kind === 'unauthorized')) throw new ClusterUnreachable(e.message);
          clusterzError = e instanceof Error ? e.message.split('\n')[0]! : String(e);
          return undefined;
        }),
        Promise.all(
          logPods.map((p) =>
            optional(`read the log of istiod ${ns}/${p.metadata?.name}`, gaps, async () =>
              parseIstiodLog(await k.ok(['logs', '-n', ns, p.metadata?.name ?? '', '-c', 'discovery', `--since=${opts.since}`], `reading the log of istiod ${ns}/${p.metadata?.name}`), p.metadata?.name ?? ''),
            ),
          ),
        ),
      ]);
      clusterz = cz;
      if (logs.some((l) => l !== undefined)) logEvents = logs.flatMap((l) => l ?? []).slice(-50);
    }
    const registryGateways = (await registryRead).filter((g): g is NetworkGateway => g !== undefined);
    gaps.sort((a, b) => a.what.localeCompare(b.what));
    return {
      ...base,
      server,
      readable: true,
      ...(readSecrets ? {} : { secretsNotRead: 'snapshots never read Secret objects' }),
      ...(istiodPods ? { istiod: istiodPods } : {}),
      ...(cmFacts.injector ? { injector: cmFacts.injector } : {}),
      ...(cacerts !== undefined ? { cacerts } : {}),
      ...(cmFacts.distributedRoots !== undefined ? { distributedRoots: cmFacts.distributedRoots } : {}),
      ...(secrets ? { remoteSecrets: secrets } : {}),
      ...(clusterz ? { clusterz } : {}),
      ...(clusterzError ? { clusterzError } : {}),
      ...(logEvents ? { logEvents } : {}),
      ...(nsObj?.metadata?.labels?.[NETWORK_LABEL] ? { namespaceNetwork: nsObj.metadata.labels[NETWORK_LABEL] } : {}),
      ...(cmFacts.meshNetworks ? { meshNetworks: cmFacts.meshNetworks } : {}),
      ...(cmFacts.discoverySelectors ? { discoverySelectors: cmFacts.discoverySelectors } : {}),
      ...(cmFacts.trustDomain ? { trustDomain: cmFacts.trustDomain } : {}),
      ...(gatewaySvcs ? { gateways: [...(gatewaySvcs as ServiceLike[]).map((s) => gatewayOf(s)), ...registryGateways].sort((a, b) => `${a.namespace}/${a.name}`.localeCompare(`${b.namespace}/${b.name}`)) } : {}),
      ...(gateways ? { passthrough: gateways.flatMap(passthroughOf) } : {}),
      gaps,
    };
  } catch (e) {
    if (e instanceof ClusterUnreachable || (e instanceof UnavailableError && !(e instanceof KubectlError))) {
      return { ...base, server, readable: false, error: e.message, gaps };
    }
    throw e;
  }
}

// ---- SERVICE in one cluster ---------------------------------------------------------------------

function servicePorts(s: ServiceLike): ServiceFacts['ports'] {
  return (s.spec?.ports ?? []).map((p) => ({
    ...(p.name ? { name: p.name } : {}),
    port: p.port ?? 0,
    protocol: p.protocol ?? 'TCP',
    ...(p.targetPort !== undefined ? { targetPort: String(p.targetPort) } : {}),
    ...(p.appProtocol ? { appProtocol: p.appProtocol } : {}),
  }));
}

interface SliceLike {
  endpoints?: { addresses?: string[]; conditions?: { ready?: boolean }; targetRef?: { kind?: string; name?: string } }[];
}

export async function readServiceFacts(k: Kubectl, context: string, ref: ServiceRef): Promise<ServiceFacts> {
  const gaps: CollectionGap[] = [];
  const { name, namespace } = ref;
  try {
    const [svc, nsObj, slices] = await Promise.all([
      optional(`get service ${namespace}/${name}`, gaps, () => k.getJson<KubeObject>(['service', name, '-n', namespace], `reading service ${namespace}/${name}`), () => null),
      optional(`get namespace ${namespace}`, gaps, () => k.getJson<KubeObject>(['namespace', namespace], `reading namespace ${namespace}`), () => null),
      optional(`list endpointslices of ${namespace}/${name}`, gaps, () => getList(k, ['endpointslices.discovery.k8s.io', '-n', namespace, '-l', `kubernetes.io/service-name=${name}`], `listing endpointslices of ${namespace}/${name}`)),
    ]);
    const s = svc as ServiceLike | null | undefined;
    const endpoints = slices
      ? (slices as SliceLike[]).flatMap((sl) => (sl.endpoints ?? []).flatMap((ep) => (ep.addresses ?? []).map((ip) => ({ ip, ...(ep.targetRef?.kind === 'Pod' && ep.targetRef.name ? { pod: ep.targetRef.name } : {}), ready: ep.conditions?.ready !== false }))))
      : undefined;
    const exportTo = s?.metadata?.annotations?.['networking.istio.io/exportTo'];
    return {
      context,
      ...(s === undefined ? {} : { present: s !== null }),
      ...(s ? { type: s.spec?.type ?? 'ClusterIP', headless: s.spec?.clusterIP === 'None', ports: servicePorts(s) } : {}),
      ...(exportTo ? { exportTo: exportTo.split(',').map((x) => x.trim()).filter(Boolean) } : {}),
      ...(nsObj === undefined ? {} : { namespaceLabels: nsObj === null ? null : (nsObj.metadata?.labels ?? {}) }),
      ...(endpoints ? { endpoints: endpoints.sort((a, b) => a.ip.localeCompare(b.ip)) } : {}),
      gaps,
    };
  } catch (e) {
    if (e instanceof ClusterUnreachable) return { context, gaps: [{ what: `read service ${namespace}/${name}`, reason: 'error', detail: e.message }] };
    throw e;
  }
}

// ---- the --from proxy ---------------------------------------------------------------------------

type Json = Record<string, unknown>;
const obj = (v: unknown): Json => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : {});
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const pick = (o: Json, snake: string, camel: string): unknown => o[snake] ?? o[camel];

/** EDS of SERVICE from a config_dump?include_eds&resource=dynamic_endpoint_configs answer. */
export function parseEdsDump(text: string, ref: ServiceRef): NonNullable<ProxyFacts['clusters']> {
  return serviceEndpointsFromDump(JSON.parse(text || '{}'), ref);
}

/** The ROOTCA trusted_ca of a config_dump?resource=dynamic_active_secrets&mask=secret.validation_context answer. */
export function parseRootCaDump(text: string): RootSet | undefined {
  const doc = obj(JSON.parse(text || '{}'));
  const pems: string[] = [];
  let seen = false;
  for (const c of arr(doc.configs)) {
    const s = obj(obj(c).secret);
    const vc = obj(pick(s, 'validation_context', 'validationContext'));
    const ca = obj(pick(vc, 'trusted_ca', 'trustedCa'));
    const bytes = pick(ca, 'inline_bytes', 'inlineBytes');
    const str = pick(ca, 'inline_string', 'inlineString');
    if (typeof bytes === 'string') pems.push(Buffer.from(bytes, 'base64').toString('utf8'));
    else if (typeof str === 'string') pems.push(str);
    else continue;
    seen = true;
  }
  return seen ? rootSet(pems.join('\n'), 'proxy ROOTCA (config_dump)') : undefined;
}

const TLS_ERROR = /TLS error: (\d+):SSL routines:OPENSSL_internal:([A-Z0-9_]+)/g;

/** BoringSSL TLS failures in an istio-proxy log: counted per reason with first/last timestamps. */
export function scanProxyTlsErrors(log: string): TlsErrorSummary[] {
  const by = new Map<string, { reason: string; code: string; count: number; first?: string; last?: string; sample: string }>();
  for (const line of log.split('\n')) {
    if (!line.includes('TLS error:')) continue;
    const time = /^\[(\d{4}-\d\d-\d\d[T ][\d:.]+Z?)\]/.exec(line)?.[1] ?? /^(\d{4}-\d\d-\d\dT[\d:.]+Z)/.exec(line)?.[1];
    for (const m of line.matchAll(TLS_ERROR)) {
      const key = m[2]!;
      const cur = by.get(key) ?? { reason: key, code: m[1]!, count: 0, sample: redactLogText(line, 300) };
      cur.count++;
      if (time) {
        cur.first ??= time;
        cur.last = time;
      }
      by.set(key, cur);
    }
  }
  return [...by.values()].sort((a, b) => b.count - a.count || a.reason.localeCompare(b.reason));
}

const ROOTCA_QUERY = `config_dump?resource=dynamic_active_secrets&name_regex=${encodeURIComponent('ROOTCA|file-root:.*')}&mask=${encodeURIComponent('name,secret.validation_context')}`;

/** The proxy's trusted roots as fingerprints: only the ROOTCA validation context is asked for (no key, no chain). */
export async function readRootCa(admin: ProxyAdmin): Promise<RootSet | undefined> {
  return parseRootCaDump(await admin.get(ROOTCA_QUERY));
}

export interface ProxyReadInput {
  readonly pod: Pod;
  /** SERVICE, whose outbound clusters are read from EDS; none: no EDS read */
  readonly ref?: ServiceRef;
  readonly since: string;
  readonly prefer?: 'exec' | 'port-forward';
}

/** EDS for SERVICE, the trusted root and TLS errors of the --from proxy, in parallel where possible. */
export async function readProxyFacts(k: Kubectl, context: string, input: ProxyReadInput): Promise<ProxyFacts> {
  const pod = input.pod;
  const ns = pod.metadata?.namespace ?? '';
  const name = pod.metadata?.name ?? '';
  const proxy = [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])].find((c) => c.name === 'istio-proxy') as ContainerLike | undefined;
  const clusterId = envOf(proxy, 'ISTIO_META_CLUSTER_ID');
  const network = envOf(proxy, 'ISTIO_META_NETWORK');
  const base = { context, pod: `${ns}/${name}`, namespace: ns, ...(clusterId ? { clusterId } : {}), ...(network ? { network } : {}), logSince: input.since };
  const logRead = k
    .ok(['logs', '-n', ns, name, '-c', 'istio-proxy', `--since=${input.since}`], `reading the istio-proxy log of ${ns}/${name}`)
    .then((text) => ({ tlsErrors: scanProxyTlsErrors(text) }))
    .catch((e: unknown) => ({ logError: e instanceof Error ? e.message : String(e) }));
  let opened;
  try {
    opened = await openProxyAdmin(k, { namespace: ns, name, container: 'istio-proxy' }, input.prefer ? { prefer: input.prefer } : {});
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    return { ...base, rootError: why, ...(input.ref ? { edsError: why } : {}), ...(await logRead) };
  }
  try {
    const admin = opened.admin;
    const ref = input.ref;
    const [eds, roots, logs] = await Promise.all([
      ref
        ? admin
            .get(`config_dump?include_eds&resource=dynamic_endpoint_configs&name_regex=${encodeURIComponent(outboundClusterRegex(ref))}`)
            .then((t) => ({ clusters: parseEdsDump(t, ref) }))
            .catch((e: unknown) => ({ edsError: e instanceof Error ? e.message : String(e) }))
        : Promise.resolve({}),
      readRootCa(admin)
        .then((r) => (r ? { roots: r } : { rootError: 'the proxy has no ROOTCA secret in its configuration (not yet provisioned, or certificates are mounted from files)' }))
        .catch((e: unknown) => ({ rootError: e instanceof Error ? e.message : String(e) })),
      logRead,
    ]);
    return { ...base, via: admin.via, ...eds, ...roots, ...logs };
  } finally {
    await opened.admin.close();
  }
}
