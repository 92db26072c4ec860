/**
 * The Playground panel: completes a prompt twice in the runtime worker, with the attached pack
 * and with the base model, and streams both into the webview side by side. It also scores a
 * `.tsv` probe file with and without the pack. The sampling settings and the last prompt are
 * remembered per workspace.
 */
import { basename } from 'node:path';
import * as vscode from 'vscode';
import {
  defaultSampling,
  PLAYGROUND_PROTOCOL_VERSION,
  playgroundToHost,
  samplingSettings,
  type CompletionSide,
  type HostToPlayground,
  type PlaygroundToHost,
} from '../../protocol/playground';
import { check } from '../../protocol/validate';
import { ensurePackAttached } from '../inspect/readiness';
import { webviewPage } from '../webviewPage';
import type { EngramServices } from '../services';
import { playgroundStrings } from './playgroundStrings';

/** `workspaceState` keys of the remembered settings and prompt. */
const samplingKey = 'engram.playground.sampling';
const promptKey = 'engram.playground.prompt';

export class PlaygroundPanel implements vscode.Disposable {
  private panel: vscode.WebviewPanel | undefined;
  private webviewReady = false;
  /** Request of the completion pair in progress; the webview sends one at a time. */
  private running: number | undefined;
  private probesRunning = false;

  constructor(private readonly services: EngramServices) {}

