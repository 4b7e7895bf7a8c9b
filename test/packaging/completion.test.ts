/**
 * `__complete`, the answer kubectl_complete-mesh_egress relays to kubectl (cobra's format:
 * candidates, then ":<directive>"), read from the yargs command table. Also pins the yargs
 * internals completion.ts reads (they are the ones yargs' own completion uses).
 */
import { describe, expect, it } from 'vitest';
import { DIRECTIVE } from '../../src/cli/completion.js';
import { runCli } from '../helpers/cli.js';

async function complete(...words: string[]): Promise<{ candidates: string[]; directive: number }> {
  const r = await runCli(['__complete', ...words]);
  expect(r.code).toBe(0);
  expect(r.stderr).toBe('');
  const lines = r.stdout.split('\n').filter(Boolean);
  const last = lines.pop()!;
  expect(last).toMatch(/^:\d+$/);
  return { candidates: lines.map((l) => l.split('\t')[0]!), directive: Number(last.slice(1)) };
}

describe('__complete', () => {
  it('verbs, with descriptions, and no files', async () => {
    const r = await runCli(['__complete', '']);
    expect(r.stdout).toMatch(/^trace\tEmulate the sidecar/m);
    expect(r.stdout).toMatch(/^version\tPrint the plugin version/m);
    expect(r.stdout.trimEnd().split('\n').at(-1)).toBe(`:${DIRECTIVE.NO_FILE_COMP}`);
    expect(r.stdout).not.toMatch(/__complete/);
  });
  it('filters by the typed prefix', async () => {
    expect(await complete('tr')).toEqual({ candidates: ['trace'], directive: DIRECTIVE.NO_FILE_COMP });
    expect((await complete('zz')).candidates).toEqual([]);
  });
  it("a verb's flags, global and its own", async () => {
    const { candidates } = await complete('trace', '--');
    for (const f of ['--config-dump', '--protocol', '--server-first', '--output', '--fail-on', '--help']) expect(candidates).toContain(f);
    expect((await complete('trace', '--pro')).candidates).toEqual(['--protocol']);
    expect((await complete('trace', '-')).candidates).toContain('-o');
  });
  it('flags already given are not offered again, repeatable ones are', async () => {
    const { candidates } = await complete('trace', '--protocol', 'tcp', '--header', 'a:b', '--');
    expect(candidates).not.toContain('--protocol');
    expect(candidates).toContain('--header');
  });
  it('choices of a flag, in both spellings', async () => {
    expect(await complete('trace', '-o', '')).toEqual({ candidates: ['table', 'wide', 'json', 'yaml'], directive: DIRECTIVE.NO_FILE_COMP });
    expect((await complete('trace', '--protocol', 'h')).candidates).toEqual(['http', 'http2']);
    expect((await complete('trace', '--output=j')).candidates).toEqual(['--output=json']);
    expect((await complete('--color', '')).candidates).toEqual(['auto', 'always', 'never']);
  });
  it('a file flag leaves the value to the shell (file completion)', async () => {
    expect(await complete('trace', '--config-dump', '')).toEqual({ candidates: [], directive: DIRECTIVE.DEFAULT });
  });
  it('global flags before the verb are skipped with their values', async () => {
    expect((await complete('-o', 'json', 'tr')).candidates).toEqual(['trace']);
  });
  it('a DEST being typed: nothing, and no file names', async () => {
    expect(await complete('trace', '--config-dump', 'd.json', '10.0')).toEqual({ candidates: [], directive: DIRECTIVE.NO_FILE_COMP });
  });
});
