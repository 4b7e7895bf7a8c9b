/**
 * doctor --probe: the one mutating action of a read-only verb. A short-lived pod without a
 * sidecar, next to the target pod, connects to DEST with curl; then it is deleted, whatever
 * happens (success, failure, timeout, interruption, an error elsewhere in the run).
 *
 * The pod:
 *  - labelled as ours (app.kubernetes.io/managed-by: kubectl-mesh_egress) and excluded from the
 *    mesh: sidecar.istio.io/inject "false" (label and the older annotation) and
 *    istio.io/dataplane-mode: none (ambient);
 *  - restartPolicy Never, activeDeadlineSeconds (the kubelet kills it even if this process dies),
 *    no service account token, the restricted Pod Security profile (non-root, no privilege
 *    escalation, all capabilities dropped, read-only root, RuntimeDefault seccomp), small requests
 *    and limits (namespaces with quotas demand them);
 *  - the target pod's DNS settings and host aliases (the same name resolution), its image pull
 *    secrets, and with --probe-same-node its node (nodeName: the node's own egress path and
 *    firewall rules) and tolerations;
 *  - none of the target pod's labels: a Service selecting them would send traffic to the probe.
 *    So NetworkPolicies that select the application by label do not apply to the probe; step 6
 *    evaluates those.
 *
 * The image: --probe-image, else the target's own istio-proxy image (the node already has it and
 * the cluster can pull it, which matters in air-gapped clusters and under Docker Hub limits; Istio's
 * default proxyv2 image is Ubuntu-based and ships curl, docker/Dockerfile.base), else — for the
 * distroless proxy images, which have no curl — curlimages/curl (the curl project's own image:
 * small, multi-arch, non-root, TLS built in). busybox would be smaller, but its nc has no TLS and
 * its options differ between builds.
 *
 * curl is the only tool the probe needs: telnet:// opens a TCP connection and sends nothing (the
 * right probe for Redis or MySQL: an HTTP request would make Redis log an attack warning),
 * https:// measures the TLS handshake (--insecure, so that an untrusted certificate is reported
 * rather than hiding whether TLS works), http:// makes one request. `--write-out` prints the
 * connect and handshake times and the address the name resolved to.
 */
import crypto from 'node:crypto';
import type { KubeObject, Pod } from '../model/cluster-view.js';
import type { ProbeRun, ProbeSpec } from '../model/doctor.js';
import { KubectlError, parseKubectlJson, type Kubectl } from './kubectl.js';

export const PROBE_LABELS = {
  'app.kubernetes.io/managed-by': 'kubectl-mesh_egress',
  'app.kubernetes.io/name': 'mesh-egress-probe',
  'sidecar.istio.io/inject': 'false',
  'istio.io/dataplane-mode': 'none',
} as const;

export const PROBE_CONTAINER = 'probe';

/** curl's project image, pinned; used when the proxy image has no curl. */
export const DEFAULT_PROBE_IMAGE = 'curlimages/curl:8.11.1';

export const WRITE_OUT = 'mesh-egress-probe time_connect=%{time_connect} time_appconnect=%{time_appconnect} remote_ip=%{remote_ip} remote_port=%{remote_port} http_code=%{http_code} ssl_verify_result=%{ssl_verify_result}\n';

export function probeImage(pod: Pod, override: string | undefined): { image: string; why: string } {
  if (override) return { image: override, why: '--probe-image' };
  const proxy = [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])].find((c) => c.name === 'istio-proxy');
  if (proxy?.image && !/distroless/.test(proxy.image)) return { image: proxy.image, why: "the pod's own istio-proxy image (already on the node; it has curl)" };
  return { image: DEFAULT_PROBE_IMAGE, why: proxy?.image ? `the proxy image ${proxy.image} is distroless (no curl): the curl project's image` : 'the curl project\'s image' };
}

function hostForUrl(h: string): string {
  return h.includes(':') ? `[${h}]` : h;
}

