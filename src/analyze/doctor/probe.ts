/**
 * Step 1 (seed 000 steps 1-2): is the destination reachable without the mesh? The probe pod (no
 * sidecar, same namespace) ran curl, whose `--write-out` line says how far it got: time_connect > 0
 * means TCP connected, time_appconnect > 0 that the TLS handshake completed (curl runs with
 * --insecure so that the handshake is measured even when the certificate is not trusted;
 * ssl_verify_result then says whether it would have been), and curl's exit code what failed (6 name
 * not resolved, 7 connect failed, 28 timeout, 35 TLS handshake failed; libcurl-errors(3)). A
 * telnet:// probe sends nothing and ends by --max-time (28) once connected: time_connect tells.
 */
import type { ProbeRun } from '../../model/doctor.js';
import { newFinding } from '../catalog.js';
import type { Finding } from '../finding.js';
import { destinationLabel } from '../trace/request.js';
import { inputName, type DoctorInput, type Step } from './types.js';

export interface CurlResult {
  readonly exitCode?: number;
  readonly error?: string;
  readonly connectMs?: number;
  readonly tlsMs?: number;
  readonly remoteIp?: string;
  readonly remotePort?: number;
  readonly httpCode?: number;
  readonly sslVerifyResult?: number;
}

/**
 * The probe's `--write-out` line: "mesh-egress-probe time_connect=0.012 time_appconnect=0.000
 * remote_ip=... remote_port=... http_code=000 ssl_verify_result=0" (variables every curl since 7.29
 * knows; %{json} and %{exitcode} are newer than the curl of older proxy images). The exit code comes
 * from curl's error line ("curl: (7) ...") or the container's exit code.
 */
export function parseCurlWriteOut(log: string, containerExit?: number): CurlResult | undefined {
  const line = log
    .split('\n')
    .map((l) => l.trim())
    .reverse()
    .find((l) => l.startsWith('mesh-egress-probe '));
  if (!line) return undefined;
  const kv = new Map<string, string>();
  for (const m of line.slice('mesh-egress-probe '.length).matchAll(/(\w+)=(\S*)/g)) kv.set(m[1]!, m[2]!);
  const num = (k: string): number | undefined => {
    const v = kv.get(k);
    return v !== undefined && /^\d+(\.\d+)?$/.test(v) ? Number(v) : undefined;
  };
  const ms = (k: string): number | undefined => {
    const s = num(k);
    return s === undefined || s <= 0 ? undefined : Math.max(1, Math.round(s * 1000));
  };
  const err = /curl: \((\d+)\) (.*)/.exec(log);
  const exitCode = err ? Number(err[1]) : containerExit;
  const remoteIp = kv.get('remote_ip');
  return {
    ...(exitCode !== undefined ? { exitCode } : {}),
    ...(err ? { error: err[2]!.trim() } : {}),
    ...(ms('time_connect') !== undefined ? { connectMs: ms('time_connect')! } : {}),
    ...(ms('time_appconnect') !== undefined ? { tlsMs: ms('time_appconnect')! } : {}),
    ...(remoteIp ? { remoteIp } : {}),
    ...(num('remote_port') ? { remotePort: num('remote_port')! } : {}),
    ...(num('http_code') ? { httpCode: num('http_code')! } : {}),
    ...(num('ssl_verify_result') !== undefined ? { sslVerifyResult: num('ssl_verify_result')! } : {}),
  };
}

function why(c: CurlResult): string {
  const err = c.error;
  const code = c.exitCode;
  const named: Record<number, string> = { 6: 'the name does not resolve (DNS)', 7: 'the connection was refused or the address is unreachable', 28: 'the connection timed out', 35: 'the TLS handshake failed', 60: 'the server certificate is not trusted' };
  return [code !== undefined && named[code] ? named[code] : undefined, err].filter(Boolean).join(': ') || `curl exited with ${code ?? 'an unknown code'}`;
}

export interface ProbeOutcome {
  readonly step: Step;
  /** the address the probe connected to (for a hostname DEST: what it resolved to from the namespace) */
  readonly remoteIp?: string;
}

