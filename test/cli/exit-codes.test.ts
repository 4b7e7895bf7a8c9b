/**
 * Every exit code, through the real CLI (in-process): what the user sees is one line saying what
 * and what to do, never a stack trace, and the code does not depend on -o.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EXIT, exitCodeOf } from '../../src/cli/exit-codes.js';
import { main } from '../../src/cli/main.js';
import { DataError, UnavailableError, UsageError } from '../../src/model/errors.js';
import { fakeIo, runCli } from '../helpers/cli.js';

const scenarios = path.resolve(__dirname, '..', 'scenarios');
const allowAny = path.join(scenarios, 'seed002-modern', 'allow-any.json');
const registryOnly = path.join(scenarios, 'seed002-modern', 'registry-only.json');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'meg-exit-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function tmpFile(name: string, content: string | Buffer): string {
  const p = path.join(tmp, name);
  fs.writeFileSync(p, content);
  return p;
}

/** One line (plus at most a usage hint), no stack frames. */
function expectCleanError(stderr: string, pattern: RegExp): void {
  expect(stderr).toMatch(pattern);
  expect(stderr).not.toMatch(/\n\s+at /);
  expect(stderr.trim().split('\n').length).toBeLessThanOrEqual(2);
}

describe('exit 0 and 79: the diagnosis', () => {
  for (const output of ['table', 'wide', 'json', 'yaml']) {
    it(`0 when the connection is fine (-o ${output})`, async () => {
      const r = await runCli(['trace', '--config-dump', allowAny, '10.96.0.10:53', '-o', output]);
      expect(r.code).toBe(EXIT.OK);
      expect(r.stderr).toBe('');
    });
    it(`79 for a failing verdict (-o ${output})`, async () => {
      const r = await runCli(['trace', '--config-dump', registryOnly, '10.0.0.6:7000', '-o', output]);
      expect(r.code).toBe(EXIT.FINDINGS);
      expect(r.stderr).toBe('');
    });
  }
  it('--fail-on never turns a failing verdict into 0', async () => {
    expect((await runCli(['trace', '--config-dump', registryOnly, '10.0.0.6:7000', '--fail-on', 'never'])).code).toBe(0);
  });
  it('--fail-on warning fails on a warning-level finding only', async () => {
    const tcpSe = path.join(scenarios, 'tcp-serviceentry-no-addresses', 'config_dump.json');
    expect((await runCli(['trace', '--config-dump', tcpSe, '10.30.0.9:5432'])).code).toBe(0);
    expect((await runCli(['trace', '--config-dump', tcpSe, '10.30.0.9:5432', '--fail-on', 'warning'])).code).toBe(79);
  });
});

describe('exit 64: usage', () => {
  const cases: [string, string[], RegExp][] = [
    ['no verb', [], /give a verb/],
    ['unknown verb', ['tarce'], /Unknown argument|Did you mean/],
    ['unknown flag', ['trace', '--config-dump', allowAny, '10.0.0.6:7000', '--bogus'], /Unknown argument: bogus/],
    ['missing DEST', ['trace', '--config-dump', allowAny], /missing DEST/],
    ['no port', ['trace', '--config-dump', allowAny, '10.0.0.6'], /no port in destination/],
    ['bad port', ['trace', '--config-dump', allowAny, '10.0.0.6:70000'], /invalid port "70000"/],
    ['bad scheme', ['trace', '--config-dump', allowAny, 'ftp://x:21'], /unsupported scheme/],
    ['bad protocol', ['trace', '--config-dump', allowAny, '10.0.0.6:1', '--protocol', 'udp'], /Invalid values|protocol/],
    ['bad output', ['trace', '--config-dump', allowAny, '10.0.0.6:1', '-o', 'xml'], /Invalid values/],
    ['contradicting scheme', ['trace', '--config-dump', allowAny, 'http://a:80/', '--protocol', 'tls'], /contradicts/],
    ['server-first on http', ['trace', '--config-dump', allowAny, 'http://a:80/', '--server-first'], /--server-first only applies/],
    ['bad header', ['trace', '--config-dump', allowAny, 'http://a/', '--header', 'nocolon'], /invalid --header/],
    ['bad pod ip', ['trace', '--config-dump', allowAny, '10.0.0.6:1', '--pod-ip', 'x'], /--pod-ip "x" is not an IP/],
    ['bad uid', ['trace', '--config-dump', allowAny, '10.0.0.6:1', '--uid', '-3'], /--uid must be/],
    ['two positionals offline', ['trace', '--config-dump', allowAny, 'pod/x', '10.0.0.6:1'], /give only DEST/],
    ['live: target and selector together', ['trace', 'pod/x', '-l', 'app=x', '10.0.0.6:1'], /give either TARGET .* or -l SELECTOR/],
    ['live: unsupported target kind', ['trace', 'svc/x', '10.0.0.6:1'], /unsupported TARGET kind "svc"/],
    ['live: bad request timeout', ['trace', 'pod/x', '10.0.0.6:1', '--request-timeout', 'soon'], /invalid --request-timeout "soon"/],
    ['live: too many arguments', ['trace', 'pod/x', '10.0.0.6:1', 'extra'], /too many arguments/],
    ['credentials in DEST', ['trace', '--config-dump', allowAny, 'http://u:p@h/'], /credentials/],
  ];
  for (const [name, args, pattern] of cases) {
    it(name, async () => {
      const r = await runCli(args);
      expect(r.code).toBe(EXIT.USAGE);
      expect(r.stdout).toBe('');
      expectCleanError(r.stderr, pattern);
    });
  }
});

