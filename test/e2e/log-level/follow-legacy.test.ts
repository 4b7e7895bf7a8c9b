/**
 * --follow streams the istio-proxy logs of the changed pods, prefixed by pod, and stops them at
 * the restore. A proxy whose Envoy predates `paths=` (before 1.22: 404 with usage text, which
 * pilot-agent prints as a success) gets one request per logger, checked against its answer.
 */
import { describe, expect, it } from 'vitest';
import { changeRequests, legacyLogging, levels, serveWorld, startCli, VERSIONS } from './fixture.js';

describe.each(VERSIONS)('--follow and an old Envoy, kubectl %s', (version) => {
  // replica 0 runs an Envoy without `paths=`
  const fx = serveWorld(version, (served) => ({ extraPods: false, sidecars: (i) => (i === 0 ? { handlers: { '/logging': legacyLogging(() => served.srv.cluster().envoy(served.world.keys[0]!)!) } } : {}) }));

  it('streams each pod\'s proxy log with its name while the change lasts; restores all, the old Envoy one logger at a time', async () => {
    const followers = (): number => (fx.srv.cluster() as unknown as { followers: Set<unknown> }).followers.size;
    const c = startCli(['log-level', 'deploy/checkout', '-n', 'shop', 'upstream=debug', 'pool=debug', '--follow'], fx.env);
    await c.waitForErr(/restoring on Ctrl-C or SIGTERM\.\n/);
    // kubectl logs -f has connected for every pod
    for (let t = Date.now(); followers() < 3 && Date.now() - t < 15_000; ) await new Promise((r) => setTimeout(r, 50));
    expect(followers()).toBe(3);
    fx.world.keys.forEach((k, i) => fx.srv.cluster().appendLog(k, 'istio-proxy', `2026-01-05T08:00:0${i}.000000Z\tdebug\tenvoy upstream\tno healthy host for connection pool ${i}\n`));
    for (let t = Date.now(); (c.out().match(/no healthy host/g) ?? []).length < 3 && Date.now() - t < 15_000; ) await new Promise((r) => setTimeout(r, 50));
    c.signal('SIGINT');
    const code = await c.done;
    expect(code, c.err()).toBe(0);
    fx.world.pods.forEach((p, i) => expect(c.out()).toContain(`[${p}] 2026-01-05T08:00:0${i}.000000Z\tdebug\tenvoy upstream\tno healthy host for connection pool ${i}\n`));
    // the log streams ended with the change
    expect(followers()).toBe(0);
    expect(levels(fx.srv, fx.world.keys)).toEqual(fx.start());
    // the old Envoy: paths= refused (404, usage text), then one request per logger, each way
    expect(changeRequests(fx.srv, fx.world.keys[0]!).slice(-5)).toEqual(['/logging?paths=pool:debug,upstream:debug', '/logging?pool=debug', '/logging?upstream=debug', '/logging?pool=trace', '/logging?upstream=info']);
    expect(changeRequests(fx.srv, fx.world.keys[1]!).slice(-2)).toEqual(['/logging?paths=pool:debug,upstream:debug', '/logging?paths=pool:warning,upstream:warning']);
  });
});
