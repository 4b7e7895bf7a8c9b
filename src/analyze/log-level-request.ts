/**
 * `log-level`'s arguments: LOGGER=LEVEL / LEVEL and presets. Kept light (no catalog, no engine):
 * the command table validates them before anything runs.
 */
import { ENVOY_LEVELS, isEnvoyLevel, type EnvoyLevel } from '../model/logging-text.js';
import { UsageError } from '../model/errors.js';

export interface Preset {
  readonly loggers: readonly string[];
  readonly level: EnvoyLevel;
  readonly describe: string;
}

/**
 * `egress`: the component loggers that explain an outbound connection, from accept to upstream:
 * conn_handler (listener accept and filter-chain choice), filter (network/listener filters such
 * as tcp_proxy and the inspectors), connection (socket events, resets), router (route choice,
 * retries, upstream request), upstream (cluster and host selection: seed 003's "no healthy host
 * for HTTP connection pool"), pool (connection pools). All six are in ALL_LOGGER_IDS of the Envoy
 * releases Istio ships; a proxy that lacks one (another Envoy build, fine-grain logging) gets the others.
 * A preset only turns loggers up: one already at trace is left there (and so not restored either).
 */
export const PRESETS: Readonly<Record<string, Preset>> = {
  egress: {
    loggers: ['conn_handler', 'filter', 'upstream', 'router', 'pool', 'connection'],
    level: 'debug',
    describe: 'conn_handler, filter, upstream, router, pool, connection at debug (those at trace stay there)',
  },
};

/** What the user asked for; explicit LOGGER=LEVEL wins over the preset and the bare LEVEL. */
export interface LevelRequest {
  /** a bare LEVEL: every logger */
  readonly all?: EnvoyLevel;
  /** LOGGER=LEVEL, in the order given */
  readonly loggers: readonly (readonly [string, EnvoyLevel])[];
  readonly preset?: string;
}

/** `LOGGER=LEVEL`, `LOGGER:LEVEL` (istioctl's spelling) or `LEVEL`; levels checked, names later (against the proxy). */
export function parseLevelArgs(args: readonly string[], preset: string | undefined): LevelRequest {
  let all: EnvoyLevel | undefined;
  const loggers: [string, EnvoyLevel][] = [];
  const badLevel = (l: string, where: string): never => {
    const hint = l === 'warn' ? ' (did you mean warning?)' : '';
    throw new UsageError(`unknown level "${l}"${where}${hint}: Envoy's levels are ${ENVOY_LEVELS.join(', ')}`);
  };
  for (const arg of args) {
    const m = /^([^=:]*)[=:](.*)$/.exec(arg);
    if (!m) {
      if (!isEnvoyLevel(arg)) badLevel(arg, '');
      if (all !== undefined && all !== arg) throw new UsageError(`two levels for every logger (${all} and ${arg}): give one bare LEVEL, and LOGGER=LEVEL for the exceptions`);
      all = arg as EnvoyLevel;
      continue;
    }
    const name = m[1]!.trim();
    const level = m[2]!.trim();
    if (!name) throw new UsageError(`"${arg}": missing logger name before the level`);
    if (!isEnvoyLevel(level)) badLevel(level, ` for logger ${name}`);
    const prev = loggers.find(([n]) => n === name);
    if (prev && prev[1] !== level) throw new UsageError(`logger ${name} given twice (${prev[1]} and ${level})`);
    if (!prev) loggers.push([name, level as EnvoyLevel]);
  }
  if (preset !== undefined) {
    if (!PRESETS[preset]) throw new UsageError(`unknown preset "${preset}": presets are ${Object.keys(PRESETS).join(', ')}`);
    if (all !== undefined) throw new UsageError(`--preset ${preset} sets chosen loggers; a bare level (${all}) would set every logger: give one or the other`);
  }
  return { ...(all !== undefined ? { all } : {}), loggers, ...(preset !== undefined ? { preset } : {}) };
}

export function isChange(r: LevelRequest): boolean {
  return r.all !== undefined || r.loggers.length > 0 || r.preset !== undefined;
}

/** The request in words, for messages: "upstream=debug, router=debug". */
export function describeRequest(r: LevelRequest): string {
  const parts: string[] = [];
  if (r.preset) parts.push(`preset ${r.preset} (${PRESETS[r.preset]!.describe})`);
  if (r.all) parts.push(`every logger=${r.all}`);
  for (const [n, l] of r.loggers) parts.push(`${n}=${l}`);
  return parts.join(', ');
}
