/**
 * Context and namespace resolve exactly as kubectl resolves them, because kubectl resolves them:
 * KUBECONFIG with two files (the context in one, its cluster and user in the other), a user whose
 * exec credential plugin is a path relative to the file that defines it, the context's namespace
 * when -n is absent, and --context/--kubeconfig overriding. The server only accepts the token the
 * plugin prints, so a trace that reaches the proxy proves the plugin ran from the right folder.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, expect, test } from 'vitest';
import { runCli } from '../../helpers/cli.js';
import { kubectlVersions, startTestServer } from '../server/index.js';
import { cliEnv, seed002 } from './fixture.js';

const NEWEST = kubectlVersions().at(-1) ?? '1.33';
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mesh-egress-kubeconfig-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

test.each(['1.27', NEWEST])('two kubeconfig files and a relative exec plugin (kubectl %s)', async (version) => {
  const token = `exec-plugin-token-${version}`;
  const s = seed002({ overrides: { token } });
  const srv = await startTestServer(s.options);
  try {
    const a = path.join(dir, version, 'a');
    const b = path.join(dir, version, 'b');
    fs.mkdirSync(a, { recursive: true });
    fs.mkdirSync(path.join(b, 'bin'), { recursive: true });
    fs.writeFileSync(
      path.join(b, 'bin', 'token.sh'),
      `#!/bin/sh\necho '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"${token}"}}'\n`,
      { mode: 0o755 },
    );
    // file A: only the current context, naming a cluster and user that file B defines
    fs.writeFileSync(
      path.join(a, 'config'),
      ['apiVersion: v1', 'kind: Config', 'current-context: shop-admin', 'contexts:', '- name: shop-admin', '  context:', '    cluster: prod-cluster', '    user: plugin-user', '    namespace: shop', '- name: elsewhere', '  context:', '    cluster: prod-cluster', '    user: plugin-user', '    namespace: default', ''].join('\n'),
    );
    // file B: the cluster and a user authenticated by ./bin/token.sh, relative to file B
    fs.writeFileSync(
      path.join(b, 'config'),
      [
        'apiVersion: v1',
        'kind: Config',
        'clusters:',
        '- name: prod-cluster',
        '  cluster:',
        `    server: ${srv.url}`,
        '    insecure-skip-tls-verify: true',
        'users:',
        '- name: plugin-user',
        '  user:',
        '    exec:',
        '      apiVersion: client.authentication.k8s.io/v1',
        '      command: ./bin/token.sh',
        '      interactiveMode: Never',
        '',
      ].join('\n'),
    );
    const env = { ...cliEnv(srv.kubectlEnv(), version), KUBECONFIG: `${path.join(a, 'config')}${path.delimiter}${path.join(b, 'config')}` };

    // no -n: the namespace is the current context's (shop), where the Deployment lives
    const r = await runCli(['trace', 'deploy/checkout', '10.0.0.6:7000', '-o', 'json'], { env });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(79);
    const doc = JSON.parse(r.stdout) as { verdict: { code: string }; source: { context: string; pod: string } };
    expect(doc.verdict.code).toBe('BLACKHOLE');
    expect(doc.source).toMatchObject({ context: 'shop-admin', pod: `shop/${s.podName}` });
    const authed = srv.requests.filter((q) => q.action !== 'discovery');
    expect(authed.length).toBeGreaterThan(0);

    // --context picks the other context, whose namespace has no such Deployment
    const other = await runCli(['trace', 'deploy/checkout', '--context', 'elsewhere', '10.0.0.6:7000'], { env });
    expect(other.code).toBe(69);
    expect(other.stderr).toBe('error: deployments/checkout not found in namespace default: check the name, or pass -n NAMESPACE\n');

    // --kubeconfig replaces KUBECONFIG: file A alone lacks the cluster and user
    const alone = await runCli(['trace', 'deploy/checkout', '--kubeconfig', path.join(a, 'config'), '10.0.0.6:7000'], { env });
    expect(alone.code).toBe(69);
    expect(alone.stderr).toBe('error: no usable kubeconfig context (cannot locate cluster prod-cluster): check KUBECONFIG or --kubeconfig, or pick a context with --context\n');
  } finally {
    await srv.stop();
  }
});
