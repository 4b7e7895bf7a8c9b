/**
 * A scheduler + kubelet + curl stand-in for doctor's probe pods on the e2e test server (which runs
 * no containers): when a pod labelled app.kubernetes.io/managed-by=kubectl-mesh_egress is created,
 * it is bound to a node, "runs" the curl its spec asks for against the scripted outcome, and ends
 * as the kubelet would report it: phase, the container's terminated state and exit code, and the
 * log curl writes (its `curl: (N) ...` error line and the --write-out line), in curl 8's wording.
 * It reads the URL and timeouts from the pod's own arguments, so the probe the CLI built is what
 * decides what "happens".
 */
import type { KubeObject, TestCluster } from '../server/index.js';

export type ProbeOutcome =
  /** TCP connects; for https:// the handshake does as `tls` says; http(s) answers `http` */
  | { readonly kind: 'connects'; readonly tls?: 'ok' | 'handshake-fails' | 'untrusted'; readonly http?: number; readonly remoteIp?: string }
  | { readonly kind: 'refused' }
  | { readonly kind: 'timeout' }
  | { readonly kind: 'dns' }
  | { readonly kind: 'image-pull' }
  /** runs and never finishes */
  | { readonly kind: 'hang' }
  /** the kubelet kills it at activeDeadlineSeconds */
  | { readonly kind: 'deadline' };

export interface FakeKubelet {
  /** probe pods as created (the CLI's manifest after the API server stored it) */
  readonly created: KubeObject[];
  stop(): void;
}

const MANAGED = 'app.kubernetes.io/managed-by';

interface Curl {
  readonly url: URL;
  readonly connectTimeout: number;
  readonly maxTime: number;
  readonly resolve?: string;
}

function curlOf(pod: KubeObject): Curl {
  const c = ((pod.spec as { containers: { args: string[] }[] }).containers[0]!).args;
  const after = (flag: string): string | undefined => {
    const i = c.indexOf(flag);
    return i >= 0 ? c[i + 1] : undefined;
  };
  return { url: new URL(c[c.length - 1]!), connectTimeout: Number(after('--connect-timeout') ?? '10'), maxTime: Number(after('--max-time') ?? '20'), ...(after('--resolve') ? { resolve: after('--resolve')! } : {}) };
}

function writeOut(o: { connect?: number; tls?: number; ip?: string; port?: number; http?: number; verify?: number }): string {
  const s = (v: number | undefined): string => (v ?? 0).toFixed(6);
  return `mesh-egress-probe time_connect=${s(o.connect)} time_appconnect=${s(o.tls)} remote_ip=${o.ip ?? ''} remote_port=${o.port ?? 0} http_code=${String(o.http ?? 0).padStart(3, '0')} ssl_verify_result=${o.verify ?? 0}`;
}

/** curl's output and exit code for the outcome (curl 8 error texts, lib/connect.c, lib/multi.c). */
function run(c: Curl, o: ProbeOutcome): { exit: number; log: string } {
  const host = c.url.hostname.replace(/^\[|\]$/g, '');
  const port = Number(c.url.port || (c.url.protocol === 'https:' ? 443 : 80));
  const pinned = c.resolve?.split(':').slice(2).join(':');
  const ip = o.kind === 'connects' && o.remoteIp ? o.remoteIp : pinned ?? (/^[\d.]+$|:/.test(host) ? host : '198.51.100.20');
  const ms = (s: number): number => Math.round(s * 1000);
  switch (o.kind) {
    case 'refused':
      return { exit: 7, log: `curl: (7) Failed to connect to ${host} port ${port} after 2 ms: Couldn't connect to server\n${writeOut({})}\n` };
    case 'timeout':
      return { exit: 28, log: `curl: (28) Failed to connect to ${host} port ${port} after ${ms(c.connectTimeout)} ms: Timeout was reached\n${writeOut({})}\n` };
    case 'dns':
      return { exit: 6, log: `curl: (6) Could not resolve host: ${host}\n${writeOut({})}\n` };
    case 'connects': {
      if (c.url.protocol === 'telnet:') return { exit: 28, log: `curl: (28) Operation timed out after ${ms(c.maxTime)} milliseconds with 0 bytes received\n${writeOut({ connect: 0.012, ip, port })}\n` };
      if (c.url.protocol === 'https:') {
        if (o.tls === 'handshake-fails') return { exit: 35, log: `curl: (35) OpenSSL/3.3.2: error:0A00010B:SSL routines::wrong version number\n${writeOut({ connect: 0.012, ip, port })}\n` };
        const verify = o.tls === 'untrusted' ? 20 : 0;
        return { exit: 0, log: `${writeOut({ connect: 0.012, tls: 0.047, ip, port, http: o.http ?? 404, verify })}\n` };
      }
      return { exit: 0, log: `${writeOut({ connect: 0.012, ip, port, http: o.http ?? 200 })}\n` };
    }
    default:
      throw new Error(`no curl run for ${o.kind}`);
  }
}