  /** Command handler of "Engram: Open Playground". */
  async show(): Promise<void> {
    if (!(await ensurePackAttached(this.services, vscode.l10n.t('Open Playground')))) return;
    if (this.panel) {
      this.panel.reveal();
      return;
    }
    const extensionUri = this.services.context.extensionUri;
    const distUri = vscode.Uri.joinPath(extensionUri, 'dist');
    const panel = vscode.window.createWebviewPanel(
      'engram.playground',
      vscode.l10n.t('Engram Playground'),
      vscode.ViewColumn.Active,
      { enableScripts: true, retainContextWhenHidden: true, localResourceRoots: [distUri] },
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
      scriptUri: panel.webview.asWebviewUri(vscode.Uri.joinPath(distUri, 'playground.js')).toString(),
      styleUri: panel.webview.asWebviewUri(vscode.Uri.joinPath(distUri, 'playground.css')).toString(),
      strings: playgroundStrings(),
      title: vscode.l10n.t('Engram Playground'),
      language: vscode.env.language,
    });
  }

  /** Tells the webview that the attached pack or the loaded model changed. */
  onRuntimeChanged(): void {
    const state = this.services.runtime.state;
    this.post({ type: 'runtime', pack: state.attached?.name ?? null, model: state.modelDir ? basename(state.modelDir) : null });
  }

  dispose(): void {
    this.panel?.dispose();
  }

  private onMessage(raw: unknown): void {
    const checked = check(playgroundToHost, raw);
    if (!checked.ok) {
      this.services.log.warn(`Playground sent an invalid message: ${checked.error.message}`);
      return;
    }
    const message = checked.value;
    switch (message.type) {
      case 'ready':
        if (message.protocolVersion !== PLAYGROUND_PROTOCOL_VERSION) {
          this.services.log.error(`Playground script speaks protocol ${message.protocolVersion}, the extension ${PLAYGROUND_PROTOCOL_VERSION}. Reload the window.`);
          return;
        }
        this.webviewReady = true;
        this.sendInit();
        break;
      case 'generate':
        void this.generate(message);
        break;
      case 'runProbes':
        void this.runProbes();
        break;
      case 'error':
        this.services.log.warn(`Playground: ${message.message}`);
        break;
    }
  }

  private sendInit(): void {
    const state = this.services.runtime.state;
    const stored = check(samplingSettings, this.services.context.workspaceState.get(samplingKey));
    const prompt = this.services.context.workspaceState.get<unknown>(promptKey);
    this.post({
      type: 'init',
      protocolVersion: PLAYGROUND_PROTOCOL_VERSION,
      pack: state.attached?.name ?? null,
      model: state.modelDir ? basename(state.modelDir) : null,
      sampling: stored.ok ? stored.value : defaultSampling,
      prompt: typeof prompt === 'string' ? prompt : '',
    });
  }

  private async generate(message: Extract<PlaygroundToHost, { type: 'generate' }>): Promise<void> {
    const { requestId, prompt, sampling } = message;
    if (this.running !== undefined) {
      this.post({ type: 'failed', requestId, message: vscode.l10n.t('A completion is still running. Wait for it to finish.') });
      return;
    }
    if (prompt.trim().length === 0) {
      this.post({ type: 'failed', requestId, message: vscode.l10n.t('Enter a prompt to complete.') });
      return;
    }
    this.running = requestId;
    try {
      if (!(await ensurePackAttached(this.services, vscode.l10n.t('Open Playground')))) {
        this.post({ type: 'failed', requestId, message: vscode.l10n.t('No pack is attached to the selected model.') });
        return;
      }
      void this.services.context.workspaceState.update(samplingKey, sampling);
      void this.services.context.workspaceState.update(promptKey, prompt);
      const options = { maxNewTokens: sampling.maxTokens, temperature: sampling.temperature, topP: sampling.topP, seed: message.seed ?? 0, stopAtEos: true };
      // Both requests run in the worker at once; their tokens interleave, so both columns fill together.
      const complete = async (side: CompletionSide) => {
        const result = await this.services.runtime.request(
          'generate',
          { prompt, options, usePack: side === 'pack' },
          { onToken: (text) => this.post({ type: 'partial', requestId, side, text }) },
        );
        this.post({ type: 'done', requestId, side, text: result.text });
      };
      const outcomes = await Promise.allSettled([complete('pack'), complete('base')]);
      const failure = outcomes.find((outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected');
      if (failure) {
        const reason = failure.reason instanceof Error ? failure.reason.message : String(failure.reason);
        this.services.log.error(`Playground completion #${requestId} failed: ${failure.reason instanceof Error ? (failure.reason.stack ?? reason) : reason}`);
        this.post({ type: 'failed', requestId, message: reason });
      }
    } finally {
      this.running = undefined;
    }
  }

  private async runProbes(): Promise<void> {
    if (this.probesRunning) return;
    if (!(await ensurePackAttached(this.services, vscode.l10n.t('Run Probe File')))) return;
    const picked = await vscode.window.showOpenDialog({
      canSelectMany: false,
      filters: { [vscode.l10n.t('Probe files')]: ['tsv'] },
      defaultUri: vscode.workspace.workspaceFolders?.[0]?.uri,
      title: vscode.l10n.t('Probe file: tab-separated prompt, answer and relation columns'),
    });
    const file = picked?.[0];
    if (!file) return;
    this.probesRunning = true;
    this.post({ type: 'probesStarted', file: basename(file.fsPath) });
    try {
      const result = await this.services.runtime.request('runProbes', { file: file.fsPath });
      const passed = result.probes.filter((probe) => probe.withPack.passed).length;
      const passedBase = result.probes.filter((probe) => probe.withoutPack.passed).length;
      this.services.log.info(`Probes ${file.fsPath}: ${passed} of ${result.probes.length} passed with the pack, ${passedBase} with the base model.`);
      this.post({ type: 'probes', file: basename(file.fsPath), rows: result.probes });
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      this.services.log.error(`Scoring probes of ${file.fsPath} failed: ${error instanceof Error ? (error.stack ?? message) : message}`);
      this.post({ type: 'probesFailed', message });
    } finally {
      this.probesRunning = false;
    }
  }

  private post(message: HostToPlayground): void {
    if (!this.panel || !this.webviewReady) return;
    void this.panel.webview.postMessage(message).then(undefined, (error: unknown) => this.services.log.warn(`Could not update the Playground: ${String(error)}`));
  }
}
