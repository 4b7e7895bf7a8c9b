/**
 * Certificates compared by fingerprint, never by content (seed 004: "compare the root certificates of
 * each cluster"). A PEM bundle is split into its CERTIFICATE blocks, each decoded to DER and hashed
 * with SHA-256 — the value `openssl x509 -noout -fingerprint -sha256` prints. Only the fingerprints
 * leave this module; the PEM text and the DER bytes are dropped by the caller right after.
 * Private-key blocks are never decoded: they are counted so the caller can say a bundle held one.
 */
import { createHash } from 'node:crypto';

export interface PemScan {
  /** SHA-256 of each certificate's DER, upper-case hex pairs joined by ':' (openssl's form), in bundle order */
  readonly fingerprints: readonly string[];
  /** CERTIFICATE blocks whose body is not valid base64 DER (truncated, edited) */
  readonly invalid: number;
  /** PRIVATE KEY blocks seen (never decoded) */
  readonly privateKeys: number;
}

const BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/g;

/** SHA-256 of DER bytes in openssl's notation ("AB:CD:…", 32 pairs). */
export function sha256Fingerprint(der: Uint8Array): string {
  const hex = createHash('sha256').update(der).digest('hex').toUpperCase();
  return hex.match(/../g)!.join(':');
}

/** DER must start with a SEQUENCE whose length covers the rest (a cheap sanity check, not a parse). */
function looksLikeDer(der: Buffer): boolean {
  if (der.length < 4 || der[0] !== 0x30) return false;
  const first = der[1]!;
  if (first < 0x80) return first + 2 === der.length;
  const n = first & 0x7f;
  if (n < 1 || n > 4 || der.length < 2 + n) return false;
  let len = 0;
  for (let i = 0; i < n; i++) len = len * 256 + der[2 + i]!;
  return len + 2 + n === der.length;
}

/** Fingerprints of every certificate in a PEM bundle (one cert, or a chain/bundle). */
export function scanPem(pem: string): PemScan {
  const fingerprints: string[] = [];
  let invalid = 0;
  let privateKeys = 0;
  for (const m of pem.matchAll(BLOCK)) {
    const label = m[1]!;
    if (/PRIVATE KEY/.test(label)) {
      privateKeys++;
      continue;
    }
    if (label !== 'CERTIFICATE' && label !== 'TRUSTED CERTIFICATE') continue;
    const body = m[2]!.replace(/\s+/g, '');
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(body)) {
      invalid++;
      continue;
    }
    const der = Buffer.from(body, 'base64');
    if (!looksLikeDer(der)) {
      invalid++;
      continue;
    }
    fingerprints.push(sha256Fingerprint(der));
  }
  return { fingerprints, invalid, privateKeys };
}

/** The short form for tables: the first 8 bytes ("AB:CD:EF:01:23:45:67:89"). */
export function shortFingerprint(fp: string): string {
  return fp.split(':').slice(0, 8).join(':');
}
