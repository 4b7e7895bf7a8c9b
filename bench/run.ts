/**
 * npm run bench: the performance report. Everything is measured in one run, side by side, and
 * printed as ratios (machines are noisy: compare ratios from one run, not absolute numbers across
 * runs). Sections:
 *   1. COLD START: the single executable and the node-launched bundle vs `node -e 0`.
 *   2. OFFLINE: `trace --config-dump FILE DEST -o json` (the built CLI, dist/kubectl-mesh_egress,
 *      as a child process) on the largest corpus dump, synthetic meshes of 1k, 5k and 20k services
 *      (bench/synthetic-mesh.ts) and one dump larger than V8's maximum string length; for each,
 *      the same question answered by `istioctl proxy-config listener|route|cluster --file FILE`
 *      (Istio 1.29.1, built by bench/build-istioctl.sh) and a naive `JSON.parse` of the whole file,
 *      rounds interleaved; wall-time medians and peak RSS (`/usr/bin/time -f %M`, both sides);
 *      then the growth from 1k to 20k services.
 *   3. LIVE (bench/live.ts): trace (and whyblackhole/doctor when they run) against the e2e test
 *      server with injected API latency and the 5k mesh behind the Envoy admin emulator, with the
 *      real kubectl: time to verdict, kubectl invocations, bytes pulled from the proxy, versus one
 *      full `config_dump?include_eds` through the same exec path.
 *   4. TARGETS: the issue's targets, met or missed, with the numbers above.
 *
 * Environment knobs:
 *   --quick (npm run bench -- --quick) or BENCH_QUICK=1: a smoke run — 1k and 5k meshes only, one
 *                               round each, 3 cold-start rounds, one live round; no oversized dump
 *   BENCH_RUNS=N                rounds per offline measurement (default 5; 3 above 100 MB; 1 for the oversized dump)
 *   BENCH_SECTIONS=cold,offline,live   which sections to run (default all)
 *   BENCH_COLD_RUNS=N           rounds of the cold-start table (default 15)
 *   BENCH_COLD_ONLY=1           stop after the cold-start table (same as BENCH_SECTIONS=cold)
 *   MESH_EGRESS_BIN=PATH        single executable for the cold-start rows (default: built into dist/bench/)
 *   BENCH_ISTIOCTL=PATH|skip    istioctl to compare with; default: bench/build-istioctl.sh builds it
 *                               once into ~/.cache/mesh-egress/istioctl-1.29.1 (needs go; 10-20 min the
 *                               first time); "skip" leaves the istioctl rows out
 *   BENCH_ISTIOCTL_TIMEOUT=S    per istioctl call (default 900)
 *   BENCH_OVERSIZED_SERVICES=N  services of the oversized mesh (default 100000, ~820 MB)
 *   BENCH_LIVE_LATENCY_MS=N     latency the test API server adds to every request (default 50)
 *   BENCH_LIVE_RUNS=N           rounds per live measurement (default 3)
 *   TMPDIR                      synthetic dumps are cached in $TMPDIR/mesh-egress-bench (regenerated when
 *                               their shape version changes)
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { fetchRuntime, hostTarget } from '../scripts/node-runtime.mjs';
import { BENCH_CACHE, ensureMeshDump, services } from './synthetic-mesh.js';
import { row } from './table.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
/**
 * The CLI measured: the same esbuild bundle `npm run build` writes to dist/, built by the bench into
 * its own cache, because dist/kubectl-mesh_egress is shared (other builds, e.g. the single
 * executable, may replace it while the bench runs).
 */
const cli = path.join(BENCH_CACHE, 'cli', 'kubectl-mesh_egress');
const hook = path.join(root, 'bench', 'rusage-hook.cjs');
const cache = BENCH_CACHE;
const quick = process.env.BENCH_QUICK === '1' || process.argv.includes('--quick');
const runs = Number(process.env.BENCH_RUNS ?? (quick ? 1 : 5));
const sections = new Set((process.env.BENCH_SECTIONS ?? (process.env.BENCH_COLD_ONLY === '1' ? 'cold' : 'cold,offline,live')).split(',').map((s) => s.trim()));
const TIME = fs.existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined;

