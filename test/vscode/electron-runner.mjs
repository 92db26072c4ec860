// Runs test/vscode/suite/index.cjs inside a desktop VS Code through @vscode/test-electron 2.5.x.
// The runner downloads VS Code (and with it Electron) at test time. Machines without that
// download use scripts/vscode-e2e.sh (code-server) instead, so this runner is skipped unless
// ENGRAM_TEST_ELECTRON=1 is set. Build first: `npm run build`.
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** Lowest VS Code the extension supports (engines.vscode). */
const vscodeVersion = process.env.ENGRAM_VSCODE_VERSION ?? '1.100.3';

if (process.env.ENGRAM_TEST_ELECTRON !== '1') {
  console.log(
    'skipped: @vscode/test-electron downloads VS Code and Electron when it runs, and this machine cannot download them. ' +
      'Set ENGRAM_TEST_ELECTRON=1 on a machine that can; here `npm run test:vscode` runs the code-server end-to-end test instead.',
  );
  process.exit(0);
}

const { runTests } = await import('@vscode/test-electron');
try {
  await runTests({
    version: vscodeVersion,
    extensionDevelopmentPath: root,
    extensionTestsPath: join(root, 'test/vscode/suite/index.cjs'),
    launchArgs: ['--disable-extensions', '--disable-workspace-trust', join(root, 'assets')],
  });
} catch (error) {
  console.error(`VS Code extension tests failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}
