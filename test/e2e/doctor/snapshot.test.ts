/**
 * The doctor collector of `snapshot`: an archive taken by the real verb from the test server holds
 * what doctor's checks need (NetworkPolicies, namespaces, pods, EndpointSlices, workloads), so
 * `doctor --snapshot` on it gives the offline golden's diagnosis — and the collection is read-only.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tar from 'tar';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../../helpers/cli.js';
import { doctorScenarios } from '../../doctor/scenarios.js';
import { kubectlVersions, startTestServer } from '../server/index.js';
import { cliEnv, comparable, scenarioServer } from './fixture.js';

const NEWEST = kubectlVersions().at(-1) ?? '1.33';
const OFFLINE = path.resolve(import.meta.dirname, '../../doctor/expected');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'meg-doctor-snap-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('snapshot → doctor --snapshot', () => {
  it.each([
    ['seed003', 'gateway-subset-no-pods'],
    ['payments', 'policy-blocks-destination'],
  ])('%s/%s: the snapshot verb stores what doctor needs', async (name, caseName) => {
    const s = doctorScenarios().find((x) => x.name === name)!;
    const c = s.cases.find((x) => x.name === caseName)!;
    const srv = await startTestServer(scenarioServer(s));
    const file = path.join(tmp, `${name}.tar.gz`);
    try {
      const [ns, pod] = c.pod.split('/') as [string, string];
      const snap = await runCli(['snapshot', `pod/${pod}`, '-n', ns, '-f', file], { env: cliEnv(srv.kubectlEnv(), NEWEST) });
      expect(snap.code, snap.stderr).toBe(0);
      expect(srv.requests.filter((q) => q.mutating && q.action !== 'exec' && q.action !== 'portforward')).toEqual([]);
    } finally {
      await srv.stop();
    }
    const names: string[] = [];
    await tar.t({ file, onReadEntry: (e) => void names.push(e.path) });
    for (const f of ['networkpolicies', 'namespaces', 'pods', 'endpointslices', 'workloads']) expect(names).toContain(`snapshot/cluster/doctor/${f}.json`);
    // trimmed: no container env in the stored pods
    const dir = path.join(tmp, name);
    fs.mkdirSync(dir);
    await tar.x({ file, cwd: dir });
    const pods = JSON.parse(fs.readFileSync(path.join(dir, 'snapshot/cluster/doctor/pods.json'), 'utf8')) as { items: { spec: { containers: Record<string, unknown>[] } }[] };
    expect(pods.items.length).toBeGreaterThan(3);
    for (const p of pods.items) for (const ctr of p.spec.containers) expect(Object.keys(ctr).filter((k) => !['name', 'image', 'ports'].includes(k))).toEqual([]);
    expect(JSON.stringify(pods)).not.toMatch(/"env"|"volumeMounts"|"args"/);
    const r = await runCli(['doctor', '--snapshot', file, c.dest, ...(c.args ?? []), '-o', 'json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(c.exit);
    const offline = JSON.parse(fs.readFileSync(path.join(OFFLINE, `${name}.${caseName}.json`), 'utf8')) as Record<string, unknown>;
    expect(comparable(JSON.parse(r.stdout) as Record<string, unknown>)).toEqual(comparable(offline));
  });
});
