/**
 * DEST parsing and the connection the application opens: `10.0.0.6:7000`, `host:port`,
 * `[2001:db8::1]:443`, `http://host[:port]/path`, `https://host/path`, `tls://host:443`,
 * `tcp://host:port`. Flags refine it (--protocol, --host, --sni, --server-first).
 */
import { parseIp, type IpAddress } from '../../envoy/ip.js';
import type { ClientHello } from '../../envoy/listener-filters.js';
import { UsageError } from '../../model/errors.js';
import type { CaptureOverrides, Protocol, TraceRequest, WorkloadIdentity } from './types.js';

export interface ParsedDestination {
  readonly scheme: 'tcp' | 'http' | 'https' | 'tls' | undefined;
  readonly host: string;
  readonly port: number;
  readonly path: string;
}

const DEFAULT_PORTS: Readonly<Record<string, number>> = { http: 80, https: 443, tls: 443 };

function parsePort(s: string, raw: string): number {
  if (!/^\d{1,5}$/.test(s) || Number(s) < 1 || Number(s) > 65535) {
    throw new UsageError(`invalid port "${s}" in destination "${raw}": use a number from 1 to 65535`);
  }
  return Number(s);
}

export function parseDestination(raw: string): ParsedDestination {
  const text = raw.trim();
  if (text === '') throw new UsageError('the destination is empty: give HOST:PORT, IP:PORT or a URL such as http://host/path');
  const m = /^([a-z][a-z0-9+.-]*):\/\/(.*)$/i.exec(text);
  let scheme: ParsedDestination['scheme'];
  let rest = text;
  if (m) {
    const s = m[1]!.toLowerCase();
    if (s !== 'tcp' && s !== 'http' && s !== 'https' && s !== 'tls') {
      throw new UsageError(`unsupported scheme "${s}://" in destination "${raw}": use tcp://, http://, https:// or tls://`);
    }
    scheme = s;
    rest = m[2]!;
  }
  let path = '/';
  const slash = rest.indexOf('/');
  if (slash >= 0) {
    path = rest.slice(slash);
    rest = rest.slice(0, slash);
  }
  if (rest.includes('@')) throw new UsageError(`credentials in the destination "${raw}" are not supported (and would be printed): remove "user@"`);
  let host: string;
  let portText: string | undefined;
  if (rest.startsWith('[')) {
    const close = rest.indexOf(']');
    if (close < 0) throw new UsageError(`unbalanced "[" in destination "${raw}": write IPv6 as [2001:db8::1]:443`);
    host = rest.slice(1, close);
    const after = rest.slice(close + 1);
    if (after.startsWith(':')) portText = after.slice(1);
    else if (after !== '') throw new UsageError(`unexpected "${after}" after the address in "${raw}"`);
  } else {
    const colons = rest.split(':').length - 1;
    if (colons > 1) {
      throw new UsageError(`ambiguous IPv6 destination "${raw}": write it as [ADDRESS]:PORT`);
    }
    const c = rest.lastIndexOf(':');
    host = c >= 0 ? rest.slice(0, c) : rest;
    portText = c >= 0 ? rest.slice(c + 1) : undefined;
  }
  if (host === '') throw new UsageError(`no host in destination "${raw}"`);
  if (!/^[A-Za-z0-9_.:*-]+$/.test(host)) throw new UsageError(`invalid host "${host}" in destination "${raw}"`);
  let port: number;
  if (portText !== undefined && portText !== '') port = parsePort(portText, raw);
  else if (scheme && DEFAULT_PORTS[scheme]) port = DEFAULT_PORTS[scheme]!;
  else throw new UsageError(`no port in destination "${raw}": write HOST:PORT (for example 10.0.0.6:7000) or a URL`);
  return { scheme, host: host.toLowerCase(), port, path };
}

export interface RequestFlags {
  readonly protocol?: Protocol;
  readonly host?: string;
  readonly sni?: string;
  readonly alpn?: readonly string[];
  readonly serverFirst?: boolean;
  readonly method?: string;
  readonly headers?: readonly string[];
  readonly address?: string;
  readonly podIp?: string;
  readonly uid?: number;
  readonly capture?: CaptureOverrides;
  /** who the proxy is, when the pod was read from the cluster (wins over the bootstrap's node metadata) */
  readonly workload?: WorkloadIdentity;
}

