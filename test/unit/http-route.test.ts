import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  clusterNotFoundStatus,
  hcmHost,
  re2FullMatch,
  redirectStatus,
  selectRoute,
  selectVirtualHost,
  type HttpRequest,
} from '../../src/envoy/http-route.js';
import type { HeaderMatcher, QueryParameterMatcher, Route, RouteConfiguration, RouteMatch, VirtualHost } from '../../src/model/envoy-types.js';

// ---- builders -----------------------------------------------------------------------------

function rc(vhosts: { name: string; domains: string[] }[], extra: Partial<RouteConfiguration> = {}): RouteConfiguration {
  return { name: 'rc', virtual_hosts: vhosts.map((v) => ({ name: v.name, domains: v.domains, routes: [] })), ...extra };
}

function vhostFor(config: RouteConfiguration, host: string): string | undefined {
  return selectVirtualHost(config, host).vhost?.name;
}

function req(path: string, extra: Partial<HttpRequest> = {}): HttpRequest {
  return { host: 'svc.test', path, method: 'GET', scheme: 'http', headers: {}, tlsPresented: false, ...extra };
}

function vhost(...routes: Route[]): VirtualHost {
  return { name: 'vh', domains: ['*'], routes };
}

function route(name: string, match: RouteMatch): Route {
  return { name, match, route: { cluster: name } };
}

/** Does a single route with this match accept the request? */
function matches(match: RouteMatch, r: HttpRequest): boolean {
  return selectRoute(vhost(route('r', match)), r).route !== undefined;
}

function headerRoute(h: HeaderMatcher, r: HttpRequest): boolean {
  return matches({ prefix: '/', headers: [h] }, r);
}

function queryRoute(q: QueryParameterMatcher, path: string): boolean {
  return matches({ prefix: '/', query_parameters: [q] }, req(path));
}

// ---- virtual hosts --------------------------------------------------------------------------

