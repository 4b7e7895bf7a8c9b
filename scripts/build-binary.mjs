// Single executables of the CLI: the esbuild bundle (scripts/build.mjs) embedded in a Node.js LTS
// runtime from the npm registry (scripts/node-runtime.mjs), with Node's own `--build-sea`.
//
//   node scripts/build-binary.mjs             this machine's binary: dist/kubectl-mesh_egress
//        [--out FILE]                         (+ dist/kubectl_complete-mesh_egress), or FILE
//   node scripts/build-binary.mjs --release   every platform with a runtime: dist/release/
//        [--targets linux-x64,win-x64]        kubectl-mesh_egress_<os>_<arch>.tar.gz (.zip for
//        [--write-manifest]                   Windows), checksums.txt, plugin.yaml; the host
//                                             binary also lands in dist/; --write-manifest also
//                                             rewrites the top-level plugin.yaml. With --targets
//                                             the other platforms' folders are kept.
//   node scripts/build-binary.mjs --package-only [--write-manifest]
//                                             archives, checksums and manifest again from the
//                                             folders in dist/release (after signing binaries)
//
// The blob is always made by the pinned runtime of this machine (never by the Node running this
// script): `--build-sea` needs the same Node version as the executable it injects into. For this
// machine's platform the V8 code cache is on; for the others it is off, since a code cache only
// loads on the platform that produced it (Node: "useCodeCache ... must be set to false" for
// cross-platform SEAs). --random-seed=1 makes the code cache, hence the binary, reproducible.
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { archiveName, packageVersion, platformsFromArchives, renderManifest } from '../krew-manifest/generate.mjs';
import { bundle } from './build.mjs';
import { available, fetchRuntime, hostTarget, readPins, TARGETS } from './node-runtime.mjs';
import { writeTarGz, writeZip } from './packaging/archive.mjs';
import { noticesText } from './packaging/notices.mjs';
import { copyWithoutAuthenticode } from './packaging/pe.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = path.join(root, 'dist');
const work = path.join(dist, 'sea');
const releaseDir = path.join(dist, 'release');
const packaging = path.join(root, 'scripts', 'packaging');

const args = process.argv.slice(2);
const release = args.includes('--release');
const writeManifest = args.includes('--write-manifest');
const packageOnly = args.includes('--package-only');
const targetsArg = args.includes('--targets') ? args[args.indexOf('--targets') + 1] : undefined;
// --out FILE: where this machine's binary goes (default dist/kubectl-mesh_egress); the benchmark
// builds its own so that it can time both the binary and the node-launched bundle
const outArg = args.includes('--out') ? path.resolve(args[args.indexOf('--out') + 1]) : undefined;
const log = (m) => console.error(m);

