/**
 * Kubernetes streaming protocols, server side:
 *   exec        — websocket channel protocols (v5/v4/v3/v2/channel.k8s.io) and SPDY (X-Stream-Protocol-Version).
 *   port-forward — SPDY `portforward.k8s.io` (also tunnelled in websocket messages by kubectl ≥ 1.31) and the
 *                  legacy websocket protocol client-node uses (`?ports=`, data/error channel per port).
 */
import type { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';
import { header, serveSpdy, type SpdySession, type SpdyStream } from './spdy.js';
import type { ExecOutcome } from './exec.js';

export const EXEC_WS_PROTOCOLS = ['v5.channel.k8s.io', 'v4.channel.k8s.io', 'v3.channel.k8s.io', 'v2.channel.k8s.io', 'channel.k8s.io'];
export const EXEC_SPDY_PROTOCOLS = ['v5.channel.k8s.io', 'v4.channel.k8s.io', 'v3.channel.k8s.io', 'v2.channel.k8s.io', 'channel.k8s.io'];
export const PF_WS_PROTOCOLS = ['v4.channel.k8s.io', 'portforward.k8s.io'];
export const PF_TUNNEL_PROTOCOL = 'SPDY/3.1+portforward.k8s.io';

export interface ExecStreams {
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  tty: boolean;
}

export type ExecRunner = (stdin: () => Promise<Buffer>) => Promise<ExecOutcome>;

const CHUNK = 32 * 1024;

/** v4+ put a JSON metav1.Status on the error channel; older protocols only an error text. */
function statusBytes(protocol: string, status: Record<string, unknown>): Buffer | undefined {
  if (protocol === 'v4.channel.k8s.io' || protocol === 'v5.channel.k8s.io') return Buffer.from(JSON.stringify(status));
  return status.status === 'Success' ? undefined : Buffer.from(String(status.message ?? 'error'));
}

function collector(): { push: (b: Buffer) => void; end: () => void; read: () => Promise<Buffer> } {
  const chunks: Buffer[] = [];
  let done = false;
  let resolveFn: ((b: Buffer) => void) | undefined;
  const p = new Promise<Buffer>((r) => (resolveFn = r));
  return {
    push: (b) => {
      if (!done) chunks.push(b);
    },
    end: () => {
      if (done) return;
      done = true;
      resolveFn?.(Buffer.concat(chunks));
    },
    read: () => p,
  };
}

/**
 * How long after the websocket handshake the first output frame may leave. kubectl's websocket
 * executor (client-go tools/remotecommand/websocket.go, StreamWithContext) starts its read loop and
 * creates its stdout/stderr/error streams concurrently: a frame that arrives before its stream exists
 * is dropped ("Unknown stream id 1, discarding message"), and a close before then fails the exec with
 * "closed all streams". A real apiserver first opens SPDY to the kubelet and the runtime starts the
 * process, which takes far longer than kubectl needs; answering in the same tick, as an in-process
 * server can, loses output on a busy machine. This stands in for that set-up time.
 */
export const WS_EXEC_START_MS = 50;

export function serveExecWebsocket(ws: WebSocket, s: ExecStreams, run: ExecRunner, onDone: (o: ExecOutcome) => void): void {
  const protocol = ws.protocol;
  const opened = Date.now();
  const stdin = collector();
  if (!s.stdin) stdin.end();
  ws.on('message', (data: Buffer, isBinary: boolean) => {
    const b = isBinary ? data : Buffer.from(data);
    if (b.length === 0) return;
    const ch = b[0];
    if (ch === 0) stdin.push(b.subarray(1));
    // v5 adds a CLOSE signal: [255, channel]. kubectl sends [255, 0] when its stdin hits EOF.
    else if (ch === 255 && b[1] === 0) stdin.end();
  });
  ws.on('close', () => stdin.end());
  ws.on('error', () => stdin.end());
  void run(() => stdin.read()).then(async (o) => {
    const wait = WS_EXEC_START_MS - (Date.now() - opened);
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    onDone(o);
    const send = (ch: number, data: Buffer): void => {
      for (let i = 0; i < data.length; i += CHUNK) ws.send(Buffer.concat([Buffer.from([ch]), data.subarray(i, i + CHUNK)]));
    };
    if (ws.readyState !== ws.OPEN) return;
    if (s.stdout) send(1, o.stdout);
    if (s.stderr && !s.tty) send(2, o.stderr);
    const st = statusBytes(protocol, o.status);
    if (st) ws.send(Buffer.concat([Buffer.from([3]), st]));
    ws.close(1000);
  });
}

/** SPDY exec: the client opens error, stdin, stdout, stderr (and resize with a TTY) streams, then we run. */
export function serveExecSpdy(duplex: Duplex, protocol: string, s: ExecStreams, run: ExecRunner, onDone: (o: ExecOutcome) => void, onError: (e: Error) => void): SpdySession {
  const expected = new Set(['error', ...(s.stdin ? ['stdin'] : []), ...(s.stdout ? ['stdout'] : []), ...(s.stderr && !s.tty ? ['stderr'] : []), ...(s.tty ? ['resize'] : [])]);
  const streams = new Map<string, SpdyStream>();
  const replies: Promise<void>[] = [];
  const stdin = collector();
  if (!s.stdin) stdin.end();
  let started = false;
  const session = serveSpdy(
    duplex,
    (st) => {
      const type = header(st, 'streamtype');
      replies.push(reply(st));
      streams.set(type, st);
      if (type === 'stdin') {
        st.on('data', (d: Buffer) => stdin.push(d));
        st.on('end', () => stdin.end());
        st.on('close', () => stdin.end());
      } else {
        // Drain what we never read (resize events, an empty error stream) so the stream can close.
        st.resume();
      }
      if (!started && [...expected].every((t) => streams.has(t))) {
        started = true;
        clearTimeout(timer);
        // spdystream handles frames in order and only starts reading stdout once every stream has its
        // SYN_REPLY; spdy-transport compresses reply headers asynchronously, so data queued before the
        // last reply is out would overtake it and deadlock the client once its buffers fill.
        void Promise.all(replies).then(() => run(() => stdin.read())).then(async (o) => {
          onDone(o);
          const end = (t: string, data?: Buffer): Promise<void> =>
            new Promise((resolve) => {
              const x = streams.get(t);
              if (!x || x.writableEnded) return resolve();
              if (data && data.length) x.write(data);
              x.end(() => resolve());
            });
          await Promise.all([end('stdout', o.stdout), end('stderr', s.tty ? undefined : o.stderr)]);
          await end('error', statusBytes(protocol, o.status));
          // kubectl closes the connection once it has read every stream; GOAWAY lets ours follow.
          session.close();
        });
      }
    },
    onError,
  );
  // The kubelet gives up on streams that never arrive (streamCreationTimeout); so do we.
  const timer = setTimeout(() => {
    if (!started) session.close();
  }, 10_000);
  timer.unref();
  duplex.on('close', () => {
    clearTimeout(timer);
    stdin.end();
  });
  return session;
}

function reply(st: SpdyStream): Promise<void> {
  return new Promise((resolve) => st.respond(200, {}, () => resolve()));
}

export type PortTargetResult = { stream: Duplex } | { error: string };
export type PortConnector = (port: number) => Promise<PortTargetResult>;

function pipeBoth(a: Duplex, b: Duplex, onClose: () => void): void {
  let closed = false;
  const close = (): void => {
    if (closed) return;
    closed = true;
    onClose();
  };
  a.on('error', close);
  b.on('error', close);
  a.pipe(b);
  b.pipe(a);
  a.on('close', close);
  b.on('close', close);
}

/** SPDY port-forward: a data and an error stream per forwarded connection, paired by `requestid`. */
export function servePortForwardSpdy(duplex: Duplex, connect: PortConnector, onError: (e: Error) => void): SpdySession {
  const pairs = new Map<string, { error?: SpdyStream; data?: SpdyStream; started?: boolean }>();
  const session = serveSpdy(
    duplex,
    (st) => {
      const type = header(st, 'streamtype');
      const rid = header(st, 'requestid');
      const port = Number(header(st, 'port'));
      const replied = reply(st);
      const pair = pairs.get(rid) ?? {};
      pairs.set(rid, pair);
      if (type === 'error') {
        pair.error = st;
        st.resume();
      } else if (type === 'data') {
        pair.data = st;
      } else {
        st.resume();
        st.end();
        return;
      }
      if (!pair.error || !pair.data || pair.started) return;
      pair.started = true;
      const { error, data } = pair;
      void Promise.all([replied, connect(port)]).then(([, t]) => {
        if ('error' in t) {
          error.end(t.error);
          data.end();
          pairs.delete(rid);
          return;
        }
        pipeBoth(data, t.stream, () => {
          if (!data.writableEnded) data.end();
          if (!error.writableEnded) error.end();
          t.stream.destroy();
          pairs.delete(rid);
        });
        // The client half-closes the data stream when its local socket closes.
        data.on('end', () => t.stream.end());
        t.stream.on('end', () => data.end());
      });
    },
    onError,
  );
  return session;
}

/** The legacy websocket port-forward (client-node): `?ports=a&ports=b`, channel 2i data / 2i+1 error, first frame = port (uint16 LE). */
export function servePortForwardWebsocket(ws: WebSocket, ports: number[], connect: PortConnector): void {
  const targets: (Duplex | undefined)[] = [];
  const pending: Buffer[][] = ports.map(() => []);
  ports.forEach((port, i) => {
    const pb = Buffer.alloc(2);
    pb.writeUInt16LE(port);
    ws.send(Buffer.concat([Buffer.from([2 * i]), pb]));
    ws.send(Buffer.concat([Buffer.from([2 * i + 1]), pb]));
    void connect(port).then((t) => {
      if ('error' in t) {
        if (ws.readyState === ws.OPEN) ws.send(Buffer.concat([Buffer.from([2 * i + 1]), Buffer.from(t.error)]));
        ws.close(1000);
        return;
      }
      targets[i] = t.stream;
      for (const b of pending[i] ?? []) t.stream.write(b);
      t.stream.on('data', (d: Buffer) => {
        if (ws.readyState === ws.OPEN) ws.send(Buffer.concat([Buffer.from([2 * i]), d]));
      });
      t.stream.on('close', () => ws.close(1000));
      t.stream.on('error', (e) => {
        if (ws.readyState === ws.OPEN) ws.send(Buffer.concat([Buffer.from([2 * i + 1]), Buffer.from(e.message)]));
      });
    });
  });
  ws.on('message', (data: Buffer) => {
    const ch = data[0] ?? 255;
    if (ch % 2 !== 0) return;
    const i = ch / 2;
    const payload = data.subarray(1);
    const t = targets[i];
    if (t) t.write(payload);
    else pending[i]?.push(payload);
  });
  ws.on('close', () => {
    for (const t of targets) t?.destroy();
  });
}
