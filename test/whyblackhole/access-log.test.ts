/**
 * Access-log parsing: Istio's default text formats (1.9+, 1.6–1.8, 1.3–1.5, 1.2) and its JSON
 * encoding, one real-looking line per Envoy response flag, TCP and HTTP.
 */
import { describe, expect, it } from 'vitest';
import { parseAccessLog, parseAccessLogLine, RESPONSE_FLAGS } from '../../src/model/access-log.js';

const ID = '"6f1c2a54-93b2-9d4e-8a41-0c5a0d7f6e21"';

/** A 1.9+ line (EnvoyTextLogFormat) from its fields, as Envoy would print them. */
function line19(f: {
  t?: string; req: string; code: number; flags: string; details?: string; term?: string; utfr?: string; rx?: number; tx?: number; dur?: number; ust?: string;
  ua?: string; id?: string; auth?: string; uhost?: string; cluster?: string; ula?: string; dla: string; dra?: string; sni?: string; route?: string;
}): string {
  return `[${f.t ?? '2026-03-02T10:15:42.118Z'}] "${f.req}" ${f.code} ${f.flags} ${f.details ?? '-'} ${f.term ?? '-'} "${f.utfr ?? '-'}" ${f.rx ?? 0} ${f.tx ?? 0} ${f.dur ?? 0} ${f.ust ?? '-'} "-" "${f.ua ?? '-'}" ${f.id ? `"${f.id}"` : '"-"'} "${f.auth ?? '-'}" "${f.uhost ?? '-'}" ${f.cluster ?? '-'} ${f.ula ?? '-'} ${f.dla} ${f.dra ?? '10.64.192.14:50498'} ${f.sni ?? '-'} ${f.route ?? '-'}`;
}