describe('selectVirtualHost', () => {
  it('exact domain match, case-insensitive on both sides', () => {
    const c = rc([
      { name: 'foo', domains: ['Foo.Example.COM'] },
      { name: 'default', domains: ['*'] },
    ]);
    expect(vhostFor(c, 'foo.example.com')).toBe('foo');
    expect(vhostFor(c, 'FOO.EXAMPLE.COM')).toBe('foo');
    expect(selectVirtualHost(c, 'foo.example.com').how).toBe('exact');
  });

  it('exact beats a default listed first', () => {
    const c = rc([
      { name: 'default', domains: ['*'] },
      { name: 'foo', domains: ['foo.test'] },
    ]);
    expect(vhostFor(c, 'foo.test')).toBe('foo');
    expect(vhostFor(c, 'bar.test')).toBe('default');
    expect(selectVirtualHost(c, 'bar.test').how).toBe('default');
  });

  it('exact beats a wildcard listed first', () => {
    const c = rc([
      { name: 'wild', domains: ['*.test'] },
      { name: 'foo', domains: ['foo.test'] },
    ]);
    expect(vhostFor(c, 'foo.test')).toBe('foo');
  });

  it('the port is part of the Host: "h:port" needs its own domain entry (Istio lists both)', () => {
    const c = rc([{ name: 'foo', domains: ['foo.test'] }]);
    expect(vhostFor(c, 'foo.test:8080')).toBeUndefined();
    const istio = rc([{ name: 'foo', domains: ['foo.test', 'foo.test:8080'] }]);
    expect(vhostFor(istio, 'foo.test:8080')).toBe('foo');
    expect(vhostFor(istio, 'foo.test:9090')).toBeUndefined();
  });

  it('suffix wildcards: the longest first', () => {
    const c = rc([
      { name: 'com', domains: ['*.com'] },
      { name: 'example', domains: ['*.example.com'] },
      { name: 'ample', domains: ['*ample.com'] },
    ]);
    expect(vhostFor(c, 'www.example.com')).toBe('example');
    expect(vhostFor(c, 'a.b.example.com')).toBe('example');
    // "*.example.com" needs at least one character before ".example.com"
    expect(vhostFor(c, 'example.com')).toBe('ample');
    expect(vhostFor(c, 'sample.com')).toBe('ample');
    expect(vhostFor(c, 'foo.com')).toBe('com');
    expect(selectVirtualHost(c, 'foo.com').how).toBe('suffix');
  });

  it('a wildcard may be any text and must cover at least one character', () => {
    const c = rc([
      { name: 'bar', domains: ['*-bar.baz.com'] },
      { name: 'foo', domains: ['*.foo.com'] },
      { name: 'pre', domains: ['api.*'] },
    ]);
    expect(vhostFor(c, 'foo-bar.baz.com')).toBe('bar');
    expect(vhostFor(c, '-bar.baz.com')).toBeUndefined();
    expect(vhostFor(c, '.foo.com')).toBeUndefined();
    expect(vhostFor(c, 'x.foo.com')).toBe('foo');
    expect(vhostFor(c, 'api.')).toBeUndefined();
    expect(vhostFor(c, 'api.x')).toBe('pre');
  });

  it('prefix wildcards: the longest first', () => {
    const c = rc([
      { name: 'foo', domains: ['foo.*'] },
      { name: 'foobar', domains: ['foo.bar.*'] },
    ]);
    expect(vhostFor(c, 'foo.bar.baz')).toBe('foobar');
    expect(vhostFor(c, 'foo.baz')).toBe('foo');
    expect(selectVirtualHost(c, 'foo.baz').how).toBe('prefix');
  });

  it('every suffix wildcard is tried before any prefix wildcard, whatever the lengths', () => {
    const c = rc([
      { name: 'prefix-long', domains: ['api.example.*'] },
      { name: 'suffix-short', domains: ['*.com'] },
    ]);
    expect(vhostFor(c, 'api.example.com')).toBe('suffix-short');
    expect(vhostFor(c, 'api.example.org')).toBe('prefix-long');
  });

  it('"*" is the last resort', () => {
    const c = rc([
      { name: 'default', domains: ['*'] },
      { name: 'pre', domains: ['x.*'] },
    ]);
    expect(vhostFor(c, 'x.y')).toBe('pre');
    expect(vhostFor(c, 'y.x')).toBe('default');
  });

  it('no match and no "*": no virtual host', () => {
    const r = selectVirtualHost(rc([{ name: 'a', domains: ['a.test'] }]), 'b.test');
    expect(r.vhost).toBeUndefined();
    expect(r.how).toBe('none');
  });

  describe('ignore_port_in_host_matching', () => {
    const c = rc(
      [
        { name: 'foo', domains: ['foo.test'] },
        { name: 'v6', domains: ['[::1]'] },
        { name: 'v6-port', domains: ['[2001:db8::1]:80'] },
      ],
      { ignore_port_in_host_matching: true },
    );

    it('strips the port of a name or an IPv4 host', () => {
      expect(vhostFor(c, 'foo.test:8080')).toBe('foo');
      expect(vhostFor(c, 'FOO.test:80')).toBe('foo');
    });

    it('respects IPv6 brackets', () => {
      expect(vhostFor(c, '[::1]:80')).toBe('v6');
      expect(vhostFor(c, '[::1]')).toBe('v6');
      // the port is gone, so the entry with a port no longer matches
      expect(vhostFor(c, '[2001:db8::1]:80')).toBeUndefined();
    });

    it('without the flag, "[::1]:80" does not match "[::1]"', () => {
      const plain = rc([{ name: 'v6', domains: ['[::1]'] }]);
      expect(vhostFor(plain, '[::1]:80')).toBeUndefined();
      expect(vhostFor(plain, '[::1]')).toBe('v6');
    });

    it('strips an empty or non-numeric port too (getPortStart does not look at the digits)', () => {
      // HeaderUtility::getPortStart returns the last ':' outside brackets; findVirtualHost takes
      // host.substr(0, port_start) without checking that a number follows. RFC 3986 allows "host:".
      expect(vhostFor(c, 'foo.test:')).toBe('foo');
      expect(vhostFor(c, 'foo.test:http')).toBe('foo');
    });
  });
});

