/**
 * npm run bench: the performance report. Runs the built CLI (dist/kubectl-mesh_egress) as a
 * child process, several times per measurement, and prints medians of wall time and the peak RSS
 * the child reports, side by side with baselines measured in the same run:
 *   - `node -e 0` (startup floor) for cold start;
 *   - a naive reader (`JSON.parse(fs.readFileSync(dump))`, what a whole-dump tool does first)
 *     for offline traces on the same files.
 * Dumps: the largest corpus dump, synthetic meshes of 1k and 5k services, and one dump larger
 * than V8's maximum string length (skip it with BENCH_QUICK=1). Synthetic dumps are cached in
 * $TMPDIR/mesh-egress-bench. Numbers vary with machine load: compare ratios from one run.
 * Cold start also times the single executable (built into dist/bench/, or MESH_EGRESS_BIN);
 * BENCH_COLD_RUNS sets its rounds (15), BENCH_COLD_ONLY=1 stops after it.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { fetchRuntime, hostTarget } from '../scripts/node-runtime.mjs';
import { services, writeMeshDump } from './synthetic-mesh.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const cli = path.join(root, 'dist', 'kubectl-mesh_egress');
const hook = path.join(root, 'bench', 'rusage-hook.cjs');
const cache = path.join(os.tmpdir(), 'mesh-egress-bench');
const quick = process.env.BENCH_QUICK === '1';
const runs = Number(process.env.BENCH_RUNS ?? 5);

const env = { ...process.env };
// Node 20 loads NODE_EXTRA_CA_CERTS eagerly (+60-100 ms per start): measure without it, both sides
delete env.NODE_EXTRA_CA_CERTS;

interface Sample {
  readonly ms: number;
  readonly rssMb: number;
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function measure(args: readonly string[]): Sample {
  const rusage = path.join(cache, `rusage-${process.pid}.json`);
  fs.rmSync(rusage, { force: true });
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, ['--max-old-space-size=4096', '-r', hook, ...args], { env: { ...env, BENCH_RUSAGE_FILE: rusage }, encoding: 'utf8', maxBuffer: 64 << 20 });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  const rssKb = fs.existsSync(rusage) ? (JSON.parse(fs.readFileSync(rusage, 'utf8')) as { maxRSS: number }).maxRSS : Number.NaN;
  return { ms, rssMb: rssKb / 1024, code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function repeat(args: readonly string[], n = runs): { ms: number; rssMb: number; last: Sample } {
  const samples = Array.from({ length: n }, () => measure(args));
  return { ms: median(samples.map((s) => s.ms)), rssMb: Math.max(...samples.map((s) => s.rssMb)), last: samples[samples.length - 1]! };
}

function mb(bytes: number): string {
  return `${(bytes / 1048576).toFixed(1)} MB`;
}

function pad(s: string, n: number): string {
  return s.length >= n ? s : s + ' '.repeat(n - s.length);
}

function row(cells: readonly string[], widths: readonly number[]): string {
  return cells.map((c, i) => pad(c, widths[i]!)).join('  ');
}

function ensureDump(name: string, services: number): string {
  fs.mkdirSync(cache, { recursive: true });
  const file = path.join(cache, `${name}.json`);
  const stamp = `${file}.spec`;
  const spec = JSON.stringify({ services, endpointsPerService: 3, v: 2 });
  if (!fs.existsSync(file) || !fs.existsSync(stamp) || fs.readFileSync(stamp, 'utf8') !== spec) {
    const t0 = Date.now();
    const size = writeMeshDump(file, { services, endpointsPerService: 3 });
    fs.writeFileSync(stamp, spec);
    console.error(`generated ${name}: ${services} services, ${mb(size)} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  }
  return file;
}

/**
 * Cold start, side by side in one run: `node -e 0` (this machine's node, which runs the bundle,
 * and the pinned Node that the single executable embeds), the single executable (built here by
 * scripts/build-binary.mjs into dist/bench/, or MESH_EGRESS_BIN) and the node-launched bundle
 * (dist/kubectl-mesh_egress), each for --version, --help and an offline trace of the README
 * example. Rounds are interleaved (every command once per round, after warm-up rounds) so that
 * machine noise spreads evenly; medians. Peak RSS from one run under /usr/bin/time, if present.
 */
