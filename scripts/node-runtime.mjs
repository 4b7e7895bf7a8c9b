// The Node.js runtimes embedded in the single executables: the npm registry's node-<os>-<arch>
// packages at the version pinned in scripts/node-runtimes.json, fetched with `npm pack` (they
// carry os/cpu restrictions, so they cannot be installed on another platform) into a cache
// outside the repository, and checked against the pinned sha512 before use.
//
//   node scripts/node-runtime.mjs versions            which LTS versions each package has
//   node scripts/node-runtime.mjs pin 26.10.0         write node-runtimes.json for that version
//   node scripts/node-runtime.mjs fetch [TARGET...]   download + verify + extract; prints the paths
//
// Cache: $MESH_EGRESS_CACHE or $XDG_CACHE_HOME/mesh-egress or ~/.cache/mesh-egress, subfolder
// node-runtimes/. A runtime the registry lacks (darwin-arm64) can be supplied by the release
// runner: MESH_EGRESS_NODE_<TARGET>=/path/to/node (TARGET upper-cased, "-" as "_"), which must be
// the pinned version.
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
export const PINS_FILE = path.join(here, 'node-runtimes.json');

/** krew/Go names of each target, and the file name of node in its package */
export const TARGETS = {
  'linux-x64': { os: 'linux', arch: 'amd64', exe: 'node', sea: 'kubectl-mesh_egress' },
  'linux-arm64': { os: 'linux', arch: 'arm64', exe: 'node', sea: 'kubectl-mesh_egress' },
  'darwin-x64': { os: 'darwin', arch: 'amd64', exe: 'node', sea: 'kubectl-mesh_egress' },
  'darwin-arm64': { os: 'darwin', arch: 'arm64', exe: 'node', sea: 'kubectl-mesh_egress' },
  'win-x64': { os: 'windows', arch: 'amd64', exe: 'node.exe', sea: 'kubectl-mesh_egress.exe' },
};

export function readPins() {
  return JSON.parse(fs.readFileSync(PINS_FILE, 'utf8'));
}

/** The target this machine runs (node-<os>-<arch> naming). */
export function hostTarget() {
  const p = process.platform === 'win32' ? 'win' : process.platform;
  return `${p}-${process.arch}`;
}

export function cacheDir() {
  const base = process.env.MESH_EGRESS_CACHE ?? path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'), 'mesh-egress');
  return path.join(base, 'node-runtimes');
}

