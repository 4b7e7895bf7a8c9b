/**
 * log-level against the e2e server's Envoy admin emulators (real logger state): printing the
 * levels, a change that --for ends, names checked before anything is touched, and the egress preset
 * on a proxy whose logger list lacks one of its loggers.
 */
import YAML from 'yaml';
import { describe, expect, it } from 'vitest';
import { ENVOY_LOGGERS } from '../server/index.js';
import { changeRequests, golden, levels, onlyWith, runCli, serveWorld, VERSIONS, withoutLoggers } from './fixture.js';

describe.each(VERSIONS)('log-level with kubectl %s', (version) => {
  // kubectl 1.27 (SPDY exec) and the newest (websocket); what does not depend on the transport runs once
  const itOnce = onlyWith(version, VERSIONS.at(-1)!);
  // replica 2's proxy lists no conn_handler (another Envoy build): the preset must say so
  const fx = serveWorld(version, (served) => ({ canary: true, sidecars: (i) => (i === 2 ? { handlers: { '/logging': withoutLoggers(() => served.srv.cluster().envoy(served.world.keys[2]!)!, ['conn_handler']) } } : {}) }));


  it('without levels prints every logger per pod (pods as columns) and changes nothing', async () => {
    fx.srv.clearRequests();
    const table = await runCli(['log-level', 'deploy/checkout', '-n', 'shop'], fx.env);
    expect(table.stderr).toMatch(/skipping shop\/checkout-debug: no istio-proxy sidecar\nskipping shop\/checkout-pending: the pod is Pending\n/);
    expect(table.code).toBe(0);
    golden('show.txt', table.stdout);
    // the emulator's state, as the table shows it: one column per pod in name order
    const lines = table.stdout.split('\n');
    const header = lines[0]!.split(/\s+/);
    expect(header).toEqual(['LOGGER', ...[...fx.world.pods].sort()]);
    const upstream = lines.find((l) => l.startsWith('upstream '))!.split(/\s+/).slice(1);
    expect(upstream).toEqual([...fx.world.keys].sort().map((k) => fx.srv.cluster().envoy(k)!.loggers().upstream));

    const json = await runCli(['log-level', 'deploy/checkout', '-n', 'shop', '-o', 'json'], fx.env);
    expect(json.code).toBe(0);
    golden('show.json', json.stdout);
    const doc = JSON.parse(json.stdout) as { kind: string; mode: string; pods: { name: string; loggers: Record<string, string> }[]; findings: { code: string }[] };
    expect(doc.kind).toBe('LogLevel');
    for (const p of doc.pods) {
      const state = fx.srv.cluster().envoy(`shop/${p.name}`)!.loggers();
      if (`shop/${p.name}` === fx.world.keys[2]) delete state.conn_handler; // that proxy does not list it
      expect(p.loggers).toEqual(state);
    }
    expect(doc.findings.map((f) => f.code)).toEqual(['MEG062', 'MEG062']);
    // reading is POST /logging without a query (GET answers 405); nothing else was sent
    for (const k of fx.world.keys) {
      expect(changeRequests(fx.srv, k)).toEqual([]);
      expect(fx.srv.cluster().envoy(k)!.requests.filter((q) => q.path === '/logging').map((q) => [q.method, q.via])).toEqual([['POST', 'pilot-agent'], ['POST', 'pilot-agent']]);
    }
    expect(fx.srv.requests.filter((q) => q.mutating)).toEqual([]);
    expect(levels(fx.srv, fx.world.keys)).toEqual(fx.start());
  });

  itOnce('one pod: a LOGGER / LEVEL table; -o yaml; a pod without sidecar is an error (69)', async () => {
    const r = await runCli(['log-level', fx.world.pods[1]!, '-n', 'shop'], fx.env);
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n')[0]).toMatch(/^LOGGER\s+LEVEL$/);
    expect(r.stdout).toMatch(/\nmisc\s+warning\n/);
    expect(r.stdout.split('\n').length).toBe(ENVOY_LOGGERS.length + 2);
    const none = await runCli(['log-level', fx.world.noSidecar, '-n', 'shop', 'upstream=debug'], fx.env);
    expect(none).toEqual({ code: 69, stdout: '', stderr: 'skipping shop/checkout-debug: no istio-proxy sidecar\nerror: shop/checkout-debug: no istio-proxy sidecar, so there is no proxy whose loggers to change\n' });
    const yaml = await runCli(['log-level', fx.world.pods[1]!, '-n', 'shop', '-o', 'yaml'], fx.env);
    expect(YAML.parse(yaml.stdout)).toEqual({ apiVersion: 'mesh-egress/v1', kind: 'LogLevel', mode: 'show', context: 'prod', target: fx.world.pods[1], pods: [{ namespace: 'shop', name: fx.world.pods[1], via: 'exec', loggers: fx.srv.cluster().envoy(fx.world.keys[1]!)!.loggers() }], skipped: [], findings: [] });
  });

  itOnce('-A: a selector in every namespace, or alone every injected sidecar', async () => {
    const r = await runCli(['log-level', '-A', '-l', 'app=checkout', '-o', 'json'], fx.env);
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout) as { pods: { namespace: string; name: string }[]; skipped: { name: string }[] };
    // by namespace, then name
    expect(doc.pods.map((p) => `${p.namespace}/${p.name}`)).toEqual([...[...fx.world.keys].sort(), 'shop-canary/checkout-canary']);
    expect(doc.skipped.map((p) => p.name)).toEqual(['checkout-debug', 'checkout-pending']);
    // pods of two namespaces: the columns say which
    const table = await runCli(['log-level', '-A'], fx.env);
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout.split('\n')[0]!.split(/\s+/)).toEqual(['LOGGER', ...[...fx.world.keys].sort(), 'shop-canary/checkout-canary']);
    // the sidecar-less pod carries no injection label: -A alone never lists it
    expect(table.stderr).toBe('skipping shop/checkout-pending: the pod is Pending\n');
  });

  it('a change is applied to every pod, then --for expires and exactly the previous levels come back', async () => {
    fx.srv.cluster().envoy(fx.world.keys[0]!)!.requests.length = 0;
    const during: Record<string, Record<string, string>>[] = [];
    const run = runCli(['log-level', '-l', 'app=checkout', 'upstream=debug', 'router=debug', 'misc=debug', '--for', '1500ms', '-o', 'json'], fx.env);
    // while the change lasts, the emulators show it
    const t0 = Date.now();
    while (Date.now() - t0 < 15_000) {
      const now = levels(fx.srv, fx.world.keys);
      if (fx.world.keys.every((k) => now[k]!.upstream === 'debug')) {
        during.push(now);
        break;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    const r = await run;
    expect(r.code, r.stderr).toBe(0);
    expect(during).toHaveLength(1);
    for (const k of fx.world.keys) expect([during[0]![k]!.upstream, during[0]![k]!.router, during[0]![k]!.misc]).toEqual(['debug', 'debug', 'debug']);
    // back to each pod's own previous levels (not Istio's defaults: replica 0 had upstream=info)
    expect(levels(fx.srv, fx.world.keys)).toEqual(fx.start());
    expect(r.stderr).toMatch(/--for 1500ms expired: restoring/);
    golden('change-for.json', r.stdout);
    const doc = JSON.parse(r.stdout) as { ended: string; pods: { outcome: string; changes: Record<string, { from: string; to: string }> }[] };
    expect(doc.ended).toBe('expired');
    expect(doc.pods.map((p) => p.outcome)).toEqual(['restored', 'restored', 'restored']);
    // one request to change, one to restore, each with only the loggers that changed
    expect(changeRequests(fx.srv, fx.world.keys[0]!)).toEqual(['/logging?paths=misc:debug,router:debug,upstream:debug', '/logging?paths=misc:error,router:error,upstream:info']);
  });

  itOnce('table output of a change', async () => {
    const r = await runCli(['log-level', 'deploy/checkout', 'debug', 'admin=info', '--for', '200ms'], fx.env);
    expect(r.code, r.stderr).toBe(0);
    expect(levels(fx.srv, fx.world.keys)).toEqual(fx.start());
    golden('change-for.txt', r.stdout);
  });

  itOnce('an unknown logger is refused before any pod is touched, listing the valid names', async () => {
    const before = fx.world.keys.map((k) => changeRequests(fx.srv, k).length);
    const r = await runCli(['log-level', 'deploy/checkout', 'upstrem=debug', '--for', '1s'], fx.env);
    expect(r.code).toBe(64);
    expect(r.stderr).toMatch(/^error: unknown logger "upstrem": not in the logger list of the 3 selected proxies; nothing was changed\. Did you mean upstream\? Valid loggers: admin, alternate_protocols_cache, /m);
    expect(r.stdout).toBe('');
    expect(fx.world.keys.map((k) => changeRequests(fx.srv, k).length)).toEqual(before);
    // a name only some proxies list is refused too, naming them
    const partial = await runCli(['log-level', 'deploy/checkout', 'conn_handler=debug'], fx.env);
    expect(partial.code).toBe(64);
    expect(partial.stderr).toContain(`not in the logger list of ${fx.world.keys[2]} (other selected proxies have it)`);
    expect(fx.world.keys.map((k) => changeRequests(fx.srv, k).length)).toEqual(before);
    // levels are Envoy's seven; checked before kubectl runs at all
    fx.srv.clearRequests();
    const level = await runCli(['log-level', 'deploy/checkout', 'upstream=warn'], fx.env);
    expect(level.code).toBe(64);
    expect(level.stderr).toContain('unknown level "warn" for logger upstream (did you mean warning?)');
    expect(fx.srv.requests).toEqual([]);
    expect(levels(fx.srv, fx.world.keys)).toEqual(fx.start());
  });

  itOnce('--preset egress: the six loggers at debug; a proxy lacking one gets the others and a MEG061 warning', async () => {
    const r = await runCli(['log-level', 'deploy/checkout', '--preset', 'egress', '--for', '200ms', '-o', 'json'], fx.env);
    expect(r.code, r.stderr).toBe(0);
    expect(levels(fx.srv, fx.world.keys)).toEqual(fx.start());
    golden('preset-missing.json', r.stdout);
    const doc = JSON.parse(r.stdout) as { pods: { name: string; changes: Record<string, unknown> }[]; findings: { code: string; message: string }[] };
    const third = doc.pods.find((p) => `shop/${p.name}` === fx.world.keys[2])!;
    expect(Object.keys(third.changes).sort()).toEqual(['connection', 'filter', 'pool', 'router', 'upstream']);
    expect(doc.findings.find((f) => f.code === 'MEG061')?.message).toContain(`conn_handler not in the logger list of ${fx.world.keys[2]}`);
  });
});