/** curl's arguments for the connection the probe makes. */
export function curlArgs(spec: ProbeSpec): string[] {
  const t = (spec.connectTimeoutMs / 1000).toFixed(1);
  const max = ((spec.connectTimeoutMs + (spec.mode === 'tcp' ? 1000 : Math.min(10_000, spec.connectTimeoutMs))) / 1000).toFixed(1);
  const args = ['-q', '-sS', '-o', '/dev/null', '--connect-timeout', t, '--max-time', max, '-w', WRITE_OUT];
  // the name in the URL is what TLS sends as SNI; --resolve pins it to an address without DNS
  const urlHost = spec.sni ?? spec.host;
  const pin = spec.address && spec.address !== urlHost ? ['--resolve', `${urlHost}:${spec.port}:${spec.address}`] : [];
  if (spec.mode === 'tcp') return [...args, `telnet://${hostForUrl(spec.address ?? spec.host)}:${spec.port}`];
  if (spec.mode === 'http') {
    const target = spec.address ?? spec.host;
    return [...args, ...(spec.hostHeader ? ['-H', `Host: ${spec.hostHeader}`] : []), `http://${hostForUrl(target)}:${spec.port}${spec.path}`];
  }
  return [...args, '--insecure', ...pin, ...(spec.mode === 'https' && spec.hostHeader ? ['-H', `Host: ${spec.hostHeader}`] : []), `https://${hostForUrl(urlHost)}:${spec.port}${spec.mode === 'https' ? spec.path : '/'}`];
}

export function probePodName(random: () => string = () => crypto.randomBytes(4).toString('hex').slice(0, 5)): string {
  return `mesh-egress-probe-${random()}`;
}

export interface ProbePodOptions {
  readonly name: string;
  readonly spec: ProbeSpec;
  readonly sourcePod: Pod;
  readonly image: string;
  readonly sameNode: boolean;
  readonly destination: string;
}

export function probePodManifest(o: ProbePodOptions): KubeObject {
  const src = o.sourcePod.spec;
  const deadline = Math.max(1, Math.ceil(o.spec.deadlineMs / 1000));
  const podSpec: Record<string, unknown> = {
    restartPolicy: 'Never',
    activeDeadlineSeconds: deadline,
    terminationGracePeriodSeconds: 1,
    automountServiceAccountToken: false,
    enableServiceLinks: false,
    ...(src?.dnsPolicy ? { dnsPolicy: src.dnsPolicy === 'ClusterFirstWithHostNet' ? 'ClusterFirst' : src.dnsPolicy } : {}),
    ...(src?.dnsConfig ? { dnsConfig: src.dnsConfig } : {}),
    ...(src?.hostAliases ? { hostAliases: src.hostAliases } : {}),
    ...(src?.imagePullSecrets ? { imagePullSecrets: src.imagePullSecrets } : {}),
    ...(o.sameNode && src?.nodeName ? { nodeName: src.nodeName, ...(src.tolerations ? { tolerations: src.tolerations } : {}) } : {}),
    securityContext: { runAsNonRoot: true, runAsUser: 65532, runAsGroup: 65532, seccompProfile: { type: 'RuntimeDefault' } },
    containers: [
      {
        name: PROBE_CONTAINER,
        image: o.image,
        imagePullPolicy: 'IfNotPresent',
        command: ['curl'],
        args: curlArgs(o.spec),
        resources: { requests: { cpu: '10m', memory: '16Mi' }, limits: { cpu: '100m', memory: '64Mi' } },
        securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } },
      },
    ],
  };
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: o.name,
      namespace: o.spec.namespace,
      labels: { ...PROBE_LABELS },
      annotations: { 'sidecar.istio.io/inject': 'false', 'kubectl-mesh-egress/probe-for': `${o.spec.namespace}/${o.spec.sourcePod}`, 'kubectl-mesh-egress/destination': o.destination },
    },
    spec: podSpec,
  };
}

/** Waiting reasons that will not resolve by waiting. */
const STUCK = new Set(['ImagePullBackOff', 'ErrImageNeverPull', 'InvalidImageName', 'CreateContainerConfigError', 'CreateContainerError', 'RunContainerError']);

export interface ProbeDeps {
  /** creates, reads and reads the logs of the probe pod */
  readonly k: Kubectl;
  /** deletes it: a runner without the run's deadline and not cancelled with it */
  readonly cleanup: Kubectl;
  /** aborted on Ctrl-C/SIGTERM or when the run gives up: stop waiting, delete the pod */
  readonly abort: AbortSignal;
  readonly pollMs?: number;
  readonly now?: () => number;
}