describe('parseAccessLogLine: Istio 1.9+ text format', () => {
  it('reads a TCP connection black-holed under REGISTRY_ONLY (UH, BlackHoleCluster)', () => {
    const e = parseAccessLogLine('[2026-03-02T10:15:42.118Z] "- - -" 0 UH - - "-" 0 0 0 - "-" "-" "-" "-" "-" BlackHoleCluster - 10.0.0.6:7000 10.64.192.14:50498 - -')!;
    expect(e).toMatchObject({
      format: 'text-1.9',
      kind: 'tcp',
      method: undefined,
      path: undefined,
      protocol: undefined,
      responseCode: 0,
      responseFlags: ['UH'],
      upstreamCluster: 'BlackHoleCluster',
      upstreamHost: undefined,
      downstreamLocalAddress: '10.0.0.6:7000',
      downstreamRemoteAddress: '10.64.192.14:50498',
      requestedServerName: undefined,
      routeName: undefined,
      bytesReceived: 0,
      duration: 0,
      timestamp: '2026-03-02T10:15:42.118Z',
      time: Date.UTC(2026, 2, 2, 10, 15, 42, 118),
    });
  });

  it('reads an HTTP request answered by block_all (502, no flag, direct_response)', () => {
    const e = parseAccessLogLine(`[2026-03-02T10:16:01.402Z] "GET /v1/orders?id=7 HTTP/1.1" 502 - direct_response - "-" 0 0 0 - "-" "curl/8.5.0" ${ID} "api.example.com" "-" - - 93.184.216.34:80 10.64.192.14:41234 - block_all`)!;
    expect(e).toMatchObject({
      kind: 'http',
      method: 'GET',
      path: '/v1/orders?id=7',
      protocol: 'HTTP/1.1',
      responseCode: 502,
      responseFlags: [],
      responseCodeDetails: 'direct_response',
      authority: 'api.example.com',
      userAgent: 'curl/8.5.0',
      requestId: '6f1c2a54-93b2-9d4e-8a41-0c5a0d7f6e21',
      upstreamCluster: undefined,
      routeName: 'block_all',
      downstreamLocalAddress: '93.184.216.34:80',
    });
  });

  it('reads TLS through PassthroughCluster with its SNI and original destination', () => {
    const e = parseAccessLogLine('[2026-03-02T10:17:12.009Z] "- - -" 0 - - - "-" 812 4310 210 - "-" "-" "-" "-" "142.250.74.100:443" PassthroughCluster 10.64.192.14:51200 142.250.74.100:443 10.64.192.14:51198 www.google.com -')!;
    expect(e).toMatchObject({ kind: 'tcp', responseFlags: [], upstreamCluster: 'PassthroughCluster', upstreamHost: '142.250.74.100:443', upstreamLocalAddress: '10.64.192.14:51200', requestedServerName: 'www.google.com', bytesReceived: 812, bytesSent: 4310, duration: 210 });
  });

  it('strips the alt_stat_name ";" of %UPSTREAM_CLUSTER% (Istio < 1.24)', () => {
    const e = parseAccessLogLine('[2026-03-02T10:15:42.118Z] "- - -" 0 UH - - "-" 0 0 0 - "-" "-" "-" "-" "-" BlackHoleCluster; - 10.0.0.6:7000 10.64.192.14:50498 - -')!;
    expect(e.upstreamCluster).toBe('BlackHoleCluster');
  });

  it('keeps several flags, in order', () => {
    const e = parseAccessLogLine(line19({ req: 'GET /healthz HTTP/1.1', code: 503, flags: 'UF,URX', details: 'upstream_reset_before_response_started{remote_connection_failure,delayed_connect_error:_111}', utfr: 'delayed_connect_error:_111', auth: 'legacy.internal:8080', uhost: '10.0.0.9:8080', cluster: 'PassthroughCluster', dla: '10.0.0.9:8080', route: 'allow_any' }))!;
    expect(e.responseFlags).toEqual(['UF', 'URX']);
    expect(e.upstreamTransportFailureReason).toBe('delayed_connect_error:_111');
    expect(e.responseCodeDetails).toBe('upstream_reset_before_response_started{remote_connection_failure,delayed_connect_error:_111}');
    expect(e.routeName).toBe('allow_any');
  });

  // one line per flag: [flag, code, details, cluster, request line]
  const perFlag: [string, number, string, string, string][] = [
    ['UH', 503, 'no_healthy_upstream', 'outbound|9080|v2|reviews.bookinfo.svc.cluster.local', 'GET /reviews/0 HTTP/1.1'],
    ['NR', 404, 'route_not_found', '-', 'GET /unknown HTTP/1.1'],
    ['NC', 503, 'cluster_not_found', '-', 'GET /ratings/0 HTTP/1.1'],
    ['UF', 503, 'upstream_reset_before_response_started{remote_connection_failure}', 'PassthroughCluster', 'GET / HTTP/1.1'],
    ['URX', 503, 'via_upstream', 'outbound|80||api.example.com', 'POST /v1/pay HTTP/1.1'],
    ['DPE', 400, 'http1.codec_error', '-', '- - HTTP/1.1'],
    ['UO', 503, 'upstream_reset_before_response_started{overflow}', 'outbound|6379||redis.cache.svc.cluster.local', 'GET /q HTTP/1.1'],
    ['UT', 504, 'response_timeout', 'outbound|8080||slow.default.svc.cluster.local', 'GET /slow HTTP/1.1'],
    ['LR', 503, 'upstream_reset_before_response_started{local_reset}', 'outbound|8080||api.default.svc.cluster.local', 'GET / HTTP/2'],
    ['UC', 503, 'upstream_reset_before_response_started{connection_termination}', 'outbound|8080||api.default.svc.cluster.local', 'GET / HTTP/1.1'],
    ['UR', 503, 'upstream_reset_before_response_started{remote_reset}', 'outbound|8080||api.default.svc.cluster.local', 'GET / HTTP/2'],
    ['DC', 0, 'downstream_remote_disconnect', 'outbound|8080||api.default.svc.cluster.local', 'GET /stream HTTP/1.1'],
    ['UPE', 502, 'upstream_reset_after_response_started{protocol_error}', 'outbound|9000||grpc.default.svc.cluster.local', 'POST /svc.Api/Call HTTP/2'],
    ['SI', 408, 'stream_idle_timeout', 'outbound|8080||api.default.svc.cluster.local', 'GET /watch HTTP/1.1'],
    ['IH', 400, 'request_headers_failed_strict_check', '-', 'GET / HTTP/1.1'],
    ['RL', 429, 'local_rate_limited', '-', 'GET / HTTP/1.1'],
    ['RLSE', 500, 'rate_limiter_error', '-', 'GET / HTTP/1.1'],
    ['UAEX', 403, 'ext_authz_denied', '-', 'GET /admin HTTP/1.1'],
    ['FI', 503, 'fault_filter_abort', 'outbound|9080||ratings.bookinfo.svc.cluster.local', 'GET /ratings/0 HTTP/1.1'],
    ['DI', 200, 'via_upstream', 'outbound|9080||ratings.bookinfo.svc.cluster.local', 'GET /ratings/0 HTTP/1.1'],
    ['DF', 503, 'dns_resolution_failure', 'outbound|443||nx.example.com', 'GET / HTTP/1.1'],
    ['DT', 0, 'max_duration_timeout', 'outbound|8080||api.default.svc.cluster.local', 'GET /long HTTP/1.1'],
    ['UMSDR', 408, 'max_duration_timeout', 'outbound|8080||api.default.svc.cluster.local', 'GET /long HTTP/1.1'],
    ['OM', 503, 'overload_manager', '-', 'GET / HTTP/1.1'],
    ['DO', 503, 'drop_overload', 'outbound|8080||api.default.svc.cluster.local', 'GET / HTTP/1.1'],
    ['DR', 0, 'http2.remote_reset', 'outbound|8080||api.default.svc.cluster.local', 'GET / HTTP/2'],
    ['LH', 503, 'via_upstream', 'inbound|8080||', 'GET / HTTP/1.1'],
    ['RFCF', 200, 'via_upstream', 'outbound|8080||api.default.svc.cluster.local', 'GET /cached HTTP/1.1'],
    ['NFCF', 500, 'missing_config', '-', 'GET / HTTP/1.1'],
  ];
  for (const [flag, code, details, cl, req] of perFlag) {
    it(`reads flag ${flag} (${RESPONSE_FLAGS[flag]})`, () => {
      const e = parseAccessLogLine(line19({ req, code, flags: flag, details, cluster: cl, auth: 'api.default.svc.cluster.local:8080', dla: '10.96.4.12:8080', route: 'default', ua: 'Go-http-client/1.1' }))!;
      expect(e.format).toBe('text-1.9');
      expect(e.responseFlags).toEqual([flag]);
      expect(e.responseCode).toBe(code);
      expect(e.responseCodeDetails).toBe(details);
      expect(e.upstreamCluster).toBe(cl === '-' ? undefined : cl);
      expect(e.kind).toBe('http');
      expect(e.downstreamLocalAddress).toBe('10.96.4.12:8080');
    });
  }

  it('reads TCP flags: NR with filter_chain_not_found, UF,URX through PassthroughCluster, NC for a missing cluster', () => {
    const nr = parseAccessLogLine('[2026-03-02T10:18:00.001Z] "- - -" 0 NR filter_chain_not_found - "-" 0 0 0 - "-" "-" "-" "-" "-" - - 10.0.0.6:7000 10.64.192.14:50500 - -')!;
    expect(nr).toMatchObject({ kind: 'tcp', responseFlags: ['NR'], responseCodeDetails: 'filter_chain_not_found', upstreamCluster: undefined, downstreamLocalAddress: '10.0.0.6:7000' });
    const uf = parseAccessLogLine('[2026-03-02T10:18:03.210Z] "- - -" 0 UF,URX - - "delayed_connect_error:_111" 0 0 1 - "-" "-" "-" "-" "10.0.0.6:7003" PassthroughCluster - 10.0.0.6:7003 10.64.192.14:38952 - -')!;
    expect(uf).toMatchObject({ kind: 'tcp', responseFlags: ['UF', 'URX'], upstreamHost: '10.0.0.6:7003', upstreamCluster: 'PassthroughCluster', upstreamTransportFailureReason: 'delayed_connect_error:_111' });
    const nc = parseAccessLogLine('[2026-03-02T10:18:04.000Z] "- - -" 0 NC - - "-" 0 0 0 - "-" "-" "-" "-" "-" outbound|5432|primary|db.data.svc.cluster.local - 10.96.7.7:5432 10.64.192.14:38960 - -')!;
    expect(nc).toMatchObject({ responseFlags: ['NC'], upstreamCluster: 'outbound|5432|primary|db.data.svc.cluster.local' });
  });

  it('keeps a quote inside the User-Agent', () => {
    const e = parseAccessLogLine(`[2026-03-02T10:16:01.402Z] "GET / HTTP/1.1" 200 - via_upstream - "-" 0 12 3 2 "-" "odd "agent" 1.0" ${ID} "api:8080" "10.64.3.3:8080" outbound|8080||api.default.svc.cluster.local 10.64.192.14:40000 10.96.4.12:8080 10.64.192.14:41234 - default`)!;
    expect(e.userAgent).toBe('odd "agent" 1.0');
    expect(e.upstreamServiceTime).toBe('2');
    expect(e.upstreamLocalAddress).toBe('10.64.192.14:40000');
  });

  it('accepts the kubectl logs --timestamps prefix', () => {
    const e = parseAccessLogLine('2026-03-02T10:15:42.119876543Z [2026-03-02T10:15:42.118Z] "- - -" 0 UH - - "-" 0 0 0 - "-" "-" "-" "-" "-" BlackHoleCluster - 10.0.0.6:7000 10.64.192.14:50498 - -')!;
    expect(e.upstreamCluster).toBe('BlackHoleCluster');
    expect(e.timestamp).toBe('2026-03-02T10:15:42.118Z');
  });
});