function containerStatus(pod: KubeObject, state: Record<string, unknown>): Record<string, unknown> {
  const image = ((pod.spec as { containers: { image: string }[] }).containers[0]!).image;
  return { name: 'probe', state, lastState: {}, ready: false, restartCount: 0, image, imageID: `${image}@sha256:${'0'.repeat(64)}`, started: 'running' in state };
}

/** Drives every probe pod created on `cluster` to `outcome`. */
export function fakeProbeKubelet(cluster: TestCluster, outcome: ProbeOutcome, opts: { delayMs?: number; node?: string } = {}): FakeKubelet {
  const created: KubeObject[] = [];
  const timers = new Set<NodeJS.Timeout>();
  const later = (ms: number, f: () => void): void => {
    const t = setTimeout(() => {
      timers.delete(t);
      f();
    }, ms);
    timers.add(t);
  };
  const stop = cluster.onCreate((o, c) => {
    if (o.kind !== 'Pod' || o.metadata.labels?.[MANAGED] !== 'kubectl-mesh_egress') return;
    created.push(o);
    const ns = o.metadata.namespace ?? '';
    const name = o.metadata.name ?? '';
    const now = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
    const current = (): KubeObject | undefined => c.get('v1', 'Pod', ns, name);
    const bind = (p: KubeObject): KubeObject => ({ ...p, spec: { ...(p.spec as object), nodeName: (p.spec as { nodeName?: string }).nodeName ?? opts.node ?? 'node-1' } });
    later(opts.delayMs ?? 30, () => {
      const p = current();
      if (!p) return;
      const scheduled = bind(p);
      const base = { startTime: now, hostIP: '172.18.0.2', podIP: '10.244.9.9', podIPs: [{ ip: '10.244.9.9' }], qosClass: 'Burstable' };
      if (outcome.kind === 'image-pull') {
        c.apply({ ...scheduled, status: { ...base, phase: 'Pending', containerStatuses: [containerStatus(p, { waiting: { reason: 'ImagePullBackOff', message: `Back-off pulling image "${((p.spec as { containers: { image: string }[] }).containers[0]!).image}"` } })] } });
        return;
      }
      if (outcome.kind === 'hang') {
        c.apply({ ...scheduled, status: { ...base, phase: 'Running', containerStatuses: [containerStatus(p, { running: { startedAt: now } })] } });
        return;
      }
      if (outcome.kind === 'deadline') {
        c.apply({ ...scheduled, status: { ...base, phase: 'Failed', reason: 'DeadlineExceeded', message: 'Pod was active on the node longer than the specified deadline', containerStatuses: [containerStatus(p, { terminated: { exitCode: 137, reason: 'Error', startedAt: now, finishedAt: now } })] } });
        return;
      }
      const r = run(curlOf(p), outcome);
      c.appendLog(`${ns}/${name}`, 'probe', r.log);
      c.apply({ ...scheduled, status: { ...base, phase: r.exit === 0 ? 'Succeeded' : 'Failed', containerStatuses: [containerStatus(p, { terminated: { exitCode: r.exit, reason: r.exit === 0 ? 'Completed' : 'Error', startedAt: now, finishedAt: now } })] } });
    });
  });
  return {
    created,
    stop: () => {
      stop();
      for (const t of timers) clearTimeout(t);
    },
  };
}
