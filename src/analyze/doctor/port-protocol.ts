/**
 * Step 4 (seed 000 step 4, seed 003's rules): the protocol the ServiceEntry or Service declares
 * for the port, against what the destination speaks. Istio builds the port's listener from the
 * declaration: an HTTP connection manager for HTTP/HTTP2/gRPC, SNI-matched tcp_proxy for TLS and
 * HTTPS, plain tcp_proxy for TCP/MySQL/Redis/Mongo, protocol sniffing when nothing is declared
 * (which stalls server-first protocols). Seed 003 also asks for `app`/`version` labels on pods.
 */
import type { KubeObject } from '../../model/cluster-view.js';
import { newFinding } from '../catalog.js';
import type { Finding } from '../finding.js';
import type { Fix } from '../finding.js';
import type { TraceRequest, VerdictCode } from '../trace/types.js';
import { HTTP_FAMILY, istioProtocolOfServiceEntryPort, istioProtocolOfServicePort, key, labelText, podsOfService, servicePort, TLS_FAMILY, upstreamOf } from './facts.js';
import { traceFindingsFor } from './sidecar.js';
import { notInInput, type DoctorInput, type Step } from './types.js';

export interface Spoken {
  /** "TLS", "HTTP", "MySQL", "TCP" */
  readonly name: string;
  readonly family: 'http' | 'tls' | 'tcp';
  readonly serverFirst: boolean;
  /** how it was told */
  readonly from: string;
}

/** Protocols commonly behind well-known ports, and whether the server speaks first. */
const WELL_KNOWN: Readonly<Record<number, { name: string; serverFirst: boolean }>> = {
  21: { name: 'FTP', serverFirst: true },
  22: { name: 'SSH', serverFirst: true },
  25: { name: 'SMTP', serverFirst: true },
  110: { name: 'POP3', serverFirst: true },
  143: { name: 'IMAP', serverFirst: true },
  587: { name: 'SMTP', serverFirst: true },
  3306: { name: 'MySQL', serverFirst: true },
  5432: { name: 'PostgreSQL', serverFirst: false },
  6379: { name: 'Redis', serverFirst: false },
  9092: { name: 'Kafka', serverFirst: false },
  11211: { name: 'memcached', serverFirst: false },
  27017: { name: 'MongoDB', serverFirst: false },
};

export function spokenProtocol(r: TraceRequest): Spoken {
  if (r.protocol === 'tls') return { name: 'TLS', family: 'tls', serverFirst: false, from: r.raw.startsWith('https://') ? 'DEST is https://' : r.raw.startsWith('tls://') ? 'DEST is tls://' : '--protocol tls' };
  if (r.protocol === 'http' || r.protocol === 'http2') return { name: r.protocol === 'http2' ? 'HTTP/2' : 'HTTP', family: 'http', serverFirst: false, from: r.raw.startsWith('http://') ? 'DEST is http://' : `--protocol ${r.protocol}` };
  const known = WELL_KNOWN[r.port];
  if (known) return { name: known.name, family: 'tcp', serverFirst: r.serverFirst || known.serverFirst, from: `port ${r.port} is ${known.name}'s` };
  return { name: r.serverFirst ? 'a server-first TCP protocol' : 'TCP', family: 'tcp', serverFirst: r.serverFirst, from: r.serverFirst ? '--server-first' : 'DEST is plain TCP' };
}

/** The declaration that decides the port's listener: a Service port or a ServiceEntry port. */
interface Declaration {
  readonly object: string;
  readonly kind: 'Service' | 'ServiceEntry';
  readonly protocol: string;
  readonly from: string;
  readonly portName: string;
  readonly serviceEntry?: KubeObject;
}

