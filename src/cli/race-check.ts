/**
 * race-check's collection, live or from a snapshot, into the analysis input (analyze/race).
 * Live: the pods TARGET names (a workload's newest revision), then per pod in parallel its events,
 * logs and destinations, alongside the nodes' kubelet versions and the mesh config.
 */
import { raceCheck } from '../analyze/race/check.js';
import { egressDestinations } from '../analyze/race/egress.js';
import { newestPods } from '../analyze/race/newest.js';
import type { RaceInput, RaceReport } from '../analyze/race/types.js';
import { podFacts } from '../analyze/trace/pod-settings.js';
import { readSnapshot } from '../collect/archives.js';
import { readClusterView } from '../collect/cluster.js';
import { checkKubectlVersion, Kubectl, resolveContext } from '../collect/kubectl.js';
import { collectPodEvidence, mapLimited, readNodeVersions, readRacePods, readRaceSnapshot } from '../collect/race.js';
import { DataError } from '../model/errors.js';
import type { RaceCheckOptions } from './commands/race-check.js';
import type { Io } from './io.js';
import { progressFor } from './progress.js';

/** Pods checked at the same time (each one starts several kubectl calls). */
const POD_CONCURRENCY = 4;

export async function raceReport(opts: RaceCheckOptions, io: Io, now: () => Date = () => new Date()): Promise<RaceReport> {
  return raceCheck(opts.input.kind === 'snapshot' ? await fromSnapshot(opts.input.file) : await live(opts, io, now));
}

async function fromSnapshot(file: string): Promise<RaceInput> {
  const contents = await readSnapshot(file);
  try {
    const pod = contents.view.pod;
    if (!pod) throw new DataError(file, 'has no cluster/pod.json: take the snapshot again');
    const race = readRaceSnapshot(pod, contents.readText, file);
    const target = contents.manifest?.target;
    return {
      pods: [race?.evidence ?? { pod, logs: [], gaps: [] }],
      ...(race?.nodes ? { nodes: race.nodes } : {}),
      allNodes: race?.allNodes ?? false,
      ...(contents.view.meshConfig ? { meshConfig: contents.view.meshConfig } : {}),
      collectedAt: contents.manifest?.collectedAt ?? new Date(0).toISOString(),
      selection: { what: target ? `pod ${target.namespace}/${target.pod}` : `pod ${pod.metadata?.namespace}/${pod.metadata?.name}` },
      source: { kind: 'snapshot', file, ...(contents.view.context ? { context: contents.view.context } : {}) },
      gaps: [],
    };
  } finally {
    contents.dispose();
  }
}

async function live(opts: RaceCheckOptions, io: Io, now: () => Date): Promise<RaceInput> {
  if (opts.input.kind !== 'live') throw new Error('live input expected');
  const input = opts.input;
  const progress = progressFor(io);
  const k = new Kubectl(input.kube, { env: io.env, onCall: (_args, step) => progress.step(step) });
  try {
    const [, ctx] = await Promise.all([checkKubectlVersion(k), resolveContext(k)]);
    const selected = await readRacePods(k, input.target, ctx.namespace);
    const newest = input.target.kind === 'workload' ? newestPods(selected.pods, input.target, selected.replicaSets) : { pods: selected.pods };
    // pods that are not ready are likelier to show the problem: they go first when --max-pods cuts
    const ready = (p: (typeof newest.pods)[number]): number => ((p.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True') ? 1 : 0);
    const ordered = [...newest.pods].sort((a, b) => ready(a) - ready(b) || `${a.metadata?.namespace}/${a.metadata?.name}`.localeCompare(`${b.metadata?.namespace}/${b.metadata?.name}`));
    const pods = ordered.slice(0, opts.maxPods);
    const notes = [newest.note, newest.pods.length > pods.length ? `${newest.pods.length} pods match; checking ${pods.length} (pods not ready first; raise --max-pods)` : undefined].filter((n): n is string => n !== undefined);
    const facts = podFacts(pods[0]!);
    const nodeNames = [...new Set(pods.map((p) => p.spec?.nodeName).filter((n): n is string => n !== undefined))].sort();
    const [view, nodes, evidence] = await Promise.all([
      readClusterView(k, ctx.context, pods[0]!, { controlPlaneNamespace: facts.controlPlaneNamespace ?? 'istio-system', revision: facts.revision, lists: [] }),
      readNodeVersions(k, nodeNames),
      mapLimited(pods, POD_CONCURRENCY, (p) => collectPodEvidence(k, p, { logBytes: opts.logBytes }, egressDestinations(p))),
    ]);
    const collectedAt = now().toISOString();
    return {
      pods: evidence,
      ...(nodes.nodes ? { nodes: nodes.nodes } : {}),
      allNodes: nodes.allNodes,
      ...(view.meshConfig ? { meshConfig: view.meshConfig } : {}),
      collectedAt,
      selection: { what: selected.what, ...(notes.length ? { note: notes.join('; ') } : {}) },
      source: { kind: 'live', context: ctx.context },
      gaps: [...selected.gaps, ...view.gaps, ...nodes.gaps],
    };
  } finally {
    progress.done();
    k.dispose();
  }
}
