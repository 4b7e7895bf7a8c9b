/**
 * LIVE section of npm run bench: the CLI (dist/kubectl-mesh_egress, a child process) with the real
 * kubectl against the e2e test server (test/e2e/server) and its Envoy admin emulator, which
 * serves the 5k-service synthetic mesh under Envoy's config_dump rules (resource, mask,
 * name_regex, include_eds). Every API request waits BENCH_LIVE_LATENCY_MS (50 ms) first.
 *
 * Per verb and destination: time to verdict (wall time of the CLI process), kubectl invocations
 * (counted by a wrapper that MESH_EGRESS_KUBECTL points to, then exec'ing the real kubectl),
 * bytes the proxy answered (summed in the emulator), admin requests. Baseline: one full
 * `config_dump?include_eds` through the same path (kubectl exec ... pilot-agent request GET), which
 * is what a tool that reads the whole configuration starts with.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ensureMeshDump, services } from './synthetic-mesh.js';
import { row } from './table.js';

export interface LiveTarget {
  readonly what: string;
  readonly met: boolean | undefined;
  readonly detail: string;
}

interface RunResult {
  readonly ms: number;
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly kubectl: number;
  readonly proxyBytes: number;
  readonly adminRequests: number;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function size(bytes: number): string {
  return bytes >= 1048576 ? `${(bytes / 1048576).toFixed(1)} MB` : `${(bytes / 1024).toFixed(1)} KB`;
}

function run(cmd: string, args: readonly string[], env: NodeJS.ProcessEnv, timeoutMs: number): Promise<{ ms: number; code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ ms: Number(process.hrtime.bigint() - t0) / 1e6, code, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') });
    });
  });
}

/** What a verb answered, in a few words. */
function answerOf(verb: string, r: RunResult): string {
  if (r.code !== 0 && r.code !== 79) return `exit ${r.code}: ${r.stderr.trim().split('\n')[0]?.slice(0, 70) ?? ''}`;
  try {
    const doc = JSON.parse(r.stdout) as { verdict?: { code?: string | null }; findings?: { code: string }[]; kind?: string };
    if (verb === 'trace') return String(doc.verdict?.code ?? 'UNDETERMINED');
    const codes = (doc.findings ?? []).map((f) => f.code);
    return `${doc.kind ?? 'report'}${codes.length ? `: ${[...new Set(codes)].slice(0, 3).join(',')}${codes.length > 3 ? ',...' : ''}` : ''}`;
  } catch {
    return 'unparsable output';
  }
}

