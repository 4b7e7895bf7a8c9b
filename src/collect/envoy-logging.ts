/**
 * Reading and changing a proxy's Envoy loggers through its admin API (`POST /logging`, see
 * src/model/logging-text.ts for the rules). Every change is verified against the logger list the
 * proxy answers with; a proxy that does not know `paths=` (Envoy before 1.22) gets one request
 * per logger instead.
 */
import { changeRequests, LIST_LOGGERS, notApplied, parseLoggingAnswer, type LoggingAnswer } from '../model/logging-text.js';
import { UnavailableError } from '../model/errors.js';
import type { ProxyAdmin } from './envoy-admin.js';
import { KubectlError } from './kubectl.js';

/** A change that failed; `applied` says whether the proxy may have taken part of it. */
export class LoggingChangeError extends UnavailableError {
  override readonly name = 'LoggingChangeError';
  constructor(
    message: string,
    /** 'no': the proxy refused or was never reached; 'maybe': it may have applied some of it */
    readonly applied: 'no' | 'maybe',
  ) {
    super(message);
  }
}

/**
 * The current levels, in registry order. Listing changes nothing, so an answer without the list is
 * asked once more: kubectl's websocket exec can lose a short command's output and still exit 0
 * (client-go's stream demultiplexer discards frames of a stream it has not set up yet:
 * "Unknown stream id 1, discarding message"; seen against the e2e server under load).
 */
export async function readLoggers(admin: ProxyAdmin): Promise<Map<string, string>> {
  let answer = parseLoggingAnswer(await admin.post(LIST_LOGGERS));
  if (!answer.listed || answer.loggers.size === 0) answer = parseLoggingAnswer(await admin.post(LIST_LOGGERS));
  if (!answer.listed || answer.loggers.size === 0) throw new UnavailableError('the proxy\'s /logging answer has no "active loggers:" list (not an Envoy admin API?)');
  return new Map(answer.loggers);
}

/** Why a request did not reach Envoy or Envoy refused it (nothing applied), from kubectl's or the proxy's words. */
function refused(e: unknown): boolean {
  if (!(e instanceof Error)) return false;
  const text = `${e.message}\n${e instanceof KubectlError ? e.stderr : ''}`;
  // Envoy not listening (pilot-agent's dial), or Envoy's own 4xx for the change (all-or-nothing)
  return /connection refused|status code 4\d\d|answered 4\d\d/.test(text);
}

function firstLine(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split('\n')[0] ?? '';
}

export interface ChangeResult {
  /** admin requests sent */
  readonly requests: number;
  /** what was learnt about `paths=` (to skip the attempt next time) */
  readonly pathsSupported: boolean | undefined;
  /** levels after the change, as the proxy listed them */
  readonly after: ReadonlyMap<string, string>;
  /**
   * loggers the change did not name whose level moved anyway (name → level now). With
   * --enable-fine-grain-logging, every named change replaces Envoy's whole list of verbosity
   * updates and re-levels every fine-grain logger, so the unnamed ones fall back to the default
   * level (source/common/common/fine_grain_logger.cc, FineGrainLogContext::updateVerbositySetting,
   * reached from LogsHandler::changeLogLevel in source/server/admin/logs_handler.cc).
   */
  readonly collateral: ReadonlyMap<string, string>;
}

/**
 * Sets `changes` (logger → level) on a proxy whose levels were `current`. Throws
 * LoggingChangeError when the proxy does not end with exactly those levels.
 */
export async function setLoggers(admin: ProxyAdmin, current: ReadonlyMap<string, string>, changes: ReadonlyMap<string, string>, pathsSupported?: boolean): Promise<ChangeResult> {
  let supported = pathsSupported;
  let sent = 0;
  let last: LoggingAnswer | undefined;
  const run = async (requests: readonly string[]): Promise<void> => {
    for (const path of requests) {
      try {
        last = parseLoggingAnswer(await admin.post(path));
      } catch (e) {
        // kubectl's errors already name the step ("asking ns/pod's proxy for logging: …")
        throw new LoggingChangeError(e instanceof KubectlError ? firstLine(e) : `POST /${path.split('?')[0]} failed: ${firstLine(e)}`, sent === 0 && refused(e) ? 'no' : 'maybe');
      } finally {
        sent++;
      }
    }
  };
  const plan = changeRequests(current, changes, supported);
  await run(plan);
  // a change answered without the logger list (output lost on the way, see readLoggers): Envoy
  // took the request, so what it did is read back rather than guessed
  if (plan.length > 0 && last && !last.listed && !last.error && !last.usage) {
    try {
      last = parseLoggingAnswer(await admin.post(LIST_LOGGERS));
    } catch (e) {
      throw new LoggingChangeError(`the change was sent but its answer was lost, and reading the levels back failed: ${firstLine(e)}`, 'maybe');
    }
  }
  let missing = last ? notApplied(last, changes) : [...changes.keys()];
  // Envoy before 1.22 answers `paths=` with its usage text (status 404, which pilot-agent prints as a success)
  const triedPaths = plan.some((p) => p.includes('?paths='));
  if (missing.length > 0 && triedPaths && last?.usage && last.pathsSupported === false) {
    supported = false;
    await run(changeRequests(current, changes, false));
    missing = last ? notApplied(last, changes) : [...changes.keys()];
  } else if (triedPaths && missing.length === 0) supported = true;
  else if (last?.pathsSupported !== undefined) supported = last.pathsSupported;
  if (missing.length > 0) {
    const why = last?.error ? `the proxy answered "${last.error}"` : last?.usage ? 'the proxy answered with its usage text (change refused)' : 'the proxy\'s answer does not list them at the new level';
    throw new LoggingChangeError(`${missing.join(', ')} not set (${why})`, sent === 1 && (last?.usage || last?.error) ? 'no' : 'maybe');
  }
  const after = last?.loggers ?? new Map<string, string>();
  const collateral = new Map([...after].filter(([n, l]) => !changes.has(n) && current.has(n) && current.get(n) !== l));
  return { requests: sent, pathsSupported: supported, after, collateral };
}
