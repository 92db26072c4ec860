/** Status bar item: the attached pack and backend; clicking it opens the pack switcher. */
import * as vscode from 'vscode';
import type { RuntimeState } from './worker/runtimeService';

export class PackStatusBar implements vscode.Disposable {
  private readonly item: vscode.StatusBarItem;

  constructor() {
    this.item = vscode.window.createStatusBarItem('engram.attachedPack', vscode.StatusBarAlignment.Left, 50);
    this.item.name = vscode.l10n.t('Engram Pack');
    this.item.command = 'engram.switchPack';
    this.update({});
    this.item.show();
  }

  update(state: RuntimeState, training?: { packName: string; step?: number; totalSteps?: number }): void {
    const pack = state.attached ? state.attached.name : vscode.l10n.t('no pack');
    const backend = state.backend ? ` (${state.backend})` : '';
    const trainingText = training ? ` $(sync~spin) ${training.step !== undefined ? `${training.step}/${training.totalSteps}` : training.packName}` : '';
    this.item.text = `$(database) ${pack}${backend}${trainingText}`;
    const lines = [
      state.attached ? vscode.l10n.t('Attached pack: {0}', state.attached.name) : vscode.l10n.t('No pack attached'),
      state.modelDir ? vscode.l10n.t('Model: {0}', state.modelDir) : undefined,
      state.backend ? vscode.l10n.t('Backend: {0}', state.backend) : undefined,
      training ? vscode.l10n.t('Training {0}', training.packName) : undefined,
      vscode.l10n.t('Click to attach, switch or detach a pack.'),
    ];
    this.item.tooltip = lines.filter((line): line is string => line !== undefined).join('\n');
  }

  dispose(): void {
    this.item.dispose();
  }
}
