/**
 * One training run in its own worker process. The worker exits when the run ends, so memory that
 * training took is returned to the system and a crash cannot affect the attached pack's worker.
 */
import type { TrainDoneEvent } from '../../engine/types';
import type { HistoryRecord } from '../../protocol/trainEvents';
import type { TrainParams } from '../../protocol/worker';
import { WorkerClient, WorkerRequestError, type WorkerClientOptions } from '../worker/workerClient';
import { RunHistory, type RunInfo, type RunState } from './runHistory';

export interface TrainingOutcome {
  state: Extract<RunState, 'done' | 'cancelled' | 'failed'>;
  done?: TrainDoneEvent;
  /** Last checkpoint the worker reported, if any. */
  checkpoint?: string;
  error?: WorkerRequestError;
  /** True when the worker was killed because it did not stop within the cancel grace period. */
  killed: boolean;
}

export interface TrainingRunOptions {
  worker: Omit<WorkerClientOptions, 'onEvent' | 'onExit'>;
  params: TrainParams;
  info: RunInfo;
  /** Time a cancelled worker gets to finish its step and write a checkpoint before it is killed. */
  cancelGraceMs: number;
  onRecord: (record: HistoryRecord) => void;
  onState: (info: RunInfo) => void;
}

export class TrainingRun {
  readonly history: RunHistory;
  readonly outcome: Promise<TrainingOutcome>;
  private client: WorkerClient | undefined;
  private cancelRequested = false;
  private killed = false;

  constructor(private readonly options: TrainingRunOptions) {
    this.history = new RunHistory({ ...options.info });
    this.outcome = this.run();
  }

  get info(): RunInfo {
    return this.history.info;
  }

  /** Asks the worker to finish its step and checkpoint; kills it after the grace period. */
  async cancel(): Promise<void> {
    if (this.cancelRequested || isFinal(this.info.state)) return;
    this.cancelRequested = true;
    this.setState('cancelling');
    const client = this.client;
    if (!client) return;
    const timer = setTimeout(() => {
      if (!client.running) return;
      this.killed = true;
      this.options.worker.log.warn(`Training worker ${client.pid} did not stop within ${this.options.cancelGraceMs / 1000} s of cancel; killing it.`);
      client.kill();
    }, this.options.cancelGraceMs);
    void client.exited.then(() => clearTimeout(timer));
    try {
      await client.request('cancel', {});
    } catch (error) {
      this.options.worker.log.warn(`Cancel request failed: ${(error as Error).message}`);
    }
  }

  private setState(state: RunState, message?: string): void {
    this.history.info = { ...this.history.info, state, message };
    this.options.onState(this.history.info);
  }

  private checkpoint(): string | undefined {
    for (let index = this.history.records.length - 1; index >= 0; index--) {
      const record = this.history.records[index];
      if (record.type === 'checkpoint') return record.path;
    }
    return undefined;
  }

  private async run(): Promise<TrainingOutcome> {
    try {
      this.client = await WorkerClient.start({
        ...this.options.worker,
        onEvent: (event) => {
          if (event.event !== 'train') return;
          this.history.add(event.record);
          if (event.record.type === 'start' && this.info.state === 'starting') this.setState('running');
          this.options.onRecord(event.record);
        },
      });
    } catch (error) {
      const failure = asRequestError(error);
      this.setState('failed', failure.message);
      return { state: 'failed', error: failure, killed: false };
    }
    if (this.cancelRequested) void this.cancel();

    const client = this.client;
    try {
      const done = await client.request('train', this.options.params);
      const state = done.cancelled ? 'cancelled' : 'done';
      this.setState(state);
      await client.shutdown();
      return { state, done, checkpoint: this.checkpoint(), killed: false };
    } catch (error) {
      const failure = asRequestError(error);
      await client.shutdown(1_000);
      if (this.killed) {
        const message = `Training worker killed after cancel; the last checkpoint written before that is kept.`;
        this.setState('cancelled', message);
        return { state: 'cancelled', checkpoint: this.checkpoint(), error: failure, killed: true };
      }
      this.setState('failed', failure.message);
      return { state: 'failed', checkpoint: this.checkpoint(), error: failure, killed: false };
    }
  }
}

function isFinal(state: RunState): boolean {
  return state === 'done' || state === 'cancelled' || state === 'failed' || state === 'replayed';
}

function asRequestError(error: unknown): WorkerRequestError {
  if (error instanceof WorkerRequestError) return error;
  return new WorkerRequestError('internal', error instanceof Error ? error.message : String(error));
}

