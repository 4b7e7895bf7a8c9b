/**
 * Just enough Kubernetes protobuf to read a SelfSubjectAccessReview: kubectl ≥ 1.32 posts it as
 * `application/vnd.kubernetes.protobuf` (a "k8s\0" magic + runtime.Unknown envelope) and accepts JSON back.
 */

type Fields = Map<number, (Buffer | bigint)[]>;

function varint(b: Buffer, pos: { i: number }): bigint {
  let out = 0n;
  let shift = 0n;
  for (;;) {
    const byte = b[pos.i++];
    if (byte === undefined) throw new Error('truncated varint');
    out |= BigInt(byte & 0x7f) << shift;
    if ((byte & 0x80) === 0) return out;
    shift += 7n;
  }
}

export function decodeMessage(b: Buffer): Fields {
  const f: Fields = new Map();
  const pos = { i: 0 };
  while (pos.i < b.length) {
    const key = Number(varint(b, pos));
    const field = key >>> 3;
    const wire = key & 7;
    let v: Buffer | bigint;
    if (wire === 0) v = varint(b, pos);
    else if (wire === 2) {
      const len = Number(varint(b, pos));
      v = b.subarray(pos.i, pos.i + len);
      pos.i += len;
    } else if (wire === 1) {
      v = b.readBigUInt64LE(pos.i);
      pos.i += 8;
    } else if (wire === 5) {
      v = BigInt(b.readUInt32LE(pos.i));
      pos.i += 4;
    } else throw new Error(`unsupported wire type ${wire}`);
    const list = f.get(field) ?? [];
    list.push(v);
    f.set(field, list);
  }
  return f;
}

const str = (f: Fields, n: number): string | undefined => {
  const v = f.get(n)?.[0];
  return Buffer.isBuffer(v) ? v.toString('utf8') : undefined;
};
const sub = (f: Fields, n: number): Fields | undefined => {
  const v = f.get(n)?.[0];
  return Buffer.isBuffer(v) ? decodeMessage(v) : undefined;
};

/** The raw object bytes inside the "k8s\0" + runtime.Unknown envelope. */
export function unwrapK8sProtobuf(body: Buffer): { apiVersion?: string; kind?: string; raw: Buffer } {
  if (body.subarray(0, 4).toString('latin1') !== 'k8s\0') throw new Error('missing k8s protobuf magic');
  const unknown = decodeMessage(body.subarray(4));
  const typeMeta = sub(unknown, 1);
  const raw = unknown.get(2)?.[0];
  return { apiVersion: typeMeta && str(typeMeta, 1), kind: typeMeta && str(typeMeta, 2), raw: Buffer.isBuffer(raw) ? raw : Buffer.alloc(0) };
}

/** SelfSubjectAccessReview{spec=2{resourceAttributes=1{namespace=1 verb=2 group=3 version=4 resource=5 subresource=6 name=7}}} as JSON. */
export function selfSubjectAccessReviewFromProtobuf(body: Buffer): Record<string, unknown> {
  const { raw } = unwrapK8sProtobuf(body);
  const spec = sub(decodeMessage(raw), 2);
  const ra = spec && sub(spec, 1);
  const nra = spec && sub(spec, 2);
  const attrs: Record<string, string> = {};
  if (ra) {
    const names = ['', 'namespace', 'verb', 'group', 'version', 'resource', 'subresource', 'name'];
    for (let i = 1; i < names.length; i++) {
      const v = str(ra, i);
      if (v !== undefined) attrs[names[i] ?? ''] = v;
    }
  }
  return {
    apiVersion: 'authorization.k8s.io/v1',
    kind: 'SelfSubjectAccessReview',
    spec: { ...(ra ? { resourceAttributes: attrs } : {}), ...(nra ? { nonResourceAttributes: { path: str(nra, 1) ?? '', verb: str(nra, 2) ?? '' } } : {}) },
  };
}

function map(f: Fields, n: number, bytes = false): Record<string, string> | undefined {
  const entries = f.get(n);
  if (!entries?.length) return undefined;
  const out: Record<string, string> = {};
  for (const e of entries) {
    if (!Buffer.isBuffer(e)) continue;
    const kv = decodeMessage(e);
    const v = kv.get(2)?.[0];
    out[str(kv, 1) ?? ''] = Buffer.isBuffer(v) ? (bytes ? v.toString('base64') : v.toString('utf8')) : '';
  }
  return out;
}

/** ObjectMeta{name=1 generateName=2 namespace=3 labels=11 annotations=12}. */
function objectMeta(f: Fields | undefined): Record<string, unknown> {
  if (!f) return {};
  const out: Record<string, unknown> = {};
  const name = str(f, 1);
  const gen = str(f, 2);
  const ns = str(f, 3);
  if (name) out.name = name;
  if (gen) out.generateName = gen;
  if (ns) out.namespace = ns;
  const labels = map(f, 11);
  const annotations = map(f, 12);
  if (labels) out.labels = labels;
  if (annotations) out.annotations = annotations;
  return out;
}

/**
 * Typed clients in kubectl ≥ 1.32 (e.g. `kubectl create configmap`) post built-in objects as protobuf.
 * ConfigMap{metadata=1 data=2 binaryData=3 immutable=4}, Secret{metadata=1 data=2 type=3 stringData=4 immutable=5},
 * Namespace{metadata=1}. Returns undefined for other kinds.
 */
export function objectFromProtobuf(body: Buffer): Record<string, unknown> | undefined {
  const { apiVersion, kind, raw } = unwrapK8sProtobuf(body);
  const f = decodeMessage(raw);
  const metadata = objectMeta(sub(f, 1));
  const flag = (n: number): boolean | undefined => (f.get(n)?.[0] === undefined ? undefined : f.get(n)?.[0] === 1n);
  switch (kind) {
    case 'ConfigMap':
      return { apiVersion, kind, metadata, ...(map(f, 2) ? { data: map(f, 2) } : {}), ...(map(f, 3, true) ? { binaryData: map(f, 3, true) } : {}), ...(flag(4) !== undefined ? { immutable: flag(4) } : {}) };
    case 'Secret':
      return { apiVersion, kind, metadata, ...(map(f, 2, true) ? { data: map(f, 2, true) } : {}), ...(str(f, 3) ? { type: str(f, 3) } : {}), ...(map(f, 4) ? { stringData: map(f, 4) } : {}) };
    case 'Namespace':
      return { apiVersion, kind, metadata };
    default:
      return undefined;
  }
}
