/**
 * Failures mid-way. One of three proxies goes down when its change arrives: the two already
 * changed are restored, exit 69. A proxy that goes down before its restore: reported (MEG060),
 * recorded in a lease, restored by --restore once it is back. RBAC forbids exec: port-forward.
 */
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { readLeases } from '../../../src/collect/leases.js';
import { changeRequests, golden, levels, onlyWith, runCli, serveWorld, stable, VERSIONS } from './fixture.js';

/** Per pod: which admin change requests (1st, 2nd, …) find Envoy down. */
const downAt = new Map<string, Set<number>>();
const seen = new Map<string, number>();

describe.each(VERSIONS)('failures, kubectl %s', (version) => {
  const itOnce = onlyWith(version, VERSIONS.at(-1)!);
  const fx = serveWorld(version, (served) => ({
    extraPods: false,
    overrides: {
      exec: [
        {
          container: 'istio-proxy',
          command: (argv) => argv[0] === 'pilot-agent' && argv.some((a) => a.startsWith('logging?')),
          // Envoy stops listening just as this change reaches it (crash, restart): pilot-agent is refused
          handler: (c) => {
            const key = `${c.namespace}/${c.pod.metadata.name}`;
            const n = (seen.get(key) ?? 0) + 1;
            seen.set(key, n);
            if (downAt.get(key)?.has(n)) served.srv.cluster().envoy(key)!.down = true;
            return undefined;
          },
        },
      ],
    },
  }));
  const reset = (): void => {
    downAt.clear();
    seen.clear();
    for (const k of fx.world.keys) fx.srv.cluster().envoy(k)!.down = false;
  };

  it('one of three proxies fails its change: the two already changed are set back, exit 69', async () => {
    reset();
    const bad = fx.world.keys[1]!;
    downAt.set(bad, new Set([1]));
    const before = fx.world.keys.map((k) => changeRequests(fx.srv, k));
    const r = await runCli(['log-level', 'deploy/checkout', '-n', 'shop', 'upstream=debug', 'http=trace', '--for', '10m', '-o', 'json'], fx.env);
    expect(r.code, r.stderr).toBe(69);
    // --for 10m never ran: the failure ended the change at once
    expect(r.stderr).toContain(`${bad}: asking ${bad}'s proxy for logging: Error: Post "http://localhost:15000/logging?paths=http:trace,upstream:debug": dial tcp [::1]:15000: connect: connection refused`);
    golden('change-failed.json', r.stdout);
    const doc = JSON.parse(r.stdout) as { ended: string; pods: { name: string; outcome: string }[]; findings: { code: string; message: string }[] };
    expect(doc.ended).toBe('failure');
    expect(doc.pods.map((p) => [`shop/${p.name}`, p.outcome])).toEqual(fx.world.keys.map((k) => [k, k === bad ? 'change-failed' : 'restored']).sort());
    expect(doc.findings.map((f) => f.code)).toEqual(['MEG063']);
    expect(doc.findings[0]!.message).toContain('nothing of it was applied here; the 2 other pod(s) already changed were set back to their previous levels');
    // the others: changed, then restored; the failed one: never reached
    const after = fx.world.keys.map((k, i) => changeRequests(fx.srv, k).slice(before[i]!.length));
    fx.world.keys.forEach((k, i) => expect(after[i], k).toHaveLength(k === bad ? 0 : 2));
    fx.srv.cluster().envoy(bad)!.down = false;
    expect(levels(fx.srv, fx.world.keys)).toEqual(fx.start());
    expect(readLeases({ XDG_CACHE_HOME: fx.cache }).leases).toEqual([]);
  });

  itOnce('a proxy down at restore time: reported, recorded in a lease, restored by --restore once it is back', async () => {
    reset();
    const bad = fx.world.keys[2]!;
    downAt.set(bad, new Set([2]));
    const r = await runCli(['log-level', 'deploy/checkout', '-n', 'shop', 'router=trace', '--for', '200ms', '-o', 'json'], fx.env);
    expect(r.code, r.stderr).toBe(69);
    expect(r.stderr).toMatch(new RegExp(`NOT restored: ${bad} keeps router=trace \\(.*connection refused.*\\); recorded in ${fx.cache}/mesh-egress/leases/`));
    golden('restore-failed.json', stable(r.stdout, fx.cache));
    const doc = JSON.parse(r.stdout) as { pods: { name: string; outcome: string }[]; findings: { code: string; fixes: { content: string }[] }[] };
    expect(doc.pods.map((p) => [`shop/${p.name}`, p.outcome])).toEqual(fx.world.keys.map((k) => [k, k === bad ? 'restore-failed' : 'restored']).sort());
    expect(doc.findings[0]!.fixes.map((f) => f.content)).toEqual([
      'kubectl mesh-egress log-level --restore --context prod',
      `kubectl exec -n shop ${bad.slice(5)} -c istio-proxy -- pilot-agent request POST 'logging?paths=router:warning'`,
    ]);
    const leases = readLeases({ XDG_CACHE_HOME: fx.cache }).leases;
    expect(leases.map((l) => ({ reason: l.lease.reason, pods: l.lease.pods }))).toEqual([
      { reason: 'restore-failed', pods: [{ namespace: 'shop', name: bad.slice(5), uid: expect.any(String), previous: { router: 'warning' }, applied: { router: 'trace' } }] },
    ]);
    // nothing secret in a lease: names and levels only
    expect(fs.readFileSync(leases[0]!.file, 'utf8')).not.toMatch(/token|https:|kubeconfig|BEGIN/i);
    expect(fs.statSync(leases[0]!.file).mode & 0o777).toBe(0o600);
    // the lease is expired at once: a later run warns (MEG064)
    const show = await runCli(['log-level', fx.world.pods[0]!, '-n', 'shop', '-o', 'json'], fx.env);
    expect((JSON.parse(show.stdout) as { findings: { code: string; message: string }[] }).findings.map((f) => f.code)).toEqual(['MEG064']);
    // still down: --restore fails again and keeps the lease
    const again = await runCli(['log-level', '--restore'], fx.env);
    expect(again.code).toBe(69);
    expect(readLeases({ XDG_CACHE_HOME: fx.cache }).leases).toHaveLength(1);
    expect(fx.srv.cluster().envoy(bad)!.loggers().router).toBe('trace');
    // back up: --restore sets router back and deletes the lease
    fx.srv.cluster().envoy(bad)!.down = false;
    const fixed = await runCli(['log-level', '--restore', '-o', 'json'], fx.env);
    expect(fixed.code, fixed.stderr).toBe(0);
    expect((JSON.parse(fixed.stdout) as { leases: { state: string }[] }).leases.map((l) => l.state)).toEqual(['deleted']);
    expect(levels(fx.srv, fx.world.keys)).toEqual(fx.start());
    expect(readLeases({ XDG_CACHE_HOME: fx.cache }).leases).toEqual([]);
  });

  it('RBAC forbids exec: the change and the restore go through port-forward', async () => {
    reset();
    fx.srv.cluster().denyRules.push({ verb: 'create', resource: 'pods', subresource: 'exec' });
    try {
      for (const k of fx.world.keys) fx.srv.cluster().envoy(k)!.requests.length = 0;
      const r = await runCli(['log-level', '-l', 'app=checkout', '-n', 'shop', 'upstream=trace', 'conn_handler=debug', '--for', '200ms', '-o', 'json'], fx.env);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toContain('RBAC forbids exec (create pods/exec in shop): using port-forward');
      const doc = JSON.parse(r.stdout) as { pods: { via: string; outcome: string }[] };
      expect(doc.pods.map((p) => [p.via, p.outcome])).toEqual([['port-forward', 'restored'], ['port-forward', 'restored'], ['port-forward', 'restored']]);
      for (const k of fx.world.keys) {
        const changes = fx.srv.cluster().envoy(k)!.requests.filter((q) => q.path.startsWith('/logging?'));
        expect(changes.map((q) => [q.method, q.via])).toEqual([['POST', 'http'], ['POST', 'http']]);
      }
      expect(levels(fx.srv, fx.world.keys)).toEqual(fx.start());
      expect(fx.srv.requests.filter((q) => q.action === 'portforward' && q.status === 101).length).toBeGreaterThanOrEqual(3);
    } finally {
      fx.srv.cluster().denyRules.length = 0;
    }
  });

  itOnce('RBAC forbids exec and port-forward: nothing changes, exit 69 with what to ask for', async () => {
    reset();
    fx.srv.cluster().denyRules.push({ verb: 'create', resource: 'pods', subresource: 'exec' }, { verb: 'create', resource: 'pods', subresource: 'portforward' });
    try {
      const r = await runCli(['log-level', 'deploy/checkout', '-n', 'shop', 'upstream=debug'], fx.env);
      expect(r.code).toBe(69);
      expect(r.stderr).toMatch(/^error: could not read the loggers of any pod of deployments\/checkout: .*RBAC denied both exec and port-forward on shop\/checkout-.*ask for "create" on pods\/exec or pods\/portforward in namespace shop.*; nothing was changed\n$/m);
      expect(levels(fx.srv, fx.world.keys)).toEqual(fx.start());
    } finally {
      fx.srv.cluster().denyRules.length = 0;
    }
  });
});
