/**
 * Extension-side end of the worker protocol: forks `dist/worker.js`, pairs requests with replies
 * by id, validates every message, and turns a crash into rejected requests instead of an
 * exception in the extension host. Imports nothing from `vscode`, so unit tests fork real workers.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { ProtocolError } from '../../protocol/validate';
import {
  parseWorkerMessage,
  WORKER_PROTOCOL_VERSION,
  workerMethods,
  type WorkerError,
  type WorkerErrorCode,
  type WorkerEvent,
  type WorkerMethod,
  type WorkerParams,
  type WorkerResult,
} from '../../protocol/worker';

export interface ClientLog {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
  /** A line the worker wrote to stderr, or a log event it sent. */
  worker(level: 'trace' | 'debug' | 'info' | 'warn' | 'error', message: string): void;
}

export interface WorkerExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** True after `shutdown()` or `kill()`; false for a crash. */
  expected: boolean;
  /** True when stderr showed heap exhaustion or the process was killed by the kernel. */
  outOfMemory: boolean;
}

export interface WorkerClientOptions {
  workerPath: string;
  /** Node executable; defaults to the extension host's own runtime. */
  execPath?: string;
  execArgv?: string[];
  env?: NodeJS.ProcessEnv;
  /** Working folder of the worker; relative corpus paths in a pack are stored relative to it. */
  cwd?: string;
  log: ClientLog;
  onEvent?: (event: WorkerEvent) => void;
  onExit?: (exit: WorkerExit) => void;
  readyTimeoutMs?: number;
}

/** Error of a request: a reply with `ok: false`, an invalid reply, or a worker that exited. */
export class WorkerRequestError extends Error {
  constructor(
    readonly code: WorkerErrorCode | 'worker-exited',
    message: string,
    readonly detail?: string,
  ) {
    super(message);
    this.name = 'WorkerRequestError';
  }
}

interface Pending {
  method: WorkerMethod;
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
  onToken?: (text: string) => void;
}

const outOfMemoryPattern = /heap out of memory|Allocation failed|out of memory/i;
const defaultReadyTimeoutMs = 30_000;

export class WorkerClient {
  readonly exited: Promise<WorkerExit>;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private expectedExit = false;
  private sawOutOfMemory = false;
  private exitInfo: WorkerExit | undefined;

  private constructor(
    private readonly child: ChildProcess,
    private readonly options: WorkerClientOptions,
    onReady: (error?: Error) => void,
  ) {
    let ready = false;
    this.exited = new Promise((resolveExit) => {
      child.on('exit', (code, signal) => {
        const exit: WorkerExit = {
          code,
          signal,
          expected: this.expectedExit,
          outOfMemory: this.sawOutOfMemory || (signal === 'SIGKILL' && !this.expectedExit),
        };
        this.exitInfo = exit;
        const reason = describeExit(exit);
        if (!ready) onReady(new WorkerRequestError('worker-exited', reason));
        for (const [id, pending] of this.pending) {
          pending.reject(new WorkerRequestError('worker-exited', reason));
          this.pending.delete(id);
        }
        if (exit.expected) options.log.info(`Worker ${child.pid} exited (${reason}).`);
        else options.log.error(`Worker ${child.pid} stopped unexpectedly: ${reason}`);
        options.onExit?.(exit);
        resolveExit(exit);
      });
    });
    child.on('error', (error) => options.log.error(`Worker process error: ${error.message}`));

    for (const stream of [child.stdout, child.stderr]) {
      stream?.setEncoding('utf8');
      let buffered = '';
      stream?.on('data', (chunk: string) => {
        buffered += chunk;
        const lines = buffered.split('\n');
        buffered = lines.pop() ?? '';
        for (const line of lines) this.onOutputLine(line, stream === child.stderr);
      });
    }

    child.on('message', (raw: unknown) => {
      let message;
      try {
        message = parseWorkerMessage(raw);
      } catch (error) {
        options.log.error(`Ignored an invalid message from worker ${child.pid}: ${(error as Error).message}`);
        return;
      }
      if (message.kind === 'event') {
        if (message.event === 'ready') {
          if (message.protocolVersion !== WORKER_PROTOCOL_VERSION) {
            onReady(new WorkerRequestError('protocol', `Worker uses protocol version ${message.protocolVersion} but the extension uses ${WORKER_PROTOCOL_VERSION}. Rebuild the extension.`));
            this.kill();
            return;
          }
          ready = true;
          onReady();
          return;
        }
        if (message.event === 'log') options.log.worker(message.level, message.message);
        if (message.event === 'token') this.pending.get(message.requestId)?.onToken?.(message.text);
        options.onEvent?.(message);
        return;
      }
      const pending = this.pending.get(message.id);
      if (!pending) {
        options.log.warn(`Worker ${child.pid} replied to unknown request #${message.id}.`);
        return;
      }
      this.pending.delete(message.id);
      if (!message.ok) {
        pending.reject(errorFromReply(message.error, options.log));
        return;
      }
      try {
        pending.resolve(workerMethods[pending.method].result(message.result, '$.result'));
      } catch (error) {
        const detail = error instanceof ProtocolError ? error.message : String(error);
        pending.reject(new WorkerRequestError('protocol', `Worker sent an invalid result for ${pending.method}. ${detail}`));
      }
    });
  }

