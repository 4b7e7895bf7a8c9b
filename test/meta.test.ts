/**
 * Keeping the framework honest: the catalog, its documentation, the layer rules of
 * DESIGN.md §4, and the version.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { catalog, renderCatalogMarkdown, RETIRED } from '../src/analyze/catalog.js';
import { VERSION } from '../src/version.js';
import { repoRoot } from './helpers/shared.js';

describe('finding catalog', () => {
  const entries = Object.entries(catalog);
  it('codes are unique, well-formed, never retired ones', () => {
    const codes = entries.map(([, e]) => e.code);
    expect(new Set(codes).size).toBe(codes.length);
    for (const c of codes) {
      expect(c).toMatch(/^MEG0\d\d$/);
      expect(RETIRED).not.toContain(c);
    }
  });
  it('every entry has a title, a description and a template that uses its parameters', () => {
    for (const [name, e] of entries) {
      expect(name).toMatch(/^[A-Z][A-Za-z]+$/);
      expect(e.title.length, name).toBeGreaterThan(10);
      expect(e.description.length, name).toBeGreaterThan(40);
    }
  });
  it('docs/codes.md is generated from the catalog (npm run gen:codes)', () => {
    expect(fs.readFileSync(path.join(repoRoot, 'docs', 'codes.md'), 'utf8')).toBe(renderCatalogMarkdown());
  });
});

/** Which src/ folders a folder may import from (DESIGN.md §4: imports only point down). */
const ALLOWED: Readonly<Record<string, readonly string[]>> = {
  cli: ['cli', 'collect', 'analyze', 'render', 'model', 'envoy', 'version.ts'],
  collect: ['collect', 'model'],
  analyze: ['analyze', 'model', 'envoy'],
  render: ['render', 'analyze', 'model'],
  envoy: ['envoy', 'model'],
  model: ['model'],
};

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? sourceFiles(path.join(dir, e.name)) : e.name.endsWith('.ts') ? [path.join(dir, e.name)] : []));
}

describe('layering (DESIGN.md §4)', () => {
  const src = path.join(repoRoot, 'src');
  it('imports only point down the layer list; I/O only in collect/ and cli/', () => {
    const violations: string[] = [];
    for (const file of sourceFiles(src)) {
      const rel = path.relative(src, file);
      const layer = rel.includes(path.sep) ? rel.split(path.sep)[0]! : rel;
      const text = fs.readFileSync(file, 'utf8');
      const statics = [...text.matchAll(/^(?:import|export)( type)?[^;]*? from '([^']+)'/gms)].map((m) => ({ typeOnly: m[1] !== undefined, spec: m[2]! }));
      // dynamic import('…') (lazy loading for start-up) obeys the same rules
      const dynamics = [...text.matchAll(/\bimport\(\s*'([^']+)'\s*\)/g)].map((m) => ({ typeOnly: false, spec: m[1]! }));
      for (const { typeOnly, spec } of [...statics, ...dynamics]) {
        if (spec.startsWith('.')) {
          const target = path.relative(src, path.resolve(path.dirname(file), spec));
          const targetLayer = target.split(path.sep)[0]!.replace(/\.js$/, '.ts');
          if (ALLOWED[layer] && !ALLOWED[layer]!.includes(targetLayer)) violations.push(`${rel} imports ${spec}`);
        } else if (!typeOnly && /^(node:)?(fs|child_process|net|http|https)$|^execa$|^tar$|^@kubernetes\/client-node$/.test(spec) && layer !== 'collect' && layer !== 'cli') {
          violations.push(`${rel} does I/O through ${spec}`);
        }
      }
    }
    expect(violations).toEqual([]);
  });
});

describe('version', () => {
  it('src/version.ts equals package.json', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { version: string };
    expect(VERSION).toBe(pkg.version);
  });
});
