/**
 * Synthetic meshes for the benchmark: the config dump (`/config_dump?include_eds`) of one sidecar
 * in a mesh of N Kubernetes services without Sidecar scoping, shaped like Istio's (resource
 * builders in test/fixtures/istio-shapes.ts, copied from real dumps; proportions below checked
 * against the corpus dumps and the Istio 1.29 oracle fixtures in test/oracle):
 *   - HTTP service ports share one wildcard listener 0.0.0.0_PORT per port and one route
 *     configuration "PORT" with a virtual host per service (hundreds to thousands of them;
 *     domains as generateVirtualHostDomains writes them, the trailing-dot FQDN of Istio >= 1.24
 *     included);
 *   - TCP service ports get a listener per VIP (VIP_PORT, match-all tcp_proxy);
 *   - every service port has an EDS cluster (with auto-mTLS transport socket matches) and a
 *     ClusterLoadAssignment with 1-6 endpoints; a tenth of the services have a DestinationRule
 *     with subsets v1/v2 (two more clusters and EDS entries each); a quarter serve a second
 *     HTTP port (gRPC on 9090);
 *   - one external TLS ServiceEntry per 100 services: SNI chains on a shared 0.0.0.0_443 and a
 *     STRICT_DNS cluster each (egress-heavy meshes).
 * Written as a stream, so a dump of any size (beyond V8's maximum string length) can be produced
 * without holding it in memory.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as S from '../test/fixtures/istio-shapes.js';

type J = Record<string, unknown>;

export interface MeshSpec {
  readonly services: number;
}

/** Bumped whenever the shapes change (bench caches generated dumps by spec). */
export const MESH_SHAPE_VERSION = 3;

const HTTP_PORTS = [80, 8080, 9080, 3000, 5000];
const GRPC_PORT = 9090;
const TCP_PORTS = [5432, 6379, 9092, 27017, 11211, 7000, 4222];
const CLIENT_NS = 'team-0';

export interface ServicePort {
  readonly port: number;
  readonly http: boolean;
}

export interface SyntheticService {
  readonly ref: S.ServiceRef;
  readonly vip: string;
  /** the first port is the service's main one */
  readonly ports: readonly ServicePort[];
  readonly subsets: readonly string[];
  readonly endpoints: number;
}

export function services(n: number): SyntheticService[] {
  const out: SyntheticService[] = [];
  for (let i = 0; i < n; i++) {
    const ns = `team-${i % 97}`;
    const ref = { name: `svc-${i}`, namespace: ns, host: `svc-${i}.${ns}.svc.cluster.local` };
    const vip = `10.${96 + Math.floor(i / 65536)}.${Math.floor(i / 256) % 256}.${i % 256}`;
    const http = i % 5 !== 0 && i % 5 !== 3; // 60 % HTTP
    const ports: ServicePort[] = [http ? { port: HTTP_PORTS[i % HTTP_PORTS.length]!, http: true } : { port: TCP_PORTS[i % TCP_PORTS.length]!, http: false }];
    if (i % 4 === 1) ports.push({ port: GRPC_PORT, http: true });
    out.push({ ref, vip, ports, subsets: i % 10 === 7 ? ['v1', 'v2'] : [], endpoints: 1 + ((i * 7) % 6) });
  }
  return out;
}

export interface ExternalService {
  readonly host: string;
  readonly namespace: string;
}

export function externalServices(n: number): ExternalService[] {
  return Array.from({ length: Math.floor(n / 100) }, (_, k) => ({ host: `api-${k}.partner-${k % 13}.example.com`, namespace: `team-${k % 97}` }));
}

class Writer {
  private buf: string[] = [];
  private size = 0;
  written = 0;
  constructor(private readonly fd: number) {}
  write(s: string): void {
    this.buf.push(s);
    this.size += s.length;
    if (this.size > 1 << 20) this.flush();
  }
  flush(): void {
    const chunk = this.buf.join('');
    fs.writeSync(this.fd, chunk);
    this.written += Buffer.byteLength(chunk);
    this.buf = [];
    this.size = 0;
  }
}

