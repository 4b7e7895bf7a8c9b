/**
 * Interrupting a change. The built CLI (the bundle `npm run build` writes to dist/, built here from
 * the current sources by the same function; MESH_EGRESS_BIN=path tests another node-launched
 * build) gets real SIGINT and SIGTERM while the change lasts, a terminal's Ctrl-C (SIGINT to its
 * whole process group, kubectl port-forwards included), and SIGKILL (its lease is what is left).
 * In-process, the test's own signals hit the restore itself (a second one says what is being
 * restored, a third stops waiting and leaves a lease that --restore finishes), and port-forwards
 * killed under a running change make the restore reopen them.
 */
import { execFileSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { readLeases } from '../../../src/collect/leases.js';
import { builtCli } from '../../helpers/cli-process.js';
import { changeRequests, cliEnv, levels, runCli, serveWorld, spawnBuilt, startCli, VERSIONS } from './fixture.js';

const bin = builtCli('meg-loglevel-bin-');

/** True while the restore requests (POST logging?… a second time) are held back by the server. */
let slowRestoreMs = 0;

const fx = serveWorld(undefined, () => {
  const seen = new Map<string, number>();
  return {
    extraPods: false,
    overrides: {
      exec: [
        {
          container: 'istio-proxy',
          command: (argv) => argv[0] === 'pilot-agent' && argv.some((a) => a.startsWith('logging?')),
          handler: async (c) => {
            const key = `${c.namespace}/${c.pod.metadata.name}`;
            const n = (seen.get(key) ?? 0) + 1;
            seen.set(key, n);
            if (n % 2 === 0 && slowRestoreMs > 0) await new Promise((r) => setTimeout(r, slowRestoreMs));
            return undefined; // then pilot-agent itself
          },
        },
      ],
    },
  };
});

const childEnv = (version: string): Record<string, string> => {
  const env = cliEnv(fx.srv, version, fx.cache);
  delete env.NODE_OPTIONS; // vitest's own must not reach the child
  return env;
};

describe.each(VERSIONS)('the built CLI, kubectl %s', (version) => {
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    it(`${sig} while the change lasts restores every pod's previous levels, then exits 0`, async () => {
      const before = fx.world.keys.map((k) => changeRequests(fx.srv, k).length);
      const c = spawnBuilt(bin.bundle, ['log-level', 'deploy/checkout', '-n', 'shop', 'upstream=debug', 'pool=debug', 'admin=error'], childEnv(version));
      await c.waitForErr(/restoring on Ctrl-C or SIGTERM\.\n/);
      const during = levels(fx.srv, fx.world.keys);
      for (const k of fx.world.keys) expect([during[k]!.upstream, during[k]!.pool, during[k]!.admin]).toEqual(['debug', 'debug', 'error']);
      c.child.kill(sig);
      const exit = await c.exit;
      expect({ exit, stderr: c.err() }).toMatchObject({ exit: { code: 0, signal: null } });
      expect(c.err()).toContain(`${sig}: restoring the previous levels on 3 pod(s)`);
      expect(c.err()).toContain('Restored 3 pod(s).');
      expect(c.out()).toContain(sig === 'SIGINT' ? 'then restored on SIGINT (Ctrl-C).' : 'then restored on SIGTERM.');
      expect(levels(fx.srv, fx.world.keys)).toEqual(fx.start());
      expect(fx.world.keys.map((k, i) => changeRequests(fx.srv, k).length - before[i]!)).toEqual([2, 2, 2]);
    });
  }
});

describe('Ctrl-C in a terminal (SIGINT to the whole process group), kubectl 1.27', () => {
  it('reaches the kubectl port-forwards too: every pod is still restored', async () => {
    const version = VERSIONS[0]!;
    fx.srv.cluster().denyRules.push({ verb: 'create', resource: 'pods', subresource: 'exec' });
    try {
      const c = spawnBuilt(bin.bundle, ['log-level', 'deploy/checkout', '-n', 'shop', 'rbac=debug'], childEnv(version), { group: true });
      await c.waitForErr(/restoring on Ctrl-C or SIGTERM\.\n/);
      expect(c.err()).toContain('RBAC forbids exec (create pods/exec in shop): using port-forward');
      const forwards = fx.srv.requests.filter((q) => q.action === 'portforward' && q.status === 101).length;
      process.kill(-c.child.pid!, 'SIGINT');
      const exit = await c.exit;
      expect({ code: exit.code, stderr: c.err() }).toMatchObject({ code: 0 });
      expect(levels(fx.srv, fx.world.keys)).toEqual(fx.start());
      expect(c.err()).toContain('Restored 3 pod(s).');
      expect(readLeases({ XDG_CACHE_HOME: fx.cache }).leases).toEqual([]);
      // (whether a port-forward outlived the signal long enough to carry its restore is a race;
      // the in-process test below kills them first and proves the restore reopens)
      expect(fx.srv.requests.filter((q) => q.action === 'portforward' && q.status === 101).length).toBeGreaterThanOrEqual(forwards);
    } finally {
      fx.srv.cluster().denyRules.length = 0;
    }
  });
});

