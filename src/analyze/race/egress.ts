/**
 * Init containers that open connections before the application starts, where they connect, and
 * whether the pod's capture rules redirect them to a proxy that is not running yet.
 *
 * Vault: the vault-k8s injector adds `vault-agent-init` (unless agent-pre-populate is false) and
 * writes the Vault address it uses into the pod annotation vault.hashicorp.com/service
 * (agent-inject/agent/annotations.go Init); its containers carry the agent configuration in
 * VAULT_CONFIG (base64 JSON, vault.address). Bank-Vaults uses vault.security.banzaicloud.io/vault-addr.
 * Any container may carry VAULT_ADDR.
 */
import type { V1Container } from '@kubernetes/client-node';
import { DEFAULT_CAPTURE, evaluateCapture, type CaptureSettings } from '../../envoy/iptables.js';
import { parseIp } from '../../envoy/ip.js';
import type { Pod } from '../../model/cluster-view.js';
import type { PodFacts } from '../trace/pod-settings.js';
import type { EgressDestination } from './types.js';

const VAULT_IMAGE = /(^|\/)(hashicorp\/vault|vault)(-k8s|-enterprise)?(:|@|$)/;

export function isVaultAgent(c: V1Container, pod: Pod): boolean {
  const inject = pod.metadata?.annotations?.['vault.hashicorp.com/agent-inject'] === 'true';
  return (inject && c.name.startsWith('vault-agent')) || VAULT_IMAGE.test(c.image ?? '');
}

