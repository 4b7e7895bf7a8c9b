/**
 * Istio remote secrets (istioctl create-remote-secret): Secrets labelled `istio/multiCluster=true` in
 * the control-plane namespace, one data key per remote cluster. Semantics from Istio's source:
 *  - pkg/kube/multicluster/secretcontroller.go (addRemoteConfig): every data KEY is a cluster ID and its
 *    VALUE a kubeconfig; a key equal to istiod's own CLUSTER_ID is ignored ("ignoring cluster as it would
 *    overwrite the config cluster"); a cluster ID already registered by another secret is ignored
 *    ("cluster has already been registered").
 *  - pkg/kube/util.go (NewUntrustedRestConfig, sanitizeKubeConfig): the kubeconfig must load and validate;
 *    in ANY of its users (not only the current context's), auth providers other than oidc, client
 *    key/certificate FILES, tokenFile and exec are refused
 *    ("kubeconfig is not allowed: exec is not allowed") unless PILOT_INSECURE_MULTICLUSTER_KUBECONFIG_OPTIONS
 *    lists them.
 *  - istioctl/pkg/multicluster/remote_secret.go: name `istio-remote-secret-<cluster>`, annotation
 *    `networking.istio.io/cluster: <cluster>`, a bearer-token kubeconfig; it warns that a server on
 *    127.0.0.1/localhost is "likely not reachable from inside the cluster".
 *
 * This module turns one kubeconfig (text, in memory) into a summary that carries no credential: the
 * server's scheme, host and port, the KIND of authentication, and what Istio would object to. The
 * caller drops the kubeconfig text right after.
 */
import YAML from 'yaml';

export const MULTICLUSTER_SECRET_LABEL = 'istio/multiCluster';
export const CLUSTER_NAME_ANNOTATION = 'networking.istio.io/cluster';
export const REMOTE_SECRET_PREFIX = 'istio-remote-secret-';

export interface KubeconfigSummary {
  /** scheme://host[:port] of the current context's cluster (no path, no query) */
  readonly server?: string;
  readonly host?: string;
  /** the server is a loopback address: istiod would dial itself */
  readonly loopback: boolean;
  /** authentication kinds, e.g. ["bearer token"], ["exec (gke-gcloud-auth-plugin)"] */
  readonly auth: readonly string[];
  /** options sanitizeKubeConfig refuses unless allow-listed: exec, tokenFile, clientKey, clientCertificate, or an auth-provider name */
  readonly insecureOptions: readonly string[];
  /** why Istio cannot use it at all (load/validate failures) */
  readonly problems: readonly string[];
  readonly insecureSkipTlsVerify: boolean;
}

interface NamedEntry<T> {
  readonly name?: unknown;
  readonly cluster?: T;
  readonly user?: T;
  readonly context?: T;
}

function asRecord(v: unknown): Record<string, unknown> | undefined {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h.endsWith('.localhost') || /^127\.\d+\.\d+\.\d+$/.test(h) || h === '::1' || h === '0.0.0.0' || h === '::';
}

