/**
 * HTTP routing as the HTTP connection manager and router do it
 * (source/common/router/config_impl.cc RouteMatcher::findVirtualHost, RouteEntryImplBase::matchRoute;
 * source/common/http/conn_manager_utility.cc host port stripping; header_utility.cc).
 *
 * Virtual hosts: case-insensitive; exact domain → suffix wildcards "*x" (longest first) →
 * prefix wildcards "x*" (longest first) → "*"; a wildcard covers at least one character; the
 * Host port is ignored only with `ignore_port_in_host_matching` or after HCM stripping.
 * Routes: first match wins; every path matcher sees the path without ?query and #fragment;
 * safe_regex is an RE2 full match; headers, query parameters, grpc and TLS conditions AND-ed.
 */
import type { HeaderMatcher, HttpConnectionManager, QueryParameterMatcher, Route, RouteConfiguration, StringMatcher, VirtualHost } from '../model/envoy-types.js';
import { toNumber } from './values.js';

export interface HttpRequest {
  /** Host / :authority as the client sends it (may include :port) */
  readonly host: string;
  /** :path, may include ?query */
  readonly path: string;
  readonly method: string;
  readonly scheme: 'http' | 'https';
  /** extra request headers, names lower-case */
  readonly headers: Readonly<Record<string, string>>;
  /** whether a TLS client certificate was presented (mTLS) */
  readonly tlsPresented: boolean;
}

// ---- host handling ------------------------------------------------------------------------

/** Position of ":port" in a Host value (IPv6 literals in brackets respected), or -1. */
export function portStart(host: string): number {
  const close = host.lastIndexOf(']');
  const colon = host.lastIndexOf(':');
  if (colon < 0 || colon < close) return -1;
  if (!host.startsWith('[') && host.indexOf(':') !== colon) return -1; // bare IPv6, no port
  const port = host.slice(colon + 1);
  return /^\d+$/.test(port) ? colon : -1;
}

/** The Host after HCM strip_any_host_port / strip_matching_host_port (local port = original dst port). */
export function hcmHost(hcm: HttpConnectionManager, host: string, localPort: number): string {
  const at = portStart(host);
  if (at < 0) return host;
  if (hcm.strip_any_host_port) return host.slice(0, at);
  if (hcm.strip_matching_host_port && Number(host.slice(at + 1)) === localPort) return host.slice(0, at);
  return host;
}

export type VirtualHostMatchKind = 'exact' | 'suffix' | 'prefix' | 'default' | 'none';

export interface VirtualHostMatch {
  readonly vhost: VirtualHost | undefined;
  readonly index: number;
  readonly how: VirtualHostMatchKind;
  /** the domain entry that matched */
  readonly domain: string | undefined;
  /** the host value actually compared (lower-case, port stripped when configured) */
  readonly comparedHost: string;
}

/**
 * HeaderUtility::getPortStart: the last ':' unless an IPv6 literal's ']' comes after it; the
 * port is not checked for digits ("host:" and "host:http" are cut too).
 */
function headerPortStart(host: string): number {
  const colon = host.lastIndexOf(':');
  if (colon < 0) return -1;
  const close = host.lastIndexOf(']');
  return close < 0 || close < colon ? colon : -1;
}