function npm(args, opts = {}) {
  const r = spawnSync(process.platform === 'win32' ? 'npm.cmd' : 'npm', args, { encoding: 'utf8', maxBuffer: 64 << 20, ...opts });
  if (r.error) throw new Error(`npm ${args.join(' ')}: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`npm ${args.join(' ')} failed (exit ${r.status}):\n${r.stderr}`);
  return r.stdout;
}

function sha512Integrity(file) {
  const h = crypto.createHash('sha512');
  const fd = fs.openSync(file, 'r');
  const buf = Buffer.alloc(1 << 20);
  try {
    for (let n; (n = fs.readSync(fd, buf, 0, buf.length, null)) > 0; ) h.update(buf.subarray(0, n));
  } finally {
    fs.closeSync(fd);
  }
  return `sha512-${h.digest('base64')}`;
}

/** The override a release runner may give for a target the registry lacks. */
function overrideFor(target) {
  return process.env[`MESH_EGRESS_NODE_${target.toUpperCase().replace(/-/g, '_')}`];
}

/** Is the runtime for `target` obtainable here (pinned on npm, or supplied by the runner)? */
export function available(target) {
  return Boolean(readPins().targets[target] || overrideFor(target));
}

/**
 * Returns { target, version, node, license, source } with `node` the path of the verified
 * runtime executable. Downloads and extracts on first use; later calls hit the cache.
 */
export function fetchRuntime(target, { log = () => {} } = {}) {
  const pins = readPins();
  const t = TARGETS[target];
  if (!t) throw new Error(`unknown target ${target} (known: ${Object.keys(TARGETS).join(', ')})`);
  const override = overrideFor(target);
  if (override) {
    if (!fs.existsSync(override)) throw new Error(`${target}: ${override} (from the environment) does not exist`);
    if (target === hostTarget()) {
      const v = spawnSync(override, ['--version'], { encoding: 'utf8' }).stdout?.trim();
      if (v !== `v${pins.version}`) throw new Error(`${target}: ${override} is Node ${v}, not the pinned v${pins.version}`);
    }
    return { target, version: pins.version, node: override, license: undefined, source: `supplied: ${override}` };
  }
  const pin = pins.targets[target];
  if (!pin) throw new Error(`${target}: no Node ${pins.version} runtime on the npm registry (${pins.unavailable?.[target] ?? 'not pinned'})`);
  const dir = path.join(cacheDir(), `${pin.package}-${pins.version}`);
  const node = path.join(dir, 'package', 'bin', t.exe);
  const stamp = path.join(dir, '.verified');
  if (fs.existsSync(node) && fs.existsSync(stamp) && fs.readFileSync(stamp, 'utf8') === pin.integrity) {
    return { target, version: pins.version, node, license: licenseIn(dir), source: `npm:${pin.package}@${pins.version}` };
  }
  fs.mkdirSync(cacheDir(), { recursive: true });
  const tgz = path.join(cacheDir(), `${pin.package}-${pins.version}.tgz`);
  if (!fs.existsSync(tgz) || sha512Integrity(tgz) !== pin.integrity) {
    log(`fetching ${pin.package}@${pins.version} from the npm registry`);
    fs.rmSync(tgz, { force: true });
    npm(['pack', `${pin.package}@${pins.version}`, '--pack-destination', cacheDir(), '--silent', '--ignore-scripts'], { cwd: cacheDir() });
  }
  const integrity = sha512Integrity(tgz);
  if (integrity !== pin.integrity) {
    fs.rmSync(tgz, { force: true });
    throw new Error(`${pin.package}@${pins.version}: integrity ${integrity} differs from the pinned ${pin.integrity} (scripts/node-runtimes.json): refusing to use it`);
  }
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  const members = [`package/bin/${t.exe}`];
  const listing = spawnSync('tar', ['-tzf', tgz], { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (listing.status === 0 && listing.stdout.split('\n').includes('package/LICENSE')) members.push('package/LICENSE');
  const x = spawnSync('tar', ['-xzf', tgz, '-C', dir, ...members], { encoding: 'utf8' });
  if (x.status !== 0) throw new Error(`extracting ${tgz}: ${x.stderr || x.error?.message}`);
  fs.chmodSync(node, 0o755);
  fs.writeFileSync(stamp, pin.integrity);
  log(`verified ${pin.package}@${pins.version} (${integrity.slice(0, 23)}...)`);
  return { target, version: pins.version, node, license: licenseIn(dir), source: `npm:${pin.package}@${pins.version}` };
}

function licenseIn(dir) {
  const f = path.join(dir, 'package', 'LICENSE');
  return fs.existsSync(f) ? f : undefined;
}

/** node-runtimes.json for `version`: the integrity of each platform package that has it. */
export function pin(version) {
  const pins = { comment: '', version, targets: {}, unavailable: {} };
  for (const target of Object.keys(TARGETS)) {
    const pkg = `node-${target}`;
    let integrity = '';
    try {
      integrity = npm(['view', `${pkg}@${version}`, 'dist.integrity'], { stdio: ['ignore', 'pipe', 'pipe'] }).trim();
    } catch {
      integrity = '';
    }
    if (integrity.startsWith('sha512-')) pins.targets[target] = { package: pkg, integrity };
    else {
      const versions = JSON.parse(npm(['view', pkg, 'versions', '--json']));
      const last = [versions].flat().at(-1);
      pins.unavailable[target] = `the npm package ${pkg} has no ${version} (its newest is ${last}): a release runner supplies the runtime (MESH_EGRESS_NODE_${target.toUpperCase().replace(/-/g, '_')}=/path/to/node, Node ${version})`;
    }
  }
  pins.comment = `The Node.js runtime embedded in the single-executable builds, from the npm registry's node-<os>-<arch> packages (written by: node scripts/node-runtime.mjs pin ${version}; not edited by hand).`;
  return pins;
}

/** For each platform package: the newest version of each major from 22 on. */
export function versions() {
  const out = {};
  for (const target of Object.keys(TARGETS)) {
    const all = [JSON.parse(npm(['view', `node-${target}`, 'versions', '--json']))].flat();
    const byMajor = {};
    for (const v of all) {
      const m = /^(\d+)\.\d+\.\d+$/.exec(v);
      if (m && Number(m[1]) >= 22) byMajor[m[1]] = v;
    }
    out[target] = byMajor;
  }
  return out;
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  const [cmd, ...args] = process.argv.slice(2);
  if (cmd === 'pin') {
    if (!args[0]) throw new Error('usage: node scripts/node-runtime.mjs pin VERSION');
    fs.writeFileSync(PINS_FILE, `${JSON.stringify(pin(args[0]), null, 2)}\n`);
    console.log(`wrote ${path.relative(process.cwd(), PINS_FILE)}`);
  } else if (cmd === 'versions') {
    for (const [target, majors] of Object.entries(versions())) console.log(`${target.padEnd(13)} ${Object.entries(majors).map(([m, v]) => `${m}: ${v}`).join('  ') || '(nothing from 22 on)'}`);
  } else if (cmd === 'fetch') {
    for (const target of args.length ? args : Object.keys(readPins().targets)) {
      const r = fetchRuntime(target, { log: (m) => console.error(m) });
      console.log(`${target}\t${r.node}`);
    }
  } else {
    console.error('usage: node scripts/node-runtime.mjs versions | pin VERSION | fetch [TARGET...]');
    process.exitCode = 64;
  }
}
