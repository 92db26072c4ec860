/**
 * Runs one training at a time: starts its worker, shows a cancellable progress notification,
 * feeds the dashboard, and reports the outcome. A failed run never takes the extension down.
 */
import { randomUUID } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { basename } from 'node:path';
import * as vscode from 'vscode';
import type { TrainStepEvent } from '../../engine/types';
import type { TrainParams } from '../../protocol/worker';
import type { DashboardPanel } from '../dashboard/dashboardPanel';
import { formatDuration } from '../format';
import { createClientLog, showErrorWithLog } from '../log';
import type { WorkerClientOptions } from '../worker/workerClient';
import type { RunHistory } from './runHistory';
import { parseSamplingProgress, replaceCliFlags } from './engineMessages';
import { TrainingRun } from './trainingRun';

/** Minimum time between two updates of the progress notification and the status bar. */
const progressIntervalMs = 250;

/** Progress of the active run, as the status bar shows it. */
export interface TrainingProgress {
  packName: string;
  /** Last finished step; undefined until the first step. */
  step?: number;
  totalSteps?: number;
  /** Training loss of `step`. */
  loss?: number;
  cancelling: boolean;
}

export interface TrainingControllerOptions {
  log: vscode.LogOutputChannel;
  dashboard: () => DashboardPanel;
  workerOptions: () => Omit<WorkerClientOptions, 'onEvent' | 'onExit' | 'log'>;
  cancelGraceMs: () => number;
  /** Called after every run, so the Packs view lists a new pack. */
  onRunFinished: (run: RunHistory, packWritten: boolean) => void;
  /** Stores the measured throughput for the next time estimate. */
  onThroughput: (modelDir: string, backend: string, tokensPerSecond: number) => void;
  attachPack: (packDir: string) => Promise<void>;
  /** Called when a run starts, on each change of its step or state, and with undefined when it ends. */
  onProgress?: (progress: TrainingProgress | undefined) => void;
}

export class TrainingController implements vscode.Disposable {
  private active: TrainingRun | undefined;
  /** The last run, finished or not, so "Show Dashboard" has something to show. */
  private latest: RunHistory | undefined;

  constructor(private readonly options: TrainingControllerOptions) {}

  get activeRun(): TrainingRun | undefined {
    return this.active;
  }

  get latestRun(): RunHistory | undefined {
    return this.latest;
  }

  /** Starts a run; rejects with a message when another run is active. */
  start(params: TrainParams): TrainingRun {
    if (this.active) throw new Error(vscode.l10n.t('A training run is already active ({0}). Cancel it before starting another.', this.active.info.packName));
    const packName = basename(params.packDir).replace(/\.engram$/, '');
    const { log } = this.options;
    const run = new TrainingRun({
      worker: { ...this.options.workerOptions(), log: createClientLog(log, `train ${packName}`) },
      params,
      info: { id: randomUUID(), packName, packDir: params.packDir, modelDir: params.modelDir, startedAt: new Date().toISOString(), state: 'starting' },
      cancelGraceMs: this.options.cancelGraceMs(),
      onRecord: (record) => this.options.dashboard().addRecord(run.info.id, record),
      onState: (info) => this.options.dashboard().updateState(info),
    });
    this.active = run;
    this.latest = run.history;
    void vscode.commands.executeCommand('setContext', 'engram.training', true);
    log.info(`Training ${packName}: model ${params.modelDir}, corpus ${params.corpus.join(', ')}, pack ${params.packDir}.`);
    this.options.dashboard().show(run.history, true);
    void this.showProgress(run);
    this.options.onProgress?.(progressOf(run));
    void run.outcome.then((outcome) => {
      this.active = undefined;
      this.options.onProgress?.(undefined);
      void vscode.commands.executeCommand('setContext', 'engram.training', false);
      void this.report(run, outcome);
    });
    return run;
  }

  async cancel(runId?: string): Promise<void> {
    const run = this.active;
    if (!run || (runId !== undefined && run.info.id !== runId)) {
      if (runId === undefined) void vscode.window.showInformationMessage(vscode.l10n.t('No training run is active.'));
      return;
    }
    this.options.log.info(`Cancelling training of ${run.info.packName}.`);
    await run.cancel();
  }

  dispose(): void {
    void this.active?.cancel();
  }

