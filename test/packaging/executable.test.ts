/**
 * The built executable, as a process, and as kubectl sees it. By default dist/kubectl-mesh_egress
 * (the node-launched bundle after `npm run build`, the single executable after
 * `npm run build:binary`); MESH_EGRESS_BIN=path tests another build, for example:
 *   npm run build:binary && MESH_EGRESS_BIN=dist/kubectl-mesh_egress npx vitest run test/packaging
 */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { VERSION } from '../../src/version.js';
import { repoRoot } from '../helpers/shared.js';

const bin = path.resolve(repoRoot, process.env.MESH_EGRESS_BIN ?? path.join('dist', 'kubectl-mesh_egress'));
if (process.env.MESH_EGRESS_BIN && !fs.existsSync(bin)) throw new Error(`MESH_EGRESS_BIN=${process.env.MESH_EGRESS_BIN}: ${bin} does not exist`);
const built = fs.existsSync(bin);
/** a single executable, not the script the plain build leaves */
const isBinary = built && !fs.readFileSync(bin).subarray(0, 2).equals(Buffer.from('#!'));
const example = path.join(repoRoot, 'test', 'scenarios', 'seed002-modern', 'registry-only.json');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'meg-exe-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const baseEnv: NodeJS.ProcessEnv = { ...process.env, MESH_EGRESS_KUBECTL: path.join(tmp, 'no-kubectl'), NO_COLOR: '1' };
delete baseEnv.NODE_OPTIONS; // vitest's own must not reach a node-launched bundle

function cli(args: readonly string[], env: NodeJS.ProcessEnv = {}): SpawnSyncReturns<string> {
  return spawnSync(bin, args, { encoding: 'utf8', env: { ...baseEnv, ...env }, timeout: 30_000 });
}

function kubectlMinor(): number | undefined {
  const r = spawnSync('kubectl', ['version', '--client', '-o', 'json'], { encoding: 'utf8', timeout: 20_000 });
  if (r.status !== 0) return undefined;
  try {
    return Number((JSON.parse(r.stdout) as { clientVersion: { minor: string } }).clientVersion.minor.replace(/\D.*$/, ''));
  } catch {
    return undefined;
  }
}

describe.runIf(built)(`the executable ${path.relative(repoRoot, bin)}${isBinary ? ' (single executable)' : ' (node bundle)'}`, () => {
  it('--version: one line, nothing on stderr (a rejected code cache would warn there)', () => {
    const r = cli(['--version']);
    expect({ code: r.status, stdout: r.stdout, stderr: r.stderr }).toEqual({ code: 0, stdout: `kubectl-mesh_egress ${VERSION}\n`, stderr: '' });
  });
  it('version: tool, runtime and kubectl; exit 0 without kubectl', () => {
    const r = cli(['version']);
    expect(r.status).toBe(0);
    expect(r.stderr).toBe('');
    const [tool, runtime, kubectl] = r.stdout.trimEnd().split('\n');
    expect(tool).toBe(`kubectl-mesh_egress ${VERSION}`);
    expect(runtime).toMatch(isBinary ? /^runtime: node v\d+\.\d+\.\d+ \(\w+\/\w+, embedded in the single executable\)$/ : /^runtime: node v\d+\.\d+\.\d+ \(\w+\/\w+\)$/);
    expect(kubectl).toMatch(/^kubectl: not found \(.*no-kubectl\)$/);
    const j = JSON.parse(cli(['version', '-o', 'json']).stdout) as { runtime: { node: string; singleExecutable: boolean } };
    expect(j.runtime.singleExecutable).toBe(isBinary);
    if (isBinary) {
      const pins = JSON.parse(fs.readFileSync(path.join(repoRoot, 'scripts', 'node-runtimes.json'), 'utf8')) as { version: string };
      expect(j.runtime.node).toBe(pins.version);
    }
  });
  it('--help reads as the kubectl command "kubectl mesh-egress"', () => {
    const r = cli(['--help']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^Usage: kubectl mesh-egress VERB \[flags\]$/m);
    expect(r.stdout).toMatch(/^ {2}kubectl mesh-egress trace/m);
    expect(r.stdout).not.toMatch(/kubectl-mesh_egress|\bnode\b|\.cjs|\$0/);
  });
  it('the README example: BLACKHOLE, exit 79', () => {
    const r = cli(['trace', '--config-dump', example, '10.0.0.6:7000']);
    expect(r.status).toBe(79);
    expect(r.stdout).toContain('VERDICT  BLACKHOLE');
    expect(r.stderr).toBe('');
  });
  it.runIf(isBinary)("ignores the user's NODE_OPTIONS (execArgvExtension none)", () => {
    const r = cli(['--version'], { NODE_OPTIONS: '--require=/nonexistent/preload.js' });
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(`kubectl-mesh_egress ${VERSION}\n`);
  });

  describe.runIf(kubectlMinor() !== undefined)('through kubectl', () => {
    // a PATH folder holding the plugin and its completion executable, as an installation has
    const dir = path.join(tmp, 'bin');
    fs.mkdirSync(dir, { recursive: true });
    fs.symlinkSync(bin, path.join(dir, 'kubectl-mesh_egress'));
    fs.symlinkSync(path.join(repoRoot, 'scripts', 'packaging', 'kubectl_complete-mesh_egress'), path.join(dir, 'kubectl_complete-mesh_egress'));
    const env = { PATH: `${dir}${path.delimiter}${process.env.PATH ?? ''}` };
    const kubectl = (args: readonly string[]) => spawnSync('kubectl', args, { encoding: 'utf8', env: { ...baseEnv, ...env }, timeout: 30_000 });

    it('kubectl plugin list finds it on PATH', () => {
      expect(kubectl(['plugin', 'list']).stdout).toContain(path.join(dir, 'kubectl-mesh_egress'));
    });
    it('kubectl mesh-egress version runs it', () => {
      const r = kubectl(['mesh-egress', 'version']);
      expect(r.status).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`^kubectl-mesh_egress ${VERSION.replace(/\./g, '\\.')}\\nruntime: node v`));
    });
    it.runIf((kubectlMinor() ?? 0) >= 26)('completion: kubectl runs kubectl_complete-mesh_egress', () => {
      const verbs = kubectl(['__complete', 'mesh-egress', 'tr']);
      expect(verbs.stdout).toMatch(/^trace\t/m);
      expect(verbs.stdout).toMatch(/^:4$/m);
      const values = kubectl(['__complete', 'mesh-egress', 'trace', '--protocol', '']);
      expect(values.stdout.split('\n').filter((l) => /^[a-z0-9]+$/.test(l))).toEqual(['tcp', 'http', 'http2', 'tls']);
    });
  });
});
