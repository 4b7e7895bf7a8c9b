/**
 * `snapshot TARGET -f FILE.tar.gz`: everything the read-only verbs read, for offline analysis and
 * support tickets. Read-only; secrets scrubbed (no Secret is read, the proxy's secrets section is
 * dropped, application env values and last-applied annotations are redacted).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { podFacts } from '../analyze/trace/pod-settings.js';
import { SNAPSHOT_SCHEMA, writeSnapshot, type SnapshotItem, type SnapshotManifest } from '../collect/archives.js';
import { readClusterView, resolveTarget } from '../collect/cluster.js';
import { readDumpDocument } from '../collect/dump-files.js';
import { openProxyAdmin, type ProxyAdmin } from '../collect/envoy-admin.js';
import type { KubeFlags } from '../collect/kube-flags.js';
import { checkKubectlVersion, Kubectl, KubectlError, resolveContext } from '../collect/kubectl.js';
import type { TargetSpec } from '../collect/target-spec.js';
import { LIST_RESOURCES, type CollectionGap, type KubeObject, type ListName } from '../model/cluster-view.js';
import { scrubObject } from '../model/scrub.js';
import { VERSION } from '../version.js';
import type { Io } from './io.js';
import { SNAPSHOT_COLLECTORS } from './snapshot-collectors.js';

export interface SnapshotOptions {
  readonly target: TargetSpec;
  readonly kube: KubeFlags;
  readonly out: string;
  /** istio-proxy log lines kept */
  readonly logLines: number;
  readonly prefer?: 'exec' | 'port-forward';
}

const LIST_FILES: Readonly<Record<ListName, string>> = {
  services: 'cluster/services.json',
  serviceEntries: 'cluster/serviceentries.json',
  sidecars: 'cluster/sidecars.json',
  destinationRules: 'cluster/destinationrules.json',
  virtualServices: 'cluster/virtualservices.json',
};

/** Copies a config dump without its SecretsConfigDump element (certificates and keys stay in the pod). */
function withoutSecrets(src: string, dst: string): number {
  const doc = readDumpDocument(src);
  const keep = doc.layout.configRanges.filter((r) => !r.type.endsWith('SecretsConfigDump'));
  const out = fs.openSync(dst, 'w');
  try {
    fs.writeSync(out, '{"configs":[\n');
    keep.forEach((r, i) => {
      if (i > 0) fs.writeSync(out, ',\n');
      // copy in 4 MiB pieces: the dump may be larger than a string can hold
      for (let at = r.start; at < r.end; at += 4 << 20) fs.writeSync(out, doc.source.read(at, Math.min(r.end, at + (4 << 20))));
    });
    fs.writeSync(out, '\n]}\n');
  } finally {
    fs.closeSync(out);
  }
  return fs.statSync(dst).size;
}

