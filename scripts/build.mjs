// Bundles the CLI into one CommonJS file, dist/kubectl-mesh_egress (executable, with a node
// shebang): the launcher that `npm ci && npm run build` leaves, and the input of the single binary.
import { build } from 'esbuild';
import fs from 'node:fs';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const dist = path.join(root, 'dist');
fs.mkdirSync(dist, { recursive: true });

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

const outfile = path.join(dist, 'kubectl-mesh_egress');
await build({
  entryPoints: [path.join(root, 'cmd', 'kubectl-mesh_egress.ts')],
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  outfile,
  // ESM dependencies call createRequire(import.meta.url); give them the bundle's own URL
  define: { 'import.meta.url': '__importMetaUrl' },
  banner: { js: '#!/usr/bin/env node\nconst __importMetaUrl = require("url").pathToFileURL(__filename).href;' },
  plugins: [stubOptional],
  legalComments: 'none',
  logLevel: 'warning',
  supported: { 'top-level-await': false },
});
fs.chmodSync(outfile, 0o755);
// the bundle is CommonJS although the package is "type": "module"
fs.writeFileSync(path.join(dist, 'package.json'), '{ "type": "commonjs" }\n');
console.log(`built ${path.relative(process.cwd(), outfile)} (${fs.statSync(outfile).size} bytes)`);
