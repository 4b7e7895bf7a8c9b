/**
 * A proxy's statistics, from either of Envoy's admin outputs (pure: text in, samples out):
 *  - `/stats/prometheus` (what `pilot-agent request GET stats/prometheus`, the 15090 listener and
 *    bug-report's `stats/prometheus` give): the Prometheus text exposition format 0.0.4. Envoy
 *    names its own stats `envoy_<name>` with tags extracted by the bootstrap's stats_tags (Istio:
 *    `cluster.<name>;.` → cluster_name, `listener.<addr>.` → listener_address, `tcp.<prefix>.` →
 *    tcp_prefix; tools/packaging/common/envoy_bootstrap.json); the Istio standard metrics keep
 *    their own `istio_` names (istio_requests_total, istio_tcp_connections_closed_total, ...).
 *  - `/stats` text: `name: value` lines, where Istio's tagged metrics are encoded as
 *    `tag=.=value;.;tag2=.=value2;.;istio_requests_total: 3` (the stats filter's `;.;` delimiters).
 * Label values follow the exposition format's escaping (`\\`, `\"`, `\n`).
 */

export interface StatSample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

export interface ProxyStats {
  readonly format: 'prometheus' | 'envoy-text';
  readonly samples: readonly StatSample[];
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;

function parseValue(text: string): number | undefined {
  const t = text.trim();
  if (t === 'NaN') return NaN;
  if (t === '+Inf' || t === 'Inf') return Infinity;
  if (t === '-Inf') return -Infinity;
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(t)) return undefined;
  return Number(t);
}

/** `{a="x",b="y\"z"}` starting at `i` → labels and the index after `}`; undefined if malformed. */
function parseLabels(line: string, i: number): { labels: Record<string, string>; end: number } | undefined {
  const labels: Record<string, string> = {};
  let p = i + 1;
  const n = line.length;
  for (;;) {
    while (p < n && (line[p] === ' ' || line[p] === ',')) p++;
    if (p >= n) return undefined;
    if (line[p] === '}') return { labels, end: p + 1 };
    const m = /^[a-zA-Z_][a-zA-Z0-9_]*/.exec(line.slice(p));
    if (!m) return undefined;
    const key = m[0];
    p += key.length;
    while (line[p] === ' ') p++;
    if (line[p] !== '=') return undefined;
    p++;
    while (line[p] === ' ') p++;
    if (line[p] !== '"') return undefined;
    p++;
    let value = '';
    for (;;) {
      if (p >= n) return undefined;
      const c = line[p]!;
      if (c === '\\') {
        const e = line[p + 1];
        value += e === 'n' ? '\n' : e === '"' ? '"' : e === '\\' ? '\\' : `\\${e ?? ''}`;
        p += 2;
        continue;
      }
      if (c === '"') {
        p++;
        break;
      }
      value += c;
      p++;
    }
    labels[key] = value;
  }
}

/** The Prometheus text exposition format; lines that do not parse are skipped. */
export function parsePrometheusText(text: string): StatSample[] {
  const out: StatSample[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const m = METRIC_NAME.exec(line);
    if (!m) continue;
    const name = m[0];
    let p = name.length;
    let labels: Record<string, string> = {};
    if (line[p] === '{') {
      const l = parseLabels(line, p);
      if (!l) continue;
      labels = l.labels;
      p = l.end;
    }
    // value, then an optional timestamp
    const rest = line.slice(p).trim().split(/\s+/);
    const value = parseValue(rest[0] ?? '');
    if (value === undefined) continue;
    out.push({ name, labels, value });
  }
  return out;
}

/**
 * Envoy's `/stats` text: `name: value`. Istio's tagged names carry their tags inline
 * (`reporter=.=source;.;destination_service_name=.=BlackHoleCluster;.;istio_tcp_connections_closed_total`);
 * histograms (`P0(...)`) are skipped. Cluster names keep Istio's alt_stat_name delimiter
 * (`cluster.BlackHoleCluster;.upstream_cx_total`); it is removed here so names read as in the
 * bare form (`cluster.BlackHoleCluster.upstream_cx_total`).
 */
export function parseEnvoyStatsText(text: string): StatSample[] {
  const out: StatSample[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    const c = line.lastIndexOf(': ');
    if (c <= 0) continue;
    const value = parseValue(line.slice(c + 2));
    if (value === undefined) continue;
    let name = line.slice(0, c);
    const labels: Record<string, string> = {};
    if (name.includes('=.=')) {
      const parts = name.split(';.;');
      name = parts.pop()!;
      for (const part of parts) {
        const i = part.indexOf('=.=');
        if (i > 0) labels[part.slice(0, i)] = part.slice(i + 3);
      }
    }
    out.push({ name: name.replace(/^cluster\.([^;]+);\./, 'cluster.$1.'), labels, value });
  }
  return out;
}

/** Either format, told apart by its lines (`name: value` is Envoy's text; anything else Prometheus). */
export function parseProxyStats(text: string): ProxyStats {
  const lines = text.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('#'));
  const envoyText = lines.length > 0 && lines.slice(0, 50).every((l) => /^\S+: \S/.test(l.trim()));
  return envoyText ? { format: 'envoy-text', samples: parseEnvoyStatsText(text) } : { format: 'prometheus', samples: parsePrometheusText(text) };
}
