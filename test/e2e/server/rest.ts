/**
 * Resource requests: get, list (label/field selectors), watch, create, update, patch, delete,
 * deletecollection, pods/log and SelfSubjectAccessReview, answered like the apiserver (typed lists
 * without item TypeMeta, Status errors with its wording).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ClusterRuntime, Watcher } from './cluster.js';
import { STREAMING, authz, header, isBuiltinGroup, parseJson, readBody, readBodyBuffer, sendJson, sendStatus, type ReqInfo } from './http.js';
import { containerState, parseLogQuery, resolveContainer, rfc3339Nano, selectLines } from './logs.js';
import { objectFromProtobuf, selfSubjectAccessReviewFromProtobuf } from './protobuf.js';
import { SelectorError, matchFields, matchLabels, parseFieldSelector, parseLabelSelector } from './selectors.js';
import { alreadyExists, badRequest, forbidden, methodNotAllowed, notFound, notFoundPath, status } from './status.js';
import type { KubeObject, ResourceDef } from './types.js';

function view(o: KubeObject, def: ResourceDef, version: string, inList: boolean): KubeObject {
  const out = structuredClone(o);
  out.apiVersion = def.group ? `${def.group}/${version}` : version;
  // Typed lists of built-in kinds carry no TypeMeta on items; custom resources (unstructured) do.
  if (inList && isBuiltinGroup(def.group)) {
    const { apiVersion: _a, kind: _k, ...rest } = out;
    void _a;
    void _k;
    return rest as KubeObject;
  }
  return out;
}

export async function handleResource(rt: ClusterRuntime, info: ReqInfo, url: URL, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const def = rt.registry.find(info.group ?? '', info.version ?? '', info.resource ?? '');
  if (!def) return sendStatus(res, notFoundPath());
  const version = info.version ?? 'v1';
  const isNsObject = def.plural === 'namespaces';
  if (!def.namespaced && info.namespace !== undefined && !isNsObject) return sendStatus(res, notFoundPath());
  const a = authz(rt, info);
  if (rt.denied(a)) return sendStatus(res, forbidden(a));
  const ns = def.namespaced ? info.namespace : undefined;
  const name = info.name;
  const group = def.group;

  if (info.subresource) {
    const sub = info.subresource;
    if (STREAMING.has(sub)) return sendStatus(res, badRequest('Upgrade request required'));
    if (sub === 'log' && def.plural === 'pods' && info.verb === 'get') return podLogs(rt, ns ?? '', name ?? '', url, res);
    if (sub === 'status' && info.verb === 'get') {
      const o = rt.getByDef(def, ns, name ?? '');
      return o ? sendJson(res, 200, view(o, def, version, false)) : sendStatus(res, notFound(group, def.plural, name ?? ''));
    }
    return sendStatus(res, notFoundPath());
  }

  switch (info.verb) {
    case 'get': {
      const o = rt.getByDef(def, ns, name ?? '');
      return o ? sendJson(res, 200, view(o, def, version, false)) : sendStatus(res, notFound(group, def.plural, name ?? ''));
    }
    case 'list':
    case 'watch': {
      let filter: (o: KubeObject) => boolean;
      try {
        const labels = parseLabelSelector(url.searchParams.get('labelSelector') ?? '');
        const fields = parseFieldSelector(url.searchParams.get('fieldSelector') ?? '', def.kind, `${group ? `${group}/` : '/'}${version}, Resource=${def.plural}`);
        filter = (o) => matchLabels(labels, o.metadata.labels) && matchFields(fields, o);
      } catch (e) {
        if (e instanceof SelectorError) return sendStatus(res, badRequest(e.message));
        throw e;
      }
      if (info.verb === 'watch') return watch(rt, def, version, ns, filter, url, res);
      const items = rt.list(def, ns).filter(filter);
      return sendJson(res, 200, { kind: `${def.kind}List`, apiVersion: group ? `${group}/${version}` : version, metadata: { resourceVersion: rt.currentRv() }, items: items.map((o) => view(o, def, version, true)) });
    }
    case 'create': {
      const raw = await readBodyBuffer(req);
      let body: unknown;
      if ((header(req, 'content-type') ?? '').startsWith('application/vnd.kubernetes.protobuf')) {
        if (def.plural === 'selfsubjectaccessreviews') return accessReview(rt, selfSubjectAccessReviewFromProtobuf(raw), res);
        // A few kinds kubectl's typed clients create are decoded; anything else is refused like an unknown format.
        body = objectFromProtobuf(raw);
        if (!body) return sendStatus(res, status(415, 'UnsupportedMediaType', `the test server cannot decode protobuf ${def.kind} bodies; send JSON`));
      } else {
        body = parseJson(raw.toString('utf8'));
      }
      if (!body) return sendStatus(res, badRequest('the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf'));
      if (def.plural === 'selfsubjectaccessreviews') return accessReview(rt, body, res);
      const o = body as KubeObject;
      o.metadata ??= {};
      if (ns !== undefined && o.metadata.namespace !== undefined && o.metadata.namespace !== ns) return sendStatus(res, badRequest('the namespace of the provided object does not match the namespace sent on the request'));
      if (!o.metadata.name && o.metadata.generateName) o.metadata.name = `${o.metadata.generateName}${Math.random().toString(36).slice(2, 7)}`;
      if (!o.metadata.name) return sendStatus(res, status(422, 'Invalid', `${def.kind} "" is invalid: metadata.name: Required value: name or generateName is required`));
      if (rt.getByDef(def, ns, o.metadata.name)) return sendStatus(res, alreadyExists(group, def.plural, o.metadata.name));
      if (ns !== undefined) o.metadata.namespace = ns;
      o.apiVersion = group ? `${group}/${version}` : version;
      o.kind = def.kind;
      delete o.metadata.uid;
      delete o.metadata.creationTimestamp;
      const stored = rt.apply(o);
      sendJson(res, 201, view(stored, def, version, false));
      rt.created(stored);
      return;
    }
    case 'update': {
      const body = parseJson(await readBody(req)) as KubeObject | undefined;
      const cur = rt.getByDef(def, ns, name ?? '');
      if (!cur) return sendStatus(res, notFound(group, def.plural, name ?? ''));
      if (!body) return sendStatus(res, badRequest('the body of the request was in an unknown format'));
      body.metadata = { ...body.metadata, name: cur.metadata.name, namespace: cur.metadata.namespace, uid: cur.metadata.uid, creationTimestamp: cur.metadata.creationTimestamp };
      return sendJson(res, 200, view(rt.apply(body), def, version, false));
    }
    case 'patch': {
      const cur = rt.getByDef(def, ns, name ?? '');
      if (!cur) return sendStatus(res, notFound(group, def.plural, name ?? ''));
      const ct = (header(req, 'content-type') ?? '').split(';')[0]?.trim();
      const raw = await readBody(req);
      const patch = parseJson(raw);
      let next: KubeObject;
      if (ct === 'application/json-patch+json') {
        if (!Array.isArray(patch)) return sendStatus(res, badRequest('the server rejected our request due to an error in our request'));
        try {
          next = jsonPatch(structuredClone(cur), patch as JsonPatchOp[]);
        } catch (e) {
          return sendStatus(res, status(422, 'Invalid', (e as Error).message));
        }
      } else if (ct === 'application/merge-patch+json' || ct === 'application/strategic-merge-patch+json') {
        if (patch === undefined) return sendStatus(res, badRequest('the body of the request was in an unknown format'));
        next = mergePatch(structuredClone(cur), patch) as KubeObject;
      } else {
        return sendStatus(res, status(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json`));
      }
      next.metadata = { ...next.metadata, name: cur.metadata.name, namespace: cur.metadata.namespace, uid: cur.metadata.uid };
      return sendJson(res, 200, view(rt.apply(next), def, version, false));
    }
    case 'delete': {
      const o = rt.removeByDef(def, ns, name ?? '');
      return o ? sendJson(res, 200, view(o, def, version, false)) : sendStatus(res, notFound(group, def.plural, name ?? ''));
    }
    case 'deletecollection': {
      const gone = rt.list(def, ns).map((o) => rt.removeByDef(def, ns ?? o.metadata.namespace, o.metadata.name ?? '')).filter((o): o is KubeObject => o !== undefined);
      return sendJson(res, 200, { kind: `${def.kind}List`, apiVersion: group ? `${group}/${version}` : version, metadata: { resourceVersion: rt.currentRv() }, items: gone.map((o) => view(o, def, version, true)) });
    }
    default:
      return sendStatus(res, methodNotAllowed(req.method ?? ''));
  }
}

function accessReview(rt: ClusterRuntime, body: unknown, res: ServerResponse): void {
  const spec = ((body as { spec?: { resourceAttributes?: Record<string, string>; nonResourceAttributes?: unknown } }).spec ?? {}) as { resourceAttributes?: Record<string, string> };
  const ra = spec.resourceAttributes;
  const denied = ra ? rt.denied({ user: rt.user, verb: ra.verb ?? '', group: ra.group ?? '', resource: ra.resource ?? '', subresource: ra.subresource || undefined, namespace: ra.namespace || undefined, name: ra.name || undefined }) : undefined;
  sendJson(res, 201, {
    kind: 'SelfSubjectAccessReview',
    apiVersion: 'authorization.k8s.io/v1',
    metadata: { creationTimestamp: null },
    spec,
    status: denied ? { allowed: false } : { allowed: true, reason: 'RBAC: allowed by ClusterRoleBinding "mesh-egress-test" of ClusterRole "cluster-admin" to User "' + rt.user + '"' },
  });
}

function watch(rt: ClusterRuntime, def: ResourceDef, version: string, ns: string | undefined, filter: (o: KubeObject) => boolean, url: URL, res: ServerResponse): void {
  res.writeHead(200, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked', 'Cache-Control': 'no-cache, private' });
  const send = (type: string, o: KubeObject): void => {
    res.write(`${JSON.stringify({ type, object: view(o, def, version, false) })}\n`);
  };
  const rv = url.searchParams.get('resourceVersion');
  // No resourceVersion (or "0"): the current state first, as synthetic ADDED events.
  if (!rv || rv === '0') for (const o of rt.list(def, ns).filter(filter)) send('ADDED', o);
  else {
    for (const e of rt.eventsSince(def, Number(rv))) {
      if (ns !== undefined && def.namespaced && e.obj.metadata.namespace !== ns) continue;
      if (filter(e.obj)) send(e.type, e.obj);
    }
  }
  const w: Watcher = { def, namespace: ns, filter, send, end: () => res.end() };
  rt.watchers.add(w);
  res.on('close', () => rt.watchers.delete(w));
  const t = Number(url.searchParams.get('timeoutSeconds') ?? '0');
  if (t > 0) setTimeout(() => res.end(), t * 1000).unref();
}

function podLogs(rt: ClusterRuntime, ns: string, name: string, url: URL, res: ServerResponse): void {
  const pod = rt.getByDef(rt.registry.byKind('', 'Pod') as ResourceDef, ns, name);
  if (!pod) return sendStatus(res, notFound('', 'pods', name));
  const c = resolveContainer(pod, url.searchParams.get('container') ?? undefined);
  if ('error' in c) return sendStatus(res, c.error);
  const q = parseLogQuery(url.searchParams);
  if ('error' in q) return sendStatus(res, q.error);
  const key = `${ns}/${name}`;
  const src = rt.logsOf(key, c.container);
  if (q.previous) {
    if (src.previous === undefined) return sendStatus(res, badRequest(`previous terminated container "${c.container}" in pod "${name}" not found`));
  } else {
    const st = containerState(pod, c.container);
    const waiting = st?.waiting as { reason?: string } | undefined;
    if (!pod.spec || !(pod.spec as { nodeName?: string }).nodeName) return sendStatus(res, badRequest(`pod ${name} does not have a host assigned`));
    if (waiting) return sendStatus(res, badRequest(`container "${c.container}" in pod "${name}" is waiting to start: ${waiting.reason ?? 'ContainerCreating'}`));
  }
  const start = new Date(pod.metadata.creationTimestamp ?? Date.now());
  const body = selectLines(q.previous ? src.previous : src.current, q, start);
  res.writeHead(200, { 'Content-Type': 'text/plain', 'Transfer-Encoding': 'chunked' });
  res.write(body);
  if (!q.follow || q.previous) {
    res.end();
    return;
  }
  rt.follow(key, c.container, res, (line) => res.write(`${q.timestamps ? `${rfc3339Nano(new Date())} ` : ''}${line}\n`));
}

function mergePatch(target: unknown, patch: unknown): unknown {
  if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) return patch;
  const t = typeof target === 'object' && target !== null && !Array.isArray(target) ? (target as Record<string, unknown>) : {};
  for (const [k, v] of Object.entries(patch as Record<string, unknown>)) {
    if (k === '$patch' || k.startsWith('$setElementOrder')) continue;
    if (v === null) delete t[k];
    else t[k] = mergePatch(t[k], v);
  }
  return t;
}

interface JsonPatchOp {
  op: 'add' | 'remove' | 'replace' | 'test' | 'move' | 'copy';
  path: string;
  value?: unknown;
  from?: string;
}

/** RFC 6902 add/remove/replace/test (enough for kubectl patch --type=json). */
function jsonPatch(doc: KubeObject, ops: JsonPatchOp[]): KubeObject {
  const ptr = (p: string): string[] => p.split('/').slice(1).map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
  for (const op of ops) {
    const parts = ptr(op.path);
    const last = parts.pop() ?? '';
    let parent: unknown = doc;
    for (const p of parts) parent = (parent as Record<string, unknown>)?.[p];
    if (typeof parent !== 'object' || parent === null) throw new Error(`jsonpatch ${op.op} operation does not apply: doc is missing path: ${op.path}`);
    const container = parent as Record<string, unknown> & unknown[];
    if (op.op === 'test') {
      if (JSON.stringify(container[last as never]) !== JSON.stringify(op.value)) throw new Error(`testing value ${op.path} failed: test failed`);
    } else if (op.op === 'remove') {
      if (Array.isArray(container)) container.splice(Number(last), 1);
      else delete container[last];
    } else if (op.op === 'add' && Array.isArray(container)) {
      container.splice(last === '-' ? container.length : Number(last), 0, op.value);
    } else if (op.op === 'add' || op.op === 'replace') {
      (container as Record<string, unknown>)[last] = op.value;
    } else {
      throw new Error(`unsupported json patch op ${op.op}`);
    }
  }
  return doc;
}
