/**
 * Opens a snapshot or an istioctl bug-report for one pod, the way every offline verb needs it: the
 * archive's contents, the proxy configuration as a ConfigDump (undefined for a pod without a
 * sidecar), and where the data came from. A pod that has a sidecar but whose archive holds no proxy
 * configuration is a data error (the collection failed), never a silent "no sidecar".
 */
import type { TraceSource } from '../analyze/trace/types.js';
import { readBugReport, readSnapshot, type ArchiveContents } from '../collect/archives.js';
import { ConfigDump } from '../model/config-dump.js';
import { DataError } from '../model/errors.js';

export interface PodArchive {
  readonly contents: ArchiveContents;
  /** the proxy's configuration; undefined when the pod has no sidecar */
  readonly dump: ConfigDump | undefined;
  readonly source: TraceSource;
  /** removes the temporary extraction */
  readonly dispose: () => void;
}

export async function openPodArchive(input: { readonly kind: 'snapshot'; readonly file: string } | { readonly kind: 'bug-report'; readonly file: string; readonly pod: string }): Promise<PodArchive> {
  const contents = input.kind === 'snapshot' ? await readSnapshot(input.file) : await readBugReport(input.file, input.pod);
  try {
    const hasConfig = contents.docs.length > 0;
    const spec = contents.view.pod?.spec;
    const declaresSidecar = (spec?.containers ?? []).concat(spec?.initContainers ?? []).some((c) => c.name === 'istio-proxy');
    if (!hasConfig && declaresSidecar) {
      const failed = contents.manifest?.items.find((i) => i.name.startsWith('proxy') && !i.ok);
      throw new DataError(input.file, `has no proxy configuration for the pod${failed?.error ? ` (collection failed: ${failed.error})` : ''}: take the snapshot again when the proxy is reachable`);
    }
    const pod = contents.manifest ? `${contents.manifest.target.namespace}/${contents.manifest.target.pod}` : input.kind === 'bug-report' ? input.pod : undefined;
    return {
      contents,
      dump: hasConfig ? new ConfigDump(contents.docs) : undefined,
      source: { kind: input.kind, ...(contents.view.context ? { context: contents.view.context } : {}), ...(pod ? { pod } : {}) },
      dispose: contents.dispose,
    };
  } catch (e) {
    contents.dispose();
    throw e;
  }
}
