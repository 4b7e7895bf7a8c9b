/**
 * Listener filters and protocol detection, per Envoy:
 *
 * - tls_inspector (extensions/filters/listener/tls_inspector): sets transport "tls", SNI and ALPN
 *   only after a complete ClientHello; non-TLS bytes (>= 5) leave the transport unset.
 * - http_inspector: skipped when the transport is already set to something other than
 *   raw_buffer; sets ALPN "h2c" for the HTTP/2 preface, "http/1.1" / "http/1.0" for a request
 *   line; nothing for other bytes.
 * - Both wait while the client has sent nothing. `listener_filters_timeout` bounds the wait
 *   (default 15s when unset, "0s" = no timer); on expiry `continue_on_listener_filters_timeout`
 *   true proceeds with what was detected, false closes the socket
 *   (active_tcp_socket.cc ActiveTcpSocket::onTimeout).
 * - A filter whose `filter_disabled` predicate matches is skipped (ListenerFilterMatcher).
 * - proxy_protocol expects a PROXY header an application never sends: the connection fails.
 */
import type { Listener, ListenerFilter, ListenerFilterChainMatchPredicate } from '../model/envoy-types.js';
import { filterLabel, listenerFilterKind, type ListenerFilterKind } from './filters.js';
import { durationMs, toNumber } from './values.js';

/** What the application sends first on the connection. */
export type ClientHello =
  | { readonly kind: 'tls'; readonly sni: string; readonly alpn: readonly string[] }
  | { readonly kind: 'http1'; readonly version: '1.0' | '1.1' }
  | { readonly kind: 'h2c' }
  /** client-first bytes that are neither TLS nor HTTP (Redis, PostgreSQL, ...) */
  | { readonly kind: 'opaque' }
  /** server-first protocol: the client waits for the server to speak (MySQL, SMTP, ...) */
  | { readonly kind: 'none' };

export interface DetectedState {
  /** '' until a filter sets it; the chain match treats '' as raw_buffer */
  readonly transportProtocol: string;
  readonly serverName: string;
  readonly applicationProtocols: readonly string[];
}

export const NOTHING_DETECTED: DetectedState = { transportProtocol: '', serverName: '', applicationProtocols: [] };

export interface InspectorRun {
  readonly name: string;
  readonly kind: ListenerFilterKind;
  readonly ran: boolean;
  /** why it was skipped, or what it found */
  readonly note: string;
  /** it is waiting for bytes the client will not send */
  readonly waits: boolean;
}

export type StallKind =
  /** no filter waits */
  | 'none'
  /** a filter waits and there is no timer: the connection hangs */
  | 'forever'
  /** waits for the timeout, then continues with what was detected */
  | 'delay'
  /** waits for the timeout, then closes the socket */
  | 'close';

export interface ListenerFilterResult {
  readonly state: DetectedState;
  readonly runs: readonly InspectorRun[];
  readonly stall: StallKind;
  /** effective listener_filters_timeout in ms; 0 = no timer */
  readonly timeoutMs: number;
  readonly timeoutExplicit: boolean;
  /** a filter rejects the connection outright (proxy_protocol without a PROXY header) */
  readonly rejectedBy: string | undefined;
}

/** Envoy's default when listener_filters_timeout is unset (listener_impl.cc PROTOBUF_GET_MS_OR_DEFAULT(..., 15000)). */
export const DEFAULT_LISTENER_FILTERS_TIMEOUT_MS = 15_000;

/** ListenerFilterChainMatchPredicate evaluated on the destination port (the only input Istio uses). */
export function predicateMatches(p: ListenerFilterChainMatchPredicate | undefined, destinationPort: number): boolean {
  if (!p) return false;
  if (p.any_match) return true;
  if (p.or_match) return (p.or_match.rules ?? []).some((r) => predicateMatches(r, destinationPort));
  if (p.and_match) return (p.and_match.rules ?? []).every((r) => predicateMatches(r, destinationPort));
  if (p.not_match) return !predicateMatches(p.not_match, destinationPort);
  if (p.destination_port_range) {
    const start = toNumber(p.destination_port_range.start) ?? 0;
    const end = toNumber(p.destination_port_range.end) ?? 0;
    return destinationPort >= start && destinationPort < end;
  }
  return false;
}

