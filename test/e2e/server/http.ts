/**
 * HTTP plumbing shared by the REST and upgrade handlers: the apiserver's RequestInfo classification,
 * response writers, body readers.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { ClusterRuntime } from './cluster.js';
import type { AuthzAttributes, Status } from './status.js';

export interface ReqInfo {
  isResource: boolean;
  verb: string;
  group?: string;
  version?: string;
  resource?: string;
  subresource?: string;
  namespace?: string;
  name?: string;
}

export const STREAMING = new Set(['exec', 'attach', 'portforward']);
export const NOT_STATE_CHANGING = new Set(['exec', 'attach', 'portforward', 'log', 'proxy']);
export const REVIEWS = new Set(['selfsubjectaccessreviews', 'selfsubjectrulesreviews', 'subjectaccessreviews', 'tokenreviews', 'selfsubjectreviews']);

/** apiserver's RequestInfoFactory.NewRequestInfo, reduced to what tests look at. */
export function requestInfo(method: string, pathname: string, query: URLSearchParams): ReqInfo {
  const parts = pathname.split('/').filter((p) => p !== '');
  const lower = method.toLowerCase();
  const nonResource: ReqInfo = { isResource: false, verb: lower };
  let group = '';
  let rest: string[];
  if (parts[0] === 'api' && parts.length >= 3) {
    rest = parts.slice(2);
  } else if (parts[0] === 'apis' && parts.length >= 4) {
    group = parts[1] ?? '';
    rest = parts.slice(3);
  } else {
    return nonResource;
  }
  const version = parts[0] === 'api' ? parts[1] : parts[2];
  let namespace: string | undefined;
  if (rest[0] === 'namespaces' && rest.length > 1) {
    namespace = rest[1];
    // /namespaces/{ns}/status and /finalize are subresources of the namespace itself.
    if (rest.length > 2 && rest[2] !== 'status' && rest[2] !== 'finalize') rest = rest.slice(2);
  }
  const [resource, name, subresource] = rest;
  let verb: string;
  switch (method) {
    case 'POST':
      verb = 'create';
      break;
    case 'GET':
    case 'HEAD':
      verb = 'get';
      break;
    case 'PUT':
      verb = 'update';
      break;
    case 'PATCH':
      verb = 'patch';
      break;
    case 'DELETE':
      verb = 'delete';
      break;
    default:
      verb = lower;
  }
  if (!name && verb === 'get') verb = query.get('watch') === 'true' || query.get('watch') === '1' ? 'watch' : 'list';
  if (!name && verb === 'delete') verb = 'deletecollection';
  return { isResource: true, verb, group, version, resource, subresource, namespace, name };
}

export function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v.join(', ') : v;
}

export function sendJson(res: ServerResponse, code: number, body: unknown, extra: Record<string, string> = {}): void {
  const s = JSON.stringify(body);
  res.writeHead(code, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(s), 'Cache-Control': 'no-cache, private', ...extra });
  res.end(s);
}

export function sendStatus(res: ServerResponse, st: Status): void {
  sendJson(res, st.code, st);
}

export function sendText(res: ServerResponse, code: number, text: string): void {
  res.writeHead(code, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(text), 'X-Content-Type-Options': 'nosniff' });
  res.end(text);
}

/** Writes an HTTP response on a socket we have not upgraded. */
export function rawResponse(socket: Duplex, code: number, body: string, contentType = 'application/json', extra: Record<string, string> = {}): void {
  const reason: Record<number, string> = { 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 500: 'Internal Server Error' };
  const headers = { 'Content-Type': contentType, 'Content-Length': String(Buffer.byteLength(body)), Connection: 'close', ...extra };
  socket.end(`HTTP/1.1 ${code} ${reason[code] ?? 'Error'}\r\n${Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n${body}`);
}

export async function readBodyBuffer(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

export async function readBody(req: IncomingMessage): Promise<string> {
  return (await readBodyBuffer(req)).toString('utf8');
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export function isBuiltinGroup(g: string): boolean {
  return g === '' || !g.includes('.') || g.endsWith('.k8s.io');
}

export function parseJson(s: string): unknown {
  try {
    return s.trim() === '' ? undefined : JSON.parse(s);
  } catch {
    return undefined;
  }
}

/** The authorizer's view of a request. */
export function authz(rt: ClusterRuntime, info: ReqInfo): AuthzAttributes {
  // kube-apiserver ≥ 1.31 authorizes exec/attach/portforward as `create` even for the websocket GET.
  const verb = info.subresource && STREAMING.has(info.subresource) ? 'create' : info.verb;
  return { user: rt.user, verb, group: info.group ?? '', resource: info.resource ?? '', subresource: info.subresource, namespace: info.namespace, name: info.name };
}
