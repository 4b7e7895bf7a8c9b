// npm run verify:krew — the release archives and their manifest, checked by krew itself:
//   1. builds krew and validate-krew-manifest (v0.4.4, pinned by krew-manifest/tools/go.mod) from
//      the Go module proxy into a cache outside the repository (a minute the first time);
//   2. builds the release from the current sources (scripts/build-binary.mjs --release); with
//      --no-build it checks what dist/release holds (a release runner's signed, repacked archives);
//   3. validate-krew-manifest on dist/release/plugin.yaml (krew's structural rules, platform
//      selectors, no overlaps);
//   4. for every platform: `kubectl krew install --manifest=… --archive=…` with KREW_OS/KREW_ARCH
//      set to it, in a throw-away KREW_ROOT; the LICENSE, the binary and the completion
//      executable must be installed;
//   5. on this machine's platform, through kubectl: `kubectl plugin list` lists the plugin,
//      `kubectl mesh-egress version` and `--help` work, and completion works once the caveats'
//      recipe has been followed;
//   6. the committed plugin.yaml is the generator's output (generate.mjs --check); whether its
//      sha256 values equal this build's is reported (they do when built from the same sources).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { archiveName, binName, caveats, PLATFORMS, PLUGIN_NAME, packageVersion, platformsFromManifest, renderManifest } from './generate.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const releaseDir = path.join(root, 'dist', 'release');
const KREW_VERSION = 'v0.4.4';
const cacheBase = process.env.MESH_EGRESS_CACHE ?? path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'), 'mesh-egress');
const gobin = path.join(cacheBase, `krew-${KREW_VERSION}`, 'bin');

let failures = 0;
function ok(msg) {
  console.log(`ok    ${msg}`);
}
function fail(msg) {
  failures++;
  console.log(`FAIL  ${msg}`);
}
function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 << 20, ...opts });
  return { code: r.status, out: `${r.stdout ?? ''}${r.stderr ?? ''}`, stdout: r.stdout ?? '', error: r.error };
}

