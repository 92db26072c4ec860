import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { buildStatusBarView } from '../src/extension/statusBarText';
import { attachedPackKey, RuntimeService, workspaceAttachedPackMemory, type MementoLike, type RuntimeState } from '../src/extension/worker/runtimeService';
import type { ClientLog } from '../src/extension/worker/workerClient';
import { smallTrainOptions, tempDir, trainQuietly } from './helpers/engine';
import { repoRoot, storiesModelDir } from './helpers/paths';

// A pack attached in one session is attached again by the next session's RuntimeService, which
// runs the built worker (dist/worker.js, made by `npm run build`) on a pack trained here.
const workerPath = join(repoRoot, 'dist', 'worker.js');
const scratch = tempDir('extension-reattach');
const packsDir = join(scratch.path, 'packs');
const factsDir = join(packsDir, 'facts.engram');
const otherModelDir = join(scratch.path, 'other-model');

/** In-memory `workspaceState`; like VS Code's, storing undefined removes the key. */
class MemoryMemento implements MementoLike {
  readonly values = new Map<string, unknown>();
  get<T>(key: string): T | undefined {
    return this.values.get(key) as T | undefined;
  }
  update(key: string, value: unknown): Promise<void> {
    if (value === undefined) this.values.delete(key);
    else this.values.set(key, value);
    return Promise.resolve();
  }
}

interface Session {
  runtime: RuntimeService;
  states: RuntimeState[];
  logLines: string[];
}

const sessions: RuntimeService[] = [];

/** Creates a RuntimeService on `memento`, as `activate` does after a window reload. */
function startSession(memento: MementoLike): Session {
  const states: RuntimeState[] = [];
  const logLines: string[] = [];
  const log: ClientLog = {
    info: (message) => logLines.push(`info ${message}`),
    warn: (message) => logLines.push(`warn ${message}`),
    error: (message) => logLines.push(`error ${message}`),
    worker: () => undefined,
  };
  const runtime = new RuntimeService({
    workerOptions: () => ({ workerPath, log, env: { ...process.env, ENGRAM_LOG_LEVEL: 'warn' } }),
    onStateChange: (state) => states.push(state),
    onCrash: () => undefined,
    attachedPackMemory: workspaceAttachedPackMemory(memento),
  });
  sessions.push(runtime);
  return { runtime, states, logLines };
}

before(async () => {
  assert.ok(existsSync(workerPath), `${workerPath} is missing; run npm run build first.`);
  mkdirSync(packsDir, { recursive: true });
  await trainQuietly(smallTrainOptions(factsDir, { backend: 'cpu' }));
  // Same weights, another config file: the pack's base model fingerprint no longer matches.
  cpSync(storiesModelDir, otherModelDir, { recursive: true });
  const config = JSON.parse(readFileSync(join(otherModelDir, 'config.json'), 'utf8')) as Record<string, unknown>;
  writeFileSync(join(otherModelDir, 'config.json'), JSON.stringify({ ...config, torch_dtype: 'float16' }));
});

after(async () => {
  for (const runtime of sessions) await runtime.dispose();
  scratch.remove();
});

test('attach stores pack folder', async () => {
  const memento = new MemoryMemento();
  const { runtime } = startSession(memento);
  await runtime.attach(factsDir, storiesModelDir, 'cpu');
  assert.equal(memento.get(attachedPackKey), factsDir);
});

test('detach clears pack folder', async () => {
  const memento = new MemoryMemento();
  const { runtime } = startSession(memento);
  await runtime.attach(factsDir, storiesModelDir, 'cpu');
  await runtime.detach();
  assert.equal(memento.get(attachedPackKey), undefined);
});

test('shutdown keeps pack folder', async () => {
  const memento = new MemoryMemento();
  const { runtime } = startSession(memento);
  await runtime.attach(factsDir, storiesModelDir, 'cpu');
  await runtime.dispose();
  assert.equal(runtime.state.attached, undefined);
  assert.equal(memento.get(attachedPackKey), factsDir);
});

test('reload attaches remembered pack', async () => {
  const memento = new MemoryMemento();
  const first = startSession(memento);
  await first.runtime.attach(factsDir, storiesModelDir, 'cpu');
  await first.runtime.dispose();

  const second = startSession(memento);
  const outcome = await second.runtime.reattachRemembered(storiesModelDir, 'cpu');
  assert.equal(outcome.kind, 'attached');
  assert.equal(second.runtime.state.attached?.name, 'facts');
  assert.equal(second.states.at(-1)?.attached?.name, 'facts');
  assert.equal(buildStatusBarView(second.runtime.state, undefined).text, '$(database) facts (cpu)');
  assert.ok(second.logLines.some((line) => line.startsWith('info Attached facts again')), second.logLines.join('\n'));
  assert.equal(memento.get(attachedPackKey), factsDir);
});