function sha256(file) {
  return crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

function run(cmd, argv, opts = {}) {
  const r = spawnSync(cmd, argv, { encoding: 'utf8', maxBuffer: 64 << 20, ...opts });
  return { code: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '', error: r.error };
}

/** How to run a binary of `target` on this machine, if at all (natively, or arm64 under qemu-user). */
function runnerFor(target) {
  const host = hostTarget();
  // MESH_EGRESS_KUBECTL: `version` need not find a kubectl for the smoke test
  const env = { ...process.env, MESH_EGRESS_KUBECTL: 'kubectl-not-needed-for-the-smoke-test' };
  if (target === host) return (bin, argv) => run(bin, argv, { env });
  if (target === 'linux-arm64' && host === 'linux-x64') {
    const qemu = ['qemu-aarch64-static', 'qemu-aarch64'].map((q) => run('sh', ['-c', `command -v ${q}`]).stdout.trim()).find(Boolean);
    const sysroot = '/usr/aarch64-linux-gnu';
    if (qemu && fs.existsSync(path.join(sysroot, 'lib', 'ld-linux-aarch64.so.1'))) return (bin, argv) => run(qemu, ['-L', sysroot, bin, ...argv], { env });
  }
  return undefined;
}

/** The injection itself: Node's fuse flipped, and the bundle inside (it is stored as is). */
function checkInjected(target, bin, main) {
  const data = fs.readFileSync(bin);
  if (!data.includes('NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2:1')) throw new Error(`${target}: ${bin} has no flipped SEA fuse`);
  if (!data.includes(fs.readFileSync(main).subarray(0, 4096))) throw new Error(`${target}: the bundle is not inside ${bin}`);
}

/** --version and `version -o json` of a freshly built binary; throws when they are wrong. */
function smokeTest(target, bin, expectCodeCache) {
  const exec = runnerFor(target);
  if (!exec) return 'not run (cannot execute this platform here; fuse and bundle checked)';
  const v = exec(bin, ['--version']);
  if (target !== hostTarget() && v.code === 127 && /error while loading shared libraries/.test(v.stderr)) {
    return `not run (the emulator's sysroot lacks a library: ${v.stderr.trim().split(': ').at(-2) ?? v.stderr.trim()})`;
  }
  const want = `kubectl-mesh_egress ${packageVersion()}\n`;
  if (v.code !== 0 || v.stdout !== want) throw new Error(`${target}: ${bin} --version gave exit ${v.code}, ${JSON.stringify(v.stdout)} ${v.stderr}${v.error?.message ?? ''}`);
  // a rejected code cache is reported on stderr ("Code cache data rejected")
  if (v.stderr !== '') throw new Error(`${target}: ${bin} --version wrote to stderr: ${v.stderr}`);
  const j = exec(bin, ['version', '-o', 'json']);
  const info = JSON.parse(j.stdout);
  if (info.runtime.node !== readPins().version || info.runtime.singleExecutable !== true) throw new Error(`${target}: version -o json reports ${JSON.stringify(info.runtime)}`);
  return `ok (--version, version: node ${info.runtime.node}, single executable${expectCodeCache ? ', code cache accepted' : ''})`;
}

async function main() {
  const version = packageVersion();
  if (packageOnly) return packageRelease(version);
  const host = hostTarget();
  const all = Object.keys(TARGETS).filter((t) => available(t));
  const targets = targetsArg ? targetsArg.split(',') : release ? all : [host];
  for (const t of targets) if (!TARGETS[t]) throw new Error(`unknown target ${t} (known: ${Object.keys(TARGETS).join(', ')})`);
  if (!available(host)) {
    throw new Error(`this machine (${host}) has no pinned Node ${readPins().version} runtime to build with: ${readPins().unavailable?.[host] ?? ''}`);
  }

  fs.rmSync(work, { recursive: true, force: true });
  fs.mkdirSync(work, { recursive: true });
  // a full release starts from nothing; with --targets the other platforms' folders stay (a
  // release runner may have put binaries built elsewhere there)
  if (release && !targetsArg) fs.rmSync(releaseDir, { recursive: true, force: true });
  const major = readPins().version.split('.')[0];
  const main = path.join(work, 'kubectl-mesh_egress.cjs');
  const metafile = await bundle({ outfile: main, target: `node${major}`, shebang: false });
  const builder = fetchRuntime(host, { log });
  log(`bundle ${path.relative(root, main)} (${fs.statSync(main).size} bytes); blobs made by ${builder.source}`);

  const results = [];
  for (const target of targets) {
    const t = TARGETS[target];
    const runtime = fetchRuntime(target, { log });
    const outDir = release ? path.join(releaseDir, `${t.os}_${t.arch}`) : outArg ? path.dirname(outArg) : dist;
    fs.mkdirSync(outDir, { recursive: true });
    const out = !release && outArg ? outArg : path.join(outDir, t.sea);
    let executable = runtime.node;
    if (t.os === 'windows') {
      executable = path.join(work, `node-${target}.exe`);
      copyWithoutAuthenticode(runtime.node, executable);
    }
    const useCodeCache = target === host;
    const config = {
      main,
      mainFormat: 'commonjs',
      executable,
      output: out,
      disableExperimentalSEAWarning: true,
      useSnapshot: false,
      useCodeCache,
      // NODE_OPTIONS of the user's shell must not reach the plugin (a --require there would break it)
      execArgvExtension: 'none',
    };
    const configFile = path.join(work, `sea-config-${target}.json`);
    fs.writeFileSync(configFile, `${JSON.stringify(config, null, 2)}\n`);
    const t0 = Date.now();
    const b = run(builder.node, ['--random-seed=1', '--build-sea', configFile], { env: { ...process.env, NODE_OPTIONS: '' } });
    if (b.code !== 0) throw new Error(`${target}: --build-sea failed (exit ${b.code}):\n${b.stdout}${b.stderr}${b.error?.message ?? ''}`);
    fs.chmodSync(out, 0o755);
    checkInjected(target, out, main);
    const smoke = smokeTest(target, out, useCodeCache);
    // the completion executable kubectl runs: a shell script, or a .cmd on Windows
    const completion = t.os === 'windows' ? 'kubectl_complete-mesh_egress.cmd' : 'kubectl_complete-mesh_egress';
    fs.copyFileSync(path.join(packaging, completion), path.join(outDir, completion));
    fs.chmodSync(path.join(outDir, completion), 0o755);
    results.push({ target, t, out, outDir, completion, runtime, useCodeCache, smoke, seconds: (Date.now() - t0) / 1000 });
    log(`${target}: ${path.relative(root, out)} (${(fs.statSync(out).size / 1048576).toFixed(1)} MiB, code cache ${useCodeCache ? 'on' : 'off'}, ${((Date.now() - t0) / 1000).toFixed(1)} s); smoke test ${smoke}`);
  }

  if (release) {
    // the licences of what the bundle contains, kept beside the per-platform folders so that a
    // later --package-only (after signing) packs the same file
    const nodeLicense = results.find((r) => r.runtime.license)?.runtime.license ?? (available('linux-x64') ? fetchRuntime('linux-x64').license : undefined);
    fs.writeFileSync(path.join(releaseDir, 'THIRD_PARTY_NOTICES'), noticesText({ root, metafile, nodeVersion: readPins().version, nodeLicenseFile: nodeLicense }));
    // this machine's binary also at the usual place, for the tests (MESH_EGRESS_BIN)
    const mine = results.find((r) => r.target === host);
    if (mine) {
      fs.copyFileSync(mine.out, path.join(dist, mine.t.sea));
      fs.copyFileSync(path.join(mine.outDir, mine.completion), path.join(dist, mine.completion));
      fs.chmodSync(path.join(dist, mine.t.sea), 0o755);
      fs.chmodSync(path.join(dist, mine.completion), 0o755);
    }
    packageRelease(version);
  } else {
    // the plain bundle's dist/package.json ("type": "commonjs") is harmless next to a binary
    console.log(`built ${results.map((r) => path.relative(process.cwd(), r.out)).join(', ')} and ${path.relative(process.cwd(), path.join(results[0].outDir, results[0].completion))}`);
  }
}

/**
 * Archives every platform folder in dist/release (<os>_<arch>/: the binary and its completion
 * executable), each with LICENSE and THIRD_PARTY_NOTICES; then checksums.txt and plugin.yaml.
 * Run alone (--package-only) after a release runner has signed binaries in those folders.
 */
function packageRelease(version) {
  const license = path.join(root, 'LICENSE');
  const notices = path.join(releaseDir, 'THIRD_PARTY_NOTICES');
  if (!fs.existsSync(notices)) throw new Error(`${path.relative(root, notices)} is missing: build with --release first`);
  const archives = [];
  for (const [target, t] of Object.entries(TARGETS)) {
    const dir = path.join(releaseDir, `${t.os}_${t.arch}`);
    const bin = path.join(dir, t.sea);
    const completion = t.os === 'windows' ? 'kubectl_complete-mesh_egress.cmd' : 'kubectl_complete-mesh_egress';
    const archive = path.join(releaseDir, archiveName(t.os, t.arch));
    fs.rmSync(archive, { force: true });
    if (!fs.existsSync(bin)) continue;
    const entries = [
      { name: t.sea, file: bin, mode: 0o755 },
      { name: completion, file: path.join(dir, completion), mode: 0o755 },
      { name: 'LICENSE', file: license, mode: 0o644 },
      { name: 'THIRD_PARTY_NOTICES', file: notices, mode: 0o644 },
    ];
    const t0 = Date.now();
    if (t.os === 'windows') writeZip(archive, entries);
    else writeTarGz(archive, entries);
    archives.push(archive);
    log(`${target}: ${path.relative(root, archive)} (${(fs.statSync(archive).size / 1048576).toFixed(1)} MiB, ${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  }
  if (archives.length === 0) throw new Error(`no platform folders in ${path.relative(root, releaseDir)}`);
  const sums = archives.map((a) => `${sha256(a)}  ${path.basename(a)}\n`).join('');
  fs.writeFileSync(path.join(releaseDir, 'checksums.txt'), sums);
  const manifest = renderManifest(version, platformsFromArchives(releaseDir));
  fs.writeFileSync(path.join(releaseDir, 'plugin.yaml'), manifest);
  if (writeManifest) fs.writeFileSync(path.join(root, 'plugin.yaml'), manifest);
  const packed = new Set(archives.map((a) => path.basename(a)));
  const missing = Object.entries(TARGETS).filter(([, t]) => !packed.has(archiveName(t.os, t.arch)));
  console.log(`\nrelease v${version} (Node ${readPins().version}) in ${path.relative(process.cwd(), releaseDir)}/:`);
  process.stdout.write(sums);
  console.log(`manifest: ${path.relative(process.cwd(), path.join(releaseDir, 'plugin.yaml'))}${writeManifest ? ' (and plugin.yaml)' : ''}`);
  if (missing.length) console.log(`not built: ${missing.map(([target]) => `${target} (${readPins().unavailable?.[target] ?? 'not requested'})`).join('; ')}`);
}

main().catch((e) => {
  console.error(`build-binary: ${e.message}`);
  process.exitCode = 1;
});
