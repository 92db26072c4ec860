// Extension-host test suite for @vscode/test-electron: checks activation, the contributed
// commands and settings inside a real VS Code. Runs through test/vscode/electron-runner.mjs.
const assert = require('node:assert/strict');
const vscode = require('vscode');

async function run() {
  const extension = vscode.extensions.getExtension('engram-studio.engram-studio');
  assert.ok(extension, 'engram-studio.engram-studio is not installed in the test instance');
  await extension.activate();

  const contributed = extension.packageJSON.contributes.commands.map((entry) => entry.command);
  const registered = new Set(await vscode.commands.getCommands(true));
  for (const command of contributed) assert.ok(registered.has(command), `${command} is contributed but not registered`);

  const configuration = vscode.workspace.getConfiguration('engram');
  assert.equal(configuration.get('packsFolder'), '.engram/packs');
  assert.equal(configuration.get('backend'), 'auto');

  await vscode.commands.executeCommand('engram.showDashboard');
  assert.ok(
    vscode.window.tabGroups.all.some((group) => group.tabs.some((tab) => tab.label === 'Engram Dashboard')),
    'the dashboard tab did not open',
  );
  console.log(`${contributed.length} commands registered; dashboard opened.`);
}

module.exports = { run };
