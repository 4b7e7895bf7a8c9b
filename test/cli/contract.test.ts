/**
 * The argv → TraceOptions contract (changesets' cli.test.ts style): the runner is replaced, so
 * these tests pin only how flags are read.
 */
import { describe, expect, it } from 'vitest';
import type { TraceOptions } from '../../src/cli/commands/trace.js';
import { main } from '../../src/cli/main.js';
import { fakeIo } from '../helpers/cli.js';

async function parse(argv: string[]): Promise<TraceOptions> {
  let seen: TraceOptions | undefined;
  const f = fakeIo();
  const code = await main(argv, f.io, {
    trace: (o) => {
      seen = o;
    },
  });
  expect(f.err()).toBe('');
  expect(code).toBe(0);
  if (!seen) throw new Error('runner not called');
  return seen;
}

describe('trace argv → options', () => {
  it('defaults', async () => {
    expect(await parse(['trace', '--config-dump', 'd.json', '10.0.0.6:7000'])).toEqual({
      input: { kind: 'config-dump', files: ['d.json'] },
      dest: '10.0.0.6:7000',
      request: { capture: {} },
      output: 'table',
      color: 'auto',
      failOn: 'error',
    });
  });
  it('every flag', async () => {
    const o = await parse([
      'trace', '--config-dump', 'd.json', '--config-dump', 'clusters.json', 'tls://api:443',
      '--protocol', 'tls', '--sni', 'api.example.com', '--alpn', 'h2,http/1.1', '--address', '1.2.3.4',
      '--pod-ip', '10.1.1.1', '--uid', '1000', '--exclude-ip-ranges', '10.0.0.0/8', '--include-ip-ranges', '*',
      '--exclude-ports', '22', '--include-ports', '7000', '--dns-capture', '--interception-mode', 'TPROXY',
      '-o', 'json', '--color', 'never', '--fail-on', 'warning',
    ]);
    expect(o).toEqual({
      input: { kind: 'config-dump', files: ['d.json', 'clusters.json'] },
      dest: 'tls://api:443',
      request: {
        protocol: 'tls',
        sni: 'api.example.com',
        alpn: ['h2', 'http/1.1'],
        address: '1.2.3.4',
        podIp: '10.1.1.1',
        uid: 1000,
        capture: { includeIpRanges: '*', excludeIpRanges: '10.0.0.0/8', includePorts: '7000', excludePorts: '22', dnsCapture: true, interceptionMode: 'TPROXY' },
      },
      output: 'json',
      color: 'never',
      failOn: 'warning',
    });
  });
  it('HTTP flags, repeatable headers, stdin', async () => {
    const o = await parse(['trace', '--config-dump', '-', 'http://svc/x', '--method', 'post', '--header', 'x-a: 1', '--header', 'x-b:2', '--host', 'svc.ns', '--protocol', 'http2']);
    expect(o.input).toEqual({ kind: 'config-dump', files: ['-'] });
    expect(o.request).toEqual({ protocol: 'http2', method: 'post', headers: ['x-a: 1', 'x-b:2'], host: 'svc.ns', capture: {} });
  });
  it('--server-first and -o wide', async () => {
    const o = await parse(['trace', '--config-dump', 'd', '10.0.0.1:3306', '--server-first', '-o', 'wide']);
    expect(o.request.serverFirst).toBe(true);
    expect(o.output).toBe('wide');
  });
});
