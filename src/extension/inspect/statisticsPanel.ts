/**
 * The Pack Statistics panel: per layer and head the training lookups, unique rows, share of the
 * table trained and rank-frequency curve, the hash collisions of the pack's corpus, and the gate
 * histogram, as `engram inspect --json` reports them. The host measures in the runtime worker and
 * sends the whole result again each time the webview loads.
 */
import { writeFile } from 'node:fs/promises';
import { basename } from 'node:path';
import * as vscode from 'vscode';
import type { PackStatisticsResult } from '../../protocol/inspect';
import { STATISTICS_PROTOCOL_VERSION, statisticsToHost, type HostToStatistics } from '../../protocol/statistics';
import { check } from '../../protocol/validate';
import { showErrorWithLog } from '../log';
import type { EngramServices } from '../services';
import { inspectedSlice, readInspectMaxTokens } from './inspectSettings';
import { ensurePackAttached } from './readiness';
import { statisticsStrings } from './statisticsStrings';
import { webviewPage } from '../webviewPage';

interface Measurement {
  result: PackStatisticsResult;
  textSource: string | null;
  maxTokens: number;
}

export class StatisticsPanel implements vscode.Disposable {
  private panel: vscode.WebviewPanel | undefined;
  private webviewReady = false;
  private measurement: Measurement | undefined;
  /** Increases with each measurement, so a slow earlier one cannot overwrite a newer one. */
  private generation = 0;
  /** The text editor that was active last; the panel takes focus from it. */
  private lastEditor: vscode.TextEditor | undefined = vscode.window.activeTextEditor;
  private readonly editorListener: vscode.Disposable;

  constructor(private readonly services: EngramServices) {
    this.editorListener = vscode.window.onDidChangeActiveTextEditor((editor) => {
      if (editor) this.lastEditor = editor;
    });
  }

  /** Command handler of "Engram: Show Pack Statistics". */
  async show(): Promise<void> {
    if (!(await ensurePackAttached(this.services, vscode.l10n.t('Show Pack Statistics')))) return;
    if (this.panel) {
      this.panel.reveal();
    } else {
      this.createPanel();
    }
    await this.measure();
  }

  /** Measures again when the attached pack changed while the panel is open. */
  onRuntimeChanged(): void {
    const attached = this.services.runtime.state.attached?.name;
    if (!this.panel || attached === this.measurement?.result.statistics.pack) return;
    if (attached) void this.measure();
    else this.post({ type: 'failed', message: vscode.l10n.t('No pack is attached. Attach a pack, then press Refresh.') });
  }

  dispose(): void {
    this.editorListener.dispose();
    this.panel?.dispose();
  }

  private createPanel(): void {
    const extensionUri = this.services.context.extensionUri;
    const distUri = vscode.Uri.joinPath(extensionUri, 'dist');
    const panel = vscode.window.createWebviewPanel(
      'engram.packStatistics',
      vscode.l10n.t('Engram Pack Statistics'),
      { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true },
      { enableScripts: true, localResourceRoots: [distUri] },
    );
    panel.iconPath = vscode.Uri.joinPath(extensionUri, 'media', 'engram.svg');
    this.panel = panel;
    this.webviewReady = false;
    panel.webview.onDidReceiveMessage((message: unknown) => this.onMessage(message));
    panel.onDidDispose(() => {
      this.panel = undefined;
      this.webviewReady = false;
    });
    panel.webview.html = webviewPage({
      cspSource: panel.webview.cspSource,
      scriptUri: panel.webview.asWebviewUri(vscode.Uri.joinPath(distUri, 'statistics.js')).toString(),
      styleUri: panel.webview.asWebviewUri(vscode.Uri.joinPath(distUri, 'statistics.css')).toString(),
      strings: statisticsStrings(),
      title: vscode.l10n.t('Engram Pack Statistics'),
      language: vscode.env.language,
    });
  }

  private onMessage(raw: unknown): void {
    const checked = check(statisticsToHost, raw);
    if (!checked.ok) {
      this.services.log.warn(`Pack Statistics sent an invalid message: ${checked.error.message}`);
      return;
    }
    const message = checked.value;
    switch (message.type) {
      case 'ready':
        if (message.protocolVersion !== STATISTICS_PROTOCOL_VERSION) {
          this.services.log.error(`Pack Statistics script speaks protocol ${message.protocolVersion}, the extension ${STATISTICS_PROTOCOL_VERSION}. Reload the window.`);
          return;
        }
        this.webviewReady = true;
        if (this.measurement) this.post({ type: 'statistics', ...this.measurement });
        break;
      case 'refresh':
        void this.refresh();
        break;
      case 'saveJson':
        void this.saveJson();
        break;
      case 'error':
        this.services.log.warn(`Pack Statistics: ${message.message}`);
        break;
    }
  }

  private async refresh(): Promise<void> {
    if (!(await ensurePackAttached(this.services, vscode.l10n.t('Show Pack Statistics')))) return;
    await this.measure();
  }

  private async measure(): Promise<void> {
    const pack = this.services.runtime.state.attached;
    if (!pack) return;
    const generation = ++this.generation;
    const maxTokens = readInspectMaxTokens((key) => vscode.workspace.getConfiguration('engram').get(key));
    const editor = this.lastEditor && !this.lastEditor.document.isClosed ? this.lastEditor : undefined;
    const selection = editor && !editor.selection.isEmpty ? { start: editor.document.offsetAt(editor.selection.start), end: editor.document.offsetAt(editor.selection.end) } : undefined;
    const slice = editor ? inspectedSlice(editor.document.getText(), selection, maxTokens) : undefined;
    const text = slice && slice.text.trim().length > 0 ? slice.text : undefined;

    this.post({ type: 'loading', pack: pack.name });
    try {
      // NOTE: collisions are counted on the whole stored corpus at each refresh, with no limit on its size or the time it takes.
      const result = await this.services.runtime.request('packStatistics', { text, maxTokens, collisions: true });
      if (generation !== this.generation) return;
      this.measurement = { result, textSource: text && editor ? basename(editor.document.fileName) : null, maxTokens };
      this.post({ type: 'statistics', ...this.measurement });
    } catch (error) {
      if (generation !== this.generation) return;
      const message = error instanceof Error ? error.message : String(error);
      this.services.log.error(`Pack statistics of ${pack.name} failed: ${error instanceof Error ? (error.stack ?? message) : message}`);
      this.post({ type: 'failed', message });
      await showErrorWithLog(this.services.log, vscode.l10n.t('Pack statistics of {0} failed: {1}', pack.name, message));
    }
  }

  private async saveJson(): Promise<void> {
    const statistics = this.measurement?.result.statistics;
    if (!statistics) return;
    const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
    const target = await vscode.window.showSaveDialog({
      defaultUri: folder ? vscode.Uri.joinPath(folder, `${statistics.pack}-statistics.json`) : undefined,
      filters: { JSON: ['json'] },
      title: vscode.l10n.t('Save Pack Statistics'),
    });
    if (!target) return;
    try {
      await writeFile(target.fsPath, JSON.stringify(statistics, null, 2) + '\n', 'utf8');
      this.services.log.info(`Saved the statistics of ${statistics.pack} to ${target.fsPath}.`);
    } catch (error) {
      void vscode.window.showErrorMessage(vscode.l10n.t('Could not write {0}: {1}', target.fsPath, (error as Error).message));
    }
  }

  private post(message: HostToStatistics): void {
    if (!this.panel || !this.webviewReady) return;
    void this.panel.webview.postMessage(message).then(undefined, (error: unknown) => this.services.log.warn(`Could not update Pack Statistics: ${String(error)}`));
  }
}