/** Writes the dump; returns its size in bytes. */
export function writeMeshDump(file: string, spec: MeshSpec): number {
  const svcs = services(spec.services);
  const external = externalServices(spec.services);
  const fd = fs.openSync(file, 'w');
  const w = new Writer(fd);
  const list = (items: Iterable<J>): void => {
    let first = true;
    for (const item of items) {
      w.write(first ? '\n' : ',\n');
      w.write(JSON.stringify(item));
      first = false;
    }
  };
  const parts = S.configDump({
    proxy: { pod: 'bench-client-5f7d8-abcde', namespace: CLIENT_NS, ip: '10.244.9.9', workload: 'bench-client', istioVersion: '1.26.2', labels: { app: 'bench-client' } },
    listeners: [],
    clusters: [],
    routes: [],
    endpoints: [],
  }) as { configs: J[] };
  const [bootstrap, clustersCfg, endpointsCfg, listenersCfg, scopedCfg, routesCfg, secretsCfg] = parts.configs as [J, J, J, J, J, J, J];
  const dr = (s: SyntheticService): string | undefined => (s.subsets.length ? `${s.ref.name}-subsets` : undefined);

  w.write('{"configs":[\n');
  w.write(JSON.stringify(bootstrap));
  // clusters
  w.write(`,\n{"@type":${JSON.stringify(clustersCfg['@type'])},"version_info":${JSON.stringify(clustersCfg.version_info)},"static_clusters":${JSON.stringify(clustersCfg.static_clusters)},"dynamic_active_clusters":[`);
  list(
    (function* () {
      yield S.blackHoleCluster();
      yield S.passthroughCluster();
      yield S.inboundPassthroughCluster();
      for (const s of svcs) {
        for (const p of s.ports) {
          const d = dr(s);
          yield S.edsCluster(p.port, s.ref, d ? { destinationRule: d } : {});
          for (const subset of s.subsets) yield S.edsCluster(p.port, s.ref, { subset, destinationRule: d! });
        }
      }
      for (const e of external) yield S.dnsCluster(443, e.host, e.namespace);
    })(),
  );
  w.write(']}');
  // endpoints (include_eds)
  w.write(`,\n{"@type":${JSON.stringify(endpointsCfg['@type'])},"dynamic_endpoint_configs":[`);
  list(
    (function* () {
      for (const [i, s] of svcs.entries()) {
        for (const p of s.ports) {
          const eps = Array.from({ length: s.endpoints }, (_, k) => ({
            ip: `10.${244 + (k % 8)}.${Math.floor(i / 256) % 256}.${i % 256}`,
            port: p.port === GRPC_PORT ? 9090 : p.port,
            workload: `${s.ref.name}-${k % 2 ? 'v2' : 'v1'}-7d4b9c${(i % 100).toString().padStart(2, '0')}-x${k};${s.ref.namespace};${s.ref.name};${k % 2 ? 'v2' : 'v1'};Kubernetes`,
          }));
          yield S.endpoints(`outbound|${p.port}||${s.ref.host}`, eps);
          for (const subset of s.subsets) {
            yield S.endpoints(
              `outbound|${p.port}|${subset}|${s.ref.host}`,
              eps.filter((e) => e.workload.includes(`;${subset};`)),
            );
          }
        }
      }
    })(),
  );
  w.write(']}');
  // listeners
  w.write(`,\n{"@type":${JSON.stringify(listenersCfg['@type'])},"version_info":${JSON.stringify(listenersCfg.version_info)},"static_listeners":${JSON.stringify(listenersCfg.static_listeners)},"dynamic_listeners":[`);
  list(
    (function* () {
      for (const p of [...HTTP_PORTS, GRPC_PORT]) yield S.wildcardHttpListener(p, 'PassthroughCluster');
      for (const s of svcs) for (const p of s.ports) if (!p.http) yield S.vipTcpListener(s.vip, p.port, `outbound|${p.port}||${s.ref.host}`);
      if (external.length) yield S.wildcardTlsListener(443, external.map((e) => ({ hosts: [e.host], cluster: `outbound|443||${e.host}` })), 'PassthroughCluster');
      yield S.virtualOutbound('PassthroughCluster');
      yield S.virtualInbound();
    })(),
  );
  w.write(']}');
  w.write(`,\n${JSON.stringify(scopedCfg)}`);
  // routes: one configuration per HTTP port, streamed virtual host by virtual host
  w.write(`,\n{"@type":${JSON.stringify(routesCfg['@type'])},"dynamic_route_configs":[`);
  [...HTTP_PORTS, GRPC_PORT].forEach((port, idx) => {
    const rc = S.routeConfig(String(port), []) as { route_config: J };
    const head = JSON.stringify({ ...rc, route_config: { ...rc.route_config, virtual_hosts: '__VH__' } });
    const [before, after] = head.split('"__VH__"') as [string, string];
    w.write(idx === 0 ? '\n' : ',\n');
    w.write(`${before}[`);
    let first = true;
    for (const s of svcs) {
      if (!s.ports.some((p) => p.http && p.port === port)) continue;
      w.write(first ? '' : ',');
      const domains = S.serviceDomains(s.ref, s.vip, CLIENT_NS);
      domains.splice(1, 0, `${s.ref.host}.`);
      const routes: S.RouteEntry[] = s.subsets.length
        ? [{ name: 'default', weighted: s.subsets.map((subset, k) => ({ name: `outbound|${port}|${subset}|${s.ref.host}`, weight: k === 0 ? 90 : 10 })), virtualService: { name: s.ref.name, namespace: s.ref.namespace } }]
        : [{ name: 'default', cluster: `outbound|${port}||${s.ref.host}` }];
      w.write(JSON.stringify(S.virtualHost(`${s.ref.host}:${port}`, domains, routes)));
      first = false;
    }
    w.write(`${first ? '' : ','}${JSON.stringify(S.catchAllVirtualHost('PassthroughCluster'))}]${after}`);
  });
  w.write(']}');
  w.write(`,\n${JSON.stringify(secretsCfg)}\n]}\n`);
  w.flush();
  fs.closeSync(fd);
  return w.written;
}

/** Where the bench keeps generated dumps: $TMPDIR/mesh-egress-bench. */
export const BENCH_CACHE = path.join(os.tmpdir(), 'mesh-egress-bench');

/** The dump of an N-service mesh, generated once into BENCH_CACHE (again when the shapes change). */
export function ensureMeshDump(n: number, log: (line: string) => void = (l) => console.error(l)): string {
  fs.mkdirSync(BENCH_CACHE, { recursive: true });
  const file = path.join(BENCH_CACHE, `mesh-${n >= 1000 ? `${n / 1000}k` : n}.json`);
  const stamp = `${file}.spec`;
  const spec = JSON.stringify({ services: n, shape: MESH_SHAPE_VERSION });
  if (!fs.existsSync(file) || !fs.existsSync(stamp) || fs.readFileSync(stamp, 'utf8') !== spec) {
    fs.rmSync(stamp, { force: true });
    const t0 = Date.now();
    log(`generating a ${n}-service mesh dump into ${file} ...`);
    const size = writeMeshDump(file, { services: n });
    fs.writeFileSync(stamp, spec);
    log(`generated ${path.basename(file)}: ${(size / 1048576).toFixed(1)} MB in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  }
  return file;
}
