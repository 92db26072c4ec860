/**
 * Extension entry point. Creates the log channel, the runtime worker service, the training
 * controller, the Packs view, the status bar item and the dashboard, and registers the commands.
 * Engine code never runs in the extension host: it runs in worker processes (`dist/worker.js`).
 */
import { homedir } from 'node:os';
import * as vscode from 'vscode';
import { readSettings, type EngramSettings } from './config';
import { DashboardPanel } from './dashboard/dashboardPanel';
import { runDoctor } from './doctor';
import { createInspectFeatures, type InspectFeatures } from './inspect/inspectFeatures';
import { createClientLog, showErrorWithLog } from './log';
import { selectModel } from './model/selectModel';
import { attachPack, deletePack, detachPack, explainPack, openPackHistory, renamePack, revealPack, switchPack } from './packs/packCommands';
import { PackTreeProvider } from './packs/packTreeProvider';
import { memoryKeys, type EngramServices } from './services';
import { PackStatusBar } from './statusBar';
import { throughputKey, trainPackCommand } from './training/trainCommand';
import { TrainingController } from './training/trainingController';
import { describeExit, type WorkerClientOptions } from './worker/workerClient';
import { RuntimeService, workspaceAttachedPackMemory } from './worker/runtimeService';

let services: EngramServices | undefined;

function workspaceRoot(): string | undefined {
  return vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
}

function currentSettings(): EngramSettings {
  const configuration = vscode.workspace.getConfiguration('engram');
  return readSettings((key) => configuration.get(key), workspaceRoot(), homedir());
}

function workerOptions(context: vscode.ExtensionContext): Omit<WorkerClientOptions, 'onEvent' | 'onExit' | 'log'> {
  const settings = currentSettings();
  const execArgv = settings.workerMaxMemoryMB > 0 ? [`--max-old-space-size=${settings.workerMaxMemoryMB}`] : [];
  return {
    workerPath: vscode.Uri.joinPath(context.extensionUri, 'dist', 'worker.js').fsPath,
    execPath: settings.workerNodePath,
    execArgv,
    cwd: workspaceRoot(),
    env: { ...process.env, ENGRAM_LOG_LEVEL: process.env.ENGRAM_LOG_LEVEL ?? 'info' },
  };
}

export function activate(context: vscode.ExtensionContext): EngramServices {
  const log = vscode.window.createOutputChannel('Engram', { log: true });
  context.subscriptions.push(log);
  log.info(`Engram Studio ${String(context.extension.packageJSON.version)} activated.`);

  const statusBar = new PackStatusBar();
  context.subscriptions.push(statusBar);
  let inspectFeatures: InspectFeatures | undefined;

  const runtime = new RuntimeService({
    workerOptions: () => ({ ...workerOptions(context), log: createClientLog(log, 'runtime') }),
    onStateChange: (state) => {
      statusBar.update(state);
      void vscode.commands.executeCommand('setContext', 'engram.packAttached', state.attached !== undefined);
      packs.rerender();
      inspectFeatures?.onRuntimeChanged();
    },
    onCrash: (exit) => {
      void showErrorWithLog(log, vscode.l10n.t('The Engram worker stopped: {0}. Packs on disk are unchanged; the next action starts a new worker.', describeExit(exit)));
    },
    attachedPackMemory: workspaceAttachedPackMemory(context.workspaceState),
  });

  let dashboard: DashboardPanel | undefined;
  const getDashboard = (): DashboardPanel => {
    dashboard ??= new DashboardPanel(context.extensionUri, log, { cancelRun: (runId) => void training.cancel(runId) });
    return dashboard;
  };

  const packs: PackTreeProvider = new PackTreeProvider({
    runtime,
    log,
    packsFolder: () => currentSettings().packsFolder,
    modelFolder: () => currentSettings().modelFolder,
  });
  context.subscriptions.push(packs, vscode.window.registerTreeDataProvider('engram.packs', packs));

  const training: TrainingController = new TrainingController({
    log,
    dashboard: getDashboard,
    workerOptions: () => workerOptions(context),
    cancelGraceMs: () => currentSettings().cancelGraceMs,
    onRunFinished: () => packs.refresh(),
    onThroughput: (modelDir, backend, tokensPerSecond) => {
      const stored = context.globalState.get<Record<string, number>>(memoryKeys.throughput, {});
      void context.globalState.update(memoryKeys.throughput, { ...stored, [throughputKey(modelDir, backend)]: tokensPerSecond });
    },
    attachPack: (packDir) => attachPack(engram, packDir),
    onProgress: (progress) => statusBar.setTraining(progress),
  });
  context.subscriptions.push(training);

  const engram: EngramServices = {
    context,
    log,
    runtime,
    training,
    get dashboard() {
      return getDashboard();
    },
    packs,
    settings: currentSettings,
    workspaceRoot,
  };
  services = engram;

  const register = (command: string, handler: (...args: unknown[]) => unknown) =>
    context.subscriptions.push(
      vscode.commands.registerCommand(command, async (...args: unknown[]) => {
        try {
          return await handler(...args);
        } catch (error) {
          log.error(`${command} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
          await showErrorWithLog(log, vscode.l10n.t('{0} failed: {1}', command, error instanceof Error ? error.message : String(error)));
          return undefined;
        }
      }),
    );
  register('engram.trainPack', (args) => trainPackCommand(engram, args));
  register('engram.attachPack', (item) => attachPack(engram, item));
  register('engram.detachPack', () => detachPack(engram));
  register('engram.switchPack', () => switchPack(engram));
  register('engram.showDashboard', async () => {
    const run = training.activeRun?.history ?? training.latestRun;
    if (run) return getDashboard().show(run);
    // No run in this window (for example after a reload): offer a pack's stored training history.
    await packs.reload();
    if (packs.packs.length > 0) return openPackHistory(engram);
    return getDashboard().show(undefined);
  });
  register('engram.selectModel', async () => {
    const model = await selectModel(engram);
    if (model) packs.refresh();
  });
  register('engram.cancelTraining', () => training.cancel());
  register('engram.doctor', () => runDoctor(engram));
  inspectFeatures = createInspectFeatures(engram, register);
  context.subscriptions.push(inspectFeatures);
  register('engram.refreshPacks', () => packs.reload());
  register('engram.renamePack', (item) => renamePack(engram, item));
  register('engram.revealPack', (item) => revealPack(engram, item));
  register('engram.deletePack', (item) => deletePack(engram, item));
  register('engram.openPackHistory', (item) => openPackHistory(engram, item));
  register('engram.explainPack', (item) => explainPack(engram, item));
  register('engram.showLog', () => log.show());

  context.subscriptions.push(
    vscode.workspace.onDidChangeConfiguration((event) => {
      if (event.affectsConfiguration('engram.packsFolder') || event.affectsConfiguration('engram.modelFolder')) packs.refresh();
    }),
    vscode.workspace.onDidGrantWorkspaceTrust(() => packs.refresh()),
    { dispose: () => void runtime.dispose() },
    { dispose: () => dashboard?.dispose() },
  );
  void vscode.commands.executeCommand('setContext', 'engram.training', false);
  void vscode.commands.executeCommand('setContext', 'engram.packAttached', false);
  packs.refresh();
  // Attaches the pack of the last session in the background; it logs what happened and shows no UI.
  void runtime.reattachRemembered(currentSettings().modelFolder, currentSettings().backend);
  return engram;
}

export async function deactivate(): Promise<void> {
  const current = services;
  services = undefined;
  if (!current) return;
  await current.training.activeRun?.cancel();
  await current.runtime.dispose();
}
