/**
 * The test API server: one HTTPS listener per cluster (context), kubeconfigs, token authentication,
 * request recording, latency and failure injection, discovery; REST is in rest.ts, streaming upgrades
 * in upgrade.ts.
 */
import fs from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';
import { ClusterRuntime, type TestCluster } from './cluster.js';
import { NOT_STATE_CHANGING, REVIEWS, STREAMING, header, rawResponse, requestInfo, sendJson, sendStatus, sendText, sleep, type ReqInfo } from './http.js';
import { kubeconfigYaml } from './kubeconfig.js';
import { handleResource } from './rest.js';
import type { SpdySession } from './spdy.js';
import { internalError, status, unauthorized, type Status } from './status.js';
import { selfSignedCert } from './tls.js';
import type { RecordedRequest, TestServerOptions } from './types.js';
import { onUpgrade, websocketServers, type UpgradeContext } from './upgrade.js';

export interface TestServer {
  /** URL of the current context's cluster. */
  readonly url: string;
  /** Context name → server URL. */
  readonly urls: Record<string, string>;
  /** One kubeconfig with every context (current-context = `currentContext` or the first). */
  readonly kubeconfigPath: string;
  /** Context name → a kubeconfig with only that context. */
  readonly kubeconfigPaths: Record<string, string>;
  readonly contexts: string[];
  /** Temp dir holding the cert, kubeconfigs and kubectl's HOME; removed by stop(). */
  readonly dir: string;
  /** Every request every cluster received, in arrival order. */
  readonly requests: RecordedRequest[];
  /** The self-signed certificate (PEM), e.g. for clients that verify TLS. */
  readonly caPem: string;
  setLatencyMs(ms: number): void;
  clearRequests(): void;
  cluster(context?: string): TestCluster;
  /** Environment for a kubectl child: this KUBECONFIG, a private HOME (discovery cache), no proxies. */
  kubectlEnv(extra?: Record<string, string>): Record<string, string>;
  stop(): Promise<void>;
}