describe('parseAccessLogLine: older text formats', () => {
  it('1.6–1.8: no response-code details', () => {
    const e = parseAccessLogLine('[2020-09-14T08:01:02.003Z] "- - -" 0 UH "-" 0 0 0 - "-" "-" "-" "-" "-" BlackHoleCluster - 10.0.0.6:7000 10.64.192.14:50498 - -')!;
    expect(e).toMatchObject({ format: 'text-1.6', responseFlags: ['UH'], upstreamCluster: 'BlackHoleCluster', downstreamLocalAddress: '10.0.0.6:7000', responseCodeDetails: undefined, routeName: undefined });
    const h = parseAccessLogLine('[2020-09-14T08:01:05.000Z] "GET / HTTP/1.1" 502 - "-" 0 0 0 - "-" "curl/7.68.0" "a1b2" "www.example.com" "-" - - 93.184.216.34:80 10.64.192.14:41000 - block_all')!;
    expect(h).toMatchObject({ format: 'text-1.6', responseCode: 502, authority: 'www.example.com', routeName: 'block_all', userAgent: 'curl/7.68.0' });
  });

  it('1.3–1.5: the Mixer status field, then route name', () => {
    const e = parseAccessLogLine('[2019-11-20T03:04:05.678Z] "- - HTTP/1.1" 400 DPE "-" "-" 0 11 0 - "-" "-" "-" "-" "-" - - 10.0.0.6:7000 10.64.192.14:50498 - -')!;
    expect(e).toMatchObject({ format: 'text-1.3', kind: 'http', method: undefined, protocol: 'HTTP/1.1', responseCode: 400, responseFlags: ['DPE'], bytesSent: 11, downstreamLocalAddress: '10.0.0.6:7000' });
    const ok = parseAccessLogLine('[2019-11-20T03:04:06.000Z] "GET /productpage HTTP/1.1" 200 - "-" "-" 0 5183 38 37 "-" "curl/7.58.0" "req-1" "productpage:9080" "10.64.1.7:9080" outbound|9080||productpage.default.svc.cluster.local - 10.96.3.3:9080 10.64.192.14:42000 - default')!;
    expect(ok).toMatchObject({ format: 'text-1.3', routeName: 'default', upstreamCluster: 'outbound|9080||productpage.default.svc.cluster.local', upstreamHost: '10.64.1.7:9080', duration: 38 });
  });

  it('1.2: Mixer status and no route name', () => {
    const e = parseAccessLogLine('[2019-06-01T12:00:00.000Z] "- - -" 0 UF,URX "-" "-" 0 0 1001 - "-" "-" "-" "-" "10.0.0.6:7000" PassthroughCluster - 10.0.0.6:7000 10.64.192.14:50498 -')!;
    expect(e).toMatchObject({ format: 'text-1.2', responseFlags: ['UF', 'URX'], upstreamCluster: 'PassthroughCluster', requestedServerName: undefined, routeName: undefined, duration: 1001 });
  });
});