/** Ctrl-C or SIGTERM arrived while the probe ran; the pod was deleted (or `deleted` says not). */
export class ProbeInterrupted extends Error {
  override readonly name = 'ProbeInterrupted';
  constructor(
    readonly pod: string | undefined,
    readonly deleted: boolean,
  ) {
    super(pod ? (deleted ? `the probe pod ${pod} was deleted` : `the probe pod ${pod} could NOT be deleted: delete it with kubectl delete pod ${pod.replace(/^([^/]+)\/(.+)$/, '$2 -n $1')}`) : 'no probe pod was created');
  }
}

class Aborted extends Error {}

function sleep(ms: number, abort: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (abort.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done(): void {
      clearTimeout(t);
      abort.removeEventListener('abort', done);
      resolve();
    }
    abort.addEventListener('abort', done, { once: true });
  });
}

interface PodState {
  readonly phase?: string;
  readonly reason?: string;
  readonly message?: string;
  readonly waiting?: { reason?: string; message?: string };
  readonly terminated?: { exitCode?: number; reason?: string };
  readonly unschedulable?: string;
  readonly node?: string;
}

function stateOf(p: KubeObject): PodState {
  const st = (p.status ?? {}) as { phase?: string; reason?: string; message?: string; conditions?: { type?: string; status?: string; reason?: string; message?: string }[]; containerStatuses?: { name?: string; state?: { waiting?: { reason?: string; message?: string }; terminated?: { exitCode?: number; reason?: string } } }[] };
  const cs = st.containerStatuses?.find((c) => c.name === PROBE_CONTAINER);
  const sched = st.conditions?.find((c) => c.type === 'PodScheduled' && c.status === 'False');
  const node = (p.spec as { nodeName?: string } | undefined)?.nodeName;
  return {
    ...(st.phase ? { phase: st.phase } : {}),
    ...(st.reason ? { reason: st.reason } : {}),
    ...(st.message ? { message: st.message } : {}),
    ...(cs?.state?.waiting ? { waiting: cs.state.waiting } : {}),
    ...(cs?.state?.terminated ? { terminated: cs.state.terminated } : {}),
    ...(sched ? { unschedulable: `${sched.reason ?? 'Unschedulable'}: ${sched.message ?? ''}`.trim() } : {}),
    ...(node ? { node } : {}),
  };
}

function describeState(s: PodState | undefined): string {
  if (!s) return 'not seen yet';
  return [s.phase ? `phase ${s.phase}` : undefined, s.waiting?.reason ? `${s.waiting.reason}${s.waiting.message ? `: ${s.waiting.message}` : ''}` : undefined, s.unschedulable, s.reason].filter(Boolean).join(', ') || 'no status yet';
}

async function deletePod(cleanup: Kubectl, ns: string, name: string): Promise<boolean> {
  for (let attempt = 0; attempt < 2; attempt++) {
    const r = await cleanup.run(['delete', 'pod', name, '-n', ns, '--ignore-not-found', '--wait=false'], { step: `deleting the probe pod ${ns}/${name}`, timeoutMs: 30_000 }).catch(() => undefined);
    if (r && r.exitCode === 0) return true;
  }
  return false;
}

/** Creates the probe pod, waits for its answer, reads it, and deletes the pod in every case. */
export async function runProbe(o: ProbePodOptions & { readonly imageWhy: string }, deps: ProbeDeps): Promise<ProbeRun> {
  const ns = o.spec.namespace;
  // an interruption stops the kubectl calls in flight at once; the cleanup runner is separate
  const stop = (): void => deps.k.dispose();
  deps.abort.addEventListener('abort', stop, { once: true });
  const attempt = { made: false };
  let outcome: ProbeRun | undefined;
  let failure: unknown;
  try {
    outcome = await probeOnce(o, deps, attempt);
  } catch (e) {
    failure = e;
  } finally {
    deps.abort.removeEventListener('abort', stop);
  }
  const deleted = attempt.made ? await deletePod(deps.cleanup, ns, o.name) : true;
  if (failure !== undefined || deps.abort.aborted) {
    if (deps.abort.aborted || failure instanceof Aborted) throw new ProbeInterrupted(attempt.made ? `${ns}/${o.name}` : undefined, deleted);
    if (failure instanceof KubectlError) return { kind: 'failed', reason: failure.message, remedy: 'Run without --probe to skip this step.', pod: o.name, image: o.image, deleted };
    throw failure;
  }
  return outcome!.kind === 'ran' || outcome!.kind === 'failed' ? { ...outcome!, deleted } : outcome!;
}