/** Starts one HTTPS API server per cluster (context) and writes kubeconfigs for them. */
export async function startTestServer(opts: TestServerOptions = {}): Promise<TestServer> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'k8s-test-server-'));
  const requests: RecordedRequest[] = [];
  const started = Date.now();
  let latencyMs = opts.latencyMs ?? 0;
  let seq = 0;
  const runtimes: ClusterRuntime[] = [];
  const servers: https.Server[] = [];
  const sockets = new Set<Socket>();
  const wsClients = new Set<WebSocket>();
  const sessions = new Set<SpdySession>();

  try {
    const cert = selfSignedCert(dir);
    const specs = opts.clusters ?? { test: {} };
    for (const [name, c] of Object.entries(specs)) runtimes.push(new ClusterRuntime(name, c, () => requests));
    if (runtimes.length === 0) throw new Error('startTestServer: clusters is empty');

    const { wssExec, wssTunnel } = websocketServers();
    const upgradeCtx: UpgradeContext = { record, latencyMs: () => latencyMs, authenticate, failureStatus, wssExec, wssTunnel, wsClients, sessions };

    for (const rt of runtimes) {
      await rt.start();
      const server = https.createServer({ key: cert.key, cert: cert.cert });
      server.on('secureConnection', (s: Socket) => {
        sockets.add(s);
        s.on('close', () => sockets.delete(s));
      });
      server.on('request', (req: IncomingMessage, res: ServerResponse) => {
        void onRequest(rt, req, res).catch((e: Error) => {
          if (!res.headersSent) sendStatus(res, internalError(e.message));
          else res.destroy();
        });
      });
      server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
        socket.on('error', () => undefined);
        void onUpgrade(upgradeCtx, rt, req, socket, head).catch((e: Error) => rawResponse(socket, 500, JSON.stringify(internalError(e.message))));
      });
      server.on('clientError', (_e, socket) => socket.destroy());
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      rt.url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
      servers.push(server);
    }

    const first = runtimes[0] as ClusterRuntime;
    const current = opts.currentContext ?? first.name;
    const tls = opts.tls === 'ca' ? { caData: cert.cert.toString('base64') } : ({ insecure: true } as const);
    const entries = runtimes.map((rt) => ({ context: rt.name, server: rt.url, token: rt.token, namespace: rt.opts.namespace }));
    const kubeconfigPath = path.join(dir, 'kubeconfig');
    fs.writeFileSync(kubeconfigPath, kubeconfigYaml(entries, current, tls), { mode: 0o600 });
    const kubeconfigPaths: Record<string, string> = {};
    for (const e of entries) {
      const p = path.join(dir, `kubeconfig-${e.context.replace(/[^A-Za-z0-9_.-]/g, '_')}`);
      fs.writeFileSync(p, kubeconfigYaml([e], e.context, tls), { mode: 0o600 });
      kubeconfigPaths[e.context] = p;
    }
    fs.mkdirSync(path.join(dir, 'home'), { recursive: true });
    const byName = new Map(runtimes.map((r) => [r.name, r]));
    let stopped = false;

    return {
      url: (byName.get(current) ?? first).url,
      urls: Object.fromEntries(runtimes.map((r) => [r.name, r.url])),
      kubeconfigPath,
      kubeconfigPaths,
      contexts: runtimes.map((r) => r.name),
      dir,
      requests,
      caPem: cert.cert.toString('utf8'),
      setLatencyMs: (ms) => {
        latencyMs = ms;
      },
      clearRequests: () => {
        requests.length = 0;
      },
      cluster: (ctx) => {
        const rt = byName.get(ctx ?? current);
        if (!rt) throw new Error(`no cluster named ${ctx ?? current}`);
        return rt;
      },
      // DEBUG is dropped too: moby/spdystream inside kubectl turns it into verbose frame logging on stderr.
      kubectlEnv: (extra = {}) => {
        const env: Record<string, string> = {};
        for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !/^(https?_proxy|all_proxy|no_proxy|KUBECONFIG|KUBECTL_.*|DEBUG)$/i.test(k)) env[k] = v;
        return { ...env, KUBECONFIG: kubeconfigPath, HOME: path.join(dir, 'home'), NO_PROXY: '127.0.0.1,localhost', ...extra };
      },
      stop: async () => {
        if (stopped) return;
        stopped = true;
        for (const s of sessions) s.destroy();
        for (const c of wsClients) c.terminate();
        await Promise.all(runtimes.map((r) => r.stop()));
        for (const s of sockets) s.destroy();
        await Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
        wssExec.close();
        wssTunnel.close();
        fs.rmSync(dir, { recursive: true, force: true });
      },
    };

    function record(rt: ClusterRuntime, req: IncomingMessage, url: URL, info: ReqInfo): RecordedRequest {
      const query: Record<string, string[]> = {};
      for (const [k, v] of url.searchParams) (query[k] ??= []).push(v);
      const auth = header(req, 'authorization');
      const sub = info.subresource;
      const action = !info.isResource
        ? /^\/apis?(\/|$)/.test(url.pathname)
          ? 'discovery'
          : url.pathname === '/version'
            ? 'version'
            : 'other'
        : sub && (STREAMING.has(sub) || sub === 'log')
          ? sub
          : info.verb;
      const rec: RecordedRequest = {
        seq: ++seq,
        at: Date.now() - started,
        cluster: rt.name,
        method: req.method ?? 'GET',
        path: req.url ?? '/',
        pathname: url.pathname,
        query,
        headers: {
          userAgent: header(req, 'user-agent'),
          accept: header(req, 'accept'),
          contentType: header(req, 'content-type'),
          upgrade: header(req, 'upgrade'),
          secWebSocketProtocol: header(req, 'sec-websocket-protocol'),
          xStreamProtocolVersion: header(req, 'x-stream-protocol-version'),
          kubectlCommand: header(req, 'kubectl-command'),
          authorization: auth === undefined ? 'none' : /^bearer /i.test(auth) ? 'bearer' : 'other',
        },
        isResourceRequest: info.isResource,
        verb: info.verb,
        ...(info.isResource ? { apiGroup: info.group, apiVersion: info.version, resource: info.resource, subresource: info.subresource, namespace: info.namespace, name: info.name } : {}),
        action,
        mutating: info.isResource && ['create', 'update', 'patch', 'delete', 'deletecollection'].includes(info.verb) && !(sub && NOT_STATE_CHANGING.has(sub)) && !REVIEWS.has(info.resource ?? ''),
        status: 0,
      };
      requests.push(rec);
      return rec;
    }

    /** Token check; paths anonymous users may read (system:public-info-viewer) pass without one. */
    function authenticate(rt: ClusterRuntime, req: IncomingMessage, pathname: string): boolean {
      const auth = header(req, 'authorization');
      if (auth === undefined) return ['/version', '/healthz', '/livez', '/readyz'].includes(pathname);
      return auth === `Bearer ${rt.token}`;
    }

    function failureStatus(rt: ClusterRuntime, method: string, pathname: string): Status | undefined {
      const f = rt.failure(method, pathname);
      if (!f) return undefined;
      const code = f.status ?? 500;
      if (code === 500 && !f.reason) return internalError(f.message ?? 'injected failure');
      return status(code, f.reason ?? 'InternalError', f.message ?? 'injected failure');
    }

    async function onRequest(rt: ClusterRuntime, req: IncomingMessage, res: ServerResponse): Promise<void> {
      const url = new URL(req.url ?? '/', 'https://127.0.0.1');
      const method = req.method ?? 'GET';
      const info = requestInfo(method, url.pathname, url.searchParams);
      const rec = record(rt, req, url, info);
      rec.transport = 'http';
      // Streams (watch, logs -f) stay open: take the status when the head goes out, not at the end.
      const writeHead = res.writeHead.bind(res) as (code: number, headers?: Record<string, string | number>) => ServerResponse;
      res.writeHead = ((code: number, headers?: Record<string, string | number>) => {
        rec.status = code;
        return writeHead(code, headers);
      }) as typeof res.writeHead;
      res.on('finish', () => (rec.status = res.statusCode));
      res.on('close', () => {
        if (!rec.status) rec.status = res.statusCode;
      });
      if (latencyMs > 0) await sleep(latencyMs);
      const p = url.pathname;
      if (!authenticate(rt, req, p)) return sendStatus(res, unauthorized());
      const fail = failureStatus(rt, method, p);
      if (fail) return sendStatus(res, fail);
      if (p === '/healthz' || p === '/livez' || p === '/readyz') return sendText(res, 200, 'ok');
      if (p === '/version') {
        const v = rt.opts.serverVersion ?? { major: '1', minor: '31', gitVersion: 'v1.31.4' };
        return sendJson(res, 200, { ...v, gitCommit: 'a78aa47129b8539636eb86a9d00e31b2720fe06b', gitTreeState: 'clean', buildDate: '2024-12-10T18:45:42Z', goVersion: 'go1.22.9', compiler: 'gc', platform: 'linux/amd64' });
      }
      if (p === '/api' || p === '/api/') return sendJson(res, 200, rt.registry.apiVersions(rt.url.replace('https://', '')));
      if (p === '/apis' || p === '/apis/') return sendJson(res, 200, rt.registry.apiGroupList());
      let m = /^\/api\/([^/]+)\/?$/.exec(p);
      if (m) {
        const list = rt.registry.resourceList('', m[1] ?? '');
        return list ? sendJson(res, 200, list) : sendText(res, 404, '404 page not found\n');
      }
      m = /^\/apis\/([^/]+)\/?$/.exec(p);
      if (m) {
        const g = rt.registry.apiGroup(m[1] ?? '');
        return g ? sendJson(res, 200, g) : sendText(res, 404, '404 page not found\n');
      }
      m = /^\/apis\/([^/]+)\/([^/]+)\/?$/.exec(p);
      if (m) {
        const list = rt.registry.resourceList(m[1] ?? '', m[2] ?? '');
        return list ? sendJson(res, 200, list) : sendText(res, 404, '404 page not found\n');
      }
      if (!info.isResource) return sendText(res, 404, '404 page not found\n');
      return handleResource(rt, info, url, req, res);
    }
  } catch (e) {
    for (const rt of runtimes) await rt.stop();
    for (const s of servers) s.close();
    fs.rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}
