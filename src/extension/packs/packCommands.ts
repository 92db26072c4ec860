/** Commands on packs: attach, detach, switch, rename, reveal, delete, open history. */
import { existsSync } from 'node:fs';
import { rename } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import * as vscode from 'vscode';
import { showErrorWithLog } from '../log';
import { ensureModel } from '../model/selectModel';
import type { EngramServices } from '../services';
import { readPackHistoryFiles } from '../training/packHistory';
import { RunHistory } from '../training/runHistory';
import { checkpointDirFor } from '../training/trainPlan';
import { WorkerRequestError } from '../worker/workerClient';
import { checkPackName, packNameFromDir, type PackItem, type PackNameProblem } from './packTreeModel';

export function describePackNameProblem(problem: PackNameProblem): string {
  switch (problem) {
    case 'empty':
      return vscode.l10n.t('Enter a pack name.');
    case 'separator':
      return vscode.l10n.t('A pack name cannot contain / or \\.');
    case 'leading-dot':
      return vscode.l10n.t('A pack name cannot start with a dot.');
    case 'reserved-character':
      return vscode.l10n.t('A pack name cannot contain < > : " | ? * or control characters.');
    case 'too-long':
      return vscode.l10n.t('A pack name can have at most 100 characters.');
    case 'clash':
      return vscode.l10n.t('A pack with this name exists.');
  }
}

/** Resolves a command argument (tree item, pack folder path or nothing) to a listed pack. */
async function resolvePack(services: EngramServices, argument: unknown, placeHolder: string, filter: (item: PackItem) => boolean): Promise<PackItem | undefined> {
  if (typeof argument === 'object' && argument !== null && typeof (argument as PackItem).dir === 'string') {
    const dir = (argument as PackItem).dir;
    return services.packs.packs.find((item) => item.dir === dir) ?? (argument as PackItem);
  }
  if (typeof argument === 'string') {
    await services.packs.reload();
    return services.packs.packs.find((item) => item.dir === argument || item.name === argument);
  }
  await services.packs.reload();
  const candidates = services.packs.packs.filter(filter);
  if (candidates.length === 0) {
    void vscode.window.showInformationMessage(vscode.l10n.t('No packs in {0}.', services.settings().packsFolder ?? vscode.l10n.t('the packs folder')));
    return undefined;
  }
  const picked = await vscode.window.showQuickPick(
    candidates.map((item) => ({ label: item.name, description: item.description, item })),
    { placeHolder },
  );
  return picked?.item;
}

export async function attachPack(services: EngramServices, argument?: unknown): Promise<void> {
  const pack = await resolvePack(services, argument, vscode.l10n.t('Pack to attach'), (item) => item.kind !== 'invalid');
  if (!pack) return;
  if (pack.kind === 'invalid' || pack.kind === 'mismatch') {
    void vscode.window.showErrorMessage(vscode.l10n.t('Cannot attach {0}: {1}', pack.name, pack.reason ?? ''));
    return;
  }
  if (pack.kind === 'attached') return;
  const model = await ensureModel(services);
  if (!model) return;
  const settings = services.settings();
  try {
    const info = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: vscode.l10n.t('Attaching {0}…', pack.name) },
      () => services.runtime.attach(pack.dir, model.dir, settings.backend),
    );
    services.log.info(`Attached ${info.name} to ${model.dir} on ${services.runtime.state.backend ?? '?'}.`);
    services.packs.rerender();
  } catch (error) {
    if (error instanceof WorkerRequestError && error.code !== 'worker-exited' && error.code !== 'internal') {
      void vscode.window.showErrorMessage(vscode.l10n.t('Cannot attach {0}: {1}', pack.name, error.message));
      return;
    }
    services.log.error(`Attaching ${pack.dir} failed: ${(error as Error).message}`);
    await showErrorWithLog(services.log, vscode.l10n.t('Attaching {0} failed: {1}', pack.name, (error as Error).message));
  }
}

export async function detachPack(services: EngramServices): Promise<void> {
  const attached = services.runtime.state.attached;
  if (!attached) {
    void vscode.window.showInformationMessage(vscode.l10n.t('No pack is attached.'));
    return;
  }
  try {
    await services.runtime.detach();
    services.log.info(`Detached ${attached.name}.`);
  } catch (error) {
    await showErrorWithLog(services.log, vscode.l10n.t('Detaching {0} failed: {1}', attached.name, (error as Error).message));
  }
  services.packs.rerender();
}

/** Status bar switcher: attach another pack, or detach. */
export async function switchPack(services: EngramServices): Promise<void> {
  await services.packs.reload();
  interface SwitchItem extends vscode.QuickPickItem {
    action: 'attach' | 'detach' | 'train' | 'none';
    pack?: PackItem;
  }
  const attached = services.runtime.state.attached;
  const items: SwitchItem[] = services.packs.packs.map((pack) => ({
    label: `${pack.kind === 'attached' ? '$(pass-filled)' : pack.kind === 'attachable' ? '$(database)' : '$(warning)'} ${pack.name}`,
    description: pack.description,
    action: pack.kind === 'attachable' ? 'attach' : 'none',
    pack,
  }));
  if (attached) items.push({ label: `$(debug-disconnect) ${vscode.l10n.t('Detach {0}', attached.name)}`, action: 'detach' });
  items.push({ label: `$(add) ${vscode.l10n.t('Train a New Pack…')}`, action: 'train' });
  const picked = await vscode.window.showQuickPick(items, { placeHolder: vscode.l10n.t('Attach a pack to the model') });
  if (!picked) return;
  if (picked.action === 'attach') await attachPack(services, picked.pack);
  else if (picked.action === 'detach') await detachPack(services);
  else if (picked.action === 'train') await vscode.commands.executeCommand('engram.trainPack');
  else if (picked.pack?.reason) void vscode.window.showWarningMessage(vscode.l10n.t('Cannot attach {0}: {1}', picked.pack.name, picked.pack.reason));
}