const env = { ...process.env };
// Node 20 loads NODE_EXTRA_CA_CERTS eagerly (+60-100 ms per start): measure without it, both sides
delete env.NODE_EXTRA_CA_CERTS;

// ---- measuring -------------------------------------------------------------------------------------

interface Sample {
  readonly ms: number;
  /** user + system CPU time in ms (NaN when it could not be measured) */
  readonly cpuMs: number;
  /** peak RSS in MB (NaN when it could not be measured) */
  readonly rssMb: number;
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly timedOut: boolean;
}

/**
 * Runs a command once: wall time around the spawn, peak RSS and CPU time from `/usr/bin/time -f
 * "%M %U %S"` (for node commands without /usr/bin/time, from the preloaded rusage hook). On a
 * loaded machine wall times stretch while CPU times stay put: both are printed.
 */
function measure(cmd: string, args: readonly string[], opts: { timeoutS?: number } = {}): Sample {
  const rusage = path.join(cache, `rusage-${process.pid}.txt`);
  fs.rmSync(rusage, { force: true });
  const isNode = cmd === process.execPath;
  // node runs the CLI exactly as a user does (no heap flags): what it needs must fit the defaults
  const nodeArgs = isNode && !TIME ? ['-r', hook] : [];
  const [exe, argv] = TIME ? [TIME, ['-f', '%M %U %S', '-o', rusage, cmd, ...nodeArgs, ...args]] : [cmd, [...nodeArgs, ...args]];
  const t0 = process.hrtime.bigint();
  const r = spawnSync(exe, argv, { env: { ...env, BENCH_RUSAGE_FILE: rusage }, encoding: 'utf8', maxBuffer: 1 << 30, timeout: (opts.timeoutS ?? 0) * 1000 || undefined, killSignal: 'SIGKILL' });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  let rssKb = Number.NaN;
  let cpuMs = Number.NaN;
  if (fs.existsSync(rusage)) {
    const text = fs.readFileSync(rusage, 'utf8').trim();
    if (TIME) {
      // the last line: "%M %U %S" (earlier lines: "Command exited with non-zero status N")
      const [kb, user, sys] = (text.split('\n').at(-1) ?? '').split(' ').map(Number);
      rssKb = kb ?? Number.NaN;
      cpuMs = ((user ?? Number.NaN) + (sys ?? Number.NaN)) * 1000;
    } else {
      const u = JSON.parse(text) as { maxRSS: number; userCPUTime: number; systemCPUTime: number };
      rssKb = u.maxRSS;
      cpuMs = (u.userCPUTime + u.systemCPUTime) / 1000;
    }
  }
  const timedOut = (r.error as NodeJS.ErrnoException | undefined)?.code === 'ETIMEDOUT';
  return { ms, cpuMs, rssMb: rssKb / 1024, code: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '', timedOut };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

interface Job {
  readonly label: string;
  readonly cmd: string;
  readonly args: readonly string[];
  readonly timeoutS?: number;
  samples: Sample[];
}

/** Runs every job once per round, rounds interleaved (machine noise spreads evenly); a failed or timed-out job is not run again. */
function interleave(jobs: Job[], rounds: number): void {
  for (let r = 0; r < rounds; r++) {
    for (const j of jobs) {
      const last = j.samples.at(-1);
      if (last && (last.code !== 0 || last.timedOut)) continue;
      j.samples.push(measure(j.cmd, j.args, j.timeoutS ? { timeoutS: j.timeoutS } : {}));
    }
  }
}

function wallOf(j: Job): number {
  const ok = j.samples.filter((s) => s.code === 0 && !s.timedOut);
  return ok.length ? median(ok.map((s) => s.ms)) : Number.NaN;
}

function cpuOf(j: Job): number {
  const ok = j.samples.filter((s) => s.code === 0 && !s.timedOut && Number.isFinite(s.cpuMs));
  return ok.length ? median(ok.map((s) => s.cpuMs)) : Number.NaN;
}

function rssOf(j: Job): number {
  const ok = j.samples.filter((s) => s.code === 0 && !s.timedOut && Number.isFinite(s.rssMb));
  return ok.length ? Math.max(...ok.map((s) => s.rssMb)) : Number.NaN;
}

// ---- formatting ------------------------------------------------------------------------------------

function mb(bytes: number): string {
  return bytes >= 1048576 ? `${(bytes / 1048576).toFixed(1)} MB` : `${(bytes / 1024).toFixed(1)} KB`;
}

function ms(x: number): string {
  return Number.isFinite(x) ? (x >= 10000 ? `${(x / 1000).toFixed(1)} s` : `${x.toFixed(0)} ms`) : '-';
}

function rss(x: number): string {
  return Number.isFinite(x) ? `${x.toFixed(0)} MB` : '-';
}

function times(x: number): string {
  return Number.isFinite(x) ? `${x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2)}x` : '-';
}

interface Target {
  readonly what: string;
  readonly met: boolean | undefined;
  readonly detail: string;
}
const targets: Target[] = [];

// ---- cold start ----------------------------------------------------------------------------------

/**
 * Cold start, side by side in one run: `node -e 0` (this machine's node, which runs the bundle,
 * and the pinned Node that the single executable embeds), the single executable (built here by
 * scripts/build-binary.mjs into dist/bench/, or MESH_EGRESS_BIN) and the node-launched bundle
 * (dist/kubectl-mesh_egress), each for --version, --help and an offline trace of the README
 * example. Rounds are interleaved (every command once per round, after warm-up rounds) so that
 * machine noise spreads evenly; medians. Peak RSS from one run under /usr/bin/time, if present.
 */
function coldStart(): void {
  const rounds = Number(process.env.BENCH_COLD_RUNS ?? (quick ? 3 : 15));
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

// ---- offline -------------------------------------------------------------------------------------

interface OfflineDump {
  readonly name: string;
  readonly file: string;
  /** services in the mesh (synthetic dumps) */
  readonly services?: number;
  readonly dests: readonly string[];
  /** istioctl proxy-config calls answering the question of the HTTP destination: [kind, ...flags] */
  readonly istioctl: readonly (readonly string[])[];
  readonly rounds: number;
  readonly oversized?: boolean;
}

/** A TCP service (own VIP listener), an HTTP service by name (wildcard listener, big route table), an unknown address. */
function synthetic(name: string, n: number, file: string, rounds: number, oversized = false): OfflineDump {
  const all = services(n).slice(Math.floor(n / 2));
  const tcp = all.find((s) => !s.ports[0]!.http)!;
  const http = all.find((s) => s.ports[0]!.http && s.subsets.length === 0)!;
  const port = String(http.ports[0]!.port);
  return {
    name,
    file,
    services: n,
    dests: [`${tcp.vip}:${tcp.ports[0]!.port}`, `http://${http.ref.name}.${http.ref.namespace}:${port}/`, '203.0.113.9:6379'],
    istioctl: [
      ['listener', '--address', '0.0.0.0', '--port', port],
      ['route', '--name', port],
      ['cluster', '--fqdn', http.ref.host, '--port', port],
    ],
    rounds,
    oversized,
  };
}

const naiveScript = `let d;try{d=JSON.parse(require('fs').readFileSync(process.argv[1],'utf8'))}catch(e){console.log(e.message);process.exit(2)}let n=0;for(const c of d.configs)for(const k of Object.keys(c))if(Array.isArray(c[k]))n+=c[k].length;console.log(n)`;

/** istioctl to compare with: BENCH_ISTIOCTL, else the cached build (built now when missing). */
function findIstioctl(): { path?: string; why?: string } {
  const given = process.env.BENCH_ISTIOCTL;
  if (given === 'skip') return { why: 'BENCH_ISTIOCTL=skip' };
  if (given) return fs.existsSync(given) ? { path: given } : { why: `BENCH_ISTIOCTL=${given} does not exist` };
  console.error('istioctl: bench/build-istioctl.sh (cached after the first build) ...');
  const r = spawnSync('sh', [path.join(root, 'bench', 'build-istioctl.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env });
  const out = r.stdout.trim().split('\n').at(-1);
  if (r.status === 0 && out && fs.existsSync(out)) return { path: out };
  return { why: (r.stderr || r.stdout).trim().split('\n').at(-1) ?? `exit ${r.status}` };
}

interface DumpResult {
  readonly dump: OfflineDump;
  readonly size: number;
  readonly trace: Job[];
  readonly istioctl: Job[];
}

function offline(): DumpResult[] {
  const corpus = path.resolve(root, '..', 'shared', 'corpus', 'istio', '_history_2020', 'istioctl', 'cmd', 'testdata', 'describe', 'productpage-v1-7bbd79f8fd-k6j79.json');
  const dumps: OfflineDump[] = [];
  if (fs.existsSync(corpus)) {
    dumps.push({ name: 'corpus A9 (Istio 1.3, real)', file: corpus, dests: ['10.0.0.6:80', 'http://reviews:9080/'], istioctl: [['listener', '--address', '0.0.0.0', '--port', '9080'], ['route', '--name', '9080'], ['cluster', '--fqdn', 'reviews.default.svc.cluster.local', '--port', '9080']], rounds: runs });
  }
  dumps.push(synthetic('synthetic 1k services', 1000, ensureMeshDump(1000), runs));
  dumps.push(synthetic('synthetic 5k services', 5000, ensureMeshDump(5000), runs));
  if (!quick) {
    dumps.push(synthetic('synthetic 20k services', 20000, ensureMeshDump(20000), Math.min(runs, 3)));
    const n = Number(process.env.BENCH_OVERSIZED_SERVICES ?? 100000);
    dumps.push(synthetic(`synthetic ${n / 1000}k (> V8 max string)`, n, ensureMeshDump(n), 1, true));
  }
  const istioctl = findIstioctl();
  const timeoutS = Number(process.env.BENCH_ISTIOCTL_TIMEOUT ?? 900);

  console.log(`OFFLINE: trace --config-dump FILE DEST -o json  vs  istioctl ${istioctl.path ? '1.29.1 ' : ''}proxy-config KIND --file FILE -o json  (same files, rounds interleaved; wall: median, RSS: peak${TIME ? ' by /usr/bin/time' : ' (node only, no /usr/bin/time)'})`);
  if (!istioctl.path) console.log(`(istioctl rows skipped: ${istioctl.why})`);
  const w = [62, 16, 9, 9, 9];
  const results: DumpResult[] = [];
  for (const d of dumps) {
    const size = fs.statSync(d.file).size;
    const trace: Job[] = d.dests.map((dest) => ({ label: `trace ${dest}`, cmd: process.execPath, args: [cli, 'trace', '--config-dump', d.file, dest, '-o', 'json', '--fail-on', 'never'], samples: [] }));
    const ist: Job[] = istioctl.path ? d.istioctl.map(([kind, ...flags]) => ({ label: `istioctl pc ${kind} ${flags.join(' ')}`, cmd: istioctl.path!, args: ['proxy-config', kind!, '--file', d.file, ...flags, '-o', 'json'], timeoutS, samples: [] })) : [];
    // run on the oversized dump too: it shows the failure (readFileSync cannot make the string)
    const naive: Job[] = [{ label: 'node: JSON.parse(whole file)', cmd: process.execPath, args: ['-e', naiveScript, d.file], samples: [] }];
    console.error(`${d.name}: ${d.rounds} round(s) of ${trace.length + ist.length + naive.length} commands ...`);
    interleave([...trace, ...ist, ...naive], d.rounds);
    console.log('');
    console.log(`${d.name}  ${mb(size)}${d.services ? `  (${d.services} services)` : ''}`);
    console.log(`  ${row(['command', 'answer', 'wall', 'CPU', 'peak RSS'], w)}`);
    for (const j of trace) {
      const last = j.samples.at(-1)!;
      let answer = last.timedOut ? 'timed out' : `exit ${last.code}`;
      if (last.code === 0) {
        try {
          answer = String((JSON.parse(last.stdout) as { verdict: { code: string | null } }).verdict.code ?? 'UNDETERMINED');
        } catch {
          answer = 'unparsable output';
        }
      } else answer += ` ${last.stderr.trim().split('\n')[0]?.slice(0, 50) ?? ''}`;
      console.log(`  ${row([j.label, answer, ms(wallOf(j)), ms(cpuOf(j)), rss(rssOf(j))], w)}`);
    }
    for (const j of [...ist, ...naive]) {
      const last = j.samples.at(-1)!;
      let answer = last.timedOut ? `timed out (${j.timeoutS} s)` : last.code === 0 ? `${mb(Buffer.byteLength(last.stdout))} out` : `exit ${last.code} ${last.stderr.trim().split('\n').at(-1)?.slice(0, 60) ?? ''}`;
      if (j.label.startsWith('node')) answer = last.code === 0 ? `${last.stdout.trim()} entries` : last.code === 2 ? `fails: ${last.stdout.trim().slice(0, 52)}` : answer;
      console.log(`  ${row([j.label, answer, ms(wallOf(j)), ms(cpuOf(j)), rss(rssOf(j))], w)}`);
    }
    const slowest = Math.max(...trace.map(wallOf));
    const slowestCpu = Math.max(...trace.map(cpuOf));
    const traceRss = Math.max(...trace.map(rssOf));
    const okIst = ist.filter((j) => Number.isFinite(wallOf(j)));
    if (okIst.length) {
      const fastest = okIst.reduce((a, b) => (wallOf(a) <= wallOf(b) ? a : b));
      const fastestCpu = Math.min(...okIst.map(cpuOf));
      const lowestRss = Math.min(...okIst.map(rssOf));
      console.log(`  => slowest trace vs fastest istioctl call (${fastest.label.split(' ')[2]}): wall ${ms(slowest)} vs ${ms(wallOf(fastest))} = ${times(wallOf(fastest) / slowest)} faster, CPU ${ms(slowestCpu)} vs ${ms(fastestCpu)} = ${times(fastestCpu / slowestCpu)}; peak RSS ${rss(traceRss)} vs istioctl's lowest ${rss(lowestRss)} (${times(traceRss / lowestRss)})`);
    } else if (ist.length) console.log('  => istioctl answered none of the calls on this file');
    results.push({ dump: d, size, trace, istioctl: ist });
  }
  console.log('');
  scaling(results);
  return results;
}

/** Growth from the smallest to the largest synthetic mesh below V8's string limit. */
function scaling(results: DumpResult[]): void {
  const syn = results.filter((r) => r.dump.services && !r.dump.oversized);
  if (syn.length < 2) return;
  const a = syn[0]!;
  const b = syn.at(-1)!;
  const sizeX = b.size / a.size;
  const avg = (js: Job[], f: (j: Job) => number): number => js.map(f).reduce((x, y) => x + y, 0) / js.length;
  const wallX = avg(b.trace, wallOf) / avg(a.trace, wallOf);
  const cpuX = avg(b.trace, cpuOf) / avg(a.trace, cpuOf);
  const rssX = avg(b.trace, rssOf) / avg(a.trace, rssOf);
  console.log(`SCALING ${a.dump.services! / 1000}k -> ${b.dump.services! / 1000}k services: the dump grows x${sizeX.toFixed(1)} (${mb(a.size)} -> ${mb(b.size)}); means over the destinations`);
  const w = [40, 12, 12, 12];
  console.log(`  ${row(['', 'wall', 'CPU', 'peak RSS'], w)}`);
  for (const r of syn) console.log(`  ${row([`trace, ${r.dump.name}`, ms(avg(r.trace, wallOf)), ms(avg(r.trace, cpuOf)), rss(avg(r.trace, rssOf))], w)}`);
  console.log(`  ${row([`growth (dump x${sizeX.toFixed(1)})`, `x${wallX.toFixed(2)}`, `x${cpuX.toFixed(2)}`, `x${rssX.toFixed(2)}`], w)}`);
  // marginal cost per MB between consecutive sizes: flat or falling = linear or better
  const marg = syn.slice(1).map((r, i) => {
    const p = syn[i]!;
    const dMb = (r.size - p.size) / 1048576;
    return `${p.dump.services! / 1000}k->${r.dump.services! / 1000}k ${((avg(r.trace, cpuOf) - avg(p.trace, cpuOf)) / dMb).toFixed(1)} ms CPU/MB, ${((avg(r.trace, rssOf) - avg(p.trace, rssOf)) / dMb).toFixed(2)} MB RSS/MB`;
  });
  console.log(`  marginal cost (flat or falling = linear or better): ${marg.join('; ')}`);
  const ia = a.istioctl.filter((j) => Number.isFinite(wallOf(j)));
  const ib = b.istioctl.filter((j) => Number.isFinite(wallOf(j)));
  if (ia.length && ib.length) console.log(`  istioctl (mean of its calls) for comparison: wall x${(avg(ib, wallOf) / avg(ia, wallOf)).toFixed(2)}, CPU x${(avg(ib, cpuOf) / avg(ia, cpuOf)).toFixed(2)}, peak RSS x${(avg(ib, rssOf) / avg(ia, rssOf)).toFixed(2)}`);
  const cpuKnown = Number.isFinite(cpuX);
  const linear = (cpuKnown ? cpuX : wallX) <= sizeX && wallX <= sizeX && rssX <= sizeX;
  targets.push({ what: `offline trace: time and memory grow no faster than the dump (${a.dump.services! / 1000}k -> ${b.dump.services! / 1000}k services)`, met: linear, detail: `dump x${sizeX.toFixed(1)}: wall x${wallX.toFixed(2)}, CPU x${cpuX.toFixed(2)}, peak RSS x${rssX.toFixed(2)}` });
  console.log('');
}

function offlineTargets(results: DumpResult[]): void {
  const big = results.find((r) => r.dump.services === 20000);
  if (big) {
    const slowest = Math.max(...big.trace.map(wallOf));
    const traceRss = Math.max(...big.trace.map(rssOf));
    const ok = big.istioctl.filter((j) => Number.isFinite(wallOf(j)));
    if (ok.length) {
      const fastest = Math.min(...ok.map(wallOf));
      const cpuRatio = Math.min(...ok.map(cpuOf)) / Math.max(...big.trace.map(cpuOf));
      const lowestRss = Math.min(...ok.map(rssOf));
      targets.push({ what: 'offline trace on the 20k dump >= 5x faster than the fastest istioctl proxy-config call', met: fastest / slowest >= 5, detail: `wall ${times(fastest / slowest)} (slowest trace ${ms(slowest)}, fastest istioctl ${ms(fastest)}); CPU ${times(cpuRatio)}` });
      targets.push({ what: 'offline trace on the 20k dump: peak RSS below istioctl\'s', met: traceRss < lowestRss, detail: `${rss(traceRss)} vs ${rss(lowestRss)} (${times(traceRss / lowestRss)})` });
    } else {
      targets.push({ what: 'offline trace on the 20k dump vs istioctl', met: undefined, detail: 'istioctl not available' });
    }
  }
  const over = results.find((r) => r.dump.oversized);
  if (over) {
    const ok = over.trace.every((j) => j.samples.length > 0 && j.samples.every((s) => s.code === 0));
    targets.push({ what: 'a dump larger than V8\'s maximum string length traced without crashing', met: ok, detail: `${mb(over.size)}: ${over.trace.map((j) => `${ms(wallOf(j))} / ${rss(rssOf(j))}`).join(', ')}` });
  } else targets.push({ what: 'a dump larger than V8\'s maximum string length traced without crashing', met: undefined, detail: 'skipped (--quick)' });
}

// ---- report ------------------------------------------------------------------------------------

async function main(): Promise<void> {
  fs.mkdirSync(cache, { recursive: true });
  const { bundle } = (await import(path.join(root, 'scripts', 'build.mjs'))) as { bundle: (o: { outfile: string }) => Promise<void> };
  await bundle({ outfile: cli });
  const load = (): string => os.loadavg().map((x) => x.toFixed(1)).join(' ');
  console.log(`kubectl-mesh_egress benchmark${quick ? ' (--quick smoke run)' : ''} — node ${process.version}, ${os.cpus().length} cpu(s), ${(os.totalmem() / 2 ** 30).toFixed(0)} GB, load average (1/5/15 min) ${load()} at start`);
  console.log('');
  if (sections.has('cold')) coldStart();
  if (sections.has('offline')) offlineTargets(offline());
  if (sections.has('live')) {
    const { liveBench } = await import('./live.js');
    targets.push(...(await liveBench({ cli, root, quick })));
  }
  console.log(`load average (1/5/15 min) at the end: ${load()} (on a loaded machine wall times stretch; CPU times and ratios within one run hold)`);
  console.log('');
  if (targets.length) {
    console.log('TARGETS (issue 10)');
    for (const t of targets) console.log(`  [${t.met === undefined ? 'n/a ' : t.met ? 'met ' : 'MISS'}] ${t.what}: ${t.detail}`);
  }
}

await main();
