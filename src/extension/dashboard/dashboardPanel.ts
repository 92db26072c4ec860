/**
 * The dashboard webview panel. The host owns the run history. Each time the webview loads (first
 * show, or when VS Code recreates a hidden webview) it sends `ready` and receives the full
 * history again, so no chart point exists only in the webview.
 */
import { writeFile } from 'node:fs/promises';
import * as vscode from 'vscode';
import { DASHBOARD_PROTOCOL_VERSION, dashboardToHost, maxRecordsPerMessage, type HostToDashboard } from '../../protocol/dashboard';
import type { HistoryRecord } from '../../protocol/trainEvents';
import { check } from '../../protocol/validate';
import { historyToCsv, RecordBatcher, type RunHistory, type RunInfo } from '../training/runHistory';
import { dashboardHtml } from './dashboardHtml';
import { dashboardStrings } from './dashboardStrings';

/** Interval between `append` messages: at most 10 messages per second reach the webview. */
const appendIntervalMs = 100;

export interface DashboardHost {
  cancelRun(runId: string): void;
}

export class DashboardPanel implements vscode.Disposable {
  private panel: vscode.WebviewPanel | undefined;
  private run: RunHistory | undefined;
  private webviewReady = false;
  private readonly batcher = new RecordBatcher((records) => this.sendAppend(records), appendIntervalMs);

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly log: vscode.LogOutputChannel,
    private readonly host: DashboardHost,
  ) {}

  get shownRunId(): string | undefined {
    return this.run?.info.id;
  }

  /** Opens (or focuses) the panel showing `run`; without a run it shows the last one. */
  show(run?: RunHistory, preserveFocus = false): void {
    if (run && run !== this.run) {
      this.batcher.dispose();
      this.run = run;
      this.sendInit();
    }
    if (this.panel) {
      this.panel.reveal(undefined, preserveFocus);
      return;
    }
    const distUri = vscode.Uri.joinPath(this.extensionUri, 'dist');
    const panel = vscode.window.createWebviewPanel(
      'engram.dashboard',
      vscode.l10n.t('Engram Dashboard'),
      { viewColumn: vscode.ViewColumn.Active, preserveFocus },
      { enableScripts: true, localResourceRoots: [distUri, vscode.Uri.joinPath(this.extensionUri, 'media')] },
    );
    panel.iconPath = vscode.Uri.joinPath(this.extensionUri, 'media', 'engram.svg');
    this.panel = panel;
    this.webviewReady = false;
    panel.webview.onDidReceiveMessage((message: unknown) => this.onMessage(message));
    panel.onDidDispose(() => {
      this.panel = undefined;
      this.webviewReady = false;
      this.batcher.dispose();
    });
    panel.webview.html = dashboardHtml({
      cspSource: panel.webview.cspSource,
      scriptUri: panel.webview.asWebviewUri(vscode.Uri.joinPath(distUri, 'webview.js')).toString(),
      styleUri: panel.webview.asWebviewUri(vscode.Uri.joinPath(distUri, 'webview.css')).toString(),
      strings: dashboardStrings(),
      title: vscode.l10n.t('Engram Dashboard'),
    });
  }

  /** Queues a record of `runId` for the webview; records of runs not shown are ignored. */
  addRecord(runId: string, record: HistoryRecord): void {
    if (this.run?.info.id === runId && this.webviewReady) this.batcher.push(record);
  }

  updateState(info: RunInfo): void {
    if (this.run?.info.id !== info.id) return;
    this.batcher.drain();
    this.post({ type: 'state', run: info });
  }

  dispose(): void {
    this.batcher.dispose();
    this.panel?.dispose();
  }

  private onMessage(raw: unknown): void {
    const result = check(dashboardToHost, raw);
    if (!result.ok) {
      this.log.warn(`Dashboard sent an invalid message: ${result.error.message}`);
      return;
    }
    const message = result.value;
    switch (message.type) {
      case 'ready':
        if (message.protocolVersion !== DASHBOARD_PROTOCOL_VERSION) {
          this.log.error(`Dashboard script speaks protocol ${message.protocolVersion}, the extension ${DASHBOARD_PROTOCOL_VERSION}. Reload the window.`);
          return;
        }
        this.webviewReady = true;
        this.sendInit();
        break;
      case 'cancel':
        this.host.cancelRun(message.runId);
        break;
      case 'exportCsv':
        void this.exportCsv(message.runId, message.smoothing);
        break;
      case 'error':
        this.log.warn(`Dashboard: ${message.message}`);
        break;
    }
  }

  private sendInit(): void {
    if (!this.webviewReady) return;
    this.batcher.dispose();
    const run = this.run;
    const records = run?.records ?? [];
    this.post({ type: 'init', protocolVersion: DASHBOARD_PROTOCOL_VERSION, run: run ? { ...run.info } : undefined, records: records.slice(0, maxRecordsPerMessage) });
    for (let start = maxRecordsPerMessage; run && start < records.length; start += maxRecordsPerMessage) {
      this.post({ type: 'append', runId: run.info.id, records: records.slice(start, start + maxRecordsPerMessage) });
    }
  }

  private sendAppend(records: HistoryRecord[]): void {
    if (this.run) this.post({ type: 'append', runId: this.run.info.id, records });
  }

  private post(message: HostToDashboard): void {
    if (!this.panel || !this.webviewReady) return;
    void this.panel.webview.postMessage(message).then(undefined, (error: unknown) => this.log.warn(`Could not update the dashboard: ${String(error)}`));
  }

  private async exportCsv(runId: string, smoothing: number): Promise<void> {
    const run = this.run;
    if (!run || run.info.id !== runId) return;
    const defaultUri = vscode.workspace.workspaceFolders?.[0]
      ? vscode.Uri.joinPath(vscode.workspace.workspaceFolders[0].uri, `${run.info.packName}-history.csv`)
      : undefined;
    const target = await vscode.window.showSaveDialog({ defaultUri, filters: { CSV: ['csv'] }, title: vscode.l10n.t('Export Training History') });
    if (!target) return;
    try {
      await writeFile(target.fsPath, historyToCsv(run.records, smoothing, run.layers), 'utf8');
      this.log.info(`Exported ${run.steps.length} steps of ${run.info.packName} to ${target.fsPath}.`);
      void vscode.window.showInformationMessage(vscode.l10n.t('Saved {0} steps of {1} to {2}.', run.steps.length, run.info.packName, target.fsPath));
    } catch (error) {
      void vscode.window.showErrorMessage(vscode.l10n.t('Could not write {0}: {1}', target.fsPath, (error as Error).message));
    }
  }
}
