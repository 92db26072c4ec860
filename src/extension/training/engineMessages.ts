/**
 * Rewrites engine error messages for the extension. The engine's messages name CLI flags such as
 * `--seq-len`. Extension users change the matching setting instead, so each flag is replaced
 * with the option name of the Train Pack list and its setting ID.
 */

/** Phrases that only make sense on the command line, with their extension wording. */
const phraseReplacements: [RegExp, string][] = [
  [/,? or pass --eval-fraction 0/g, ' (only the engram CLI changes the share held out for the eval loss)'],
  [/,? or pass --replace to overwrite it/g, ', or train again and choose Replace when asked'],
  [/"engram train"|`engram train`/g, '"Engram: Train Pack"'],
];

/** Flags with a matching setting. */
const flagReplacements: Record<string, string> = {
  '--seq-len': 'Sequence length (engram.training.seqLen)',
  '--lr': 'Learning rate (engram.training.learningRate)',
  '--rows': 'Rows per head (engram.training.rowsPerHead)',
  '--layers': 'Memory layers (engram.training.layers)',
  '--steps': 'Steps (engram.training.steps)',
  '--batch-size': 'Batch size (engram.training.batchSize)',
  '--backend': 'Backend (engram.backend)',
  '--head-dim': 'the head dimension (only the engram CLI changes it)',
};

/** Returns `message` with CLI commands and flags replaced by command and setting names; flags without a setting are left as they are. */
export function replaceCliFlags(message: string): string {
  let result = message;
  for (const [pattern, replacement] of phraseReplacements) result = result.replace(pattern, replacement);
  return result.replace(/(?<![\w-])--[a-z][a-z-]*/g, (flag) => flagReplacements[flag] ?? flag);
}

/** Counts of the engine's sampling phase message ("Sampled 100 of 400 sequences"), or undefined for other messages. */
export function parseSamplingProgress(message: string): { done: number; total: number } | undefined {
  const match = /^Sampled (\d+) of (\d+) sequences/.exec(message);
  return match ? { done: Number(match[1]), total: Number(match[2]) } : undefined;
}