function buildKrew() {
  const krew = path.join(gobin, 'krew');
  const validator = path.join(gobin, 'validate-krew-manifest');
  if (fs.existsSync(krew) && fs.existsSync(validator)) return { krew, validator };
  if (run('go', ['version']).code !== 0) throw new Error('Go is needed to build krew (go install from the module proxy); none on PATH');
  console.log(`building krew ${KREW_VERSION} and validate-krew-manifest into ${gobin} ...`);
  const t0 = Date.now();
  const r = run('go', ['install', 'sigs.k8s.io/krew/cmd/krew', 'sigs.k8s.io/krew/cmd/validate-krew-manifest'], {
    cwd: path.join(root, 'krew-manifest', 'tools'),
    env: { ...process.env, GOBIN: gobin, GOFLAGS: '-mod=readonly' },
  });
  if (r.code !== 0) throw new Error(`go install failed:\n${r.out}`);
  console.log(`built in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  return { krew, validator };
}

function main() {
  const version = packageVersion();
  const { krew, validator } = buildKrew();
  if (!process.argv.includes('--no-build')) {
    console.log('building the release (scripts/build-binary.mjs --release) ...');
    const b = run(process.execPath, [path.join(root, 'scripts', 'build-binary.mjs'), '--release'], { stdio: ['ignore', 'ignore', 'inherit'] });
    if (b.code !== 0) throw new Error('the release build failed');
  } else if (!fs.existsSync(path.join(releaseDir, 'plugin.yaml'))) throw new Error('--no-build: dist/release/plugin.yaml is missing');
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mesh-egress-krew-'));
  try {
    // kubectl finds krew as the plugin kubectl-krew
    const tools = path.join(tmp, 'tools');
    fs.mkdirSync(tools);
    fs.symlinkSync(krew, path.join(tools, 'kubectl-krew'));
    // validate-krew-manifest takes the plugin name from the file name
    const manifest = path.join(tmp, `${PLUGIN_NAME}.yaml`);
    const manifestText = fs.readFileSync(path.join(releaseDir, 'plugin.yaml'), 'utf8');
    fs.writeFileSync(manifest, manifestText);
    const v = run(validator, ['-manifest', manifest, '-skip-install']);
    if (v.code === 0) ok(`validate-krew-manifest ${KREW_VERSION}: ${v.out.split('\n').filter((l) => /OK|no overlapping|are used/.test(l)).map((l) => l.replace(/^[IWE]\d{4} [^\]]*\] /, '')).join('; ')}`);
    else fail(`validate-krew-manifest:\n${v.out}`);

    const host = { os: { win32: 'windows' }[process.platform] ?? process.platform, arch: { x64: 'amd64' }[process.arch] ?? process.arch };
    const inManifest = platformsFromManifest(manifestText);
    for (const { os: o, arch } of PLATFORMS) {
      const archive = path.join(releaseDir, archiveName(o, arch));
      if (!inManifest.some((p) => p.os === o && p.arch === arch)) {
        if (fs.existsSync(archive)) fail(`${o}/${arch}: ${path.basename(archive)} exists but is not in the manifest`);
        continue;
      }
      const krewRoot = path.join(tmp, `root-${o}-${arch}`);
      const env = { PATH: `${tools}:${process.env.PATH}`, HOME: process.env.HOME ?? tmp, KREW_ROOT: krewRoot, KREW_OS: o, KREW_ARCH: arch };
      const i = run('kubectl', ['krew', 'install', `--manifest=${manifest}`, `--archive=${archive}`], { env });
      if (i.code !== 0) {
        fail(`${o}/${arch}: kubectl krew install --manifest --archive:\n${i.out}`);
        continue;
      }
      const store = path.join(krewRoot, 'store', PLUGIN_NAME, `v${version}`);
      const want = [binName(o), o === 'windows' ? 'kubectl_complete-mesh_egress.cmd' : 'kubectl_complete-mesh_egress', 'LICENSE', 'THIRD_PARTY_NOTICES'];
      const missing = want.filter((f) => !fs.existsSync(path.join(store, f)));
      const link = path.join(krewRoot, 'bin', `kubectl-mesh_egress${o === 'windows' ? '.exe' : ''}`);
      if (missing.length) fail(`${o}/${arch}: installed, but ${missing.join(', ')} missing in ${store}`);
      else if (!fs.existsSync(link)) fail(`${o}/${arch}: installed, but no ${path.relative(krewRoot, link)}`);
      else ok(`${o}/${arch}: kubectl krew install --manifest --archive (sha256 checked by krew); ${want.join(', ')} installed, ${path.relative(krewRoot, link)} linked`);

      if (o !== host.os || arch !== host.arch) continue;
      // this machine: run it the way a user does
      const userEnv = { ...process.env, PATH: `${path.join(krewRoot, 'bin')}:${tools}:${process.env.PATH}`, KREW_ROOT: krewRoot };
      delete userEnv.KREW_OS;
      delete userEnv.KREW_ARCH;
      const list = run('kubectl', ['plugin', 'list'], { env: userEnv });
      if (list.stdout.includes(link)) ok(`kubectl plugin list finds ${path.relative(krewRoot, link)}`);
      else fail(`kubectl plugin list does not list ${link}:\n${list.out}`);
      const ver = run('kubectl', ['mesh-egress', 'version'], { env: userEnv });
      if (ver.code === 0 && ver.stdout.startsWith(`kubectl-mesh_egress ${version}\nruntime: node v`) && /\nkubectl: /.test(ver.stdout)) ok(`kubectl mesh-egress version: ${ver.stdout.trim().split('\n').join(' | ')}`);
      else fail(`kubectl mesh-egress version (exit ${ver.code}):\n${ver.out}`);
      const help = run('kubectl', ['mesh-egress', '--help'], { env: userEnv });
      if (help.code === 0 && help.stdout.includes('Usage: kubectl mesh-egress') && !/kubectl-mesh_egress|node /.test(help.stdout)) ok('kubectl mesh-egress --help names the command "kubectl mesh-egress"');
      else fail(`kubectl mesh-egress --help (exit ${help.code}):\n${help.out}`);
      // completion: follow the caveats' recipe in this KREW_ROOT, then ask kubectl
      const recipe = caveats().split('\n').filter((l) => /^\s+(f=|printf|chmod)/.test(l)).map((l) => l.trim()).join('\n');
      const r = run('sh', ['-c', recipe], { env: userEnv });
      const comp = run('kubectl', ['__complete', 'mesh-egress', 'tr'], { env: userEnv });
      if (r.code === 0 && /^trace\t/m.test(comp.stdout) && /^:4$/m.test(comp.stdout)) ok('completion: after the caveats recipe, kubectl __complete mesh-egress tr → trace');
      else fail(`completion (recipe exit ${r.code}):\n${r.out}\n${comp.out}`);
      const flags = run('kubectl', ['__complete', 'mesh-egress', 'trace', '-o', ''], { env: userEnv });
      if (/^json$/m.test(flags.stdout)) ok('completion: kubectl __complete mesh-egress trace -o "" → table, wide, json, yaml');
      else fail(`completion of -o values:\n${flags.out}`);
    }

    // the committed manifest
    const committedFile = path.join(root, 'plugin.yaml');
    if (!fs.existsSync(committedFile)) fail('plugin.yaml (top level) is missing: npm run release -- --write-manifest');
    else {
      const committed = fs.readFileSync(committedFile, 'utf8');
      const theirs = platformsFromManifest(committed);
      if (renderManifest(version, theirs) === committed) ok(`plugin.yaml is generate.mjs output for v${version} (${theirs.map((p) => `${p.os}/${p.arch}`).join(', ')})`);
      else fail('plugin.yaml differs from what krew-manifest/generate.mjs writes for its own sha256 values: regenerate it, never edit it');
      const same = theirs.length === inManifest.length && theirs.every((p) => inManifest.some((q) => q.os === p.os && q.arch === p.arch && q.sha256 === p.sha256));
      console.log(same ? 'info  plugin.yaml sha256 values equal this build (the release build is reproducible)' : 'info  plugin.yaml sha256 values are from another build (sources changed since it was written): expected between releases');
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  if (failures) {
    console.log(`\n${failures} check(s) failed`);
    process.exitCode = 1;
  } else console.log('\nkrew verification passed');
}

try {
  main();
} catch (e) {
  console.error(`verify:krew: ${e.message}`);
  process.exitCode = 1;
}