async function probeOnce(o: ProbePodOptions & { readonly imageWhy: string }, deps: ProbeDeps, attempt: { made: boolean }): Promise<ProbeRun> {
  const { k, abort } = deps;
  const ns = o.spec.namespace;
  const now = deps.now ?? Date.now;
  const pollMs = deps.pollMs ?? 500;
  const check = (): void => {
    if (abort.aborted) throw new Aborted();
  };
  check();
  attempt.made = true;
  // --validate=false: the manifest is ours, and validation would need the OpenAPI documents, which
  // some API servers (and proxies in front of them) do not serve
  const created = await k.run(['create', '--validate=false', '-f', '-', '-o', 'json'], { step: `creating the probe pod ${ns}/${o.name}`, input: JSON.stringify(probePodManifest(o)) });
  check();
  if (created.exitCode !== 0) {
    const line = created.stderr.split('\n').find((l) => l.trim() && !/^[WI]\d{4} /.test(l))?.replace(/^error: /, '').trim() ?? `kubectl exited with ${created.exitCode}`;
    const forbidden = /\(Forbidden\)|is forbidden/.test(created.stderr);
    const remedy = forbidden
      ? /PodSecurity|admission webhook|denied the request/.test(created.stderr)
        ? 'An admission policy rejected the pod: pass --probe-image with an allowed image, or ask for an exception for pods labelled app.kubernetes.io/managed-by=kubectl-mesh_egress.'
        : `Ask for "create" and "delete" on pods in namespace ${ns}, or run without --probe.`
      : 'Check the message; run without --probe to skip this step.';
    return { kind: 'failed', reason: `the probe pod could not be created: ${line}`, remedy, pod: o.name, image: o.image };
  }
  const budget = o.spec.deadlineMs + Math.min(15_000, o.spec.deadlineMs / 2);
  const started = now();
  let state: PodState | undefined;
  for (;;) {
    const got = await k.run(['get', 'pod', o.name, '-n', ns, '-o', 'json'], { step: `reading the probe pod ${ns}/${o.name}` });
    check();
    if (got.exitCode === 0) state = stateOf(parseKubectlJson<KubeObject>(got.stdout, 'reading the probe pod'));
    else if (/\(NotFound\)|not found/.test(got.stderr)) return { kind: 'failed', reason: 'the probe pod disappeared before it finished (deleted by someone or something else)', remedy: 'Run doctor --probe again.', pod: o.name, image: o.image };
    if (state?.phase === 'Succeeded' || state?.phase === 'Failed') {
      if (state.reason === 'DeadlineExceeded') return { kind: 'failed', reason: `the probe pod reached its activeDeadlineSeconds (${Math.ceil(o.spec.deadlineMs / 1000)}s) before curl finished (${describeState(state)})`, remedy: 'Raise --probe-timeout, or check the node (image pulls, scheduling).', pod: o.name, image: o.image };
      const logs = await k.run(['logs', o.name, '-n', ns, '-c', PROBE_CONTAINER], { step: `reading the probe pod's log ${ns}/${o.name}` });
      check();
      return { kind: 'ran', pod: o.name, image: o.image, imageWhy: o.imageWhy, ...(state.node ? { node: state.node } : {}), ...(state.terminated?.exitCode !== undefined ? { exitCode: state.terminated.exitCode } : {}), log: logs.exitCode === 0 ? logs.stdout : '', deleted: false };
    }
    if (state?.waiting?.reason && STUCK.has(state.waiting.reason)) {
      const pull = /Image|Pull/.test(state.waiting.reason);
      return { kind: 'failed', reason: `the probe container cannot start: ${describeState(state)}`, remedy: pull ? `The node cannot pull ${o.image}: pass --probe-image with an image your cluster can pull that has curl.` : 'Check kubectl describe for the probe pod while it exists, or run without --probe.', pod: o.name, image: o.image };
    }
    if (now() - started > budget) {
      return { kind: 'failed', reason: `no answer within ${Math.round(budget / 1000)}s (${describeState(state)})`, remedy: state?.unschedulable ? 'The pod could not be scheduled: free capacity or drop --probe-same-node.' : 'Raise --probe-timeout, or check the namespace\'s events.', pod: o.name, image: o.image };
    }
    await sleep(pollMs, abort);
    check();
  }
}
