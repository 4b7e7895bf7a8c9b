/**
 * race-check's command line: argv → options, and every error a user can cause as one line with
 * its exit code (64 usage, 65 unreadable input), plus an old snapshot without race-check's files.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toRaceCheckOptions } from '../../src/cli/commands/race-check.js';
import { SNAPSHOT_SCHEMA, writeSnapshot } from '../../src/collect/archives.js';
import { runCli } from '../helpers/cli.js';
import { SCENARIOS } from './scenarios.js';
import { writeScenarioSnapshot } from './snapshots.js';

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'race-cli-'));
});
afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

const base = { output: 'table', color: 'auto', 'fail-on': 'error' };

describe('argv → options', () => {
  it('TARGET, -l, --snapshot and the collection limits', () => {
    expect(toRaceCheckOptions({ ...base, target: 'deploy/checkout', namespace: 'shop' })).toEqual({
      input: { kind: 'live', target: { kind: 'workload', resource: 'deployments', name: 'checkout' }, kube: { namespace: 'shop' } },
      maxPods: 10,
      logBytes: 2 * 1024 * 1024,
      output: 'table',
      color: 'auto',
      failOn: 'error',
    });
    expect(toRaceCheckOptions({ ...base, selector: 'app=x', 'max-pods': 3, 'limit-bytes': 65536 })).toMatchObject({ input: { kind: 'live', target: { kind: 'selector', selector: 'app=x' } }, maxPods: 3, logBytes: 65536 });
    expect(toRaceCheckOptions({ ...base, snapshot: 's.tar.gz' }).input).toEqual({ kind: 'snapshot', file: 's.tar.gz' });
  });
});

describe('user errors: one line, the right exit code', () => {
  it.each([
    [['race-check'], 64, 'missing TARGET'],
    [['race-check', 'pod/a', '-l', 'app=b'], 64, 'either TARGET'],
    [['race-check', 'pod/a', '--snapshot', 'x.tar.gz'], 64, 'with --snapshot give no TARGET'],
    [['race-check', '-l', 'app=b', '--snapshot', 'x.tar.gz'], 64, 'with --snapshot give no -l SELECTOR'],
    [['race-check', 'pod/a', '--max-pods', '0'], 64, '--max-pods must be a positive integer'],
    [['race-check', 'pod/a', '--limit-bytes', '10'], 64, '--limit-bytes must be an integer of at least 1024'],
    [['race-check', 'job/a'], 64, 'unsupported TARGET kind "job"'],
    [['race-check', '--snapshot', '/nonexistent/x.tar.gz'], 65, 'cannot open: no such file'],
  ])('%j → %i', async (args, code, text) => {
    const r = await runCli(args);
    expect(r.code).toBe(code);
    expect(r.stdout).toBe('');
    expect(r.stderr.split('\n')[0]).toContain(text);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('a file that is not a snapshot: exit 65', async () => {
    const file = path.join(dir, 'not.tar.gz');
    fs.writeFileSync(file, 'hello');
    const r = await runCli(['race-check', '--snapshot', file]);
    expect(r.code).toBe(65);
    expect(r.stderr).toMatch(/^error: .*not a readable tar\.gz archive/);
  });
});

describe('an older snapshot without race-check data', () => {
  it('says what is missing and still reads the layout from the pod', async () => {
    const s = SCENARIOS.find((x) => x.name === 'app-before-proxy')!;
    const full = path.join(dir, 'full.tar.gz');
    await writeScenarioSnapshot(s, full);
    // the same pod, as a snapshot taken before race-check existed: only the pod
    const pod = s.objects.find((o) => o.kind === 'Pod')!;
    const old = path.join(dir, 'old.tar.gz');
    await writeSnapshot(old, {
      manifest: { apiVersion: 'mesh-egress/v1', kind: 'Snapshot', schemaVersion: SNAPSHOT_SCHEMA, tool: { name: 'kubectl-mesh_egress', version: '0.1.0' }, context: 'prod', collectedAt: s.collectedAt, target: { namespace: 'shop', pod: pod.metadata.name! }, items: [], gaps: [] },
      files: new Map([['cluster/pod.json', { text: JSON.stringify(pod) }]]),
    });
    const r = await runCli(['race-check', '--snapshot', old, '-o', 'json']);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as { verdict: string; findings: { code: string; message: string }[] };
    expect(doc.verdict).toBe('EXPOSED');
    expect(doc.findings.find((f) => f.code === 'MEG001')?.message).toBe(
      'The input has no pod events or container logs: the start-up timeline rests on the pod status alone. Take the snapshot again with this version of kubectl-mesh_egress, which stores them.',
    );
    // with the data, the same pod is a proven race
    expect((await runCli(['race-check', '--snapshot', full])).code).toBe(79);
  });
});

describe('output', () => {
  it('-o yaml is the same document; colour only when asked', async () => {
    const s = SCENARIOS.find((x) => x.name === 'seed001')!;
    const file = path.join(dir, 'seed.tar.gz');
    await writeScenarioSnapshot(s, file);
    const yaml = await runCli(['race-check', '--snapshot', file, '-o', 'yaml']);
    expect(yaml.code).toBe(79);
    expect(yaml.stdout).toMatch(/^apiVersion: mesh-egress\/v1\n/);
    expect(yaml.stdout).toContain('kind: RaceCheck');
    const plain = await runCli(['race-check', '--snapshot', file]);
    expect(plain.stdout).not.toContain('\u001b[');
    const colour = await runCli(['race-check', '--snapshot', file, '--color', 'always']);
    expect(colour.stdout).toContain('\u001b[31mRACED\u001b[0m');
    const noColor = await runCli(['race-check', '--snapshot', file], { isTTY: true, env: { NO_COLOR: '1' } });
    expect(noColor.stdout).not.toContain('\u001b[');
  });

  it('help names the verb as users type it', async () => {
    const r = await runCli(['race-check', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('kubectl mesh-egress race-check TARGET');
    expect((await runCli(['--help'])).stdout).toContain('race-check');
  });
});
