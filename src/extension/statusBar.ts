/**
 * Status bar item. While a training run is active, it shows the step and loss and a click opens
 * the dashboard. Otherwise it shows the attached pack and backend, and a click opens the pack switcher.
 */
import * as vscode from 'vscode';
import { buildStatusBarView, type StatusBarStrings } from './statusBarText';
import type { TrainingProgress } from './training/trainingController';
import type { RuntimeState } from './worker/runtimeService';

function localizedStrings(): StatusBarStrings {
  return {
    noPack: vscode.l10n.t('no pack'),
    trainingStep: (step, totalSteps, loss) => vscode.l10n.t('Engram {0}/{1} · loss {2}', step, totalSteps, loss),
    trainingStarting: (packName) => vscode.l10n.t('Engram · starting {0}', packName),
    trainingCancelling: (step, totalSteps) => vscode.l10n.t('Engram {0}/{1} · cancelling', step, totalSteps),
    attachedPack: (name) => vscode.l10n.t('Attached pack: {0}', name),
    noPackAttached: vscode.l10n.t('No pack attached'),
    model: (dir) => vscode.l10n.t('Model: {0}', dir),
    backend: (name) => vscode.l10n.t('Backend: {0}', name),
    trainingTooltip: (packName, step, totalSteps, loss) => vscode.l10n.t('Training {0}: step {1} of {2}, loss {3}', packName, step, totalSteps, loss),
    trainingTooltipStarting: (packName) => vscode.l10n.t('Training {0}: starting', packName),
    clickToSwitch: vscode.l10n.t('Click to attach, switch or detach a pack.'),
    clickToShowDashboard: vscode.l10n.t('Click to show the training dashboard.'),
  };
}

export class PackStatusBar implements vscode.Disposable {
  private readonly item: vscode.StatusBarItem;
  private readonly strings = localizedStrings();
  private runtimeState: RuntimeState = {};
  private training: TrainingProgress | undefined;

  constructor() {
    this.item = vscode.window.createStatusBarItem('engram.attachedPack', vscode.StatusBarAlignment.Left, 50);
    this.item.name = vscode.l10n.t('Engram Pack');
    this.render();
    this.item.show();
  }

  /** Shows a change of the loaded model, backend or attached pack. */
  update(state: RuntimeState): void {
    this.runtimeState = state;
    this.render();
  }

  /** Shows a training run's progress, or the attached pack again when `progress` is undefined. */
  setTraining(progress: TrainingProgress | undefined): void {
    this.training = progress;
    this.render();
  }

  dispose(): void {
    this.item.dispose();
  }

  private render(): void {
    const view = buildStatusBarView(this.runtimeState, this.training, this.strings);
    this.item.text = view.text;
    this.item.tooltip = view.tooltip;
    this.item.command = view.command;
  }
}
