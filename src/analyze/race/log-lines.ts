/**
 * Reading container logs for start-up timing: the kubelet's timestamp prefix (`kubectl logs
 * --timestamps`), pilot-agent's readiness lines, and the first "connection refused" an
 * application or init container logged.
 *
 * pilot-agent (istio pkg/log, console encoder: "<RFC3339 µs>Z\t<level>\t[<scope>\t]<message>", or
 * JSON with --log_as_json) logs, on the first successful readiness check,
 * "Readiness succeeded in <duration>" (pilot/cmd/pilot-agent/metrics/metrics.go RecordStartupTime,
 * called from status/ready/probe.go checkEnvoyReadiness) and, when a readiness probe succeeds after
 * one that did not, "Envoy proxy is ready" (status/server.go handleReadyProbe); a failed probe logs
 * "Envoy proxy is NOT ready: <why>". Both messages exist since Istio 1.3.
 */

export interface LogLine {
  /** the kubelet's timestamp, else one the line itself starts with (undefined: neither) */
  readonly at: string | undefined;
  /** microseconds since the epoch, for ordering (undefined with `at`) */
  readonly micros: number | undefined;
  readonly text: string;
}

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:[.,](\d+))?(Z|[+-]\d{2}:?\d{2})$/;

/** RFC 3339 (any fraction, Z or offset) → microseconds since the epoch; undefined when not a timestamp. */
export function parseTime(s: string | null | undefined): number | undefined {
  if (!s) return undefined;
  const m = RFC3339.exec(s.trim());
  if (!m) return undefined;
  const [, y, mo, d, h, mi, sec, frac, zone] = m;
  let ms = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(sec));
  if (zone !== 'Z') {
    const z = /^([+-])(\d{2}):?(\d{2})$/.exec(zone!)!;
    const offset = (Number(z[2]) * 60 + Number(z[3])) * 60_000;
    ms -= z[1] === '+' ? offset : -offset;
  }
  const micros = Number(((frac ?? '') + '000000').slice(0, 6));
  return ms * 1000 + micros;
}

/** "2020-03-31T10:41:15.552128897Z" stays as given; µs → an RFC 3339 string with 6 digits. */
export function formatMicros(micros: number): string {
  const ms = Math.floor(micros / 1000);
  const iso = new Date(ms).toISOString().replace(/\.\d{3}Z$/, '');
  const frac = String(micros % 1_000_000).padStart(6, '0').replace(/0+$/, '');
  return frac ? `${iso}.${frac}Z` : `${iso}Z`;
}

/** Seconds between two points, rounded to what the coarser source can tell (events: 1 s). */
export function secondsBetween(fromMicros: number, toMicros: number): number {
  return Math.round((toMicros - fromMicros) / 1000) / 1000;
}

/** "44.3 s", "2 min 5 s" */
export function humanDuration(seconds: number): string {
  const s = Math.abs(seconds);
  if (s < 60) return `${Number(s.toFixed(s < 10 ? 2 : 1))} s`;
  const m = Math.floor(s / 60);
  const rest = Math.round(s - m * 60);
  return rest ? `${m} min ${rest} s` : `${m} min`;
}

const EMBEDDED = /^\s*(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:[.,]\d+)?(?:Z|[+-]\d{2}:?\d{2}))\s/;

/** Splits `kubectl logs --timestamps` output into lines with their times. */
export function splitLog(text: string): LogLine[] {
  const out: LogLine[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.replace(/\r$/, '');
    if (line.trim() === '') continue;
    const sp = line.indexOf(' ');
    const head = sp > 0 ? line.slice(0, sp) : '';
    const kubelet = parseTime(head);
    if (kubelet !== undefined) {
      out.push({ at: head, micros: kubelet, text: line.slice(sp + 1) });
      continue;
    }
    const own = EMBEDDED.exec(line);
    const t = own ? parseTime(own[1]) : undefined;
    out.push({ at: t !== undefined ? own![1] : undefined, micros: t, text: line });
  }
  return out;
}

/**
 * How client libraries word a refused TCP connection (errno ECONNREFUSED, 111 on Linux), which is
 * what a connection redirected to port 15001 gets while Envoy does not listen there:
 * Go "dial tcp 10.0.0.6:7000: connect: connection refused"; Node "connect ECONNREFUSED 10.0.0.6:7000"
 * (ioredis, pg, mongodb, axios); Java "java.net.ConnectException: Connection refused"; Python
 * "[Errno 111] Connection refused" / ConnectionRefusedError; curl "(7) Failed to connect ... Connection
 * refused"; Rust "Connection refused (os error 111)"; .NET on Windows "actively refused it"; MySQL
 * "Can't connect to MySQL server on 'x' (111)"; Chromium-style ERR_CONNECTION_REFUSED; the Kafka Java
 * client "Connection to node -1 (...) could not be established. Broker may not be available."
 */
const REFUSED: readonly RegExp[] = [
  /ECONNREFUSED/,
  /connection[ _-]refused/i,
  /ConnectionRefusedError/,
  /actively refused/i,
  /Can't connect to [\w ]*server on .*\(111\)/i,
  /could not be established\. Broker may not be available/,
];

