/**
 * Real Envoy dumps from Istio's own test data (../shared/corpus/istio, read in place, never
 * copied): every one loads, real destinations trace to asserted verdicts, and our endpoint
 * reading agrees with istioctl's goldens for the same files.
 */
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runTrace } from '../src/analyze/trace/engine.js';
import { buildRequest, type RequestFlags } from '../src/analyze/trace/request.js';
import type { Trace } from '../src/analyze/trace/types.js';
import { loadConfigDump } from '../src/collect/dump-files.js';
import { endpointsOf } from '../src/envoy/cluster.js';
import { DataError } from '../src/model/errors.js';
import { corpusPath, corpusRoot } from './helpers/shared.js';

const A1 = 'istioctl/pkg/authz/testdata/configdump.yaml'; // modern sidecar, LDS only, no bootstrap
const A2 = 'istioctl/pkg/proxyconfig/testdata/config_dump.json'; // waypoint
const A3 = 'istioctl/pkg/writer/envoy/configdump/testdata/endpoint/configdump.json'; // EDS only
const A9 = '_history_2020/istioctl/cmd/testdata/describe/productpage-v1-7bbd79f8fd-k6j79.json'; // Istio 1.3 sidecar
const A10 = '_history_2020/istioctl/cmd/testdata/describe/productpage-v1-c7765c886-v99jb.json'; // Istio 1.4-alpha sidecar
const A11 = '_history_2020/istioctl/cmd/testdata/describe/istio-ingressgateway-5bf6c9887-vvvmj.json'; // Istio 1.3 gateway
const B1 = '_history_2020/istioctl/pkg/writer/envoy/clusters/testdata/clusters.json'; // /clusters?format=json

function trace(file: string, dest: string, flags: RequestFlags = {}): Trace {
  return runTrace(loadConfigDump([corpusPath(file)]), buildRequest(dest, flags));
}

function codes(t: Trace): string[] {
  return t.findings.map((f) => f.code);
}

function allCorpusDumps(): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = `${dir}/${e.name}`;
      if (e.isDirectory()) walk(p);
      else if (/\.(json|yaml)$/.test(e.name)) out.push(p.slice(corpusRoot.length + 1));
    }
  };
  walk(corpusRoot);
  return out.sort();
}

describe('every corpus dump loads', () => {
  const files = allCorpusDumps();
  it('finds the corpus', () => {
    expect(files.length).toBeGreaterThanOrEqual(13);
  });
  for (const f of files) {
    it(f, () => {
      if (f === 'pkg/bootstrap/testdata/stats_inclusion_golden.json') {
        // a bootstrap file, not an admin dump: a clear data error, not a crash
        expect(() => loadConfigDump([corpusPath(f)])).toThrow(DataError);
        return;
      }
      const dump = loadConfigDump([corpusPath(f)]);
      const counts = dump.counts();
      expect(Object.values(counts).reduce((a, b) => a + b, 0) + dump.configTypes.length).toBeGreaterThan(0);
      // tracing never throws, whatever the dump holds
      const t = runTrace(dump, buildRequest('10.0.0.1:80'));
      expect(t.verdict.summary.length).toBeGreaterThan(10);
    });
  }
});

