/**
 * The istio-proxy access log, as Istio configures Envoy's file access log by default (pure: text in,
 * entries out).
 *
 * Text encoding: Istio's default format string, which changed over releases (istio/istio):
 *  - 1.9+   `pilot/pkg/model/telemetry_logging.go` `EnvoyTextLogFormat` (added as
 *           `EnvoyTextLogFormatIstio19` by #27903): adds %RESPONSE_CODE_DETAILS% and
 *           %CONNECTION_TERMINATION_DETAILS% after %RESPONSE_FLAGS%. Since #52384 (1.23/1.24) the
 *           cluster field is %UPSTREAM_CLUSTER_RAW%; before it %UPSTREAM_CLUSTER%, which may carry
 *           the cluster's alt_stat_name (Istio's `<name>;` delimiter). Same field positions.
 *  - 1.6–1.8 `pilot/pkg/networking/core/v1alpha3/accesslog.go` `EnvoyTextLogFormat` (Mixer removed
 *           by #25669): no details fields.
 *  - 1.3–1.5 `EnvoyTextLogFormat13` (#16237): `"%DYNAMIC_METADATA(istio.mixer:status)%"` after the
 *           flags, %ROUTE_NAME% last.
 *  - 1.2    `EnvoyTextLogFormat12`: as 1.3 without %ROUTE_NAME%.
 * JSON encoding (meshConfig.accessLogEncoding: JSON): the keys of `EnvoyJSONLogFormatIstio` in the
 * same file (start_time, method, path, protocol, response_code, response_flags, ...). Envoy's JSON
 * formatter keeps a lone operator's type (numbers stay numbers) and writes null for a missing value.
 *
 * Envoy writes "-" for an empty value (`%RESPONSE_FLAGS%` "-" = no flag; several flags are joined
 * with ","; short names in source/common/stream_info/utility.h `ResponseFlagUtils`).
 */

export type AccessLogFormat = 'text-1.9' | 'text-1.6' | 'text-1.3' | 'text-1.2' | 'json';

export interface AccessLogEntry {
  /** %START_TIME% as logged */
  readonly timestamp: string;
  /** epoch milliseconds of %START_TIME%, when it parses */
  readonly time: number | undefined;
  /** "tcp" when the request line is "- - -" (a tcp_proxy connection), else "http" */
  readonly kind: 'http' | 'tcp';
  readonly method: string | undefined;
  readonly path: string | undefined;
  /** HTTP/1.1, HTTP/2, ... (undefined for TCP) */
  readonly protocol: string | undefined;
  readonly authority: string | undefined;
  /** 0 for TCP and for requests without a response */
  readonly responseCode: number;
  /** short Envoy flags (UH, NR, ...); empty for "-" */
  readonly responseFlags: readonly string[];
  readonly responseCodeDetails: string | undefined;
  readonly connectionTerminationDetails: string | undefined;
  readonly upstreamTransportFailureReason: string | undefined;
  readonly bytesReceived: number | undefined;
  readonly bytesSent: number | undefined;
  /** ms */
  readonly duration: number | undefined;
  readonly upstreamServiceTime: string | undefined;
  readonly xForwardedFor: string | undefined;
  readonly userAgent: string | undefined;
  readonly requestId: string | undefined;
  readonly upstreamHost: string | undefined;
  /** the cluster name, without the alt_stat_name ";" Istio <1.24 may log */
  readonly upstreamCluster: string | undefined;
  readonly upstreamLocalAddress: string | undefined;
  /** for captured outbound traffic: the original destination (restored by original_dst) */
  readonly downstreamLocalAddress: string | undefined;
  readonly downstreamRemoteAddress: string | undefined;
  /** TLS SNI */
  readonly requestedServerName: string | undefined;
  readonly routeName: string | undefined;
  /** `"%DYNAMIC_METADATA(istio.mixer:status)%"` of 1.2–1.5 */
  readonly mixerStatus?: string;
  readonly format: AccessLogFormat;
  readonly raw: string;
}

