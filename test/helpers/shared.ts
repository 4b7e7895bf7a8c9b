/**
 * Paths into ../shared (read in place, never copied into the repo).
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const sharedRoot = process.env.MESH_EGRESS_SHARED ?? path.resolve(repoRoot, '..', 'shared');
export const corpusRoot = path.join(sharedRoot, 'corpus', 'istio');

export function corpusPath(rel: string): string {
  return path.join(corpusRoot, rel);
}

export function readCorpus(rel: string): string {
  const p = corpusPath(rel);
  if (!fs.existsSync(p)) throw new Error(`corpus file missing: ${p} (is ../shared beside the repo?)`);
  return fs.readFileSync(p, 'utf8');
}