function declarations(input: DoctorInput): { list: Declaration[]; port: number; notes: string[] } {
  const up = upstreamOf(input);
  const list: Declaration[] = [];
  const notes: string[] = [];
  if (up.service) {
    const sp = servicePort(up.service, up.port);
    if (sp) {
      const p = istioProtocolOfServicePort(sp);
      list.push({ object: `Service ${key(up.service)}`, kind: 'Service', protocol: p.protocol, from: p.from, portName: sp.name ?? '(unnamed)' });
    } else notes.push(`Service ${key(up.service)} has no port ${up.port}`);
  }
  for (const se of up.serviceEntries) {
    const port = ((se.spec?.ports as { number?: number; name?: string; protocol?: string }[] | undefined) ?? []).find((p) => p.number === up.port);
    if (!port) continue;
    const p = istioProtocolOfServiceEntryPort(port);
    list.push({ object: `ServiceEntry ${key(se)}`, kind: 'ServiceEntry', protocol: p.protocol, from: p.from, portName: port.name ?? '(unnamed)', serviceEntry: se });
  }
  return { list, port: up.port, notes };
}

/** What the sidecar does with the mismatched bytes, as the trace saw it. */
function consequence(verdict: VerdictCode | null | undefined, fallback: string): string {
  switch (verdict) {
    case 'DETECTION_STALL':
      return 'the sidecar waits for client bytes to detect the protocol, so the connection hangs';
    case 'PROTOCOL_MISMATCH':
      return 'the sidecar parses the bytes with the wrong protocol and closes the connection (400 or reset)';
    case 'BLACKHOLE':
      return 'the connection matches none of the port\'s filter chains and falls to the catch-all, which blocks it (REGISTRY_ONLY)';
    case 'PASSTHROUGH':
      return 'the connection matches none of the port\'s filter chains and leaves through PassthroughCluster as if unregistered: the ServiceEntry\'s settings do not apply';
    default:
      return fallback;
  }
}

/** A kubectl patch declaring `protocol` on the port (ServiceEntry protocol, Service appProtocol). */
function declareFix(d: Declaration, up: KubeObject | undefined, port: number, protocol: string, rank: number): Fix {
  if (d.kind === 'ServiceEntry' && d.serviceEntry) {
    const idx = ((d.serviceEntry.spec?.ports as { number?: number }[] | undefined) ?? []).findIndex((p) => p.number === port);
    return { rank, title: `Declare port ${port} as ${protocol} in ${d.object}`, tradeoffs: 'Istio rebuilds the port\'s listener for that protocol; put the same change in the manifest, or the next deploy reverts it.', kind: 'command', content: `kubectl patch serviceentries.networking.istio.io ${d.serviceEntry.metadata?.name} -n ${d.serviceEntry.metadata?.namespace} --type json -p '[{"op":"replace","path":"/spec/ports/${idx}/protocol","value":"${protocol}"}]'` };
  }
  const idx = ((up?.spec?.ports as { port?: number }[] | undefined) ?? []).findIndex((p) => p.port === port);
  const app = protocol.toLowerCase();
  return { rank, title: `Declare the protocol: appProtocol ${app} on port ${port} (or a port name starting with "${app}-")`, tradeoffs: 'Istio rebuilds the listener for this port without sniffing; clients keep using the same port. Put the same change in the manifest or chart, or the next deploy reverts it.', kind: 'command', content: `kubectl patch service ${up?.metadata?.name} -n ${up?.metadata?.namespace} --type json -p '[{"op":"add","path":"/spec/ports/${idx}/appProtocol","value":"${app}"}]'` };
}

