// Bundles the CLI, the worker, the extension host entry and the webview with esbuild.
import { build } from 'esbuild';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const production = process.argv.includes('--production');

// TensorFlow.js stays outside the bundle: a native backend registers itself on the copy of
// tfjs-core in node_modules, so the bundle must use that same copy.
const external = ['vscode', '@tensorflow/*', '@huggingface/tokenizers'];

const nodeEntries = [
  { in: 'src/cli/main.ts', out: 'cli' },
  { in: 'src/worker/main.ts', out: 'worker' },
  { in: 'src/extension/extension.ts', out: 'extension' },
].filter((entry) => existsSync(join(root, entry.in)));

await build({
  absWorkingDir: root,
  entryPoints: nodeEntries,
  outdir: 'dist',
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: !production,
  minify: production,
  external,
  logLevel: 'warning',
});

if (existsSync(join(root, 'webview/main.ts'))) {
  await build({
    absWorkingDir: root,
    entryPoints: [{ in: 'webview/main.ts', out: 'webview' }],
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
