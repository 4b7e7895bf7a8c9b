/**
 * race-check's part of a snapshot (registered in snapshot-collectors.ts): the pod's events, the
 * lines of its container logs race-check reads, with kubelet timestamps (previous instances too,
 * credentials masked: see reduceLogForSnapshot), the nodes'
 * kubelet versions, and where its containers connect (Vault addresses as scheme/host/port only,
 * with the Service cluster IP when the host is a Service). The pod itself is stored by the
 * snapshot with application env values redacted, so the destinations are read here, before that.
 */
import { egressDestinations } from '../analyze/race/egress.js';
import { reduceLogForSnapshot } from '../analyze/race/log-lines.js';
import { collectPodEvidence, DEFAULT_LOG_BYTES, raceSnapshotFiles, readNodeVersions } from '../collect/race.js';
import type { SnapshotCollector } from './snapshot-collectors.js';

export const raceCollector: SnapshotCollector = {
  verb: 'race-check',
  collect: async ({ k, pod }) => {
    const node = pod.spec?.nodeName;
    const [evidence, nodes] = await Promise.all([collectPodEvidence(k, pod, { logBytes: DEFAULT_LOG_BYTES }, egressDestinations(pod)), readNodeVersions(k, node ? [node] : [])]);
    // only the lines race-check reads are kept, credentials masked (application logs are not ours)
    const reduced = { ...evidence, logs: evidence.logs.map((l) => (l.text === undefined ? l : { ...l, text: reduceLogForSnapshot(l.text) })) };
    return { files: raceSnapshotFiles(reduced, nodes), gaps: [...evidence.gaps, ...nodes.gaps] };
  },
};
