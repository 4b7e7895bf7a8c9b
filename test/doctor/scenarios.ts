/**
 * doctor's scenario clusters, one definition used twice: packed into snapshot archives for the
 * offline goldens (test/doctor/doctor.test.ts) and served by the e2e test server for the live runs
 * (test/e2e/doctor/). Kubernetes objects come from the e2e server's builders (shaped like API
 * server answers), proxy configuration from the Istio-shaped dump builders of the trace fixtures,
 * logs in Istio's default access-log format.
 *
 *   seed003  — seed 003: an ingress gateway (router proxy, no iptables) routes to subset v1 of
 *              review, whose pods lack the version label: 503 "no healthy upstream".
 *   shop     — a sidecar in namespace shop under REGISTRY_ONLY, with Services, ServiceEntries and
 *              DestinationRules for each check of seed 000 (protocol, TLS, endpoints, policy).
 *   payments — egress NetworkPolicies: a blocked destination, a hostname whose address decides,
 *              blocked DNS, blocked istiod.
 */
import * as S from '../fixtures/istio-shapes.js';
import { sidecarBase } from '../fixtures/sidecar-base.js';
import { istioObject, meshConfigMap, namespace, service, serviceEntry, workload, type ContainerSpec, type KubeObject } from '../e2e/server/index.js';

type J = Record<string, unknown>;

export interface DoctorCase {
  readonly name: string;
  /** namespace/pod of the target */
  readonly pod: string;
  readonly dest: string;
  readonly args?: readonly string[];
  readonly exit: number;
}

export interface DoctorScenario {
  readonly name: string;
  readonly objects: readonly KubeObject[];
  /** namespace/pod → config dump of its proxy */
  readonly dumps: Readonly<Record<string, J>>;
  /** namespace/pod → istio-proxy log */
  readonly logs: Readonly<Record<string, string>>;
  readonly cases: readonly DoctorCase[];
}

const T_LISTENER = 'type.googleapis.com/envoy.config.listener.v3.Listener';
const LAST = '2026-11-02T09:14:07.512Z';

const ns = (n: string, labels: Record<string, string> = {}): KubeObject => namespace(n, labels);
const key = (p: KubeObject): string => `${p.metadata.namespace}/${p.metadata.name}`;
const ipOf = (p: KubeObject): string => (p.status as { podIP: string }).podIP;
const host = (name: string, namespace: string): S.ServiceRef => ({ name, namespace, host: `${name}.${namespace}.svc.cluster.local` });

/** An EndpointSlice as the EndpointSlice controller writes it for a Service and its pods. */
function endpointSlice(svc: KubeObject, pods: readonly KubeObject[], port: { name?: string; port: number; protocol?: string }): KubeObject {
  const name = svc.metadata.name ?? '';
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: `${name}-abcde`, namespace: svc.metadata.namespace, labels: { 'kubernetes.io/service-name': name, 'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io' } },
    addressType: 'IPv4',
    endpoints: pods.map((p) => ({
      addresses: [ipOf(p)],
      conditions: { ready: ((p.status as { conditions: { type: string; status: string }[] }).conditions.find((c) => c.type === 'Ready')?.status ?? 'False') === 'True', serving: true, terminating: false },
      targetRef: { kind: 'Pod', namespace: p.metadata.namespace, name: p.metadata.name, uid: p.metadata.uid },
      nodeName: (p.spec as { nodeName?: string }).nodeName,
    })),
    ports: [{ ...(port.name ? { name: port.name } : {}), port: port.port, protocol: port.protocol ?? 'TCP' }],
  };
}