function mismatch(d: Declaration, spoken: Spoken, port: number, verdict: VerdictCode | null | undefined, svc: KubeObject | undefined): Finding | undefined {
  const subject = { kind: d.kind, name: d.object.split('/')[1] ?? '', namespace: d.object.split(' ')[1]?.split('/')[0] ?? '' };
  const declared = `${d.protocol} (${d.from})`;
  const tcpName = spoken.name === 'MySQL' ? 'MYSQL' : spoken.name === 'Redis' ? 'REDIS' : spoken.name === 'MongoDB' ? 'MONGO' : 'TCP';
  if (HTTP_FAMILY.has(d.protocol) && spoken.family === 'tls') {
    const result = consequence(verdict, 'the sidecar cannot route TLS as HTTP');
    const originate: Fix = { rank: 2, title: 'Or send plain HTTP and let the sidecar originate TLS', tradeoffs: 'Keeps HTTP routing, retries and telemetry: the application calls http:// and a DestinationRule with tls mode SIMPLE encrypts; needs an application change.', kind: 'text', content: `Point the application at http://${d.kind === 'ServiceEntry' ? ((d.serviceEntry?.spec?.hosts as string[] | undefined)?.[0] ?? 'HOST') : 'HOST'}:${port}/ and add a DestinationRule for the host with trafficPolicy.portLevelSettings[port ${port}].tls.mode: SIMPLE.` };
    return newFinding('TlsSentToHttpPort', { object: d.object, port, declared, result }, { subject, fixes: [declareFix(d, svc, port, d.kind === 'ServiceEntry' ? 'TLS' : 'TLS', 1), originate] });
  }
  if (HTTP_FAMILY.has(d.protocol) && spoken.family === 'tcp' && (spoken.serverFirst || spoken.name !== 'TCP')) {
    const result = consequence(verdict, spoken.serverFirst ? 'the HTTP connection manager waits for a request the client never sends: the connection hangs until a timeout' : 'the sidecar parses the bytes as HTTP and answers 400 or resets the connection');
    return newFinding('DeclaredProtocolMismatch', { object: d.object, port, declared, speaks: `${spoken.name} (${spoken.from})`, result }, { subject, fixes: [declareFix(d, svc, port, d.kind === 'ServiceEntry' ? tcpName : 'tcp', 1)] });
  }
  if (TLS_FAMILY.has(d.protocol) && spoken.family === 'http') {
    return newFinding('DeclaredProtocolMismatch', { object: d.object, port, declared, speaks: `plain ${spoken.name} (${spoken.from})`, result: consequence(verdict, 'the sidecar routes this port by TLS SNI and plain text has none: the connection falls through to the catch-all') }, { subject, fixes: [declareFix(d, svc, port, 'HTTP', 1)] });
  }
  if (['MYSQL', 'REDIS', 'MONGO'].includes(d.protocol) && spoken.family !== 'tcp') {
    return newFinding('DeclaredProtocolMismatch', { object: d.object, port, declared, speaks: `${spoken.name} (${spoken.from})`, result: consequence(verdict, 'the sidecar forwards raw TCP on this port, so HTTP routing, retries and TLS SNI matching do not apply') }, { subject });
  }
  return undefined;
}

