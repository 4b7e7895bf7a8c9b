/**
 * Finding codes of `race-check`: proxy start-up races. Codes MEG050–MEG059.
 * Codes are forever (see catalog.ts).
 */
import { entry } from './catalog-entry.js';

export const raceCodes = {
  AppStartedBeforeProxyReady: entry<{ container: string; started: string; ready: string; gap: string; errorAt: string; line: string; cause: string }>({
    code: 'MEG050',
    severity: 'error',
    title: 'The application hit connection errors before its sidecar was ready',
    description:
      'istio-init (or istio-cni) installs the iptables rules before any application container starts, so every outbound TCP connection is redirected to Envoy on port 15001 from the first instant; until Envoy has its listeners the application gets ECONNREFUSED (seed 001). The check compares the container\'s start, the proxy\'s ready time (pilot-agent "Envoy proxy is ready", readiness events, pod conditions) and the first connection-refused line in the application\'s own logs.',
    message: (p) =>
      `Container ${p.container} started at ${p.started}, ${p.gap} before the sidecar was ready (${p.ready}); its first connection-refused error came at ${p.errorAt}, inside that window: "${p.line}". ${p.cause}`,
  }),
  AppNotHeldForProxy: entry<{ containers: string; how: string; measured: string }>({
    code: 'MEG051',
    severity: 'warning',
    title: 'Nothing makes the application wait for its sidecar',
    description:
      'With a classic sidecar, Kubernetes starts istio-proxy and the application containers together unless holdApplicationUntilProxyStarts puts istio-proxy first with a postStart `pilot-agent wait` hook; with a native sidecar the startupProbe does the waiting. Without either, any connection the application opens while Envoy is starting is refused.',
    message: (p) => `Nothing makes ${p.containers} wait for the sidecar: ${p.how}. ${p.measured}`,
  }),
  HoldNotEffective: entry<{ requestedBy: string; missing: string; consequence: string }>({
    code: 'MEG052',
    severity: 'error',
    title: 'holdApplicationUntilProxyStarts is requested but the pod does not carry it',
    description:
      'The injector honours holdApplicationUntilProxyStarts only when it injects the pod: it moves istio-proxy first in spec.containers and adds a postStart `pilot-agent wait` hook (injection-template.yaml, webhook.go reorderPod). Pods created before the setting, an injector `global.proxy.lifecycle` override, native sidecars, or another webhook reordering containers leave the pod unprotected although the setting says otherwise.',
    message: (p) => `holdApplicationUntilProxyStarts is requested (${p.requestedBy}) but the pod does not carry it: ${p.missing}. ${p.consequence}`,
  }),
  ProxyWaitFailed: entry<{ at: string; detail: string }>({
    code: 'MEG053',
    severity: 'error',
    title: 'The postStart hook `pilot-agent wait` failed: the hold did not hold',
    description:
      '`pilot-agent wait` polls localhost:15021/healthz/ready for 60 s by default. When Envoy is not ready in time the hook fails, the kubelet kills istio-proxy and goes on starting the next containers anyway (istio/istio#41086), so the application starts against a proxy that is not there.',
    message: (p) => `The istio-proxy postStart hook (pilot-agent wait) failed at ${p.at}: ${p.detail}. The kubelet killed the proxy and started the next containers anyway: the hold did not hold.`,
  }),
  InitContainerEgressBlocked: entry<{ container: string; why: string; capture: string; destination: string; state: string }>({
    code: 'MEG054',
    severity: 'error',
    title: 'An init container that needs the network is captured while no proxy runs',
    description:
      'Init containers run before the sidecar. With istio-init the iptables rules exist for every init container after it; with istio-cni they exist before the first one. A captured init container (vault-agent-init, database migrations, downloads) is redirected to port 15001 where nothing listens: it fails or retries forever and the pod stays in Init (seed 001, istio/istio#23802, hashicorp/vault-k8s#41).',
    message: (p) => `Init container ${p.container} needs the network (${p.why}) but ${p.capture} and no proxy runs yet: its connections${p.destination} are redirected to port 15001 and refused. It ${p.state}.`,
  }),
  InitContainerEgressCaptured: entry<{ container: string; why: string; capture: string; destination: string; outcome: string }>({
    code: 'MEG055',
    severity: 'warning',
    title: 'An init container that looks like it needs the network will be captured',
    description:
      'The init container has not run yet (or its outcome is not known), but it looks like it opens connections and it runs while the capture rules are active and no proxy runs: when it does, those connections are refused.',
    message: (p) => `Init container ${p.container} looks like it needs the network (${p.why}), but ${p.capture} and no proxy runs yet: its connections${p.destination} ${p.outcome}.`,
  }),
  PodStuckInInit: entry<{ container: string; state: string; why: string }>({
    code: 'MEG056',
    severity: 'error',
    title: 'The pod is stuck in Init',
    description:
      'An init container does not complete, so the sidecar and the application never start. The check names the init container, its state and the reason it can tell from the pod status, events and logs.',
    message: (p) => `The pod is stuck in Init at ${p.container} (${p.state}): ${p.why}`,
  }),
  NativeSidecarWithoutStartupProbe: entry<{ containers: string }>({
    code: 'MEG057',
    severity: 'warning',
    title: 'Native sidecar without a startupProbe: the application does not wait for readiness',
    description:
      'The kubelet starts the containers after a native sidecar (an init container with restartPolicy Always) once the sidecar has started and its startupProbe, if any, succeeded. Istio renders a startupProbe on 15021/healthz/ready for that reason; with global.proxy.startupProbe.enabled=false the application starts as soon as the proxy process does.',
    message: (p) => `istio-proxy is a native sidecar without a startupProbe: the kubelet starts ${p.containers} as soon as the proxy process starts, not when Envoy is ready.`,
  }),
  NativeSidecarsNotUsed: entry<{ why: string; support: string }>({
    code: 'MEG058',
    severity: 'info',
    title: 'The pod runs a classic sidecar: why not a native one',
    description:
      'Native sidecars (istio-proxy as an init container with restartPolicy Always) start and become ready before user init containers and application containers, which removes both start-up races. Istio uses them from 1.19 with ENABLE_NATIVE_SIDECARS=true, per pod with the sidecar.istio.io/nativeSidecar annotation from 1.24, and by default ("auto") from 1.27 when every node\'s kubelet is 1.33 or newer (pkg/kube/inject/webhook.go DetectNativeSidecar).',
    message: (p) => `The pod has a classic sidecar: ${p.why}. ${p.support}.`,
  }),
  NativeSidecarNotSupported: entry<{ what: string; consequence: string }>({
    code: 'MEG059',
    severity: 'error',
    title: 'A native sidecar on a cluster or node that cannot run one',
    description:
      'Native sidecars need the SidecarContainers feature (beta and on by default in Kubernetes 1.29, GA in 1.33) in both the API server and the kubelet. An API server without it drops restartPolicy: Always and an older kubelet ignores it: istio-proxy then becomes an ordinary init container that never exits, and the pod stays in Init.',
    message: (p) => `${p.what}. ${p.consequence}.`,
  }),
} as const;