describe('parseAccessLogLine: JSON encoding', () => {
  it('reads Istio\'s JSON keys, numbers as numbers, null for missing values', () => {
    const e = parseAccessLogLine(JSON.stringify({
      authority: null, bytes_received: 0, bytes_sent: 0, connection_termination_details: null, downstream_local_address: '10.0.0.6:7000',
      downstream_remote_address: '10.64.192.14:50498', duration: 0, method: null, path: null, protocol: null, request_id: null, requested_server_name: null,
      response_code: 0, response_code_details: null, response_flags: 'UH', route_name: null, start_time: '2026-03-02T10:15:42.118Z', upstream_cluster: 'BlackHoleCluster',
      upstream_host: null, upstream_local_address: null, upstream_service_time: null, upstream_transport_failure_reason: null, user_agent: null, x_forwarded_for: null,
    }))!;
    expect(e).toMatchObject({ format: 'json', kind: 'tcp', responseCode: 0, responseFlags: ['UH'], upstreamCluster: 'BlackHoleCluster', downstreamLocalAddress: '10.0.0.6:7000', method: undefined });
  });

  it('reads string-typed values and "-" as in older Envoy JSON output', () => {
    const e = parseAccessLogLine('{"start_time":"2026-03-02T10:16:01.402Z","method":"GET","path":"/","protocol":"HTTP/1.1","response_code":"502","response_flags":"-","response_code_details":"direct_response","bytes_received":"0","bytes_sent":"0","duration":"1","authority":"api.example.com","upstream_cluster":"-","upstream_host":"-","downstream_local_address":"93.184.216.34:80","downstream_remote_address":"10.64.192.14:41234","requested_server_name":"-","route_name":"block_all"}')!;
    expect(e).toMatchObject({ format: 'json', kind: 'http', responseCode: 502, responseFlags: [], routeName: 'block_all', upstreamCluster: undefined, authority: 'api.example.com', duration: 1 });
  });

  it('reads flags through JSON for every flag', () => {
    for (const flag of Object.keys(RESPONSE_FLAGS)) {
      const e = parseAccessLogLine(JSON.stringify({ start_time: '2026-03-02T10:16:01.402Z', method: 'GET', protocol: 'HTTP/1.1', response_code: 503, response_flags: `${flag},URX`, upstream_cluster: 'outbound|80||a.example.com', downstream_local_address: '10.0.0.1:80' }))!;
      expect(e.responseFlags).toEqual([flag, 'URX']);
    }
  });

  it('ignores JSON that is not an access log (agent JSON logging)', () => {
    expect(parseAccessLogLine('{"level":"info","time":"2026-03-02T10:15:00.000000Z","msg":"Envoy proxy is ready"}')).toBeUndefined();
  });
});

