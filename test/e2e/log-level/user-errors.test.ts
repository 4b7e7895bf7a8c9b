/**
 * User errors that need the cluster: each is one line on stderr, exit 69 (the cluster or the local
 * cache is not as needed), no stack trace, and no proxy changed.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { changeRequests, levels, runCli, serveWorld, VERSIONS } from './fixture.js';

describe('log-level user errors', () => {
  const fx = serveWorld(VERSIONS.at(-1)!, { extraPods: false });
  const untouched = (): void => {
    expect(levels(fx.srv, fx.world.keys)).toEqual(fx.start());
    for (const k of fx.world.keys) expect(changeRequests(fx.srv, k)).toEqual([]);
  };

  it.each([
    [['deploy/nope', '-n', 'shop', 'upstream=debug'], 'error: deployments/nope not found in namespace shop: check the name, or pass -n NAMESPACE\n'],
    [['checkout-0', '-n', 'shop', 'upstream=debug'], 'error: pod checkout-0 not found in namespace shop: check the name, or pass -n NAMESPACE\n'],
    [['-l', 'app=nothing', '-n', 'shop', 'upstream=debug'], /^error: no pod matches .*app=nothing.* in namespace shop\n$/],
  ])('%j: one line, exit 69, nothing changed', async (args, expected) => {
    const r = await runCli(['log-level', ...args], fx.env);
    expect(r.code).toBe(69);
    expect(r.stdout).toBe('');
    if (typeof expected === 'string') expect(r.stderr).toBe(expected);
    else expect(r.stderr).toMatch(expected);
    untouched();
  });

  it('RBAC forbids listing pods: what to ask for, exit 69', async () => {
    fx.srv.cluster().denyRules.push({ verb: 'list', resource: 'pods' });
    try {
      const r = await runCli(['log-level', '-l', 'app=checkout', '-n', 'shop', 'upstream=debug'], fx.env);
      expect(r.code).toBe(69);
      expect(r.stderr.split('\n').filter(Boolean)).toHaveLength(1);
      expect(r.stderr).toMatch(/^error: .*ask your cluster admin for "list" on pods/);
      untouched();
    } finally {
      fx.srv.cluster().denyRules.length = 0;
    }
  });

  it('--detach with a cache directory it cannot write: refused before any change', async () => {
    // a file where the cache directory should be: mkdir fails whoever runs the test (root included)
    const blocked = path.join(fx.cache, 'blocked');
    fs.writeFileSync(blocked, '');
    const r = await runCli(['log-level', 'deploy/checkout', '-n', 'shop', 'upstream=debug', '--detach'], { ...fx.env, XDG_CACHE_HOME: blocked });
    expect(r.code).toBe(69);
    expect(r.stderr).toMatch(/^error: cannot write the lease a detached change needs \(.*\); nothing was changed: make the cache directory writable \(XDG_CACHE_HOME\)\n$/m);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    untouched();
  });

  it('an unreadable lease file is a warning, not a failure', async () => {
    const dir = path.join(fx.cache, 'mesh-egress', 'leases');
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'broken.json'), '{ not json');
    try {
      const r = await runCli(['log-level', fx.world.pods[0]!, '-n', 'shop', '-o', 'json'], fx.env);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toMatch(new RegExp(`^warning: ignoring lease file ${dir}/broken.json: .*JSON`, 'm'));
    } finally {
      fs.rmSync(path.join(dir, 'broken.json'));
    }
  });
});
