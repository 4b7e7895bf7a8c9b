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
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
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

const naiveScript = `const d=JSON.parse(require('fs').readFileSync(process.argv[1],'utf8'));let n=0;for(const c of d.configs)for(const k of Object.keys(c))if(Array.isArray(c[k]))n+=c[k].length;console.log(n)`;

function main(): void {
  if (!fs.existsSync(cli)) throw new Error('dist/kubectl-mesh_egress is missing: run npm run build');
  fs.mkdirSync(cache, { recursive: true });
  console.log(`kubectl-mesh_egress benchmark — node ${process.version}, ${os.cpus().length} cpu(s), medians of ${runs} runs`);
  console.log('');

  // ---- cold start --------------------------------------------------------------------------------
  const baseline = repeat(['-e', '0']);
  const help = repeat([cli, '--help']);
  const version = repeat([cli, 'version']);
  const cw = [34, 12, 12, 18];
  console.log('COLD START');
  console.log(row(['command', 'wall', 'peak RSS', 'ratio to node -e 0'], cw));
  for (const [name, r] of [
    ['node -e 0', baseline],
    ['kubectl-mesh_egress --help', help],
    ['kubectl-mesh_egress version', version],
  ] as const) {
    console.log(row([name, `${r.ms.toFixed(0)} ms`, `${r.rssMb.toFixed(0)} MB`, `${(r.ms / baseline.ms).toFixed(2)}x`], cw));
  }
  console.log('');

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
