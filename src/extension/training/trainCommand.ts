/**
 * "Engram: Train Pack": prompts only for what is missing (model, corpus, pack name, options),
 * with remembered choices preselected, then starts the run. Arguments given to the command
 * (for keybindings and scripts) skip the matching questions.
 */
import { existsSync, readdirSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import * as vscode from 'vscode';
import type { BackendChoice } from '../../engine/types';
import { backendChoices } from '../../protocol/trainEvents';
import type { CorpusPreview } from '../../protocol/worker';
import type { TrainingDefaults } from '../config';
import { formatBytes, formatCount, formatDuration } from '../format';
import { showErrorWithLog } from '../log';
import { describeModelProblem, ensureModel } from '../model/selectModel';
import { bundledModelPath } from '../model/modelChoices';
import { inspectModelFolder, type ModelFolderInfo } from '../model/modelFolder';
import { describePackNameProblem } from '../packs/packCommands';
import { checkPackName } from '../packs/packTreeModel';
import { memoryKeys, type EngramServices } from '../services';
import { WorkerRequestError } from '../worker/workerClient';
import { pickCorpus } from './corpusPicker';
import { replaceCliFlags } from './engineMessages';
import {
  buildTrainParams,
  bundledModelThroughput,
  checkLayers,
  checkpointDirFor,
  checkSeqLen,
  estimateTrainingSeconds,
  minSeqLen,
  packDirFor,
  pickThroughput,
  suggestPackName,
  type ModelLimits,
  type OptionProblem,
  type ThroughputEstimate,
} from './trainPlan';

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

function previewText(preview: CorpusPreview, training: TrainingDefaults, throughput: ThroughputEstimate | undefined): string {
  const parts = [
    preview.files === 1 ? vscode.l10n.t('1 file') : vscode.l10n.t('{0} files', formatCount(preview.files)),
    formatBytes(preview.bytes),
    preview.estimated ? vscode.l10n.t('about {0} tokens', formatCount(preview.tokens)) : vscode.l10n.t('{0} tokens', formatCount(preview.tokens)),
  ];
  const seconds = estimateTrainingSeconds(training, throughput?.tokensPerSecond);
  if (seconds === undefined || throughput === undefined) parts.push(vscode.l10n.t('time unknown until a first run on this model measures its speed'));
  else if (throughput.source === 'measured') parts.push(vscode.l10n.t('training about {0} (estimate from the last run)', formatDuration(seconds)));
  else parts.push(vscode.l10n.t('training about {0} (rough estimate from the benchmark of this model)', formatDuration(seconds)));
  if (preview.skipped.length > 0) parts.push(vscode.l10n.t('{0} skipped', preview.skipped.length));
  return parts.join(' · ');
}

function describeOptionProblem(problem: OptionProblem): string {
  switch (problem.kind) {
    case 'seq-len':
      return problem.max === undefined
        ? vscode.l10n.t('Enter a whole number of at least {0}.', problem.min)
        : vscode.l10n.t('Enter a whole number from {0} to {1} (the model\'s max_position_embeddings).', problem.min, problem.max);
    case 'layer-range':
      return vscode.l10n.t('Block {0} does not exist: this model has blocks 0 to {1}.', problem.layer, problem.max);
    case 'layer-duplicate':
      return vscode.l10n.t('Block {0} is listed twice.', problem.layer);
  }
}

async function askPackName(services: EngramServices, packsFolder: string, suggestion: string): Promise<{ name: string; replace: boolean } | undefined> {
  const existing = existingPackNames(packsFolder);
  const name = await vscode.window.showInputBox({
    title: vscode.l10n.t('Train Pack: name'),
    prompt: vscode.l10n.t('The pack is saved as a folder named after it, with the extension .engram, in {0}.', packsFolder),
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
async function reviewOptions(
  training: TrainingDefaults,
  backend: BackendChoice,
  model: ModelLimits,
  summary: (training: TrainingDefaults, backend: BackendChoice) => string,
): Promise<{ training: TrainingDefaults; backend: BackendChoice } | undefined> {
  const current = { ...training };
  let currentBackend = backend;
  type Key = keyof TrainingDefaults | 'backend' | 'start';
  for (;;) {
    const engineDefault = vscode.l10n.t('engine default');
    const items: (vscode.QuickPickItem & { key: Key })[] = [
      { label: `$(play) ${vscode.l10n.t('Start Training')}`, detail: summary(current, currentBackend), key: 'start' },
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
    if (picked.key === 'start') {
      const problem = checkSeqLen(current.seqLen, model) ?? checkLayers(current.layers, model);
      if (!problem) return { training: current, backend: currentBackend };
      void vscode.window.showErrorMessage(describeOptionProblem(problem));
      continue;
    }
    if (picked.key === 'backend') {
      const choice = (await vscode.window.showQuickPick([...backendChoices], { title: vscode.l10n.t('Train Pack: backend'), placeHolder: vscode.l10n.t('TensorFlow.js backend') })) as
        | BackendChoice
        | undefined;
      if (choice) currentBackend = choice;
      continue;
    }
    if (picked.key === 'layers') {
      const value = await vscode.window.showInputBox({
        title: vscode.l10n.t('Train Pack: memory layers'),
        prompt: vscode.l10n.t('Decoder blocks from 0 to {0}, separated by commas. Leave empty for the engine default.', model.numLayers - 1),
        value: current.layers.join(', '),
        validateInput: (text) => {
          if (text.trim() === '') return undefined;
          if (!/^\s*\d+(\s*,\s*\d+)*\s*$/.test(text)) return vscode.l10n.t('Enter whole numbers separated by commas.');
          const problem = checkLayers(
            text.split(',').map((part) => Number(part.trim())),
            model,
          );
          return problem ? describeOptionProblem(problem) : undefined;
        },
      });
      if (value !== undefined) current.layers = value.trim() === '' ? [] : value.split(',').map((part) => Number(part.trim()));
      continue;
    }
    const key = picked.key;
    const isRate = key === 'learningRate';
    const minimum = key === 'rowsPerHead' ? 0 : 1;
    const value = await vscode.window.showInputBox({
      title: vscode.l10n.t('Train Pack: {0}', picked.label),
      prompt: key === 'seqLen' && model.maxPositions !== undefined ? vscode.l10n.t('Tokens per training sequence, from {0} to {1}.', minSeqLen, model.maxPositions) : picked.label,
      value: String(current[key]),
      validateInput: (text) => {
        const number = Number(text);
        if (isRate) return Number.isFinite(number) && number > 0 ? undefined : vscode.l10n.t('Enter a number greater than 0.');
        if (key === 'seqLen') {
          const problem = checkSeqLen(number, model);
          return problem ? describeOptionProblem(problem) : undefined;
        }
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

  let model: ModelFolderInfo | undefined;
  if (args.modelDir) {
    const check = inspectModelFolder(args.modelDir);
    if (!check.ok) {
      void vscode.window.showErrorMessage(describeModelProblem(args.modelDir, check.problem));
      return;
    }
    model = check.info;
  } else {
    model = await ensureModel(services);
    if (!model) return;
  }
  const modelDir = model.dir;

  const previousCorpus = services.context.workspaceState.get<string[]>(memoryKeys.lastCorpus, []);
  const corpus = args.corpus ?? (await pickCorpus(root, previousCorpus));
  if (!corpus || corpus.length === 0) return;

  let preview: CorpusPreview;
  try {
    preview = await vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title: vscode.l10n.t('Reading the corpus…') }, () =>
      services.runtime.request('previewCorpus', { modelDir, files: corpus }),
    );
  } catch (error) {
    const isPrevious = corpus.length === previousCorpus.length && corpus.every((pattern, index) => pattern === previousCorpus[index]);
    if (isPrevious) await services.context.workspaceState.update(memoryKeys.lastCorpus, undefined);
    if (error instanceof WorkerRequestError && error.code !== 'internal' && error.code !== 'worker-exited') {
      void vscode.window.showErrorMessage(replaceCliFlags(error.message));
    } else {
      await showErrorWithLog(services.log, vscode.l10n.t('Reading the corpus failed: {0}', (error as Error).message));
    }
    return;
  }
  for (const skipped of preview.skipped) services.log.warn(`Corpus: skipped ${skipped.path}: ${skipped.reason}`);
  // Only a corpus that has documents is offered as "Last corpus" next time.
  if (preview.files > 0) await services.context.workspaceState.update(memoryKeys.lastCorpus, corpus);

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

  const measured = services.context.globalState.get<Record<string, number>>(memoryKeys.throughput, {});
  let training: TrainingDefaults = { ...settings.training, ...args.training };
  let backend = args.backend ?? settings.backend;
  // A copy of the bundled model (same folder name) runs at the same speed, so it gets the benchmark figures too.
  const isBundledModel = resolve(modelDir) === vscode.Uri.joinPath(services.context.extensionUri, ...bundledModelPath.split(/[\\/]/)).fsPath || basename(modelDir) === basename(bundledModelPath);
  const summary = (current: TrainingDefaults, currentBackend: BackendChoice) =>
    previewText(preview, current, pickThroughput(measured, modelDir, currentBackend, isBundledModel ? bundledModelThroughput : undefined));
  const limits: ModelLimits = { numLayers: model.numLayers, maxPositions: model.maxPositions };
  const settingProblem = checkSeqLen(training.seqLen, limits) ?? checkLayers(training.layers, limits);
  if (settingProblem && args.skipOptions) {
    void vscode.window.showErrorMessage(vscode.l10n.t('The training options do not fit {0}: {1}', model.name, describeOptionProblem(settingProblem)));
    return;
  }
  if (!args.skipOptions) {
    const reviewed = await reviewOptions(training, backend, limits, summary);
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
