/**
 * The "Packs" view: one item per `*.engram` folder in the packs folder, listed by the runtime
 * worker (pack metadata is read by engine code, which stays out of the extension host).
 * Refreshes on file changes in the packs folder, on setting changes and after attach/detach.
 */
import * as vscode from 'vscode';
import type { PackEntry } from '../../protocol/worker';
import type { RuntimeService } from '../worker/runtimeService';
import { buildPackItems, type PackItem, type PackTreeText } from './packTreeModel';

export interface PackTreeSource {
  runtime: RuntimeService;
  packsFolder(): string | undefined;
  modelFolder(): string | undefined;
  log: vscode.LogOutputChannel;
}

function localizedText(): PackTreeText {
  return {
    attached: vscode.l10n.t('attached'),
    cannotAttach: (reason) => vscode.l10n.t('Cannot attach: {0}', reason),
    unreadable: (reason) => vscode.l10n.t('Not a readable pack: {0}', reason),
  };
}

function packIcon(item: PackItem): vscode.ThemeIcon {
  switch (item.kind) {
    case 'attached':
      return new vscode.ThemeIcon('pass-filled', new vscode.ThemeColor('charts.green'));
    case 'attachable':
      return new vscode.ThemeIcon('database');
    default:
      return new vscode.ThemeIcon('warning', new vscode.ThemeColor('list.warningForeground'));
  }
}

export class PackTreeProvider implements vscode.TreeDataProvider<PackItem>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeTreeData = this.changed.event;
  private items: PackItem[] = [];
  private entries: PackEntry[] = [];
  private watcher: vscode.FileSystemWatcher | undefined;
  private watchedFolder: string | undefined;
  private refreshTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly source: PackTreeSource) {}

  /** Pack items as last listed; used by the switcher and the name check. */
  get packs(): readonly PackItem[] {
    return this.items;
  }

  getTreeItem(item: PackItem): vscode.TreeItem {
    const treeItem = new vscode.TreeItem(item.name, vscode.TreeItemCollapsibleState.None);
    treeItem.id = item.dir;
    treeItem.description = item.description;
    treeItem.tooltip = new vscode.MarkdownString(item.tooltip);
    treeItem.contextValue = item.contextValue;
    treeItem.resourceUri = vscode.Uri.file(item.dir);
    treeItem.iconPath = packIcon(item);
    if (item.kind === 'attachable') {
      treeItem.command = { command: 'engram.attachPack', title: vscode.l10n.t('Attach Pack'), arguments: [item] };
    } else if (item.kind === 'mismatch' || item.kind === 'invalid') {
      treeItem.command = { command: 'engram.explainPack', title: vscode.l10n.t('Why Can This Pack Not Be Attached?'), arguments: [item] };
    }
    return treeItem;
  }

  getChildren(element?: PackItem): PackItem[] {
    return element ? [] : this.items;
  }

  /** Lists the packs folder again; coalesces calls that arrive within 200 ms. */
  refresh(): void {
    if (this.refreshTimer) clearTimeout(this.refreshTimer);
    this.refreshTimer = setTimeout(() => void this.reload(), 200);
  }

  /** Rebuilds the items from the last listing, for a change of the attached pack. */
  rerender(): void {
    this.items = buildPackItems(this.entries, this.source.runtime.state.attached?.dir, localizedText());
    this.changed.fire();
  }

  async reload(): Promise<void> {
    const packsFolder = this.source.packsFolder();
    this.watch(packsFolder);
    if (!packsFolder) {
      this.entries = [];
    } else {
      try {
        this.entries = await this.source.runtime.request('listPacks', { packsDir: packsFolder, modelDir: this.source.modelFolder() });
      } catch (error) {
        this.source.log.error(`Could not list packs in ${packsFolder}: ${(error as Error).message}`);
        this.entries = [];
      }
    }
    void vscode.commands.executeCommand('setContext', 'engram.hasPacks', this.entries.length > 0);
    this.rerender();
  }

  dispose(): void {
    this.watcher?.dispose();
    this.changed.dispose();
    if (this.refreshTimer) clearTimeout(this.refreshTimer);
  }

  private watch(folder: string | undefined): void {
    if (folder === this.watchedFolder) return;
    this.watcher?.dispose();
    this.watcher = undefined;
    this.watchedFolder = folder;
    if (!folder) return;
    // Pack folders are written to a temporary name and renamed, so watch one level of children.
    this.watcher = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(vscode.Uri.file(folder), '*'));
    this.watcher.onDidCreate(() => this.refresh());
    this.watcher.onDidDelete(() => this.refresh());
    this.watcher.onDidChange(() => this.refresh());
  }
}
