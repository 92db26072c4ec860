/**
 * The long-lived worker that serves everything except training: pack listing, corpus previews,
 * the Doctor report, and the loaded model with its attached pack. It starts on first use and is
 * started again on the next request after a crash; the crash only loses the attachment.
 */
import type { BackendChoice, BackendName } from '../../engine/types';
import type { PackMetadata } from '../../protocol/trainEvents';
import type { WorkerMethod, WorkerParams, WorkerResult } from '../../protocol/worker';
import { WorkerClient, type WorkerClientOptions, type WorkerExit } from './workerClient';

export interface RuntimeState {
  modelDir?: string;
  backend?: BackendName;
  attached?: PackMetadata;
}

export interface RuntimeServiceOptions {
  /** Read at each start, so changed settings apply to the next worker. */
  workerOptions: () => Omit<WorkerClientOptions, 'onEvent' | 'onExit'>;
  onStateChange: (state: RuntimeState) => void;
  onCrash: (exit: WorkerExit) => void;
}

export class RuntimeService {
  private client: Promise<WorkerClient> | undefined;
  private loaded: { modelDir: string; backendChoice: BackendChoice; backend: BackendName } | undefined;
  private attachedPack: PackMetadata | undefined;
  private disposed = false;

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
  async attach(packDir: string, modelDir: string, backend: BackendChoice): Promise<PackMetadata> {
    if (!this.loaded || this.loaded.modelDir !== modelDir || this.loaded.backendChoice !== backend) {
      this.attachedPack = undefined;
      const result = await this.request('load', { modelDir, backend });
      this.loaded = { modelDir, backendChoice: backend, backend: result.backend };
      this.emit();
    }
    const info = await this.request('attach', { packDir });
    this.attachedPack = info;
    this.emit();
    return info;
  }

  async detach(): Promise<void> {
    if (!this.attachedPack) return;
    await this.request('detach', {});
    this.attachedPack = undefined;
    this.emit();
  }

  async dispose(): Promise<void> {
    this.disposed = true;
    const client = this.client;
    this.client = undefined;
    if (client) await (await client.catch(() => undefined))?.shutdown(2_000);
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