describe('A1: modern sidecar listeners (Istio ~1.18, YAML file holding JSON, no bootstrap)', () => {
  it('kube-dns VIP: exact listener, cluster not in the LDS-only dump', () => {
    const t = trace(A1, '10.96.0.10:53');
    expect(t.verdict.listener).toBe('10.96.0.10_53');
    expect(t.verdict.cluster).toBe('outbound|53||kube-dns.kube-system.svc.cluster.local');
    expect(t.verdict.code).toBeNull();
    expect(codes(t)).toContain('MEG001');
  });
  it('raw TCP to an unknown IP on an HTTP port falls through the PassthroughFilterChain', () => {
    const t = trace(A1, '10.0.0.6:9080');
    expect(t.verdict).toMatchObject({ code: 'PASSTHROUGH', listener: '0.0.0.0_9080', filterChain: 'PassthroughFilterChain', cluster: 'PassthroughCluster' });
  });
  it('HTTP on the wildcard listener needs RDS, which the dump lacks', () => {
    const t = trace(A1, 'http://10.0.0.6:9080/');
    expect(t.verdict).toMatchObject({ code: null, listener: '0.0.0.0_9080', routeConfig: '9080' });
  });
  it('an unknown IP and port leaves through virtualOutbound\'s catch-all (ALLOW_ANY)', () => {
    const t = trace(A1, '203.0.113.9:5432');
    expect(t.verdict).toMatchObject({ code: 'PASSTHROUGH', listener: 'virtualOutbound', filterChain: 'virtualOutbound-catchall-tcp', outboundTrafficPolicy: 'ALLOW_ANY' });
  });
  it('a server-first protocol stalls on the sniffing 0.0.0.0_5000 listener (timeout 0s)', () => {
    const t = trace(A1, '203.0.113.9:5000', { serverFirst: true });
    expect(t.verdict).toMatchObject({ code: 'DETECTION_STALL', outcome: 'hang', listener: '0.0.0.0_5000' });
  });
  it('port 15001 hits the loop guard', () => {
    expect(trace(A1, '1.2.3.4:15001').verdict).toMatchObject({ code: 'BLACKHOLE', filterChain: 'virtualOutbound-blackhole' });
  });
  it("the pod's own IP is not captured", () => {
    expect(trace(A1, '10.244.0.17:9080', { podIp: '10.244.0.17' }).verdict.code).toBe('NOT_CAPTURED');
  });
});

describe('A9: Istio 1.3 productpage sidecar (v2 resources, mixer filters)', () => {
  it('raw TCP into the match-all HCM chain of 0.0.0.0_80 is swallowed (pre-1.6, seed 002)', () => {
    const t = trace(A9, '10.0.0.6:80');
    expect(t.verdict).toMatchObject({ code: 'PROTOCOL_MISMATCH', outcome: '400', responseFlag: 'DPE', listener: '0.0.0.0_80' });
    expect(t.verdict.responsible.some((r) => r.host === 'istio-ingressgateway.istio-system.svc.cluster.local')).toBe(true);
  });
  it('HTTP to reviews resolves its VIP and routes through the sniffing VIP listener', () => {
    const t = trace(A9, 'http://reviews:9080/');
    expect(t.verdict).toMatchObject({ code: 'ROUTED', listener: '172.21.95.172_9080', routeConfig: 'reviews.default.svc.cluster.local:9080', cluster: 'outbound|9080||reviews.default.svc.cluster.local' });
    expect(t.verdict.responsible).toContainEqual(expect.objectContaining({ kind: 'DestinationRule', name: 'reviews', namespace: 'default' }));
  });
  it('an unknown HTTP host gets the allow_any virtual host', () => {
    expect(trace(A9, 'http://unknown.example.com:9080/').verdict).toMatchObject({ code: 'PASSTHROUGH', virtualHost: 'allow_any' });
  });
  it('kube-dns is routed; without EDS its endpoints are unknown', () => {
    const t = trace(A9, '172.21.0.10:53');
    expect(t.verdict).toMatchObject({ code: 'ROUTED', cluster: 'outbound|53||kube-dns.kube-system.svc.cluster.local' });
    expect(codes(t)).toContain('MEG042');
  });
  it('before Istio 1.5 the app calling its own pod IP went to the inbound listener', () => {
    const t = trace(A9, '172.30.150.216:9080');
    expect(t.hops[0]?.result).toBe('redirected to 15006 (inbound listener)');
    expect(t.verdict.listener).toBe('virtualInbound');
  });
});

describe('A10: Istio 1.4-alpha sidecar', () => {
  it('HTTP to reviews on the shared 0.0.0.0_9080 listener', () => {
    expect(trace(A10, 'http://reviews:9080/').verdict).toMatchObject({ code: 'ROUTED', listener: '0.0.0.0_9080', routeConfig: '9080', virtualHost: 'reviews.default.svc.cluster.local:9080' });
  });
  it('raw TCP to an external IP on 9080 is swallowed by the HTTP chain', () => {
    expect(trace(A10, '10.0.0.6:9080').verdict).toMatchObject({ code: 'PROTOCOL_MISMATCH', outcome: '400' });
  });
});

