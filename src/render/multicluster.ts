/**
 * `multicluster` output: one table (a row per check × cluster, or reader → remote pair), the verdict,
 * then the findings; or the versioned `kind: Multicluster` document. Nothing here carries a secret:
 * the report holds fingerprints and summaries only.
 */
import type { CheckRow, CheckStatus, MulticlusterReport } from '../analyze/multicluster/analyze.js';
import type { ClusterFacts, ProxyFacts, ServiceFacts, ServiceRef } from '../model/multicluster.js';
import { API_VERSION, findingDto, sortKeys } from './dto.js';
import { renderFindings } from './findings.js';
import { paint, table, wrap, type RenderOptions } from './text.js';

export interface MulticlusterDocInput {
  readonly report: MulticlusterReport;
  readonly contexts: readonly string[];
  readonly source: { readonly kind: 'live' | 'snapshot'; readonly files?: readonly string[] };
  readonly clusters: readonly ClusterFacts[];
  readonly service?: ServiceRef;
  readonly services?: readonly ServiceFacts[];
  readonly proxy?: ProxyFacts;
}

const STATUS: Readonly<Record<CheckStatus, { text: string; style?: 'red' | 'yellow' | 'green' | 'cyan' | 'dim' }>> = {
  ok: { text: 'ok', style: 'green' },
  error: { text: 'ERROR', style: 'red' },
  warning: { text: 'WARN', style: 'yellow' },
  info: { text: 'info', style: 'cyan' },
  skipped: { text: 'skipped', style: 'dim' },
};

function where(r: CheckRow): string {
  return r.peer !== undefined ? `${r.cluster} → ${r.peer}` : r.cluster;
}

export function renderMulticluster(d: MulticlusterDocInput, opts: RenderOptions): string {
  const { report } = d;
  const head = [`contexts: ${d.contexts.join(', ')}`, d.service ? `service: ${d.service.name}.${d.service.namespace}${d.service.port ? `:${d.service.port}` : ''}` : '', d.proxy ? `from: ${d.proxy.pod} (${d.proxy.context})` : '', d.source.kind === 'snapshot' ? `offline: ${d.source.files?.join(', ')}` : ''].filter(Boolean);
  const out: string[] = [paint(opts, 'bold', head.join('   '))];
  const whereWidth = Math.max(7, ...report.rows.map((r) => where(r).length));
  const detailWidth = Math.max(30, opts.width - 15 - whereWidth - 9 - 6);
  const rows = report.rows.map((r) => {
    const st = STATUS[r.status];
    const detail = opts.wide ? r.detail : wrap(r.detail, detailWidth);
    return [r.check, where(r), st.style ? paint(opts, st.style, st.text) : st.text, detail];
  });
  out.push('', table(['check', 'cluster', 'status', 'detail'], rows), '');
  out.push(wrap(report.verdict, opts.width));
  const findings = renderFindings(report.findings, opts);
  if (findings) out.push('', findings);
  return `${out.join('\n')}\n`;
}

export function multiclusterDto(d: MulticlusterDocInput): unknown {
  const byContext = new Map(d.report.clusters.map((c) => [c.context, c]));
  return sortKeys({
    apiVersion: API_VERSION,
    kind: 'Multicluster',
    source: d.source,
    contexts: d.contexts,
    service: d.service ? `${d.service.name}.${d.service.namespace}${d.service.port ? `:${d.service.port}` : ''}` : undefined,
    verdict: d.report.verdict,
    checks: d.report.rows.map((r) => ({ check: r.check, cluster: r.cluster, peer: r.peer, status: r.status, detail: r.detail })),
    clusters: d.clusters.map((c) => {
      const s = byContext.get(c.context);
      const svc = d.services?.find((x) => x.context === c.context);
      return {
        context: c.context,
        server: c.server,
        readable: c.readable,
        error: c.error,
        controlPlaneNamespace: c.controlPlaneNamespace,
        clusterId: s?.clusterId,
        network: s?.network,
        root: s?.root,
        cacerts: c.cacerts === null ? { present: false } : c.cacerts ? { present: true, source: c.cacerts.source, fingerprints: c.cacerts.fingerprints } : undefined,
        distributedRoots: c.distributedRoots ?? undefined,
        istiod: c.istiod,
        injector: c.injector,
        remoteSecrets: c.remoteSecrets?.map((e) => ({
          secret: e.secret,
          key: e.key,
          annotatedCluster: e.annotatedCluster,
          server: e.kubeconfig.server,
          loopback: e.kubeconfig.loopback,
          auth: e.kubeconfig.auth,
          problems: e.kubeconfig.problems.length ? e.kubeconfig.problems : undefined,
          insecureOptions: e.kubeconfig.insecureOptions.length ? e.kubeconfig.insecureOptions : undefined,
        })),
        clusterz: c.clusterz,
        clusterzError: c.clusterzError,
        logEvents: c.logEvents,
        gateways: c.gateways?.map((g) => ({ namespace: g.namespace, name: g.name, network: g.network, type: g.type, mtlsPort: g.mtlsPort, addresses: g.addresses, nodePort: g.nodePort })),
        passthroughGateways: c.passthrough,
        meshNetworks: c.meshNetworks,
        gaps: c.gaps.length ? c.gaps : undefined,
        service: svc
          ? {
              present: svc.present,
              type: svc.type,
              headless: svc.headless,
              ports: svc.ports,
              exportTo: svc.exportTo,
              readyEndpoints: svc.endpoints?.filter((e) => e.ready).map((e) => e.ip),
              gaps: svc.gaps.length ? svc.gaps : undefined,
            }
          : undefined,
      };
    }),
    from: d.proxy
      ? {
          context: d.proxy.context,
          pod: d.proxy.pod,
          clusterId: d.proxy.clusterId,
          network: d.proxy.network,
          via: d.proxy.via,
          roots: d.proxy.roots,
          rootError: d.proxy.rootError,
          outboundClusters: d.proxy.clusters,
          edsError: d.proxy.edsError,
          tlsErrors: d.proxy.tlsErrors,
          logError: d.proxy.logError,
        }
      : undefined,
    findings: d.report.findings.map(findingDto),
  });
}