function parseHeaders(list: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const h of list) {
    const i = h.indexOf(':');
    if (i <= 0) throw new UsageError(`invalid --header "${h}": write NAME:VALUE`);
    out[h.slice(0, i).trim().toLowerCase()] = h.slice(i + 1).trim();
  }
  return out;
}

function ipFlag(name: string, v: string | undefined): IpAddress | undefined {
  if (v === undefined) return undefined;
  const ip = parseIp(v);
  if (!ip) throw new UsageError(`--${name} "${v}" is not an IP address`);
  return ip;
}

/** DEST + flags → the request the engine emulates. */
export function buildRequest(dest: string, flags: RequestFlags = {}): TraceRequest {
  const d = parseDestination(dest);
  const schemeProtocol: Protocol | undefined = d.scheme === 'http' ? 'http' : d.scheme === 'https' || d.scheme === 'tls' ? 'tls' : d.scheme === 'tcp' ? 'tcp' : undefined;
  if (flags.protocol && schemeProtocol && flags.protocol !== schemeProtocol && !(d.scheme === 'http' && flags.protocol === 'http2')) {
    throw new UsageError(`--protocol ${flags.protocol} contradicts the destination scheme ${d.scheme}://`);
  }
  const protocol: Protocol = flags.protocol ?? schemeProtocol ?? 'tcp';
  if (flags.serverFirst && protocol !== 'tcp') throw new UsageError('--server-first only applies to --protocol tcp (HTTP and TLS clients speak first)');
  const literal = parseIp(d.host);
  const address = literal ?? ipFlag('address', flags.address);
  if (literal && flags.address && ipFlag('address', flags.address)?.text !== literal.text) {
    throw new UsageError(`--address ${flags.address} contradicts the IP in the destination ${d.host}`);
  }
  const isHttp = protocol === 'http' || protocol === 'http2';
  const defaultPort = d.scheme === 'https' ? 443 : 80;
  const hostLiteral = literal?.family === 6 ? `[${literal.text}]` : d.host;
  const hostHeader = isHttp || d.scheme === 'https' ? (flags.host ?? (d.port === defaultPort ? hostLiteral : `${hostLiteral}:${d.port}`)) : flags.host;
  // curl and most TLS clients send no SNI for IP literals
  const sni = protocol === 'tls' ? (flags.sni ?? (literal ? undefined : d.host)) : flags.sni;
  if (flags.sni && protocol !== 'tls') throw new UsageError('--sni only applies to TLS: use --protocol tls or a tls:// / https:// destination');
  const alpn = flags.alpn ?? (d.scheme === 'https' ? ['h2', 'http/1.1'] : []);
  return {
    raw: dest,
    host: d.host,
    port: d.port,
    address,
    protocol,
    serverFirst: flags.serverFirst === true,
    hostHeader,
    path: d.path,
    method: (flags.method ?? 'GET').toUpperCase(),
    headers: parseHeaders(flags.headers ?? []),
    sni,
    alpn,
    podIp: ipFlag('pod-ip', flags.podIp),
    uid: flags.uid,
    capture: flags.capture ?? {},
    ...(flags.workload ? { workload: flags.workload } : {}),
  };
}

/** What the application's first bytes look like to Envoy's inspectors. */
export function clientHello(r: TraceRequest): ClientHello {
  switch (r.protocol) {
    case 'http':
      return { kind: 'http1', version: '1.1' };
    case 'http2':
      return { kind: 'h2c' };
    case 'tls':
      return { kind: 'tls', sni: r.sni ?? '', alpn: r.alpn };
    default:
      return r.serverFirst ? { kind: 'none' } : { kind: 'opaque' };
  }
}

/** "10.0.0.6:7000", "[2001:db8::1]:443" or "api.example.com:443". */
export function destinationLabel(r: TraceRequest): string {
  const host = r.address ? (r.address.family === 6 ? `[${r.address.text}]` : r.address.text) : r.host;
  const shown = r.address && r.host !== r.address.text ? `${r.host} (${host})` : host;
  return `${shown}:${r.port}`;
}
