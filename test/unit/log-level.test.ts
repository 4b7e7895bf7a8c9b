/**
 * log-level's pure parts: Envoy's /logging answers across versions, the fewest requests for a
 * change, argument parsing, per-pod plans, and argv → options (usage errors before any kubectl).
 */
import { describe, expect, it } from 'vitest';
import { checkLoggerNames, parseLevelArgs, planPod } from '../../src/analyze/log-level.js';
import { toLogLevelOptions } from '../../src/cli/commands/log-level.js';
import { changeRequests, parseLoggingAnswer } from '../../src/model/logging-text.js';
import { runCli } from '../helpers/cli.js';

const list = (entries: Record<string, string>): string => `active loggers:\n${Object.entries(entries).map(([n, l]) => `  ${n}: ${l}\n`).join('')}\n`;

describe('parseLoggingAnswer', () => {
  it('reads the list in registry order (Envoy 1.22+ answer to POST /logging)', () => {
    const a = parseLoggingAnswer(list({ admin: 'warning', misc: 'error', upstream: 'debug' }));
    expect([...a.loggers]).toEqual([['admin', 'warning'], ['misc', 'error'], ['upstream', 'debug']]);
    expect(a).toMatchObject({ listed: true, usage: false, error: undefined, pathsSupported: undefined });
  });
  it('a refused change (400): the error, the usage that lists paths=, the unchanged list', () => {
    const body = `error: unknown logger name\n\nusage: /logging?<name>=<level> (change single level)\nusage: /logging?paths=name1:level1,name2:level2,... (change multiple levels)\nusage: /logging?level=<level> (change all levels)\nlevels: trace debug info warning error critical off \n${list({ admin: 'warning' })}`;
    expect(parseLoggingAnswer(body)).toMatchObject({ error: 'unknown logger name', usage: true, pathsSupported: true, loggers: new Map([['admin', 'warning']]) });
  });
  it('Envoy before 1.22 (404, usage without paths=): paths unsupported', () => {
    const body = `usage: /logging?<name>=<level> (change single level)\nusage: /logging?level=<level> (change all levels)\nlevels: trace debug info warning error critical off \n${list({ admin: 'warning' })}`;
    expect(parseLoggingAnswer(body)).toMatchObject({ usage: true, pathsSupported: false, error: undefined });
  });
  it('fine-grain loggers: file paths as names, and the spdlog enum number older releases printed', () => {
    const a = parseLoggingAnswer('active loggers:\n  source/common/router/router.cc: 1\n  source/common/upstream/upstream_impl.cc: warning\n');
    expect([...a.loggers]).toEqual([['source/common/router/router.cc', 'debug'], ['source/common/upstream/upstream_impl.cc', 'warning']]);
  });
  it('no list at all', () => {
    expect(parseLoggingAnswer('invalid path. admin commands are: …')).toMatchObject({ listed: false, loggers: new Map() });
  });
});

describe('changeRequests: the fewest requests', () => {
  const current = new Map([['admin', 'warning'], ['misc', 'error'], ['upstream', 'warning']]);
  it('every logger ends at one level: level=L', () => {
    expect(changeRequests(current, new Map([['admin', 'debug'], ['misc', 'debug'], ['upstream', 'debug']]), true)).toEqual(['logging?level=debug']);
    // restoring to a uniform state too, when the others already are there
    const after = new Map([['admin', 'debug'], ['misc', 'warning'], ['upstream', 'debug']]);
    expect(changeRequests(after, new Map([['admin', 'warning'], ['upstream', 'warning']]), true)).toEqual(['logging?level=warning']);
  });
  it('mixed levels: one paths= request, levels may differ', () => {
    expect(changeRequests(current, new Map([['upstream', 'debug'], ['misc', 'trace']]), undefined)).toEqual(['logging?paths=upstream:debug,misc:trace']);
  });
  it('one logger: paths= as well (one request either way)', () => {
    expect(changeRequests(current, new Map([['upstream', 'debug']]), true)).toEqual(['logging?paths=upstream:debug']);
  });
  it('no paths=: one request per logger, or level= for the most common level when the change covers every logger', () => {
    expect(changeRequests(current, new Map([['upstream', 'debug'], ['misc', 'trace']]), false)).toEqual(['logging?upstream=debug', 'logging?misc=trace']);
    const all = new Map([['admin', 'debug'], ['misc', 'debug'], ['upstream', 'debug']]);
    const back = new Map([['admin', 'warning'], ['misc', 'error'], ['upstream', 'warning']]);
    expect(changeRequests(all, back, false)).toEqual(['logging?level=warning', 'logging?misc=error']);
  });
  it('nothing to change: no request', () => {
    expect(changeRequests(current, new Map(), true)).toEqual([]);
  });
});

