/** Problems that keep the attached pack from being inspected. Pure, so it is unit-tested without VS Code. */
import { resolve } from 'node:path';
import type { PackItemKind } from '../packs/packTreeModel';
import type { RuntimeState } from '../worker/runtimeService';

export type PackProblem =
  | { kind: 'no-model' }
  | { kind: 'no-pack' }
  /** Packs exist, but every readable one was trained for another model. */
  | { kind: 'no-pack-for-model'; modelDir: string }
  /** A pack is attached, but to another model than the selected one. */
  | { kind: 'other-model'; packName: string; loadedModelDir: string; selectedModelDir: string };

/** Returns what keeps the attached pack from being used, or undefined when nothing does. */
export function packProblem(state: RuntimeState, selectedModelDir: string | undefined, packKinds: readonly PackItemKind[]): PackProblem | undefined {
  if (state.attached && state.modelDir) {
    if (selectedModelDir !== undefined && resolve(selectedModelDir) !== resolve(state.modelDir)) {
      return { kind: 'other-model', packName: state.attached.name, loadedModelDir: state.modelDir, selectedModelDir };
    }
    return undefined;
  }
  if (selectedModelDir === undefined) return { kind: 'no-model' };
  const readable = packKinds.filter((kind) => kind !== 'invalid');
  if (readable.length > 0 && readable.every((kind) => kind === 'mismatch')) return { kind: 'no-pack-for-model', modelDir: selectedModelDir };
  return { kind: 'no-pack' };
}
