/**
 * Snapshot archives (written by `snapshot`, read by `--snapshot`) and `istioctl bug-report`
 * archives (read by `--bug-report ARCHIVE --pod ns/name`). Both become the same pieces a live
 * collection produces: a ClusterView and the proxy's configuration documents.
 *
 * Snapshot layout (tar.gz, all paths under `snapshot/`):
 *   manifest.json                      what was collected, from where, when, and what failed
 *   cluster/pod.json, namespace.json, meshconfig.json, <list>.json (services, serviceentries, ...)
 *   proxy/config_dump.json             config_dump?include_eds without the secrets section
 *   proxy/clusters.json, server_info.json, stats.prom, istio-proxy.log
 * Bug-report layout (tools/bug-report/pkg/archive/archive.go): bug-report/proxies/<ns>/<pod>/
 * {config_dump?include_eds, clusters (text), istio-proxy.log}, bug-report/cluster/{k8s-resources, crs}.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import * as tar from 'tar';
import type { ClusterView, CollectionGap, KubeObject, ListName, MeshConfigRef, Pod } from '../model/cluster-view.js';
import { LIST_RESOURCES } from '../model/cluster-view.js';
import { parseClustersText } from '../model/clusters-text.js';
import type { IndexedDocument } from '../model/config-dump.js';
import { DataError, UsageError } from '../model/errors.js';
import { indexBuffer, readDumpDocument } from './dump-files.js';

export const SNAPSHOT_SCHEMA = 1;

export interface SnapshotItem {
  readonly name: string;
  readonly file?: string;
  readonly ok: boolean;
  readonly bytes?: number;
  readonly error?: string;
}

export interface SnapshotManifest {
  readonly apiVersion: 'mesh-egress/v1';
  readonly kind: 'Snapshot';
  readonly schemaVersion: number;
  readonly tool: { readonly name: string; readonly version: string };
  readonly context: string;
  readonly collectedAt: string;
  readonly target: { readonly namespace: string; readonly pod: string };
  readonly items: readonly SnapshotItem[];
  readonly gaps: readonly CollectionGap[];
}

/** What an archive gives back. */
export interface ArchiveContents {
  readonly kind: 'snapshot' | 'bug-report';
  readonly view: ClusterView;
  readonly docs: readonly IndexedDocument[];
  readonly manifest?: SnapshotManifest;
  readonly proxyLog?: string;
  readonly stats?: string;
  /**
   * Any other file of the archive by its path inside it (snapshot: "cluster/events.json"; bug-report:
   * relative to the pod's proxies/<ns>/<pod>/ folder), undefined when absent. Valid until dispose.
   */
  readonly readText: (rel: string) => string | undefined;
  /** remove the temporary extraction directory */
  readonly dispose: () => void;
}

const LIST_FILES: Readonly<Record<ListName, string>> = {
  services: 'services.json',
  serviceEntries: 'serviceentries.json',
  sidecars: 'sidecars.json',
  destinationRules: 'destinationrules.json',
  virtualServices: 'virtualservices.json',
};

function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'mesh-egress-'));
}

