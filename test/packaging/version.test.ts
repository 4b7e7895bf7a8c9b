/**
 * `version` / `--version`: the tool, the runtime, and kubectl's client version through
 * `kubectl version --client -o json` (src/collect/kubectl-version.ts), with a stand-in kubectl
 * (MESH_EGRESS_KUBECTL). A missing or broken kubectl is reported and still exits 0.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { kubectlClientVersion } from '../../src/collect/kubectl-version.js';
import { VERSION } from '../../src/version.js';
import { BINARY, runCli } from '../helpers/cli.js';

// Under MESH_EGRESS_BIN the runtime is the pinned one embedded in the single executable
// (scripts/node-runtimes.json), not the Node running vitest.
const pinnedRuntime = (JSON.parse(fs.readFileSync(path.resolve(import.meta.dirname, '../../scripts/node-runtimes.json'), 'utf8')) as { version: string }).version;
const runtime = BINARY
  ? { node: pinnedRuntime, line: `runtime: node v${pinnedRuntime} (${process.platform}/${process.arch}, embedded in the single executable)`, sea: true }
  : { node: process.versions.node, line: `runtime: node v${process.versions.node} (${process.platform}/${process.arch})`, sea: false };

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'meg-version-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function fakeKubectl(name: string, script: string): string {
  const p = path.join(tmp, name);
  fs.writeFileSync(p, `#!/bin/sh\n${script}\n`, { mode: 0o755 });
  return p;
}

const ok = fakeKubectl(
  'kubectl-ok',
  `[ "$*" = "version --client -o json" ] || { echo "unexpected args: $*" >&2; exit 3; }
cat <<'EOF'
{
  "clientVersion": { "major": "1", "minor": "33", "gitVersion": "v1.33.2", "platform": "linux/amd64" },
  "kustomizeVersion": "v5.6.0"
}
EOF`,
);
const broken = fakeKubectl('kubectl-broken', 'echo "error: unknown flag: --client" >&2; exit 1');
const garbage = fakeKubectl('kubectl-garbage', 'echo "Client Version: v1.20.0"');
const slow = fakeKubectl('kubectl-slow', 'exec sleep 5');
const env = (kubectl: string) => ({ MESH_EGRESS_KUBECTL: kubectl, PATH: process.env.PATH ?? '' });

describe('kubectl mesh-egress version', () => {
  it('prints the tool, the runtime and the kubectl version', async () => {
    const r = await runCli(['version'], { env: env(ok) });
    expect(r).toMatchObject({ code: 0, stderr: '' });
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe(`kubectl-mesh_egress ${VERSION}`);
    expect(lines[1]).toBe(runtime.line);
    expect(lines[2]).toBe(`kubectl: v1.33.2 (${ok})`);
  });
  it('says "kubectl: not found" and exits 0 without kubectl', async () => {
    const r = await runCli(['version'], { env: { MESH_EGRESS_KUBECTL: 'kubectl', PATH: tmp } });
    expect(r.code).toBe(0);
    expect(r.stdout.trimEnd().split('\n')[2]).toBe('kubectl: not found');
  });
  it('reports a failing kubectl and exits 0', async () => {
    const r = await runCli(['version'], { env: env(broken) });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`kubectl: unknown flag: --client (${broken})`);
  });
  it('-o json', async () => {
    const r = await runCli(['version', '-o', 'json'], { env: env(ok) });
    expect(JSON.parse(r.stdout)).toEqual({
      meshEgress: VERSION,
      runtime: { node: runtime.node, platform: `${process.platform}/${process.arch}`, singleExecutable: runtime.sea },
      kubectl: { binary: ok, clientVersion: 'v1.33.2', platform: 'linux/amd64', kustomizeVersion: 'v5.6.0' },
    });
  });
  it('--version prints only the tool version, before loading the command table', async () => {
    expect(await runCli(['--version'])).toEqual({ code: 0, stdout: `kubectl-mesh_egress ${VERSION}\n`, stderr: '' });
    expect((await runCli(['trace', '--version'])).stdout).toBe(`kubectl-mesh_egress ${VERSION}\n`);
  });
});

describe('kubectlClientVersion', () => {
  it('parses kubectl version --client -o json', async () => {
    expect(await kubectlClientVersion({ binary: ok, env: { PATH: process.env.PATH ?? '' } })).toEqual({ status: 'ok', binary: ok, gitVersion: 'v1.33.2', platform: 'linux/amd64', kustomizeVersion: 'v5.6.0' });
  });
  it('not found, bad output, timeout', async () => {
    expect(await kubectlClientVersion({ binary: path.join(tmp, 'nope'), env: { PATH: process.env.PATH ?? '' } })).toEqual({ status: 'not-found', binary: path.join(tmp, 'nope') });
    expect(await kubectlClientVersion({ binary: garbage, env: { PATH: process.env.PATH ?? '' } })).toMatchObject({ status: 'error', message: expect.stringMatching(/unexpected output.*Client Version/) });
    const t0 = Date.now();
    expect(await kubectlClientVersion({ binary: slow, env: { PATH: process.env.PATH ?? '' }, timeoutMs: 300 })).toEqual({ status: 'timeout', binary: slow, timeoutMs: 300 });
    expect(Date.now() - t0).toBeLessThan(3000);
  });
});