function serverParts(server: string): { server: string; host: string } | undefined {
  try {
    const u = new URL(server);
    return { server: `${u.protocol}//${u.host}`, host: u.hostname };
  } catch {
    // clientcmd accepts a bare host:port (defaults to https)
    const m = /^([^/:?#]+|\[[^\]]+\])(?::(\d+))?$/.exec(server.trim());
    return m ? { server: `https://${m[1]}${m[2] ? `:${m[2]}` : ''}`, host: m[1]! } : undefined;
  }
}

/** Summarises a remote-secret kubeconfig without keeping any credential. */
export function summarizeKubeconfig(text: string): KubeconfigSummary {
  const problems: string[] = [];
  const none: KubeconfigSummary = { loopback: false, auth: [], insecureOptions: [], problems, insecureSkipTlsVerify: false };
  if (text.trim() === '') {
    problems.push('kubeconfig is empty');
    return none;
  }
  let doc: Record<string, unknown> | undefined;
  try {
    doc = asRecord(YAML.parse(text));
  } catch {
    // the parser's message may quote the text: never pass it on
    problems.push('kubeconfig cannot be loaded: not valid YAML or JSON');
    return none;
  }
  if (!doc) {
    problems.push('kubeconfig cannot be loaded: not a kubeconfig document');
    return none;
  }
  const list = <T>(k: string): NamedEntry<T>[] => (Array.isArray(doc![k]) ? (doc![k] as NamedEntry<T>[]) : []);
  const current = str(doc['current-context']);
  if (!current) {
    problems.push('kubeconfig has no current-context: Istio uses the current context');
    return none;
  }
  const ctx = asRecord(list<unknown>('contexts').find((c) => c.name === current)?.context);
  if (!ctx) {
    problems.push(`kubeconfig is not valid: context "${current}" is not defined`);
    return none;
  }
  const clusterName = str(ctx.cluster);
  const userName = str(ctx.user);
  const cluster = asRecord(list<unknown>('clusters').find((c) => c.name === clusterName)?.cluster);
  if (!cluster) problems.push(`kubeconfig is not valid: cluster "${clusterName ?? ''}" of context "${current}" is not defined`);
  const user = userName ? asRecord(list<unknown>('users').find((u) => u.name === userName)?.user) : undefined;
  if (userName && !user) problems.push(`kubeconfig is not valid: user "${userName}" of context "${current}" is not defined`);
  const rawServer = str(cluster?.server);
  const parts = rawServer ? serverParts(rawServer) : undefined;
  if (cluster && !rawServer) problems.push('kubeconfig is not valid: the cluster has no server');
  else if (rawServer && !parts) problems.push('kubeconfig is not valid: the server is not a URL');
  const auth: string[] = [];
  const insecure: string[] = [];
  if (user) {
    if (str(user.token)) auth.push('bearer token');
    if (str(user.tokenFile)) {
      auth.push('token file');
      insecure.push('tokenFile');
    }
    if (str(user['client-certificate-data']) || str(user['client-key-data'])) auth.push('client certificate');
    if (str(user['client-certificate'])) {
      auth.push('client certificate file');
      insecure.push('clientCertificate');
    }
    if (str(user['client-key'])) {
      if (!auth.includes('client certificate file')) auth.push('client key file');
      insecure.push('clientKey');
    }
    const exec = asRecord(user.exec);
    if (exec) {
      const cmd = str(exec.command);
      auth.push(`exec${cmd ? `: ${cmd.split(/[\\/]/).pop()}` : ''}`);
      insecure.push('exec');
    }
    const provider = asRecord(user['auth-provider']);
    if (provider) {
      const name = str(provider.name) ?? '';
      auth.push(`auth provider ${name}`);
      if (name !== 'oidc') insecure.push(name);
    }
    if (str(user.username) || str(user.password)) auth.push('basic auth');
  }
  if (auth.length === 0) auth.push('none');
  // sanitizeKubeConfig walks EVERY user of the kubeconfig, not only the current context's: an unused
  // user with an exec plugin still gets the whole kubeconfig refused (pkg/kube/util.go sanitizeKubeConfig)
  for (const other of list<unknown>('users')) {
    const u = asRecord(other.user);
    if (!u || other.name === userName) continue;
    if (str(u.tokenFile)) insecure.push('tokenFile');
    if (str(u['client-certificate'])) insecure.push('clientCertificate');
    if (str(u['client-key'])) insecure.push('clientKey');
    if (asRecord(u.exec)) insecure.push('exec');
    const provider = asRecord(u['auth-provider']);
    if (provider && str(provider.name) !== 'oidc') insecure.push(str(provider.name) ?? '');
  }
  return {
    ...(parts ? { server: parts.server, host: parts.host } : {}),
    loopback: parts ? isLoopbackHost(parts.host) : false,
    auth,
    insecureOptions: [...new Set(insecure)],
    problems,
    insecureSkipTlsVerify: cluster?.['insecure-skip-tls-verify'] === true,
  };
}
