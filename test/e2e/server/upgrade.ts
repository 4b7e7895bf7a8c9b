/**
 * Streaming upgrades on pods/exec, pods/attach and pods/portforward: the apiserver's checks (authz,
 * pod, container, host), then websocket (exec channel protocols, legacy port-forward, kubectl's
 * SPDY-in-websocket tunnel) or SPDY/3.1 with X-Stream-Protocol-Version negotiation.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, createWebSocketStream, type WebSocket } from 'ws';
import type { ClusterRuntime } from './cluster.js';
import { runExec, type ExecOutcome } from './exec.js';
import { STREAMING, authz, header, rawResponse, requestInfo, sleep, type ReqInfo } from './http.js';
import { isRunning, resolveContainer } from './logs.js';
import type { SpdySession } from './spdy.js';
import { badRequest, forbidden, notFound, unauthorized, type Status } from './status.js';
import { EXEC_SPDY_PROTOCOLS, EXEC_WS_PROTOCOLS, PF_TUNNEL_PROTOCOL, PF_WS_PROTOCOLS, serveExecSpdy, serveExecWebsocket, servePortForwardSpdy, servePortForwardWebsocket } from './streams.js';
import type { ExecContext, RecordedRequest, ResourceDef } from './types.js';

export interface UpgradeContext {
  record: (rt: ClusterRuntime, req: IncomingMessage, url: URL, info: ReqInfo) => RecordedRequest;
  latencyMs: () => number;
  authenticate: (rt: ClusterRuntime, req: IncomingMessage, pathname: string) => boolean;
  failureStatus: (rt: ClusterRuntime, method: string, pathname: string) => Status | undefined;
  wssExec: WebSocketServer;
  wssTunnel: WebSocketServer;
  /** Open websockets and SPDY sessions, torn down by stop(). */
  wsClients: Set<WebSocket>;
  sessions: Set<SpdySession>;
}

type ProtocolChoice = IncomingMessage & { chosenProtocol?: string };

/** The websocket servers: subprotocols are chosen before the handshake from the request. */
export function websocketServers(): { wssExec: WebSocketServer; wssTunnel: WebSocketServer } {
  const wssExec = new WebSocketServer({ noServer: true, handleProtocols: (_offered, req) => (req as ProtocolChoice).chosenProtocol ?? false });
  // `ws` rejects the subprotocol token "SPDY/3.1+portforward.k8s.io" ('/' is not a token char): the
  // header is removed before the handshake and the response header added here.
  const wssTunnel = new WebSocketServer({ noServer: true });
  wssTunnel.on('headers', (headers) => headers.push(`Sec-WebSocket-Protocol: ${PF_TUNNEL_PROTOCOL}`));
  return { wssExec, wssTunnel };
}

