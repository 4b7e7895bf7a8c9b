/**
 * Kubernetes label selectors (apimachinery pkg/apis/meta/v1 LabelSelector, as converted by
 * LabelSelectorAsSelector): matchLabels and matchExpressions are ANDed; an empty selector matches
 * everything; `In` needs the key with one of the values, `NotIn` matches when the key is absent or
 * its value is not listed, `Exists`/`DoesNotExist` test the key only.
 *
 * Labels may be only partly known (a namespace that could not be read still has the
 * `kubernetes.io/metadata.name` label the API server sets on every namespace since 1.22), so a
 * match is three-valued: true, false or 'unknown'.
 */

export interface LabelSelectorRequirement {
  readonly key: string;
  readonly operator: string;
  readonly values?: readonly string[];
}

export interface LabelSelector {
  readonly matchLabels?: Readonly<Record<string, string>> | null;
  readonly matchExpressions?: readonly LabelSelectorRequirement[] | null;
}

/** Kleene three-valued logic. */
export type Tri = true | false | 'unknown';

export function triAnd(values: Iterable<Tri>): Tri {
  let unknown = false;
  for (const v of values) {
    if (v === false) return false;
    if (v === 'unknown') unknown = true;
  }
  return unknown ? 'unknown' : true;
}

export function triOr(values: Iterable<Tri>): Tri {
  let unknown = false;
  for (const v of values) {
    if (v === true) return true;
    if (v === 'unknown') unknown = true;
  }
  return unknown ? 'unknown' : false;
}

/** Labels with a completeness flag: `complete: false` means other labels may exist. */
export interface KnownLabels {
  readonly labels: Readonly<Record<string, string>>;
  readonly complete: boolean;
}

export function fullLabels(labels: Readonly<Record<string, string>> | undefined): KnownLabels {
  return { labels: labels ?? {}, complete: true };
}

function requirement(r: LabelSelectorRequirement, l: KnownLabels): Tri {
  const has = Object.prototype.hasOwnProperty.call(l.labels, r.key);
  const value = has ? l.labels[r.key] : undefined;
  const values = r.values ?? [];
  switch (r.operator) {
    case 'In':
      if (has) return values.includes(value!);
      return l.complete ? false : 'unknown';
    case 'NotIn':
      if (has) return !values.includes(value!);
      return l.complete ? true : 'unknown';
    case 'Exists':
      if (has) return true;
      return l.complete ? false : 'unknown';
    case 'DoesNotExist':
      if (has) return false;
      return l.complete ? true : 'unknown';
    default:
      // the API server rejects other operators; a selector that cannot be evaluated matches nothing
      return false;
  }
}

/** Whether `sel` selects an object with labels `l`. An empty selector selects everything. */
export function selectorMatches(sel: LabelSelector | null | undefined, l: KnownLabels): Tri {
  const reqs: LabelSelectorRequirement[] = [
    ...Object.entries(sel?.matchLabels ?? {}).map(([key, v]) => ({ key, operator: 'In', values: [v] })),
    ...(sel?.matchExpressions ?? []),
  ];
  return triAnd(reqs.map((r) => requirement(r, l)));
}

/** `app=x,tier in (a,b),!legacy` — a selector as `kubectl get -l` takes it. */
export function selectorText(sel: LabelSelector | null | undefined): string {
  const parts: string[] = Object.entries(sel?.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`);
  for (const r of sel?.matchExpressions ?? []) {
    const vs = (r.values ?? []).join(',');
    if (r.operator === 'In') parts.push(`${r.key} in (${vs})`);
    else if (r.operator === 'NotIn') parts.push(`${r.key} notin (${vs})`);
    else if (r.operator === 'Exists') parts.push(r.key);
    else if (r.operator === 'DoesNotExist') parts.push(`!${r.key}`);
  }
  return parts.length ? parts.join(',') : '(all)';
}
