/**
 * Ready-to-apply fixes for start-up races, as patches of the owning workload's pod template (a
 * template change rolls the pods out; the injector reads the annotations when it injects the new
 * pods). A pod without a controller cannot be patched in place: the fix says to recreate it.
 */
import type { Fix } from '../finding.js';
import type { Pod } from '../../model/cluster-view.js';
import { ownerWorkload } from '../../model/proxy.js';
import { ownerOf } from '../trace/pod-settings.js';
import { proxyConfigAnnotation, type Layout, type NativeSupport } from './layout.js';

export interface WorkloadRef {
  /** kubectl's kind/name, e.g. deployment/checkout */
  readonly ref: string;
  readonly namespace: string;
  /** where the pod template sits in the object */
  readonly template: readonly string[];
}

export function workloadOf(pod: Pod): WorkloadRef | undefined {
  const owner = ownerWorkload(ownerOf(pod));
  if (!owner || owner.kind === 'job') return undefined;
  return { ref: `${owner.kind}/${owner.name}`, namespace: owner.namespace, template: owner.kind === 'cronjob' ? ['spec', 'jobTemplate', 'spec', 'template'] : ['spec', 'template'] };
}

function nest(path: readonly string[], leaf: unknown): unknown {
  return path.reduceRight<unknown>((acc, key) => ({ [key]: acc }), leaf);
}

/** Single-quoted for a POSIX shell. */
function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

function podRef(pod: Pod): string {
  return `${pod.metadata?.namespace ?? 'default'}/${pod.metadata?.name ?? '?'}`;
}

/** A merge patch adding annotations to the pod template (or, for a bare pod, the manifest change). */
export function annotationFix(pod: Pod, annotations: Readonly<Record<string, string>>, rank: number, title: string, tradeoffs: string): Fix {
  const w = workloadOf(pod);
  if (!w) {
    return {
      rank,
      title,
      tradeoffs: `${tradeoffs} Pod ${podRef(pod)} has no controller: add the annotations to its manifest and recreate it (the injector reads them only when it creates the pod).`,
      kind: 'yaml',
      content: Object.entries(annotations)
        .map(([k, v]) => `metadata:\n  annotations:\n    ${k}: ${JSON.stringify(v)}`)
        .join('\n'),
    };
  }
  const patch = nest(w.template, { metadata: { annotations } });
  return {
    rank,
    title,
    tradeoffs: `${tradeoffs} The patch changes the pod template, so ${w.ref} rolls out new pods.`,
    kind: 'command',
    content: `kubectl patch ${w.ref} -n ${w.namespace} --type merge -p ${shellQuote(JSON.stringify(patch))}`,
  };
}

export function holdFix(pod: Pod, rank: number): Fix {
  const existing = proxyConfigAnnotation(pod).config ?? {};
  const value = JSON.stringify({ ...existing, holdApplicationUntilProxyStarts: true });
  return annotationFix(
    pod,
    { 'proxy.istio.io/config': value },
    rank,
    'Hold the application until the proxy is ready (holdApplicationUntilProxyStarts)',
    `The injector puts istio-proxy first with a postStart \`pilot-agent wait\` hook; pods start a few seconds later, and if Envoy is not ready within 60 s the hook fails and the application starts anyway.${Object.keys(existing).length ? ' The pod\'s other proxy.istio.io/config settings are kept.' : ''} Mesh-wide instead: meshConfig.defaultConfig.holdApplicationUntilProxyStarts: true (then restart the workloads).`,
  );
}

export function nativeFix(pod: Pod, native: NativeSupport, layout: Layout, rank: number, alsoInitContainers: boolean): Fix {
  const nodes = native.nodeSupports === false ? ' The pod\'s node is too old for it: upgrade the nodes first.' : native.nodeSupports === undefined ? ' Check that every node runs Kubernetes 1.29+ first.' : '';
  const base = `istio-proxy becomes an init container with restartPolicy: Always and a startupProbe: the kubelet starts ${alsoInitContainers ? 'the user init containers and ' : ''}the application only once Envoy is ready, and stops the proxy after them. Needs Kubernetes 1.29+ on every node (the API server drops the field otherwise and the pod never leaves Init).${nodes}`;
  if (native.annotationWorks === false) {
    return {
      rank,
      title: 'Use native sidecars',
      tradeoffs: `${base} Istio ${layout.istioVersion ?? ''} honours only the mesh-wide switch ENABLE_NATIVE_SIDECARS=true on istiod (the per-pod annotation needs Istio 1.24+).`,
      kind: 'yaml',
      content: '# Helm values of istiod (or IstioOperator spec.values); restart the workloads afterwards\npilot:\n  env:\n    ENABLE_NATIVE_SIDECARS: "true"\n',
    };
  }
  return annotationFix(pod, { 'sidecar.istio.io/nativeSidecar': 'true' }, rank, 'Use a native sidecar for this workload', base);
}

