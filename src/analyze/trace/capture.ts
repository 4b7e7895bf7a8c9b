/**
 * The capture stage: which iptables settings apply to this pod and what they do with the
 * connection. Settings come, in order of precedence, from the command line, the pod
 * annotations carried in the bootstrap node metadata, proxy metadata (INTERCEPTION_MODE,
 * DNS_CAPTURE), and Istio's injector defaults (manifests/charts/istio-control/istio-discovery/
 * files/injection-template.yaml: includeIPRanges "*", excludeIPRanges "", UID/GID 1337).
 */
import { DEFAULT_CAPTURE, evaluateCapture, invalidRanges, leavesViaLoopback, type CaptureResult, type CaptureSettings, type SettingSource } from '../../envoy/iptables.js';
import { parseIp, type IpAddress } from '../../envoy/ip.js';
import { versionAtLeast } from '../../model/proxy.js';
import { newFinding } from '../catalog.js';
import type { TraceContext } from './context.js';

const A = {
  include: 'traffic.sidecar.istio.io/includeOutboundIPRanges',
  exclude: 'traffic.sidecar.istio.io/excludeOutboundIPRanges',
  includePorts: 'traffic.sidecar.istio.io/includeOutboundPorts',
  excludePorts: 'traffic.sidecar.istio.io/excludeOutboundPorts',
  mode: 'sidecar.istio.io/interceptionMode',
  excludeInterfaces: 'traffic.sidecar.istio.io/excludeInterfaces',
} as const;

export function captureSettings(ctx: TraceContext): CaptureSettings {
  const ann = ctx.proxy.annotations;
  const o = ctx.request.capture;
  const sources: Partial<Record<keyof CaptureSettings, SettingSource>> = {};
  const assumed: string[] = [];
  type OverrideKey = 'includeIpRanges' | 'excludeIpRanges' | 'includePorts' | 'excludePorts';
  const pick = (key: keyof CaptureSettings, flagKey: OverrideKey, annotation: string, fallback: string, label: string): string => {
    const flag = o[flagKey];
    if (flag !== undefined) {
      sources[key] = o.sources?.[flagKey] ?? 'flag';
      return flag;
    }
    if (ann[annotation] !== undefined) {
      sources[key] = 'annotation';
      return ann[annotation]!;
    }
    sources[key] = 'injector default';
    assumed.push(`${label} ${JSON.stringify(fallback)}`);
    return fallback;
  };
  const includeIpRanges = pick('includeIpRanges', 'includeIpRanges', A.include, '*', 'includeOutboundIPRanges');
  const excludeIpRanges = pick('excludeIpRanges', 'excludeIpRanges', A.exclude, '', 'excludeOutboundIPRanges');
  const includeOutboundPorts = pick('includeOutboundPorts', 'includePorts', A.includePorts, '', 'includeOutboundPorts');
  const excludeOutboundPorts = pick('excludeOutboundPorts', 'excludePorts', A.excludePorts, '', 'excludeOutboundPorts');
  const excludeInterfaces = ann[A.excludeInterfaces] ?? '';
  let mode: CaptureSettings['mode'] = 'REDIRECT';
  const modeText = o.interceptionMode ?? ctx.proxy.interceptionMode ?? ann[A.mode];
  if (modeText === 'TPROXY' || modeText === 'NONE' || modeText === 'REDIRECT') {
    mode = modeText;
    sources.mode = o.interceptionMode ? (o.sources?.interceptionMode ?? 'flag') : 'proxy metadata';
  } else {
    sources.mode = 'injector default';
  }
  let redirectDns = false;
  if (o.dnsCapture !== undefined) {
    redirectDns = o.dnsCapture;
    sources.redirectDns = o.sources?.dnsCapture ?? 'flag';
  } else if (ctx.proxy.dnsCapture !== undefined) {
    redirectDns = ctx.proxy.dnsCapture;
    sources.redirectDns = 'proxy metadata';
  }
  for (const [annotation, value] of [
    [A.include, includeIpRanges],
    [A.exclude, excludeIpRanges],
  ] as const) {
    const bad = invalidRanges(value);
    if (bad.length) ctx.report(newFinding('InvalidCaptureAnnotation', { annotation, values: bad.join(', ') }, { evidence: [`${annotation}: ${value}`] }));
  }
  for (const [annotation, value] of [
    [A.includePorts, includeOutboundPorts],
    [A.excludePorts, excludeOutboundPorts],
  ] as const) {
    const bad = value
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '' && !(/^\d{1,5}$/.test(s) && Number(s) <= 65535));
    if (bad.length) ctx.report(newFinding('InvalidCaptureAnnotation', { annotation, values: bad.join(', ') }, { evidence: [`${annotation}: ${value}`] }));
  }
  if (assumed.length) {
    // a dump carries the pod's annotations, not installation-wide injector values
    ctx.assume(
      `capture settings not set on the pod are Istio's injector defaults (${assumed.join(', ')})${ctx.proxy.fromBootstrap ? '' : '; the input has no bootstrap, so no pod annotations either'}: pass --include-ip-ranges/--exclude-ip-ranges/--exclude-ports if your installation changes them`,
    );
  }
  const podIps = podAddresses(ctx);
  return {
    ...DEFAULT_CAPTURE,
    mode,
    includeIpRanges,
    excludeIpRanges,
    includeOutboundPorts,
    excludeOutboundPorts,
    excludeInterfaces,
    redirectDns,
    // the agent captures every DNS server when DNS capture is on (CNI: CAPTURE_ALL_DNS); with
    // istio-init only the resolv.conf servers, which a dump does not show: all is the safe reading
    captureAllDns: redirectDns,
    // ip6tables rules exist only for pods with a global IPv6 address (dual stack)
    ipv6: podIps.some((ip) => ip.family === 6 && !(ip.bytes[0] === 0xfe && (ip.bytes[1]! & 0xc0) === 0x80)),
    legacyBefore15: versionAtLeast(ctx.proxy.istioVersion, 1, 5) === false,
    sources,
  };
}

export function podAddresses(ctx: TraceContext): IpAddress[] {
  if (ctx.request.podIp) return [ctx.request.podIp];
  return ctx.proxy.ips.map((s) => parseIp(s)).filter((ip): ip is IpAddress => ip !== undefined);
}

export function runCapture(ctx: TraceContext, settings: CaptureSettings, destination: IpAddress): CaptureResult {
  const uid = ctx.request.uid ?? 1000;
  if (ctx.request.uid === undefined) ctx.assume('the application does not run as the proxy UID/GID 1337');
  const pods = podAddresses(ctx);
  return evaluateCapture(settings, {
    dst: destination,
    dstPort: ctx.request.port,
    proto: 'tcp',
    uid,
    gid: uid,
    outLo: leavesViaLoopback(destination, pods),
    ...(pods[0] ? { src: pods[0] } : {}),
  });
}