describe('exit 65: unreadable input data', () => {
  const good = fs.readFileSync(allowAny, 'utf8');
  const cases: [string, () => string, RegExp][] = [
    ['missing file', () => path.join(tmp, 'nope.json'), /nope\.json: cannot open: no such file/],
    ['directory', () => tmp, /is a directory/],
    ['empty file', () => tmpFile('empty.json', ''), /is empty/],
    ['truncated JSON', () => tmpFile('truncated.json', good.slice(0, Math.floor(good.length / 2))), /truncated\.json: invalid JSON at line \d+, column \d+: input ended inside/],
    ['garbage inside JSON', () => tmpFile('garbage.json', good.replace('"virtualOutbound"', '"virtualOutbound" oops')), /garbage\.json: invalid JSON at line \d+/],
    ['trailing garbage', () => tmpFile('trailing.json', `${good}\n}`), /after the end of the document/],
    ['not a config dump', () => tmpFile('other.json', '{"apiVersion":"v1","kind":"Pod"}'), /does not look like an Envoy admin \/config_dump/],
    ['malformed YAML', () => tmpFile('bad.yaml', 'configs:\n  - [unclosed\n'), /bad\.yaml: neither JSON nor valid YAML/],
    ['YAML scalar', () => tmpFile('scalar.yaml', 'just text\n'), /does not contain a JSON or YAML document/],
    ['binary junk', () => tmpFile('junk.bin', Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0x00])), /junk\.bin: /],
  ];
  for (const [name, file, pattern] of cases) {
    for (const output of ['table', 'json']) {
      it(`${name} (-o ${output})`, async () => {
        const r = await runCli(['trace', '--config-dump', file(), '10.0.0.6:7000', '-o', output]);
        expect(r.code).toBe(EXIT.DATA);
        expect(r.stdout).toBe('');
        expectCleanError(r.stderr, pattern);
      });
    }
  }
  it('an entry whose bytes are not valid JSON is reported when parsed, with file and byte offset', async () => {
    // structurally balanced but a bad literal inside one listener: the scanner rejects it early
    const f = tmpFile('badliteral.json', good.replace('"use_original_dst": true', '"use_original_dst": tru'));
    const r = await runCli(['trace', '--config-dump', f, '10.0.0.6:7000']);
    expect(r.code).toBe(EXIT.DATA);
    expectCleanError(r.stderr, /badliteral\.json: invalid JSON at line \d+, column \d+: invalid literal 'tru'/);
  });
  it('reads a dump from standard input with "-"', async () => {
    const r = await runCli(['trace', '--config-dump', '-', '10.96.0.10:53', '-o', 'json'], { stdin: Buffer.from(good) });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).verdict.code).toBe('ROUTED');
  });
});

describe('exit 69 and 1', () => {
  it('69 when kubectl is missing, with what to do', async () => {
    const r = await runCli(['trace', 'pod/x', '10.0.0.6:7000'], { env: { MESH_EGRESS_KUBECTL: path.join(tmp, 'no-kubectl-here'), PATH: '/nonexistent' } });
    expect(r.code).toBe(EXIT.UNAVAILABLE);
    expectCleanError(r.stderr, /kubectl not found .*install kubectl 1\.27 or newer/);
  });
  it('69 when kubectl is older than 1.27', async () => {
    const fake = tmpFile('kubectl-old', '#!/bin/sh\necho \'{"clientVersion":{"major":"1","minor":"25","gitVersion":"v1.25.16"}}\'\n');
    fs.chmodSync(fake, 0o755);
    const r = await runCli(['trace', 'pod/x', '10.0.0.6:7000'], { env: { MESH_EGRESS_KUBECTL: fake, PATH: process.env.PATH ?? '' } });
    expect(r.code).toBe(EXIT.UNAVAILABLE);
    expectCleanError(r.stderr, /kubectl v1\.25\.16 is too old: kubectl-mesh_egress needs kubectl 1\.27 or newer/);
  });
  it('maps error classes to codes', () => {
    expect(exitCodeOf(new UsageError('x'))).toBe(64);
    expect(exitCodeOf(new DataError('f', 'x'))).toBe(65);
    expect(exitCodeOf(new UnavailableError('x'))).toBe(69);
    expect(exitCodeOf(new TypeError('x'))).toBe(1);
  });
  it('an unexpected exception is an internal error (1): one line, no stack unless MESH_EGRESS_DEBUG', async () => {
    const f = fakeIo();
    const io = {
      ...f.io,
      stdin: (): Buffer => {
        throw new TypeError('simulated bug');
      },
    };
    const code = await main(['trace', '--config-dump', '-', '10.0.0.6:7000'], io);
    expect(code).toBe(EXIT.INTERNAL);
    expect(f.err()).toMatch(/^internal error: simulated bug\nThis is a bug in kubectl-mesh_egress/);
    expect(f.err()).not.toMatch(/\n\s+at /);
    const g = fakeIo({ env: { MESH_EGRESS_DEBUG: '1' } });
    const code2 = await main(['trace', '--config-dump', '-', '10.0.0.6:7000'], { ...g.io, stdin: io.stdin });
    expect(code2).toBe(EXIT.INTERNAL);
    expect(g.err()).toMatch(/\n\s+at /);
  });
});
