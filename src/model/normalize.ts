/**
 * Envoy's admin API prints protobuf JSON with the proto field names (snake_case), while
 * `istioctl proxy-config -o json` and hand-edited fixtures use the lowerCamelCase JSON names.
 * protojson accepts both spellings, so we do too: every resource is normalised to snake_case
 * once, when it is loaded, and the engine only ever reads snake_case.
 *
 * Map-typed fields and google.protobuf.Struct values carry user data as keys (label names,
 * filter names, metadata keys): those keys are data, not field names, and are never rewritten.
 */

const CAMEL = /^[a-z][a-zA-Z0-9]*$/;
const cache = new Map<string, string>();

/** lowerCamelCase proto JSON name → proto field name; anything else is returned unchanged. */
export function snakeKey(key: string): string {
  const hit = cache.get(key);
  if (hit !== undefined) return hit;
  let out = key;
  if (CAMEL.test(key) && /[A-Z]/.test(key)) out = key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
  if (cache.size < 10_000) cache.set(key, out);
  return out;
}

/**
 * Fields whose value is a proto map or a Struct: their keys are data. The field itself is
 * renamed; its contents are copied verbatim.
 */
const OPAQUE_FIELDS = new Set([
  'filter_metadata',
  'typed_filter_metadata',
  'typed_per_filter_config',
  'per_filter_config',
  'typed_extension_protocol_options',
  'extension_protocol_options',
  'cluster_specifier_plugins',
  // mixer (Istio <= 1.4) attribute maps
  'attributes',
  'mixer_attributes',
  'forward_attributes',
  'service_configs',
  // bootstrap node metadata is a Struct (ISTIO_VERSION, LABELS, annotations, ...)
  'metadata_struct',
  // google.protobuf.Struct inside udpa TypedStruct / legacy `config`
  'value',
  'config',
]);

/** Deep copy of a resource with every proto field name in snake_case. */
export function normalizeKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(normalizeKeys);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    const key = snakeKey(k);
    out[key] = OPAQUE_FIELDS.has(key) ? v : normalizeKeys(v);
  }
  return out;
}

/** Node metadata is a Struct whose keys are data; only the Node message's own fields are renamed. */
export function normalizeNode(node: unknown): unknown {
  if (node === null || typeof node !== 'object' || Array.isArray(node)) return node;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(node as Record<string, unknown>)) {
    const key = snakeKey(k);
    out[key] = key === 'metadata' ? v : normalizeKeys(v);
  }
  return out;
}
