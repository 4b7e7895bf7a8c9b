/**
 * Synthetic meshes for the benchmark: a sidecar's config dump for N services, shaped like Istio's
 * (test/fixtures/istio-shapes.ts): HTTP services share wildcard listeners and one route
 * configuration per port (hundreds of virtual hosts each), TCP services get per-VIP listeners,
 * every service port has an EDS cluster with several endpoints. Written as a stream, so a dump of
 * any size (beyond V8's maximum string length) can be produced without holding it in memory.
 */
import fs from 'node:fs';
import * as S from '../test/fixtures/istio-shapes.js';

type J = Record<string, unknown>;

export interface MeshSpec {
  readonly services: number;
  readonly endpointsPerService: number;
}

const HTTP_PORTS = [80, 8080, 9080, 3000, 5000];
const TCP_PORTS = [5432, 6379, 9092, 27017, 11211, 7000, 4222];

export interface SyntheticService {
  readonly ref: S.ServiceRef;
  readonly vip: string;
  readonly port: number;
  readonly http: boolean;
}

export function services(n: number): SyntheticService[] {
  const out: SyntheticService[] = [];
  for (let i = 0; i < n; i++) {
    const ns = `team-${i % 97}`;
    const ref = { name: `svc-${i}`, namespace: ns, host: `svc-${i}.${ns}.svc.cluster.local` };
    const vip = `10.${96 + Math.floor(i / 65536)}.${Math.floor(i / 256) % 256}.${i % 256}`;
    const http = i % 5 !== 0 && i % 5 !== 3; // 60 % HTTP
    const port = http ? HTTP_PORTS[i % HTTP_PORTS.length]! : TCP_PORTS[i % TCP_PORTS.length]!;
    out.push({ ref, vip, port, http });
  }
  return out;
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
    proxy: { pod: 'bench-client-5f7d8-abcde', namespace: 'team-0', ip: '10.244.9.9', workload: 'bench-client', istioVersion: '1.26.2', labels: { app: 'bench-client' } },
    listeners: [],
    clusters: [],
    routes: [],
    endpoints: [],
  }) as { configs: J[] };
  const [bootstrap, clustersCfg, endpointsCfg, listenersCfg, scopedCfg, routesCfg, secretsCfg] = parts.configs as [J, J, J, J, J, J, J];

  w.write('{"configs":[\n');
  w.write(JSON.stringify(bootstrap));
  // clusters
  w.write(`,\n{"@type":${JSON.stringify(clustersCfg['@type'])},"static_clusters":${JSON.stringify(clustersCfg.static_clusters)},"dynamic_active_clusters":[`);
  list(
    (function* () {
      yield S.blackHoleCluster();
      yield S.passthroughCluster();
      for (const s of svcs) yield S.edsCluster(s.port, s.ref);
    })(),
  );
  w.write(']}');
  // endpoints
  w.write(`,\n{"@type":${JSON.stringify(endpointsCfg['@type'])},"dynamic_endpoint_configs":[`);
  list(
    (function* () {
      for (const [i, s] of svcs.entries()) {
        const eps = Array.from({ length: spec.endpointsPerService }, (_, k) => ({ ip: `10.${244 + (k % 8)}.${Math.floor(i / 256) % 256}.${i % 256}`, port: s.port, workload: `${s.ref.name};${s.ref.namespace};${s.ref.name};v1;Kubernetes` }));
        yield S.endpoints(`outbound|${s.port}||${s.ref.host}`, eps);
      }
    })(),
  );
  w.write(']}');
  // listeners
  w.write(`,\n{"@type":${JSON.stringify(listenersCfg['@type'])},"static_listeners":${JSON.stringify(listenersCfg.static_listeners)},"dynamic_listeners":[`);
  list(
    (function* () {
      for (const p of HTTP_PORTS) yield S.wildcardHttpListener(p, 'PassthroughCluster');
      for (const s of svcs) if (!s.http) yield S.vipTcpListener(s.vip, s.port, `outbound|${s.port}||${s.ref.host}`);
      yield S.virtualOutbound('PassthroughCluster');
      yield S.virtualInbound();
    })(),
  );
  w.write(']}');
  w.write(`,\n${JSON.stringify(scopedCfg)}`);
  // routes: one configuration per HTTP port, streamed virtual host by virtual host
  w.write(`,\n{"@type":${JSON.stringify(routesCfg['@type'])},"dynamic_route_configs":[`);
  HTTP_PORTS.forEach((port, idx) => {
    const rc = S.routeConfig(String(port), []) as { route_config: J };
    const head = JSON.stringify({ ...rc, route_config: { ...rc.route_config, virtual_hosts: '__VH__' } });
    const [before, after] = head.split('"__VH__"') as [string, string];
    w.write(idx === 0 ? '\n' : ',\n');
    w.write(`${before}[`);
    let first = true;
    for (const s of svcs) {
      if (!s.http || s.port !== port) continue;
      w.write(first ? '' : ',');
      w.write(JSON.stringify(S.virtualHost(`${s.ref.host}:${port}`, S.serviceDomains(s.ref, s.vip, 'team-0'), [{ name: 'default', cluster: `outbound|${port}||${s.ref.host}` }])));
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
