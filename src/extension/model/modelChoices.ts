/** Entries of the "Engram: Select Model" list, kept free of VS Code so they are unit-tested. */
import { join } from 'node:path';

/** Model folder shipped inside the extension, relative to the extension folder. */
export const bundledModelPath = join('assets', 'models', 'stories260K-hf');

export interface ModelChoice {
  dir: string;
  bundled: boolean;
  current: boolean;
}

/**
 * Lists the bundled model first, then the current and recently used folders, without repeats.
 * A recent folder that no longer exists is kept, so the list can say why it cannot be used.
 */
export function listModelChoices(bundledDir: string | undefined, current: string | undefined, recent: readonly string[]): ModelChoice[] {
  const seen = new Set<string>();
  const choices: ModelChoice[] = [];
  const add = (dir: string | undefined, bundled: boolean) => {
    if (!dir || seen.has(dir)) return;
    seen.add(dir);
    choices.push({ dir, bundled, current: dir === current });
  };
  add(bundledDir, true);
  add(current, false);
  for (const dir of recent) add(dir, false);
  return choices;
}