export function selectVirtualHost(rc: RouteConfiguration, rawHost: string): VirtualHostMatch {
  let host = rawHost;
  if (rc.ignore_port_in_host_matching) {
    const at = headerPortStart(host);
    if (at >= 0) host = host.slice(0, at);
  }
  host = host.toLowerCase();
  const vhosts = rc.virtual_hosts ?? [];
  let best: { i: number; len: number; domain: string } | undefined;
  let bestPrefix: { i: number; len: number; domain: string } | undefined;
  let def: { i: number; domain: string } | undefined;
  for (let i = 0; i < vhosts.length; i++) {
    for (const d of vhosts[i]!.domains ?? []) {
      const domain = d.toLowerCase();
      if (domain === '*') {
        def ??= { i, domain: d };
      } else if (domain.startsWith('*')) {
        const suffix = domain.slice(1);
        if (host.length > suffix.length && host.endsWith(suffix) && (!best || suffix.length > best.len)) best = { i, len: suffix.length, domain: d };
      } else if (domain.endsWith('*')) {
        const prefix = domain.slice(0, -1);
        if (host.length > prefix.length && host.startsWith(prefix) && (!bestPrefix || prefix.length > bestPrefix.len)) bestPrefix = { i, len: prefix.length, domain: d };
      } else if (domain === host) {
        return { vhost: vhosts[i], index: i, how: 'exact', domain: d, comparedHost: host };
      }
    }
  }
  if (best) return { vhost: vhosts[best.i], index: best.i, how: 'suffix', domain: best.domain, comparedHost: host };
  if (bestPrefix) return { vhost: vhosts[bestPrefix.i], index: bestPrefix.i, how: 'prefix', domain: bestPrefix.domain, comparedHost: host };
  if (def) return { vhost: vhosts[def.i], index: def.i, how: 'default', domain: def.domain, comparedHost: host };
  return { vhost: undefined, index: -1, how: 'none', domain: undefined, comparedHost: host };
}

// ---- matchers -----------------------------------------------------------------------------

export interface RegexResult {
  readonly ok: boolean;
  readonly matched: boolean;
}

/** RE2 full match emulated with a JS RegExp; RE2-only syntax is reported as unsupported. */
export function re2FullMatch(pattern: string, input: string): RegexResult {
  let source = pattern;
  let flags = 'u';
  const inline = /^\(\?([ims]+)\)/.exec(source);
  if (inline) {
    source = source.slice(inline[0].length);
    if (inline[1]!.includes('i')) flags += 'i';
    if (inline[1]!.includes('s')) flags += 's';
    if (inline[1]!.includes('m')) flags += 'm';
  }
  // RE2 \z is end of text, \A start of text
  source = source.replace(/\\z/g, '$').replace(/\\A/g, '^');
  try {
    return { ok: true, matched: new RegExp(`^(?:${source})$`, flags).test(input) };
  } catch {
    return { ok: false, matched: false };
  }
}

export function stringMatches(m: StringMatcher, value: string): RegexResult {
  const ci = m.ignore_case === true;
  const v = ci ? value.toLowerCase() : value;
  const norm = (s: string): string => (ci ? s.toLowerCase() : s);
  if (m.exact !== undefined) return { ok: true, matched: v === norm(m.exact) };
  if (m.prefix !== undefined) return { ok: true, matched: v.startsWith(norm(m.prefix)) };
  if (m.suffix !== undefined) return { ok: true, matched: v.endsWith(norm(m.suffix)) };
  if (m.contains !== undefined) return { ok: true, matched: v.includes(norm(m.contains)) };
  if (m.safe_regex?.regex !== undefined) return re2FullMatch(m.safe_regex.regex, value);
  return { ok: true, matched: true };
}