export async function renamePack(services: EngramServices, argument?: unknown): Promise<void> {
  const pack = await resolvePack(services, argument, vscode.l10n.t('Pack to rename'), (item) => item.kind !== 'attached');
  if (!pack) return;
  if (pack.kind === 'attached') {
    void vscode.window.showWarningMessage(vscode.l10n.t('Detach {0} before renaming it.', pack.name));
    return;
  }
  const others = services.packs.packs.filter((item) => item.dir !== pack.dir).map((item) => item.name);
  const newName = await vscode.window.showInputBox({
    title: vscode.l10n.t('Rename Pack'),
    value: pack.name,
    validateInput: (value) => {
      const problem = checkPackName(value, others);
      return problem ? describePackNameProblem(problem) : undefined;
    },
  });
  if (!newName || newName.trim() === pack.name) return;
  const target = join(dirname(pack.dir), `${newName.trim()}.engram`);
  try {
    await rename(pack.dir, target);
    if (existsSync(checkpointDirFor(pack.dir))) await rename(checkpointDirFor(pack.dir), checkpointDirFor(target));
    services.log.info(`Renamed pack ${pack.dir} to ${target}.`);
  } catch (error) {
    void vscode.window.showErrorMessage(vscode.l10n.t('Could not rename {0}: {1}', pack.name, (error as Error).message));
  }
  await services.packs.reload();
}

export async function revealPack(services: EngramServices, argument?: unknown): Promise<void> {
  const pack = await resolvePack(services, argument, vscode.l10n.t('Pack to reveal'), () => true);
  if (!pack) return;
  const uri = vscode.Uri.file(pack.dir);
  const inWorkspace = vscode.workspace.getWorkspaceFolder(uri) !== undefined;
  await vscode.commands.executeCommand(inWorkspace ? 'revealInExplorer' : 'revealFileInOS', uri);
}

export async function deletePack(services: EngramServices, argument?: unknown): Promise<void> {
  const pack = await resolvePack(services, argument, vscode.l10n.t('Pack to delete'), (item) => item.kind !== 'attached');
  if (!pack) return;
  if (pack.kind === 'attached') {
    void vscode.window.showWarningMessage(vscode.l10n.t('Detach {0} before deleting it.', pack.name));
    return;
  }
  const checkpoint = checkpointDirFor(pack.dir);
  const hasCheckpoint = existsSync(checkpoint);
  const confirm = vscode.l10n.t('Delete');
  const choice = await vscode.window.showWarningMessage(
    vscode.l10n.t('Delete pack {0}?', pack.name),
    { modal: true, detail: hasCheckpoint ? vscode.l10n.t('{0} and its checkpoint {1} will be deleted.', pack.dir, checkpoint) : vscode.l10n.t('{0} will be deleted.', pack.dir) },
    confirm,
  );
  if (choice !== confirm) return;
  try {
    for (const dir of hasCheckpoint ? [pack.dir, checkpoint] : [pack.dir]) {
      await vscode.workspace.fs.delete(vscode.Uri.file(dir), { recursive: true, useTrash: false });
    }
    services.log.info(`Deleted pack ${pack.dir}${hasCheckpoint ? ` and ${checkpoint}` : ''}.`);
  } catch (error) {
    void vscode.window.showErrorMessage(vscode.l10n.t('Could not delete {0}: {1}', pack.name, (error as Error).message));
  }
  await services.packs.reload();
}

/** Opens a pack's stored `history.jsonl` in the dashboard. */
export async function openPackHistory(services: EngramServices, argument?: unknown): Promise<void> {
  const pack = await resolvePack(services, argument, vscode.l10n.t('Pack whose training to show'), () => true);
  if (!pack) return;
  const stored = await readPackHistoryFiles(pack.dir);
  if (!stored) {
    void vscode.window.showInformationMessage(vscode.l10n.t('{0} has no stored training history (history.jsonl).', pack.name));
    return;
  }
  const { records, invalidLines, layers, rowHitsProblem } = stored;
  if (invalidLines.length > 0) services.log.warn(`${join(pack.dir, 'history.jsonl')}: skipped ${invalidLines.length} invalid lines (first: line ${invalidLines[0]}).`);
  if (rowHitsProblem) services.log.warn(`${join(pack.dir, 'row-hits.json')} is invalid and was not shown: ${rowHitsProblem}`);
  const history = new RunHistory({
    id: `history:${pack.dir}`,
    packName: pack.name,
    packDir: pack.dir,
    modelDir: '',
    startedAt: '',
    state: 'replayed',
    layers,
  });
  for (const record of records) history.add(record);
  services.dashboard.show(history);
}

export async function explainPack(services: EngramServices, argument?: unknown): Promise<void> {
  const pack = argument as PackItem | undefined;
  if (!pack?.reason) return;
  const name = pack.name ?? packNameFromDir(pack.dir);
  if (pack.kind !== 'invalid') {
    void vscode.window.showWarningMessage(vscode.l10n.t('Cannot attach {0}: {1}', name, pack.reason));
    return;
  }
  const reveal = vscode.l10n.t('Reveal');
  const remove = vscode.l10n.t('Delete');
  const choice = await vscode.window.showWarningMessage(vscode.l10n.t('Cannot attach {0}: {1}', name, pack.reason), reveal, remove);
  if (choice === reveal) await revealPack(services, pack);
  else if (choice === remove) await deletePack(services, pack);
}
