import { resolve } from 'node:path';

/** Repository root: each test is bundled into out/test, two levels below it. */
export const repoRoot = resolve(__dirname, '..', '..');
/** Read-only fixtures that sit beside the checkout (`../shared`). */
export const sharedDir = resolve(repoRoot, '..', 'shared');
export const storiesModelDir = resolve(sharedDir, 'fixtures/models/stories260K-hf');
export const llama2TokenizerDir = resolve(sharedDir, 'fixtures/models/llama2-tokenizer');
export const tinyRandomLlamaDir = resolve(sharedDir, 'fixtures/models/tiny-random-llama-hf');
export const countryFactsDir = resolve(sharedDir, 'fixtures/corpora/country-facts');
export const tinyStoriesFile = resolve(sharedDir, 'fixtures/corpora/tinystories-sample/tinystories-sample.txt');
