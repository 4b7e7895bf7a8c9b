/**
 * Finding codes of `doctor`: the external-service checklist. Codes MEG018–MEG019 (probe), MEG043–MEG049 (labels, subsets), MEG071–MEG079 (TLS), MEG080–MEG089 (NetworkPolicy).
 * Codes are forever (see catalog.ts).
 */
import { entry } from './catalog-entry.js';

export const doctorCodes = {
  // ---- 01x: the destination without the mesh (seed 000 steps 1-2) ---------------------------
  DestinationUnreachableWithoutMesh: entry<{ dest: string; namespace: string; detail: string }>({
    code: 'MEG018',
    severity: 'error',
    title: 'The destination is unreachable even without the mesh',
    description:
      'A short-lived pod without a sidecar, in the same namespace, could not connect to the destination either: the destination, DNS, a firewall or a NetworkPolicy is at fault, not the sidecar (seed 000, steps 1 and 2).',
    message: (p) => `Without a sidecar, a pod in namespace ${p.namespace} cannot reach ${p.dest} either: ${p.detail}. Look at the destination and the network before the mesh.`,
  }),
  ProbeDidNotRun: entry<{ reason: string; remedy: string }>({
    code: 'MEG019',
    severity: 'warning',
    title: 'The reachability probe could not run',
    description: 'doctor --probe starts a pod without a sidecar to test the destination directly; the pod could not be created, scheduled or started, so that comparison is missing.',
    message: (p) => `The probe pod gave no answer: ${p.reason}. ${p.remedy}`,
  }),

  // ---- 04x: Services, pods, subsets (seed 003) ----------------------------------------------
  SubsetSelectsNoPods: entry<{ subset: string; host: string; destinationRule: string; selector: string; pods: string; missing: string }>({
    code: 'MEG043',
    severity: 'error',
    title: 'A DestinationRule subset selects none of the service\'s pods',
    description:
      'A route sends traffic to a subset whose labels no pod of the service carries, so the subset cluster has no endpoints and Envoy answers 503 "no healthy upstream" (seed 003: the pods lacked the `version` label).',
    message: (p) => `Subset "${p.subset}" of ${p.host} (DestinationRule ${p.destinationRule}) selects ${p.selector}, but no pod of the service has those labels: ${p.pods}. Missing: ${p.missing}.`,
  }),
  SidecarLogShowsFailures: entry<{ dest: string; count: number; flags: string; window: string }>({
    code: 'MEG044',
    severity: 'warning',
    title: 'The sidecar\'s log shows failed connections to the destination',
    description: 'Recent istio-proxy access log entries for this destination carry failure response flags (UH, UF, NR, URX, ...) or error responses: the failure is happening now, and the flags say where.',
    message: (p) => `The istio-proxy log has ${p.count} failed request(s) or connection(s) to ${p.dest} in ${p.window}: ${p.flags}.`,
  }),
  ServiceSelectsNoPods: entry<{ service: string; selector: string }>({
    code: 'MEG045',
    severity: 'error',
    title: 'The Service selects no pods',
    description: 'The Service\'s selector matches no pod in its namespace, so it has no endpoints: every request through it fails with "no healthy upstream".',
    message: (p) => `Service ${p.service} selects ${p.selector}, and no pod in its namespace has those labels: it has no endpoints.`,
  }),
  ServiceEndpointsNotReady: entry<{ service: string; notReady: string; ready: number }>({
    code: 'MEG046',
    severity: 'warning',
    title: 'Pods of the Service are not ready',
    description: 'Endpoints that are not ready receive no traffic; with none ready the service answers 503.',
    message: (p) => `Service ${p.service} has ${p.ready} ready endpoint(s); not ready: ${p.notReady}.`,
  }),
  PodsMissingAppVersionLabels: entry<{ service: string; pods: string; missing: string }>({
    code: 'MEG047',
    severity: 'info',
    title: 'Pods lack the app/version labels Istio relies on',
    description:
      'Istio uses the `app` and `version` labels for telemetry and, by convention, for DestinationRule subsets; seed 003 lost a day to a missing `version` label. Pods without them work until a subset or dashboard needs them.',
    message: (p) => `Pods of ${p.service} lack ${p.missing}: ${p.pods}.`,
  }),
  ServicePortProtocolUndeclared: entry<{ service: string; port: number; name: string; consequence: string }>({
    code: 'MEG048',
    severity: 'warning',
    title: 'Service port declares no protocol',
    description:
      'Istio picks a port\'s protocol from appProtocol, else from the port name prefix (http-, grpc-, tcp-, tls-, mysql-, ...); without either it sniffs the first bytes, which stalls server-first protocols and costs latency. Seed 003: name ports with their protocol.',
    message: (p) => `Port ${p.port} of ${p.service} (${p.name}) has no appProtocol and no protocol prefix in its name: Istio detects the protocol by sniffing; ${p.consequence}.`,
  }),
  DeclaredProtocolMismatch: entry<{ object: string; port: number; declared: string; speaks: string; result: string }>({
    code: 'MEG049',
    severity: 'error',
    title: 'The declared port protocol is not what the destination speaks',
    description:
      'The ServiceEntry or Service declares a protocol for the port that differs from the one the destination speaks (MySQL, Redis or MongoDB declared HTTP; a server-first protocol on an HTTP port): the sidecar parses the bytes with the wrong protocol and the connection fails.',
    message: (p) => `${p.object} declares port ${p.port} as ${p.declared}, but the destination speaks ${p.speaks}: ${p.result}.`,
  }),

  // ---- 07x: TLS ----------------------------------------------------------------------------
  IstioMutualToNonMeshHost: entry<{ host: string; destinationRule: string; why: string }>({
    code: 'MEG071',
    severity: 'error',
    title: 'ISTIO_MUTUAL to a destination outside the mesh',
    description: 'tls mode ISTIO_MUTUAL presents the workload\'s mesh certificate and expects the peer\'s; a server without a sidecar (an external service) cannot complete that handshake.',
    message: (p) => `DestinationRule ${p.destinationRule} sets tls mode ISTIO_MUTUAL for ${p.host}, which ${p.why}: the TLS handshake fails.`,
  }),
  TlsOriginationWithoutCa: entry<{ host: string; destinationRule: string; mode: string }>({
    code: 'MEG072',
    severity: 'warning',
    title: 'TLS origination without a CA to verify the server',
    description:
      'A DestinationRule originates TLS (SIMPLE/MUTUAL) without caCertificates or credentialName: depending on the Istio version the proxy does not verify the server at all, or verifies it against the proxy image\'s system CAs, which do not know private CAs.',
    message: (p) => `DestinationRule ${p.destinationRule} originates TLS (${p.mode}) to ${p.host} without caCertificates or credentialName: the server certificate is checked against the proxy's system CAs at best.`,
  }),
  MutualTlsWithoutClientCertificate: entry<{ host: string; destinationRule: string }>({
    code: 'MEG073',
    severity: 'error',
    title: 'tls mode MUTUAL without a client certificate',
    description:
      'MUTUAL TLS needs a client certificate and key (clientCertificate/privateKey or credentialName). Without them istiod cannot build the TLS context ("failed to build Upstream TLSContext", pilot/pkg/networking/core/cluster_tls.go) and sends the cluster without TLS: the server receives plain text.',
    message: (p) => `DestinationRule ${p.destinationRule} sets tls mode MUTUAL for ${p.host} without clientCertificate/privateKey or credentialName: istiod builds the cluster without TLS, so the server receives plain text.`,
  }),
  TlsSentToHttpPort: entry<{ object: string; port: number; declared: string; result: string }>({
    code: 'MEG074',
    severity: 'error',
    title: 'The application sends TLS to a port declared HTTP',
    description:
      'The port is declared HTTP, so the sidecar builds an HTTP filter chain for it: a TLS handshake matches none of its HTTP chains (Istio 1.6+) and falls to the catch-all, or, on older proxies, is parsed as HTTP. Declare the port TLS or HTTPS, or let the application speak plain HTTP and the sidecar originate TLS.',
    message: (p) => `The application speaks TLS, but ${p.object} declares port ${p.port} as ${p.declared}: ${p.result}.`,
  }),
  TlsOriginationWithoutSni: entry<{ host: string; destinationRule: string }>({
    code: 'MEG075',
    severity: 'warning',
    title: 'TLS origination sends no SNI',
    description: 'Servers that host several names (CDNs, API gateways) pick the certificate by SNI; without `sni` in the DestinationRule (and no automatic SNI) the handshake may get the wrong certificate or fail.',
    message: (p) => `DestinationRule ${p.destinationRule} originates TLS to ${p.host} and the proxy's cluster sends no SNI: set tls.sni.`,
  }),
  TlsVerificationDisabled: entry<{ host: string; destinationRule: string }>({
    code: 'MEG076',
    severity: 'warning',
    title: 'Server certificate verification is disabled',
    description: 'insecureSkipVerify makes the proxy accept any certificate: connections work, but without protection against impersonation.',
    message: (p) => `DestinationRule ${p.destinationRule} sets insecureSkipVerify for ${p.host}: the server certificate is not verified.`,
  }),
  TlsHandshakeFailsWithoutMesh: entry<{ dest: string; detail: string }>({
    code: 'MEG077',
    severity: 'error',
    title: 'The TLS handshake fails even without the mesh',
    description: 'The probe pod (no sidecar) reached the destination over TCP, but its TLS handshake failed or the certificate was not trusted: the server\'s TLS setup, not the sidecar, is the first thing to check.',
    message: (p) => `Without a sidecar, TCP to ${p.dest} connects but TLS fails: ${p.detail}.`,
  }),
  TlsOriginatedBySidecar: entry<{ host: string; destinationRule: string; mode: string; sni: string }>({
    code: 'MEG078',
    severity: 'info',
    title: 'The sidecar originates TLS for this destination',
    description: 'The application sends plain text and the sidecar wraps it in TLS (DestinationRule tls mode SIMPLE or MUTUAL): the application must not use TLS itself, and the server sees the proxy\'s SNI.',
    message: (p) => `The sidecar originates TLS (${p.mode}) to ${p.host} as DestinationRule ${p.destinationRule} says; SNI ${p.sni}.`,
  }),

  // ---- 08x: NetworkPolicy ------------------------------------------------------------------
  NetworkPolicyDeniesEgress: entry<{ dest: string; pod: string; policies: string }>({
    code: 'MEG080',
    severity: 'error',
    title: 'A NetworkPolicy blocks the connection',
    description:
      'NetworkPolicies select the pod for egress and none of their rules allows this destination and port, so the network drops the connection whatever the sidecar does (with a sidecar the connection leaves from the same pod).',
    message: (p) => `NetworkPolicy denies ${p.pod} → ${p.dest}: ${p.policies} select the pod for egress and no rule allows it.`,
  }),
  NetworkPolicyBlocksDns: entry<{ pod: string; dns: string; policies: string }>({
    code: 'MEG081',
    severity: 'error',
    title: 'A NetworkPolicy blocks DNS',
    description: 'The destination is a hostname, so the pod (or the istio-agent DNS proxy on its behalf) must reach the cluster DNS on port 53; egress NetworkPolicies that do not allow it make every lookup time out.',
    message: (p) => `NetworkPolicy denies DNS from ${p.pod} to ${p.dns}: ${p.policies} select the pod for egress and allow neither UDP nor TCP port 53 there.`,
  }),
  NetworkPolicyUndetermined: entry<{ dest: string; why: string; remedy: string }>({
    code: 'MEG082',
    severity: 'warning',
    title: 'Whether a NetworkPolicy allows the connection cannot be told',
    description: 'The egress NetworkPolicies of the pod decide on facts the input does not have (the address a hostname resolves to, the labels of a namespace that could not be read, the ports of a pod).',
    message: (p) => `Whether NetworkPolicy allows the connection to ${p.dest} cannot be told: ${p.why}. ${p.remedy}`,
  }),
  NetworkPolicyBlocksIstiod: entry<{ pod: string; istiod: string; policies: string }>({
    code: 'MEG083',
    severity: 'error',
    title: 'A NetworkPolicy blocks the sidecar from istiod',
    description: 'The sidecar gets its configuration and certificates from istiod on port 15012; egress NetworkPolicies that do not allow it leave the proxy without (new) configuration (istio/istio#32945).',
    message: (p) => `NetworkPolicy denies ${p.pod} → ${p.istiod} (xDS and certificates): ${p.policies} select the pod for egress and no rule allows istiod's port 15012.`,
  }),
} as const;
