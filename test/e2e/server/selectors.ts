/**
 * labelSelector and fieldSelector as the API server parses them (k8s.io/apimachinery labels and fields).
 */
import type { KubeObject } from './types.js';

type LabelReq =
  | { op: '=' | '!='; key: string; value: string }
  | { op: 'in' | 'notin'; key: string; values: string[] }
  | { op: 'exists' | '!'; key: string };

export class SelectorError extends Error {}

/** Parses `a=b,c!=d,e in (x,y),f notin (z),g,!h` (also `==`). */
export function parseLabelSelector(sel: string): LabelReq[] {
  const reqs: LabelReq[] = [];
  let i = 0;
  const s = sel;
  const skipWs = (): void => {
    while (i < s.length && /\s/.test(s[i] ?? '')) i++;
  };
  const readKey = (): string => {
    const m = /^[A-Za-z0-9._/-]+/.exec(s.slice(i));
    if (!m) throw new SelectorError(`unable to parse requirement: found '${s.slice(i, i + 1) || 'end of string'}', expected: identifier`);
    i += m[0].length;
    return m[0];
  };
  const readValue = (): string => {
    const m = /^[A-Za-z0-9._-]*/.exec(s.slice(i));
    i += m?.[0].length ?? 0;
    return m?.[0] ?? '';
  };
  skipWs();
  if (i >= s.length) return reqs;
  for (;;) {
    skipWs();
    if (s[i] === '!') {
      i++;
      skipWs();
      reqs.push({ op: '!', key: readKey() });
    } else {
      const key = readKey();
      skipWs();
      const rest = s.slice(i);
      if (rest.startsWith('==') || rest.startsWith('!=') || rest.startsWith('=')) {
        const op = rest.startsWith('!=') ? '!=' : '=';
        i += rest.startsWith('=') && !rest.startsWith('==') ? 1 : 2;
        skipWs();
        reqs.push({ op, key, value: readValue() });
      } else if (/^(in|notin)\s*\(/.test(rest)) {
        const op = rest.startsWith('notin') ? 'notin' : 'in';
        i += op.length;
        skipWs();
        i++; // (
        const values: string[] = [];
        for (;;) {
          skipWs();
          values.push(readValue());
          skipWs();
          if (s[i] === ',') {
            i++;
            continue;
          }
          if (s[i] === ')') {
            i++;
            break;
          }
          throw new SelectorError(`unable to parse requirement: found '${s[i] ?? 'end of string'}', expected: ',', ')'`);
        }
        reqs.push({ op, key, values });
      } else {
        reqs.push({ op: 'exists', key });
      }
    }
    skipWs();
    if (i >= s.length) break;
    if (s[i] !== ',') throw new SelectorError(`unable to parse requirement: found '${s[i] ?? ''}', expected: ',' or 'end of string'`);
    i++;
  }
  return reqs;
}

export function matchLabels(reqs: LabelReq[], labels: Record<string, string> | undefined): boolean {
  const l = labels ?? {};
  return reqs.every((r) => {
    const has = Object.hasOwn(l, r.key);
    const v = l[r.key];
    switch (r.op) {
      case '=':
        return has && v === r.value;
      case '!=':
        return !has || v !== r.value;
      case 'in':
        return has && r.values.includes(v ?? '');
      case 'notin':
        return !has || !r.values.includes(v ?? '');
      case 'exists':
        return has;
      case '!':
        return !has;
    }
    return false;
  });
}

interface FieldReq {
  field: string;
  op: '=' | '!=';
  value: string;
}

/** Field selectors the API server accepts per kind (pod has its own field label conversion). */
const FIELDS: Record<string, string[]> = {
  Pod: ['metadata.name', 'metadata.namespace', 'spec.nodeName', 'spec.restartPolicy', 'spec.schedulerName', 'spec.serviceAccountName', 'spec.hostNetwork', 'status.phase', 'status.podIP', 'status.podIPs', 'status.nominatedNodeName'],
  Event: ['metadata.name', 'metadata.namespace', 'involvedObject.kind', 'involvedObject.namespace', 'involvedObject.name', 'involvedObject.uid', 'involvedObject.apiVersion', 'involvedObject.resourceVersion', 'involvedObject.fieldPath', 'reason', 'reportingComponent', 'source', 'type'],
  Namespace: ['metadata.name', 'status.phase'],
  Secret: ['metadata.name', 'metadata.namespace', 'type'],
  Node: ['metadata.name', 'spec.unschedulable'],
  ReplicaSet: ['metadata.name', 'metadata.namespace', 'status.replicas'],
};

export function parseFieldSelector(sel: string, kind: string, resource: string): FieldReq[] {
  if (sel.trim() === '') return [];
  const allowed = FIELDS[kind] ?? ['metadata.name', 'metadata.namespace'];
  return sel.split(',').map((part) => {
    const m = /^\s*([^=!\s]+)\s*(==|!=|=)\s*(.*?)\s*$/.exec(part);
    if (!m) throw new SelectorError(`invalid selector: '${sel}'; can't understand '${part}'`);
    const field = m[1] ?? '';
    if (!allowed.includes(field)) {
      // The two wordings the API server uses: pods have a field label conversion func, others the generic one.
      throw new SelectorError(
        FIELDS[kind] ? `field label not supported: ${field}` : `Unable to find "${resource}" that match label selector "", field selector "${sel}": "${field}" is not a known field selector: only "metadata.name", "metadata.namespace"`,
      );
    }
    return { field, op: m[2] === '!=' ? '!=' : '=', value: m[3] ?? '' };
  });
}

function fieldValue(o: KubeObject, path: string): string {
  if (path === 'status.podIPs') {
    const ips = ((o.status as { podIPs?: { ip: string }[] } | undefined)?.podIPs ?? []).map((p) => p.ip);
    return ips.join(',');
  }
  if (path === 'source') path = 'source.component';
  let cur: unknown = o;
  for (const p of path.split('.')) cur = typeof cur === 'object' && cur !== null ? (cur as Record<string, unknown>)[p] : undefined;
  if (cur === undefined || cur === null) return path === 'spec.hostNetwork' || path === 'spec.unschedulable' ? 'false' : '';
  return String(cur);
}

export function matchFields(reqs: FieldReq[], o: KubeObject): boolean {
  return reqs.every((r) => {
    const v = fieldValue(o, r.field);
    if (r.field === 'status.podIPs') return r.op === '=' ? v.split(',').includes(r.value) : !v.split(',').includes(r.value);
    return r.op === '=' ? v === r.value : v !== r.value;
  });
}
