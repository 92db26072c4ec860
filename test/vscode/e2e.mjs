// End-to-end check of the packaged extension in code-server, driven like a user through chromium.
// Started by scripts/vscode-e2e.sh, which provides CODE_SERVER_BIN, CHROMIUM_BIN and ENGRAM_VSIX.
// Each step saves a screenshot to test-artifacts/vscode-e2e/; the code-server and extension logs
// are copied there at the end. Prints "N passed, N failed" and exits non-zero on a failure.
import { spawn, execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const artifacts = join(root, 'test-artifacts', 'vscode-e2e');
const port = Number(process.env.ENGRAM_E2E_PORT ?? '18080');
const codeServer = required('CODE_SERVER_BIN');
const chromiumPath = required('CHROMIUM_BIN');
const vsix = required('ENGRAM_VSIX');
const keepTemp = process.env.ENGRAM_E2E_KEEP === '1';

function required(name) {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set; run scripts/vscode-e2e.sh instead of this file.`);
  return value;
}

/** Returns the model and corpus that the repository ships, or else the shared fixtures beside the checkout. */
function sourceFolders() {
  const shippedModel = join(root, 'assets/models/stories260K-hf');
  const shippedCorpus = join(root, 'assets/corpora/country-facts/facts.txt');
  if (existsSync(join(shippedModel, 'model.safetensors')) && existsSync(shippedCorpus)) return { model: shippedModel, corpus: shippedCorpus };
  return {
    model: resolve(root, '../shared/fixtures/models/stories260K-hf'),
    corpus: resolve(root, '../shared/fixtures/corpora/country-facts/facts.txt'),
  };
}

// --- Environment ----------------------------------------------------------------------------

const base = mkdtempSync(join(tmpdir(), 'engram-e2e-'));
const dirs = {
  userData: join(base, 'user-data'),
  extensions: join(base, 'extensions'),
  xdg: join(base, 'xdg'),
  browser: join(base, 'browser'),
  workspace: join(base, 'workspace'),
};
for (const dir of Object.values(dirs)) mkdirSync(dir, { recursive: true });
rmSync(artifacts, { recursive: true, force: true, maxRetries: 2 });
mkdirSync(artifacts, { recursive: true });

const sources = sourceFolders();
cpSync(sources.model, join(dirs.workspace, 'models/stories260K-hf'), { recursive: true });
mkdirSync(join(dirs.workspace, 'corpus'), { recursive: true });
cpSync(sources.corpus, join(dirs.workspace, 'corpus/facts.txt'));
// A text for Inspect Memory Hits and a probe file for the Playground, both about facts in the corpus.
writeFileSync(join(dirs.workspace, 'facts-sample.txt'), 'The capital of Afghanistan is Kabul.\nAfghanistan is a country in Asia.\n');
writeFileSync(
  join(dirs.workspace, 'probes.tsv'),
  'prompt\tanswer\trelation\nThe capital of Afghanistan is\tKabul\tcapital\nAfghanistan is a country in\tAsia\tcontinent\nThe capital of Albania is\tTirana\tcapital\n',
);
mkdirSync(join(dirs.workspace, '.vscode'), { recursive: true });
const trainingSteps = Number(process.env.ENGRAM_E2E_STEPS ?? '40');
writeFileSync(
  join(dirs.workspace, '.vscode/settings.json'),
  JSON.stringify({ 'engram.modelFolder': 'models/stories260K-hf', 'engram.training.steps': trainingSteps, 'engram.training.cancelGraceSeconds': 120 }, null, 2),
);
mkdirSync(join(dirs.userData, 'User'), { recursive: true });
writeFileSync(
  join(dirs.userData, 'User/settings.json'),
  JSON.stringify(
    {
      'telemetry.telemetryLevel': 'off',
      'update.mode': 'none',
      'extensions.autoCheckUpdates': false,
      'extensions.autoUpdate': false,
      'extensions.ignoreRecommendations': true,
      'workbench.startupEditor': 'none',
      'workbench.tips.enabled': false,
      'security.workspace.trust.enabled': false,
      'workbench.colorTheme': process.env.ENGRAM_E2E_THEME ?? 'Default Dark Modern',
    },
    null,
    2,
  ),
);
const configFile = join(base, 'code-server.yaml');
writeFileSync(configFile, `bind-addr: 127.0.0.1:${port}\nauth: none\ncert: false\n`);

const serverEnv = {
  ...process.env,
  XDG_CONFIG_HOME: join(dirs.xdg, 'config'),
  XDG_DATA_HOME: join(dirs.xdg, 'data'),
  XDG_CACHE_HOME: join(dirs.xdg, 'cache'),
  // Points the marketplace at a closed local port, so code-server makes no outside request.
  EXTENSIONS_GALLERY: '{"serviceUrl":"http://127.0.0.1:9/none"}',
};
const commonArgs = ['--config', configFile, '--user-data-dir', dirs.userData, '--extensions-dir', dirs.extensions];

execFileSync(codeServer, [...commonArgs, '--install-extension', vsix], { env: serverEnv, stdio: ['ignore', 'inherit', 'inherit'] });

const server = spawn(codeServer, [...commonArgs, '--disable-telemetry', '--disable-update-check', '--disable-workspace-trust', dirs.workspace], {
  env: serverEnv,
  stdio: ['ignore', 'pipe', 'pipe'],
});
const serverLog = [];
server.stdout.on('data', (chunk) => serverLog.push(String(chunk)));
server.stderr.on('data', (chunk) => serverLog.push(String(chunk)));

// --- Helpers --------------------------------------------------------------------------------

const results = [];
let page;
let browser;
let shot = 0;

async function screenshot(name) {
  shot++;
  const file = join(artifacts, `${String(shot).padStart(2, '0')}-${name}.png`);
  await page.screenshot({ path: file });
  return file;
}

async function step(name, body) {
  const started = Date.now();
  try {
    await body();
    await screenshot(name);
    results.push({ name, ok: true });
    console.log(`ok - ${name} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
  } catch (error) {
    results.push({ name, ok: false });
    console.log(`not ok - ${name}: ${error instanceof Error ? error.message : String(error)}`);
    await screenshot(`${name}-failed`).catch(() => undefined);
    throw error;
  }
}