function stripQuery(path: string): string {
  const q = path.search(/[?#]/);
  return q >= 0 ? path.slice(0, q) : path;
}

/** Header value as Envoy's router sees it: pseudo-headers from the request. */
function headerValue(req: HttpRequest, name: string): string | undefined {
  switch (name.toLowerCase()) {
    case ':authority':
    case 'host':
      return req.host;
    case ':path':
      return req.path;
    case ':method':
      return req.method;
    case ':scheme':
      return req.scheme;
    default:
      return req.headers[name.toLowerCase()];
  }
}

/** HeaderUtility::matchHeaders for one matcher (header_utility.cc). */
export function headerMatches(h: HeaderMatcher, req: HttpRequest): RegexResult {
  const raw = headerValue(req, h.name ?? '');
  const invert = h.invert_match === true;
  const isPresentOnly =
    h.present_match !== undefined ||
    (h.exact_match === undefined &&
      h.safe_regex_match === undefined &&
      h.regex_match === undefined &&
      h.range_match === undefined &&
      h.prefix_match === undefined &&
      h.suffix_match === undefined &&
      h.contains_match === undefined &&
      h.string_match === undefined);
  if (raw === undefined && !h.treat_missing_header_as_empty) {
    // a missing header only satisfies present_match:false, or present_match:true inverted
    const present = h.present_match ?? true;
    if (!isPresentOnly) return { ok: true, matched: false };
    return { ok: true, matched: invert ? present : !present };
  }
  const value = raw ?? '';
  let r: RegexResult;
  if (h.exact_match !== undefined) r = { ok: true, matched: h.exact_match === '' || value === h.exact_match };
  else if (h.safe_regex_match?.regex !== undefined) r = re2FullMatch(h.safe_regex_match.regex, value);
  else if (h.regex_match !== undefined) r = re2FullMatch(h.regex_match, value);
  else if (h.range_match) {
    const n = /^-?\d+$/.test(value) ? Number(value) : Number.NaN;
    const start = toNumber(h.range_match.start) ?? 0;
    const end = toNumber(h.range_match.end) ?? 0;
    r = { ok: true, matched: Number.isFinite(n) && n >= start && n < end };
  } else if (h.prefix_match !== undefined) r = { ok: true, matched: value.startsWith(h.prefix_match) };
  else if (h.suffix_match !== undefined) r = { ok: true, matched: value.endsWith(h.suffix_match) };
  else if (h.contains_match !== undefined) r = { ok: true, matched: value.includes(h.contains_match) };
  else if (h.string_match) r = stringMatches(h.string_match, value);
  else r = { ok: true, matched: h.present_match ?? true };
  return { ok: r.ok, matched: r.matched !== invert };
}

function queryParams(path: string): Map<string, string> {
  const out = new Map<string, string>();
  const q = path.indexOf('?');
  if (q < 0) return out;
  const query = path.slice(q + 1).split('#')[0] ?? '';
  for (const part of query.split('&')) {
    if (!part) continue;
    const eq = part.indexOf('=');
    const name = eq >= 0 ? part.slice(0, eq) : part;
    // only the first value counts (QueryParamsMulti::getFirstValue)
    if (!out.has(name)) out.set(name, eq >= 0 ? part.slice(eq + 1) : '');
  }
  return out;
}

function queryMatches(m: QueryParameterMatcher, req: HttpRequest): RegexResult {
  const value = queryParams(req.path).get(m.name ?? '');
  if (m.present_match !== undefined) return { ok: true, matched: (value !== undefined) === m.present_match };
  if (value === undefined) return { ok: true, matched: false };
  if (m.string_match) return stringMatches(m.string_match, value);
  if (m.value !== undefined) return m.regex ? re2FullMatch(m.value, value) : { ok: true, matched: value === m.value };
  return { ok: true, matched: true };
}

export interface RouteMatch {
  readonly route: Route | undefined;
  readonly index: number;
  /** conditions the emulation could not evaluate on the way (regex syntax, runtime fractions...) */
  readonly caveats: readonly string[];
}

/** Path conditions of a route (prefix, path, safe_regex, path_separated_prefix). */
function pathMatches(route: Route, req: HttpRequest): RegexResult & { caveat?: string } {
  const m = route.match ?? {};
  const path = req.path;
  const caseSensitive = m.case_sensitive !== false;
  const p = stripQuery(path);
  const cmp = (s: string): string => (caseSensitive ? s : s.toLowerCase());
  if (m.prefix !== undefined) return { ok: true, matched: cmp(p).startsWith(cmp(m.prefix)) };
  if (m.path !== undefined) return { ok: true, matched: cmp(p) === cmp(m.path) };
  if (m.path_separated_prefix !== undefined) {
    const pre = cmp(m.path_separated_prefix);
    const v = cmp(p);
    return { ok: true, matched: v.startsWith(pre) && (v.length === pre.length || v[pre.length] === '/') };
  }
  const rx = m.safe_regex?.regex ?? m.regex;
  if (rx !== undefined) {
    const r = re2FullMatch(rx, p);
    return r.ok ? r : { ...r, caveat: `regex ${JSON.stringify(rx)} uses RE2 syntax this emulation cannot evaluate; treated as no match` };
  }
  if (m.connect_matcher !== undefined) return { ok: true, matched: req.method.toUpperCase() === 'CONNECT' };
  if (m.path_match_policy !== undefined) return { ok: false, matched: false, caveat: 'path_match_policy (URI templates) is not emulated; treated as no match' };
  return { ok: true, matched: true };
}

export function selectRoute(vh: VirtualHost, req: HttpRequest): RouteMatch {
  const caveats: string[] = [];
  const routes = vh.routes ?? [];
  for (let i = 0; i < routes.length; i++) {
    const route = routes[i]!;
    const m = route.match ?? {};
    const path = pathMatches(route, req);
    if (path.caveat) caveats.push(`route ${route.name ?? `#${i}`}: ${path.caveat}`);
    if (!path.matched) continue;
    if (m.runtime_fraction !== undefined) {
      caveats.push(`route ${route.name ?? `#${i}`}: runtime_fraction makes the match probabilistic; assumed to match`);
    }
    if (m.grpc !== undefined && !/^application\/grpc/.test(req.headers['content-type'] ?? '')) continue;
    let ok = true;
    for (const h of m.headers ?? []) {
      const r = headerMatches(h, req);
      if (!r.ok) caveats.push(`route ${route.name ?? `#${i}`}: header ${h.name} regex is not evaluable here; treated as no match`);
      if (!r.matched) {
        ok = false;
        break;
      }
    }
    if (!ok) continue;
    for (const q of m.query_parameters ?? []) {
      if (!queryMatches(q, req).matched) {
        ok = false;
        break;
      }
    }
    if (!ok) continue;
    if (m.tls_context) {
      if (m.tls_context.presented !== undefined && m.tls_context.presented !== req.tlsPresented) continue;
      if (m.tls_context.validated !== undefined && m.tls_context.validated !== req.tlsPresented) continue;
    }
    if ((m.dynamic_metadata?.length ?? 0) > 0 || (m.filter_state?.length ?? 0) > 0) {
      caveats.push(`route ${route.name ?? `#${i}`}: dynamic_metadata/filter_state conditions are not emulated; assumed to match`);
    }
    return { route, index: i, caveats };
  }
  return { route: undefined, index: -1, caveats };
}

/** Envoy's redirect response code enum (RedirectAction.RedirectResponseCode) → status. */
export function redirectStatus(code: string | number | undefined): number {
  switch (code) {
    case 'FOUND':
    case 1:
      return 302;
    case 'SEE_OTHER':
    case 2:
      return 303;
    case 'TEMPORARY_REDIRECT':
    case 3:
      return 307;
    case 'PERMANENT_REDIRECT':
    case 4:
      return 308;
    default:
      return 301;
  }
}

/** RouteAction.cluster_not_found_response_code → status (default SERVICE_UNAVAILABLE). */
export function clusterNotFoundStatus(code: string | number | undefined): number {
  if (code === 'NOT_FOUND' || code === 1) return 404;
  if (code === 'INTERNAL_SERVER_ERROR' || code === 2) return 500;
  return 503;
}

/** Light path normalisation as the HCM applies it before routing (normalize_path / merge_slashes). */
export function normalizePath(hcm: HttpConnectionManager, path: string): string {
  const q = path.search(/[?#]/);
  let p = q >= 0 ? path.slice(0, q) : path;
  const rest = q >= 0 ? path.slice(q) : '';
  if (hcm.merge_slashes) p = p.replace(/\/{2,}/g, '/');
  if (hcm.normalize_path) {
    const out: string[] = [];
    for (const seg of p.split('/')) {
      if (seg === '.') continue;
      if (seg === '..') {
        if (out.length > 1) out.pop();
        continue;
      }
      out.push(seg);
    }
    p = out.join('/') || '/';
  }
  return p + rest;
}
