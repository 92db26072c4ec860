/** Settings and remembered choices of the inspection features, read without VS Code for tests. */
import type { SettingGetter } from '../config';
import { type HitMetric, isHitMetric } from './hitScale';

/** Value of `engram.inspect.maxTokens` in package.json. */
export const defaultInspectMaxTokens = 512;
/** BOS and at least one token of text. */
export const minInspectMaxTokens = 2;

/** `globalState` key of the metric that colors memory hits. */
export const hitMetricKey = 'engram.inspect.metric';
export const defaultHitMetric: HitMetric = 'contribution';

/**
 * Characters of the document sent per requested token. The worker cuts the encoded text to
 * `maxTokens`, so this only bounds the text sent over IPC and encoded for a large file.
 */
export const charactersPerToken = 16;

/** Reads `engram.inspect.maxTokens` (key `inspect.maxTokens` of the `engram` section). */
export function readInspectMaxTokens(get: SettingGetter): number {
  const value = get('inspect.maxTokens');
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= minInspectMaxTokens ? value : defaultInspectMaxTokens;
}

export function readHitMetric(stored: unknown): HitMetric {
  return isHitMetric(stored) ? stored : defaultHitMetric;
}

/**
 * Returns the part of a document to inspect: the selection when it is not empty, else the whole
 * text, cut after `maxTokens × charactersPerToken` characters. Offsets are UTF-16 code units.
 */
export function inspectedSlice(documentText: string, selection: { start: number; end: number } | undefined, maxTokens: number): { text: string; offset: number; cut: boolean } {
  const hasSelection = selection !== undefined && selection.end > selection.start;
  const offset = hasSelection ? selection.start : 0;
  const whole = hasSelection ? documentText.slice(selection.start, selection.end) : documentText;
  const maxCharacters = maxTokens * charactersPerToken;
  if (whole.length <= maxCharacters) return { text: whole, offset, cut: false };
  // A cut inside a surrogate pair would leave half a character.
  let end = maxCharacters;
  const code = whole.charCodeAt(end - 1);
  if (code >= 0xd800 && code <= 0xdbff) end--;
  return { text: whole.slice(0, end), offset, cut: true };
}