async function waitForServer() {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    try {
      const response = await fetch(`http://127.0.0.1:${port}/healthz`);
      if (response.ok) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((done) => setTimeout(done, 300));
  }
  throw new Error(`code-server did not answer on 127.0.0.1:${port} within 60 s:\n${serverLog.join('')}`);
}

const quickInput = () => page.locator('.quick-input-widget');
const quickInputBox = () => page.locator('.quick-input-widget .quick-input-box input');

/**
 * Polls `count()` until `accept` holds: decorations and lists render a frame or more after the
 * state that the test waited for, so a single read can see the previous frame.
 */
async function waitForCount(count, accept, timeout, describe) {
  const deadline = Date.now() + timeout;
  let last = await count();
  while (!accept(last)) {
    if (Date.now() > deadline) throw new Error(describe(last));
    await page.waitForTimeout(200);
    last = await count();
  }
  return last;
}

async function runCommand(title) {
  // F1 is sometimes swallowed while focus sits in a webview or on a tab's hover. A quick input
  // that is still closing (Quick Open, say) can also be found instead of the palette. So the
  // whole open-and-type sequence is retried.
  const keys = ['F1', 'Control+Shift+P', 'F1'];
  for (let attempt = 0; ; attempt++) {
    try {
      await quickInput().waitFor({ state: 'hidden', timeout: 5_000 }).catch(() => undefined);
      await page.keyboard.press(keys[attempt]);
      await quickInputBox().waitFor({ state: 'visible', timeout: 5_000 });
      await quickInputBox().fill(`>${title}`, { timeout: 5_000 });
      await page.locator('.quick-input-widget .monaco-list-row', { hasText: title }).first().waitFor({ state: 'visible', timeout: 15_000 });
      break;
    } catch (error) {
      if (attempt === keys.length - 1) throw error;
      await page.keyboard.press('Escape');
      // Move focus back to the workbench: the activity bar's first icon is always there.
      await page.locator('.part.activitybar .action-item').first().focus().catch(() => undefined);
    }
  }
  await page.keyboard.press('Enter');
}