/** The cluster-wide pieces every scenario has: kube-dns and istiod. */
function platform(): { objects: KubeObject[]; kubeDns: S.ServiceRef; kubeDnsPods: KubeObject[] } {
  const dnsContainer: ContainerSpec = { name: 'coredns', image: 'registry.k8s.io/coredns/coredns:v1.11.3', ports: [{ containerPort: 53, name: 'dns', protocol: 'UDP' }, { containerPort: 53, name: 'dns-tcp', protocol: 'TCP' }, { containerPort: 9153, name: 'metrics', protocol: 'TCP' }] };
  const coredns = workload({ name: 'coredns', namespace: 'kube-system', selector: { 'k8s-app': 'kube-dns' }, replicas: 2, containers: [dnsContainer] });
  const kubeDns = service({ name: 'kube-dns', namespace: 'kube-system', clusterIP: '10.96.0.10', selector: { 'k8s-app': 'kube-dns' }, labels: { 'k8s-app': 'kube-dns' }, ports: [{ port: 53, name: 'dns', protocol: 'UDP', targetPort: 53 }, { port: 53, name: 'dns-tcp', protocol: 'TCP', targetPort: 53 }] });
  const istiod = workload({ name: 'istiod', namespace: 'istio-system', selector: { app: 'istiod', istio: 'pilot' }, containers: [{ name: 'discovery', image: 'docker.io/istio/pilot:1.26.2', ports: [{ containerPort: 15010, protocol: 'TCP' }, { containerPort: 15012, protocol: 'TCP' }, { containerPort: 15017, protocol: 'TCP' }] }] });
  return { objects: [ns('kube-system'), ns('istio-system'), ...coredns.all, kubeDns, ...istiod.all], kubeDns: host('kube-dns', 'kube-system'), kubeDnsPods: coredns.pods };
}

function identity(p: KubeObject, workloadName: string, type: 'sidecar' | 'router' = 'sidecar'): S.ProxyIdentity {
  return { type, pod: p.metadata.name ?? '', namespace: p.metadata.namespace ?? '', ip: ipOf(p), workload: workloadName, istioVersion: '1.26.2', labels: p.metadata.labels ?? {} };
}

function dnsEndpoints(kubeDns: S.ServiceRef, pods: readonly KubeObject[]): J {
  return S.endpoints(`outbound|53||${kubeDns.host}`, pods.map((p) => ({ ip: ipOf(p), port: 53, workload: 'coredns;kube-system;;;Kubernetes' })));
}

/** Istio's default (1.9+) text access log line. */
function accessLog(o: { t: string; req?: string; code: number; flags: string; details: string; authority?: string; upstreamHost?: string; cluster: string; dst: string; src: string; route?: string; sni?: string; rx?: number; tx?: number; ms?: number }): string {
  return `[${o.t}] "${o.req ?? '- - -'}" ${o.code} ${o.flags} ${o.details} - "-" ${o.rx ?? 0} ${o.tx ?? 0} ${o.ms ?? 0} - "-" "${o.req ? 'curl/8.5.0' : '-'}" "${o.req ? 'f4c3b1de-6a0e-4c61-9f7e-2b8d1c0a9e11' : '-'}" "${o.authority ?? '-'}" "${o.upstreamHost ?? '-'}" ${o.cluster} - ${o.dst} ${o.src} ${o.sni ?? '-'} ${o.route ?? '-'}`;
}

// ---- seed 003: ingress gateway → subset v1 without pods ------------------------------------------