/** Envoy's short response flags and what they mean (ResponseFlagUtils, utility.h). */
export const RESPONSE_FLAGS: Readonly<Record<string, string>> = {
  DC: 'downstream connection termination',
  LH: 'local health check failed',
  UH: 'no healthy upstream',
  UT: 'upstream request timeout',
  LR: 'local reset',
  UR: 'upstream remote reset',
  UF: 'upstream connection failure',
  UC: 'upstream connection termination',
  UO: 'upstream overflow (circuit breaking)',
  URX: 'upstream retry limit exceeded',
  NR: 'no route found (or no matching filter chain)',
  DI: 'delay injected',
  FI: 'fault injected',
  RL: 'rate limited',
  UAEX: 'unauthorized by external service',
  RLSE: 'rate limit service error',
  SI: 'stream idle timeout',
  IH: 'invalid Envoy request headers',
  DPE: 'downstream protocol error',
  UMSDR: 'upstream max stream duration reached',
  RFCF: 'response from cache filter',
  NFCF: 'no filter config found',
  DT: 'duration timeout',
  UPE: 'upstream protocol error',
  NC: 'no cluster found',
  OM: 'overload manager terminated',
  DF: 'DNS resolution failed',
  DO: 'drop overload',
  DR: 'downstream remote reset',
  UDO: 'unconditional drop overload',
};

function dash(v: string | undefined): string | undefined {
  return v === undefined || v === '-' || v === '' ? undefined : v;
}

function num(v: string | undefined): number | undefined {
  const d = dash(v);
  if (d === undefined || !/^\d+$/.test(d)) return undefined;
  return Number(d);
}

function cluster(v: string | undefined): string | undefined {
  const d = dash(v);
  return d === undefined ? undefined : d.replace(/;$/, '');
}

function flags(v: string | undefined): string[] {
  const d = dash(v);
  return d === undefined ? [] : d.split(',').map((f) => f.trim()).filter((f) => f !== '' && f !== '-');
}

function timeOf(ts: string): number | undefined {
  const t = Date.parse(ts);
  return Number.isNaN(t) ? undefined : t;
}

/** Which fields of each text format are quoted (0 = [START_TIME], 1 = the request line). */
const TEXT_LAYOUTS: readonly { format: Exclude<AccessLogFormat, 'json'>; length: number; quoted: readonly number[] }[] = [
  // [t] "req" code flags details term "utfr" rx tx dur ust "xff" "ua" "id" "auth" "uhost" cluster ula dla dra sni route
  { format: 'text-1.9', length: 22, quoted: [1, 6, 11, 12, 13, 14, 15] },
  // [t] "req" code flags "mixer" "utfr" rx tx dur ust "xff" "ua" "id" "auth" "uhost" cluster ula dla dra sni route
  { format: 'text-1.3', length: 21, quoted: [1, 4, 5, 10, 11, 12, 13, 14] },
  // [t] "req" code flags "utfr" rx tx dur ust "xff" "ua" "id" "auth" "uhost" cluster ula dla dra sni route
  { format: 'text-1.6', length: 20, quoted: [1, 4, 9, 10, 11, 12, 13] },
  // [t] "req" code flags "mixer" "utfr" rx tx dur ust "xff" "ua" "id" "auth" "uhost" cluster ula dla dra sni
  { format: 'text-1.2', length: 20, quoted: [1, 4, 5, 10, 11, 12, 13, 14] },
];

/**
 * One anchored pattern per layout. Envoy does not escape quotes inside a quoted field (a
 * User-Agent may contain `"`), so quoted fields are lazy `.*?` and the anchors on both ends let
 * backtracking find the one split that fits the layout; unquoted fields never contain spaces.
 */
const TEXT_PATTERNS = TEXT_LAYOUTS.map((l) => {
  const parts: string[] = [];
  for (let i = 0; i < l.length; i++) parts.push(i === 0 ? '\\[(\\S+)\\]' : l.quoted.includes(i) ? '"(.*?)"' : '([^\\s"]\\S*)');
  return { format: l.format, re: new RegExp(`^${parts.join(' ')}$`) };
});

