/**
 * A proxy with fine-grain logging: every change re-levels the loggers it does not name (back to the
 * default level), so log-level must notice what else moved and set that back too. The restore
 * leaves every logger exactly where it was; the emulator's own state says so.
 */
import { describe, expect, it } from 'vitest';
import { readLeases } from '../../../src/collect/leases.js';
import { fineGrainLogging, runCli, serveWorld, VERSIONS } from './fixture.js';

const FILES = ['source/common/router/router.cc', 'source/common/upstream/upstream_impl.cc', 'source/common/network/connection_impl.cc', 'source/common/http/conn_manager_impl.cc'];

describe('fine-grain logging', () => {
  // router.cc was set to debug earlier (one verbosity update); the rest at the default, info
  const fine = fineGrainLogging(FILES, 'info', { 'source/common/router/router.cc': 'debug' });
  const fx = serveWorld(VERSIONS.at(-1)!, { extraPods: false, sidecars: (i) => (i === 0 ? { handlers: { '/logging': fine.handler } } : {}) });

  it('a change that re-levels unnamed loggers: they are reported and restored with the others', async () => {
    const before = fine.levels();
    const upstream = 'source/common/upstream/upstream_impl.cc';
    const router = 'source/common/router/router.cc';
    const during: Record<string, string>[] = [];
    const run = runCli(['log-level', fx.world.pods[0]!, '-n', 'shop', `${upstream}=trace`, '--for', '1500ms', '-o', 'json'], fx.env);
    const t0 = Date.now();
    while (Date.now() - t0 < 15_000 && during.length === 0) {
      if (fine.levels()[upstream] === 'trace') during.push(fine.levels());
      else await new Promise((r) => setTimeout(r, 50));
    }
    const r = await run;
    expect(r.code, r.stderr).toBe(0);
    // Envoy's own behaviour during the change: the unnamed router.cc fell back to the default
    expect(during[0]).toEqual({ ...before, [upstream]: 'trace', [router]: 'info' });
    expect(r.stderr).toContain(`shop/${fx.world.pods[0]}: the change also moved ${router}=info (a proxy with fine-grain logging resets the loggers a change does not name); they are restored with the others`);
    const doc = JSON.parse(r.stdout) as { pods: { outcome: string; changes: Record<string, { from: string; to: string }> }[] };
    expect(doc.pods).toHaveLength(1);
    expect(doc.pods[0]!.outcome).toBe('restored');
    expect(doc.pods[0]!.changes).toEqual({ [router]: { from: 'debug', to: 'info' }, [upstream]: { from: 'info', to: 'trace' } });
    // every logger back where it was, router.cc included
    expect(fine.levels()).toEqual(before);
    expect(readLeases({ XDG_CACHE_HOME: fx.cache }).leases).toEqual([]);
  });
});