export function probeStep(input: DoctorInput, number: number, title: string): ProbeOutcome {
  const run: ProbeRun = input.probe;
  const r = input.request;
  const dest = destinationLabel(r);
  const ns = input.view.pod?.metadata?.namespace ?? '?';
  const base = { number, id: 'probe' as const, title };
  if (input.trace?.proxy.type === 'router' || input.gateway) {
    return { step: { ...base, status: 'skipped', reason: 'the target is a gateway: DEST is the gateway\'s own listener; to test the service behind it without the mesh, run doctor --probe from one of its clients', summary: 'not applicable', evidence: [], findings: [] } };
  }
  if (run.kind === 'not-requested') {
    const how = input.offline ? `the input is offline (${inputName(input)}); run doctor against the cluster with --probe` : `add --probe: a short-lived pod without a sidecar in namespace ${ns} connects to ${dest} (needs create and delete on pods there)`;
    return { step: { ...base, status: 'skipped', reason: `not requested: ${how}`, summary: 'not run', evidence: [], findings: [] } };
  }
  if (run.kind === 'not-applicable') return { step: { ...base, status: 'skipped', reason: run.reason, summary: 'not applicable', evidence: [], findings: [] } };
  if (run.kind === 'failed') {
    const f = newFinding('ProbeDidNotRun', { reason: run.reason, remedy: run.remedy }, { subject: { kind: 'Pod', namespace: ns, ...(run.pod ? { name: run.pod } : {}) } });
    const evidence = [...(run.pod ? [`probe pod ${ns}/${run.pod}${run.image ? ` (image ${run.image})` : ''}: ${run.deleted === false ? 'NOT deleted: delete it with kubectl delete pod -n ' + ns + ' ' + run.pod : 'deleted'}`] : [])];
    return { step: { ...base, status: 'skipped', reason: `the probe could not run: ${run.reason}`, summary: 'probe did not run', evidence, findings: [f], data: { pod: run.pod, image: run.image, deleted: run.deleted } } };
  }
  const c = parseCurlWriteOut(run.log, run.exitCode);
  const tls = r.protocol === 'tls' || r.raw.startsWith('https://');
  const connected = c?.connectMs !== undefined;
  const handshake = c?.tlsMs !== undefined;
  const evidence: string[] = [
    `probe pod ${ns}/${run.pod} (no sidecar; image ${run.image}: ${run.imageWhy}${run.node ? `; node ${run.node}` : ''}) ${run.deleted ? 'ran and was deleted' : 'ran; deleting it failed: kubectl delete pod -n ' + ns + ' ' + run.pod}`,
  ];
  const at = c?.remoteIp ? `${c.remoteIp}:${c.remotePort ?? r.port}` : dest;
  const data = { pod: run.pod, image: run.image, node: run.node, exitCode: run.exitCode, curl: c ?? null, deleted: run.deleted };
  const findings: Finding[] = [];
  if (!c) {
    evidence.push(`the probe printed no result (exit code ${run.exitCode ?? 'unknown'}): ${run.log.trim().split('\n').slice(-2).join(' | ') || '(empty log)'}`);
    findings.push(newFinding('ProbeDidNotRun', { reason: `the probe image printed no curl result (exit code ${run.exitCode ?? 'unknown'})`, remedy: 'Use an image that has curl (--probe-image), or check the probe pod\'s events.' }));
    return { step: { ...base, status: 'skipped', reason: 'the probe gave no readable result', summary: 'no result', evidence, findings, data } };
  }
  if (!connected) {
    const detail = why(c);
    evidence.push(`TCP connect to ${at}: failed (${detail})`);
    findings.push(newFinding('DestinationUnreachableWithoutMesh', { dest, namespace: ns, detail }, { evidence: [run.log.trim().split('\n').slice(-3).join(' | ')] }));
    return { step: { ...base, status: 'problem', summary: `unreachable without the mesh: ${detail}`, evidence, findings, data }, ...(c.remoteIp ? { remoteIp: c.remoteIp } : {}) };
  }
  evidence.push(`TCP connect to ${at}: ok in ${c.connectMs} ms`);
  if (tls) {
    if (!handshake) {
      const detail = why(c);
      evidence.push(`TLS handshake${r.sni ? ` (SNI ${r.sni})` : ''}: failed (${detail})`);
      findings.push(newFinding('TlsHandshakeFailsWithoutMesh', { dest, detail }, { evidence: [run.log.trim().split('\n').slice(-3).join(' | ')] }));
      return { step: { ...base, status: 'problem', summary: `TCP connects, TLS fails: ${detail}`, evidence, findings, data }, ...(c.remoteIp ? { remoteIp: c.remoteIp } : {}) };
    }
    evidence.push(`TLS handshake${r.sni ? ` (SNI ${r.sni})` : ''}: ok in ${c.tlsMs} ms`);
    if (c.sslVerifyResult !== undefined && c.sslVerifyResult !== 0) {
      const detail = `the handshake completes, but the server certificate does not verify against the probe image's CA bundle (X.509 verify result ${c.sslVerifyResult}${c.sslVerifyResult === 62 ? ': hostname mismatch' : c.sslVerifyResult === 20 || c.sslVerifyResult === 21 ? ': unknown issuer' : c.sslVerifyResult === 10 ? ': expired' : ''}); an application trusting only public CAs would reject it`;
      evidence.push(`certificate: ${detail}`);
      findings.push(newFinding('TlsHandshakeFailsWithoutMesh', { dest, detail }, { severity: 'warning' }));
      return { step: { ...base, status: 'problem', summary: 'TCP and TLS work; the certificate does not verify', evidence, findings, data }, ...(c.remoteIp ? { remoteIp: c.remoteIp } : {}) };
    }
  }
  if (c.httpCode) evidence.push(`HTTP response ${c.httpCode}`);
  const summary = `reachable without the mesh${tls ? ' (TCP and TLS)' : ''}${c.httpCode ? `, HTTP ${c.httpCode}` : ''}`;
  return { step: { ...base, status: 'ok', summary, evidence, findings, data }, ...(c.remoteIp ? { remoteIp: c.remoteIp } : {}) };
}