describe('property: selectVirtualHost agrees with a model of RouteMatcher::findVirtualHost', () => {
  /** Envoy's maps: exact, suffix and prefix wildcards keyed by length (longest first), default. */
  function envoyFind(vhosts: readonly { domains: string[] }[], rawHost: string): number | undefined {
    const exact = new Map<string, number>();
    const suffixes = new Map<number, Map<string, number>>();
    const prefixes = new Map<number, Map<string, number>>();
    let dflt: number | undefined;
    vhosts.forEach((v, i) => {
      for (const d0 of v.domains) {
        const d = d0.toLowerCase();
        if (d === '*') dflt = i;
        else if (d.startsWith('*')) {
          const m = suffixes.get(d.length - 1) ?? new Map<string, number>();
          m.set(d.slice(1), i);
          suffixes.set(d.length - 1, m);
        } else if (d.endsWith('*')) {
          const m = prefixes.get(d.length - 1) ?? new Map<string, number>();
          m.set(d.slice(0, -1), i);
          prefixes.set(d.length - 1, m);
        } else exact.set(d, i);
      }
    });
    const host = rawHost.toLowerCase();
    if (exact.has(host)) return exact.get(host);
    for (const len of [...suffixes.keys()].sort((a, b) => b - a)) {
      if (len >= host.length) continue;
      const hit = suffixes.get(len)!.get(host.slice(host.length - len));
      if (hit !== undefined) return hit;
    }
    for (const len of [...prefixes.keys()].sort((a, b) => b - a)) {
      if (len >= host.length) continue;
      const hit = prefixes.get(len)!.get(host.slice(0, len));
      if (hit !== undefined) return hit;
    }
    return dflt;
  }

  const domain = fc.constantFrom('a.b', 'x.a.b', 'A.B', 'ab', '*.b', '*a.b', '*.a.b', '*b', '*B', 'a.*', 'x.*', 'x.a.*', 'ab*', '*');
  const host = fc.constantFrom('a.b', 'x.a.b', 'y.a.b', '.a.b', 'a.c', 'x.y', 'X.A.B', 'ab', 'b', 'a.', 'x.', 'aab', 'ab.b');
  const vhosts = fc.array(fc.record({ domains: fc.uniqueArray(domain, { minLength: 1, maxLength: 3 }) }), { minLength: 1, maxLength: 4 });

  it('random domains and hosts', () => {
    fc.assert(
      fc.property(vhosts, host, (vs, h) => {
        // Envoy rejects a route configuration that lists a domain (case-insensitively) twice
        const all = vs.flatMap((v) => v.domains.map((d) => d.toLowerCase()));
        fc.pre(new Set(all).size === all.length);
        const config: RouteConfiguration = { virtual_hosts: vs.map((v, i) => ({ name: `v${i}`, domains: v.domains })) };
        const got = selectVirtualHost(config, h);
        const want = envoyFind(vs, h);
        expect(got.vhost === undefined ? undefined : got.index).toBe(want);
      }),
      { numRuns: 1000 },
    );
  });
});

// ---- host port stripping ------------------------------------------------------------------

describe('hcmHost', () => {
  it('strip_any_host_port removes any numeric port, brackets respected', () => {
    const hcm = { strip_any_host_port: true };
    expect(hcmHost(hcm, 'foo.test:8080', 80)).toBe('foo.test');
    expect(hcmHost(hcm, '10.0.0.1:80', 80)).toBe('10.0.0.1');
    expect(hcmHost(hcm, '[::1]:80', 80)).toBe('[::1]');
    expect(hcmHost(hcm, '[::1]', 80)).toBe('[::1]');
    expect(hcmHost(hcm, 'foo.test', 80)).toBe('foo.test');
  });

  it('a non-numeric port is left alone (SimpleAtoi fails)', () => {
    expect(hcmHost({ strip_any_host_port: true }, 'foo.test:http', 80)).toBe('foo.test:http');
    expect(hcmHost({ strip_any_host_port: true }, 'foo.test:', 80)).toBe('foo.test:');
  });

  it('strip_matching_host_port removes the port only when it equals the local (original destination) port', () => {
    const hcm = { strip_matching_host_port: true };
    expect(hcmHost(hcm, 'foo.test:80', 80)).toBe('foo.test');
    expect(hcmHost(hcm, 'foo.test:8080', 80)).toBe('foo.test:8080');
    expect(hcmHost(hcm, '[2001:db8::1]:443', 443)).toBe('[2001:db8::1]');
    expect(hcmHost(hcm, '[2001:db8::1]:443', 8443)).toBe('[2001:db8::1]:443');
  });

  it('without either option the Host is unchanged', () => {
    expect(hcmHost({}, 'foo.test:80', 80)).toBe('foo.test:80');
  });
});