export function seed003(): DoctorScenario {
  const base = platform();
  const gwContainer: ContainerSpec = {
    name: 'istio-proxy',
    image: 'docker.io/istio/proxyv2:1.26.2',
    args: ['proxy', 'router', '--domain', '$(POD_NAMESPACE).svc.cluster.local', '--proxyLogLevel=warning', '--proxyComponentLogLevel=misc:error', '--log_output_level=default:info'],
    ports: [{ containerPort: 15021, protocol: 'TCP' }, { containerPort: 8080, protocol: 'TCP' }, { containerPort: 8443, protocol: 'TCP' }, { containerPort: 15090, name: 'http-envoy-prom', protocol: 'TCP' }],
  };
  const gw = workload({ name: 'istio-ingressgateway', namespace: 'istio-system', selector: { app: 'istio-ingressgateway', istio: 'ingressgateway' }, containers: [gwContainer] });
  const gwSvc = service({ name: 'istio-ingressgateway', namespace: 'istio-system', type: 'NodePort', selector: { app: 'istio-ingressgateway', istio: 'ingressgateway' }, labels: { app: 'istio-ingressgateway', istio: 'ingressgateway' }, ports: [{ port: 15021, name: 'status-port', targetPort: 15021 }, { port: 80, name: 'http2', targetPort: 8080 }, { port: 443, name: 'https', targetPort: 8443 }] });
  // kube-apiserver assigns node ports: 80 → 30125 as in the seed
  (gwSvc.spec as { ports: J[] }).ports.forEach((p, i) => (p.nodePort = [31021, 30125, 30443][i]));
  // the chart's pods carry app but not version (seed 003's root cause)
  const review = workload({ name: 'review', namespace: 'review', sidecar: true, podIP: '10.233.117.211', containers: [{ name: 'review', image: 'zackzhangkai/review:latest', ports: [{ containerPort: 8080, name: 'http', protocol: 'TCP' }] }] });
  const reviewSvc = service({ name: 'review', namespace: 'review', clusterIP: '10.233.10.48', type: 'NodePort', ports: [{ port: 80, name: 'web', targetPort: 8080 }] });
  const rating = workload({ name: 'rating-v1', namespace: 'review', sidecar: true, selector: { app: 'rating' }, labels: { version: 'v1' }, containers: [{ name: 'rating', ports: [{ containerPort: 8888, name: 'http', protocol: 'TCP' }] }] });
  const ratingSvc = service({ name: 'rating', namespace: 'review', clusterIP: '10.233.5.150', ports: [{ port: 8888, name: 'http', targetPort: 8888 }] });
  const gateway = istioObject('Gateway', 'review-gateway', 'review', { selector: { istio: 'ingressgateway' }, servers: [{ port: { number: 80, name: 'http', protocol: 'HTTP' }, hosts: ['*'] }] });
  const vs = istioObject('VirtualService', 'review', 'review', { hosts: ['*'], gateways: ['review-gateway'], http: [{ name: 'review-v1', route: [{ destination: { host: 'review', subset: 'v1', port: { number: 80 } } }] }] });
  const dr = istioObject('DestinationRule', 'review', 'review', { host: 'review', subsets: [{ name: 'v1', labels: { version: 'v1' } }] });
  const objects = [...base.objects, ns('review', { 'istio-injection': 'enabled' }), meshConfigMap(), ...gw.all, gwSvc, ...review.all, reviewSvc, endpointSlice(reviewSvc, review.pods, { name: 'web', port: 8080 }), ...rating.all, ratingSvc, endpointSlice(ratingSvc, rating.pods, { name: 'http', port: 8888 }), gateway, vs, dr];
  const gwPod = gw.pods[0]!;
  const rv = host('review', 'review');
  // Istio's gateway HTTP listener on the Service's target port, RDS http.<port>, one virtual host per Gateway host
  const listener = { name: '0.0.0.0_8080', active_state: { version_info: '2026-11-02T09:14:05Z/27', listener: { '@type': T_LISTENER, name: '0.0.0.0_8080', address: { socket_address: { address: '0.0.0.0', port_value: 8080 } }, filter_chains: [{ filters: [S.hcmRds('http.8080', 'outbound_0.0.0.0_8080')] }], traffic_direction: 'OUTBOUND' }, last_updated: LAST } };
  const dump = S.configDump({
    proxy: identity(gwPod, 'istio-ingressgateway', 'router'),
    listeners: [listener],
    clusters: [S.blackHoleCluster(), S.edsCluster(80, rv), S.edsCluster(80, rv, { subset: 'v1', destinationRule: 'review' }), S.edsCluster(8888, host('rating', 'review'))],
    routes: [S.routeConfig('http.8080', [S.virtualHost('*:80', ['*'], [{ name: 'review-v1', cluster: `outbound|80|v1|${rv.host}`, virtualService: { name: 'review', namespace: 'review' } }])])],
    endpoints: [S.endpoints(`outbound|80||${rv.host}`, [{ ip: '10.233.117.211', port: 8080, workload: 'review;review;review;latest;Kubernetes' }]), S.endpoints(`outbound|80|v1|${rv.host}`, []), S.endpoints(`outbound|8888||rating.review.svc.cluster.local`, rating.pods.map((p) => ({ ip: ipOf(p), port: 8888, workload: 'rating-v1;review;rating;v1;Kubernetes' })))],
  });
  const gwIp = ipOf(gwPod);
  const log = [
    '2026-11-02T09:19:58.410211Z\tinfo\tEnvoy proxy is ready',
    ...[11, 12, 13, 14].map((s) => `2026-11-02T09:20:${s}.106645Z\tdebug\tenvoy upstream external/envoy/source/common/upstream/cluster_manager_impl.cc:2074\tno healthy host for HTTP connection pool`),
    ...[11, 12, 13, 14].map((s) => accessLog({ t: `2026-11-02T09:20:${s}.106Z`, req: 'GET /reviews/1 HTTP/1.1', code: 503, flags: 'UH', details: 'no_healthy_upstream', authority: 'review.example.com', cluster: `outbound|80|v1|${rv.host}`, dst: `${gwIp}:8080`, src: `10.233.64.1:${53000 + s}`, route: 'review-v1', tx: 19 })),
    '',
  ].join('\n');
  return {
    name: 'seed003',
    objects,
    dumps: { [key(gwPod)]: dump },
    logs: { [key(gwPod)]: log },
    cases: [{ name: 'gateway-subset-no-pods', pod: key(gwPod), dest: 'http://review.example.com/reviews/1', exit: 79 }],
  };
}