/** kubectl logs --timestamps prefixes each line with an RFC 3339 time and a space. */
const KUBECTL_TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2}) (?=[[{])/;

function parseText(line: string, raw: string): AccessLogEntry | undefined {
  let layout: (typeof TEXT_PATTERNS)[number] | undefined;
  let t: string[] = [];
  for (const p of TEXT_PATTERNS) {
    const m = p.re.exec(line);
    if (m && /^\d+$/.test(m[3]!)) {
      layout = p;
      t = m.slice(1);
      break;
    }
  }
  if (!layout) return undefined;
  const reqLine = t[1]!.split(' ');
  if (reqLine.length < 3) return undefined;
  const code = t[2]!;
  // field positions per layout
  let k = 4;
  let details: string | undefined;
  let termination: string | undefined;
  let mixer: string | undefined;
  if (layout.format === 'text-1.9') {
    details = dash(t[4]);
    termination = dash(t[5]);
    k = 6;
  } else if (layout.format === 'text-1.3' || layout.format === 'text-1.2') {
    mixer = dash(t[4]);
    k = 5;
  }
  const at = (i: number) => t[k + i];
  const method = dash(reqLine[0]);
  const protocol = dash(reqLine[reqLine.length - 1]);
  const path = dash(reqLine.slice(1, -1).join(' '));
  return {
    timestamp: t[0]!,
    time: timeOf(t[0]!),
    kind: method === undefined && protocol === undefined ? 'tcp' : 'http',
    method,
    path,
    protocol,
    authority: dash(at(8)),
    responseCode: Number(code),
    responseFlags: flags(t[3]),
    responseCodeDetails: details,
    connectionTerminationDetails: termination,
    upstreamTransportFailureReason: dash(at(0)),
    bytesReceived: num(at(1)),
    bytesSent: num(at(2)),
    duration: num(at(3)),
    upstreamServiceTime: dash(at(4)),
    xForwardedFor: dash(at(5)),
    userAgent: dash(at(6)),
    requestId: dash(at(7)),
    upstreamHost: dash(at(9)),
    upstreamCluster: cluster(at(10)),
    upstreamLocalAddress: dash(at(11)),
    downstreamLocalAddress: dash(at(12)),
    downstreamRemoteAddress: dash(at(13)),
    requestedServerName: dash(at(14)),
    routeName: layout.format === 'text-1.2' ? undefined : dash(at(15)),
    ...(mixer !== undefined ? { mixerStatus: mixer } : {}),
    format: layout.format,
    raw,
  };
}

function jsonString(v: unknown): string | undefined {
  if (v === null || v === undefined) return undefined;
  if (typeof v === 'string') return dash(v);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return undefined;
}

function jsonNumber(v: unknown): number | undefined {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  return num(jsonString(v));
}

function parseJson(line: string, raw: string): AccessLogEntry | undefined {
  let o: unknown;
  try {
    o = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (!o || typeof o !== 'object' || Array.isArray(o)) return undefined;
  const r = o as Record<string, unknown>;
  // Istio's JSON keys; a line without start_time and any connection field is some other JSON log
  const timestamp = jsonString(r.start_time);
  if (timestamp === undefined) return undefined;
  if (!('upstream_cluster' in r) && !('downstream_local_address' in r) && !('response_flags' in r)) return undefined;
  const method = jsonString(r.method);
  const protocol = jsonString(r.protocol);
  return {
    timestamp,
    time: timeOf(timestamp),
    kind: method === undefined && protocol === undefined ? 'tcp' : 'http',
    method,
    path: jsonString(r.path),
    protocol,
    authority: jsonString(r.authority),
    responseCode: jsonNumber(r.response_code) ?? 0,
    responseFlags: flags(jsonString(r.response_flags)),
    responseCodeDetails: jsonString(r.response_code_details),
    connectionTerminationDetails: jsonString(r.connection_termination_details),
    upstreamTransportFailureReason: jsonString(r.upstream_transport_failure_reason),
    bytesReceived: jsonNumber(r.bytes_received),
    bytesSent: jsonNumber(r.bytes_sent),
    duration: jsonNumber(r.duration),
    upstreamServiceTime: jsonString(r.upstream_service_time),
    xForwardedFor: jsonString(r.x_forwarded_for),
    userAgent: jsonString(r.user_agent),
    requestId: jsonString(r.request_id),
    upstreamHost: jsonString(r.upstream_host),
    upstreamCluster: cluster(jsonString(r.upstream_cluster)),
    upstreamLocalAddress: jsonString(r.upstream_local_address),
    downstreamLocalAddress: jsonString(r.downstream_local_address),
    downstreamRemoteAddress: jsonString(r.downstream_remote_address),
    requestedServerName: jsonString(r.requested_server_name),
    routeName: jsonString(r.route_name),
    format: 'json',
    raw,
  };
}

/** One access-log line; undefined for anything else (Envoy and agent log lines, blank lines). */
export function parseAccessLogLine(line: string): AccessLogEntry | undefined {
  const raw = line.replace(/\r?\n$/, '');
  const body = raw.replace(KUBECTL_TIMESTAMP, '').trim();
  if (body.startsWith('[')) return parseText(body, raw);
  if (body.startsWith('{')) return parseJson(body, raw);
  return undefined;
}

/** Every access-log line of a log text (e.g. `kubectl logs -c istio-proxy`), in order. */
export function parseAccessLog(text: string): AccessLogEntry[] {
  const out: AccessLogEntry[] = [];
  for (const line of text.split('\n')) {
    const e = parseAccessLogLine(line);
    if (e) out.push(e);
  }
  return out;
}