// ---- routes -------------------------------------------------------------------------------

describe('selectRoute: path matchers', () => {
  it('prefix is a plain StartsWith', () => {
    expect(matches({ prefix: '/api' }, req('/api/v1'))).toBe(true);
    expect(matches({ prefix: '/api' }, req('/apix'))).toBe(true);
    expect(matches({ prefix: '/api' }, req('/ap'))).toBe(false);
    expect(matches({ prefix: '/' }, req('/anything?x=1'))).toBe(true);
  });

  it('path is equality on the path without ?query and #fragment', () => {
    expect(matches({ path: '/a' }, req('/a'))).toBe(true);
    expect(matches({ path: '/a' }, req('/a?x=1'))).toBe(true);
    expect(matches({ path: '/a' }, req('/a#frag'))).toBe(true);
    expect(matches({ path: '/a' }, req('/a/'))).toBe(false);
    expect(matches({ path: '/a' }, req('/ab'))).toBe(false);
  });

  it('prefix sees the path without the query (current Envoy)', () => {
    expect(matches({ prefix: '/a?b' }, req('/a?b=1'))).toBe(false);
  });

  it('path_separated_prefix: the prefix itself, or followed by "/"', () => {
    const m = { path_separated_prefix: '/api' };
    expect(matches(m, req('/api'))).toBe(true);
    expect(matches(m, req('/api/x'))).toBe(true);
    expect(matches(m, req('/api?x=1'))).toBe(true);
    expect(matches(m, req('/api#f'))).toBe(true);
    expect(matches(m, req('/apix'))).toBe(false);
    expect(matches(m, req('/ap'))).toBe(false);
  });

  it('safe_regex is a full match on the path without the query', () => {
    const m = { safe_regex: { regex: '/v[0-9]+' } };
    expect(matches(m, req('/v12'))).toBe(true);
    expect(matches(m, req('/v12?x=y'))).toBe(true);
    expect(matches(m, req('/v12/x'))).toBe(false);
    expect(matches(m, req('/x/v1'))).toBe(false);
    expect(matches({ safe_regex: { regex: '/a|/b' } }, req('/ab'))).toBe(false);
    expect(matches({ safe_regex: { regex: '/a|/b' } }, req('/b'))).toBe(true);
  });

  it('case_sensitive: false applies to prefix, path and path_separated_prefix, not to safe_regex', () => {
    expect(matches({ prefix: '/API', case_sensitive: false }, req('/api/x'))).toBe(true);
    expect(matches({ prefix: '/API' }, req('/api/x'))).toBe(false);
    expect(matches({ path: '/Foo', case_sensitive: false }, req('/fOO'))).toBe(true);
    expect(matches({ path: '/Foo', case_sensitive: true }, req('/foo'))).toBe(false);
    expect(matches({ path_separated_prefix: '/API', case_sensitive: false }, req('/api/x'))).toBe(true);
    expect(matches({ safe_regex: { regex: '/api' }, case_sensitive: false }, req('/API'))).toBe(false);
    expect(matches({ safe_regex: { regex: '(?i)/api' } }, req('/API'))).toBe(true);
  });

  it('the first matching route wins, not the most specific one', () => {
    const vh = vhost(route('broad', { prefix: '/a' }), route('narrow', { prefix: '/a/b' }), route('other', { prefix: '/' }));
    const r = selectRoute(vh, req('/a/b/c'));
    expect(r.route?.name).toBe('broad');
    expect(r.index).toBe(0);
    expect(selectRoute(vh, req('/z')).route?.name).toBe('other');
  });

  it('no matching route: undefined, index -1', () => {
    const r = selectRoute(vhost(route('a', { prefix: '/a' })), req('/b'));
    expect(r.route).toBeUndefined();
    expect(r.index).toBe(-1);
  });
});

