/**
 * "Engram: Train Pack": prompts only for what is missing (model, corpus, pack name, options),
 * with remembered choices preselected, then starts the run. Arguments given to the command
 * (for keybindings and scripts) skip the matching questions.
 */
import { existsSync, readdirSync } from 'node:fs';
import * as vscode from 'vscode';
import type { BackendChoice } from '../../engine/types';
import { backendChoices } from '../../protocol/trainEvents';
import type { CorpusPreview } from '../../protocol/worker';
import type { TrainingDefaults } from '../config';
import { formatBytes, formatCount, formatDuration } from '../format';
import { showErrorWithLog } from '../log';
import { describeModelProblem, ensureModel } from '../model/selectModel';
import { inspectModelFolder } from '../model/modelFolder';
import { describePackNameProblem } from '../packs/packCommands';
import { checkPackName } from '../packs/packTreeModel';
import { memoryKeys, type EngramServices } from '../services';
import { WorkerRequestError } from '../worker/workerClient';
import { pickCorpus } from './corpusPicker';
import { buildTrainParams, checkpointDirFor, estimateTrainingSeconds, packDirFor, suggestPackName } from './trainPlan';

/** Optional command arguments; each one given skips its question. */
export interface TrainPackArguments {
  modelDir?: string;
  corpus?: string[];
  packName?: string;
  replace?: boolean;
  resume?: boolean;
  backend?: BackendChoice;
  training?: Partial<TrainingDefaults>;
  /** Starts without showing the options list. */
  skipOptions?: boolean;
}

function existingPackNames(packsFolder: string): string[] {
  if (!existsSync(packsFolder)) return [];
  return readdirSync(packsFolder, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && entry.name.endsWith('.engram'))
    .map((entry) => entry.name.replace(/\.engram$/, ''));
}

export function throughputKey(modelDir: string, backend: string): string {
  return `${modelDir}|${backend}`;
}

function previewText(preview: CorpusPreview, training: TrainingDefaults, tokensPerSecond: number | undefined): string {
  const parts = [
    preview.files === 1 ? vscode.l10n.t('1 file') : vscode.l10n.t('{0} files', formatCount(preview.files)),
    formatBytes(preview.bytes),
    preview.estimated ? vscode.l10n.t('about {0} tokens', formatCount(preview.tokens)) : vscode.l10n.t('{0} tokens', formatCount(preview.tokens)),
  ];
  const seconds = estimateTrainingSeconds(training, tokensPerSecond);
  parts.push(
    seconds === undefined
      ? vscode.l10n.t('time unknown until a first run on this model measures its speed')
      : vscode.l10n.t('training about {0} (estimate from the last run)', formatDuration(seconds)),
  );
  if (preview.skipped.length > 0) parts.push(vscode.l10n.t('{0} skipped', preview.skipped.length));
  return parts.join(' · ');
}

async function askPackName(services: EngramServices, packsFolder: string, suggestion: string): Promise<{ name: string; replace: boolean } | undefined> {
  const existing = existingPackNames(packsFolder);
  const name = await vscode.window.showInputBox({
    title: vscode.l10n.t('Train Pack: name'),
    prompt: vscode.l10n.t('Saved as {0}', packDirFor(packsFolder, '<name>')),
    value: suggestion,
    validateInput: (value) => {
      const problem = checkPackName(value, existing);
      if (problem === 'clash') return { message: vscode.l10n.t('A pack with this name exists; you will be asked before it is replaced.'), severity: vscode.InputBoxValidationSeverity.Warning };
      return problem ? describePackNameProblem(problem) : undefined;
    },
  });
  if (name === undefined) return undefined;
  const trimmed = name.trim();
  if (checkPackName(trimmed, existing) !== 'clash') return { name: trimmed, replace: false };
  const replace = vscode.l10n.t('Replace');
  const choice = await vscode.window.showWarningMessage(vscode.l10n.t('Pack {0} exists. Replace it when training finishes?', trimmed), { modal: true }, replace);
  if (choice !== replace) return askPackName(services, packsFolder, trimmed);
  return { name: trimmed, replace: true };
}

