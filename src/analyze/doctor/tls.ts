/**
 * Step 7 (seed 000 step 7): TLS. The DestinationRule that applies to the host (port-level and
 * subset settings override the rule's own) against what the application sends, and the cluster the
 * proxy actually built (its transport socket and SNI). Istio's rules (pilot/pkg/networking/core
 * cluster_tls.go): SIMPLE/MUTUAL originate TLS with the DR's sni, else auto_sni, which copies the
 * HTTP Host header and so does nothing for TCP; caCertificates default to the proxy's system CAs
 * ("system"); MUTUAL without clientCertificate/privateKey (and no credentialName) fails to build;
 * ISTIO_MUTUAL presents the mesh identity, which only a peer with a sidecar accepts.
 */
import type { KubeObject } from '../../model/cluster-view.js';
import type { Cluster } from '../../model/envoy-types.js';
import { tlsOrigination } from '../../envoy/cluster.js';
import { newFinding } from '../catalog.js';
import type { Finding } from '../finding.js';
import { destinationRuleFor, key, podHasSidecar, podsOfService, upstreamOf } from './facts.js';
import { traceFindingsFor } from './sidecar.js';
import { notInInput, type DoctorInput, type Step } from './types.js';

interface ClientTls {
  readonly mode?: string;
  readonly sni?: string;
  readonly caCertificates?: string;
  readonly credentialName?: string;
  readonly clientCertificate?: string;
  readonly privateKey?: string;
  readonly insecureSkipVerify?: boolean;
}

interface TrafficPolicy {
  readonly tls?: ClientTls;
  readonly portLevelSettings?: { port?: { number?: number }; tls?: ClientTls }[];
}

/** The TLS settings for a port (and subset): subset port-level, subset, rule port-level, rule. */
export function tlsSettings(dr: KubeObject, port: number, subset: string | undefined): { tls?: ClientTls; where: string } {
  const spec = (dr.spec ?? {}) as { trafficPolicy?: TrafficPolicy; subsets?: { name?: string; trafficPolicy?: TrafficPolicy }[] };
  const levels: { tp: TrafficPolicy | undefined; where: string }[] = [];
  const sub = subset ? spec.subsets?.find((s) => s.name === subset) : undefined;
  if (sub) levels.push({ tp: sub.trafficPolicy, where: `subset ${subset}` });
  levels.push({ tp: spec.trafficPolicy, where: 'trafficPolicy' });
  for (const l of levels) {
    const pl = l.tp?.portLevelSettings?.find((p) => p.port?.number === port)?.tls;
    if (pl) return { tls: pl, where: `${l.where}.portLevelSettings[${port}].tls` };
    if (l.tp?.tls) return { tls: l.tp.tls, where: `${l.where}.tls` };
  }
  return { where: 'none' };
}

function loadedCluster(input: DoctorInput, name: string | undefined): Cluster | undefined {
  if (!name || !input.dump) return undefined;
  const ref = input.dump.clusterRefs(name).find((r) => r.state !== 'warming');
  return ref ? input.dump.cluster(ref) : undefined;
}

function autoSni(c: Cluster | undefined): boolean {
  return /"auto_sni"\s*:\s*true|"autoSni"\s*:\s*true/.test(JSON.stringify(c ?? {}));
}

