/**
 * NetworkPolicy egress evaluation: the Kubernetes semantics case by case (policyTypes defaulting,
 * podSelector, peers, ipBlock except, ports, named ports, endPort, additivity), then properties
 * that must hold for any policy set.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseIp } from '../../src/envoy/ip.js';
import { effectivePolicyTypes, evaluateEgress, type EgressTarget, type NetworkPolicy, type NetworkPolicyEgressRule, type NetworkPolicyPeer, type NetworkPolicyPort } from '../../src/analyze/netpol/evaluate.js';
import { fullLabels, selectorMatches, selectorText, type LabelSelector } from '../../src/analyze/netpol/selector.js';

const src = { namespace: 'shop', labels: { app: 'api', tier: 'backend' } };

function np(name: string, spec: NetworkPolicy['spec'], namespace = 'shop'): NetworkPolicy {
  return { metadata: { name, namespace }, spec };
}

function external(ip: string, port: number, protocol: 'TCP' | 'UDP' = 'TCP'): EgressTarget {
  return { ip: parseIp(ip)!, port, protocol, pod: { kind: 'not-a-pod' } };
}

function podTarget(o: { ip?: string; port: number; ns: string; name?: string; labels?: Record<string, string>; nsLabels?: Record<string, string>; ports?: { name?: string; containerPort: number; protocol?: string }[]; protocol?: 'TCP' | 'UDP' }): EgressTarget {
  return {
    ip: parseIp(o.ip ?? '10.244.3.7')!,
    port: o.port,
    protocol: o.protocol ?? 'TCP',
    pod: { kind: 'found', namespace: o.ns, name: o.name ?? 'db-0', labels: o.labels ?? {}, ...(o.ports ? { ports: o.ports } : {}) },
    ...(o.nsLabels ? { namespaceLabels: fullLabels({ 'kubernetes.io/metadata.name': o.ns, ...o.nsLabels }) } : {}),
  };
}

describe('label selectors', () => {
  it('matchLabels and matchExpressions are ANDed; empty selects all', () => {
    const l = fullLabels({ app: 'api', tier: 'backend' });
    expect(selectorMatches({}, l)).toBe(true);
    expect(selectorMatches(undefined, l)).toBe(true);
    expect(selectorMatches({ matchLabels: { app: 'api' } }, l)).toBe(true);
    expect(selectorMatches({ matchLabels: { app: 'api', tier: 'front' } }, l)).toBe(false);
    expect(selectorMatches({ matchExpressions: [{ key: 'tier', operator: 'In', values: ['front', 'backend'] }] }, l)).toBe(true);
    expect(selectorMatches({ matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['backend'] }] }, l)).toBe(false);
    expect(selectorMatches({ matchExpressions: [{ key: 'version', operator: 'NotIn', values: ['v1'] }] }, l)).toBe(true);
    expect(selectorMatches({ matchExpressions: [{ key: 'version', operator: 'Exists' }] }, l)).toBe(false);
    expect(selectorMatches({ matchExpressions: [{ key: 'version', operator: 'DoesNotExist' }] }, l)).toBe(true);
    expect(selectorMatches({ matchLabels: { app: 'api' }, matchExpressions: [{ key: 'tier', operator: 'Exists' }] }, l)).toBe(true);
    expect(selectorMatches({ matchExpressions: [{ key: 'tier', operator: 'Gt', values: ['1'] }] }, l)).toBe(false);
  });
  it('partly known labels give unknown only when the answer depends on them', () => {
    const partial = { labels: { 'kubernetes.io/metadata.name': 'db' }, complete: false };
    expect(selectorMatches({ matchLabels: { 'kubernetes.io/metadata.name': 'db' } }, partial)).toBe(true);
    expect(selectorMatches({ matchLabels: { 'kubernetes.io/metadata.name': 'web' } }, partial)).toBe(false);
    expect(selectorMatches({ matchLabels: { team: 'data' } }, partial)).toBe('unknown');
    expect(selectorMatches({}, partial)).toBe(true);
  });
  it('prints selectors as kubectl -l takes them', () => {
    expect(selectorText({ matchLabels: { app: 'db' }, matchExpressions: [{ key: 'tier', operator: 'In', values: ['a', 'b'] }, { key: 'x', operator: 'DoesNotExist' }] })).toBe('app=db,tier in (a,b),!x');
    expect(selectorText({})).toBe('(all)');
  });
});

describe('policyTypes defaulting (SetDefaults_NetworkPolicy)', () => {
  it('Ingress always; Egress only with egress rules', () => {
    expect(effectivePolicyTypes(np('a', { podSelector: {} }))).toEqual(['Ingress']);
    expect(effectivePolicyTypes(np('a', { podSelector: {}, egress: [] }))).toEqual(['Ingress']);
    expect(effectivePolicyTypes(np('a', { podSelector: {}, egress: [{}] }))).toEqual(['Ingress', 'Egress']);
    expect(effectivePolicyTypes(np('a', { podSelector: {}, policyTypes: ['Egress'] }))).toEqual(['Egress']);
  });
  it('an ingress-only policy does not isolate egress', () => {
    const r = evaluateEgress([np('ingress-only', { podSelector: {}, ingress: [] })], src, external('203.0.113.5', 443));
    expect(r).toMatchObject({ verdict: 'allowed', isolated: false });
    expect(r.policies[0]!.selection).toMatch(/no Egress \(defaulted/);
  });
  it('policyTypes [Egress] without rules denies every egress', () => {
    const r = evaluateEgress([np('default-deny-egress', { podSelector: {}, policyTypes: ['Egress'] })], src, external('203.0.113.5', 443));
    expect(r).toMatchObject({ verdict: 'denied', isolated: true });
  });
});

describe('egress evaluation', () => {
  it('no policy selecting the pod: allowed', () => {
    const r = evaluateEgress([np('other', { podSelector: { matchLabels: { app: 'web' } }, policyTypes: ['Egress'] }), np('elsewhere', { podSelector: {}, policyTypes: ['Egress'] }, 'tools')], src, external('203.0.113.5', 443));
    expect(r.verdict).toBe('allowed');
    expect(r.isolated).toBe(false);
    expect(r.policies.map((p) => p.name)).toEqual(['other']);
  });
  it('ipBlock with except', () => {
    const allowNet = np('allow-internet', { podSelector: { matchLabels: { app: 'api' } }, policyTypes: ['Egress'], egress: [{ to: [{ ipBlock: { cidr: '0.0.0.0/0', except: ['10.0.0.0/8', '192.168.0.0/16'] } }] }] });
    expect(evaluateEgress([allowNet], src, external('203.0.113.5', 443)).verdict).toBe('allowed');
    const denied = evaluateEgress([allowNet], src, external('10.0.0.6', 7000));
    expect(denied.verdict).toBe('denied');
    expect(denied.policies[0]!.rules[0]!.why).toMatch(/excepted by 10\.0\.0\.0\/8/);
    // unknown address: cannot tell
    expect(evaluateEgress([allowNet], src, { port: 443, protocol: 'TCP', pod: { kind: 'not-a-pod' } }).verdict).toBe('unknown');
  });
  it('ports: numbers, protocol, endPort, absent port', () => {
    const rule = (ports: NetworkPolicyPort[]): NetworkPolicy => np('p', { podSelector: {}, policyTypes: ['Egress'], egress: [{ ports }] });
    expect(evaluateEgress([rule([{ port: 7000 }])], src, external('10.0.0.6', 7000)).verdict).toBe('allowed');
    expect(evaluateEgress([rule([{ port: 7000, protocol: 'UDP' }])], src, external('10.0.0.6', 7000)).verdict).toBe('denied');
    expect(evaluateEgress([rule([{ port: 6000, endPort: 7999 }])], src, external('10.0.0.6', 7000)).verdict).toBe('allowed');
    expect(evaluateEgress([rule([{ port: 6000, endPort: 6999 }])], src, external('10.0.0.6', 7000)).verdict).toBe('denied');
    expect(evaluateEgress([rule([{ protocol: 'TCP' }])], src, external('10.0.0.6', 7000)).verdict).toBe('allowed');
    expect(evaluateEgress([rule([{ protocol: 'TCP' }])], src, external('10.0.0.6', 53, 'UDP')).verdict).toBe('denied');
  });
  it('named ports resolve against the destination pod only', () => {
    const p = np('db', { podSelector: {}, policyTypes: ['Egress'], egress: [{ ports: [{ port: 'mysql' }] }] });
    const pod = (ports?: { name?: string; containerPort: number }[]) => podTarget({ port: 3306, ns: 'shop', ports });
    expect(evaluateEgress([p], src, pod([{ name: 'mysql', containerPort: 3306 }])).verdict).toBe('allowed');
    expect(evaluateEgress([p], src, pod([{ name: 'mysql', containerPort: 3307 }])).verdict).toBe('denied');
    expect(evaluateEgress([p], src, pod([{ name: 'mysql-admin', containerPort: 3306 }])).verdict).toBe('denied');
    expect(evaluateEgress([p], src, pod(undefined)).verdict).toBe('unknown');
    expect(evaluateEgress([p], src, external('10.0.0.6', 3306)).verdict).toBe('denied');
  });
  it('podSelector alone: same namespace only; namespaceSelector alone; both together', () => {
    const podOnly = np('a', { podSelector: {}, policyTypes: ['Egress'], egress: [{ to: [{ podSelector: { matchLabels: { app: 'db' } } }] }] });
    expect(evaluateEgress([podOnly], src, podTarget({ port: 5432, ns: 'shop', labels: { app: 'db' } })).verdict).toBe('allowed');
    expect(evaluateEgress([podOnly], src, podTarget({ port: 5432, ns: 'data', labels: { app: 'db' } })).verdict).toBe('denied');
    const nsOnly = np('b', { podSelector: {}, policyTypes: ['Egress'], egress: [{ to: [{ namespaceSelector: { matchLabels: { team: 'data' } } }] }] });
    expect(evaluateEgress([nsOnly], src, podTarget({ port: 5432, ns: 'data', labels: {}, nsLabels: { team: 'data' } })).verdict).toBe('allowed');
    expect(evaluateEgress([nsOnly], src, podTarget({ port: 5432, ns: 'data', labels: {}, nsLabels: { team: 'web' } })).verdict).toBe('denied');
    // namespace labels unknown: only kubernetes.io/metadata.name is certain
    expect(evaluateEgress([nsOnly], src, podTarget({ port: 5432, ns: 'data' })).verdict).toBe('unknown');
    const byName = np('c', { podSelector: {}, policyTypes: ['Egress'], egress: [{ to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'data' } } }] }] });
    expect(evaluateEgress([byName], src, podTarget({ port: 5432, ns: 'data' })).verdict).toBe('allowed');
    const both = np('d', { podSelector: {}, policyTypes: ['Egress'], egress: [{ to: [{ namespaceSelector: { matchLabels: { team: 'data' } }, podSelector: { matchLabels: { app: 'db' } } }] }] });
    expect(evaluateEgress([both], src, podTarget({ port: 5432, ns: 'data', labels: { app: 'db' }, nsLabels: { team: 'data' } })).verdict).toBe('allowed');
    expect(evaluateEgress([both], src, podTarget({ port: 5432, ns: 'data', labels: { app: 'cache' }, nsLabels: { team: 'data' } })).verdict).toBe('denied');
    // pod selectors never match an address outside the pods
    expect(evaluateEgress([nsOnly], src, external('203.0.113.5', 5432)).verdict).toBe('denied');
    // an empty namespaceSelector selects every namespace
    const anyNs = np('e', { podSelector: {}, policyTypes: ['Egress'], egress: [{ to: [{ namespaceSelector: {} }] }] });
    expect(evaluateEgress([anyNs], src, podTarget({ port: 5432, ns: 'data' })).verdict).toBe('allowed');
  });
  it('policies are additive: one allowing rule in any selecting policy is enough, and each policy is named', () => {
    const deny = np('default-deny', { podSelector: {}, policyTypes: ['Egress'] });
    const dns = np('allow-dns', { podSelector: {}, policyTypes: ['Egress'], egress: [{ to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } } }], ports: [{ port: 53, protocol: 'UDP' }] }] });
    const redis = np('allow-redis', { podSelector: { matchLabels: { app: 'api' } }, egress: [{ to: [{ ipBlock: { cidr: '10.0.0.6/32' } }], ports: [{ port: 7000 }] }] });
    const r = evaluateEgress([redis, deny, dns], src, external('10.0.0.6', 7000));
    expect(r.verdict).toBe('allowed');
    expect(r.policies.filter((p) => p.allows === true).map((p) => p.name)).toEqual(['allow-redis']);
    expect(evaluateEgress([deny, dns], src, external('10.0.0.6', 7000)).verdict).toBe('denied');
  });
  it('an empty peer list or empty ports list matches everything', () => {
    const anyDest: NetworkPolicyEgressRule = { to: [], ports: [] };
    expect(evaluateEgress([np('x', { podSelector: {}, policyTypes: ['Egress'], egress: [anyDest] })], src, external('198.51.100.1', 1)).verdict).toBe('allowed');
  });
  it('notes that ipBlock on pod IPs is implementation-defined', () => {
    const r = evaluateEgress([np('x', { podSelector: {}, policyTypes: ['Egress'], egress: [{ to: [{ ipBlock: { cidr: '10.244.0.0/16' } }] }] })], src, podTarget({ ip: '10.244.3.7', port: 8080, ns: 'shop' }));
    expect(r.verdict).toBe('allowed');
    expect(r.notes.join()).toMatch(/differs between network plugins/);
  });
});

// ---- properties -------------------------------------------------------------------------------

const keys = ['app', 'tier', 'version'];
const vals = ['api', 'db', 'v1', 'backend'];
const labelsArb = fc.dictionary(fc.constantFrom(...keys), fc.constantFrom(...vals), { maxKeys: 3 });
const selectorArb: fc.Arbitrary<LabelSelector> = fc.record(
  {
    matchLabels: fc.dictionary(fc.constantFrom(...keys), fc.constantFrom(...vals), { maxKeys: 2 }),
    matchExpressions: fc.array(fc.record({ key: fc.constantFrom(...keys), operator: fc.constantFrom('In', 'NotIn', 'Exists', 'DoesNotExist'), values: fc.array(fc.constantFrom(...vals), { minLength: 1, maxLength: 2 }) }), { maxLength: 2 }),
  },
  { requiredKeys: [] },
);
const ipArb = fc.tuple(fc.constantFrom(10, 192, 203), fc.nat(255), fc.nat(255), fc.nat(255)).map((b) => b.join('.'));
const cidrArb = fc.tuple(ipArb, fc.integer({ min: 0, max: 32 })).map(([ip, n]) => `${ip}/${n}`);
const peerArb: fc.Arbitrary<NetworkPolicyPeer> = fc.oneof(
  fc.record({ ipBlock: fc.record({ cidr: cidrArb, except: fc.array(cidrArb, { maxLength: 2 }) }) }),
  fc.record({ podSelector: selectorArb }),
  fc.record({ namespaceSelector: selectorArb }),
  fc.record({ podSelector: selectorArb, namespaceSelector: selectorArb }),
);
const portArb: fc.Arbitrary<NetworkPolicyPort> = fc.oneof(
  fc.record({ port: fc.integer({ min: 1, max: 20 }), protocol: fc.constantFrom('TCP', 'UDP') }),
  fc.record({ port: fc.integer({ min: 1, max: 10 }), endPort: fc.integer({ min: 10, max: 20 }) }),
  fc.record({ port: fc.constantFrom('http', 'db') }),
  fc.record({ protocol: fc.constantFrom('TCP', 'UDP') }),
);
const ruleArb: fc.Arbitrary<NetworkPolicyEgressRule> = fc.record({ to: fc.array(peerArb, { maxLength: 2 }), ports: fc.array(portArb, { maxLength: 2 }) }, { requiredKeys: [] });
const policyArb = (i: number): fc.Arbitrary<NetworkPolicy> =>
  fc.record({
    podSelector: selectorArb,
    policyTypes: fc.option(fc.subarray(['Ingress', 'Egress'], { minLength: 1 }), { nil: undefined }),
    egress: fc.option(fc.array(ruleArb, { maxLength: 3 }), { nil: undefined }),
  }).map((spec) => np(`p${i}`, spec));
const policiesArb = fc.array(fc.nat(1000), { maxLength: 5 }).chain((ids) => fc.tuple(...ids.map((_, i) => policyArb(i))));
const targetArb: fc.Arbitrary<EgressTarget> = fc.oneof(
  fc.record({ ip: ipArb, port: fc.integer({ min: 1, max: 20 }), protocol: fc.constantFrom<'TCP' | 'UDP'>('TCP', 'UDP') }).map((t) => ({ ip: parseIp(t.ip)!, port: t.port, protocol: t.protocol, pod: { kind: 'not-a-pod' as const } })),
  fc
    .record({ ip: ipArb, port: fc.integer({ min: 1, max: 20 }), ns: fc.constantFrom('shop', 'data'), labels: labelsArb, nsLabels: labelsArb, portName: fc.constantFrom('http', 'db') })
    .map((t) => podTarget({ ip: t.ip, port: t.port, ns: t.ns, labels: t.labels, nsLabels: t.nsLabels, ports: [{ name: t.portName, containerPort: t.port }] })),
);
const sourceArb = labelsArb.map((labels) => ({ namespace: 'shop', labels }));
const rank = { denied: 0, unknown: 1, allowed: 2 } as const;

describe('NetworkPolicy properties', () => {
  it('the order of policies never matters', () => {
    fc.assert(
      fc.property(policiesArb, sourceArb, targetArb, (ps, s, t) => {
        const a = evaluateEgress(ps, s, t);
        const b = evaluateEgress([...ps].reverse(), s, t);
        expect(b.verdict).toBe(a.verdict);
        expect(b.policies).toEqual(a.policies);
      }),
      { numRuns: 300 },
    );
  });
  it('a pod no egress policy selects is allowed; an isolated pod only by a rule that matches', () => {
    fc.assert(
      fc.property(policiesArb, sourceArb, targetArb, (ps, s, t) => {
        const r = evaluateEgress(ps, s, t);
        const selecting = ps.filter((p) => effectivePolicyTypes(p).includes('Egress') && selectorMatches(p.spec?.podSelector, fullLabels(s.labels)) === true);
        expect(r.isolated).toBe(selecting.length > 0);
        if (!r.isolated) expect(r.verdict).toBe('allowed');
        if (r.verdict === 'allowed' && r.isolated) expect(r.policies.some((p) => p.rules.some((x) => x.matches === true))).toBe(true);
        if (r.verdict === 'denied') expect(r.policies.every((p) => p.rules.every((x) => x.matches === false))).toBe(true);
      }),
      { numRuns: 300 },
    );
  });
  it('additive: once isolated, another policy never takes an allowance away', () => {
    fc.assert(
      fc.property(policiesArb, policyArb(99), sourceArb, targetArb, (ps, extra, s, t) => {
        const before = evaluateEgress(ps, s, t);
        fc.pre(before.isolated);
        const after = evaluateEgress([...ps, extra], s, t);
        expect(rank[after.verdict]).toBeGreaterThanOrEqual(rank[before.verdict]);
      }),
      { numRuns: 300 },
    );
  });
  it('ipBlock matches exactly the addresses in cidr and in no except', () => {
    fc.assert(
      fc.property(cidrArb, fc.array(cidrArb, { maxLength: 3 }), ipArb, (cidr, except, ip) => {
        const r = evaluateEgress([np('x', { podSelector: {}, policyTypes: ['Egress'], egress: [{ to: [{ ipBlock: { cidr, except } }] }] })], src, external(ip, 80));
        const inRange = (c: string, a: string): boolean => {
          const [net, len] = c.split('/');
          const toInt = (s: string) => s.split('.').reduce((acc, o) => acc * 256 + Number(o), 0);
          const mask = Number(len) === 0 ? 0 : 2 ** 32 - 2 ** (32 - Number(len));
          const and = (x: number) => Number(BigInt(x) & BigInt(mask));
          return and(toInt(net!)) === and(toInt(a));
        };
        const expected = inRange(cidr, ip) && !except.some((e) => inRange(e, ip));
        expect(r.verdict).toBe(expected ? 'allowed' : 'denied');
      }),
      { numRuns: 500 },
    );
  });
  it('a port range [port, endPort] allows what its single ports allow', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 30 }), fc.integer({ min: 0, max: 10 }), fc.integer({ min: 1, max: 45 }), (from, width, port) => {
        const ranged = np('r', { podSelector: {}, policyTypes: ['Egress'], egress: [{ ports: [{ port: from, endPort: from + width }] }] });
        const singles = np('s', { podSelector: {}, policyTypes: ['Egress'], egress: [{ ports: Array.from({ length: width + 1 }, (_, i) => ({ port: from + i })) }] });
        expect(evaluateEgress([ranged], src, external('10.0.0.1', port)).verdict).toBe(evaluateEgress([singles], src, external('10.0.0.1', port)).verdict);
      }),
      { numRuns: 300 },
    );
  });
  it('matchLabels k=v selects like matchExpressions k In [v]', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.constantFrom(...keys), fc.constantFrom(...vals), { maxKeys: 3 }), labelsArb, (ml, labels) => {
        const asExpr: LabelSelector = { matchExpressions: Object.entries(ml).map(([key, v]) => ({ key, operator: 'In', values: [v] })) };
        expect(selectorMatches({ matchLabels: ml }, fullLabels(labels))).toBe(selectorMatches(asExpr, fullLabels(labels)));
      }),
    );
  });
});