// ---- shop: one sidecar, every seed-000 check ------------------------------------------------------

export function shop(): DoctorScenario {
  const base = platform();
  const api = workload({ name: 'api', namespace: 'shop', sidecar: true, labels: { version: 'v1' }, containers: [{ name: 'api', ports: [{ containerPort: 8080, name: 'http', protocol: 'TCP' }] }] });
  const catalog = workload({ name: 'catalog', namespace: 'shop', sidecar: true, replicas: 2, labels: { version: 'v1' }, containers: [{ name: 'catalog', ports: [{ containerPort: 8080, name: 'http', protocol: 'TCP' }] }] });
  const orders = workload({ name: 'orders', namespace: 'shop', sidecar: true, ready: false, labels: { version: 'v2' }, containers: [{ name: 'orders', ports: [{ containerPort: 8080, name: 'http', protocol: 'TCP' }] }] });
  const mailer = workload({ name: 'mailer', namespace: 'shop', sidecar: true, labels: { version: 'v1' }, containers: [{ name: 'mailer', ports: [{ containerPort: 587, name: 'smtp', protocol: 'TCP' }] }] });
  const svc = {
    catalog: service({ name: 'catalog', namespace: 'shop', clusterIP: '10.96.7.201', ports: [{ port: 8080, name: 'http', targetPort: 'http' }] }),
    inventory: service({ name: 'inventory', namespace: 'shop', clusterIP: '10.96.7.55', ports: [{ port: 8080, name: 'http', targetPort: 8080 }] }),
    orders: service({ name: 'orders', namespace: 'shop', clusterIP: '10.96.7.90', ports: [{ port: 8080, name: 'http-web', targetPort: 8080 }] }),
    mailer: service({ name: 'mailer', namespace: 'shop', clusterIP: '10.96.7.25', ports: [{ port: 587, name: 'smtp', targetPort: 587 }] }),
  };
  const ses = [
    serviceEntry({ name: 'mysql-external', namespace: 'shop', hosts: ['mysql.db.example'], ports: [{ number: 3306, name: 'http-mysql', protocol: 'HTTP' }] }),
    serviceEntry({ name: 'vendor-api', namespace: 'shop', hosts: ['api.vendor.example'], ports: [{ number: 8443, name: 'http', protocol: 'HTTP' }] }),
    serviceEntry({ name: 'partner-uploads', namespace: 'shop', hosts: ['uploads.partner.example'], ports: [{ number: 443, name: 'tls', protocol: 'TLS' }] }),
    serviceEntry({ name: 'github', namespace: 'shop', hosts: ['api.github.com'], ports: [{ number: 443, name: 'tls', protocol: 'TLS' }] }),
    serviceEntry({ name: 'ledger', namespace: 'shop', hosts: ['ledger.bank.example'], addresses: ['192.0.2.10'], ports: [{ number: 9443, name: 'tcp', protocol: 'TCP' }] }),
    serviceEntry({ name: 'vault', namespace: 'shop', hosts: ['vault.partner.example'], addresses: ['192.0.2.20'], ports: [{ number: 8200, name: 'tcp', protocol: 'TCP' }] }),
    serviceEntry({ name: 'reports', namespace: 'shop', hosts: ['reports.partner.example'], ports: [{ number: 80, name: 'http', protocol: 'HTTP', targetPort: 443 }] }),
  ];
  const drs = [
    istioObject('DestinationRule', 'uploads-tls', 'shop', { host: 'uploads.partner.example', trafficPolicy: { tls: { mode: 'SIMPLE', sni: 'uploads.partner.example', caCertificates: '/etc/ssl/certs/ca-certificates.crt' } } }),
    istioObject('DestinationRule', 'github-mtls', 'shop', { host: 'api.github.com', trafficPolicy: { tls: { mode: 'ISTIO_MUTUAL' } } }),
    istioObject('DestinationRule', 'ledger-mtls', 'shop', { host: 'ledger.bank.example', trafficPolicy: { tls: { mode: 'MUTUAL', sni: 'ledger.bank.example', caCertificates: '/etc/ledger/ca.pem' } } }),
    istioObject('DestinationRule', 'vault-tls', 'shop', { host: 'vault.partner.example', trafficPolicy: { tls: { mode: 'SIMPLE', insecureSkipVerify: true } } }),
    istioObject('DestinationRule', 'reports-tls', 'shop', { host: 'reports.partner.example', trafficPolicy: { portLevelSettings: [{ port: { number: 80 }, tls: { mode: 'SIMPLE' } }] } }),
  ];
  const objects = [
    ...base.objects,
    ns('shop', { 'istio-injection': 'enabled' }),
    meshConfigMap({ outboundTrafficPolicy: 'REGISTRY_ONLY' }),
    ...api.all,
    ...catalog.all,
    ...orders.all,
    ...mailer.all,
    ...Object.values(svc),
    endpointSlice(svc.catalog, catalog.pods, { name: 'http', port: 8080 }),
    endpointSlice(svc.orders, orders.pods, { name: 'http-web', port: 8080 }),
    endpointSlice(svc.mailer, mailer.pods, { name: 'smtp', port: 587 }),
    ...ses,
    ...drs,
  ];
  const apiPod = api.pods[0]!;
  const catchAll: S.CatchAll = 'BlackHoleCluster';
  const ref = { catalog: host('catalog', 'shop'), inventory: host('inventory', 'shop'), orders: host('orders', 'shop'), mailer: host('mailer', 'shop') };
  const tlsSocket = (extra: J): J => ({ transport_socket: { name: 'envoy.transport_sockets.tls', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext', common_tls_context: { tls_params: { tls_minimum_protocol_version: 'TLSv1_2', tls_maximum_protocol_version: 'TLSv1_3' }, ...extra } } } });
  const withCluster = (c: J, edit: (cluster: J) => J): J => ({ ...c, cluster: edit(c.cluster as J) });
  const drMeta = (c: J, dr: string): J => ({ ...c, metadata: { filter_metadata: { istio: { ...(((c.metadata as J).filter_metadata as J).istio as J), config: `/apis/networking.istio.io/v1/namespaces/shop/destination-rule/${dr}` } } } });
  // ISTIO_MUTUAL: the workload certificate and ROOTCA over SDS, SNI = the cluster name (cluster_tls.go)
  const github = withCluster(S.dnsCluster(443, 'api.github.com', 'shop'), (c) => ({
    ...drMeta(c, 'github-mtls'),
    transport_socket: { name: 'envoy.transport_sockets.tls', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext', common_tls_context: { tls_certificate_sds_secret_configs: [{ name: 'default', sds_config: { api_config_source: { api_type: 'GRPC', grpc_services: [{ envoy_grpc: { cluster_name: 'sds-grpc' } }] } } }], combined_validation_context: { default_validation_context: {}, validation_context_sds_secret_config: { name: 'ROOTCA' } }, alpn_protocols: ['istio-peer-exchange', 'istio'] }, sni: 'outbound_.443_._.api.github.com' } },
  }));
  // MUTUAL without client certificate: istiod logs "failed to build Upstream TLSContext" and sends the cluster without TLS
  const ledger = withCluster(S.dnsCluster(9443, 'ledger.bank.example', 'shop'), (c) => drMeta(c, 'ledger-mtls'));
  // SIMPLE, insecureSkipVerify, no sni: a validation context without trust, auto_sni for HTTP only
  const vault = withCluster(S.dnsCluster(8200, 'vault.partner.example', 'shop'), (c) => ({ ...drMeta(c, 'vault-tls'), ...tlsSocket({ validation_context: {} }) }));
  // port 80 HTTP → 443 with SIMPLE: system CAs, SNI from the Host header (auto_sni, auto_san_validation)
  const reports = withCluster(S.dnsCluster(80, 'reports.partner.example', 'shop'), (c) => ({
    ...drMeta(c, 'reports-tls'),
    load_assignment: { cluster_name: 'outbound|80||reports.partner.example', endpoints: [{ locality: {}, lb_endpoints: [{ endpoint: { address: { socket_address: { address: 'reports.partner.example', port_value: 443 } } }, load_balancing_weight: 1 }], load_balancing_weight: 1 }] },
    ...tlsSocket({ combined_validation_context: { default_validation_context: {}, validation_context_sds_secret_config: { name: 'file-root:system' } } }),
    typed_extension_protocol_options: { 'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': { '@type': 'type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions', upstream_http_protocol_options: { auto_sni: true, auto_san_validation: true }, explicit_http_config: { http_protocol_options: {} } } },
  }));
  const seDomains = (h: string, port: number): string[] => [h, `${h}:${port}`];
  const dump = S.configDump({
    proxy: identity(apiPod, 'api'),
    ...sidecarBase(base.kubeDns, catchAll, {
      listeners: [
        S.wildcardHttpListener(80, catchAll),
        S.wildcardHttpListener(587, catchAll),
        S.wildcardHttpListener(3306, catchAll),
        S.wildcardHttpListener(8080, catchAll),
        S.wildcardHttpListener(8443, catchAll),
        S.wildcardTlsListener(443, [{ hosts: ['api.github.com'], cluster: 'outbound|443||api.github.com' }, { hosts: ['uploads.partner.example'], cluster: 'outbound|443||uploads.partner.example' }], catchAll),
        S.vipTcpListener('192.0.2.10', 9443, 'outbound|9443||ledger.bank.example'),
        S.vipTcpListener('192.0.2.20', 8200, 'outbound|8200||vault.partner.example'),
      ],
      clusters: [
        S.edsCluster(8080, ref.catalog),
        S.edsCluster(8080, ref.inventory),
        S.edsCluster(8080, ref.orders),
        S.edsCluster(587, ref.mailer),
        S.dnsCluster(3306, 'mysql.db.example', 'shop'),
        S.dnsCluster(8443, 'api.vendor.example', 'shop'),
        S.dnsClusterWithTlsOrigination(443, 'uploads.partner.example', 'shop', 'uploads-tls'),
        github,
        ledger,
        vault,
        reports,
      ],
    }),
    routes: [
      S.routeConfig('80', [S.virtualHost('reports.partner.example:80', seDomains('reports.partner.example', 80), [{ name: 'default', cluster: 'outbound|80||reports.partner.example' }]), S.catchAllVirtualHost(catchAll)]),
      S.routeConfig('587', [S.virtualHost(`${ref.mailer.host}:587`, S.serviceDomains(ref.mailer, '10.96.7.25', 'shop'), [{ name: 'default', cluster: `outbound|587||${ref.mailer.host}` }]), S.catchAllVirtualHost(catchAll)]),
      S.routeConfig('3306', [S.virtualHost('mysql.db.example:3306', seDomains('mysql.db.example', 3306), [{ name: 'default', cluster: 'outbound|3306||mysql.db.example' }]), S.catchAllVirtualHost(catchAll)]),
      S.routeConfig('8080', [
        S.virtualHost(`${ref.catalog.host}:8080`, S.serviceDomains(ref.catalog, '10.96.7.201', 'shop'), [{ name: 'default', cluster: `outbound|8080||${ref.catalog.host}` }]),
        S.virtualHost(`${ref.inventory.host}:8080`, S.serviceDomains(ref.inventory, '10.96.7.55', 'shop'), [{ name: 'default', cluster: `outbound|8080||${ref.inventory.host}` }]),
        S.virtualHost(`${ref.orders.host}:8080`, S.serviceDomains(ref.orders, '10.96.7.90', 'shop'), [{ name: 'default', cluster: `outbound|8080||${ref.orders.host}` }]),
        S.catchAllVirtualHost(catchAll),
      ]),
      S.routeConfig('8443', [S.virtualHost('api.vendor.example:8443', seDomains('api.vendor.example', 8443), [{ name: 'default', cluster: 'outbound|8443||api.vendor.example' }]), S.catchAllVirtualHost(catchAll)]),
    ],
    endpoints: [
      S.endpoints('BlackHoleCluster', []),
      S.endpoints('PassthroughCluster', []),
      dnsEndpoints(base.kubeDns, base.kubeDnsPods),
      S.endpoints(`outbound|8080||${ref.catalog.host}`, catalog.pods.map((p) => ({ ip: ipOf(p), port: 8080, workload: 'catalog;shop;catalog;v1;Kubernetes' }))),
      S.endpoints(`outbound|8080||${ref.inventory.host}`, []),
      S.endpoints(`outbound|8080||${ref.orders.host}`, []),
      S.endpoints(`outbound|587||${ref.mailer.host}`, mailer.pods.map((p) => ({ ip: ipOf(p), port: 587, workload: 'mailer;shop;mailer;v1;Kubernetes' }))),
    ],
  });
  const apiIp = ipOf(apiPod);
  const log = [
    '2026-11-02T09:19:58.410211Z\tinfo\tEnvoy proxy is ready',
    accessLog({ t: '2026-11-02T09:20:01.100Z', req: 'GET /items HTTP/1.1', code: 200, flags: '-', details: 'via_upstream', authority: 'catalog:8080', upstreamHost: `${ipOf(catalog.pods[0]!)}:8080`, cluster: `outbound|8080||${ref.catalog.host}`, dst: '10.96.7.201:8080', src: `${apiIp}:51200`, route: 'default', rx: 0, tx: 512, ms: 4 }),
    accessLog({ t: '2026-11-02T09:20:02.230Z', req: 'GET /stock HTTP/1.1', code: 503, flags: 'UH', details: 'no_healthy_upstream', authority: 'inventory:8080', cluster: `outbound|8080||${ref.inventory.host}`, dst: '10.96.7.55:8080', src: `${apiIp}:51210`, route: 'default', tx: 19 }),
    accessLog({ t: '2026-11-02T09:20:03.400Z', code: 0, flags: 'UH', details: '-', cluster: 'BlackHoleCluster', dst: '203.0.113.7:6380', src: `${apiIp}:40112` }),
    accessLog({ t: '2026-11-02T09:20:04.410Z', code: 0, flags: 'UH', details: '-', cluster: 'BlackHoleCluster', dst: '203.0.113.7:6380', src: `${apiIp}:40118` }),
    '',
  ].join('\n');
  const p = key(apiPod);
  return {
    name: 'shop',
    objects,
    dumps: { [p]: dump },
    logs: { [p]: log },
    cases: [
      { name: 'catalog-ok', pod: p, dest: 'http://catalog:8080/items', exit: 0 },
      { name: 'service-without-pods', pod: p, dest: 'http://inventory:8080/stock', exit: 79 },
      { name: 'endpoints-not-ready', pod: p, dest: 'http://orders.shop:8080/', exit: 79 },
      { name: 'registry-only-blocks', pod: p, dest: '203.0.113.7:6380', exit: 79 },
      { name: 'mysql-declared-http', pod: p, dest: 'tcp://mysql.db.example:3306', args: ['--server-first'], exit: 79 },
      { name: 'tls-to-http-port', pod: p, dest: 'tls://api.vendor.example:8443', exit: 79 },
      { name: 'double-tls', pod: p, dest: 'tls://uploads.partner.example:443', exit: 79 },
      { name: 'istio-mutual-external', pod: p, dest: 'tls://api.github.com:443', exit: 79 },
      { name: 'mutual-without-cert', pod: p, dest: 'tcp://ledger.bank.example:9443', exit: 79 },
      { name: 'origination-no-sni', pod: p, dest: 'tcp://vault.partner.example:8200', exit: 0 },
      { name: 'origination-system-cas', pod: p, dest: 'http://reports.partner.example/q3.pdf', exit: 0 },
      { name: 'server-first-sniffed', pod: p, dest: 'tcp://mailer:587', args: ['--server-first'], exit: 79 },
    ],
  };
}

// ---- payments: egress NetworkPolicies -------------------------------------------------------------

function allowAnyDump(p: KubeObject, workloadName: string, kubeDns: S.ServiceRef, kubeDnsPods: readonly KubeObject[]): J {
  return S.configDump({
    proxy: identity(p, workloadName),
    ...sidecarBase(kubeDns, 'PassthroughCluster'),
    routes: [],
    endpoints: [S.endpoints('BlackHoleCluster', []), S.endpoints('PassthroughCluster', []), dnsEndpoints(kubeDns, kubeDnsPods)],
  });
}

export function payments(): DoctorScenario {
  const base = platform();
  const checkout = workload({ name: 'checkout', namespace: 'payments', sidecar: true, labels: { version: 'v3' } });
  const batch = workload({ name: 'batch', namespace: 'payments', sidecar: true, labels: { version: 'v1' } });
  // injection disabled for this one: the policies apply all the same
  const legacy = workload({ name: 'legacy', namespace: 'payments', sidecar: false, labels: { version: 'v1' }, annotations: { 'sidecar.istio.io/inject': 'false' } });
  const np = (name: string, spec: J): KubeObject => ({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name, namespace: 'payments', uid: `np-${name}`, resourceVersion: '1', creationTimestamp: '2026-01-05T08:00:00Z', generation: 1 }, spec });
  const policies = [
    np('default-deny-egress', { podSelector: {}, policyTypes: ['Egress'] }),
    np('allow-dns', { podSelector: { matchLabels: { app: 'checkout' } }, policyTypes: ['Egress'], egress: [{ to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } }, podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } } }], ports: [{ protocol: 'UDP', port: 53 }, { protocol: 'TCP', port: 53 }] }] }),
    np('allow-partners', { podSelector: {}, policyTypes: ['Egress'], egress: [{ to: [{ ipBlock: { cidr: '198.51.100.0/24' } }], ports: [{ protocol: 'TCP', port: 443 }] }, { to: [{ ipBlock: { cidr: '10.0.0.0/8', except: ['10.0.0.0/24'] } }], ports: [{ protocol: 'TCP', port: 5432 }] }] }),
    np('allow-istiod', { podSelector: { matchLabels: { app: 'batch' } }, policyTypes: ['Egress'], egress: [{ to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'istio-system' } }, podSelector: { matchLabels: { app: 'istiod' } } }], ports: [{ protocol: 'TCP', port: 15012 }] }] }),
  ];
  const objects = [...base.objects, ns('payments', { 'istio-injection': 'enabled', team: 'payments' }), meshConfigMap({ outboundTrafficPolicy: 'ALLOW_ANY' }), ...checkout.all, ...batch.all, ...legacy.all, ...policies];
  const c = checkout.pods[0]!;
  const b = batch.pods[0]!;
  return {
    name: 'payments',
    objects,
    dumps: { [key(c)]: allowAnyDump(c, 'checkout', base.kubeDns, base.kubeDnsPods), [key(b)]: allowAnyDump(b, 'batch', base.kubeDns, base.kubeDnsPods) },
    logs: { [key(c)]: '2026-11-02T09:19:58.410211Z\tinfo\tEnvoy proxy is ready\n', [key(b)]: '2026-11-02T09:19:58.410211Z\tinfo\tEnvoy proxy is ready\n' },
    cases: [
      { name: 'policy-blocks-destination', pod: key(c), dest: '10.0.0.6:6380', exit: 79 },
      { name: 'hostname-address-decides', pod: key(c), dest: 'tls://pay.partner.example:443', exit: 79 },
      { name: 'dns-blocked', pod: key(b), dest: 'db.internal.example:5432', args: ['--address', '10.0.8.9'], exit: 79 },
      { name: 'no-sidecar', pod: key(legacy.pods[0]!), dest: '10.0.0.6:6380', exit: 79 },
    ],
  };
}

export function doctorScenarios(): DoctorScenario[] {
  return [seed003(), shop(), payments()];
}