function coldStart(): void {
  const rounds = Number(process.env.BENCH_COLD_RUNS ?? 15);
  const example = ['trace', '--config-dump', path.join(root, 'test', 'scenarios', 'seed002-modern', 'registry-only.json'), '10.0.0.6:7000'];
  let binary = process.env.MESH_EGRESS_BIN ? path.resolve(root, process.env.MESH_EGRESS_BIN) : path.join(root, 'dist', 'bench', 'kubectl-mesh_egress');
  if (!process.env.MESH_EGRESS_BIN) {
    const b = spawnSync(process.execPath, [path.join(root, 'scripts', 'build-binary.mjs'), '--out', binary], { encoding: 'utf8', env });
    if (b.status !== 0) {
      console.log(`(single executable not built: ${(b.stderr || b.stdout).trim().split('\n').at(-1)})`);
      binary = '';
    }
  }
  const pinned = (JSON.parse(fs.readFileSync(path.join(root, 'scripts', 'node-runtimes.json'), 'utf8')) as { version: string }).version;
  let runtime: string | undefined;
  try {
    runtime = fetchRuntime(hostTarget()).node;
  } catch {
    runtime = undefined;
  }
  const rows: { name: string; cmd: string; args: string[]; baseline?: boolean }[] = [
    { name: `node -e 0  (node ${process.version}, runs the bundle)`, cmd: process.execPath, args: ['-e', '0'], baseline: true },
    ...(runtime ? [{ name: `node -e 0  (node v${pinned}, embedded in the binary)`, cmd: runtime, args: ['-e', '0'] }] : []),
    ...(binary
      ? [
          { name: 'binary --version', cmd: binary, args: ['--version'] },
          { name: 'binary --help', cmd: binary, args: ['--help'] },
          { name: 'binary trace (README example)', cmd: binary, args: example },
        ]
      : []),
    { name: 'node bundle --version', cmd: process.execPath, args: [cli, '--version'] },
    { name: 'node bundle --help', cmd: process.execPath, args: [cli, '--help'] },
    { name: 'node bundle trace (README example)', cmd: process.execPath, args: [cli, ...example] },
  ];
  const times: number[][] = rows.map(() => []);
  for (let r = -2; r < rounds; r++) {
    rows.forEach((row, i) => {
      const t0 = process.hrtime.bigint();
      const res = spawnSync(row.cmd, row.args, { env, encoding: 'utf8', maxBuffer: 16 << 20 });
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      if (res.status !== 0 && !(row.args[0] === 'trace' || row.args[1] === 'trace')) throw new Error(`${row.name}: exit ${res.status} ${res.stderr}`);
      if (r >= 0) times[i]!.push(ms);
    });
  }
  const rss = (row: (typeof rows)[number]): string => {
    if (!fs.existsSync('/usr/bin/time')) return '-';
    const res = spawnSync('/usr/bin/time', ['-f', '%M', row.cmd, ...row.args], { env, encoding: 'utf8', maxBuffer: 16 << 20 });
    const kb = Number(res.stderr.trim().split('\n').at(-1));
    return Number.isFinite(kb) ? `${(kb / 1024).toFixed(0)} MB` : '-';
  };
  const med = times.map((t) => median(t));
  const min = times.map((t) => Math.min(...t));
  const bi = rows.findIndex((r) => r.baseline);
  const base = med[bi]!;
  const cw = [50, 10, 20, 10, 16];
  console.log(`COLD START (medians of ${rounds} interleaved rounds; binary: ${binary ? path.relative(root, binary) : 'none'}, Node ${pinned} with code cache)`);
  console.log(row(['command', 'wall', 'ratio to node -e 0', 'peak RSS', 'fastest (ratio)'], cw));
  rows.forEach((r, i) => console.log(row([r.name, `${med[i]!.toFixed(0)} ms`, `${(med[i]! / base).toFixed(2)}x`, rss(r), `${min[i]!.toFixed(0)} ms (${(min[i]! / min[bi]!).toFixed(2)}x)`], cw)));
  const worst = rows.map((r, i) => ({ r, x: med[i]! / base })).filter(({ r }) => r.name.startsWith('binary'));
  if (worst.length) {
    const over = worst.filter((w) => w.x > 4);
    console.log(over.length ? `over the 4x target: ${over.map((w) => `${w.r.name} ${w.x.toFixed(1)}x`).join(', ')}` : `the binary is within 4x of node -e 0 (${worst.map((w) => `${w.r.name.replace('binary ', '')} ${w.x.toFixed(1)}x`).join(', ')})`);
  }
  console.log('');
}

