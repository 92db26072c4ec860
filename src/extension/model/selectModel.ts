/** "Engram: Select Model": pick and check a model folder, then store it in `engram.modelFolder`. */
import * as vscode from 'vscode';
import { memoryKeys, type EngramServices } from '../services';
import { bundledModelPath, listModelChoices } from './modelChoices';
import { inspectModelFolder, supportedArchitectures, type ModelFolderInfo, type ModelFolderProblem } from './modelFolder';

const maxRecentModels = 8;

export function describeModelProblem(dir: string, problem: ModelFolderProblem): string {
  switch (problem.kind) {
    case 'not-found':
      return vscode.l10n.t('Model folder not found: {0}.', dir);
    case 'missing-files':
      return vscode.l10n.t('{0} is not a Hugging Face model folder: {1} missing. Pick the folder that contains config.json, model.safetensors and tokenizer.json.', dir, problem.files.join(', '));
    case 'invalid-config':
      return vscode.l10n.t('config.json in {0} is invalid: {1}.', dir, problem.detail);
    case 'unsupported-architecture':
      return vscode.l10n.t(
        'Unsupported model architecture in {0}: {1}. Supported: {2}.',
        dir,
        problem.found.length > 0 ? problem.found.join(', ') : vscode.l10n.t('none given'),
        supportedArchitectures.join(', '),
      );
  }
}

/** Returns the configured model folder when it passes the check, otherwise undefined. */
export function configuredModel(services: EngramServices): ModelFolderInfo | undefined {
  const dir = services.settings().modelFolder;
  if (!dir) return undefined;
  const result = inspectModelFolder(dir);
  return result.ok ? result.info : undefined;
}

/** Asks for a model folder (bundled, recent or browsed), checks it at once, and saves it; undefined when the user gives up. */
export async function selectModel(services: EngramServices): Promise<ModelFolderInfo | undefined> {
  const current = services.settings().modelFolder;
  const recent = services.context.globalState.get<string[]>(memoryKeys.recentModels, []);
  const bundledDir = vscode.Uri.joinPath(services.context.extensionUri, ...bundledModelPath.split(/[\\/]/)).fsPath;
  interface ModelItem extends vscode.QuickPickItem {
    dir?: string;
  }
  const items: ModelItem[] = listModelChoices(bundledDir, current, recent).map((choice) => {
    const check = inspectModelFolder(choice.dir);
    const tags = [choice.bundled ? vscode.l10n.t('bundled') : undefined, choice.current ? vscode.l10n.t('current') : undefined].filter((tag) => tag !== undefined);
    return {
      label: `$(${choice.bundled ? 'package' : 'folder'}) ${choice.dir.split(/[\\/]/).pop() ?? choice.dir}`,
      description: tags.length > 0 ? tags.join(' · ') : undefined,
      detail: check.ok ? `${check.info.architecture} · ${choice.dir}` : describeModelProblem(choice.dir, check.problem),
      dir: choice.dir,
    };
  });
  const browse: ModelItem = { label: `$(folder-opened) ${vscode.l10n.t('Browse…')}`, detail: vscode.l10n.t('Choose a Hugging Face model folder on disk') };
  const picked = await vscode.window.showQuickPick([...items, browse], {
    title: vscode.l10n.t('Select the base model'),
    placeHolder: vscode.l10n.t('Hugging Face model folder (config.json, model.safetensors, tokenizer.json)'),
  });
  if (!picked) return undefined;
  let dir = picked.dir;
  if (!dir) {
    const root = services.workspaceRoot();
    let defaultUri: vscode.Uri | undefined;
    if (current) defaultUri = vscode.Uri.file(current);
    else if (root) defaultUri = vscode.Uri.file(root);
    const uris = await vscode.window.showOpenDialog({
      canSelectFolders: true,
      canSelectFiles: false,
      canSelectMany: false,
      defaultUri,
      openLabel: vscode.l10n.t('Use This Model'),
      title: vscode.l10n.t('Select the base model folder'),
    });
    dir = uris?.[0]?.fsPath;
    if (!dir) return undefined;
  }

  const result = inspectModelFolder(dir);
  if (!result.ok) {
    const again = vscode.l10n.t('Choose Another');
    const choice = await vscode.window.showErrorMessage(describeModelProblem(dir, result.problem), again);
    return choice === again ? selectModel(services) : undefined;
  }
  const target = vscode.workspace.workspaceFolders ? vscode.ConfigurationTarget.Workspace : vscode.ConfigurationTarget.Global;
  await vscode.workspace.getConfiguration('engram').update('modelFolder', dir, target);
  await services.context.globalState.update(memoryKeys.recentModels, [dir, ...recent.filter((entry) => entry !== dir)].slice(0, maxRecentModels));
  services.log.info(`Model folder set to ${dir} (${result.info.architecture}, hidden size ${result.info.hiddenSize}, ${result.info.numLayers} layers).`);
  vscode.window.setStatusBarMessage(vscode.l10n.t('$(check) Engram model: {0}', result.info.name), 5000);
  return result.info;
}

/** Returns the configured model when it is valid, otherwise prompts for one. */
export async function ensureModel(services: EngramServices): Promise<ModelFolderInfo | undefined> {
  const dir = services.settings().modelFolder;
  if (dir) {
    const result = inspectModelFolder(dir);
    if (result.ok) return result.info;
    void vscode.window.showWarningMessage(describeModelProblem(dir, result.problem));
  }
  return selectModel(services);
}