async function extract(file: string, dir: string, keep: (p: string) => boolean): Promise<void> {
  if (!fs.existsSync(file)) throw new DataError(file, 'cannot open: no such file');
  try {
    await tar.x({ file, cwd: dir, filter: (p) => keep(p.replace(/^\.\//, '')), strict: true });
  } catch (e) {
    throw new DataError(file, `not a readable tar.gz archive: ${(e as Error).message.split('\n')[0]}`);
  }
}

function readJson<T>(file: string, archive: string): T {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as T;
  } catch (e) {
    throw new DataError(archive, `${path.basename(file)} is not valid JSON: ${(e as Error).message}`);
  }
}

// ---- writing ----------------------------------------------------------------------------------

export interface SnapshotWrite {
  readonly manifest: SnapshotManifest;
  /** archive path → content (a string, or a path of a file to copy in) */
  readonly files: ReadonlyMap<string, { text: string } | { path: string }>;
}

export async function writeSnapshot(out: string, w: SnapshotWrite): Promise<void> {
  const dir = tempDir();
  try {
    const root = path.join(dir, 'snapshot');
    fs.mkdirSync(root);
    const names: string[] = ['snapshot/manifest.json'];
    fs.writeFileSync(path.join(root, 'manifest.json'), `${JSON.stringify(w.manifest, null, 2)}\n`);
    for (const [name, content] of w.files) {
      const target = path.join(root, name);
      fs.mkdirSync(path.dirname(target), { recursive: true });
      if ('text' in content) fs.writeFileSync(target, content.text);
      else fs.copyFileSync(content.path, target);
      names.push(`snapshot/${name}`);
    }
    try {
      await tar.c({ gzip: true, file: out, cwd: dir, portable: true, noMtime: false }, names);
    } catch (e) {
      throw new UsageError(`cannot write ${out}: ${(e as Error).message}`);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

// ---- reading snapshots ------------------------------------------------------------------------

export async function readSnapshot(file: string): Promise<ArchiveContents> {
  const dir = tempDir();
  const dispose = (): void => fs.rmSync(dir, { recursive: true, force: true });
  try {
    await extract(file, dir, (p) => p.startsWith('snapshot/'));
    const root = path.join(dir, 'snapshot');
    const manifestPath = path.join(root, 'manifest.json');
    if (!fs.existsSync(manifestPath)) throw new DataError(file, 'has no snapshot/manifest.json: not a kubectl-mesh_egress snapshot (for istioctl bug-report archives use --bug-report)');
    const manifest = readJson<SnapshotManifest>(manifestPath, file);
    if (manifest.kind !== 'Snapshot' || manifest.schemaVersion !== SNAPSHOT_SCHEMA) {
      throw new DataError(file, `snapshot schema ${String(manifest.schemaVersion)} is not supported by this version (${SNAPSHOT_SCHEMA}): use a matching kubectl-mesh_egress`);
    }
    const at = (rel: string): string => path.join(root, rel);
    const has = (rel: string): boolean => fs.existsSync(at(rel));
    const lists: Partial<Record<ListName, KubeObject[]>> = {};
    for (const [name, f] of Object.entries(LIST_FILES) as [ListName, string][]) {
      if (has(`cluster/${f}`)) lists[name] = readJson<{ items?: KubeObject[] }>(at(`cluster/${f}`), file).items ?? [];
    }
    let proxyState: string | undefined;
    if (has('proxy/server_info.json')) {
      try {
        proxyState = (JSON.parse(fs.readFileSync(at('proxy/server_info.json'), 'utf8')) as { state?: string }).state;
      } catch {
        // an unreadable server_info only loses the proxy state
      }
    }
    const view: ClusterView = {
      context: manifest.context,
      ...(proxyState ? { proxyState } : {}),
      ...(has('cluster/pod.json') ? { pod: readJson<Pod>(at('cluster/pod.json'), file) } : {}),
      ...(has('cluster/meshconfig.json') ? { meshConfig: readJson<MeshConfigRef>(at('cluster/meshconfig.json'), file) } : {}),
      lists,
      gaps: manifest.gaps,
    };
    const docs: IndexedDocument[] = [];
    if (has('proxy/config_dump.json')) docs.push(readDumpDocument(at('proxy/config_dump.json')));
    if (has('proxy/clusters.json')) docs.push(readDumpDocument(at('proxy/clusters.json')));
    return {
      kind: 'snapshot',
      view,
      docs,
      manifest,
      ...(has('proxy/istio-proxy.log') ? { proxyLog: fs.readFileSync(at('proxy/istio-proxy.log'), 'utf8') } : {}),
      ...(has('proxy/stats.prom') ? { stats: fs.readFileSync(at('proxy/stats.prom'), 'utf8') } : {}),
      readText: (rel) => (!rel.includes('..') && has(rel) ? fs.readFileSync(at(rel), 'utf8') : undefined),
      dispose,
    };
  } catch (e) {
    dispose();
    throw e;
  }
}

// ---- reading istioctl bug-report archives -----------------------------------------------------

/** The Kubernetes objects of a multi-document YAML file (List items flattened). */
export function yamlDocuments(text: string, source: string): KubeObject[] {
  const out: KubeObject[] = [];
  try {
    for (const doc of YAML.parseAllDocuments(text)) {
      const v = doc.toJS() as (KubeObject & { items?: KubeObject[] }) | null;
      if (!v) continue;
      if (Array.isArray(v.items)) out.push(...v.items);
      else if (v.kind) out.push(v);
    }
  } catch (e) {
    throw new DataError(source, `cluster resources are not valid YAML: ${(e as Error).message.split('\n')[0]}`);
  }
  return out;
}

export function parsePodRef(ref: string): { namespace: string; name: string } {
  const m = /^([^/]+)\/([^/]+)$/.exec(ref);
  if (!m) throw new UsageError(`--pod must be NAMESPACE/NAME, got "${ref}"`);
  return { namespace: m[1]!, name: m[2]! };
}

export async function readBugReport(file: string, podRef: string): Promise<ArchiveContents> {
  const { namespace, name } = parsePodRef(podRef);
  const dir = tempDir();
  const dispose = (): void => fs.rmSync(dir, { recursive: true, force: true });
  try {
    // the archive's top folder is "bug-report" (archive.DirToArchive); accept any prefix before it
    const proxyDir = `proxies/${namespace}/${name}/`;
    await extract(file, dir, (p) => p.includes(`/${proxyDir}`) || p.startsWith(proxyDir) || /(^|\/)cluster\/(k8s-resources|crs)$/.test(p));
    const found = (suffix: string): string | undefined => {
      const walk = (d: string): string | undefined => {
        for (const e of fs.readdirSync(d, { withFileTypes: true })) {
          const p = path.join(d, e.name);
          if (e.isDirectory()) {
            const r = walk(p);
            if (r) return r;
          } else if (p.endsWith(suffix)) return p;
        }
        return undefined;
      };
      return walk(dir);
    };
    const dumpPath = found(`${proxyDir}config_dump?include_eds`) ?? found(`${proxyDir}config_dump`);
    if (!dumpPath) {
      throw new DataError(file, `has no proxy data for pod ${namespace}/${name} (bug-report/proxies/${namespace}/${name}/config_dump?include_eds): check --pod, or whether bug-report included that namespace`);
    }
    const docs: IndexedDocument[] = [readDumpDocument(dumpPath)];
    const clustersPath = found(`${proxyDir}clusters`);
    if (clustersPath) {
      const text = fs.readFileSync(clustersPath, 'utf8');
      const parsed = text.trimStart().startsWith('{') ? undefined : parseClustersText(text);
      if (parsed) docs.push(indexBuffer(`${file}:${proxyDir}clusters`, Buffer.from(JSON.stringify(parsed))));
      else if (text.trimStart().startsWith('{')) docs.push(readDumpDocument(clustersPath));
    }
    const gaps: CollectionGap[] = [];
    const k8sPath = found('cluster/k8s-resources');
    const crsPath = found('cluster/crs');
    const objects = [...(k8sPath ? yamlDocuments(fs.readFileSync(k8sPath, 'utf8'), file) : []), ...(crsPath ? yamlDocuments(fs.readFileSync(crsPath, 'utf8'), file) : [])];
    if (!k8sPath) gaps.push({ what: 'read cluster resources (bug-report/cluster/k8s-resources)', reason: 'not-found', detail: 'the archive has no cluster resources (bug-report --skip-cluster-dump?)' });
    if (!crsPath) gaps.push({ what: 'read Istio resources (bug-report/cluster/crs)', reason: 'not-found', detail: 'the archive has no custom resources' });
    const pod = objects.find((o) => o.kind === 'Pod' && o.metadata?.namespace === namespace && o.metadata?.name === name) as Pod | undefined;
    const lists: Partial<Record<ListName, KubeObject[]>> = {};
    for (const [list, spec] of Object.entries(LIST_RESOURCES) as [ListName, (typeof LIST_RESOURCES)[ListName]][]) {
      const source = spec.group === '' ? k8sPath : crsPath;
      if (source) lists[list] = objects.filter((o) => o.kind === spec.kind && (spec.group === '' || (o.apiVersion ?? '').startsWith(`${spec.group}/`)));
    }
    const cms = objects.filter((o) => o.kind === 'ConfigMap' && (o.metadata?.name === 'istio' || o.metadata?.name?.startsWith('istio-')) && o.data?.mesh !== undefined);
    const cm = cms.find((o) => o.metadata?.name === 'istio') ?? cms[0];
    let meshConfig: MeshConfigRef | undefined;
    if (cm) {
      try {
        meshConfig = { namespace: cm.metadata?.namespace ?? '', name: cm.metadata?.name ?? '', mesh: (YAML.parse(cm.data?.mesh ?? '') as Record<string, unknown> | null) ?? {} };
      } catch {
        gaps.push({ what: `parse the mesh config ${cm.metadata?.namespace}/${cm.metadata?.name}`, reason: 'error', detail: 'invalid YAML' });
      }
    }
    const logPath = found(`${proxyDir}istio-proxy.log`);
    const statsPath = found(`${proxyDir}stats/prometheus`);
    return {
      kind: 'bug-report',
      view: { ...(pod ? { pod } : {}), ...(meshConfig ? { meshConfig } : {}), lists, gaps },
      docs,
      ...(logPath ? { proxyLog: fs.readFileSync(logPath, 'utf8') } : {}),
      ...(statsPath ? { stats: fs.readFileSync(statsPath, 'utf8') } : {}),
      readText: (rel) => {
        if (rel.includes('..')) return undefined;
        const f = found(`${proxyDir}${rel}`);
        return f ? fs.readFileSync(f, 'utf8') : undefined;
      },
      dispose,
    };
  } catch (e) {
    dispose();
    throw e;
  }
}
