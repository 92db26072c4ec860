/**
 * The long-lived worker that serves everything except training: pack listing, corpus previews,
 * the Doctor report, and the loaded model with its attached pack. It starts on first use and is
 * started again on the next request after a crash; the crash only loses the attachment.
 */
import { existsSync } from 'node:fs';
import type { BackendChoice, BackendName } from '../../engine/types';
import type { PackMetadata } from '../../protocol/trainEvents';
import type { WorkerErrorCode, WorkerMethod, WorkerParams, WorkerResult } from '../../protocol/worker';
import { WorkerClient, WorkerRequestError, type WorkerClientOptions, type WorkerExit } from './workerClient';

export interface RuntimeState {
  modelDir?: string;
  backend?: BackendName;
  attached?: PackMetadata;
}

/** The attached pack's folder, kept per workspace so that the next session attaches it again. */
export interface AttachedPackMemory {
  get(): string | undefined;
  set(packDir: string | undefined): PromiseLike<void>;
}

/** The part of `vscode.Memento` that `workspaceAttachedPackMemory` uses. */
export interface MementoLike {
  get<T>(key: string): T | undefined;
  update(key: string, value: unknown): PromiseLike<void>;
}

/** Key of the attached pack's folder in `workspaceState`. */
export const attachedPackKey = 'engram.attachedPack';

export function workspaceAttachedPackMemory(workspaceState: MementoLike): AttachedPackMemory {
  return {
    get: () => {
      const value = workspaceState.get<unknown>(attachedPackKey);
      return typeof value === 'string' && value.length > 0 ? value : undefined;
    },
    set: (packDir) => workspaceState.update(attachedPackKey, packDir),
  };
}

export interface RuntimeServiceOptions {
  /** Read at each start, so changed settings apply to the next worker. */
  workerOptions: () => Omit<WorkerClientOptions, 'onEvent' | 'onExit'>;
  onStateChange: (state: RuntimeState) => void;
  onCrash: (exit: WorkerExit) => void;
  /** Updated on every attach and detach; a crash or shutdown leaves it unchanged. */
  attachedPackMemory?: AttachedPackMemory;
}

/** Result of `reattachRemembered`. */
export type ReattachOutcome =
  | { kind: 'nothing-remembered' }
  | { kind: 'no-model' }
  /** A pack was attached by the time the remembered one would have been. */
  | { kind: 'skipped' }
  | { kind: 'attached'; pack: PackMetadata }
  /** The pack is gone, unreadable or trained for another model, so it was dropped from the memory. */
  | { kind: 'forgotten'; reason: string }
  /** Attaching failed for a reason outside the pack (model, backend, worker); the memory stays. */
  | { kind: 'kept'; reason: string };

/** Worker error codes of an attach that mean the pack itself can no longer be attached to this model. */
const packProblemCodes: ReadonlySet<WorkerErrorCode | 'worker-exited'> = new Set(['not-found', 'invalid-pack', 'invalid-safetensors', 'pack-mismatch']);

export class RuntimeService {
  private client: Promise<WorkerClient> | undefined;
  private loaded: { modelDir: string; backendChoice: BackendChoice; backend: BackendName } | undefined;
  private attachedPack: PackMetadata | undefined;
  private disposed = false;
  /** Tail of the attach/detach chain: they run one at a time, in call order. */
  private attachQueue: Promise<unknown> = Promise.resolve();

  constructor(private readonly options: RuntimeServiceOptions) {}

  get state(): RuntimeState {
    return { modelDir: this.loaded?.modelDir, backend: this.loaded?.backend, attached: this.attachedPack };
  }

  /** Sends one request, starting the worker first when none is running. */
  async request<M extends WorkerMethod>(method: M, params: WorkerParams<M>, extra?: { onToken?: (text: string) => void }): Promise<WorkerResult<M>> {
    const client = await this.worker();
    return client.request(method, params, extra);
  }

  /** Loads `modelDir` when another model or backend is loaded, then attaches the pack, replacing the attached one. */
  attach(packDir: string, modelDir: string, backend: BackendChoice): Promise<PackMetadata> {
    return this.serialize(async () => {
      await this.load(modelDir, backend);
      const info = await this.request('attach', { packDir });
      this.attachedPack = info;
      this.emit();
      await this.remember(packDir);
      return info;
    });
  }

  detach(): Promise<void> {
    return this.serialize(async () => {
      if (!this.attachedPack) return;
      await this.request('detach', {});
      this.attachedPack = undefined;
      this.emit();
      await this.remember(undefined);
    });
  }

