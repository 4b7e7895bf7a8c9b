/**
 * Envoy's admin `/logging` endpoint: the text it answers and the queries it accepts, across the
 * Envoy versions Istio has shipped (source/server/admin/logs_handler.cc, LogsHandler::handlerLogging
 * and changeLogLevel; older releases had the same code in admin.cc, AdminImpl::handlerLogging):
 *
 *  - `POST /logging` lists every logger: `active loggers:` then `  <name>: <level>` per logger in
 *    registry order. Component loggers are Envoy's ALL_LOGGER_IDS (source/common/common/logger.h);
 *    with --enable-fine-grain-logging the names are source file paths instead, and releases before
 *    the level strings were fixed printed the spdlog enum number (FineGrainLogContext::listFineGrainLoggers).
 *  - `?level=L` sets every logger; `?<name>=L` one logger; `?paths=a:L1,b:L2` several at once
 *    (envoyproxy/envoy#19868, Envoy 1.22 / Istio 1.14). A change is all-or-nothing per request.
 *  - Errors: 400 with `error: <why>` since 1.22; before, the same usage text with **404**, which
 *    `pilot-agent request` does not treat as a failure (pilot/pkg/request/command.go: only status
 *    > 399 other than 404 is an error). And before per-name validation an unknown name with a valid
 *    level answered 200 and changed nothing. So every change is checked against the logger list
 *    the answer carries, never against the status alone.
 */

/** spdlog::level::level_string_views as Envoy configures them, in enum order. */
export const ENVOY_LEVELS = ['trace', 'debug', 'info', 'warning', 'error', 'critical', 'off'] as const;
export type EnvoyLevel = (typeof ENVOY_LEVELS)[number];

export function isEnvoyLevel(s: string): s is EnvoyLevel {
  return (ENVOY_LEVELS as readonly string[]).includes(s);
}

export interface LoggingAnswer {
  /** logger → level, in the order the proxy listed them (empty when no list was found) */
  readonly loggers: ReadonlyMap<string, string>;
  /** the answer carried the `active loggers:` list */
  readonly listed: boolean;
  /** `error: …` line of a refused change (Envoy 1.22+) */
  readonly error: string | undefined;
  /** the usage text of a refused change (any version) */
  readonly usage: boolean;
  /** from the usage text: whether this Envoy knows `paths=` (undefined without usage text) */
  readonly pathsSupported: boolean | undefined;
}

/** Parses what `POST /logging[?…]` answered (status aside: see the module comment). */
export function parseLoggingAnswer(body: string): LoggingAnswer {
  const lines = body.split('\n');
  const start = lines.findIndex((l) => l.trim() === 'active loggers:');
  const loggers = new Map<string, string>();
  if (start >= 0) {
    for (const line of lines.slice(start + 1)) {
      if (line.trim() === '') continue;
      // "  <name>: <level>"; fine-grain names are file paths, so split at the last ": "
      const at = line.lastIndexOf(': ');
      if (at < 0 || !/^\s/.test(line)) break;
      const name = line.slice(0, at).trim();
      const raw = line.slice(at + 2).trim();
      const n = /^\d$/.test(raw) ? Number(raw) : -1;
      loggers.set(name, n >= 0 && n < ENVOY_LEVELS.length ? ENVOY_LEVELS[n]! : raw);
    }
  }
  const usage = /^usage: \/logging/m.test(body);
  return {
    loggers,
    listed: start >= 0,
    error: /^error: (.*)$/m.exec(body)?.[1]?.trim(),
    usage,
    pathsSupported: usage ? /^usage: \/logging\?paths=/m.test(body) : undefined,
  };
}

/** The admin path (without leading slash) that lists the loggers and changes nothing. */
export const LIST_LOGGERS = 'logging';

/**
 * One request setting several loggers. The logging handler parses the query without
 * percent-decoding (Http::Utility::parseQueryString), so names and levels go in as they are;
 * logger names are [a-z0-9_] (or file paths) and levels are plain words.
 */
export function pathsQuery(levels: ReadonlyMap<string, string>): string {
  return `logging?paths=${[...levels].map(([n, l]) => `${n}:${l}`).join(',')}`;
}

export function singleQuery(name: string, level: string): string {
  return `logging?${name}=${level}`;
}

export function allQuery(level: string): string {
  return `logging?level=${level}`;
}

/** The loggers of `levels` whose level in `answer` is not the one asked for. */
export function notApplied(answer: LoggingAnswer, levels: ReadonlyMap<string, string>): string[] {
  return [...levels].filter(([n, l]) => answer.loggers.get(n) !== l).map(([n]) => n);
}

/**
 * The requests that bring a proxy from `current` to `current` overlaid with `changes`, fewest
 * first: `level=L` when every logger ends at L, else one `paths=` request (when this Envoy takes
 * it), else one request per logger, after a `level=L` for the most common target level when the
 * change touches every logger (a restore after `log-level debug`: `level=warning` then `misc=error`).
 */
export function changeRequests(current: ReadonlyMap<string, string>, changes: ReadonlyMap<string, string>, pathsSupported: boolean | undefined): string[] {
  if (changes.size === 0) return [];
  const final = new Map(current);
  for (const [n, l] of changes) final.set(n, l);
  const finalLevels = new Set(final.values());
  const everyLogger = [...current.keys()].every((n) => changes.has(n));
  // every logger ends at L: `level=L` changes exactly the loggers of `changes` (the others are at L)
  if (finalLevels.size === 1 && changes.size > 1) return [allQuery([...finalLevels][0]!)];
  if (pathsSupported !== false) return [pathsQuery(changes)];
  if (everyLogger && changes.size > 1) {
    const counts = new Map<string, number>();
    for (const l of changes.values()) counts.set(l, (counts.get(l) ?? 0) + 1);
    const common = [...counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))[0]![0];
    return [allQuery(common), ...[...changes].filter(([, l]) => l !== common).map(([n, l]) => singleQuery(n, l))];
  }
  return [...changes].map(([n, l]) => singleQuery(n, l));
}
