/**
 * Kubeconfig files pointing at the test clusters (token users; insecure-skip-tls-verify or the
 * self-signed CA). Strings are JSON-quoted, which is valid YAML, so odd context names survive.
 */

export interface KubeconfigEntry {
  context: string;
  server: string;
  token: string;
  namespace?: string;
}

export function kubeconfigYaml(entries: KubeconfigEntry[], current: string, tls: { insecure: true } | { caData: string }): string {
  const q = (s: string): string => JSON.stringify(s);
  const lines: string[] = ['apiVersion: v1', 'kind: Config', `current-context: ${q(current)}`, 'preferences: {}', 'clusters:'];
  for (const e of entries) {
    lines.push(`- name: ${q(e.context)}`, '  cluster:', `    server: ${q(e.server)}`);
    if ('insecure' in tls) lines.push('    insecure-skip-tls-verify: true');
    else lines.push(`    certificate-authority-data: ${tls.caData}`);
  }
  lines.push('users:');
  for (const e of entries) lines.push(`- name: ${q(`${e.context}-user`)}`, '  user:', `    token: ${q(e.token)}`);
  lines.push('contexts:');
  for (const e of entries) {
    lines.push(`- name: ${q(e.context)}`, '  context:', `    cluster: ${q(e.context)}`, `    user: ${q(`${e.context}-user`)}`);
    if (e.namespace) lines.push(`    namespace: ${q(e.namespace)}`);
  }
  return `${lines.join('\n')}\n`;
}
