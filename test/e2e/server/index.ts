/**
 * In-process Kubernetes API test server for e2e tests driven by the real kubectl binaries.
 *
 *   const srv = await startTestServer({ clusters: { prod: { objects: [...], sidecars: { 'shop/api-0': { configDump } } } } });
 *   const r = await runKubectl('1.33', ['get', 'pods', '-n', 'shop', '-o', 'json'], { env: srv.kubectlEnv() });
 *   srv.requests.filter((q) => q.mutating)   // → []
 *   await srv.stop();
 */
export { startTestServer, type TestServer } from './server.js';
export { requestInfo } from './http.js';
export type { TestCluster } from './cluster.js';
export type {
  ClusterOptions,
  CreateHook,
  DenyRule,
  ExecContext,
  ExecHandler,
  ExecResult,
  ExecRule,
  FailureRule,
  KubeObject,
  LogLine,
  LogSource,
  PodLogs,
  PortTarget,
  RecordedRequest,
  ResourceDef,
  TestServerOptions,
} from './types.js';
export {
  DEFAULT_ISTIO_VERSION,
  DEFAULT_TIMESTAMP,
  configMap,
  deployment,
  istioObject,
  meshConfigMap,
  namespace,
  ownerRef,
  pod,
  replicaSet,
  service,
  serviceEntry,
  stableUid,
  workload,
  type ContainerSpec,
  type PodOptions,
  type ServiceEntryOptions,
  type ServiceOptions,
  type SidecarOptions,
  type WorkloadOptions,
} from './builders.js';
export { BUILTIN_RESOURCES, ISTIO_RESOURCES } from './registry.js';
export { EnvoyAdmin, ENVOY_LOGGERS, LOG_LEVELS, pilotAgent, type EnvoyAdminOptions } from './envoy/admin.js';
export { configDumpResponse, parseEnvoyQuery, compileRe2FullMatch, type ConfigDump, type AdminResponse, type ConfigDumpQueryOptions } from './envoy/config-dump.js';
export { kubectlDir, kubectlPath, kubectlVersions, runKubectl, startPortForward, type KubectlResult, type PortForward, type RunOptions } from './kubectl.js';
