/**
 * doctor's e2e clusters: the scenarios of test/doctor/scenarios.ts served by the test server (each
 * proxy an Envoy admin emulator holding the scenario's dump, each istio-proxy log the scenario's),
 * and the environment the CLI runs kubectl in.
 */
import type { ClusterOptions, TestServerOptions } from '../server/index.js';
import { kubectlPath } from '../server/index.js';
import type { DoctorScenario } from '../../doctor/scenarios.js';

export function scenarioCluster(s: DoctorScenario, extra: Partial<ClusterOptions> = {}): ClusterOptions {
  return {
    objects: [...s.objects],
    sidecars: Object.fromEntries(Object.entries(s.dumps).map(([k, d]) => [k, { configDump: structuredClone(d) as never }])),
    logs: Object.fromEntries(Object.entries(s.logs).map(([k, l]) => [k, { 'istio-proxy': l }])),
    ...extra,
  };
}

export function scenarioServer(s: DoctorScenario, extra: Partial<ClusterOptions> = {}): TestServerOptions {
  return { clusters: { prod: scenarioCluster(s, extra) } };
}

export function cliEnv(kubectlEnv: Record<string, string>, version: string): Record<string, string> {
  return { ...kubectlEnv, MESH_EGRESS_KUBECTL: kubectlPath(version) };
}

/**
 * A doctor document without what only says where it came from, to compare runs on different
 * inputs of the same cluster: the source, the probe step's advice (offline it cannot run), and
 * which proxy endpoint the endpoint health was read from (a live trace asks EDS; a snapshot also
 * holds /clusters, which the trace prefers), and why a pod has no sidecar (MEG016: trace's live
 * path reads the namespace and annotations to say why, its offline path says only that there is
 * no istio-proxy container).
 */
export function comparable(doc: Record<string, unknown>): Record<string, unknown> {
  const { source: _s, ...rest } = doc;
  void _s;
  const text = JSON.stringify(rest)
    .replace(/source: (EDS \(include_eds\)|\/clusters);/g, 'source: (input-specific);')
    .replace(/(has no istio-proxy sidecar: its connections go out directly\.) (?:[^"\\]|\\.)*"/g, '$1 (why: input-specific)"');
  const parsed = JSON.parse(text) as Record<string, unknown>;
  const steps = (parsed.steps as Record<string, unknown>[]).map((st) => (st.id === 'probe' ? { ...st, reason: '(input-specific)' } : st));
  return { ...parsed, steps };
}