describe('A11: Istio 1.3 ingress gateway (router, no capture)', () => {
  it('routes /productpage to the v1 subset', () => {
    const t = trace(A11, 'http://10.1.2.3/productpage');
    expect(t.proxy.type).toBe('router');
    expect(t.hops[0]?.stage).toBe('listener');
    expect(t.verdict).toMatchObject({ code: 'ROUTED', routeConfig: 'http.80', virtualHost: '*:80', cluster: 'outbound|9080|v1|productpage.default.svc.cluster.local' });
  });
  it('an unknown path has no route (404 NR)', () => {
    expect(trace(A11, 'http://10.1.2.3/nope').verdict).toMatchObject({ code: 'NO_ROUTE', outcome: '404', responseFlag: 'NR' });
  });
  it('the TCP gateway server on 31400 is not mistaken for a ServiceEntry capturing the port', () => {
    const t = trace(A11, '10.1.2.3:31400');
    expect(t.verdict).toMatchObject({ code: 'ROUTED', cluster: 'outbound|9000|v1|tcp-echo.default.svc.cluster.local' });
    expect(codes(t)).not.toContain('MEG034');
  });
});

describe('A2: waypoint', () => {
  it('says ambient proxies are not emulated instead of guessing', () => {
    const t = trace(A2, 'http://httpbin:8000/');
    expect(t.proxy.type).toBe('waypoint');
    expect(t.verdict.code).toBeNull();
    expect(codes(t)).toEqual(['MEG002']);
  });
});

/** Lines of an istioctl endpoint table: address, status, outlier column (if any), cluster. */
function istioctlEndpoints(rel: string): { address: string; status: string; outlier?: string; cluster: string }[] {
  const [header, ...lines] = fs.readFileSync(corpusPath(rel), 'utf8').trim().split('\n');
  const hasOutlier = header!.includes('OUTLIER');
  return lines.map((l) => {
    const cols = l.trim().split(/\s{2,}/);
    return hasOutlier ? { address: cols[0]!, status: cols[1]!, outlier: cols[2]!, cluster: cols[3]! } : { address: cols[0]!, status: cols[1]!, cluster: cols[cols.length - 1]! };
  });
}

describe('endpoint reading agrees with istioctl goldens', () => {
  it('A3 EDS dump vs istioctl pc eds (emptyfilter_output.txt)', () => {
    const dump = loadConfigDump([corpusPath(A3)]);
    const rows = istioctlEndpoints('istioctl/pkg/writer/envoy/configdump/testdata/endpoint/emptyfilter_output.txt');
    expect(rows.length).toBeGreaterThan(20);
    for (const row of rows) {
      const set = endpointsOf(dump, row.cluster, { type: 'EDS' });
      const ep = set.endpoints.find((e) => e.address === row.address || e.address === `unix:${row.address}`);
      expect(ep, `${row.address} in ${row.cluster}`).toBeDefined();
      expect(ep!.health === 'healthy' ? 'HEALTHY' : ep!.reason?.replace('eds:', ''), row.address).toBe(row.status);
    }
  });
  it('B1 /clusters?format=json (mixed snake/camel keys) vs istioctl pc endpoint (clustersummary.txt)', () => {
    const dump = loadConfigDump([corpusPath(B1)]);
    const rows = istioctlEndpoints('_history_2020/istioctl/pkg/writer/envoy/clusters/testdata/clustersummary.txt');
    expect(rows.length).toBeGreaterThan(5);
    for (const row of rows) {
      const set = endpointsOf(dump, row.cluster, { type: 'EDS' });
      expect(set.source).toBe('clusters');
      const ep = set.endpoints.find((e) => e.address === row.address || `unix://${e.address.replace(/^unix:/, '')}` === row.address);
      expect(ep, `${row.address} in ${row.cluster}`).toBeDefined();
      const expected = row.outlier === 'FAILED' ? 'outlier ejected' : row.status === 'UNHEALTHY' ? 'eds:UNHEALTHY' : undefined;
      expect(ep!.reason, row.address).toBe(expected);
    }
  });
});