describe('parseAccessLog', () => {
  it('keeps access-log lines of an istio-proxy log and skips agent and Envoy lines', () => {
    const text = [
      '2026-03-02T10:14:58.000000Z\tinfo\tEnvoy proxy is ready',
      '[2026-03-02 10:15:00.001][22][warning][config] [source/common/config/grpc_stream.h:191] StreamAggregatedResources gRPC config stream to xds-grpc closed',
      '[2026-03-02T10:15:42.118Z] "- - -" 0 UH - - "-" 0 0 0 - "-" "-" "-" "-" "-" BlackHoleCluster - 10.0.0.6:7000 10.64.192.14:50498 - -',
      '',
      '[2026-03-02T10:15:43.000Z] "- - -" 0 - - - "-" 10 20 5 - "-" "-" "-" "-" "10.0.0.6:7003" PassthroughCluster 10.64.192.14:38952 10.0.0.6:7003 10.64.192.14:38950 - -',
      '[2026-03-02T10:15:44.000Z] "truncated line',
    ].join('\n');
    const entries = parseAccessLog(text);
    expect(entries.map((e) => e.upstreamCluster)).toEqual(['BlackHoleCluster', 'PassthroughCluster']);
    expect(entries[1]!.raw).toContain('PassthroughCluster');
  });

  it('rejects lines with the wrong number of fields', () => {
    expect(parseAccessLogLine('[2026-03-02T10:15:42.118Z] "- - -" 0 UH - - "-" 0 0 0 - "-" "-" "-" "-" "-" BlackHoleCluster - 10.0.0.6:7000')).toBeUndefined();
    expect(parseAccessLogLine('[2026-03-02T10:15:42.118Z] "- - -" x UH - - "-" 0 0 0 - "-" "-" "-" "-" "-" BlackHoleCluster - 10.0.0.6:7000 10.64.192.14:50498 - -')).toBeUndefined();
  });
});