/** Lines that mention a refused connection but are the proxy answering (Envoy is up). */
const NOT_STARTUP = [/upstream connect error or disconnect\/reset before headers/i, /\bUF,URX\b|\bUF\b.*upstream_reset/];

export function isConnectionRefused(text: string): boolean {
  return REFUSED.some((re) => re.test(text)) && !NOT_STARTUP.some((re) => re.test(text));
}

/** The ip:port (or host:port) a refused line names, when it names one. */
export function refusedDestination(text: string): string | undefined {
  const dial = /dial tcp ([^\s:]+|\[[0-9a-fA-F:]+\]):(\d{1,5})/.exec(text) ?? /ECONNREFUSED ([^\s:]+|\[[0-9a-fA-F:]+\]):(\d{1,5})/.exec(text);
  if (dial) return `${dial[1]}:${dial[2]}`;
  const ip = /\b(\d{1,3}(?:\.\d{1,3}){3}):(\d{1,5})\b/.exec(text);
  if (ip) return `${ip[1]}:${ip[2]}`;
  const curl = /Failed to connect to (\S+) port (\d{1,5})/.exec(text);
  if (curl) return `${curl[1]}:${curl[2]}`;
  return undefined;
}

export type ProxyLogSignal = { readonly kind: 'ready'; readonly message: string } | { readonly kind: 'not-ready'; readonly message: string };

/** pilot-agent's own readiness lines (text or JSON format). */
export function proxyReadiness(text: string): ProxyLogSignal | undefined {
  let msg = text;
  if (text.startsWith('{')) {
    try {
      const j = JSON.parse(text) as { msg?: unknown };
      if (typeof j.msg === 'string') msg = j.msg;
    } catch {
      // not JSON after all: read it as text
    }
  }
  if (/\bEnvoy proxy is NOT ready\b/.test(msg)) return { kind: 'not-ready', message: messageOf(msg) };
  if (/\bEnvoy proxy is ready\b/.test(msg) || /\bReadiness succeeded in \S+/.test(msg)) return { kind: 'ready', message: messageOf(msg) };
  return undefined;
}

/** pilot-agent's console lines carry "<time>\t<level>\t<msg>": the message part. */
function messageOf(line: string): string {
  const parts = line.split('\t');
  return (parts.length >= 3 && /^\d{4}-\d{2}-\d{2}T/.test(parts[0]!) ? parts.slice(2).join(' ') : line).trim();
}

/** The JSON "time" of a --log_as_json line, for logs read without kubelet timestamps. */
export function jsonTime(text: string): string | undefined {
  if (!text.startsWith('{')) return undefined;
  try {
    const j = JSON.parse(text) as { time?: unknown; timestamp?: unknown };
    const t = typeof j.time === 'string' ? j.time : typeof j.timestamp === 'string' ? j.timestamp : undefined;
    return t !== undefined && parseTime(t) !== undefined ? t : undefined;
  } catch {
    return undefined;
  }
}

/** A line without the timestamp the program put in front of it (the kubelet's is kept apart). */
export function withoutOwnTimestamp(text: string): string {
  return text.replace(/^\s*\[?\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:[.,]\d+)?(?:Z|[+-]\d{2}:?\d{2})?\]?\s+/, '');
}

/**
 * Application logs are not ours to copy: what looks like a credential is masked before a line is
 * printed or stored (URL userinfo, key=value secrets, bearer tokens, AWS access key ids).
 */
export function redactSecrets(text: string): string {
  return text
    .replace(/([a-z][a-z0-9+.-]*:\/\/)[^/\s:@]+:[^/\s@]+@/gi, '$1<redacted>@')
    .replace(/\b(Bearer|Basic)\s+[A-Za-z0-9._~+/-]+=*/g, '$1 <redacted>')
    .replace(/\b((?:password|passwd|pwd|secret|token|api[_-]?key|access[_-]?key|client[_-]?secret|authorization)["']?\s*[:=]\s*["']?)(?!<redacted>|Bearer |Basic )[^\s"',;&]+/gi, '$1<redacted>')
    .replace(/\bAKIA[0-9A-Z]{16}\b/g, '<redacted>');
}

/**
 * What a snapshot keeps of a container log: the lines race-check reads (connection refused,
 * pilot-agent's readiness) and the last few (the state of a stuck init container), each with its
 * kubelet timestamp, credentials masked. The analysis of the reduced log equals that of the whole.
 */
export function reduceLogForSnapshot(text: string, keepLast = 5): string {
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  const kept = lines.filter((line, i) => {
    if (i >= lines.length - keepLast) return true;
    const sp = line.indexOf(' ');
    const body = sp > 0 && parseTime(line.slice(0, sp)) !== undefined ? line.slice(sp + 1) : line;
    return isConnectionRefused(body) || proxyReadiness(body) !== undefined;
  });
  return kept.map((l) => `${redactSecrets(l)}\n`).join('');
}

/** Keeps a log line readable in one row: tabs as spaces, at most `max` characters, credentials masked. */
export function clip(text: string, max = 200): string {
  const t = redactSecrets(text).replace(/\t/g, ' ').replace(/\s+/g, ' ').trim();
  return t.length > max ? `${t.slice(0, max - 1)}…` : t;
}
