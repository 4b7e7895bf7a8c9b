/**
 * What `whyblackhole --snapshot` reads beyond the pod, proxy configuration, stats and logs: the
 * Telemetry resources (telemetry.istio.io), which decide whether the proxy writes access logs and
 * Istio's standard metrics (pilot/pkg/model/telemetry.go). Read-only; no secrets in them.
 */
import type { CollectionGap, KubeObject } from '../model/cluster-view.js';
import { scrubObject } from '../model/scrub.js';
import type { SnapshotCollector } from './snapshot-collectors.js';

export const whyBlackholeCollector: SnapshotCollector = {
  verb: 'whyblackhole',
  collect: async ({ k }) => {
    const what = 'list telemetries.telemetry.istio.io (all namespaces)';
    const r = await k.run(['get', 'telemetries.telemetry.istio.io', '-A', '-o', 'json'], { step: 'listing Telemetry resources' });
    if (r.exitCode !== 0) {
      const detail = r.stderr.trim().split('\n')[0] ?? `exit ${r.exitCode}`;
      const reason: CollectionGap['reason'] = /forbidden/i.test(r.stderr) ? 'forbidden' : /doesn't have a resource type/.test(r.stderr) ? 'crd-missing' : 'error';
      return { files: [], gaps: [{ what, reason, detail }] };
    }
    let items: KubeObject[];
    try {
      items = (JSON.parse(r.stdout) as { items?: KubeObject[] }).items ?? [];
    } catch {
      return { files: [], gaps: [{ what, reason: 'error', detail: 'kubectl printed something that is not JSON' }] };
    }
    const text = `${JSON.stringify({ apiVersion: 'v1', kind: 'List', items: items.map((o) => scrubObject(o)) }, null, 2)}\n`;
    return { files: [{ file: 'cluster/telemetries.json', name: 'telemetries.telemetry.istio.io', text }], gaps: [] };
  },
};