const naiveScript = `const d=JSON.parse(require('fs').readFileSync(process.argv[1],'utf8'));let n=0;for(const c of d.configs)for(const k of Object.keys(c))if(Array.isArray(c[k]))n+=c[k].length;console.log(n)`;

function main(): void {
  if (!fs.existsSync(cli)) throw new Error('dist/kubectl-mesh_egress is missing: run npm run build');
  fs.mkdirSync(cache, { recursive: true });
  console.log(`kubectl-mesh_egress benchmark — node ${process.version}, ${os.cpus().length} cpu(s), medians of ${runs} runs`);
  console.log('');

  // ---- cold start ----------------------------------------------------------------------------------
  coldStart();
  if (process.env.BENCH_COLD_ONLY === '1') return;

  // ---- offline traces ------------------------------------------------------------------------------
  const corpus = path.resolve(root, '..', 'shared', 'corpus', 'istio', '_history_2020', 'istioctl', 'cmd', 'testdata', 'describe', 'productpage-v1-7bbd79f8fd-k6j79.json');
  const dumps: { name: string; file: string; dests: string[] }[] = [];
  if (fs.existsSync(corpus)) dumps.push({ name: 'corpus A9 (Istio 1.3)', file: corpus, dests: ['10.0.0.6:80', 'http://reviews:9080/'] });
  /** a TCP service (own VIP listener), an HTTP service (shared listener, big route table) and an unknown address */
  const destsFor = (n: number): string[] => {
    const all = services(n);
    const mid = Math.floor(n / 2);
    const tcp = all.slice(mid).find((s) => !s.http)!;
    const http = all.slice(mid).find((s) => s.http)!;
    return [`${tcp.vip}:${tcp.port}`, `http://${http.ref.name}.${http.ref.namespace}:${http.port}/`, '203.0.113.9:6379'];
  };
  dumps.push({ name: 'synthetic 1k services', file: ensureDump('mesh-1k', 1000), dests: destsFor(1000) });
  dumps.push({ name: 'synthetic 5k services', file: ensureDump('mesh-5k', 5000), dests: destsFor(5000) });
  if (!quick) dumps.push({ name: 'synthetic 150k (> V8 max string)', file: ensureDump('mesh-150k', 150000), dests: destsFor(150000).slice(0, 2) });

  const tw = [34, 10, 30, 20, 10, 10, 12, 12];
  console.log('OFFLINE TRACE (trace --config-dump FILE DEST -o json) vs NAIVE FULL PARSE (JSON.parse of the whole file)');
  console.log(row(['dump', 'size', 'destination', 'verdict', 'wall', 'peak RSS', 'naive wall', 'naive RSS'], tw));
  for (const d of dumps) {
    const size = fs.statSync(d.file).size;
    const naive = size < 500 * 1048576 ? repeat(['-e', naiveScript, d.file], Math.min(runs, 3)) : undefined;
    const naiveWall = naive ? (naive.last.code === 0 ? `${naive.ms.toFixed(0)} ms` : 'failed') : 'impossible';
    const naiveRss = naive && naive.last.code === 0 ? `${naive.rssMb.toFixed(0)} MB` : '-';
    for (const dest of d.dests) {
      const r = repeat([cli, 'trace', '--config-dump', d.file, dest, '-o', 'json', '--fail-on', 'never'], size > 100 * 1048576 ? Math.min(runs, 3) : runs);
      let verdict = `exit ${r.last.code}`;
      if (r.last.code === 0) verdict = String((JSON.parse(r.last.stdout) as { verdict: { code: string | null } }).verdict.code ?? 'UNDETERMINED');
      else verdict += ` ${r.last.stderr.split('\n')[0]?.slice(0, 60) ?? ''}`;
      console.log(row([d.name, mb(size), dest, verdict, `${r.ms.toFixed(0)} ms`, `${r.rssMb.toFixed(0)} MB`, naiveWall, naiveRss], tw));
    }
  }
  console.log('');
  console.log('naive "impossible": the file is larger than the longest string V8 can hold (~512 MB), so JSON.parse of the whole file cannot work.');
}

main();