export async function liveBench(o: { cli: string; root: string; quick?: boolean }): Promise<LiveTarget[]> {
  const latencyMs = Number(process.env.BENCH_LIVE_LATENCY_MS ?? 50);
  const rounds = Number(process.env.BENCH_LIVE_RUNS ?? (o.quick ? 1 : 3));
  const n = 5000;
  console.log(`LIVE: ${n}-service mesh behind the Envoy admin emulator, e2e test API server adding ${latencyMs} ms to every request, real kubectl; medians of ${rounds}`);
  const srvMod = await import('../test/e2e/server/index.js');
  let kubectl: string;
  try {
    kubectl = srvMod.kubectlPath('newest');
  } catch (e) {
    console.log(`(live section skipped: ${(e as Error).message})`);
    console.log('');
    return [{ what: 'live trace reads <= 5% of a full config_dump?include_eds (5k mesh)', met: undefined, detail: 'no kubectl' }];
  }
  const dump = ensureMeshDump(n);
  const svcs = services(n);
  const client = srvMod.workload({ name: 'bench-client', namespace: 'team-0', sidecar: true });
  const pod = client.pods[0]!.metadata!.name!;
  const namespaces = [...new Set(svcs.map((s) => s.ref.namespace))];
  const objects = [
    ...namespaces.map((ns) => srvMod.namespace(ns, ns === 'team-0' ? { 'istio-injection': 'enabled' } : {})),
    srvMod.namespace('istio-system'),
    srvMod.meshConfigMap({ outboundTrafficPolicy: 'ALLOW_ANY' }),
    ...client.all,
    ...svcs.map((s) =>
      srvMod.service({
        name: s.ref.name,
        namespace: s.ref.namespace,
        clusterIP: s.vip,
        ports: s.ports.map((p) => ({ port: p.port, name: p.http ? (p.port === 9090 ? 'grpc' : 'http') : 'tcp' })),
        selector: { app: s.ref.name },
      }),
    ),
  ];
  const srv = await srvMod.startTestServer({ clusters: { bench: { objects, sidecars: { [`team-0/${pod}`]: { configDump: dump } } } }, latencyMs });
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mesh-egress-bench-live-'));
  try {
    const admin = srv.cluster('bench').envoy(`team-0/${pod}`)!;
    // The emulator recomputes every answer from the parsed dump (seconds per query on this mesh,
    // on the bench's own event loop, where a real Envoy answers a targeted query in milliseconds):
    // each distinct GET is computed once, in the warm-up round, and replayed after that, so that
    // the times below are kubectl, the API server's latency and the CLI, not the test double.
    const replay = new Map<string, ReturnType<typeof admin.handle>>();
    let served = 0;
    let requests = 0;
    let emulatorMs = 0;
    const handle = admin.handle.bind(admin);
    admin.handle = (method, pathAndQuery, body, via) => {
      requests++;
      const key = method === 'GET' ? pathAndQuery : undefined;
      let r = key === undefined ? undefined : replay.get(key);
      if (!r) {
        const t0 = performance.now();
        r = handle(method, pathAndQuery, body, via);
        emulatorMs += performance.now() - t0;
        if (key !== undefined) replay.set(key, r);
      }
      served += Buffer.byteLength(r.body);
      return r;
    };
    const log = path.join(tmp, 'kubectl.log');
    const wrapper = path.join(tmp, 'kubectl');
    // one line per invocation; with BENCH_LIVE_TIMELINE=1 also when each started and ended
    const timeline = process.env.BENCH_LIVE_TIMELINE === '1';
    fs.writeFileSync(
      wrapper,
      timeline
        ? `#!/bin/sh\nt0=$(date +%s.%N)\n'${kubectl}' "$@"\nrc=$?\necho "$t0 $(date +%s.%N) $*" >> '${log}'\nexit $rc\n`
        : `#!/bin/sh\necho x >> '${log}'\nexec '${kubectl}' "$@"\n`,
      { mode: 0o755 },
    );
    const env: NodeJS.ProcessEnv = { ...process.env, ...srv.kubectlEnv(), MESH_EGRESS_KUBECTL: wrapper, NO_COLOR: '1' };
    delete env.NODE_EXTRA_CA_CERTS;
    const once = async (cmd: string, args: readonly string[], timeoutMs = 600_000): Promise<RunResult> => {
      fs.writeFileSync(log, '');
      const bytes0 = served;
      const req0 = requests;
      const t0 = Date.now() / 1000;
      const r = await run(cmd, args, env, timeoutMs);
      if (timeline && cmd !== wrapper) {
        console.error(`timeline of ${args.slice(1, 3).join(' ')} ${args.at(-5) ?? ''} (${r.ms.toFixed(0)} ms):`);
        for (const line of fs.readFileSync(log, 'utf8').split('\n').filter(Boolean)) {
          const [a, b, ...rest] = line.split(' ');
          console.error(`  ${((Number(a) - t0) * 1000).toFixed(0).padStart(6)} .. ${((Number(b) - t0) * 1000).toFixed(0).padStart(6)} ms  ${rest.join(' ').slice(0, 150)}`);
        }
      }
      return { ...r, kubectl: fs.readFileSync(log, 'utf8').split('\n').filter(Boolean).length, proxyBytes: served - bytes0, adminRequests: requests - req0 };
    };

    const mid = svcs.slice(n / 2);
    const tcp = mid.find((s) => !s.ports[0]!.http)!;
    const http = mid.find((s) => s.ports[0]!.http && s.subsets.length === 0)!;
    const dests = [`${tcp.vip}:${tcp.ports[0]!.port}`, `http://${http.ref.name}.${http.ref.namespace}:${http.ports[0]!.port}/`];
    const verbs: { verb: string; args: (dest: string) => string[] }[] = [
      { verb: 'trace', args: (d) => ['trace', 'deploy/bench-client', '-n', 'team-0', d, '-o', 'json', '--fail-on', 'never'] },
      { verb: 'whyblackhole', args: (d) => ['whyblackhole', 'deploy/bench-client', '-n', 'team-0', d, '-o', 'json'] },
      { verb: 'doctor', args: (d) => ['doctor', 'deploy/bench-client', '-n', 'team-0', d, '-o', 'json'] },
    ];
    const naiveArgs = ['exec', '-n', 'team-0', pod, '-c', 'istio-proxy', '--', 'pilot-agent', 'request', 'GET', 'config_dump?include_eds'];
    const naive: RunResult[] = [];
    const results = new Map<string, RunResult[]>();
    const available = new Map<string, RunResult | true>();
    // round 0 warms up (kubectl's discovery cache, the emulator's answers) and finds which verbs run
    for (let r = 0; r <= rounds; r++) {
      if (r === 0) console.error(`live: warm-up round (the emulator computes each distinct answer once) ...`);
      const n0 = await once(wrapper, naiveArgs);
      if (r > 0) naive.push(n0);
      for (const v of verbs) {
        if (available.get(v.verb) !== undefined && available.get(v.verb) !== true) continue;
        for (const d of dests) {
          // verbs other helpers are still finishing (doctor) must not hold the bench up
          const res = await once(process.execPath, [o.cli, ...v.args(d)], v.verb === 'trace' ? 600_000 : 180_000);
          if (r === 0) {
            if (res.code !== 0 && res.code !== 79 && v.verb !== 'trace') {
              available.set(v.verb, res);
              break;
            }
            available.set(v.verb, true);
            continue;
          }
          const list = results.get(`${v.verb} ${d}`) ?? [];
          list.push(res);
          results.set(`${v.verb} ${d}`, list);
        }
      }
      if (r === 0) console.error(`live: warm-up done (emulator: ${replay.size} distinct answers, ${(emulatorMs / 1000).toFixed(1)} s computing them)`);
    }
    const naiveBytes = median(naive.map((x) => x.proxyBytes));
    const naiveMs = median(naive.map((x) => x.ms));
    const w = [48, 34, 10, 8, 11, 9, 10];
    console.log(`  ${row(['command', 'answer', 'time', 'kubectl', 'from proxy', 'requests', 'of full'], w)}`);
    console.log(`  ${row(['kubectl exec … pilot-agent request GET config_dump?include_eds', '', '', '', '', '', ''], w).trimEnd()}`);
    console.log(`  ${row(['  (baseline: the whole configuration, no verdict)', naive[0]!.code === 0 ? 'full dump' : `exit ${naive[0]!.code}`, `${naiveMs.toFixed(0)} ms`, String(naive[0]!.kubectl), size(naiveBytes), String(naive[0]!.adminRequests), '100%'], w)}`);
    const targets: LiveTarget[] = [];
    for (const v of verbs) {
      const unavailable = available.get(v.verb);
      if (unavailable !== undefined && unavailable !== true) {
        console.log(`  ${row([`${v.verb}`, `not available (${answerOf(v.verb, unavailable).slice(0, 70)})`], w)}`);
        continue;
      }
      for (const d of dests) {
        const list = results.get(`${v.verb} ${d}`);
        if (!list) continue;
        const last = list.at(-1)!;
        const bytes = median(list.map((x) => x.proxyBytes));
        const share = bytes / naiveBytes;
        const t = median(list.map((x) => x.ms));
        const k = median(list.map((x) => x.kubectl));
        console.log(`  ${row([`${v.verb} deploy/bench-client ${d}`, answerOf(v.verb, last), `${t.toFixed(0)} ms`, String(k), size(bytes), String(median(list.map((x) => x.adminRequests))), `${(share * 100).toFixed(2)}%`], w)}`);
        if (v.verb === 'trace') {
          const ok = list.every((x) => x.code === 0);
          targets.push({ what: `live trace ${d} reads <= 5% of the bytes of a full config_dump?include_eds (5k mesh)`, met: ok && share <= 0.05, detail: `${size(bytes)} of ${size(naiveBytes)} = ${(share * 100).toFixed(2)}%; ${k} kubectl calls, ${t.toFixed(0)} ms to the verdict vs ${naiveMs.toFixed(0)} ms to download the full dump alone` });
        }
      }
    }
    console.log('');
    return targets;
  } finally {
    await srv.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}