  /** Forks the worker and resolves once it has sent a `ready` event with a matching protocol version. */
  static start(options: WorkerClientOptions): Promise<WorkerClient> {
    return new Promise((resolve, reject) => {
      const child = fork(options.workerPath, [], {
        execPath: options.execPath,
        execArgv: options.execArgv ?? [],
        env: options.env ?? process.env,
        cwd: options.cwd,
        stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
        serialization: 'json',
      });
      const timer = setTimeout(() => {
        client.kill();
        reject(new WorkerRequestError('worker-exited', `Worker start timed out after ${(options.readyTimeoutMs ?? defaultReadyTimeoutMs) / 1000} s. See the Engram log for its output.`));
      }, options.readyTimeoutMs ?? defaultReadyTimeoutMs);
      const client: WorkerClient = new WorkerClient(child, options, (error) => {
        clearTimeout(timer);
        if (error) reject(error);
        else resolve(client);
      });
      options.log.info(`Started worker ${child.pid} (${options.workerPath}).`);
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get running(): boolean {
    return this.exitInfo === undefined;
  }

  request<M extends WorkerMethod>(method: M, params: WorkerParams<M>, extra: { onToken?: (text: string) => void } = {}): Promise<WorkerResult<M>> {
    if (this.exitInfo) return Promise.reject(new WorkerRequestError('worker-exited', describeExit(this.exitInfo)));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { method, resolve: resolve as (value: unknown) => void, reject, onToken: extra.onToken });
      this.child.send({ kind: 'request', id, method, params }, (error) => {
        if (!error) return;
        this.pending.delete(id);
        reject(new WorkerRequestError('worker-exited', `Could not send ${method} to the worker: ${error.message}`));
      });
    });
  }

  /** Asks the worker to exit and kills it when it has not exited within `graceMs`. */
  async shutdown(graceMs = 5_000): Promise<WorkerExit> {
    if (this.exitInfo) return this.exitInfo;
    this.expectedExit = true;
    const timer = setTimeout(() => {
      this.options.log.warn(`Worker ${this.child.pid} did not exit within ${graceMs} ms; killing it.`);
      this.kill();
    }, graceMs);
    this.request('shutdown', {}).catch(() => undefined);
    const exit = await this.exited;
    clearTimeout(timer);
    return exit;
  }

  kill(): void {
    this.expectedExit = true;
    if (this.exitInfo === undefined) this.child.kill('SIGKILL');
  }

  private onOutputLine(line: string, isStderr: boolean): void {
    if (line.trim().length === 0) return;
    if (outOfMemoryPattern.test(line)) this.sawOutOfMemory = true;
    this.options.log.worker(isStderr ? 'warn' : 'info', line);
  }
}

function errorFromReply(error: WorkerError, log: ClientLog): WorkerRequestError {
  if (error.stack) log.worker('debug', error.stack);
  return new WorkerRequestError(error.code, error.message, error.stack);
}

export function describeExit(exit: WorkerExit): string {
  const how = exit.signal ? `signal ${exit.signal}` : `exit code ${exit.code}`;
  return exit.outOfMemory ? `the worker ran out of memory (${how})` : `the worker exited with ${how}`;
}