export function portProtocolStep(input: DoctorInput, number: number, title: string): Step {
  const base = { number, id: 'port-protocol' as const, title };
  if (input.trace?.proxy.type === 'none') return { ...base, status: 'skipped', reason: 'the pod has no sidecar: no proxy interprets the port\'s declared protocol', summary: 'not applicable', evidence: [], findings: [] };
  const spoken = spokenProtocol(input.request);
  const up = upstreamOf(input);
  const decl = declarations(input);
  const findings: Finding[] = [...traceFindingsFor(input.trace, 'port-protocol')];
  const evidence: string[] = [`the destination speaks ${spoken.name}${spoken.serverFirst ? ' (server speaks first)' : ''}: ${spoken.from}`, ...decl.notes];
  for (const d of decl.list) {
    evidence.push(`${d.object} port ${decl.port} (${d.portName}): ${d.protocol === 'UNSUPPORTED' ? 'no protocol declared — sniffed' : d.protocol} (${d.from})`);
    const m = mismatch(d, spoken, decl.port, input.trace?.verdict.code, up.service);
    if (m) findings.push(m);
    else if (d.protocol === 'UNSUPPORTED') {
      const consequence = spoken.serverFirst
        ? `${spoken.name} speaks first, so sniffing waits for client bytes that never come (see protocolDetectionTimeout)`
        : 'this works for client-first protocols but adds detection latency and loses HTTP features when detection fails';
      const prefix = spoken.family === 'http' ? 'http' : spoken.family === 'tls' ? 'tls' : spoken.name === 'MySQL' ? 'mysql' : spoken.name === 'Redis' ? 'redis' : spoken.name === 'MongoDB' ? 'mongo' : 'tcp';
      // the trace saw the stall: the undeclared protocol is its cause, and as severe
      const stalled = findings.some((x) => x.code === 'MEG032');
      const f = newFinding('ServicePortProtocolUndeclared', { service: d.object, port: decl.port, name: d.portName, consequence }, { ...(stalled ? { severity: 'error' as const } : spoken.serverFirst ? {} : { severity: 'info' as const }), fixes: [declareFix(d, up.service, decl.port, d.kind === 'ServiceEntry' ? prefix.toUpperCase() : prefix, 1)] });
      findings.push(f);
    }
  }
  const unknownDecl = input.view.lists.services === undefined && input.view.lists.serviceEntries === undefined;
  if (decl.list.length === 0 && unknownDecl) {
    const reason = `${notInInput(input, 'Service and ServiceEntry port declarations are')}; ${findings.length ? 'the proxy\'s own listener shows the problem below' : 'the proxy\'s listener for the port shows no protocol problem (step 2)'}`;
    return { ...base, status: findings.some((f) => f.severity !== 'info') ? 'problem' : 'skipped', reason, summary: `${spoken.name}; declarations not in the input`, evidence, findings, data: { speaks: spoken, declarations: [] } };
  }
  if (decl.list.length === 0) evidence.push(up.kind === 'external' || up.kind === 'pod' ? `no Service or ServiceEntry declares ${up.host}:${up.port}: the sidecar treats it as unregistered traffic (see steps 2 and 3)` : `no declaration found for ${up.host}:${up.port}`);
  // seed 003: pods of a Service should carry app and version labels
  if (up.service) {
    const pods = podsOfService(input, up.service);
    if (pods && pods.length) {
      const missing = ['app', 'version'].filter((l) => pods.some((p) => p.metadata?.labels?.[l] === undefined));
      if (missing.length) {
        const lacking = pods.filter((p) => missing.some((l) => p.metadata?.labels?.[l] === undefined));
        findings.push(newFinding('PodsMissingAppVersionLabels', { service: `Service ${key(up.service)}`, pods: lacking.slice(0, 5).map((p) => `${p.metadata?.name} (${labelText(p.metadata?.labels ?? {}, ['pod-template-hash', 'security.istio.io/tlsMode', 'service.istio.io/canonical-name', 'service.istio.io/canonical-revision'])})`).join(', ') + (lacking.length > 5 ? ` and ${lacking.length - 5} more` : ''), missing: missing.map((m) => `"${m}"`).join(' and ') }, { subject: { kind: 'Service', name: up.service.metadata?.name ?? '', namespace: up.service.metadata?.namespace ?? '' } }));
      } else evidence.push(`pods of Service ${key(up.service)} carry app and version labels`);
      // seed 003's convention: the app label names the workload after the Service
      const apps = [...new Set(pods.map((p) => p.metadata?.labels?.app).filter((a): a is string => a !== undefined))];
      const name = up.service.metadata?.name ?? '';
      if (apps.length) evidence.push(`the pods' app label ${apps.map((a) => `"${a}"`).join(', ')} ${apps.length === 1 && apps[0] === name ? 'matches' : 'differs from'} the Service name "${name}"`);
    }
  }
  const problem = findings.some((f) => f.severity !== 'info');
  const declarationCause = findings.some((f) => ['MEG048', 'MEG049', 'MEG074'].includes(f.code) && f.severity !== 'info');
  const summary = decl.list.length ? decl.list.map((d) => `${d.kind} ${d.protocol === 'UNSUPPORTED' ? 'sniffed' : d.protocol}`).join(', ') + ` vs ${spoken.name}${problem ? ': mismatch' : ''}` : `${spoken.name}; nothing declared`;
  return { ...base, status: problem ? 'problem' : 'ok', summary, evidence, findings, ...(declarationCause ? { symptoms: ['MEG031', 'MEG032', 'MEG033'] } : {}), data: { speaks: spoken, declarations: decl.list.map((d) => ({ object: d.object, protocol: d.protocol, from: d.from, portName: d.portName })) } };
}
