/**
 * Seed 002 as the e2e tests stand it up: an app in `shop` with a sidecar whose proxy serves a
 * scenario dump, the HTTP Service that owns port 7000 in another namespace, and the mesh config.
 * - 'modern': Istio 1.26 proxy under REGISTRY_ONLY; admin-console.tools owns 0.0.0.0_7000
 *   (test/scenarios/seed002-modern/registry-only.json).
 * - 'istio14': the incident as it happened, Istio 1.4.8 under ALLOW_ANY; paas-gateway.infra owns
 *   0.0.0.0_7000, whose match-all HCM chain answers Redis with HTTP 400
 *   (test/scenarios/seed002-istio14-swallowed/config_dump.json).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { kubectlPath, meshConfigMap, namespace, service, workload, type ClusterOptions, type KubeObject, type TestServerOptions } from '../server/index.js';

export const SCENARIOS = path.resolve(import.meta.dirname, '../../scenarios');
export const REGISTRY_ONLY_DUMP = path.join(SCENARIOS, 'seed002-modern/registry-only.json');
export const ISTIO14_DUMP = path.join(SCENARIOS, 'seed002-istio14-swallowed/config_dump.json');

/** camelCase → snake_case for proto field names; map keys (labels, ISTIO_* metadata) are left alone. */
function snakeKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(snakeKeys);
  if (v === null || typeof v !== 'object') return v;
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [/^[a-z][a-zA-Z0-9]*$/.test(k) ? k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`) : k, snakeKeys(x)]));
}

let istio14Served: string | undefined;

/**
 * The Istio 1.4 dump as its Envoy's admin API serves it. The scenario file was printed by istioctl
 * (camelCase, protojson); Envoy itself prints proto field names (snake_case).
 */
export function istio14AdminDump(): string {
  if (istio14Served && fs.existsSync(istio14Served)) return istio14Served;
  // one file shared by test workers: written whole under a unique name, then renamed (atomic)
  const target = path.join(os.tmpdir(), 'mesh-egress-seed002-istio14-admin.json');
  const part = `${target}.${process.pid}.part`;
  fs.writeFileSync(part, JSON.stringify(snakeKeys(JSON.parse(fs.readFileSync(ISTIO14_DUMP, 'utf8')))));
  fs.renameSync(part, target);
  istio14Served = target;
  return target;
}

export interface Seed002 {
  readonly podName: string;
  readonly pod: KubeObject;
  readonly options: TestServerOptions;
  readonly cluster: ClusterOptions;
}

export interface Seed002Options {
  readonly variant?: 'modern' | 'istio14';
  readonly sidecar?: boolean;
  readonly ready?: boolean;
  readonly phase?: 'Pending' | 'Running';
  readonly podAnnotations?: Record<string, string>;
  readonly podLabels?: Record<string, string>;
  /** replaces the default objects' mesh ConfigMap (null: none) */
  readonly meshConfig?: KubeObject | null;
  readonly extra?: readonly KubeObject[];
  readonly overrides?: Partial<ClusterOptions>;
}

export function seed002(o: Seed002Options = {}): Seed002 {
  const variant = o.variant ?? 'modern';
  const app = workload({
    name: 'checkout',
    namespace: 'shop',
    sidecar: o.sidecar ?? true,
    ...(o.ready !== undefined ? { ready: o.ready } : {}),
    ...(o.phase ? { phase: o.phase } : {}),
    ...(o.podAnnotations ? { annotations: o.podAnnotations } : {}),
    ...(o.podLabels ? { labels: o.podLabels } : {}),
  });
  const pod = app.pods[0]!;
  const podName = pod.metadata.name!;
  const owner =
    variant === 'modern'
      ? service({ name: 'admin-console', namespace: 'tools', clusterIP: '10.0.0.6', ports: [{ port: 7000, name: 'http-admin' }], selector: { app: 'admin-console' } })
      : service({ name: 'paas-gateway', namespace: 'infra', clusterIP: '10.96.41.7', ports: [{ port: 7000, name: 'http' }], selector: { app: 'paas-gateway' } });
  const mesh = o.meshConfig === undefined ? meshConfigMap({ outboundTrafficPolicy: variant === 'modern' ? 'REGISTRY_ONLY' : 'ALLOW_ANY' }) : o.meshConfig;
  const cluster: ClusterOptions = {
    objects: [
      namespace('shop', { 'istio-injection': 'enabled' }),
      namespace(variant === 'modern' ? 'tools' : 'infra'),
      namespace('istio-system'),
      ...app.all,
      owner,
      ...(mesh ? [mesh] : []),
      ...(o.extra ?? []),
    ],
    ...(o.sidecar === false
      ? {}
      : {
          sidecars: {
            [`shop/${podName}`]:
              variant === 'modern'
                ? { configDump: REGISTRY_ONLY_DUMP }
                : // an Envoy of Istio 1.4's age predates config_dump's resource=, mask= and name_regex=
                  { configDump: istio14AdminDump(), configDumpOptions: { unsupportedParams: ['resource', 'mask', 'name_regex'] } },
          },
        }),
    ...o.overrides,
  };
  return { podName, pod, cluster, options: { clusters: { prod: cluster } } };
}

/** The environment the CLI runs kubectl with: the test server's kubeconfig and a pinned kubectl. */
export function cliEnv(kubectlEnv: Record<string, string>, version: string): Record<string, string> {
  return { ...kubectlEnv, MESH_EGRESS_KUBECTL: kubectlPath(version) };
}