/** Option list: each entry edits one value; "Start Training" accepts. Returns undefined when dismissed. */
async function reviewOptions(training: TrainingDefaults, backend: BackendChoice, summary: string): Promise<{ training: TrainingDefaults; backend: BackendChoice } | undefined> {
  const current = { ...training };
  let currentBackend = backend;
  type Key = keyof TrainingDefaults | 'backend' | 'start';
  for (;;) {
    const engineDefault = vscode.l10n.t('engine default');
    const items: (vscode.QuickPickItem & { key: Key })[] = [
      { label: `$(play) ${vscode.l10n.t('Start Training')}`, detail: summary, key: 'start' },
      { label: vscode.l10n.t('Steps'), description: String(current.steps), key: 'steps' },
      { label: vscode.l10n.t('Batch size'), description: String(current.batchSize), key: 'batchSize' },
      { label: vscode.l10n.t('Sequence length'), description: vscode.l10n.t('{0} tokens', current.seqLen), key: 'seqLen' },
      { label: vscode.l10n.t('Learning rate'), description: String(current.learningRate), key: 'learningRate' },
      { label: vscode.l10n.t('Memory layers'), description: current.layers.length > 0 ? current.layers.join(', ') : engineDefault, key: 'layers' },
      { label: vscode.l10n.t('Rows per head'), description: current.rowsPerHead > 0 ? String(current.rowsPerHead) : engineDefault, key: 'rowsPerHead' },
      { label: vscode.l10n.t('Backend'), description: currentBackend, key: 'backend' },
    ];
    const picked = await vscode.window.showQuickPick(items, { title: vscode.l10n.t('Train Pack: options'), placeHolder: vscode.l10n.t('Pick an option to change it, or start') });
    if (!picked) return undefined;
    if (picked.key === 'start') return { training: current, backend: currentBackend };
    if (picked.key === 'backend') {
      const choice = (await vscode.window.showQuickPick([...backendChoices], { placeHolder: vscode.l10n.t('TensorFlow.js backend') })) as BackendChoice | undefined;
      if (choice) currentBackend = choice;
      continue;
    }
    if (picked.key === 'layers') {
      const value = await vscode.window.showInputBox({
        prompt: vscode.l10n.t('0-based decoder blocks, separated by commas; empty for the engine default'),
        value: current.layers.join(', '),
        validateInput: (text) => (text.trim() === '' || /^\s*\d+(\s*,\s*\d+)*\s*$/.test(text) ? undefined : vscode.l10n.t('Enter whole numbers separated by commas.')),
      });
      if (value !== undefined) current.layers = value.trim() === '' ? [] : value.split(',').map((part) => Number(part.trim()));
      continue;
    }
    const key = picked.key;
    const isRate = key === 'learningRate';
    const minimum = key === 'rowsPerHead' ? 0 : 1;
    const value = await vscode.window.showInputBox({
      prompt: picked.label,
      value: String(current[key]),
      validateInput: (text) => {
        const number = Number(text);
        if (isRate) return Number.isFinite(number) && number > 0 ? undefined : vscode.l10n.t('Enter a number greater than 0.');
        return Number.isSafeInteger(number) && number >= minimum ? undefined : vscode.l10n.t('Enter a whole number of at least {0}.', minimum);
      },
    });
    if (value !== undefined) current[key] = Number(value);
  }
}

