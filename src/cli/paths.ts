import { join, resolve } from 'node:path';

/** Package root: dist/cli.js sits one level below it. */
export const packageRoot = resolve(__dirname, '..');
export const defaultModelDir = join(packageRoot, 'assets/models/stories260K-hf');
export const defaultCorpus = join(packageRoot, 'assets/corpora/country-facts/facts.txt');
export const defaultProbes = join(packageRoot, 'assets/corpora/country-facts/probes.tsv');
/** Packs go to `.engram/packs` under the current folder, like the extension's default. */
export const defaultPacksDir = resolve('.engram/packs');
