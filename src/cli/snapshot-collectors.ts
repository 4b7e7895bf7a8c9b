/**
 * What each verb adds to a snapshot beyond the pod, the proxy's configuration, stats and logs
 * (snapshot.ts): one collector per verb, registered below. A collector reads read-only, returns
 * files to store under the archive (paths like "cluster/events.json"), and reports what it could
 * not read as gaps; the verb's offline mode reads the same paths back (ArchiveContents.readText).
 * Nothing here may store a secret (scrub objects with model/scrub.ts).
 */
import type { Kubectl } from '../collect/kubectl.js';
import type { CollectionGap, Pod } from '../model/cluster-view.js';
import { doctorCollector } from './doctor-snapshot.js';
import { multiclusterCollector } from './multicluster-snapshot.js';
import { raceCollector } from './race-snapshot.js';
import { whyBlackholeCollector } from './whyblackhole-snapshot.js';

export interface CollectorInput {
  readonly k: Kubectl;
  readonly pod: Pod;
  readonly namespace: string;
  readonly name: string;
  /** the control plane's namespace (istio-system unless the proxy says otherwise) */
  readonly controlPlaneNamespace: string;
  readonly logLines: number;
}

export interface CollectedFile {
  /** path inside the archive, under snapshot/ */
  readonly file: string;
  /** what it is, for the manifest */
  readonly name: string;
  readonly text: string;
}

export interface SnapshotCollector {
  /** the verb it serves, for messages */
  readonly verb: string;
  readonly collect: (input: CollectorInput) => Promise<{ files: CollectedFile[]; gaps: CollectionGap[] }>;
}

/** Registered collectors, run in parallel with the rest of the snapshot. */
export const SNAPSHOT_COLLECTORS: readonly SnapshotCollector[] = [raceCollector, multiclusterCollector, whyBlackholeCollector, doctorCollector];