export function readinessLoopFix(layout: Layout, containers: readonly string[], rank: number): Fix {
  const endpoint = layout.readinessEndpoint ?? '15021/healthz/ready';
  const [port, ...rest] = endpoint.split('/');
  const url = `http://localhost:${port}/${rest.join('/')}`;
  return {
    rank,
    title: `Make ${containers.join(', ')} wait for ${url} before connecting out`,
    tradeoffs: 'Works with any Istio version and no change to the injector, but every image needs a shell and curl or wget (or the loop in the application\'s own start-up code); the application must also retry connections that fail later.',
    kind: 'text',
    content: `# in the container's command, before the application starts:\nuntil wget -q -O /dev/null ${url} 2>/dev/null || curl -fsS -o /dev/null ${url}; do sleep 1; done\n# e.g. command: ["/bin/sh", "-c", "until wget -q -O /dev/null ${url}; do sleep 1; done; exec /app/server"]`,
  };
}

export function restartFix(pod: Pod, rank: number, why: string): Fix {
  const w = workloadOf(pod);
  return {
    rank,
    title: 'Recreate the pods so the injector applies the current settings',
    tradeoffs: `${why} New pods replace the old ones as the rollout strategy allows.`,
    kind: 'command',
    content: w ? `kubectl rollout restart ${w.ref} -n ${w.namespace}` : `kubectl delete pod ${pod.metadata?.name ?? ''} -n ${pod.metadata?.namespace ?? 'default'}   # then recreate it from its manifest`,
  };
}

/** Appends an entry to a comma-separated annotation value (keeping what the pod already has). */
export function appendCsv(existing: string | undefined, item: string): string {
  const parts = (existing ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (!parts.includes(item)) parts.push(item);
  return parts.join(',');
}

export function excludeRangeFix(pod: Pod, cidr: string, rank: number, note: string): Fix {
  const a = 'traffic.sidecar.istio.io/excludeOutboundIPRanges';
  return annotationFix(
    pod,
    { [a]: appendCsv(pod.metadata?.annotations?.[a], cidr) },
    rank,
    `Exclude ${cidr} from capture (excludeOutboundIPRanges)`,
    `Connections to ${cidr} from every container of the pod bypass Envoy: no mesh mTLS, telemetry or egress policy for them (Vault's own TLS still protects the traffic).${note}`,
  );
}

export function excludePortFix(pod: Pod, port: number, rank: number): Fix {
  const a = 'traffic.sidecar.istio.io/excludeOutboundPorts';
  return annotationFix(
    pod,
    { [a]: appendCsv(pod.metadata?.annotations?.[a], String(port)) },
    rank,
    `Exclude port ${port} from capture (excludeOutboundPorts)`,
    `Works with a hostname, but every connection to port ${port}, to any address, from every container of the pod bypasses Envoy.`,
  );
}

/** Run the init container as the proxy's UID: iptables never redirects UID 1337. */
export function runAsProxyUidFix(pod: Pod, container: string, vault: boolean, rank: number): Fix {
  if (vault) {
    return annotationFix(
      pod,
      { 'vault.hashicorp.com/agent-run-as-user': '1337', 'vault.hashicorp.com/agent-run-as-group': '1337' },
      rank,
      'Run the Vault agent as UID/GID 1337 (the proxy\'s)',
      'All of the Vault agent\'s traffic (init and sidecar) then bypasses Envoy, whatever the destination; its files are owned by 1337, so the application must be able to read them.',
    );
  }
  const w = workloadOf(pod);
  const patch = { spec: { initContainers: [{ name: container, securityContext: { runAsUser: 1337, runAsGroup: 1337 } }] } };
  return {
    rank,
    title: `Run init container ${container} as UID/GID 1337 (the proxy's)`,
    tradeoffs: 'All of its traffic then bypasses Envoy, whatever the destination; anything it writes is owned by 1337.',
    kind: w ? 'command' : 'yaml',
    content: w
      ? `kubectl patch ${w.ref} -n ${w.namespace} --type strategic -p ${shellQuote(JSON.stringify(nest(w.template, patch)))}`
      : `spec:\n  initContainers:\n  - name: ${container}\n    securityContext:\n      runAsUser: 1337\n      runAsGroup: 1337\n`,
  };
}

/** vault.hashicorp.com/agent-init-first: vault-agent-init runs before istio-init installs the rules. */
export function vaultInitFirstFix(pod: Pod, rank: number): Fix {
  return annotationFix(
    pod,
    { 'vault.hashicorp.com/agent-init-first': 'true' },
    rank,
    'Run vault-agent-init before istio-init',
    'The Vault injector puts its init container first, before istio-init installs the capture rules: it reaches Vault directly (not through the mesh). Does not help with istio-cni, whose rules exist before any init container.',
  );
}