/** "https://vault.vault.svc:8200" → scheme, host, port (default by scheme; Vault's own 8200 when neither). */
export function parseAddress(value: string): { scheme?: string; host: string; port: number } | undefined {
  const text = value.trim();
  if (!text) return undefined;
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? text : `tcp://${text}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    return undefined;
  }
  if (!url.hostname) return undefined;
  const scheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? url.protocol.replace(/:$/, '') : undefined;
  const port = url.port ? Number(url.port) : scheme === 'https' ? 443 : scheme === 'http' ? 80 : 8200;
  // userinfo (a token or password in the URL) is dropped here and never stored or printed
  return { ...(scheme ? { scheme } : {}), host: url.hostname.replace(/^\[|\]$/g, ''), port };
}

function vaultConfigAddress(c: V1Container): string | undefined {
  const b64 = c.env?.find((e) => e.name === 'VAULT_CONFIG')?.value;
  if (!b64) return undefined;
  try {
    const cfg = JSON.parse(Buffer.from(b64, 'base64').toString('utf8')) as { vault?: { address?: string } };
    return cfg.vault?.address;
  } catch {
    return undefined;
  }
}

/** Where the pod's containers are configured to connect before (or while) they start. */
export function egressDestinations(pod: Pod): EgressDestination[] {
  const out: EgressDestination[] = [];
  const ann = pod.metadata?.annotations ?? {};
  const add = (container: string, source: string, value: string | undefined): void => {
    if (value === undefined) return;
    const a = parseAddress(value);
    if (!a) return;
    if (out.some((d) => d.container === container && d.host === a.host && d.port === a.port)) return;
    out.push({ container, source, ...a });
  };
  for (const c of [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])]) {
    add(c.name, 'env VAULT_ADDR', c.env?.find((e) => e.name === 'VAULT_ADDR')?.value);
    if (isVaultAgent(c, pod)) {
      add(c.name, 'env VAULT_CONFIG (vault.address)', vaultConfigAddress(c));
      add(c.name, 'annotation vault.hashicorp.com/service', ann['vault.hashicorp.com/service']);
    }
  }
  add('*', 'annotation vault.security.banzaicloud.io/vault-addr', ann['vault.security.banzaicloud.io/vault-addr']);
  return out;
}

/** Why an init container looks like it needs the network (undefined: nothing says so). */
export function networkNeed(c: V1Container, pod: Pod, refusedInLog: boolean): string | undefined {
  const why = looksNetworked(c, pod);
  if (refusedInLog) return why ? `${why}; its log shows connection-refused errors` : 'its log shows connection-refused errors';
  return why;
}

function looksNetworked(c: V1Container, pod: Pod): string | undefined {
  const image = c.image ?? '';
  if (isVaultAgent(c, pod)) return 'Vault agent: it logs in to Vault and renders secrets before the application starts';
  if (c.env?.some((e) => e.name === 'VAULT_ADDR')) return 'it talks to Vault (VAULT_ADDR)';
  const words = `${c.name} ${image} ${[...(c.command ?? []), ...(c.args ?? [])].join(' ')}`;
  if (/flyway|liquibase|migrat|alembic|dbmate|goose/i.test(words)) return 'it looks like a database migration';
  if (/wait-for|waitfor|wait4|dockerize|check-db|wait-db/i.test(words)) return 'it waits for a network service';
  if (/git-sync|\bgit clone\b/i.test(words)) return 'it clones a git repository';
  const tool = /\b(curl|wget|aws s3|gsutil|gcloud|az storage|kubectl|helm)\b/i.exec(words)?.[1];
  if (tool) return `it runs ${tool}`;
  return undefined;
}

/** The pod's outbound capture settings, as istio-init's arguments or istio-cni's annotations say. */
export function podCapture(facts: PodFacts): CaptureSettings {
  const c = facts.capture;
  return {
    ...DEFAULT_CAPTURE,
    mode: c.interceptionMode ?? 'REDIRECT',
    includeIpRanges: c.includeIpRanges ?? '*',
    excludeIpRanges: c.excludeIpRanges ?? '',
    includeOutboundPorts: c.includePorts ?? '',
    excludeOutboundPorts: c.excludePorts ?? '',
  };
}

export interface CaptureDecision {
  readonly captured: 'yes' | 'no' | 'unknown';
  readonly reason: string;
}

/**
 * Whether a container's connection to `dest` is redirected by the pod's rules (when they exist):
 * the iptables emulation decides for an IP; for a hostname only the port rules and the include
 * ranges can decide, the rest depends on the address it resolves to.
 */
export function captureOf(settings: CaptureSettings, uid: number | undefined, gid: number | undefined, dest: EgressDestination | undefined): CaptureDecision {
  if (uid === 1337 || gid === 1337) return { captured: 'no', reason: `it runs as ${uid === 1337 ? 'UID' : 'GID'} 1337, which the capture rules never redirect` };
  if (settings.mode === 'NONE') return { captured: 'no', reason: 'interception mode is NONE' };
  if (!dest) {
    if (settings.includeIpRanges.trim() === '' && settings.includeOutboundPorts.trim() === '') return { captured: 'no', reason: 'includeOutboundIPRanges is empty: nothing is captured' };
    return { captured: 'yes', reason: `outbound TCP is captured (includeOutboundIPRanges "${settings.includeIpRanges}")` };
  }
  const where = `${dest.host}:${dest.port}`;
  const ip = parseIp(dest.serviceIp ?? dest.host);
  if (ip) {
    const r = evaluateCapture(settings, { dst: ip, dstPort: dest.port, proto: 'tcp', uid: uid ?? 0, gid: gid ?? uid ?? 0, outLo: false });
    const via = dest.serviceIp ? ` (Service IP ${dest.serviceIp})` : '';
    if (r.outcome === 'bypass') return { captured: 'no', reason: `${where}${via} is not captured: ${r.rule?.text ?? 'no rule redirects it'}` };
    return { captured: 'yes', reason: `${where}${via} is redirected to port ${r.port ?? settings.proxyPort} (${r.rule?.text ?? 'ISTIO_OUTPUT'})` };
  }
  const ports = settings.excludeOutboundPorts.split(',').map((s) => s.trim());
  if (ports.includes(String(dest.port))) return { captured: 'no', reason: `port ${dest.port} is in excludeOutboundPorts` };
  if (settings.includeIpRanges.trim() === '' && !settings.includeOutboundPorts.split(',').map((s) => s.trim()).includes(String(dest.port))) {
    return { captured: 'no', reason: 'includeOutboundIPRanges is empty: nothing is captured' };
  }
  if (settings.excludeIpRanges.trim() !== '') {
    return { captured: 'unknown', reason: `${where} is captured unless ${dest.host} resolves into excludeOutboundIPRanges (${settings.excludeIpRanges})` };
  }
  return { captured: 'yes', reason: `${where} is captured: no exclusion covers it (includeOutboundIPRanges "${settings.includeIpRanges}")` };
}
