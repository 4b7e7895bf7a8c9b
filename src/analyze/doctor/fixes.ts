/**
 * Ready-to-apply fixes of the doctor checks (YAML or kubectl commands, with their trade-offs).
 */
import type { Fix } from '../finding.js';
import { yamlDoc } from '../yaml-doc.js';

function dnsLabel(s: string): string {
  return s.toLowerCase().replace(/^\*\./, 'wildcard.').replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 50).replace(/-+$/, '');
}

/** A ServiceEntry registering an external host or address (networking.istio.io/v1). */
export function serviceEntryFix(o: { namespace: string; host: string; ip?: string; port: number; protocol: string; rank: number; why: string }): Fix {
  const hosts = o.ip ? [`${o.ip.replace(/[.:]/g, '-')}.external`] : [o.host];
  const spec = {
    hosts,
    ...(o.ip ? { addresses: [`${o.ip}/${o.ip.includes(':') ? 128 : 32}`] } : {}),
    ports: [{ number: o.port, name: `${o.protocol.toLowerCase()}-${o.port}`, protocol: o.protocol }],
    location: 'MESH_EXTERNAL',
    resolution: o.ip ? 'NONE' : 'DNS',
  };
  return {
    rank: o.rank,
    title: `Register ${o.ip ?? o.host}:${o.port} with a ServiceEntry`,
    tradeoffs: `${o.why} Keeps mesh telemetry and policy for this destination and works under REGISTRY_ONLY; visible to every namespace unless you add exportTo: ["."].`,
    kind: 'yaml',
    content: yamlDoc({ apiVersion: 'networking.istio.io/v1', kind: 'ServiceEntry', metadata: { name: `egress-${dnsLabel(o.ip ?? o.host)}-${o.port}`, namespace: o.namespace }, spec }),
  };
}

/** kubectl patch of a workload's pod template labels (rolls the pods). */
export function templateLabelFix(o: { kind: string; name: string; namespace: string; labels: Readonly<Record<string, string>>; rank: number }): Fix {
  const patch = JSON.stringify({ spec: { template: { metadata: { labels: o.labels } } } });
  return {
    rank: o.rank,
    title: `Add ${Object.entries(o.labels).map(([k, v]) => `${k}=${v}`).join(',')} to the pod template of ${o.kind.toLowerCase()}/${o.name}`,
    tradeoffs: 'Permanent: new pods carry the label. The patch changes the pod template, so the workload rolls its pods; the selector is unchanged.',
    kind: 'command',
    content: `kubectl patch ${o.kind.toLowerCase()} ${o.name} -n ${o.namespace} --type merge -p '${patch}'`,
  };
}

/** kubectl label on running pods (immediate, lost when they are replaced). */
export function podLabelFix(o: { pods: readonly string[]; namespace: string; labels: Readonly<Record<string, string>>; rank: number; overwrite?: boolean }): Fix {
  const kv = Object.entries(o.labels).map(([k, v]) => `${k}=${v}`).join(' ');
  return {
    rank: o.rank,
    title: 'Label the running pods now',
    tradeoffs: 'Takes effect at once (Istio updates the subset\'s endpoints), but pods created later lack the label: patch the pod template as well.',
    kind: 'command',
    content: `kubectl label pod -n ${o.namespace} ${o.pods.join(' ')} ${kv}${o.overwrite ? ' --overwrite' : ''}`,
  };
}
