// Bundles the CLI, the worker, the extension host entry, the webview and the tests with esbuild.
// Usage: node scripts/build.mjs [--production] [--tests]
import { build } from 'esbuild';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const production = process.argv.includes('--production');
const withTests = process.argv.includes('--tests');

// Package roots that stay outside the bundles. A native TensorFlow backend registers itself on
// the copy of tfjs-core in node_modules, so the bundles must load that same copy. The
// `@tensorflow/tfjs-core/dist/...` side-effect modules (gradients, chained ops) are ESM only,
// so they are bundled; they register into tfjs's global registries and engine.
const externalRoots = new Set([
  'vscode',
  '@tensorflow/tfjs-core',
  '@tensorflow/tfjs-backend-cpu',
  '@tensorflow/tfjs-backend-wasm',
  '@tensorflow/tfjs-node',
  '@tensorflow/tfjs-node-gpu',
  '@huggingface/tokenizers',
]);
const externalPackages = {
  name: 'external-package-roots',
  setup(context) {
    context.onResolve({ filter: /^[@a-z]/ }, (args) => (externalRoots.has(args.path) ? { path: args.path, external: true } : undefined));
  },
};

const nodeOptions = {
  absWorkingDir: root,
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: !production,
  minify: production,
  plugins: [externalPackages],
  logLevel: 'warning',
};

const nodeEntries = [
  { in: 'src/cli/main.ts', out: 'cli' },
  { in: 'src/worker/main.ts', out: 'worker' },
  { in: 'src/extension/extension.ts', out: 'extension' },
].filter((entry) => existsSync(join(root, entry.in)));

await build({ ...nodeOptions, entryPoints: nodeEntries, outdir: 'dist' });

// The dashboard, the Playground and the Pack Statistics are separate pages, each with its own script and stylesheet.
const webviewEntries = [
  { in: 'webview/main.ts', out: 'webview' },
  { in: 'webview/playground/main.ts', out: 'playground' },
  { in: 'webview/statistics/main.ts', out: 'statistics' },
].filter((entry) => existsSync(join(root, entry.in)));

if (webviewEntries.length > 0) {
  await build({
    absWorkingDir: root,
    entryPoints: webviewEntries,
    outdir: 'dist',
    bundle: true,
    platform: 'browser',
    target: 'es2022',
    format: 'iife',
    sourcemap: !production,
    minify: production,
    logLevel: 'warning',
  });
}

if (withTests) {
  // Each test file becomes one bundle in out/test, so `__dirname` there is two levels below the root.
  rmSync(join(root, 'out/test'), { recursive: true, force: true });
  const testEntries = readdirSync(join(root, 'test'))
    .filter((name) => name.endsWith('.test.ts'))
    .map((name) => ({ in: `test/${name}`, out: name.replace(/\.ts$/, '') }));
  await build({ ...nodeOptions, entryPoints: testEntries, outdir: 'out/test', sourcemap: true, minify: false });
}
