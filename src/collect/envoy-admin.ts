/**
 * Talking to a sidecar's Envoy admin API (loopback-only 127.0.0.1:15000 inside the pod):
 *  - exec: `kubectl exec POD -c istio-proxy -- pilot-agent request GET <path>` works on every
 *    proxy image, distroless included (pilot/cmd/pilot-agent/app/request.go prints the body with
 *    a newline; a status > 399 other than 404 exits non-zero);
 *  - port-forward to 15000 when exec is forbidden (istioctl's own method).
 * Only GET is used by read-only verbs; POST (admin endpoints that mutate server state, such as
 * /logging, answer only POST: Envoy's admin.cc answers 405 otherwise) is for log-level.
 */
import fs from 'node:fs';
import http from 'node:http';
import { pipeline } from 'node:stream/promises';
import { UnavailableError } from '../model/errors.js';
import { KubectlError, type Kubectl } from './kubectl.js';

export interface ProxyAdmin {
  readonly via: 'exec' | 'port-forward';
  get(path: string): Promise<string>;
  post(path: string): Promise<string>;
  /** streams a GET answer into a file (dumps can exceed what a string can hold); returns its size */
  download(path: string, file: string): Promise<number>;
  close(): Promise<void>;
  /** bytes received from the proxy so far */
  readonly bytes: number;
}

export interface PodRef {
  readonly namespace: string;
  readonly name: string;
  readonly container: string;
}

class ExecAdmin implements ProxyAdmin {
  readonly via = 'exec' as const;
  bytes = 0;
  constructor(
    private readonly k: Kubectl,
    private readonly pod: PodRef,
  ) {}

  private async request(method: 'GET' | 'POST', path: string): Promise<string> {
    const step = `asking ${this.pod.namespace}/${this.pod.name}'s proxy for ${path.split('?')[0]}`;
    const out = await this.k.ok(['exec', '-n', this.pod.namespace, this.pod.name, '-c', this.pod.container, '--', 'pilot-agent', 'request', method, path], step);
    this.bytes += Buffer.byteLength(out);
    // pilot-agent request prints the body followed by a newline
    return out.endsWith('\n') ? out.slice(0, -1) : out;
  }

  get(path: string): Promise<string> {
    return this.request('GET', path);
  }

  post(path: string): Promise<string> {
    return this.request('POST', path);
  }

  async download(path: string, file: string): Promise<number> {
    const child = this.k.spawn(['exec', '-n', this.pod.namespace, this.pod.name, '-c', this.pod.container, '--', 'pilot-agent', 'request', 'GET', path]);
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    await pipeline(child.stdout!, fs.createWriteStream(file));
    const r = await child;
    if (r.exitCode !== 0) throw new KubectlError(/forbidden/i.test(stderr) ? 'forbidden' : 'exit', `downloading ${path.split('?')[0]} from ${this.pod.namespace}/${this.pod.name}: ${stderr.trim().split('\n')[0] ?? `exit ${r.exitCode}`}`, r.exitCode, stderr);
    const size = fs.statSync(file).size;
    this.bytes += size;
    return size;
  }

  async close(): Promise<void> {
    // nothing held open
  }
}

/** The exec route alone, without the probe openProxyAdmin makes (for a pod already known to answer). */
export function execProxyAdmin(k: Kubectl, pod: PodRef): ProxyAdmin {
  return new ExecAdmin(k, pod);
}

const FORWARDING = /Forwarding from 127\.0\.0\.1:(\d+) -> (\d+)/;

class PortForwardAdmin implements ProxyAdmin {
  readonly via = 'port-forward' as const;
  bytes = 0;
  private constructor(
    private readonly child: ReturnType<Kubectl['spawn']>,
    private readonly port: number,
  ) {}

