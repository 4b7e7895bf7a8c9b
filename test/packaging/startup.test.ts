/**
 * Start-up cost guards (npm run bench measures it):
 *   - what every command line loads: the static import graph from cmd/ must not reach the heavy
 *     modules, which are imported on the code paths that need them (yargs after the `--version`
 *     fast path; the trace engine, dump reader, renderers, yaml, cli-table3, execa when a verb
 *     runs); @kubernetes/client-node is not imported at all;
 *   - the string-width stand-in of scripts/build.mjs answers only characters on which every
 *     bundled string-width version agrees.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ONE_COLUMN } from '../../scripts/build.mjs';
import { repoRoot } from '../helpers/shared.js';

/** Value imports (not `import type`) of a TypeScript file: relative paths resolved, packages by name. */
function staticImports(file: string): string[] {
  const text = fs.readFileSync(file, 'utf8');
  const out: string[] = [];
  for (const m of text.matchAll(/^(?:import|export)\s+(type\s+)?(?:[^'";]*?\sfrom\s+)?'([^']+)';?$/gm)) {
    if (m[1]) continue;
    const spec = m[2]!;
    const clause = m[0].replace(/\sfrom\s+'[^']+';?$/, '');
    // `import { type A, type B } from` imports nothing at run time
    if (/^import\s+\{[^}]*\}$/.test(clause) && /\{\s*(type\s+\w+(\s+as\s+\w+)?\s*,?\s*)+\}/.test(clause)) continue;
    out.push(spec.startsWith('.') ? path.resolve(path.dirname(file), spec).replace(/\.js$/, '.ts') : spec.replace(/^(@[^/]+\/[^/]+|[^/]+).*$/, '$1'));
  }
  return out;
}

function reachable(entry: string): Set<string> {
  const seen = new Set<string>();
  const todo = [entry];
  while (todo.length) {
    const f = todo.pop()!;
    if (seen.has(f)) continue;
    seen.add(f);
    if (path.isAbsolute(f)) todo.push(...staticImports(f));
  }
  return seen;
}

describe('what every command line loads', () => {
  const graph = reachable(path.join(repoRoot, 'cmd', 'kubectl-mesh_egress.ts'));
  const rel = [...graph].map((f) => (path.isAbsolute(f) ? path.relative(repoRoot, f) : f));
  it('no heavy package is imported statically', () => {
    for (const pkg of ['yargs', 'yaml', 'cli-table3', 'execa', '@kubernetes/client-node']) expect(rel, pkg).not.toContain(pkg);
  });
  it('the trace engine, dump reader and renderers are imported when a trace runs', () => {
    for (const f of ['src/analyze/trace/engine.ts', 'src/collect/dump-files.ts', 'src/render/trace.ts', 'src/render/text.ts', 'src/render/dto.ts', 'src/collect/kubectl-version.ts']) expect(rel).not.toContain(f);
  });
  it('@kubernetes/client-node is imported nowhere (its types may be)', () => {
    const all = (dir: string): string[] => fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? all(path.join(dir, e.name)) : e.name.endsWith('.ts') ? [path.join(dir, e.name)] : []));
    for (const f of [...all(path.join(repoRoot, 'src')), ...all(path.join(repoRoot, 'cmd'))]) {
      expect(staticImports(f), f).not.toContain('@kubernetes/client-node');
      expect(fs.readFileSync(f, 'utf8'), f).not.toMatch(/(import|require)\(\s*['"]@kubernetes\/client-node['"]/);
    }
  });
});

describe('the string-width stand-in', () => {
  const chars = [...Array.from({ length: 0x7f - 0x20 }, (_, i) => String.fromCharCode(0x20 + i))];
  for (const m of ONE_COLUMN.matchAll(/\\u([0-9a-f]{4})/g)) chars.push(String.fromCharCode(parseInt(m[1]!, 16)));
  const fast = new RegExp(`^[${ONE_COLUMN}]*$`);
  // every string-width the bundle contains, resolved as its importers resolve it
  const importers = ['package.json', 'node_modules/cliui/package.json', 'node_modules/wrap-ansi/package.json', 'node_modules/yargs/package.json'];
  it.each(importers)('agrees with the string-width %s uses', async (importer) => {
    const file = createRequire(path.join(repoRoot, importer)).resolve('string-width');
    const mod = (await import(pathToFileURL(file).href)) as { default: (s: string) => number } | ((s: string) => number);
    const width = typeof mod === 'function' ? mod : mod.default;
    for (const c of chars) {
      expect(fast.test(c), JSON.stringify(c)).toBe(true);
      expect(width(c), `${importer}: ${JSON.stringify(c)}`).toBe(1);
    }
    const sample = `capture → listener ${chars.join('')} §… — –·•←`;
    expect(width(sample)).toBe(sample.length);
  });
});
