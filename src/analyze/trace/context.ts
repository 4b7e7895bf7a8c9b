/**
 * State shared by the stages of one trace: the proxy configuration (parsed lazily), what the
 * proxy is, and the hops, findings, assumptions and responsible objects gathered so far.
 */
import type { ClusterRef, ConfigDump, ListenerRef } from '../../model/config-dump.js';
import type { Cluster, Listener } from '../../model/envoy-types.js';
import { describeProxy, versionAtLeast, type ProxyInfo } from '../../model/proxy.js';
import { ListenerAddressMap } from '../../envoy/listener-select.js';
import type { Finding } from '../finding.js';
import type { Hop, Responsible, TraceRequest } from './types.js';

export interface LoadedCluster {
  readonly name: string;
  readonly ref: ClusterRef;
  readonly cluster: Cluster;
}

export class TraceContext {
  readonly hops: Hop[] = [];
  readonly findings: Finding[] = [];
  readonly assumptions: string[] = [];
  readonly responsible: Responsible[] = [];
  readonly proxy: ProxyInfo;
  private addressMap: ListenerAddressMap | undefined;

  constructor(
    readonly dump: ConfigDump,
    readonly request: TraceRequest,
  ) {
    const fromBootstrap = describeProxy(dump.bootstrap());
    // the pod read from the cluster is who the proxy serves; the bootstrap says the same on a real
    // cluster, but a dump may lack the node metadata (partial dumps, Istio <= 1.4)
    const w = request.workload;
    this.proxy = w ? { ...fromBootstrap, podName: w.pod, namespace: w.namespace, owner: w.owner ?? fromBootstrap.owner } : fromBootstrap;
  }

  hop(h: Hop): void {
    this.hops.push(h);
  }

  report(f: Finding): void {
    this.findings.push(f);
  }

  assume(text: string): void {
    if (!this.assumptions.includes(text)) this.assumptions.push(text);
  }

  blame(r: Responsible): void {
    const key = `${r.kind}/${r.namespace ?? ''}/${r.name ?? ''}/${r.host ?? ''}`;
    if (!this.responsible.some((x) => `${x.kind}/${x.namespace ?? ''}/${x.name ?? ''}/${x.host ?? ''}` === key)) this.responsible.push(r);
  }

  listeners(): ListenerAddressMap {
    this.addressMap ??= new ListenerAddressMap(this.dump.listenerRefs());
    return this.addressMap;
  }

  listener(ref: ListenerRef): Listener {
    return this.dump.listener(ref);
  }

  /** The cluster that receives traffic: active/static first, a warming one is reported separately. */
  cluster(name: string): { active?: LoadedCluster; warming?: LoadedCluster } {
    const refs = this.dump.clusterRefs(name);
    const active = refs.find((r) => r.state !== 'warming');
    const warming = refs.find((r) => r.state === 'warming');
    return {
      ...(active ? { active: { name, ref: active, cluster: this.dump.cluster(active) } } : {}),
      ...(warming ? { warming: { name, ref: warming, cluster: this.dump.cluster(warming) } } : {}),
    };
  }

  /**
   * Response flag for "cluster not found": NC since Envoy 1.18; before that Envoy logged NR
   * (ISTIO_INTERNALS §4.3; Envoy stream_info ResponseFlag NoClusterFound).
   */
  noClusterFlag(): string {
    return versionAtLeast(this.proxy.envoyVersion, 1, 18) === false ? 'NR' : 'NC';
  }

  /** Where a listener sits in the dump, for evidence. */
  listenerPath(ref: ListenerRef, suffix = ''): string {
    return `${ref.section || 'listeners'}[${JSON.stringify(ref.name)}]${ref.state === 'active' || ref.state === 'static' ? '' : `(${ref.state})`}${suffix}`;
  }

  /** The proxy's namespace, for generated YAML; "default" when unknown (and said so). */
  namespace(): string {
    if (this.proxy.namespace) return this.proxy.namespace;
    this.assume('the pod namespace is unknown (no bootstrap in the input): generated YAML uses namespace "default"');
    return 'default';
  }

  /** The cluster's DNS domain, from the node id ("<ns>.svc.cluster.local"). */
  clusterDomain(): string {
    const last = this.proxy.id?.split('~')[3];
    const m = last ? /\.svc\.(.+)$/.exec(last) : null;
    return m?.[1] ?? 'cluster.local';
  }
}