function runOne(f: ListenerFilter, hello: ClientHello, state: DetectedState, destinationPort: number): { run: InspectorRun; state: DetectedState; reject?: string } {
  const kind = listenerFilterKind(f);
  const name = filterLabel(f);
  if (predicateMatches(f.filter_disabled, destinationPort)) {
    return { run: { name, kind, ran: false, note: `disabled for port ${destinationPort} (filter_disabled)`, waits: false }, state };
  }
  switch (kind) {
    case 'tls_inspector':
      if (hello.kind === 'none') return { run: { name, kind, ran: true, note: 'waits for a TLS ClientHello; the client sends nothing first', waits: true }, state };
      if (hello.kind === 'tls') {
        return {
          run: { name, kind, ran: true, note: `ClientHello: SNI ${hello.sni || '(none)'}, ALPN ${hello.alpn.join(',') || '(none)'}`, waits: false },
          state: { transportProtocol: 'tls', serverName: hello.sni, applicationProtocols: hello.alpn },
        };
      }
      return { run: { name, kind, ran: true, note: 'not TLS: transport stays raw_buffer', waits: false }, state };
    case 'http_inspector':
      if (state.transportProtocol !== '' && state.transportProtocol !== 'raw_buffer') {
        return { run: { name, kind, ran: false, note: `skipped: transport already ${state.transportProtocol}`, waits: false }, state };
      }
      if (hello.kind === 'none') return { run: { name, kind, ran: true, note: 'waits for an HTTP request line; the client sends nothing first', waits: true }, state };
      if (hello.kind === 'http1') {
        const alpn = hello.version === '1.1' ? 'http/1.1' : 'http/1.0';
        return { run: { name, kind, ran: true, note: `HTTP/${hello.version} request line: ALPN ${alpn}`, waits: false }, state: { ...state, applicationProtocols: [alpn] } };
      }
      if (hello.kind === 'h2c') {
        return { run: { name, kind, ran: true, note: 'HTTP/2 connection preface: ALPN h2c', waits: false }, state: { ...state, applicationProtocols: ['h2c'] } };
      }
      return { run: { name, kind, ran: true, note: 'not HTTP: no ALPN set', waits: false }, state };
    case 'proxy_protocol':
      if (hello.kind === 'none') return { run: { name, kind, ran: true, note: 'waits for a PROXY protocol header', waits: true }, state };
      return { run: { name, kind, ran: true, note: 'expects a PROXY protocol header the application does not send: connection closed', waits: false }, state, reject: name };
    case 'original_dst':
      return { run: { name, kind, ran: true, note: 'restores the original destination (SO_ORIGINAL_DST)', waits: false }, state };
    case 'original_src':
      return { run: { name, kind, ran: true, note: 'keeps the original source address upstream', waits: false }, state };
    default:
      return { run: { name, kind, ran: true, note: 'not emulated (assumed not to change protocol detection)', waits: false }, state };
  }
}

/**
 * Runs a listener's filters on a connection whose earlier listeners already detected `prior`
 * (a hand-off keeps SNI, ALPN and transport). `implicitOriginalDst` adds the filter Envoy
 * appends for `use_original_dst: true`.
 */
export function runListenerFilters(listener: Listener, hello: ClientHello, destinationPort: number, prior: DetectedState = NOTHING_DETECTED): ListenerFilterResult {
  let state = prior;
  const runs: InspectorRun[] = [];
  let rejectedBy: string | undefined;
  let waits = false;
  for (const f of listener.listener_filters ?? []) {
    const r = runOne(f, hello, state, destinationPort);
    runs.push(r.run);
    state = r.state;
    if (r.run.waits) {
      // the filter chain stops here until data arrives or the timer fires
      waits = true;
      break;
    }
    if (r.reject) {
      rejectedBy = r.reject;
      break;
    }
  }
  const explicit = durationMs(listener.listener_filters_timeout);
  const timeoutMs = explicit ?? DEFAULT_LISTENER_FILTERS_TIMEOUT_MS;
  let stall: StallKind = 'none';
  if (waits) {
    if (timeoutMs <= 0) stall = 'forever';
    else stall = listener.continue_on_listener_filters_timeout ? 'delay' : 'close';
  }
  return { state, runs, stall, timeoutMs: Math.max(0, timeoutMs), timeoutExplicit: explicit !== undefined, rejectedBy };
}
