/**
 * SPDY/3.1 server side of Kubernetes streaming (exec, port-forward), on spdy-transport@3.0.0 with the
 * three fixes kubectl's moby/spdystream client needs (research report §2 "Snags"):
 *   1. spdystream SYN_STREAMs carry only streamtype/port/requestid headers, and spdy-transport rejects
 *      streams without `:method`/`:path` → default them in the header parser.
 *   2. A client GOAWAY turns pending streams into `error` events → every stream and the connection get
 *      error listeners.
 *   3. spdystream never sends WINDOW_UPDATE, so spdy-transport's 64 KiB send window stalls port-forward
 *      and silently truncates exec output → send windows are made effectively infinite (what Go does).
 */
import { createRequire } from 'node:module';
import type { Duplex } from 'node:stream';
import type { EventEmitter } from 'node:events';

const require = createRequire(import.meta.url);

export interface SpdyStream extends Duplex {
  id: number;
  headers: Record<string, string | string[] | undefined>;
  respond(status: number, headers: Record<string, string>, cb?: (err?: Error) => void): void;
  abort(cb?: () => void): void;
}

interface WindowSide {
  limit: number;
  max: number;
  current: number;
}

interface SpdyConnection extends EventEmitter {
  _spdyState: { window: { send: WindowSide; recv: WindowSide }; streamWindow: { send: WindowSide; recv: WindowSide } };
  _setDefaultWindow: (settings: unknown) => void;
  end(cb?: () => void): void;
  destroyStreams(err?: Error): void;
}

interface SpdyTransport {
  connection: { create(socket: Duplex, opts: Record<string, unknown>): SpdyConnection };
  protocol: { spdy: { parser: { create(opts: Record<string, unknown>): object } } };
  Window: new (opts: Record<string, unknown>) => object;
}

let transport: SpdyTransport | undefined;

function spdy(): SpdyTransport {
  if (transport) return transport;
  const t = require('spdy-transport') as SpdyTransport;
  const win = new t.Window({ id: 0, isServer: true, recv: { size: 65535, max: 65535 }, send: { size: 65535, max: 65535 } });
  const proto = Object.getPrototypeOf(t.protocol.spdy.parser.create({ isServer: true, window: win })) as {
    parseKVs: (this: unknown, buf: unknown, cb: (err: Error | null, headers?: Record<string, unknown>) => void) => void;
    __k8sPatched?: boolean;
  };
  if (!proto.__k8sPatched) {
    const orig = proto.parseKVs;
    proto.parseKVs = function patched(buf, cb) {
      orig.call(this, buf, (err, headers) => {
        if (!err && headers) {
          headers[':method'] ??= 'POST';
          headers[':path'] ??= '/';
        }
        cb(err, headers);
      });
    };
    proto.__k8sPatched = true;
  }
  transport = t;
  return t;
}

const HUGE = 2 ** 30;

/** Serves a SPDY/3.1 session on `duplex` (an upgraded socket or a websocket tunnel); `onStream` gets each client stream. */
export interface SpdySession {
  /** GOAWAY, then close once every stream is done (what the kubelet does when an exec ends). */
  close: () => void;
  /** Tear down now (server shutdown). */
  destroy: () => void;
}

export function serveSpdy(duplex: Duplex, onStream: (s: SpdyStream) => void, onError: (e: Error) => void): SpdySession {
  const conn = spdy().connection.create(duplex, { protocol: 'spdy', isServer: true, windowSize: HUGE });
  const st = conn._spdyState;
  for (const side of [st.streamWindow.send, st.window.send]) {
    side.limit = 2 ** 31 - 1;
    side.max = HUGE;
    side.current = HUGE;
  }
  for (const side of [st.streamWindow.recv, st.window.recv]) side.limit = 2 ** 31 - 1;
  // A SETTINGS frame with initial_window_size would shrink the windows back.
  conn._setDefaultWindow = () => undefined;
  conn.on('error', onError);
  conn.on('stream', (s: SpdyStream) => {
    s.on('error', onError);
    onStream(s);
  });
  let closed = false;
  return {
    close: () => {
      if (closed) return;
      closed = true;
      try {
        // Ending the socket here would cut off frames still queued behind backpressure; spdy-transport
        // ends it itself once the client has closed its streams.
        conn.end();
      } catch {
        duplex.destroy();
      }
      setTimeout(() => duplex.destroy(), 30_000).unref();
    },
    destroy: () => {
      closed = true;
      duplex.destroy();
    },
  };
}

export function header(s: SpdyStream, name: string): string {
  const v = s.headers[name];
  return Array.isArray(v) ? (v[0] ?? '') : (v ?? '');
}