export async function trainPackCommand(services: EngramServices, rawArguments?: unknown): Promise<void> {
  const args: TrainPackArguments = typeof rawArguments === 'object' && rawArguments !== null ? (rawArguments as TrainPackArguments) : {};
  if (!vscode.workspace.isTrusted) {
    void vscode.window.showWarningMessage(vscode.l10n.t('Training is disabled in Restricted Mode. Trust this workspace to train packs.'));
    return;
  }
  const active = services.training.activeRun;
  if (active) {
    const show = vscode.l10n.t('Show Dashboard');
    const choice = await vscode.window.showWarningMessage(vscode.l10n.t('{0} is still training. Cancel it before starting another run.', active.info.packName), show);
    if (choice === show) services.dashboard.show(active.history);
    return;
  }

  const settings = services.settings();
  const root = services.workspaceRoot();
  const packsFolder = settings.packsFolder;
  if (!packsFolder) {
    void vscode.window.showErrorMessage(vscode.l10n.t('engram.packsFolder is a relative path but no folder is open. Open a folder or set an absolute packs folder.'));
    return;
  }

  let modelDir = args.modelDir;
  if (modelDir) {
    const check = inspectModelFolder(modelDir);
    if (!check.ok) {
      void vscode.window.showErrorMessage(describeModelProblem(modelDir, check.problem));
      return;
    }
  } else {
    modelDir = (await ensureModel(services))?.dir;
    if (!modelDir) return;
  }

  const previousCorpus = services.context.workspaceState.get<string[]>(memoryKeys.lastCorpus, []);
  const corpus = args.corpus ?? (await pickCorpus(root, previousCorpus));
  if (!corpus || corpus.length === 0) return;
  await services.context.workspaceState.update(memoryKeys.lastCorpus, corpus);

  let preview: CorpusPreview;
  try {
    preview = await vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title: vscode.l10n.t('Reading the corpus…') }, () =>
      services.runtime.request('previewCorpus', { modelDir, files: corpus }),
    );
  } catch (error) {
    if (error instanceof WorkerRequestError && error.code !== 'internal' && error.code !== 'worker-exited') {
      void vscode.window.showErrorMessage(error.message);
    } else {
      await showErrorWithLog(services.log, vscode.l10n.t('Reading the corpus failed: {0}', (error as Error).message));
    }
    return;
  }
  for (const skipped of preview.skipped) services.log.warn(`Corpus: skipped ${skipped.path}: ${skipped.reason}`);

  let packName = args.packName?.trim();
  let replace = args.replace ?? false;
  if (packName) {
    const problem = checkPackName(packName, replace ? [] : existingPackNames(packsFolder));
    if (problem) {
      void vscode.window.showErrorMessage(describePackNameProblem(problem));
      return;
    }
  } else {
    const remembered = services.context.workspaceState.get<string>(memoryKeys.lastPackName);
    const suggestion = remembered && !existingPackNames(packsFolder).includes(remembered) ? remembered : suggestPackName(corpus, existingPackNames(packsFolder));
    const answer = await askPackName(services, packsFolder, suggestion);
    if (!answer) return;
    packName = answer.name;
    replace = answer.replace;
  }
  await services.context.workspaceState.update(memoryKeys.lastPackName, packName);

  const packDir = packDirFor(packsFolder, packName);
  let resume = args.resume ?? false;
  if (args.resume === undefined && existsSync(checkpointDirFor(packDir))) {
    const resumeLabel = vscode.l10n.t('Resume');
    const restart = vscode.l10n.t('Start Over');
    const choice = await vscode.window.showInformationMessage(vscode.l10n.t('A checkpoint of {0} exists. Resume from it?', packName), { modal: true }, resumeLabel, restart);
    if (!choice) return;
    resume = choice === resumeLabel;
  }

  const throughput = services.context.globalState.get<Record<string, number>>(memoryKeys.throughput, {});
  let training: TrainingDefaults = { ...settings.training, ...args.training };
  let backend = args.backend ?? settings.backend;
  const tokensPerSecond = throughput[throughputKey(modelDir, backend)] ?? Object.entries(throughput).find(([key]) => key.startsWith(`${modelDir}|`))?.[1];
  if (!args.skipOptions) {
    const reviewed = await reviewOptions(training, backend, previewText(preview, training, tokensPerSecond));
    if (!reviewed) return;
    training = reviewed.training;
    backend = reviewed.backend;
  }

  const params = buildTrainParams({ modelDir, corpus, packsFolder, packName, replace, resume, backend, training });
  try {
    services.training.start(params);
  } catch (error) {
    void vscode.window.showWarningMessage((error as Error).message);
  }
}
