import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultTrainOptions } from '../../src/engine/defaults';
import { silentLogger } from '../../src/engine/log';
import { trainPack } from '../../src/engine/train/trainer';
import type { TrainEvent, TrainOptions } from '../../src/engine/types';
import { countryFactsDir, storiesModelDir } from './paths';

export function tempDir(prefix: string): { path: string; remove: () => void } {
  const path = mkdtempSync(join(tmpdir(), `engram-${prefix}-`));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/** Copies a read-only fixture folder to a writable temp folder. */
export function copyFixture(source: string, target: string): string {
  cpSync(source, target, { recursive: true });
  return target;
}

/** Options for a small, quick run on stories260K and country-facts; tables of about 300 rows per head. */
export function smallTrainOptions(packDir: string, overrides: Partial<TrainOptions> = {}): TrainOptions {
  return defaultTrainOptions({
    modelDir: storiesModelDir,
    corpus: [join(countryFactsDir, 'facts.txt')],
    packDir,
    steps: 4,
    batchSize: 2,
    seqLen: 32,
    warmupSteps: 1,
    evalFraction: 0,
    checkpointEvery: 0,
    backend: 'auto',
    ...overrides,
    engram: { layers: [1, 3], orders: [2, 3], headsPerOrder: 8, headDim: 8, rowsPerHead: 300, seed: 7, ...overrides.engram },
    preservation: { enabled: false, weight: 2, samples: 4, batchSize: 2, ...overrides.preservation },
  });
}

export async function trainQuietly(options: TrainOptions, signal?: AbortSignal, onEvent?: (event: TrainEvent) => void) {
  const events: TrainEvent[] = [];
  const done = await trainPack(options, {
    log: silentLogger,
    signal,
    onEvent: (event) => {
      events.push(event);
      onEvent?.(event);
    },
  });
  return { done, events };
}