describe('parseLevelArgs and planPod', () => {
  it('LOGGER=LEVEL, istioctl\'s LOGGER:LEVEL, a bare LEVEL', () => {
    expect(parseLevelArgs(['upstream=debug', 'router:trace', 'info'], undefined)).toEqual({ all: 'info', loggers: [['upstream', 'debug'], ['router', 'trace']] });
  });
  it.each([
    [['upstream=loud'], /unknown level "loud" for logger upstream: Envoy's levels are trace, debug, info, warning, error, critical, off/],
    [['warn'], /unknown level "warn" \(did you mean warning\?\)/],
    [['debug', 'info'], /two levels for every logger \(debug and info\)/],
    [['upstream=debug', 'upstream=info'], /logger upstream given twice/],
    [['=debug'], /missing logger name/],
  ])('refuses %j', (args, re) => {
    expect(() => parseLevelArgs(args, undefined)).toThrow(re);
  });
  it('a preset with a bare level is ambiguous', () => {
    expect(() => parseLevelArgs(['debug'], 'egress')).toThrow(/--preset egress sets chosen loggers; a bare level \(debug\)/);
  });
  it('plans only the loggers whose level changes, each with its previous level; explicit names win over the preset, which only turns loggers up', () => {
    const current = new Map([['admin', 'warning'], ['connection', 'trace'], ['upstream', 'info'], ['router', 'warning'], ['pool', 'warning'], ['filter', 'debug']]);
    const plan = planPod(parseLevelArgs(['router=trace'], 'egress'), current);
    expect([...plan.changes]).toEqual([
      ['upstream', { from: 'info', to: 'debug' }],
      ['router', { from: 'warning', to: 'trace' }],
      ['pool', { from: 'warning', to: 'debug' }],
    ]);
    // an explicit name is set exactly, even to a quieter level
    expect([...planPod(parseLevelArgs(['connection=info'], 'egress'), current).changes.keys()]).toEqual(['connection', 'upstream', 'router', 'pool']);
    expect(plan.missingPreset).toEqual(['conn_handler']);
  });
  it('checkLoggerNames: unknown on some proxies, with a suggestion', () => {
    const a = { pod: 'shop/a', loggers: new Map([['upstream', 'warning'], ['router', 'warning']]) };
    const b = { pod: 'shop/b', loggers: new Map([['router', 'warning']]) };
    expect(() => checkLoggerNames(parseLevelArgs(['upstream=debug'], undefined), [a, b])).toThrow('unknown logger "upstream": not in the logger list of shop/b (other selected proxies have it); nothing was changed. Valid loggers: router');
    expect(() => checkLoggerNames(parseLevelArgs(['routr=debug'], undefined), [a])).toThrow(/the proxy of shop\/a; nothing was changed\. Did you mean router\? Valid loggers: router, upstream/);
  });
});

describe('argv → options', () => {
  const base = { output: 'table', color: 'auto' };
  it('TARGET then levels; with -l or -A every argument is a level', () => {
    expect(toLogLevelOptions({ ...base, args: ['deploy/api', 'upstream=debug'] })).toMatchObject({ target: { kind: 'workload', resource: 'deployments', name: 'api' }, request: { loggers: [['upstream', 'debug']] } });
    expect(toLogLevelOptions({ ...base, args: ['debug'], selector: 'app=x', 'all-namespaces': true })).toMatchObject({ target: { kind: 'selector', selector: 'app=x' }, allNamespaces: true, request: { all: 'debug' }, targetText: '-l app=x -A' });
    expect(toLogLevelOptions({ ...base, args: [], 'all-namespaces': true })).toMatchObject({ target: { kind: 'selector', selector: 'security.istio.io/tlsMode' } });
    expect(toLogLevelOptions({ ...base, args: [], restore: true })).toMatchObject({ target: undefined, restore: true });
    expect(toLogLevelOptions({ ...base, args: ['api-0', 'pool=debug'], for: '90s', detach: true })).toMatchObject({ forMs: 90_000, detach: true });
  });
  it.each([
    [['log-level'], /missing TARGET: a pod name/],
    [['log-level', 'upstream=debug'], /missing TARGET before upstream=debug/],
    [['log-level', 'pod-a', 'upstream=debug', '--follow', '-o', 'json'], /--follow streams log lines to standard output, which -o json reserves/],
    [['log-level', 'pod-a', 'upstream=debug', '--follow', '--detach'], /--detach returns at once/],
    [['log-level', 'pod-a', '--detach'], /--detach needs a change: give LOGGER=LEVEL/],
    [['log-level', '--restore', 'pod-a', 'upstream=debug'], /--restore restores what a lease recorded; it takes no levels/],
    [['log-level', 'pod-a', '--for', '5m', '--follow'], /--for, --follow need a change/],
    [['log-level', 'pod-a', 'upstream=debug', '--for', '0'], /--for must be longer than 0/],
    [['log-level', 'pod-a', 'upstream=debug', '--for', 'soon'], /invalid --for "soon"/],
    [['log-level', 'pod-a', '--preset', 'ingress'], /Invalid values:.*preset/],
    [['log-level', 'pod-a', '-A'], /"pod-a" is neither LOGGER=LEVEL nor a level: with -A the selector chooses the pods, so give no TARGET/],
    [['log-level', 'deploy/x', '-l', 'app=x', 'upstream=debug'], /"deploy\/x" is neither LOGGER=LEVEL nor a level: with -l/],
  ])('%j is a usage error (exit 64, before any kubectl)', async (args, re) => {
    const r = await runCli(args, { env: { MESH_EGRESS_KUBECTL: '/nonexistent/kubectl' } });
    expect(r.code).toBe(64);
    expect(r.stderr).toMatch(re);
    expect(r.stderr).toContain("See 'kubectl mesh-egress log-level --help'.");
  });
});

describe('renderLogLevel (human output)', () => {
  const opts = { color: false, width: 100, wide: false };
  it('pods as columns, namespace/name when the pods span namespaces, "-" for a logger a proxy does not list', async () => {
    const { renderLogLevel } = await import('../../src/render/log-level.js');
    const text = renderLogLevel(
      {
        mode: 'show',
        context: 'prod',
        shown: [
          { namespace: 'a', name: 'api-1', via: 'exec', loggers: new Map([['admin', 'warning'], ['upstream', 'debug']]) },
          { namespace: 'b', name: 'api-2', via: 'port-forward', loggers: new Map([['admin', 'info']]) },
        ],
        skipped: [],
        findings: [],
      },
      opts,
    );
    expect(text).toBe('LOGGER    a/api-1  b/api-2\nadmin     warning  info\nupstream  debug    -\n');
  });
  it('a change: one row per (was → set to) group, the outcome once per pod', async () => {
    const { renderLogLevel } = await import('../../src/render/log-level.js');
    const text = renderLogLevel(
      {
        mode: 'change',
        context: 'prod',
        request: { loggers: [['upstream', 'debug'], ['router', 'debug']] },
        forText: '30s',
        pods: [
          { namespace: 'a', name: 'api-1', via: 'exec', outcome: 'restored', changes: new Map([['router', { from: 'warning', to: 'debug' as const }], ['upstream', { from: 'info', to: 'debug' as const }]]) },
          { namespace: 'a', name: 'api-2', via: 'exec', outcome: 'restore-failed', changes: new Map([['router', { from: 'warning', to: 'debug' as const }], ['upstream', { from: 'warning', to: 'debug' as const }]]) },
        ],
        ended: 'expired',
        skipped: [],
        findings: [],
      },
      opts,
    );
    expect(text).toBe(
      [
        'Set upstream=debug, router=debug on 2 pods in context prod, then restored after --for 30s expired; 1 NOT restored.',
        '',
        'POD    LOGGERS           WAS      SET TO  NOW',
        'api-1  router            warning  debug   restored',
        '       upstream          info     debug',
        'api-2  router, upstream  warning  debug   NOT RESTORED',
        '',
      ].join('\n'),
    );
  });
});

describe('setLoggers / readLoggers against a proxy whose answers can be lost', () => {
  /** An Envoy /logging with real state; `lose` drops the answer of those request numbers (1-based), as a websocket exec that exits 0 with no output. */
  function fakeAdmin(start: Record<string, string>, lose: ReadonlySet<number>, refuse = false) {
    const state = new Map(Object.entries(start));
    const sent: string[] = [];
    const admin = {
      via: 'exec' as const,
      bytes: 0,
      get: () => Promise.reject(new Error('GET not used')),
      download: () => Promise.reject(new Error('not used')),
      close: () => Promise.resolve(),
      post(path: string): Promise<string> {
        sent.push(path);
        const q = path.split('?')[1];
        if (q?.startsWith('paths=')) {
          if (refuse) return Promise.resolve(`error: unknown logger name\n\n${list(Object.fromEntries(state))}`);
          for (const pair of q.slice(6).split(',')) state.set(pair.split(':')[0]!, pair.split(':')[1]!);
        }
        return Promise.resolve(lose.has(sent.length) ? '' : list(Object.fromEntries(state)));
      },
    };
    return { admin, state, sent };
  }
  it('a change whose answer was lost is read back: applied is success, one extra list request', async () => {
    const { setLoggers } = await import('../../src/collect/envoy-logging.js');
    const f = fakeAdmin({ admin: 'warning', upstream: 'warning' }, new Set([1]));
    const r = await setLoggers(f.admin, new Map(f.state), new Map([['upstream', 'debug']]));
    expect(f.sent).toEqual(['logging?paths=upstream:debug', 'logging']);
    expect([...r.after]).toEqual([['admin', 'warning'], ['upstream', 'debug']]);
  });
  it('a refused change is not read back and fails with Envoy\'s words, nothing applied', async () => {
    const { setLoggers, LoggingChangeError } = await import('../../src/collect/envoy-logging.js');
    const f = fakeAdmin({ upstream: 'warning' }, new Set(), true);
    const e = await setLoggers(f.admin, new Map(f.state), new Map([['upstream', 'debug']])).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(LoggingChangeError);
    expect(e).toMatchObject({ message: 'upstream not set (the proxy answered "unknown logger name")', applied: 'no' });
    expect(f.sent).toEqual(['logging?paths=upstream:debug']);
  });
  it('a list whose answer was lost is asked once more; twice lost is an error', async () => {
    const { readLoggers } = await import('../../src/collect/envoy-logging.js');
    const once = fakeAdmin({ upstream: 'info' }, new Set([1]));
    expect([...(await readLoggers(once.admin))]).toEqual([['upstream', 'info']]);
    expect(once.sent).toEqual(['logging', 'logging']);
    const twice = fakeAdmin({ upstream: 'info' }, new Set([1, 2]));
    await expect(readLoggers(twice.admin)).rejects.toThrow(/no "active loggers:" list/);
  });
});