export async function takeSnapshot(opts: SnapshotOptions, io: Io, now: () => Date): Promise<SnapshotManifest> {
  const k = new Kubectl(opts.kube, { env: io.env });
  const [, ctx] = await Promise.all([checkKubectlVersion(k), resolveContext(k)]);
  const { pod } = await resolveTarget(k, opts.target, ctx.namespace);
  const facts = podFacts(pod);
  const items: SnapshotItem[] = [];
  const files = new Map<string, { text: string } | { path: string }>();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mesh-egress-snap-'));
  const put = (name: string, file: string, obj: unknown): void => {
    const text = `${JSON.stringify(obj, null, 2)}\n`;
    files.set(file, { text });
    items.push({ name, file, ok: true, bytes: Buffer.byteLength(text) });
  };
  try {
    put('pod', 'cluster/pod.json', scrubObject({ ...pod, kind: 'Pod', apiVersion: 'v1' } as KubeObject));
    const nsRead = await k.run(['get', 'namespace', facts.namespace, '-o', 'json'], { step: `reading namespace ${facts.namespace}` });
    if (nsRead.exitCode === 0) put('namespace', 'cluster/namespace.json', scrubObject(JSON.parse(nsRead.stdout) as KubeObject));
    else items.push({ name: 'namespace', ok: false, error: nsRead.stderr.trim().split('\n')[0] ?? 'failed' });
    const controlPlane = facts.controlPlaneNamespace ?? 'istio-system';
    const lists = Object.keys(LIST_RESOURCES) as ListName[];
    const proxyReachable = facts.sidecar !== 'none' && facts.phase === 'Running';
    const [view, proxy, extras] = await Promise.all([
      readClusterView(k, ctx.context, pod, { controlPlaneNamespace: controlPlane, revision: facts.revision, lists }),
      proxyReachable ? collectProxy(k, facts.namespace, facts.name, tmp, opts) : Promise.resolve(undefined),
      Promise.all(SNAPSHOT_COLLECTORS.map((c) => c.collect({ k, pod, namespace: facts.namespace, name: facts.name, controlPlaneNamespace: controlPlane, logLines: opts.logLines }))),
    ]);
    for (const extra of extras) {
      for (const f of extra.files) {
        files.set(f.file, { text: f.text });
        items.push({ name: f.name, file: f.file, ok: true, bytes: Buffer.byteLength(f.text) });
      }
      for (const g of extra.gaps) items.push({ name: g.what, ok: false, error: g.detail });
    }
    if (view.meshConfig) put('mesh config', 'cluster/meshconfig.json', view.meshConfig);
    for (const list of lists) {
      const got = view.lists[list];
      if (got) put(LIST_RESOURCES[list].resource, LIST_FILES[list], { apiVersion: 'v1', kind: 'List', items: got.map((o) => scrubObject(o)) });
    }
    const gaps: CollectionGap[] = [...view.gaps, ...extras.flatMap((e) => e.gaps)];
    for (const g of view.gaps) items.push({ name: g.what, ok: false, error: g.detail });
    if (!proxyReachable) {
      const why = facts.sidecar === 'none' ? 'the pod has no sidecar' : `the pod is ${facts.phase}`;
      items.push({ name: 'proxy configuration', ok: false, error: why });
    } else if (proxy) {
      for (const [file, p] of proxy.files) files.set(file, p);
      items.push(...proxy.items);
      gaps.push(...proxy.gaps);
    }
    const manifest: SnapshotManifest = {
      apiVersion: 'mesh-egress/v1',
      kind: 'Snapshot',
      schemaVersion: SNAPSHOT_SCHEMA,
      tool: { name: 'kubectl-mesh_egress', version: VERSION },
      context: ctx.context,
      collectedAt: now().toISOString(),
      target: { namespace: facts.namespace, pod: facts.name },
      items,
      gaps,
    };
    await writeSnapshot(opts.out, { manifest, files });
    return manifest;
  } finally {
    k.dispose();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

interface ProxyPieces {
  readonly files: Map<string, { text: string } | { path: string }>;
  readonly items: SnapshotItem[];
  readonly gaps: CollectionGap[];
}

async function collectProxy(k: Kubectl, namespace: string, name: string, tmp: string, opts: SnapshotOptions): Promise<ProxyPieces> {
  const files = new Map<string, { text: string } | { path: string }>();
  const items: SnapshotItem[] = [];
  const gaps: CollectionGap[] = [];
  let admin: ProxyAdmin | undefined;
  try {
    const opened = await openProxyAdmin(k, { namespace, name, container: 'istio-proxy' }, opts.prefer ? { prefer: opts.prefer } : {});
    admin = opened.admin;
    const a = admin;
    const step = async (label: string, fn: () => Promise<void>): Promise<void> => {
      try {
        await fn();
      } catch (e) {
        const detail = e instanceof Error ? e.message : String(e);
        items.push({ name: label, ok: false, error: detail });
        gaps.push({ what: label, reason: e instanceof KubectlError && e.kind === 'forbidden' ? 'forbidden' : 'error', detail });
      }
    };
    await Promise.all([
      step('proxy config_dump?include_eds', async () => {
        const raw = path.join(tmp, 'config_dump.raw.json');
        await a.download('config_dump?include_eds', raw);
        const clean = path.join(tmp, 'config_dump.json');
        const bytes = withoutSecrets(raw, clean);
        files.set('proxy/config_dump.json', { path: clean });
        items.push({ name: 'proxy config_dump?include_eds (secrets section removed)', file: 'proxy/config_dump.json', ok: true, bytes });
      }),
      step('proxy clusters?format=json', async () => {
        const f = path.join(tmp, 'clusters.json');
        const bytes = await a.download('clusters?format=json', f);
        files.set('proxy/clusters.json', { path: f });
        items.push({ name: 'proxy clusters?format=json', file: 'proxy/clusters.json', ok: true, bytes });
      }),
      step('proxy server_info', async () => {
        const text = await a.get('server_info');
        files.set('proxy/server_info.json', { text });
        items.push({ name: 'proxy server_info', file: 'proxy/server_info.json', ok: true, bytes: Buffer.byteLength(text) });
      }),
      step('proxy stats/prometheus', async () => {
        const f = path.join(tmp, 'stats.prom');
        const bytes = await a.download('stats/prometheus', f);
        files.set('proxy/stats.prom', { path: f });
        items.push({ name: 'proxy stats/prometheus', file: 'proxy/stats.prom', ok: true, bytes });
      }),
      step('istio-proxy logs', async () => {
        const text = await k.ok(['logs', '-n', namespace, name, '-c', 'istio-proxy', `--tail=${opts.logLines}`], `reading istio-proxy logs of ${namespace}/${name}`);
        files.set('proxy/istio-proxy.log', { text });
        items.push({ name: `istio-proxy logs (last ${opts.logLines} lines)`, file: 'proxy/istio-proxy.log', ok: true, bytes: Buffer.byteLength(text) });
      }),
    ]);
  } catch (e) {
    const detail = e instanceof Error ? e.message : String(e);
    items.push({ name: 'proxy admin API', ok: false, error: detail });
    gaps.push({ what: 'reach the proxy admin API', reason: e instanceof KubectlError && e.kind === 'forbidden' ? 'forbidden' : 'error', detail });
  } finally {
    await admin?.close();
  }
  return { files, items, gaps };
}