export function tlsStep(input: DoctorInput, number: number, title: string): Step {
  const base = { number, id: 'tls' as const, title };
  if (input.trace?.proxy.type === 'none') return { ...base, status: 'skipped', reason: 'the pod has no sidecar: any TLS is the application\'s own, no DestinationRule applies', summary: 'not applicable', evidence: [], findings: [] };
  const r = input.request;
  const up = upstreamOf(input);
  const appTls = r.protocol === 'tls';
  const findings: Finding[] = [...traceFindingsFor(input.trace, 'tls')];
  const evidence: string[] = [appTls ? `the application speaks TLS${r.sni ? ` with SNI ${r.sni}` : ' without SNI'}${r.alpn.length ? ` (ALPN ${r.alpn.join(',')})` : ''}` : 'the application sends plain text'];
  if (input.view.lists.destinationRules === undefined) {
    return { ...base, status: findings.some((f) => f.severity !== 'info') ? 'problem' : 'skipped', reason: notInInput(input, 'DestinationRules are'), summary: 'not checked', evidence, findings };
  }
  const dr = destinationRuleFor(input, up.host);
  const clusterName = input.trace?.verdict.cluster;
  const cluster = loadedCluster(input, clusterName);
  const origination = cluster ? tlsOrigination(cluster) : undefined;
  if (origination) evidence.push(`cluster ${clusterName}: ${origination.kind === 'none' ? 'plain text' : origination.kind === 'istio-auto' ? 'Istio mTLS to endpoints with a sidecar (auto)' : origination.kind === 'istio-mutual' ? 'Istio mTLS' : 'originates TLS'}${origination.sni ? `, SNI ${origination.sni}` : autoSni(cluster) ? ', SNI from the Host header (auto_sni)' : origination.kind === 'tls' ? ', no SNI' : ''}`);
  if (!dr) {
    evidence.push(`no DestinationRule applies to ${up.host}`);
    const problem = findings.some((f) => f.severity !== 'info');
    return { ...base, status: problem ? 'problem' : 'ok', summary: appTls ? 'application TLS, passed through' : 'no TLS settings', evidence, findings, data: { destinationRule: null, appTls, origination: origination ?? null } };
  }
  const drName = key(dr);
  const { tls, where } = tlsSettings(dr, up.port, up.subset);
  const mode = tls?.mode ?? 'DISABLE';
  evidence.push(`DestinationRule ${drName} (host ${(dr.spec?.host as string | undefined) ?? '?'}): ${tls ? `tls mode ${mode} at ${where}` : 'no tls settings'}`);
  const subject = { kind: 'DestinationRule', name: dr.metadata?.name ?? '', namespace: dr.metadata?.namespace ?? '' };
  if ((mode === 'SIMPLE' || mode === 'MUTUAL') && tls) {
    if (appTls) {
      if (!findings.some((f) => f.code === 'MEG070')) findings.push(newFinding('DoubleTls', { cluster: clusterName ?? up.host, by: `DestinationRule ${drName} tls mode ${mode}` }, { subject }));
    } else {
      if (mode === 'MUTUAL' && !tls.credentialName && (!tls.clientCertificate || !tls.privateKey)) {
        // istiod fails to build the TLS context and sends the cluster without TLS (cluster_tls.go)
        findings.push(newFinding('MutualTlsWithoutClientCertificate', { host: up.host, destinationRule: drName }, { subject, ...(origination ? { evidence: [`cluster ${clusterName}: ${origination.kind === 'tls' ? 'originates TLS' : 'no TLS transport socket'}`] } : {}) }));
      } else {
        const sni = tls.sni ?? origination?.sni ?? (autoSni(cluster) && r.protocol !== 'tcp' ? '(the Host header, auto_sni)' : '(none)');
        findings.push(newFinding('TlsOriginatedBySidecar', { host: up.host, destinationRule: drName, mode, sni }, { subject }));
        if (!tls.caCertificates && !tls.credentialName && !tls.insecureSkipVerify) findings.push(newFinding('TlsOriginationWithoutCa', { host: up.host, destinationRule: drName, mode }, { subject }));
        if (tls.insecureSkipVerify) findings.push(newFinding('TlsVerificationDisabled', { host: up.host, destinationRule: drName }, { subject }));
        // auto_sni copies the HTTP Host header: a TCP connection gets no SNI unless the rule names one
        if (!tls.sni && !origination?.sni && r.protocol === 'tcp') findings.push(newFinding('TlsOriginationWithoutSni', { host: up.host, destinationRule: drName }, { subject }));
      }
    }
  }
  if (mode === 'ISTIO_MUTUAL') {
    const se = up.serviceEntries.find((s) => (s.spec?.location as string | undefined) !== 'MESH_INTERNAL');
    let why: string | undefined;
    if (up.kind === 'external' || up.kind === 'pod') why = 'is not a mesh service';
    else if (se) why = `is a MESH_EXTERNAL ServiceEntry (${key(se)})`;
    else if (up.service) {
      const pods = podsOfService(input, up.service);
      if (pods && pods.length && pods.every((p) => !podHasSidecar(p))) why = `has no pod with a sidecar (Service ${key(up.service)})`;
    }
    if (why) findings.push(newFinding('IstioMutualToNonMeshHost', { host: up.host, destinationRule: drName, why }, { subject }));
    else evidence.push('ISTIO_MUTUAL to a mesh service: the peer\'s sidecar terminates it');
  }
  if (mode === 'DISABLE' && appTls) evidence.push('no origination: the application\'s own TLS passes through');
  const problem = findings.some((f) => f.severity !== 'info');
  return { ...base, status: problem ? 'problem' : 'ok', summary: `${mode}${appTls ? ', application TLS' : ''}${problem ? ': problem' : ''}`, evidence, findings, data: { destinationRule: drName, mode, where, appTls, sni: r.sni ?? null, origination: origination ?? null } };
}
