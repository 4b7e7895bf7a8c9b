/**
 * The pure pieces of whyblackhole's evidence: the Prometheus text parser (label escaping,
 * timestamps, special values), the catch-all counters, grouping log lines by destination, and
 * reading the proxy's access-log and stats-matcher configuration from a dump.
 */
import { describe, expect, it } from 'vitest';
import { parseAccessLog } from '../../src/model/access-log.js';
import { ConfigDump } from '../../src/model/config-dump.js';
import { indexBuffer } from '../../src/collect/dump-files.js';
import { parsePrometheusText, parseProxyStats } from '../../src/model/proxy-stats.js';
import { accessLogConfig, groupByDestination, observationOf, statsInclusion, summarizeStats } from '../../src/analyze/whyblackhole/evidence.js';
import { byName } from '../fixtures/whyblackhole/scenarios.js';
import { textLine, withAccessLog, withIstioStatsMatcher } from '../fixtures/whyblackhole/evidence.js';

function dumpOf(j: unknown): ConfigDump {
  return new ConfigDump([indexBuffer('test', Buffer.from(JSON.stringify(j)))]);
}

describe('parsePrometheusText', () => {
  it('reads names, labels with escapes, values, timestamps; skips comments and broken lines', () => {
    const s = parsePrometheusText(
      [
        '# HELP istio_requests_total x',
        '# TYPE istio_requests_total counter',
        'istio_requests_total{reporter="source",destination_service="a\\"b\\\\c\\nd",destination_service_name="BlackHoleCluster",response_code="502"} 3 1700000000000',
        'envoy_server_live{} 1',
        'envoy_cluster_upstream_cx_total{cluster_name="outbound|80||x.svc.cluster.local"} 1.5e3',
        'envoy_histogram_bucket{le="+Inf"} +Inf',
        'broken{a="unterminated} 1',
        'no_value{a="b"}',
      ].join('\n'),
    );
    expect(s).toEqual([
      { name: 'istio_requests_total', labels: { reporter: 'source', destination_service: 'a"b\\c\nd', destination_service_name: 'BlackHoleCluster', response_code: '502' }, value: 3 },
      { name: 'envoy_server_live', labels: {}, value: 1 },
      { name: 'envoy_cluster_upstream_cx_total', labels: { cluster_name: 'outbound|80||x.svc.cluster.local' }, value: 1500 },
      { name: 'envoy_histogram_bucket', labels: { le: '+Inf' }, value: Infinity },
    ]);
  });

  it('tells /stats text from Prometheus', () => {
    expect(parseProxyStats('cluster.BlackHoleCluster;.upstream_cx_total: 2\nserver.state: 0\n').format).toBe('envoy-text');
    expect(parseProxyStats('# TYPE a counter\na{} 1\n').format).toBe('prometheus');
  });
});

describe('summarizeStats', () => {
  it('sums source-reported catch-all series only, by kind, and keeps raw counters when present', () => {
    const m = summarizeStats(
      parsePrometheusText(
        [
          'istio_tcp_connections_closed_total{reporter="source",destination_service_name="BlackHoleCluster"} 4',
          'istio_tcp_connections_closed_total{reporter="destination",destination_service_name="BlackHoleCluster"} 100',
          'istio_tcp_connections_closed_total{reporter="source",destination_service_name="PassthroughCluster"} 2',
          'istio_requests_total{reporter="source",destination_service_name="BlackHoleCluster",response_code="502"} 3',
          'istio_requests_total{reporter="source",destination_service_name="reviews"} 50',
          'envoy_cluster_upstream_cx_total{cluster_name="BlackHoleCluster"} 4',
          'envoy_listener_no_filter_chain_match{listener_address="0.0.0.0_7000"} 6',
          'envoy_listener_no_filter_chain_match{listener_address="0.0.0.0_8080"} 0',
        ].join('\n'),
      ),
    );
    expect(m).toEqual({
      istioMetrics: true,
      blackhole: { tcpConnections: 4, httpRequests: 3, responseCodes: { '502': 3 } },
      passthrough: { tcpConnections: 2, httpRequests: 0, responseCodes: {} },
      raw: { blackholeConnections: 4, noFilterChainMatch: { '0.0.0.0_7000': 6 } },
    });
  });
});