describe('selectRoute: headers (HeaderUtility::matchHeaders)', () => {
  const withHeader = (v: string): HttpRequest => req('/', { headers: { 'x-env': v } });
  const without = req('/');

  it('exact_match: equal value matches; other value, or missing header, does not', () => {
    const h = { name: 'x-env', exact_match: 'prod' };
    expect(headerRoute(h, withHeader('prod'))).toBe(true);
    expect(headerRoute(h, withHeader('dev'))).toBe(false);
    expect(headerRoute(h, without)).toBe(false);
  });

  it('invert_match flips the result when the header is present', () => {
    const h = { name: 'x-env', exact_match: 'prod', invert_match: true };
    expect(headerRoute(h, withHeader('dev'))).toBe(true);
    expect(headerRoute(h, withHeader('prod'))).toBe(false);
  });

  it('a missing header fails a value matcher even when inverted', () => {
    expect(headerRoute({ name: 'x-env', exact_match: 'prod', invert_match: true }, without)).toBe(false);
    expect(headerRoute({ name: 'x-env', prefix_match: 'p', invert_match: true }, without)).toBe(false);
    expect(headerRoute({ name: 'x-env', safe_regex_match: { regex: '.*' }, invert_match: true }, without)).toBe(false);
  });

  it('an empty exact_match matches any value of a present header', () => {
    expect(headerRoute({ name: 'x-env', exact_match: '' }, withHeader('anything'))).toBe(true);
    expect(headerRoute({ name: 'x-env', exact_match: '' }, without)).toBe(false);
  });

  it('present_match: true / false, plain and inverted', () => {
    expect(headerRoute({ name: 'x-env', present_match: true }, withHeader('a'))).toBe(true);
    expect(headerRoute({ name: 'x-env', present_match: true }, without)).toBe(false);
    expect(headerRoute({ name: 'x-env', present_match: true, invert_match: true }, without)).toBe(true);
    expect(headerRoute({ name: 'x-env', present_match: true, invert_match: true }, withHeader('a'))).toBe(false);
    expect(headerRoute({ name: 'x-env', present_match: false }, without)).toBe(true);
    expect(headerRoute({ name: 'x-env', present_match: false }, withHeader('a'))).toBe(false);
    expect(headerRoute({ name: 'x-env', present_match: false, invert_match: true }, without)).toBe(false);
  });

  it('a matcher with only a name is a presence check', () => {
    expect(headerRoute({ name: 'x-env' }, withHeader(''))).toBe(true);
    expect(headerRoute({ name: 'x-env' }, without)).toBe(false);
    expect(headerRoute({ name: 'x-env', invert_match: true }, without)).toBe(true);
  });

  it('treat_missing_header_as_empty evaluates a missing header as ""', () => {
    expect(headerRoute({ name: 'x-env', exact_match: '', treat_missing_header_as_empty: true }, without)).toBe(true);
    expect(headerRoute({ name: 'x-env', exact_match: 'prod', treat_missing_header_as_empty: true }, without)).toBe(false);
    expect(headerRoute({ name: 'x-env', exact_match: 'prod', treat_missing_header_as_empty: true, invert_match: true }, without)).toBe(true);
    expect(headerRoute({ name: 'x-env', safe_regex_match: { regex: 'a*' }, treat_missing_header_as_empty: true }, without)).toBe(true);
    expect(headerRoute({ name: 'x-env', string_match: { prefix: 'x' }, treat_missing_header_as_empty: true, invert_match: true }, without)).toBe(true);
  });

  it('value matchers: safe_regex (full), range, prefix, suffix, contains, string_match', () => {
    expect(headerRoute({ name: 'x-env', safe_regex_match: { regex: 'pr.d' } }, withHeader('prod'))).toBe(true);
    expect(headerRoute({ name: 'x-env', safe_regex_match: { regex: 'pr' } }, withHeader('prod'))).toBe(false);
    expect(headerRoute({ name: 'x-env', range_match: { start: 1, end: 10 } }, withHeader('5'))).toBe(true);
    expect(headerRoute({ name: 'x-env', range_match: { start: 1, end: 10 } }, withHeader('10'))).toBe(false);
    expect(headerRoute({ name: 'x-env', range_match: { start: '-10', end: '0' } }, withHeader('-10'))).toBe(true);
    expect(headerRoute({ name: 'x-env', range_match: { start: 1, end: 10 } }, withHeader('abc'))).toBe(false);
    expect(headerRoute({ name: 'x-env', prefix_match: 'pr' }, withHeader('prod'))).toBe(true);
    expect(headerRoute({ name: 'x-env', suffix_match: 'od' }, withHeader('prod'))).toBe(true);
    expect(headerRoute({ name: 'x-env', contains_match: 'ro' }, withHeader('prod'))).toBe(true);
    expect(headerRoute({ name: 'x-env', contains_match: 'x' }, withHeader('prod'))).toBe(false);
    expect(headerRoute({ name: 'x-env', string_match: { exact: 'PROD', ignore_case: true } }, withHeader('prod'))).toBe(true);
    expect(headerRoute({ name: 'x-env', string_match: { exact: 'PROD' } }, withHeader('prod'))).toBe(false);
  });

  it('header matching is case-sensitive on values by default', () => {
    expect(headerRoute({ name: 'x-env', exact_match: 'Prod' }, withHeader('prod'))).toBe(false);
  });

  it(':method and other pseudo-headers come from the request', () => {
    const post = { name: ':method', exact_match: 'POST' };
    expect(headerRoute(post, req('/', { method: 'POST' }))).toBe(true);
    expect(headerRoute(post, req('/', { method: 'GET' }))).toBe(false);
    expect(headerRoute({ name: ':authority', exact_match: 'svc.test' }, req('/'))).toBe(true);
    expect(headerRoute({ name: ':path', prefix_match: '/x' }, req('/x/y'))).toBe(true);
    expect(headerRoute({ name: ':scheme', exact_match: 'https' }, req('/', { scheme: 'https' }))).toBe(true);
  });

  it('all header matchers must hold (AND)', () => {
    const m: RouteMatch = { prefix: '/', headers: [{ name: 'x-env', exact_match: 'prod' }, { name: ':method', exact_match: 'POST' }] };
    expect(matches(m, req('/', { method: 'POST', headers: { 'x-env': 'prod' } }))).toBe(true);
    expect(matches(m, req('/', { method: 'GET', headers: { 'x-env': 'prod' } }))).toBe(false);
    expect(matches(m, req('/', { method: 'POST', headers: { 'x-env': 'dev' } }))).toBe(false);
  });

  it('a route whose headers fail lets a later route match', () => {
    const vh = vhost(route('canary', { prefix: '/', headers: [{ name: 'x-canary', present_match: true }] }), route('stable', { prefix: '/' }));
    expect(selectRoute(vh, req('/', { headers: { 'x-canary': '1' } })).route?.name).toBe('canary');
    expect(selectRoute(vh, req('/')).route?.name).toBe('stable');
  });
});

