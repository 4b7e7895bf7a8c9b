/**
 * Kubernetes NetworkPolicy egress semantics, evaluated for one connection (pure).
 *
 * The rules, as the API documents them (k8s.io/api networking/v1 types.go) and as the API server
 * defaults them (pkg/apis/networking/v1 defaults.go SetDefaults_NetworkPolicy):
 *  - a policy applies to the pods its `podSelector` selects in its own namespace (empty = all);
 *  - it affects egress when `policyTypes` lists Egress; without policyTypes the API server sets
 *    Ingress always and Egress when the policy has at least one egress rule;
 *  - a pod no egress policy selects may connect anywhere; once one selects it, only what some rule
 *    of some selecting policy allows is allowed (policies are additive: an OR of every rule);
 *  - a rule matches when one of its peers (`to`) matches and one of its ports matches; an absent or
 *    empty `to` matches every destination, an absent or empty `ports` every port;
 *  - a peer: `podSelector` alone selects pods of the policy's namespace; `namespaceSelector` alone
 *    every pod of the selected namespaces; both together the selected pods of the selected
 *    namespaces; `ipBlock` an IP in `cidr` and in none of `except`;
 *  - a port: `protocol` (default TCP); `port` a number, or a name matched against the destination
 *    pod's container ports of that protocol; absent = every port; `endPort` makes [port, endPort].
 * Facts may be unknown (a hostname not resolved, a namespace not read), so each test is
 * three-valued and so is the verdict.
 */
import { cidrContains, parseCidr, type IpAddress } from '../../envoy/ip.js';
import { fullLabels, selectorMatches, selectorText, triAnd, triOr, type KnownLabels, type LabelSelector, type Tri } from './selector.js';

export interface NetworkPolicyPort {
  readonly protocol?: string;
  readonly port?: number | string;
  readonly endPort?: number;
}

export interface IpBlock {
  readonly cidr: string;
  readonly except?: readonly string[] | null;
}

export interface NetworkPolicyPeer {
  readonly podSelector?: LabelSelector | null;
  readonly namespaceSelector?: LabelSelector | null;
  readonly ipBlock?: IpBlock | null;
}

export interface NetworkPolicyEgressRule {
  readonly to?: readonly NetworkPolicyPeer[] | null;
  readonly ports?: readonly NetworkPolicyPort[] | null;
}

export interface NetworkPolicy {
  readonly metadata?: { readonly name?: string; readonly namespace?: string };
  readonly spec?: {
    readonly podSelector?: LabelSelector | null;
    readonly policyTypes?: readonly string[] | null;
    readonly egress?: readonly NetworkPolicyEgressRule[] | null;
    readonly ingress?: readonly unknown[] | null;
  };
}

export interface ContainerPort {
  readonly name?: string;
  readonly containerPort: number;
  readonly protocol?: string;
}

export interface SourcePod {
  readonly namespace: string;
  readonly labels: Readonly<Record<string, string>>;
}

export type PortProtocol = 'TCP' | 'UDP' | 'SCTP';

/** Where the packets go. */
export interface EgressTarget {
  /** undefined: not known (a hostname that was not resolved) */
  readonly ip?: IpAddress;
  readonly port: number;
  readonly protocol: PortProtocol;
  /**
   * found: the IP is this pod's; not-a-pod: looked up and no pod has it (an address outside the
   * cluster's pods); unknown: not looked up
   */
  readonly pod: { readonly kind: 'found'; readonly namespace: string; readonly name: string; readonly labels: Readonly<Record<string, string>>; readonly ports?: readonly ContainerPort[] } | { readonly kind: 'not-a-pod' } | { readonly kind: 'unknown' };
  /** labels of the destination pod's namespace, when known */
  readonly namespaceLabels?: KnownLabels;
}

export interface RuleVerdict {
  /** index in spec.egress */
  readonly index: number;
  readonly peer: Tri;
  readonly port: Tri;
  readonly matches: Tri;
  /** why, in one line */
  readonly why: string;
}

export interface PolicyVerdict {
  readonly name: string;
  readonly namespace: string;
  /** the policy selects the source pod and has Egress among its (defaulted) policyTypes */
  readonly selects: boolean;
  /** why it does or does not select the pod */
  readonly selection: string;
  readonly allows: Tri;
  readonly rules: readonly RuleVerdict[];
}