export async function onUpgrade(ctx: UpgradeContext, rt: ClusterRuntime, req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
  const url = new URL(req.url ?? '/', 'https://127.0.0.1');
  const method = req.method ?? 'GET';
  const info = requestInfo(method, url.pathname, url.searchParams);
  const rec = ctx.record(rt, req, url, info);
  const reject = (st: Status): void => {
    rec.status = st.code;
    rawResponse(socket, st.code, JSON.stringify(st));
  };
  const latency = ctx.latencyMs();
  if (latency > 0) await sleep(latency);
  if (!ctx.authenticate(rt, req, url.pathname)) return reject(unauthorized());
  const fail = ctx.failureStatus(rt, method, url.pathname);
  if (fail) return reject(fail);
  const sub = info.subresource ?? '';
  if (!info.isResource || info.resource !== 'pods' || info.group !== '' || !STREAMING.has(sub) || !info.name) {
    return reject(badRequest(`upgrade to ${header(req, 'upgrade') ?? ''} is only supported on pods/exec, pods/attach and pods/portforward`));
  }
  const a = authz(rt, info);
  if (rt.denied(a)) return reject(forbidden(a));
  const podDef = rt.registry.byKind('', 'Pod') as ResourceDef;
  const pod = rt.getByDef(podDef, info.namespace, info.name);
  if (!pod) return reject(notFound('', 'pods', info.name));
  const upgrade = (header(req, 'upgrade') ?? '').toLowerCase();
  const isWs = upgrade === 'websocket';
  const isSpdy = upgrade.startsWith('spdy/3.1');
  if (!isWs && !isSpdy) return reject(badRequest(`unsupported upgrade ${upgrade}`));
  if (!(pod.spec as { nodeName?: string } | undefined)?.nodeName) return reject(badRequest(`pod ${info.name} does not have a host assigned`));

  if (sub === 'portforward') {
    const connect = rt.connector(pod);
    const offered = (header(req, 'sec-websocket-protocol') ?? '').split(',').map((s) => s.trim());
    if (isWs && offered.includes(PF_TUNNEL_PROTOCOL)) {
      delete req.headers['sec-websocket-protocol'];
      ctx.wssTunnel.handleUpgrade(req, socket, head, (ws) => {
        rec.status = 101;
        rec.transport = 'spdy-over-websocket';
        rec.protocol = PF_TUNNEL_PROTOCOL;
        ctx.wsClients.add(ws);
        ws.on('close', () => ctx.wsClients.delete(ws));
        const duplex = createWebSocketStream(ws);
        duplex.on('error', () => undefined);
        const session = servePortForwardSpdy(duplex, connect, () => undefined);
        ctx.sessions.add(session);
        duplex.on('close', () => ctx.sessions.delete(session));
      });
      return;
    }
    if (isWs) {
      const chosen = offered.find((p) => PF_WS_PROTOCOLS.includes(p));
      const ports = url.searchParams.getAll('ports').flatMap((p) => p.split(',')).map(Number);
      if (ports.length === 0 || ports.some((p) => !(p > 0 && p < 65536))) return reject(badRequest('query parameter "port" is required'));
      (req as ProtocolChoice).chosenProtocol = chosen;
      ctx.wssExec.handleUpgrade(req, socket, head, (ws) => {
        rec.status = 101;
        rec.transport = 'websocket';
        rec.protocol = ws.protocol;
        ctx.wsClients.add(ws);
        ws.on('close', () => ctx.wsClients.delete(ws));
        servePortForwardWebsocket(ws, ports, connect);
      });
      return;
    }
    const spdyOffered = (header(req, 'x-stream-protocol-version') ?? '').split(',').map((s) => s.trim());
    if (!spdyOffered.includes('portforward.k8s.io')) return spdyRefused(rec, socket, spdyOffered, ['portforward.k8s.io']);
    switchToSpdy(socket, head, 'portforward.k8s.io');
    rec.status = 101;
    rec.transport = 'spdy';
    rec.protocol = 'portforward.k8s.io';
    const session = servePortForwardSpdy(socket, connect, () => undefined);
    ctx.sessions.add(session);
    socket.on('close', () => ctx.sessions.delete(session));
    return;
  }

  // exec / attach
  const c = resolveContainer(pod, url.searchParams.get('container') ?? undefined);
  if ('error' in c) return reject(c.error);
  const flag = (k: string): boolean => ['true', '1'].includes(url.searchParams.get(k) ?? '');
  const streams = { stdin: flag('stdin'), stdout: flag('stdout'), stderr: flag('stderr'), tty: flag('tty') };
  const command = url.searchParams.getAll('command');
  if (sub === 'exec' && command.length === 0) return reject(badRequest('you must specify at least 1 command'));
  if (!streams.stdin && !streams.stdout && !streams.stderr) return reject(badRequest('you must specify at least one of stdin, stdout, stderr'));
  // The kubelet (not the apiserver) finds the container; a 1.30+ apiserver translating websocket
  // to SPDY has already upgraded and reports the kubelet's error on the status channel.
  const kubeletError = !isRunning(pod, c.container) ? `container not found ("${c.container}")` : undefined;
  const execEnv = { rules: rt.opts.exec ?? [], admin: (k: string) => rt.envoy(k), unknownCommand: rt.opts.unknownCommand ?? 'exit127' } as const;
  const run = async (stdin: () => Promise<Buffer>): Promise<ExecOutcome> => {
    if (kubeletError) {
      const m = `unable to upgrade connection: ${kubeletError}`;
      return { stdout: Buffer.alloc(0), stderr: Buffer.alloc(0), status: { metadata: {}, status: 'Failure', message: `Internal error occurred: ${m}`, reason: 'InternalError', details: { causes: [{ message: m }] }, code: 500 }, exitCode: 1 };
    }
    if (sub === 'attach') return { stdout: Buffer.alloc(0), stderr: Buffer.alloc(0), status: { metadata: {}, status: 'Success' }, exitCode: 0 };
    const execCtx: ExecContext = { cluster: rt.name, namespace: info.namespace ?? '', pod: structuredClone(pod), container: c.container, command, tty: streams.tty, stdin };
    return runExec(execEnv, execCtx);
  };
  const done = (o: ExecOutcome): void => {
    rec.exitCode = o.exitCode;
  };
  if (isWs) {
    const offered = (header(req, 'sec-websocket-protocol') ?? '').split(',').map((s) => s.trim());
    (req as ProtocolChoice).chosenProtocol = EXEC_WS_PROTOCOLS.find((p) => offered.includes(p));
    ctx.wssExec.handleUpgrade(req, socket, head, (ws) => {
      rec.status = 101;
      rec.transport = 'websocket';
      rec.protocol = ws.protocol;
      ctx.wsClients.add(ws);
      ws.on('close', () => ctx.wsClients.delete(ws));
      serveExecWebsocket(ws, streams, run, done);
    });
    return;
  }
  if (kubeletError) {
    rec.status = 500;
    return rawResponse(socket, 500, kubeletError, 'text/plain; charset=utf-8');
  }
  const spdyOffered = (header(req, 'x-stream-protocol-version') ?? '').split(',').map((s) => s.trim());
  // httpstream.Handshake: the client's order of preference wins.
  const proto = spdyOffered.find((p) => EXEC_SPDY_PROTOCOLS.includes(p));
  if (!proto) return spdyRefused(rec, socket, spdyOffered, EXEC_SPDY_PROTOCOLS);
  switchToSpdy(socket, head, proto);
  rec.status = 101;
  rec.transport = 'spdy';
  rec.protocol = proto;
  const session = serveExecSpdy(socket, proto, streams, run, done, () => undefined);
  ctx.sessions.add(session);
  socket.on('close', () => ctx.sessions.delete(session));
}

function spdyRefused(rec: RecordedRequest, socket: Duplex, offered: string[], supported: string[]): void {
  rec.status = 403;
  rawResponse(socket, 403, `unable to upgrade: unable to negotiate protocol: client supports ${JSON.stringify(offered)}, server supports ${JSON.stringify(supported)}`, 'text/plain; charset=utf-8', { 'X-Accepted-Stream-Protocol-Versions': supported.join(', ') });
}

function switchToSpdy(socket: Duplex, head: Buffer, proto: string): void {
  socket.write(`HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: ${proto}\r\n\r\n`);
  if (head.length) socket.unshift(head);
}