describe('groupByDestination', () => {
  const SRC = '10.244.1.17';
  it('groups by original destination, SNI or Host; ignores inbound and normal traffic; keeps first/last seen', () => {
    const log = [
      textLine({ t: '2026-03-02T10:00:02.000Z', flags: 'UH', cluster: 'BlackHoleCluster', dst: '10.0.0.6:7000', src: `${SRC}:1` }),
      textLine({ t: '2026-03-02T10:00:01.000Z', flags: 'UH', cluster: 'BlackHoleCluster', dst: '10.0.0.6:7000', src: `${SRC}:2` }),
      textLine({ t: '2026-03-02T10:00:03.000Z', flags: 'UH', cluster: 'BlackHoleCluster', dst: '1.1.1.1:443', src: `${SRC}:3`, sni: 'one.example.com' }),
      textLine({ t: '2026-03-02T10:00:04.000Z', flags: 'UH', cluster: 'BlackHoleCluster', dst: '1.1.1.2:443', src: `${SRC}:4`, sni: 'one.example.com' }),
      // inbound: to the pod itself, and an inbound cluster
      textLine({ t: '2026-03-02T10:00:05.000Z', flags: 'NR', details: 'filter_chain_not_found', dst: `${SRC}:9999`, src: '10.244.2.2:5' }),
      textLine({ t: '2026-03-02T10:00:06.000Z', flags: 'UF', cluster: 'inbound|8080||', dst: `${SRC}:8080`, src: '10.244.2.2:6' }),
      // normal mesh traffic
      textLine({ t: '2026-03-02T10:00:07.000Z', req: 'GET / HTTP/1.1', code: 200, details: 'via_upstream', authority: 'catalog:8080', uhost: '10.244.2.31:8080', cluster: 'outbound|8080||catalog.shop.svc.cluster.local', dst: '10.96.7.201:8080', src: `${SRC}:7`, route: 'default' }),
      textLine({ t: '2026-03-02T10:00:08.000Z', req: 'GET /a?token=x HTTP/1.1', code: 502, details: 'direct_response', authority: 'api.example.com', dst: '93.184.216.34:80', src: `${SRC}:8`, route: 'block_all' }),
      textLine({ t: '2026-03-02T10:00:09.000Z', flags: 'UF,URX', uhost: '10.0.0.9:8443', cluster: 'PassthroughCluster', dst: '10.0.0.9:8443', src: `${SRC}:9` }),
    ].join('\n');
    const g = groupByDestination(parseAccessLog(log), new Set([SRC]));
    expect(g.map((x) => [x.key, x.observation, x.protocol, x.count, x.addresses.join(',')])).toEqual([
      ['10.0.0.6:7000', 'blackhole', 'tcp', 2, '10.0.0.6'],
      ['one.example.com:443', 'blackhole', 'tls', 2, '1.1.1.1,1.1.1.2'],
      ['api.example.com:80', 'blackhole', 'http', 1, '93.184.216.34'],
      ['10.0.0.9:8443', 'upstream-failure', 'tcp', 1, '10.0.0.9'],
    ]);
    expect(g[0]).toMatchObject({ firstSeen: '2026-03-02T10:00:01.000Z', lastSeen: '2026-03-02T10:00:02.000Z', flags: { UH: 2 } });
    expect(g[2]!.path).toBe('/a');
    expect(g[2]!.sample).not.toContain('token=x');
  });

  it('a DPE line parsed no request: the client sent non-HTTP bytes (TCP)', () => {
    const e = parseAccessLog('[2020-07-14T16:02:11.118Z] "- - HTTP/1.1" 400 DPE "-" "-" 0 11 0 - "-" "-" "-" "-" "-" - - 10.0.0.6:7000 10.64.192.14:50498 - -');
    expect(observationOf(e[0]!)).toBe('blackhole');
    expect(groupByDestination(e)[0]).toMatchObject({ key: '10.0.0.6:7000', protocol: 'tcp', responseCodes: { '400': 1 } });
  });
});

describe('what the proxy is configured to record', () => {
  it('access logging: off in an Istio dump without accessLogFile, on with its file logger (text or JSON)', () => {
    const raw = byName('logs-off').dump;
    expect(accessLogConfig(dumpOf(raw)).state).toBe('off');
    expect(accessLogConfig(dumpOf(withAccessLog(raw)))).toMatchObject({ state: 'on', paths: ['/dev/stdout'], formats: ['default-text'] });
    expect(accessLogConfig(dumpOf(withAccessLog(raw, { encoding: 'JSON', path: '/var/log/envoy.log' })))).toMatchObject({ state: 'on', paths: ['/var/log/envoy.log'], formats: ['json'] });
  });

  it('stats inclusion: Istio\'s default list drops the BlackHoleCluster counters; none means everything is kept', () => {
    const raw = byName('logs-off').dump;
    const withDefault = statsInclusion(dumpOf(withIstioStatsMatcher(raw)));
    expect(withDefault.includes('cluster.BlackHoleCluster;.upstream_cx_total')).toBe(false);
    expect(withDefault.includes('reporter=.=source;.;istio_requests_total')).toBe(true);
    expect(withDefault.includes('vhost.x.route.y.upstream_rq_200')).toBe(true);
    const annotated = statsInclusion(dumpOf(withIstioStatsMatcher(raw, ['cluster.BlackHoleCluster'])));
    expect(annotated.includes('cluster.BlackHoleCluster;.upstream_cx_total')).toBe(true);
    expect(statsInclusion(undefined).known).toBe(false);
  });
});
