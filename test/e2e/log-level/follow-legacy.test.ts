/**
 * --follow streams the istio-proxy logs of the changed pods, prefixed by pod, and stops them at
 * the restore. A proxy whose Envoy predates `paths=` (before 1.22: 404 with usage text, which
 * pilot-agent prints as a success) gets one request per logger, checked against its answer.
 */
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../server/index.js';
import { cacheDir, changeRequests, checkoutWorld, cliEnv, legacyLogging, levels, startCli, startLevels, VERSIONS, type World } from './fixture.js';

describe.each(VERSIONS)('--follow and an old Envoy, kubectl %s', (version) => {
  let srv: TestServer;
  let world: World;
  let cache: string;
  beforeAll(async () => {
    // replica 0 runs an Envoy without `paths=`
    world = checkoutWorld({ extraPods: false, sidecars: (i) => (i === 0 ? { handlers: { '/logging': legacyLogging(() => srv.cluster().envoy(world.keys[0]!)!) } } : {}) });
    srv = await startTestServer({ clusters: { prod: world.cluster } });
    cache = cacheDir();
  });
  afterAll(async () => {
    await srv.stop();
    fs.rmSync(cache, { recursive: true, force: true });
  });

  it('streams each pod\'s proxy log with its name while the change lasts; restores all, the old Envoy one logger at a time', async () => {
    const followers = (): number => (srv.cluster() as unknown as { followers: Set<unknown> }).followers.size;
    const c = startCli(['log-level', 'deploy/checkout', '-n', 'shop', 'upstream=debug', 'pool=debug', '--follow'], cliEnv(srv, version, cache));
    await c.waitForErr(/restoring on Ctrl-C or SIGTERM\.\n/);
    // kubectl logs -f has connected for every pod
    for (let t = Date.now(); followers() < 3 && Date.now() - t < 15_000; ) await new Promise((r) => setTimeout(r, 50));
    expect(followers()).toBe(3);
    world.keys.forEach((k, i) => srv.cluster().appendLog(k, 'istio-proxy', `2026-01-05T08:00:0${i}.000000Z\tdebug\tenvoy upstream\tno healthy host for connection pool ${i}\n`));
    for (let t = Date.now(); (c.out().match(/no healthy host/g) ?? []).length < 3 && Date.now() - t < 15_000; ) await new Promise((r) => setTimeout(r, 50));
    c.signal('SIGINT');
    const code = await c.done;
    expect(code, c.err()).toBe(0);
    world.pods.forEach((p, i) => expect(c.out()).toContain(`[${p}] 2026-01-05T08:00:0${i}.000000Z\tdebug\tenvoy upstream\tno healthy host for connection pool ${i}\n`));
    // the log streams ended with the change
    expect(followers()).toBe(0);
    expect(levels(srv, world.keys)).toEqual(Object.fromEntries(world.keys.map((k, i) => [k, startLevels(i)])));
    // the old Envoy: paths= refused (404, usage text), then one request per logger, each way
    expect(changeRequests(srv, world.keys[0]!).slice(-5)).toEqual(['/logging?paths=pool:debug,upstream:debug', '/logging?pool=debug', '/logging?upstream=debug', '/logging?pool=trace', '/logging?upstream=info']);
    expect(changeRequests(srv, world.keys[1]!).slice(-2)).toEqual(['/logging?paths=pool:debug,upstream:debug', '/logging?paths=pool:warning,upstream:warning']);
  });
});