  static async open(k: Kubectl, pod: PodRef, adminPort: number, timeoutMs: number): Promise<PortForwardAdmin> {
    const child = k.spawn(['port-forward', '-n', pod.namespace, `pod/${pod.name}`, `:${adminPort}`, '--address=127.0.0.1']);
    let stderr = '';
    const port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new UnavailableError(`port-forward to ${pod.namespace}/${pod.name}:${adminPort} did not start within ${timeoutMs} ms`)), timeoutMs);
      child.stdout?.on('data', (d: Buffer) => {
        const m = FORWARDING.exec(d.toString());
        if (m) {
          clearTimeout(timer);
          resolve(Number(m[1]));
        }
      });
      child.stderr?.on('data', (d: Buffer) => {
        stderr += d.toString();
      });
      void child.then((r) => {
        clearTimeout(timer);
        reject(new KubectlError(/forbidden/i.test(stderr) ? 'forbidden' : 'exit', `port-forward to ${pod.namespace}/${pod.name}: ${stderr.trim().split('\n')[0] ?? `exited with ${r.exitCode}`}`, r.exitCode, stderr));
      });
    });
    return new PortForwardAdmin(child, port);
  }

  private request(method: 'GET' | 'POST', path: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port: this.port, method, path: `/${path.replace(/^\//, '')}`, timeout: 30_000 }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const body = Buffer.concat(chunks);
          this.bytes += body.length;
          if ((res.statusCode ?? 500) >= 400 && res.statusCode !== 404) {
            reject(new KubectlError('exit', `the proxy answered ${res.statusCode} for ${path.split('?')[0]}: ${body.toString().trim().slice(0, 200)}`, 1, ''));
          } else resolve(body.toString());
        });
      });
      req.on('timeout', () => req.destroy(new Error(`the proxy did not answer ${path} within 30 s`)));
      req.on('error', (e) => reject(new UnavailableError(`the proxy admin port through port-forward failed: ${e.message}`)));
      req.end();
    });
  }

  get(path: string): Promise<string> {
    return this.request('GET', path);
  }

  post(path: string): Promise<string> {
    return this.request('POST', path);
  }

  download(path: string, file: string): Promise<number> {
    return new Promise((resolve, reject) => {
      const req = http.get({ host: '127.0.0.1', port: this.port, path: `/${path.replace(/^\//, '')}` }, (res) => {
        if ((res.statusCode ?? 500) >= 400) {
          res.resume();
          reject(new KubectlError('exit', `the proxy answered ${res.statusCode} for ${path.split('?')[0]}`, 1, ''));
          return;
        }
        pipeline(res, fs.createWriteStream(file)).then(() => {
          const size = fs.statSync(file).size;
          this.bytes += size;
          resolve(size);
        }, reject);
      });
      req.on('error', (e) => reject(new UnavailableError(`the proxy admin port through port-forward failed: ${e.message}`)));
    });
  }

  async close(): Promise<void> {
    this.child.kill('SIGTERM');
    await this.child.catch(() => undefined);
  }
}

export interface OpenedAdmin {
  readonly admin: ProxyAdmin;
  /** Envoy's server state from /server_info: LIVE, INITIALIZING, PRE_INITIALIZING, DRAINING */
  readonly state: string | undefined;
  readonly envoyVersion: string | undefined;
  /** why exec was not used */
  readonly execDenied?: string;
}

function serverInfo(text: string): { state: string | undefined; version: string | undefined } {
  try {
    const j = JSON.parse(text) as { state?: string; version?: string };
    // "<sha>/1.34.2-dev/Clean/RELEASE/BoringSSL (istio …)" → "1.34.2-dev"
    return { state: j.state, version: j.version?.split('/')[1] ?? j.version };
  } catch {
    return { state: undefined, version: undefined };
  }
}

/**
 * Opens the admin API of a pod's proxy: exec first; if exec is forbidden, port-forward. The probe
 * is /server_info, which answers in every server state (/ready answers 503 while initializing,
 * exactly when a start-up race needs diagnosing).
 */
export async function openProxyAdmin(k: Kubectl, pod: PodRef, opts: { adminPort?: number; prefer?: 'exec' | 'port-forward' } = {}): Promise<OpenedAdmin> {
  const port = opts.adminPort ?? 15000;
  if (opts.prefer !== 'port-forward') {
    const exec = new ExecAdmin(k, pod);
    try {
      const info = serverInfo(await exec.get('server_info'));
      return { admin: exec, state: info.state, envoyVersion: info.version };
    } catch (e) {
      if (!(e instanceof KubectlError) || e.kind !== 'forbidden') throw e;
      const denied = `RBAC forbids create on pods/exec in namespace ${pod.namespace}`;
      try {
        const admin = await PortForwardAdmin.open(k, pod, port, 20_000);
        const info = serverInfo(await admin.get('server_info'));
        return { admin, state: info.state, envoyVersion: info.version, execDenied: denied };
      } catch (pf) {
        if (pf instanceof KubectlError && pf.kind === 'forbidden') {
          throw new UnavailableError(`RBAC denied both exec and port-forward on ${pod.namespace}/${pod.name}: ask for "create" on pods/exec (preferred) or pods/portforward in namespace ${pod.namespace}, or trace a captured dump with --config-dump`);
        }
        throw pf;
      }
    }
  }
  const admin = await PortForwardAdmin.open(k, pod, port, 20_000);
  const info = serverInfo(await admin.get('server_info'));
  return { admin, state: info.state, envoyVersion: info.version };
}
