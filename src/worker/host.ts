/** Connects a `WorkerServer` to the parent process's IPC channel. */
import { GpuMonitor } from './gpuMonitor';
import { WorkerServer, type WorkerEngine } from './server';

export function runWorker(engine: WorkerEngine): WorkerServer {
  const send = process.send?.bind(process);
  if (!send) {
    process.stderr.write('The Engram worker must be started by the extension with an IPC channel (child_process.fork).\n');
    process.exit(2);
  }
  const server = new WorkerServer({
    engine,
    send: (message) => send(message),
    exit: () => {
      process.disconnect?.();
      process.exitCode = 0;
    },
    gpuMonitor: new GpuMonitor(),
    logLevel: process.env.ENGRAM_LOG_LEVEL === 'debug' ? 'debug' : 'info',
  });
  process.on('message', (raw: unknown) => void server.handle(raw));
  // The extension host going away closes the channel; nothing is left to serve.
  process.on('disconnect', () => {
    engine.dispose();
    process.exit(0);
  });
  server.announce(process.pid);
  return server;
}
