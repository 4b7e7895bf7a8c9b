// THIRD_PARTY_NOTICES for the release archives: the single executable contains the Node.js
// runtime and, bundled, the npm packages esbuild put into it (legalComments are stripped from the
// bundle, so their licences are carried here). Built from esbuild's metafile: every package
// with bytes in the output, with its licence file.
import fs from 'node:fs';
import path from 'node:path';

const LICENSE_NAMES = /^(licen[cs]e|copying)(\.(md|txt|markdown))?$|^licen[cs]e-mit(\.txt)?$/i;

/** Package folders (relative to root) with bytes in the bundle, sorted by name@version. */
export function bundledPackages(root, metafile) {
  const dirs = new Set();
  for (const output of Object.values(metafile.outputs)) {
    for (const [input, info] of Object.entries(output.inputs)) {
      if (!info.bytesInOutput) continue;
      const p = input.replace(/^[a-z-]+:/, '');
      const m = /^(.*node_modules\/(?:@[^/]+\/)?[^/]+)\//.exec(p);
      if (m) dirs.add(m[1]);
    }
  }
  const pkgs = [];
  for (const dir of dirs) {
    const pj = JSON.parse(fs.readFileSync(path.join(root, dir, 'package.json'), 'utf8'));
    const licenseFile = fs.readdirSync(path.join(root, dir)).find((f) => LICENSE_NAMES.test(f));
    pkgs.push({ dir, name: pj.name, version: pj.version, license: typeof pj.license === 'string' ? pj.license : JSON.stringify(pj.license ?? pj.licenses ?? 'UNKNOWN'), licenseFile: licenseFile ? path.join(dir, licenseFile) : undefined });
  }
  const seen = new Set();
  return pkgs
    .sort((a, b) => `${a.name}@${a.version}`.localeCompare(`${b.name}@${b.version}`))
    .filter((p) => {
      const k = `${p.name}@${p.version}`;
      if (seen.has(k)) return false;
      seen.add(k);
      return true;
    });
}

export function noticesText({ root, metafile, nodeVersion, nodeLicenseFile }) {
  const rule = `${'-'.repeat(78)}\n`;
  const pkgs = bundledPackages(root, metafile);
  let text = `kubectl-mesh_egress is licensed under the Apache License 2.0 (LICENSE).\n\nThe executable also contains third-party software, under the licences below:\n  - the Node.js ${nodeVersion} runtime\n${pkgs.map((p) => `  - ${p.name} ${p.version} (${p.license})\n`).join('')}\n`;
  text += `${rule}Node.js ${nodeVersion}\n${rule}`;
  text += nodeLicenseFile ? `${fs.readFileSync(nodeLicenseFile, 'utf8').trimEnd()}\n\n` : 'Node.js is licensed under the MIT licence; see https://github.com/nodejs/node/blob/main/LICENSE\n\n';
  for (const p of pkgs) {
    text += `${rule}${p.name} ${p.version} (${p.license})\n${rule}`;
    text += p.licenseFile ? `${fs.readFileSync(path.join(root, p.licenseFile), 'utf8').trimEnd()}\n\n` : `(the package ships no licence file; its package.json declares ${p.license})\n\n`;
  }
  return text;
}