describe('selectRoute: query_parameters', () => {
  it('only the first value of a repeated parameter is checked', () => {
    expect(queryRoute({ name: 'a', string_match: { exact: '1' } }, '/p?a=1&a=2')).toBe(true);
    expect(queryRoute({ name: 'a', string_match: { exact: '2' } }, '/p?a=1&a=2')).toBe(false);
  });

  it('a missing parameter fails a value matcher', () => {
    expect(queryRoute({ name: 'a', string_match: { exact: '1' } }, '/p?b=1')).toBe(false);
    expect(queryRoute({ name: 'a', string_match: { exact: '1' } }, '/p')).toBe(false);
  });

  it('present_match', () => {
    expect(queryRoute({ name: 'a', present_match: true }, '/p?a')).toBe(true);
    expect(queryRoute({ name: 'a', present_match: true }, '/p?a=')).toBe(true);
    expect(queryRoute({ name: 'a', present_match: true }, '/p?b=1')).toBe(false);
    expect(queryRoute({ name: 'a', present_match: false }, '/p?b=1')).toBe(true);
    expect(queryRoute({ name: 'a', present_match: false }, '/p?a=1')).toBe(false);
  });

  it('names are matched exactly and values are not decoded', () => {
    expect(queryRoute({ name: 'a', present_match: true }, '/p?A=1')).toBe(false);
    expect(queryRoute({ name: 'q', string_match: { exact: 'a%20b' } }, '/p?q=a%20b')).toBe(true);
    expect(queryRoute({ name: 'q', string_match: { exact: 'a b' } }, '/p?q=a%20b')).toBe(false);
  });

  it('string_match kinds and the v2 value/regex form', () => {
    expect(queryRoute({ name: 'v', string_match: { prefix: 'ab' } }, '/p?v=abc')).toBe(true);
    expect(queryRoute({ name: 'v', string_match: { safe_regex: { regex: 'a.c' } } }, '/p?v=abc')).toBe(true);
    expect(queryRoute({ name: 'v', string_match: { safe_regex: { regex: 'a' } } }, '/p?v=abc')).toBe(false);
    expect(queryRoute({ name: 'v', value: 'abc' }, '/p?v=abc')).toBe(true);
    expect(queryRoute({ name: 'v', value: 'a.*', regex: true }, '/p?v=abc')).toBe(true);
  });
});