export interface EgressEvaluation {
  /** allowed: no policy isolates the pod, or a rule allows; denied: isolated and nothing allows */
  readonly verdict: 'allowed' | 'denied' | 'unknown';
  /** some policy selects the pod for egress */
  readonly isolated: boolean;
  /** every policy of the source namespace, in name order */
  readonly policies: readonly PolicyVerdict[];
  readonly notes: readonly string[];
}

/** policyTypes as the API server defaults them (SetDefaults_NetworkPolicy). */
export function effectivePolicyTypes(p: NetworkPolicy): string[] {
  const given = p.spec?.policyTypes;
  if (given && given.length > 0) return [...given];
  return ['Ingress', ...((p.spec?.egress?.length ?? 0) > 0 ? ['Egress'] : [])];
}

function normProtocol(p: string | undefined): string {
  return (p ?? 'TCP').toUpperCase();
}

function ipBlockMatch(b: IpBlock, ip: IpAddress | undefined): { result: Tri; why: string } {
  const cidr = parseCidr(b.cidr);
  if (!cidr) return { result: false, why: `ipBlock ${b.cidr} is not a CIDR` };
  if (!ip) return { result: 'unknown', why: `ipBlock ${b.cidr}${b.except?.length ? ` except ${b.except.join(',')}` : ''}: the destination address is not known` };
  if (!cidrContains(cidr, ip)) return { result: false, why: `${ip.text} is outside ipBlock ${b.cidr}` };
  for (const e of b.except ?? []) {
    const ex = parseCidr(e);
    if (ex && cidrContains(ex, ip)) return { result: false, why: `${ip.text} is in ipBlock ${b.cidr} but excepted by ${e}` };
  }
  return { result: true, why: `${ip.text} is in ipBlock ${b.cidr}${b.except?.length ? ` (not in except ${b.except.join(',')})` : ''}` };
}

function namespaceLabelsOf(t: EgressTarget, ns: string): KnownLabels {
  // the API server labels every namespace with its name (NamespaceDefaultLabelName, 1.22+)
  return t.namespaceLabels ?? { labels: { 'kubernetes.io/metadata.name': ns }, complete: false };
}

function peerMatch(peer: NetworkPolicyPeer, policyNs: string, t: EgressTarget): { result: Tri; why: string } {
  if (peer.ipBlock) return ipBlockMatch(peer.ipBlock, t.ip);
  const hasPod = peer.podSelector !== undefined && peer.podSelector !== null;
  const hasNs = peer.namespaceSelector !== undefined && peer.namespaceSelector !== null;
  if (!hasPod && !hasNs) return { result: false, why: 'an empty peer matches nothing' };
  const what = [hasNs ? `namespaceSelector ${selectorText(peer.namespaceSelector)}` : `namespace ${policyNs}`, hasPod ? `podSelector ${selectorText(peer.podSelector)}` : 'any pod'].join(', ');
  if (t.pod.kind === 'not-a-pod') return { result: false, why: `${what}: the destination is not a pod` };
  if (t.pod.kind === 'unknown') return { result: 'unknown', why: `${what}: whether the destination is a pod is not known` };
  const pod = t.pod;
  const nsOk: Tri = hasNs ? selectorMatches(peer.namespaceSelector, namespaceLabelsOf(t, pod.namespace)) : pod.namespace === policyNs;
  const podOk: Tri = hasPod ? selectorMatches(peer.podSelector, fullLabels(pod.labels)) : true;
  const result = triAnd([nsOk, podOk]);
  const detail = result === true ? 'selects' : result === false ? (nsOk === false ? `does not select namespace ${pod.namespace}` : `does not select pod ${pod.name}`) : `may select ${pod.namespace}/${pod.name} (the namespace's labels are not known)`;
  return { result, why: `${what}: ${detail}${result === true ? ` ${pod.namespace}/${pod.name}` : ''}` };
}

