/**
 * --detach leaves the change and writes a lease; --restore [TARGET] sets exactly what a lease
 * recorded back and deletes it; later runs warn about expired leases (MEG064).
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readLeases } from '../../../src/collect/leases.js';
import { changeRequests, golden, levels, onlyWith, runCli, serveWorld, stable, startLevels, VERSIONS } from './fixture.js';

describe.each(VERSIONS)('leases, kubectl %s', (version) => {
  const itOnce = onlyWith(version, VERSIONS.at(-1)!);
  const fx = serveWorld(version, { extraPods: false });
  const leases = () => readLeases({ XDG_CACHE_HOME: fx.cache }).leases;

  it('--detach leaves the change and writes a lease; --restore sets exactly the recorded levels back and deletes it', async () => {
    const t0 = Date.now();
    const d1 = await runCli(['log-level', 'deploy/checkout', '-n', 'shop', 'upstream=debug', 'misc=trace', '--detach', '--for', '2h', '-o', 'json'], fx.env);
    expect(d1.code, d1.stderr).toBe(0);
    const doc = JSON.parse(d1.stdout) as { ended: string; pods: { outcome: string }[]; leases: { file: string; expiresAt: string }[] };
    expect(doc.ended).toBe('detached');
    expect(doc.pods.map((p) => p.outcome)).toEqual(['left', 'left', 'left']);
    // the change stays
    for (const k of fx.world.keys) expect([fx.srv.cluster().envoy(k)!.loggers().upstream, fx.srv.cluster().envoy(k)!.loggers().misc]).toEqual(['debug', 'trace']);
    const [l1] = leases();
    expect(l1!.file).toBe(doc.leases[0]!.file);
    expect(path.dirname(l1!.file)).toBe(path.join(fx.cache, 'mesh-egress', 'leases'));
    expect(l1!.lease).toMatchObject({ kind: 'LogLevelLease', context: 'prod', reason: 'detached', target: 'deploy/checkout', selection: { kind: 'workload', namespace: 'shop', resource: 'deployments', name: 'checkout' } });
    expect(Date.parse(l1!.lease.expiresAt) - Date.parse(l1!.lease.createdAt)).toBe(2 * 3_600_000);
    expect(Date.parse(l1!.lease.createdAt)).toBeGreaterThanOrEqual(t0 - 1000);
    // previous levels per pod, only the loggers changed
    expect(Object.fromEntries(l1!.lease.pods.map((p) => [`${p.namespace}/${p.name}`, p.previous]))).toEqual(
      Object.fromEntries(fx.world.keys.map((k, i) => [k, { misc: startLevels(i).misc, upstream: startLevels(i).upstream }])),
    );
    const before = fx.world.keys.map((k) => changeRequests(fx.srv, k).length);
    const r = await runCli(['log-level', '--restore'], fx.env);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^Restored 3 pods from 1 lease in context prod\.\n/);
    expect(fx.world.keys.map((k, i) => changeRequests(fx.srv, k).length - before[i]!)).toEqual([1, 1, 1]);
    expect(levels(fx.srv, fx.world.keys)).toEqual(fx.start());
    expect(leases()).toEqual([]);
  });

  itOnce('--restore TARGET restores only the leases that TARGET selected (or that hold that pod)', async () => {
    expect((await runCli(['log-level', 'deploy/checkout', '-n', 'shop', 'upstream=debug', '--detach'], fx.env)).code).toBe(0);
    const d2 = await runCli(['log-level', fx.world.pods[0]!, '-n', 'shop', 'router=trace', '--detach'], fx.env);
    expect(d2.code, d2.stderr).toBe(0);
    expect(d2.stdout).toMatch(/^Left router=trace on 1 pod in context prod; lease .*\.json expires .*\. Restore with: kubectl mesh-egress log-level --restore --context prod\n/);
    expect(leases()).toHaveLength(2);
    const r1 = await runCli(['log-level', '--restore', 'deploy/checkout', '-n', 'shop', '-o', 'json'], fx.env);
    expect(r1.code, r1.stderr).toBe(0);
    expect((JSON.parse(r1.stdout) as { leases: { state: string }[] }).leases.map((l) => l.state)).toEqual(['deleted']);
    const now = levels(fx.srv, fx.world.keys);
    fx.world.keys.forEach((k, i) => expect(now[k]).toEqual({ ...startLevels(i), ...(k === fx.world.keys[0] ? { router: 'trace' } : {}) }));
    expect(leases().map((l) => l.lease.target)).toEqual([fx.world.pods[0]]);
    const r2 = await runCli(['log-level', '--restore', fx.world.pods[0]!, '-n', 'shop'], fx.env);
    expect(r2.code, r2.stderr).toBe(0);
    expect(levels(fx.srv, fx.world.keys)).toEqual(fx.start());
    expect(leases()).toEqual([]);
  });

  itOnce('--restore says what happened since: a level changed again by someone else, a pod that is gone', async () => {
    const d = await runCli(['log-level', 'deploy/checkout', '-n', 'shop', 'pool=debug', '--detach'], fx.env);
    expect(d.code, d.stderr).toBe(0);
    // someone sets pool on replica 1 by hand; replica 2 is deleted
    fx.srv.cluster().envoy(fx.world.keys[1]!)!.handle('POST', '/logging?pool=info');
    const gone = fx.world.pods[2]!;
    const podObject = fx.srv.cluster().get('v1', 'Pod', 'shop', gone)!;
    fx.srv.cluster().delete('v1', 'Pod', 'shop', gone);
    try {
      const r = await runCli(['log-level', '--restore', '-o', 'json'], fx.env);
      expect(r.code, r.stderr).toBe(0);
      const doc = JSON.parse(r.stdout) as { pods: { name: string; outcome: string; drifted?: string[]; error?: string }[] };
      expect(doc.pods.map((p) => [p.name, p.outcome, p.drifted ?? null])).toEqual(
        [
          [fx.world.pods[0], 'restored', null],
          [fx.world.pods[1], 'restored', ['pool']],
          [gone, 'gone', null],
        ].sort((a, b) => String(a[0]).localeCompare(String(b[0]))),
      );
      expect(r.stderr).toContain('(pool had been changed again since)');
      expect(leases()).toEqual([]);
      // exactly the recorded previous levels, also over the later hand-made change
      expect(levels(fx.srv, fx.world.keys.slice(0, 2))).toEqual(Object.fromEntries(fx.world.keys.slice(0, 2).map((k, i) => [k, startLevels(i)])));
    } finally {
      fx.srv.cluster().apply(podObject);
      fx.srv.cluster().envoy(fx.world.keys[2]!)!.resetLoggers();
    }
  });

  itOnce('an expired lease is reported by later runs (MEG064) until it is restored', async () => {
    const dir = path.join(fx.cache, 'mesh-egress', 'leases');
    fs.mkdirSync(dir, { recursive: true });
    const file = path.join(dir, '20260104T080000Z-staging-a1b2c3.json');
    const pods = [{ namespace: 'shop', name: 'checkout-old-1', previous: { upstream: 'warning' }, applied: { upstream: 'debug' } }];
    fs.writeFileSync(file, JSON.stringify({ apiVersion: 'mesh-egress/v1', kind: 'LogLevelLease', context: 'staging', target: 'deploy/checkout', reason: 'detached', createdAt: '2026-01-04T08:00:00.000Z', expiresAt: '2026-01-04T09:00:00.000Z', pods }));
    const r = await runCli(['log-level', fx.world.pods[2]!, '-n', 'shop', '-o', 'json'], fx.env);
    expect(r.code, r.stderr).toBe(0);
    golden('expired-lease.json', stable(r.stdout, fx.cache));
    // a lease of another context: --restore here leaves it and says where it is
    const restore = await runCli(['log-level', '--restore'], fx.env);
    expect(restore.code).toBe(0);
    expect(restore.stderr).toBe('No lease to restore in context prod (1 lease(s) of other contexts: staging; pass --context).\n');
    expect(fs.existsSync(file)).toBe(true);
    fs.rmSync(file);
  });
});