test('reload without memory does nothing', async () => {
  const { runtime, states } = startSession(new MemoryMemento());
  const outcome = await runtime.reattachRemembered(storiesModelDir, 'cpu');
  assert.equal(outcome.kind, 'nothing-remembered');
  assert.deepEqual(states, []);
});

test('reload without model keeps memory', async () => {
  const memento = new MemoryMemento();
  await memento.update(attachedPackKey, factsDir);
  const { runtime, states, logLines } = startSession(memento);
  const outcome = await runtime.reattachRemembered(undefined, 'cpu');
  assert.equal(outcome.kind, 'no-model');
  assert.deepEqual(states, []);
  assert.equal(memento.get(attachedPackKey), factsDir);
  assert.match(logLines.join('\n'), /engram\.modelFolder is not set/);
});

test('reload drops deleted pack', async () => {
  const memento = new MemoryMemento();
  const goneDir = join(packsDir, 'gone.engram');
  await memento.update(attachedPackKey, goneDir);
  const { runtime, logLines } = startSession(memento);
  const outcome = await runtime.reattachRemembered(storiesModelDir, 'cpu');
  assert.equal(outcome.kind, 'forgotten');
  assert.equal(runtime.state.attached, undefined);
  assert.equal(memento.get(attachedPackKey), undefined);
  assert.ok(logLines.some((line) => line.startsWith('warn Dropped') && line.includes(goneDir)), logLines.join('\n'));
});

test('reload drops pack without metadata', async () => {
  const memento = new MemoryMemento();
  const brokenDir = join(packsDir, 'broken.engram');
  mkdirSync(brokenDir, { recursive: true });
  await memento.update(attachedPackKey, brokenDir);
  const { runtime } = startSession(memento);
  const outcome = await runtime.reattachRemembered(storiesModelDir, 'cpu');
  assert.equal(outcome.kind, 'forgotten');
  assert.equal(memento.get(attachedPackKey), undefined);
});

test('reload drops pack of other model', async () => {
  const memento = new MemoryMemento();
  await memento.update(attachedPackKey, factsDir);
  const { runtime, logLines } = startSession(memento);
  const outcome = await runtime.reattachRemembered(otherModelDir, 'cpu');
  assert.equal(outcome.kind, 'forgotten');
  assert.equal(runtime.state.attached, undefined);
  assert.equal(runtime.state.modelDir, otherModelDir);
  assert.equal(memento.get(attachedPackKey), undefined);
  assert.ok(logLines.some((line) => line.startsWith('warn Dropped')), logLines.join('\n'));
});

test('reload keeps pack when model fails', async () => {
  const memento = new MemoryMemento();
  await memento.update(attachedPackKey, factsDir);
  const { runtime, logLines } = startSession(memento);
  const outcome = await runtime.reattachRemembered(join(scratch.path, 'no-such-model'), 'cpu');
  assert.equal(outcome.kind, 'kept');
  assert.equal(memento.get(attachedPackKey), factsDir);
  assert.match(logLines.join('\n'), /stays remembered/);
});

test('reload skips when pack attached', async () => {
  const memento = new MemoryMemento();
  const copyDir = join(packsDir, 'facts-copy.engram');
  cpSync(factsDir, copyDir, { recursive: true });
  await memento.update(attachedPackKey, factsDir);
  const { runtime } = startSession(memento);
  // The user's attach is queued first, so the remembered pack must not replace it.
  const attaching = runtime.attach(copyDir, storiesModelDir, 'cpu');
  const outcome = await runtime.reattachRemembered(storiesModelDir, 'cpu');
  await attaching;
  assert.equal(outcome.kind, 'skipped');
  assert.equal(runtime.state.attached?.name, 'facts-copy');
  assert.equal(memento.get(attachedPackKey), copyDir);
});

test('reload drops renamed pack', async () => {
  const memento = new MemoryMemento();
  const first = startSession(memento);
  const movableDir = join(packsDir, 'movable.engram');
  cpSync(factsDir, movableDir, { recursive: true });
  await first.runtime.attach(movableDir, storiesModelDir, 'cpu');
  await first.runtime.dispose();
  renameSync(movableDir, join(packsDir, 'moved.engram'));

  const second = startSession(memento);
  const outcome = await second.runtime.reattachRemembered(storiesModelDir, 'cpu');
  assert.equal(outcome.kind, 'forgotten');
  assert.equal(memento.get(attachedPackKey), undefined);
});
