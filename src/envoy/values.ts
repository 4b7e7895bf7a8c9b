/**
 * Small readers for proto JSON values: wrapped numbers may arrive as numbers or strings,
 * durations as "0.100s", enums as names or numbers.
 */
import type { CidrRangeProto } from '../model/envoy-types.js';
import { makeCidr, parseIp, type CidrRange } from './ip.js';

export function toNumber(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  if (typeof v === 'string' && v.trim() !== '') {
    const n = Number(v);
    return Number.isFinite(n) ? n : undefined;
  }
  if (v !== null && typeof v === 'object' && 'value' in v) return toNumber((v as { value: unknown }).value);
  return undefined;
}

/** google.protobuf.Duration JSON ("1.5s", "0s") → milliseconds; undefined when absent or malformed. */
export function durationMs(v: unknown): number | undefined {
  if (typeof v === 'number') return v * 1000;
  if (typeof v !== 'string') return undefined;
  const m = /^(-?\d+(?:\.\d+)?)s$/.exec(v.trim());
  return m ? Number(m[1]) * 1000 : undefined;
}

export function formatMs(ms: number): string {
  if (ms === 0) return '0s';
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms / 1000}s`;
}

/** CidrRange proto → range; undefined for an unparsable prefix. */
export function cidrFromProto(p: CidrRangeProto): CidrRange | undefined {
  const ip = p.address_prefix !== undefined ? parseIp(p.address_prefix) : undefined;
  if (!ip) return undefined;
  const len = toNumber(p.prefix_len) ?? 0;
  return makeCidr(ip, len);
}

/** The message name of a typed_config, e.g. "envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy". */
export function typeName(typeUrl: unknown): string | undefined {
  if (typeof typeUrl !== 'string') return undefined;
  const slash = typeUrl.lastIndexOf('/');
  return slash >= 0 ? typeUrl.slice(slash + 1) : typeUrl;
}

/** Last path segment of a message name: "TcpProxy". */
export function shortTypeName(typeUrl: unknown): string | undefined {
  const t = typeName(typeUrl);
  if (!t) return undefined;
  const dot = t.lastIndexOf('.');
  return dot >= 0 ? t.slice(dot + 1) : t;
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}