  /**
   * Attaches the pack remembered from the last session of this workspace. A pack that no longer
   * exists or no longer fits the model is dropped from the memory with a log line. A failure of the
   * model or the worker keeps it for the next session. It shows no UI and resolves even on failure,
   * so activation can start it without waiting.
   */
  async reattachRemembered(modelDir: string | undefined, backend: BackendChoice): Promise<ReattachOutcome> {
    const packDir = this.options.attachedPackMemory?.get();
    if (packDir === undefined) return { kind: 'nothing-remembered' };
    try {
      return await this.reattach(packDir, modelDir, backend);
    } catch (error) {
      const reason = messageOf(error);
      this.options.workerOptions().log.warn(`Could not attach ${packDir} from the last session: ${reason}. It stays remembered for the next session.`);
      return { kind: 'kept', reason };
    }
  }

  async dispose(): Promise<void> {
    this.disposed = true;
    const client = this.client;
    this.client = undefined;
    if (client) await (await client.catch(() => undefined))?.shutdown(2_000);
  }

  private async reattach(packDir: string, modelDir: string | undefined, backend: BackendChoice): Promise<ReattachOutcome> {
    const log = this.options.workerOptions().log;
    if (modelDir === undefined) {
      log.info(`Not attaching ${packDir} from the last session: engram.modelFolder is not set.`);
      return { kind: 'no-model' };
    }
    if (!existsSync(packDir)) {
      const reason = 'the folder no longer exists';
      await this.remember(undefined);
      log.warn(`Dropped the pack attached in the last session, ${packDir}: ${reason}.`);
      return { kind: 'forgotten', reason };
    }

    return this.serialize(async (): Promise<ReattachOutcome> => {
      if (this.attachedPack) return { kind: 'skipped' };
      try {
        await this.load(modelDir, backend);
      } catch (error) {
        const reason = `loading the model ${modelDir} failed: ${messageOf(error)}`;
        log.warn(`Could not attach ${packDir} from the last session: ${reason}. It stays remembered for the next session.`);
        return { kind: 'kept', reason };
      }
      try {
        const info = await this.request('attach', { packDir });
        this.attachedPack = info;
        this.emit();
        log.info(`Attached ${info.name} again, as in the last session (${packDir}).`);
        return { kind: 'attached', pack: info };
      } catch (error) {
        const reason = messageOf(error);
        if (error instanceof WorkerRequestError && packProblemCodes.has(error.code)) {
          await this.remember(undefined);
          log.warn(`Dropped the pack attached in the last session, ${packDir}: ${reason}`);
          return { kind: 'forgotten', reason };
        }
        log.warn(`Could not attach ${packDir} from the last session: ${reason}. It stays remembered for the next session.`);
        return { kind: 'kept', reason };
      }
    });
  }

  /** Loads `modelDir` on `backend` unless it is loaded already; loading drops the attached pack. */
  private async load(modelDir: string, backend: BackendChoice): Promise<void> {
    if (this.loaded && this.loaded.modelDir === modelDir && this.loaded.backendChoice === backend) return;
    this.attachedPack = undefined;
    const result = await this.request('load', { modelDir, backend });
    this.loaded = { modelDir, backendChoice: backend, backend: result.backend };
    this.emit();
  }

  private serialize<T>(task: () => Promise<T>): Promise<T> {
    const result = this.attachQueue.then(task);
    this.attachQueue = result.catch(() => undefined);
    return result;
  }

  /** Stores `packDir` as the attached pack; a failed write is logged, since the attachment itself worked. */
  private async remember(packDir: string | undefined): Promise<void> {
    const memory = this.options.attachedPackMemory;
    if (!memory) return;
    try {
      await memory.set(packDir);
    } catch (error) {
      this.options.workerOptions().log.warn(`Could not store the attached pack in the workspace state: ${messageOf(error)}`);
    }
  }

  private emit(): void {
    this.options.onStateChange(this.state);
  }

  private worker(): Promise<WorkerClient> {
    if (this.disposed) return Promise.reject(new Error('The Engram extension is shutting down.'));
    if (!this.client) {
      const starting = WorkerClient.start({
        ...this.options.workerOptions(),
        onExit: (exit) => {
          if (this.client === starting) this.client = undefined;
          const hadState = this.loaded !== undefined;
          this.loaded = undefined;
          this.attachedPack = undefined;
          if (hadState) this.emit();
          if (!exit.expected) this.options.onCrash(exit);
        },
      });
      starting.catch(() => {
        if (this.client === starting) this.client = undefined;
      });
      this.client = starting;
    }
    return this.client;
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