/** Waits for a quick pick whose rows include `label`, then picks that row. */
async function pickRow(label) {
  const row = page.locator('.quick-input-widget .monaco-list-row', { hasText: label }).first();
  await row.waitFor({ state: 'visible', timeout: 60_000 });
  await row.click();
}

/** Replaces the text of the open input box and accepts it. */
/**
 * Types a path into code-server's simple file dialog. The dialog fills in its own starting
 * folder just after it opens, which can replace typed text, so the path is typed until it holds.
 */
async function enterPath(path) {
  await quickInput().waitFor({ state: 'visible' });
  for (let attempt = 0; attempt < 5; attempt++) {
    await quickInputBox().fill(path);
    await page.waitForTimeout(500);
    if ((await quickInputBox().inputValue()) === path) break;
  }
  await page.keyboard.press('Enter');
  // Enter can first complete the name in the dialog; a second Enter then accepts the file.
  await quickInput().waitFor({ state: 'hidden', timeout: 5_000 }).catch(() => page.keyboard.press('Enter'));
}

async function enterText(text) {
  await quickInput().waitFor({ state: 'visible' });
  await quickInputBox().fill(text);
  await page.waitForTimeout(300);
  await page.keyboard.press('Enter');
}

async function waitForNotification(pattern, timeout) {
  const toast = page.locator('.notification-toast', { hasText: pattern }).first();
  await toast.waitFor({ state: 'visible', timeout });
  return toast;
}

async function dashboardFrame(timeout = 60_000) {
  const deadline = Date.now() + timeout;
  while (Date.now() < deadline) {
    for (const frame of page.frames()) {
      if (await frame.locator('#chart-loss').count().catch(() => 0)) return frame;
    }
    await page.waitForTimeout(300);
  }
  throw new Error('The dashboard webview did not appear.');
}

/** Step count in the dashboard header ("step N of M"), or 0 when none is shown yet. */
async function dashboardStep(frame) {
  const text = (await frame.locator('.meta').textContent().catch(() => '')) ?? '';
  const match = /(\d+)\D+(\d+)/.exec(text);
  return match ? Number(match[1]) : 0;
}

const statusItem = () => page.locator('[id="engram-studio.engram-studio.engram.attachedPack"]');
const memoryHitsLegend = () => page.locator('[id="engram-studio.engram-studio.engram.memoryHitsLegend"]');
// Ranges of an extension's decoration types render as `.cdr` overlays with a generated `ced-…` class.
const decoratedTokens = () => page.locator('.monaco-editor .view-overlays .cdr[class*="ced-"]');

/** Returns the first webview frame that contains `selector`. */
async function webviewFrame(selector, timeout = 60_000) {
  const deadline = Date.now() + timeout;
  while (Date.now() < deadline) {
    for (const frame of page.frames()) {
      if (await frame.locator(selector).count().catch(() => 0)) return frame;
    }
    await page.waitForTimeout(300);
  }
  throw new Error(`No webview with ${selector} appeared.`);
}

/** Shows a workspace file: clicks its tab when it has one, else opens it with Quick Open. */
async function openFile(name) {
  const tab = page.locator('.tab', { hasText: name }).first();
  if (await tab.count()) {
    await tab.click();
    await page.locator('.tab.active', { hasText: name }).waitFor({ state: 'visible' });
    return;
  }
  await page.keyboard.press('Control+P');
  await quickInput().waitFor({ state: 'visible' });
  await quickInputBox().fill(name);
  await page.locator('.quick-input-widget .monaco-list-row', { hasText: name }).first().waitFor({ state: 'visible' });
  await page.keyboard.press('Enter');
  await page.locator('.tab.active', { hasText: name }).waitFor({ state: 'visible' });
}