function portMatch(p: NetworkPolicyPort, t: EgressTarget): { result: Tri; why: string } {
  const proto = normProtocol(p.protocol);
  if (proto !== t.protocol) return { result: false, why: `port rule is ${proto}, the connection ${t.protocol}` };
  if (p.port === undefined || p.port === null) return { result: true, why: `every ${proto} port` };
  if (typeof p.port === 'number' || /^\d+$/.test(p.port)) {
    const from = Number(p.port);
    if (p.endPort !== undefined && p.endPort !== null) {
      const ok = t.port >= from && t.port <= p.endPort;
      return { result: ok, why: `${proto} ports ${from}-${p.endPort} ${ok ? 'include' : 'exclude'} ${t.port}` };
    }
    return { result: from === t.port, why: `${proto} port ${from}${from === t.port ? '' : ` is not ${t.port}`}` };
  }
  // a named port only matches a pod's container port of that name and protocol
  const name = p.port;
  if (t.pod.kind === 'not-a-pod') return { result: false, why: `named port "${name}" only matches pods; the destination is not one` };
  if (t.pod.kind === 'unknown' || t.pod.ports === undefined) return { result: 'unknown', why: `named port "${name}": the destination's container ports are not known` };
  const cp = t.pod.ports.find((c) => c.name === name && normProtocol(c.protocol) === proto);
  if (!cp) return { result: false, why: `named port "${name}": pod ${t.pod.name} has no ${proto} container port of that name` };
  return { result: cp.containerPort === t.port, why: `named port "${name}" is ${cp.containerPort} on pod ${t.pod.name}${cp.containerPort === t.port ? '' : `, not ${t.port}`}` };
}

function ruleVerdict(rule: NetworkPolicyEgressRule, index: number, policyNs: string, t: EgressTarget): RuleVerdict {
  const peers = rule.to ?? [];
  const ports = rule.ports ?? [];
  const peerResults = peers.map((p) => peerMatch(p, policyNs, t));
  const portResults = ports.map((p) => portMatch(p, t));
  const peer: Tri = peers.length === 0 ? true : triOr(peerResults.map((r) => r.result));
  const port: Tri = ports.length === 0 ? true : triOr(portResults.map((r) => r.result));
  const matches = triAnd([peer, port]);
  const pick = (rs: { result: Tri; why: string }[], v: Tri): string | undefined => rs.find((r) => r.result === v)?.why ?? rs[0]?.why;
  const peerWhy = peers.length === 0 ? 'to: any destination' : pick(peerResults, peer);
  const portWhy = ports.length === 0 ? 'ports: any' : pick(portResults, port);
  return { index, peer, port, matches, why: `${peerWhy}; ${portWhy}` };
}

/** Evaluates every NetworkPolicy of the source pod's namespace for one outbound connection. */
export function evaluateEgress(policies: readonly NetworkPolicy[], source: SourcePod, t: EgressTarget): EgressEvaluation {
  const notes: string[] = [];
  const mine = policies
    .filter((p) => (p.metadata?.namespace ?? '') === source.namespace)
    .sort((a, b) => (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''));
  const verdicts: PolicyVerdict[] = mine.map((p) => {
    const name = p.metadata?.name ?? '';
    const types = effectivePolicyTypes(p);
    const selectsPod = selectorMatches(p.spec?.podSelector ?? {}, fullLabels(source.labels)) === true;
    const egressType = types.includes('Egress');
    const selects = selectsPod && egressType;
    const selection = !selectsPod
      ? `podSelector ${selectorText(p.spec?.podSelector)} does not select the pod`
      : !egressType
        ? `selects the pod but policyTypes ${types.join(',')} has no Egress${p.spec?.policyTypes?.length ? '' : ' (defaulted: the policy has no egress rules)'}`
        : `podSelector ${selectorText(p.spec?.podSelector)} selects the pod; policyTypes ${types.join(',')}${p.spec?.policyTypes?.length ? '' : ' (defaulted)'}`;
    if (!selects) return { name, namespace: source.namespace, selects, selection, allows: false, rules: [] };
    const rules = (p.spec?.egress ?? []).map((r, i) => ruleVerdict(r, i, source.namespace, t));
    return { name, namespace: source.namespace, selects, selection, allows: triOr(rules.map((r) => r.matches)), rules };
  });
  const selecting = verdicts.filter((v) => v.selects);
  if (selecting.length === 0) return { verdict: 'allowed', isolated: false, policies: verdicts, notes };
  const allows = triOr(selecting.map((v) => v.allows));
  if (allows === true && t.pod.kind === 'found' && t.ip) {
    const byIpBlock = selecting.every((v) => v.rules.every((r) => r.matches !== true || /ipBlock/.test(r.why)));
    if (byIpBlock) notes.push(`only an ipBlock allows the pod IP ${t.ip.text}: whether ipBlock applies to pod IPs differs between network plugins (the API recommends cluster-external IPs)`);
  }
  return { verdict: allows === true ? 'allowed' : allows === false ? 'denied' : 'unknown', isolated: true, policies: verdicts, notes };
}
