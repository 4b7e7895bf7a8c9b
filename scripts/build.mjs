// Bundles the CLI into one CommonJS file, dist/kubectl-mesh_egress (executable, with a node
// shebang): the launcher that `npm ci && npm run build` leaves, and the input of the single binary
// (scripts/build-binary.mjs imports bundle() from here).
import { build } from 'esbuild';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = path.join(root, 'dist');

// Optional peers some dependencies try to require inside try/catch: make them absent, the
// way they expect (MODULE_NOT_FOUND), so a single-executable build does not warn.
const OPTIONAL = ['bufferutil', 'utf-8-validate', 'supports-color', 'encoding'];
const stubOptional = {
  name: 'stub-optional',
  setup(b) {
    b.onResolve({ filter: new RegExp(`^(${OPTIONAL.join('|')})$`) }, (args) => ({ path: args.path, namespace: 'stub-optional' }));
    b.onLoad({ filter: /.*/, namespace: 'stub-optional' }, (args) => ({
      contents: `const e = new Error("Cannot find module '${args.path}'"); e.code = 'MODULE_NOT_FOUND'; throw e;`,
      loader: 'js',
    }));
  },
};

// Start-up cost: string-width (yargs, cliui, wrap-ansi, cli-table3) builds Intl.Segmenter and
// large Unicode-property regexes when its module is initialised: 35-60 ms on every run, also for
// --help, whose text is plain ASCII. Every `string-width` import gets a stand-in that answers
// strings of one-column characters itself (printable ASCII and the few other characters the
// output uses, on which every bundled string-width version agrees: test/packaging/startup.test.ts)
// and loads the real module, from the importer's own resolution, on the first other string.
export const ONE_COLUMN = '\\x20-\\x7e\\u00a7\\u00b7\\u2013\\u2014\\u2022\\u2026\\u2190\\u2192';
const lazyStringWidth = {
  name: 'lazy-string-width',
  setup(b) {
    b.onResolve({ filter: /^string-width$/ }, async (args) => {
      if (args.pluginData?.real) return undefined;
      const real = await b.resolve(args.path, { resolveDir: args.resolveDir, kind: args.kind, importer: args.importer, pluginData: { real: true } });
      if (real.errors.length > 0) return { errors: real.errors };
      // a root-relative path: the bundle does not depend on where the checkout is
      return { path: path.relative(root, real.path), namespace: 'lazy-string-width', pluginData: { cjs: args.kind === 'require-call' } };
    });
    b.onLoad({ filter: /.*/, namespace: 'lazy-string-width' }, (args) => {
      const body = `let real;
const printable = /^[${ONE_COLUMN}]*$/;
function stringWidth(string, options) {
  if (typeof string === 'string' && printable.test(string)) return string.length;
  if (real === undefined) {
    const m = require(${JSON.stringify(`./${path.basename(args.path)}`)});
    real = typeof m === 'function' ? m : m.default;
  }
  return real(string, options);
}
`;
      return { contents: body + (args.pluginData.cjs ? 'module.exports = stringWidth;\n' : 'export default stringWidth;\n'), loader: 'js', resolveDir: path.dirname(path.join(root, args.path)) };
    });
  },
};

/** Bundles cmd/kubectl-mesh_egress.ts into one CommonJS file; returns esbuild's metafile. */
export async function bundle({ outfile = path.join(dist, 'kubectl-mesh_egress'), target = 'node20', shebang = true } = {}) {
  fs.mkdirSync(path.dirname(outfile), { recursive: true });
  const result = await build({
    entryPoints: [path.join(root, 'cmd', 'kubectl-mesh_egress.ts')],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target,
    outfile,
    // ESM dependencies call createRequire(import.meta.url); give them the bundle's own URL
    define: { 'import.meta.url': '__importMetaUrl' },
    banner: { js: `${shebang ? '#!/usr/bin/env node\n' : ''}const __importMetaUrl = require("url").pathToFileURL(__filename).href;` },
    plugins: [stubOptional, lazyStringWidth],
    legalComments: 'none',
    logLevel: 'warning',
    supported: { 'top-level-await': false },
    metafile: true,
  });
  fs.chmodSync(outfile, 0o755);
  // the bundle is CommonJS although the package is "type": "module"
  fs.writeFileSync(path.join(path.dirname(outfile), 'package.json'), '{ "type": "commonjs" }\n');
  return result.metafile;
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  const outfile = path.join(dist, 'kubectl-mesh_egress');
  await bundle({ outfile });
  // the completion executable kubectl runs for `kubectl mesh-egress <TAB>` (see src/cli/completion.ts)
  const completion = path.join(dist, 'kubectl_complete-mesh_egress');
  fs.copyFileSync(path.join(root, 'scripts', 'packaging', 'kubectl_complete-mesh_egress'), completion);
  fs.chmodSync(completion, 0o755);
  console.log(`built ${path.relative(process.cwd(), outfile)} (${fs.statSync(outfile).size} bytes) and ${path.relative(process.cwd(), completion)}`);
}