// --- Scenario -------------------------------------------------------------------------------

let exitCode = 0;
try {
  await waitForServer();
  browser = await chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const context = await browser.newContext({ viewport: { width: 1600, height: 1000 } });
  page = await context.newPage();
  page.setDefaultTimeout(30_000);
  await page.goto(`http://127.0.0.1:${port}/?folder=${encodeURIComponent(dirs.workspace)}`);
  await page.locator('.monaco-workbench').waitFor({ state: 'visible', timeout: 60_000 });
  await page.waitForTimeout(2_000);

  const packsFolder = join(dirs.workspace, '.engram/packs');

  await step('train-pack-options', async () => {
    await runCommand('Engram: Train Pack');
    await pickRow('Glob pattern');
    await enterText('corpus/*.txt');
    await quickInputBox().waitFor({ state: 'visible' });
    await page.locator('.quick-input-widget', { hasText: 'Train Pack: name' }).waitFor({ state: 'visible', timeout: 60_000 });
    await enterText('facts');
    await page.locator('.quick-input-widget .monaco-list-row', { hasText: 'Start Training' }).waitFor({ state: 'visible', timeout: 60_000 });
    const preview = await page.locator('.quick-input-widget .monaco-list-row', { hasText: 'Start Training' }).first().textContent();
    // The row's text joins the label "Start Training" and the detail "1 file · …" without a space.
    if (!/(?<!\d)1 file\b/.test(preview ?? '') || !/tokens/.test(preview ?? '')) throw new Error(`Corpus preview missing from the options list: ${preview}`);
  });

  let frame;
  await step('dashboard-loss-points', async () => {
    await pickRow('Start Training');
    frame = await dashboardFrame();
    await frame.locator('#chart-loss .legend-item', { hasText: 'loss' }).first().waitFor({ state: 'visible', timeout: 180_000 });
  });

  await step('training-done', async () => {
    await waitForNotification(/Pack facts is ready/, 300_000);
    if (!existsSync(join(packsFolder, 'facts.engram', 'pack.json'))) throw new Error('facts.engram/pack.json was not written.');
    const finalStep = await dashboardStep(frame);
    if (finalStep !== trainingSteps) throw new Error(`Dashboard shows step ${finalStep}, expected ${trainingSteps}.`);
  });

  await step('dashboard-row-hits', async () => {
    const heatmap = frame.locator('#chart-row-hits');
    await heatmap.scrollIntoViewIfNeeded();
    const caption = (await heatmap.locator('.legend').textContent()) ?? '';
    if (!/step \d+/.test(caption)) throw new Error(`Row-hit heatmap has no data: "${caption}"`);
  });

  await step('sidebar-pack', async () => {
    await page.locator('.activitybar [aria-label^="Engram"]').first().click();
    await page.locator('.monaco-list-row', { hasText: 'facts' }).first().waitFor({ state: 'visible', timeout: 30_000 });
  });

  await step('attached', async () => {
    await page.locator('.monaco-list-row', { hasText: 'facts' }).first().click();
    await statusItem().filter({ hasText: 'facts' }).waitFor({ state: 'visible', timeout: 120_000 });
    await page.locator('.monaco-list-row', { hasText: 'attached' }).first().waitFor({ state: 'visible' });
  });

  await step('inspect-decorations', async () => {
    await openFile('facts-sample.txt');
    await page.locator('.monaco-editor .view-lines').first().click();
    await runCommand('Engram: Inspect Memory Hits');
    await memoryHitsLegend().filter({ hasText: 'Memory hits' }).waitFor({ state: 'visible', timeout: 120_000 });
    await waitForCount(() => decoratedTokens().count(), (count) => count >= 5, 15_000, (count) => `Expected colored tokens on the facts sentence, found ${count}.`);
  });

  await step('inspect-hover', async () => {
    // A token ending in a line break also colors an empty piece of the next line; hover a visible one.
    const boxes = await decoratedTokens().evaluateAll((nodes) => nodes.map((node) => node.getBoundingClientRect().toJSON()));
    const box = boxes.filter((candidate) => candidate.width >= 8).at(-1);
    if (!box) throw new Error('No colored token is wide enough to hover.');
    await page.mouse.move(box.x + box.width / 2 - 10, box.y + box.height / 2);
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2, { steps: 4 });
    const hover = page.locator('.monaco-hover', { hasText: 'Next-token predictions' }).first();
    await hover.waitFor({ state: 'visible', timeout: 15_000 });
    const text = (await hover.textContent()) ?? '';
    for (const expected of [/canonical id \d+/, /2-gram/, /3-gram/, /Layer \d+/, /\d+ \(\d+\)/, /with pack/, /base model/, /\d+\.\d %/]) {
      if (!expected.test(text)) throw new Error(`Hover lacks ${expected}: ${text.slice(0, 400)}`);
    }
  });

  await step('memory-hits-by-gate', async () => {
    await runCommand('Engram: Color Memory Hits By');
    await pickRow('Gate');
    await memoryHitsLegend().filter({ hasText: 'Memory hits: gate' }).waitFor({ state: 'visible', timeout: 15_000 });
    await waitForCount(() => decoratedTokens().count(), (count) => count >= 5, 15_000, (count) => `Expected colored tokens by gate, found ${count}.`);
  });

  await step('pack-statistics', async () => {
    await page.mouse.move(5, 500);
    await runCommand('Engram: Show Pack Statistics');
    const frame = await webviewFrame('#layers');
    await frame.locator('section.layer').first().waitFor({ state: 'visible', timeout: 120_000 });
    const layers = await frame.locator('section.layer').count();
    if (layers < 1) throw new Error('Pack Statistics shows no layer.');
    await frame.locator('.closed-share').first().waitFor({ state: 'visible' });
    await frame.locator('.collision-table').first().waitFor({ state: 'visible' });
    const sources = (await frame.locator('.sources').textContent()) ?? '';
    if (!/facts-sample\.txt/.test(sources)) throw new Error(`Gate source is not the open file: ${sources}`);
  });

  await step('playground-compare', async () => {
    await runCommand('Engram: Open Playground');
    const frame = await webviewFrame('#prompt');
    await frame.locator('#prompt').fill('The capital of Afghanistan is');
    await frame.locator('#generate').click();
    await frame.locator('#comparison[data-result]').waitFor({ state: 'attached', timeout: 120_000 });
    const withPack = ((await frame.locator('#completion-pack .output').textContent()) ?? '').trim();
    const base = ((await frame.locator('#completion-base .output').textContent()) ?? '').trim();
    if (withPack.length === 0 || base.length === 0) throw new Error(`A completion is empty: pack "${withPack}", base "${base}".`);
    if (withPack === base) throw new Error(`The pack does not change the completion: "${withPack}".`);
    console.log(`  with pack: ${JSON.stringify(withPack)}\n  base:      ${JSON.stringify(base)}`);
  });

  await step('playground-probes', async () => {
    const frame = await webviewFrame('#run-probes');
    await frame.locator('#run-probes').click();
    // code-server has no native dialogs; its file dialog is a quick input that takes a path.
    await enterPath(join(dirs.workspace, 'probes.tsv'));
    await frame.locator('#probes tbody tr').first().waitFor({ state: 'visible', timeout: 120_000 });
    const rows = await frame.locator('#probes tbody tr').count();
    if (rows !== 3) throw new Error(`Expected 3 probe rows, found ${rows}.`);
    const summary = (await frame.locator('#probes-status').textContent()) ?? '';
    if (!/probes\.tsv/.test(summary)) throw new Error(`Probe summary missing: ${summary}`);
  });

  await step('memory-hits-cleared', async () => {
    await openFile('facts-sample.txt');
    await runCommand('Engram: Clear Memory Hits');
    await memoryHitsLegend().waitFor({ state: 'hidden', timeout: 15_000 });
    await waitForCount(() => decoratedTokens().count(), (count) => count === 0, 15_000, (count) => `${count} colored tokens remain after Clear Memory Hits.`);
  });

  await step('detached', async () => {
    await runCommand('Engram: Detach Pack');
    await statusItem().filter({ hasText: 'no pack' }).waitFor({ state: 'visible', timeout: 30_000 });
  });

  await step('inspect-needs-pack', async () => {
    // Older toasts (such as "Pack facts is ready") can hide a new one; clear them first.
    await runCommand('Notifications: Clear All Notifications');
    await openFile('facts-sample.txt');
    await runCommand('Engram: Inspect Memory Hits');
    const toast = await waitForNotification(/needs an attached pack/, 30_000);
    for (const action of ['Attach Pack', 'Select Model']) {
      await toast.locator('.monaco-button', { hasText: action }).first().waitFor({ state: 'visible' });
    }
    await screenshot('inspect-needs-pack-message');
    // The action attaches the pack, and the inspection then goes on by itself.
    await toast.locator('.monaco-button', { hasText: 'Attach Pack' }).first().click();
    await pickRow('facts');
    await memoryHitsLegend().filter({ hasText: 'Memory hits' }).waitFor({ state: 'visible', timeout: 120_000 });
    await statusItem().filter({ hasText: 'facts' }).waitFor({ state: 'visible' });
  });

  await step('second-run-cancelled', async () => {
    await runCommand('Engram: Train Pack');
    await pickRow('Last corpus');
    await page.locator('.quick-input-widget', { hasText: 'Train Pack: name' }).waitFor({ state: 'visible', timeout: 60_000 });
    await enterText('facts-long');
    await pickRow('Steps');
    await enterText('5000');
    await pickRow('Start Training');
    frame = await dashboardFrame();
    await frame.locator('h1', { hasText: 'facts-long' }).waitFor({ state: 'visible', timeout: 60_000 });
    const deadline = Date.now() + 240_000;
    while ((await dashboardStep(frame)) < 3) {
      if (Date.now() > deadline) throw new Error('The second run did not reach step 3.');
      await page.waitForTimeout(500);
    }
    await runCommand('Engram: Cancel Training');
    await waitForNotification(/cancelled/, 180_000);
    const checkpoint = join(packsFolder, 'facts-long.engram.checkpoint');
    if (!existsSync(checkpoint) || readdirSync(checkpoint).length === 0) throw new Error(`No checkpoint at ${checkpoint}.`);
    if (existsSync(join(packsFolder, 'facts-long.engram'))) throw new Error('A cancelled run wrote a pack.');
  });
} catch {
  exitCode = 1;
} finally {
  await browser?.close().catch(() => undefined);
  server.kill('SIGTERM');
  writeFileSync(join(artifacts, 'code-server.log'), serverLog.join(''));
  const logsDir = join(dirs.userData, 'logs');
  if (existsSync(logsDir)) {
    const copyLogs = (dir) => {
      for (const entry of readdirSync(dir)) {
        const path = join(dir, entry);
        if (statSync(path).isDirectory()) copyLogs(path);
        else if (/Engram|exthost/i.test(entry)) cpSync(path, join(artifacts, `log-${entry}`));
      }
    };
    copyLogs(logsDir);
  }
  if (!keepTemp) rmSync(base, { recursive: true, force: true, maxRetries: 3 });
  const passed = results.filter((result) => result.ok).length;
  const failed = results.length - passed;
  console.log(`${passed} passed, ${failed} failed`);
  console.log(`Screenshots: ${artifacts}`);
  process.exitCode = exitCode || (failed > 0 ? 1 : 0);
}