// ---- enums and regex ----------------------------------------------------------------------

describe('response code enums', () => {
  it.each([
    [undefined, 301],
    ['MOVED_PERMANENTLY', 301],
    [0, 301],
    ['FOUND', 302],
    [1, 302],
    ['SEE_OTHER', 303],
    [2, 303],
    ['TEMPORARY_REDIRECT', 307],
    [3, 307],
    ['PERMANENT_REDIRECT', 308],
    [4, 308],
  ] as const)('redirect response_code %s -> %i', (code, status) => {
    expect(redirectStatus(code)).toBe(status);
  });

  it.each([
    [undefined, 503],
    ['SERVICE_UNAVAILABLE', 503],
    [0, 503],
    ['NOT_FOUND', 404],
    [1, 404],
    ['INTERNAL_SERVER_ERROR', 500],
    [2, 500],
  ] as const)('cluster_not_found_response_code %s -> %i', (code, status) => {
    expect(clusterNotFoundStatus(code)).toBe(status);
  });
});

describe('re2FullMatch', () => {
  it('is a full match, alternation included', () => {
    expect(re2FullMatch('abc', 'abc')).toEqual({ ok: true, matched: true });
    expect(re2FullMatch('abc', 'xabc')).toEqual({ ok: true, matched: false });
    expect(re2FullMatch('abc', 'abcx')).toEqual({ ok: true, matched: false });
    expect(re2FullMatch('a|b', 'ab')).toEqual({ ok: true, matched: false });
    expect(re2FullMatch('a|bc', 'bc')).toEqual({ ok: true, matched: true });
  });

  it('(?i) makes it case-insensitive', () => {
    expect(re2FullMatch('(?i)abc', 'ABC')).toEqual({ ok: true, matched: true });
    expect(re2FullMatch('abc', 'ABC')).toEqual({ ok: true, matched: false });
    expect(re2FullMatch('(?i)[a-z]+\\.example\\.com', 'WWW.Example.COM')).toEqual({ ok: true, matched: true });
  });

  it('\\A and \\z anchors', () => {
    expect(re2FullMatch('\\Aab\\z', 'ab').matched).toBe(true);
  });

  it('syntax it cannot evaluate is reported, not guessed', () => {
    expect(re2FullMatch('(', 'x').ok).toBe(false);
  });

  it('a route whose regex cannot be evaluated does not match and leaves a caveat', () => {
    const r = selectRoute(vhost(route('bad', { safe_regex: { regex: '(' } }), route('next', { prefix: '/' })), req('/x'));
    expect(r.route?.name).toBe('next');
    expect(r.caveats.length).toBeGreaterThan(0);
  });
});