describe('port-forwards that died during the change (in-process, kubectl newest)', () => {
  it('the restore opens new ones', async () => {
    const version = VERSIONS.at(-1)!;
    fx.srv.cluster().denyRules.push({ verb: 'create', resource: 'pods', subresource: 'exec' });
    try {
      const c = startCli(['log-level', 'deploy/checkout', '-n', 'shop', 'lua=trace'], cliEnv(fx.srv, version, fx.cache));
      await c.waitForErr(/restoring on Ctrl-C or SIGTERM\.\n/);
      const forwards = fx.srv.requests.filter((q) => q.action === 'portforward' && q.status === 101).length;
      // this process's kubectl port-forward children, as a terminal's Ctrl-C would end them
      const ps = execFileSync('ps', ['-o', 'pid=,args=', '--ppid', String(process.pid)], { encoding: 'utf8' });
      const pids = ps.split('\n').filter((l) => / port-forward -n shop pod\/checkout-/.test(l)).map((l) => Number(l.trim().split(/\s+/)[0]));
      expect(pids).toHaveLength(3);
      for (const pid of pids) process.kill(pid, 'SIGKILL');
      c.signal('SIGINT');
      expect(await c.done, c.err()).toBe(0);
      expect(levels(fx.srv, fx.world.keys)).toEqual(fx.start());
      expect(fx.srv.requests.filter((q) => q.action === 'portforward' && q.status === 101).length).toBeGreaterThanOrEqual(forwards + 3);
    } finally {
      fx.srv.cluster().denyRules.length = 0;
    }
  });
});

describe('a run killed before it can restore (SIGKILL), kubectl newest', () => {
  it('leaves its lease: the next run warns (MEG064) and --restore sets the levels back', async () => {
    const version = VERSIONS.at(-1)!;
    const c = spawnBuilt(bin.bundle, ['log-level', 'deploy/checkout', '-n', 'shop', 'filter=trace', '--for', '10m'], childEnv(version));
    await c.waitForErr(/restoring in 10m \(--for\) or on Ctrl-C\.\n/);
    c.child.kill('SIGKILL');
    expect((await c.exit).signal).toBe('SIGKILL');
    for (const k of fx.world.keys) expect(fx.srv.cluster().envoy(k)!.loggers().filter).toBe('trace');
    const [held] = readLeases({ XDG_CACHE_HOME: fx.cache }).leases;
    expect(held!.lease).toMatchObject({ reason: 'active', owner: { pid: c.child.pid } });
    const show = await runCli(['log-level', fx.world.pods[0]!, '-n', 'shop', '-o', 'json'], cliEnv(fx.srv, version, fx.cache));
    const finding = (JSON.parse(show.stdout) as { findings: { code: string; message: string }[] }).findings[0]!;
    expect(finding.code).toBe('MEG064');
    expect(finding.message).toContain(`the log-level run that made the change (pid ${c.child.pid}) ended without restoring them`);
    const r = await runCli(['log-level', '--restore'], cliEnv(fx.srv, version, fx.cache));
    expect(r.code, r.stderr).toBe(0);
    expect(levels(fx.srv, fx.world.keys)).toEqual(fx.start());
    expect(readLeases({ XDG_CACHE_HOME: fx.cache }).leases).toEqual([]);
  });
});

describe('signals during the restore (in-process, kubectl newest)', () => {
  const version = VERSIONS.at(-1)!;
  afterAll(() => {
    slowRestoreMs = 0;
  });

  it('a second SIGINT says what is still being restored and does not stop it', async () => {
    slowRestoreMs = 1500;
    const c = startCli(['log-level', 'deploy/checkout', '-n', 'shop', 'upstream=trace'], cliEnv(fx.srv, version, fx.cache));
    await c.waitForErr(/restoring on Ctrl-C or SIGTERM\.\n/);
    expect(c.subscribed()).toBe(1);
    c.signal('SIGINT');
    await new Promise((r) => setTimeout(r, 600));
    c.signal('SIGINT');
    expect(c.err()).toMatch(/SIGINT: still restoring shop\/checkout-[a-z0-9-]+ \(upstream=(warning|info)\); shop\/.*Stopping now would leave them changed; press Ctrl-C once more to stop waiting/);
    expect(c.err()).toContain(`(upstream=info)`); // replica 0's own previous level, not a default
    expect(await c.done).toBe(0);
    expect(c.subscribed()).toBe(0);
    expect(levels(fx.srv, fx.world.keys)).toEqual(fx.start());
  });

  it('a third signal stops waiting, records what is left in a lease, and --restore finishes it', async () => {
    slowRestoreMs = 3000;
    const c = startCli(['log-level', 'deploy/checkout', '-n', 'shop', 'router=debug', '-o', 'json'], cliEnv(fx.srv, version, fx.cache));
    await c.waitForErr(/restoring on Ctrl-C or SIGTERM\.\n/);
    c.signal('SIGTERM');
    await new Promise((r) => setTimeout(r, 600));
    c.signal('SIGTERM');
    c.signal('SIGTERM');
    expect(await c.done).toBe(69);
    expect(c.subscribed()).toBe(0);
    const doc = JSON.parse(c.out()) as { pods: { outcome: string }[]; findings: { code: string }[]; leases: { state: string }[] };
    expect(doc.pods.map((p) => p.outcome)).toEqual(['restore-failed', 'restore-failed', 'restore-failed']);
    expect(doc.findings.map((f) => f.code)).toEqual(['MEG060', 'MEG060', 'MEG060']);
    const leases = readLeases({ XDG_CACHE_HOME: fx.cache }).leases;
    expect(leases.map((l) => [l.lease.reason, l.lease.pods.length])).toEqual([['restore-abandoned', 3]]);
    // the held-back restores may still land, before or after: they set the same previous levels
    slowRestoreMs = 0;
    const r = await runCli(['log-level', '--restore'], cliEnv(fx.srv, version, fx.cache));
    expect(r.code, r.stderr).toBe(0);
    expect(levels(fx.srv, fx.world.keys)).toEqual(fx.start());
    expect(readLeases({ XDG_CACHE_HOME: fx.cache }).leases).toEqual([]);
  });
});
