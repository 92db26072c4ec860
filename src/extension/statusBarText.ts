/**
 * Text, tooltip and click command of the Engram status bar item. Pure, so the formats are
 * unit-tested without VS Code. `statusBar.ts` passes `vscode.l10n.t` versions of the strings.
 */
import type { TrainingProgress } from './training/trainingController';
import type { RuntimeState } from './worker/runtimeService';

export interface StatusBarView {
  /** May contain `$(icon)` codicon references. */
  text: string;
  tooltip: string;
  command: 'engram.switchPack' | 'engram.showDashboard';
}

/** Strings of the status bar item. Each function fills its arguments into its message. */
export interface StatusBarStrings {
  noPack: string;
  trainingStep: (step: number, totalSteps: number, loss: string) => string;
  trainingStarting: (packName: string) => string;
  trainingCancelling: (step: number, totalSteps: number) => string;
  attachedPack: (name: string) => string;
  noPackAttached: string;
  model: (dir: string) => string;
  backend: (name: string) => string;
  trainingTooltip: (packName: string, step: number, totalSteps: number, loss: string) => string;
  trainingTooltipStarting: (packName: string) => string;
  clickToSwitch: string;
  clickToShowDashboard: string;
}

export const englishStatusBarStrings: StatusBarStrings = {
  noPack: 'no pack',
  trainingStep: (step, totalSteps, loss) => `Engram ${step}/${totalSteps} · loss ${loss}`,
  trainingStarting: (packName) => `Engram · starting ${packName}`,
  trainingCancelling: (step, totalSteps) => `Engram ${step}/${totalSteps} · cancelling`,
  attachedPack: (name) => `Attached pack: ${name}`,
  noPackAttached: 'No pack attached',
  model: (dir) => `Model: ${dir}`,
  backend: (name) => `Backend: ${name}`,
  trainingTooltip: (packName, step, totalSteps, loss) => `Training ${packName}: step ${step} of ${totalSteps}, loss ${loss}`,
  trainingTooltipStarting: (packName) => `Training ${packName}: starting`,
  clickToSwitch: 'Click to attach, switch or detach a pack.',
  clickToShowDashboard: 'Click to show the training dashboard.',
};

/** Formats a loss with 3 significant digits (5.34, 0.0123), because 2 fixed decimals would show 0.0123 as 0.01. */
export function formatLoss(loss: number): string {
  return Number.isFinite(loss) ? loss.toPrecision(3) : String(loss);
}

/**
 * Builds the item for a training run when `training` is set, otherwise for the attached pack
 * and backend. A click opens the dashboard while training, and the pack switcher otherwise.
 */
export function buildStatusBarView(state: RuntimeState, training: TrainingProgress | undefined, strings: StatusBarStrings = englishStatusBarStrings): StatusBarView {
  const runtimeLines = [
    state.attached ? strings.attachedPack(state.attached.name) : strings.noPackAttached,
    state.modelDir ? strings.model(state.modelDir) : undefined,
    state.backend ? strings.backend(state.backend) : undefined,
  ];

  if (training) {
    let text: string;
    let trainingLine: string;
    if (training.step === undefined || training.totalSteps === undefined) {
      text = strings.trainingStarting(training.packName);
      trainingLine = strings.trainingTooltipStarting(training.packName);
    } else {
      const loss = formatLoss(training.loss ?? Number.NaN);
      text = training.cancelling ? strings.trainingCancelling(training.step, training.totalSteps) : strings.trainingStep(training.step, training.totalSteps, loss);
      trainingLine = strings.trainingTooltip(training.packName, training.step, training.totalSteps, loss);
    }
    return {
      text: `$(sync~spin) ${text}`,
      tooltip: joinLines([trainingLine, ...runtimeLines, strings.clickToShowDashboard]),
      command: 'engram.showDashboard',
    };
  }

  const pack = state.attached ? state.attached.name : strings.noPack;
  const backend = state.backend ? ` (${state.backend})` : '';
  return {
    text: `$(database) ${pack}${backend}`,
    tooltip: joinLines([...runtimeLines, strings.clickToSwitch]),
    command: 'engram.switchPack',
  };
}

function joinLines(lines: readonly (string | undefined)[]): string {
  return lines.filter((line): line is string => line !== undefined).join('\n');
}