  private showProgress(run: TrainingRun): Thenable<void> {
    return vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: vscode.l10n.t('Training {0}', run.info.packName), cancellable: true },
      async (progress, token) => {
        token.onCancellationRequested(() => void run.cancel());
        let reported = 0;
        let lastPhase = '';
        let lastProgress = progressOf(run);
        const timer = setInterval(() => {
          const history = run.history;
          const step = history.lastStep;
          const current = progressOf(run);
          if (current.step !== lastProgress.step || current.cancelling !== lastProgress.cancelling) {
            lastProgress = current;
            this.options.onProgress?.(current);
          }
          if (step) {
            const percent = (100 * step.step) / Math.max(1, step.totalSteps);
            progress.report({ increment: percent - reported, message: stepMessage(step, run.info.state === 'cancelling') });
            reported = percent;
          } else {
            const phase = [...history.records].reverse().find((record) => record.type === 'phase');
            if (phase && phase.type === 'phase' && phase.message !== lastPhase) {
              lastPhase = phase.message;
              const sampling = phase.phase === 'sampling' ? parseSamplingProgress(phase.message) : undefined;
              progress.report({
                message: sampling
                  ? vscode.l10n.t('Sampling base-model text for the preservation term: {0} of {1} sequences', sampling.done, sampling.total)
                  : phase.message,
              });
            }
          }
        }, progressIntervalMs);
        try {
          await run.outcome;
        } finally {
          clearInterval(timer);
        }
      },
    );
  }

  private async report(run: TrainingRun, outcome: Awaited<TrainingRun['outcome']>): Promise<void> {
    const { log } = this.options;
    const name = run.info.packName;
    const last = run.history.lastStep;
    if (last) this.options.onThroughput(run.info.modelDir, outcome.done?.summary.backend ?? '', last.tokensPerSecond);
    this.options.onRunFinished(run.history, outcome.state === 'done');

    if (outcome.state === 'done' && outcome.done) {
      const summary = outcome.done.summary;
      log.info(`Trained ${name}: ${summary.steps} steps, final loss ${summary.finalLoss.toFixed(4)}, ${formatDuration(summary.seconds)} on ${summary.backend}.`);
      const attach = vscode.l10n.t('Attach');
      const choice = await vscode.window.showInformationMessage(
        vscode.l10n.t('Pack {0} is ready: {1} steps, final loss {2}.', name, summary.steps, summary.finalLoss.toFixed(3)),
        attach,
      );
      if (choice === attach) await this.options.attachPack(outcome.done.packDir);
      return;
    }
    if (outcome.state === 'cancelled') {
      const checkpoint = outcome.checkpoint;
      const where = checkpoint ? vscode.l10n.t('Checkpoint: {0}.', checkpoint) : vscode.l10n.t('No checkpoint was written.');
      log.info(`Training of ${name} cancelled. ${checkpoint ? `Checkpoint: ${checkpoint}` : 'No checkpoint.'}`);
      const message = outcome.killed
        ? vscode.l10n.t('Training of {0} was cancelled; its worker did not stop in time and was killed. {1}', name, where)
        : checkpoint
          ? vscode.l10n.t('Training of {0} was cancelled. {1} Train the same pack name again to resume.', name, where)
          : vscode.l10n.t('Training of {0} was cancelled. {1}', name, where);
      const deleteCheckpoint = vscode.l10n.t('Delete Checkpoint');
      const choice = await vscode.window.showInformationMessage(message, ...(checkpoint ? [deleteCheckpoint] : []));
      if (choice === deleteCheckpoint && checkpoint) await this.deleteCheckpoint(checkpoint);
      return;
    }
    const error = outcome.error;
    log.error(`Training of ${name} failed: ${error?.message ?? 'unknown error'}${error?.detail ? `\n${error.detail}` : ''}`);
    const reason = error?.code === 'worker-exited' ? vscode.l10n.t('The training worker stopped: {0}.', error.message) : replaceCliFlags(error?.message ?? '');
    await showErrorWithLog(log, vscode.l10n.t('Training of {0} failed. {1} Existing packs are unchanged.', name, reason));
  }

  private async deleteCheckpoint(checkpoint: string): Promise<void> {
    try {
      await rm(checkpoint, { recursive: true, force: true });
      this.options.log.info(`Deleted checkpoint ${checkpoint}.`);
    } catch (error) {
      this.options.log.error(`Deleting checkpoint ${checkpoint} failed: ${(error as Error).message}`);
      void vscode.window.showErrorMessage(vscode.l10n.t('Could not delete {0}: {1}', checkpoint, (error as Error).message));
    }
  }
}

function progressOf(run: TrainingRun): TrainingProgress {
  const step = run.history.lastStep;
  return {
    packName: run.info.packName,
    step: step?.step,
    totalSteps: step?.totalSteps,
    loss: step?.loss,
    cancelling: run.info.state === 'cancelling',
  };
}

function stepMessage(step: TrainStepEvent, cancelling: boolean): string {
  const base = vscode.l10n.t('step {0}/{1} · loss {2}', step.step, step.totalSteps, step.loss.toFixed(3));
  return cancelling ? vscode.l10n.t('{0} · cancelling after this step', base) : base;
}
