/**
 * Scenario fixtures → golden table and JSON output, one folder per scenario
 * (test/scenarios/<name>/cases.yaml). UPDATE_GOLDEN=1 rewrites the goldens; review them like code.
 * Every case also asserts its verdict fields and exit code explicitly, and the exit code must be
 * the same whatever -o is.
 */
import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { describe, expect, it } from 'vitest';
import { catalog } from '../src/analyze/catalog.js';
import { buildAll, scenariosDir } from './fixtures/build-scenarios.js';
import { runCli } from './helpers/cli.js';

interface Case {
  name: string;
  args: string[];
  expect: Record<string, unknown> & { exit: number };
}

const update = process.env.UPDATE_GOLDEN === '1';
const codesSeen = new Set<string>();
const scenarios = fs
  .readdirSync(scenariosDir)
  .filter((d) => fs.existsSync(path.join(scenariosDir, d, 'cases.yaml')))
  .sort();

function resolveArgs(dir: string, args: string[]): string[] {
  return args.map((a, i) => (i > 0 && args[i - 1] === '--config-dump' ? path.resolve(dir, a) : a));
}

function golden(file: string, actual: string): void {
  if (update || !fs.existsSync(file)) {
    if (!update) throw new Error(`missing golden ${file}: run UPDATE_GOLDEN=1 npx vitest run test/scenarios.test.ts`);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, actual);
    return;
  }
  expect(actual).toBe(fs.readFileSync(file, 'utf8'));
}

describe('scenario fixtures are generated, never edited by hand', () => {
  it('every generated dump equals the committed file', () => {
    const built = buildAll();
    expect(built.size).toBeGreaterThan(10);
    for (const [key, doc] of built) {
      const file = path.join(scenariosDir, key);
      expect(fs.existsSync(file), `${key} is missing: run npx tsx test/fixtures/build-scenarios.ts`).toBe(true);
      expect(JSON.parse(fs.readFileSync(file, 'utf8')), key).toEqual(doc);
    }
  });
});

for (const scenario of scenarios) {
  const dir = path.join(scenariosDir, scenario);
  const spec = YAML.parse(fs.readFileSync(path.join(dir, 'cases.yaml'), 'utf8')) as { description: string; cases: Case[] };
  describe(`scenario ${scenario}`, () => {
    it('has a description and cases', () => {
      expect(spec.description.length).toBeGreaterThan(40);
      expect(spec.cases.length).toBeGreaterThan(0);
    });
    for (const c of spec.cases) {
      it(c.name, async () => {
        const args = ['trace', ...resolveArgs(dir, c.args)];
        const explicitOutput = args.includes('-o');
        const json = await runCli(explicitOutput ? args : [...args, '-o', 'json']);
        expect(json.stderr).toBe('');
        const doc = JSON.parse(json.stdout) as { apiVersion: string; kind: string; verdict: Record<string, unknown>; findings: { code: string }[] };
        expect(doc.apiVersion).toBe('mesh-egress/v1');
        expect(doc.kind).toBe('Trace');
        for (const f of doc.findings) codesSeen.add(f.code);
        const { exit, ...fields } = c.expect;
        for (const [k, v] of Object.entries(fields)) expect(doc.verdict[k] ?? null, `verdict.${k}`).toEqual(v);
        expect(json.code, 'exit code').toBe(exit);
        golden(path.join(dir, 'expected', `${c.name}.json`), json.stdout);
        if (!explicitOutput) {
          const table = await runCli(args);
          expect(table.code, 'exit code must not depend on -o').toBe(exit);
          expect(table.stdout).toContain(`VERDICT  ${String(doc.verdict.code ?? 'UNDETERMINED')}`);
          golden(path.join(dir, 'expected', `${c.name}.txt`), table.stdout);
          const yaml = await runCli([...args, '-o', 'yaml']);
          expect(yaml.code).toBe(exit);
          expect(YAML.parse(yaml.stdout)).toEqual(doc);
        }
      });
    }
  });
}

/** Every golden JSON document under test/ (scenario, snapshot and e2e goldens). */
function goldenCodes(dir: string, out: Set<string>): void {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) goldenCodes(p, out);
    else if (e.name.endsWith('.json') && path.basename(path.dirname(p)) === 'expected') {
      const doc = JSON.parse(fs.readFileSync(p, 'utf8')) as { findings?: { code: string }[] };
      for (const f of doc.findings ?? []) out.add(f.code);
    }
  }
}

// runs after the scenarios above (tests in a file run in order), so fresh goldens are on disk
describe('catalog coverage', () => {
  it('every catalog code is produced by at least one golden output', () => {
    expect(codesSeen.size).toBeGreaterThan(0);
    const seen = new Set(codesSeen);
    goldenCodes(path.resolve(scenariosDir, '..'), seen);
    const missing = Object.values(catalog)
      .map((e) => e.code)
      .filter((c) => !seen.has(c));
    expect(missing, 'catalog codes no golden output produces').toEqual([]);
  });
});
