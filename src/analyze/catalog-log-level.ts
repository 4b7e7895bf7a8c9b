/**
 * Finding codes of `log-level`: Envoy logger changes and restores. Codes MEG060–MEG064.
 * Codes are forever (see catalog.ts).
 */
import { entry } from './catalog-entry.js';

export const logLevelCodes = {
  LoggerRestoreFailed: entry<{ pod: string; loggers: string; reason: string }>({
    code: 'MEG060',
    severity: 'error',
    title: 'A proxy\'s loggers could not be restored to their previous levels',
    description:
      'log-level changed Envoy loggers and then failed to set them back. They keep the changed (usually more verbose) levels until restored or until the proxy restarts; debug logging costs CPU and log volume. A lease file records what is left, so `log-level --restore` can finish the job.',
    message: (p) => `Could not restore the loggers of ${p.pod} (${p.loggers}) to their previous levels: ${p.reason}. They stay at the changed levels until restored or until the proxy restarts.`,
  }),
  PresetLoggerMissing: entry<{ preset: string; loggers: string; pods: string; consequence: string }>({
    code: 'MEG061',
    severity: 'warning',
    title: 'A logger of the preset is not in the proxy\'s logger list',
    description:
      'Presets name Envoy component loggers (source/common/common/logger.h, ALL_LOGGER_IDS). The set differs between Envoy versions, and a proxy started with fine-grain logging lists source files instead of components, so a preset logger can be missing; it is skipped, and what it would have logged stays silent.',
    message: (p) => `Preset ${p.preset}: ${p.loggers} not in the logger list of ${p.pods}; ${p.consequence}.`,
  }),
  PodSkipped: entry<{ pod: string; reason: string }>({
    code: 'MEG062',
    severity: 'warning',
    title: 'A pod the target selects was left alone',
    description:
      'The target selected a pod whose proxy cannot be asked: it has no istio-proxy sidecar, is not running, or its admin API did not answer. Its loggers were neither read nor changed.',
    message: (p) => `Skipped ${p.pod}: ${p.reason}.`,
  }),
  LogLevelChangeFailed: entry<{ pod: string; reason: string; rollback: string }>({
    code: 'MEG063',
    severity: 'error',
    title: 'Changing the loggers of a proxy failed',
    description:
      'The change did not reach every selected proxy. log-level does not leave a partial change behind: the proxies already changed are set back to their previous levels, so the selected replicas never log differently for long.',
    message: (p) => `Changing the loggers of ${p.pod} failed: ${p.reason}; ${p.rollback}.`,
  }),
  LogLevelLeaseExpired: entry<{ file: string; context: string; pods: string; since: string; why: string }>({
    code: 'MEG064',
    severity: 'warning',
    title: 'A detached logger change outlived its lease',
    description:
      'A `log-level --detach` run, a restore that could not finish, or a run that was killed before it could restore left Envoy loggers changed, and its lease file records what it changed; the lease has expired (or its run is gone) and nothing has restored them since. Verbose logging left on costs CPU and log volume.',
    message: (p) => `Lease ${p.file}: ${p.pods} in context ${p.context} were left with changed loggers ${p.since}; ${p.why}.`,
  }),
} as const;
