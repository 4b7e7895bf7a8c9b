import { describe, expect, it } from 'vitest';
import { DEFAULT_CAPTURE, buildOutboundRules, evaluateCapture, leavesViaLoopback, type CaptureSettings, type Packet } from '../../src/envoy/iptables.js';
import { parseIp } from '../../src/envoy/ip.js';
import { readCorpus } from '../helpers/shared.js';

/** The ISTIO_OUTPUT / ISTIO_OUTPUT_DNS lines of the first nat table in an iptables-save golden. */
function goldenOutputRules(rel: string): string[] {
  const text = readCorpus(rel);
  const nat = text.slice(text.indexOf('* nat'));
  const end = nat.indexOf('COMMIT');
  return nat
    .slice(0, end)
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.startsWith('-A ISTIO_OUTPUT'));
}

function ours(s: CaptureSettings): string[] {
  return buildOutboundRules(s, 4)
    .filter((r) => r.chain === 'ISTIO_OUTPUT' || r.chain === 'ISTIO_OUTPUT_DNS')
    .map((r) => r.text);
}

// Inputs of each golden, from istio/istio tools/istio-iptables/pkg/capture/run_test.go and
// cni/pkg/plugin/plugin_dryrun_test.go (the Go test configs that produced them).
const base: CaptureSettings = { ...DEFAULT_CAPTURE, includeIpRanges: '' };

describe('iptables rule order matches Istio goldens', () => {
  it('istio-iptables ip-range.golden', () => {
    const s: CaptureSettings = {
      ...base,
      excludeIpRanges: '1.1.0.0/16',
      includeIpRanges: '9.9.0.0/16',
      redirectDns: true,
      dnsServersV4: ['127.0.0.53'],
      proxyUids: ['3', '4'],
      proxyGids: ['1', '2'],
    };
    expect(ours(s)).toEqual(goldenOutputRules('tools/istio-iptables/pkg/capture/testdata/ip-range.golden'));
  });

  it('istio-iptables outbound-ports-include.golden', () => {
    const s: CaptureSettings = { ...base, includeOutboundPorts: '32000,31000' };
    expect(ours(s)).toEqual(goldenOutputRules('tools/istio-iptables/pkg/capture/testdata/outbound-ports-include.golden'));
  });

  it('istio-cni include-exclude-ip.txt.golden (CNI default excludes outbound port 15020)', () => {
    const s: CaptureSettings = { ...base, includeIpRanges: '127.0.0.0/8', excludeIpRanges: '10.0.0.0/8', excludeOutboundPorts: '15020' };
    expect(ours(s)).toEqual(goldenOutputRules('cni/pkg/plugin/testdata/include-exclude-ip.txt.golden'));
  });

  it('istio-cni include-exclude-ports.txt.golden', () => {
    const s: CaptureSettings = { ...base, includeIpRanges: '*', excludeOutboundPorts: '5555,6666' };
    expect(ours(s)).toEqual(goldenOutputRules('cni/pkg/plugin/testdata/include-exclude-ports.txt.golden'));
  });
});

function packet(dst: string, dstPort: number, extra: Partial<Packet> = {}): Packet {
  const ip = parseIp(dst)!;
  const podIps = [parseIp('10.64.192.14')!];
  return { dst: ip, dstPort, proto: 'tcp', uid: 1000, gid: 1000, outLo: leavesViaLoopback(ip, podIps), ...extra };
}

describe('capture evaluation', () => {
  it('redirects ordinary outbound TCP to 15001 with the injector defaults', () => {
    const r = evaluateCapture(DEFAULT_CAPTURE, packet('10.0.0.6', 7000));
    expect(r.outcome).toBe('outbound');
    expect(r.port).toBe(15001);
    expect(r.rule?.text).toBe('-A ISTIO_OUTPUT -j ISTIO_REDIRECT');
  });

  it('lets an excluded range bypass (seed 002, method 2)', () => {
    const r = evaluateCapture({ ...DEFAULT_CAPTURE, excludeIpRanges: '10.0.0.0/24' }, packet('10.0.0.6', 7000));
    expect(r.outcome).toBe('bypass');
    expect(r.rule?.text).toBe('-A ISTIO_OUTPUT -d 10.0.0.0/24 -j RETURN');
  });

  it('never captures the proxy UID', () => {
    const r = evaluateCapture(DEFAULT_CAPTURE, packet('10.0.0.6', 7000, { uid: 1337 }));
    expect(r.outcome).toBe('bypass');
    expect(r.rule?.text).toBe('-A ISTIO_OUTPUT -m owner --uid-owner 1337 -j RETURN');
  });

  it('does not capture the pod calling its own IP', () => {
    const r = evaluateCapture(DEFAULT_CAPTURE, packet('10.64.192.14', 8080));
    expect(r.outcome).toBe('bypass');
    expect(r.rule?.text).toBe('-A ISTIO_OUTPUT -o lo -m owner ! --uid-owner 1337 -j RETURN');
  });

  it('does not capture UDP (ISTIO_REDIRECT is TCP-only) unless it is DNS to the proxy', () => {
    expect(evaluateCapture(DEFAULT_CAPTURE, packet('10.0.0.6', 9999, { proto: 'udp' })).outcome).toBe('bypass');
    const dns: CaptureSettings = { ...DEFAULT_CAPTURE, redirectDns: true, captureAllDns: true };
    const r = evaluateCapture(dns, packet('10.96.0.10', 53, { proto: 'udp' }));
    expect(r.outcome).toBe('dns');
    expect(r.port).toBe(15053);
  });

  it('excluded outbound ports win over everything else', () => {
    const r = evaluateCapture({ ...DEFAULT_CAPTURE, excludeOutboundPorts: '7000' }, packet('10.0.0.6', 7000));
    expect(r.outcome).toBe('bypass');
    expect(r.rule?.text).toBe('-A ISTIO_OUTPUT -p tcp --dport 7000 -j RETURN');
  });

  it('captures only listed ranges when includeOutboundIPRanges is a list', () => {
    const s = { ...DEFAULT_CAPTURE, includeIpRanges: '10.96.0.0/12' };
    expect(evaluateCapture(s, packet('10.96.0.10', 53)).outcome).toBe('outbound');
    expect(evaluateCapture(s, packet('10.0.0.6', 7000)).outcome).toBe('bypass');
    expect(evaluateCapture(s, packet('10.0.0.6', 7000)).rule).toBeUndefined();
  });

  it('includeOutboundPorts captures a port even outside the include ranges', () => {
    const s = { ...DEFAULT_CAPTURE, includeIpRanges: '', includeOutboundPorts: '7000' };
    expect(evaluateCapture(s, packet('10.0.0.6', 7000)).outcome).toBe('outbound');
    expect(evaluateCapture(s, packet('10.0.0.6', 7001)).outcome).toBe('bypass');
  });

  it('interception mode NONE installs no rules', () => {
    expect(evaluateCapture({ ...DEFAULT_CAPTURE, mode: 'NONE' }, packet('10.0.0.6', 7000)).outcome).toBe('bypass');
  });

  it('IPv6 is only captured when ip6tables rules exist', () => {
    expect(evaluateCapture(DEFAULT_CAPTURE, packet('2001:db8::1', 443)).outcome).toBe('bypass');
    expect(evaluateCapture({ ...DEFAULT_CAPTURE, ipv6: true }, packet('2001:db8::1', 443)).outcome).toBe('outbound');
  });
});
