/**
 * The versioned machine-readable documents (`apiVersion: mesh-egress/v1`). They are the public
 * API of -o json|yaml: fields are only ever added. Keys are sorted so output is deterministic.
 */
import type { Finding } from '../analyze/finding.js';
import type { Trace, TraceRequest } from '../analyze/trace/types.js';

export const API_VERSION = 'mesh-egress/v1';

/** Recursively sorts object keys; drops undefined values. */
export function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(value).sort()) {
    const v = (value as Record<string, unknown>)[k];
    if (v !== undefined) out[k] = sortKeys(v);
  }
  return out;
}

export function findingDto(f: Finding): unknown {
  return {
    code: f.code,
    name: f.name,
    severity: f.severity,
    message: f.message,
    subject: f.subject,
    evidence: f.evidence,
    fixes: f.fixes.map((x) => ({ rank: x.rank, title: x.title, tradeoffs: x.tradeoffs, kind: x.kind, content: x.content })),
  };
}

/** The connection asked about, as every verb's document states it. */
export function requestDto(r: TraceRequest): unknown {
  return {
    destination: r.raw,
    host: r.host,
    port: r.port,
    address: r.address?.text,
    protocol: r.protocol,
    serverFirst: r.serverFirst,
    ...(r.protocol === 'http' || r.protocol === 'http2' ? { http: { host: r.hostHeader, method: r.method, path: r.path, headers: r.headers } } : {}),
    ...(r.protocol === 'tls' ? { tls: { sni: r.sni, alpn: r.alpn } } : {}),
  };
}

export function traceDto(t: Trace): unknown {
  const r = t.request;
  return sortKeys({
    apiVersion: API_VERSION,
    kind: 'Trace',
    source: t.source,
    request: requestDto(r),
    proxy: t.proxy,
    verdict: t.verdict,
    hops: t.hops,
    findings: t.findings.map(findingDto),
    assumptions: t.assumptions,
  });
}
