/**
 * Messages between the extension host and the Playground webview. Both sides validate what they
 * receive. The webview's first message is `ready` with its protocol version; the host replies
 * with `init`. A completion streams as `partial` messages per side and ends with `done` or
 * `failed`.
 */
import { array, boolean, integer, literal, nullable, number, object, oneOf, optional, ProtocolError, string, tagged, type Infer, type Validator } from './validate';

/** Raised by one on every incompatible change to this file. */
export const PLAYGROUND_PROTOCOL_VERSION = 1;

/** The two completions of a prompt: with the attached pack, and with the base model alone. */
export const completionSides = ['pack', 'base'] as const;
export type CompletionSide = (typeof completionSides)[number];

/** Limits of the sampling settings, enforced on both sides. */
export const samplingLimits = {
  temperature: { min: 0, max: 2 },
  topP: { min: 0.01, max: 1 },
  maxTokens: { min: 1, max: 512 },
  /** Prompt length in UTF-16 code units. */
  promptLength: 20_000,
} as const;

function inRange(inner: Validator<number>, min: number, max: number): Validator<number> {
  return (value, path = '$') => {
    const checked = inner(value, path);
    if (checked < min || checked > max) throw new ProtocolError(path, `a number from ${min} to ${max}`, value);
    return checked;
  };
}

function maxLength(limit: number): Validator<string> {
  return (value, path = '$') => {
    const checked = string(value, path);
    if (checked.length > limit) throw new ProtocolError(path, `a string of at most ${limit} characters`, value);
    return checked;
  };
}

export const samplingSettings = object({
  /** 0 means greedy decoding. */
  temperature: inRange(number, samplingLimits.temperature.min, samplingLimits.temperature.max),
  topP: inRange(number, samplingLimits.topP.min, samplingLimits.topP.max),
  maxTokens: inRange(integer, samplingLimits.maxTokens.min, samplingLimits.maxTokens.max),
});
export type SamplingSettings = Infer<typeof samplingSettings>;

export const defaultSampling: SamplingSettings = { temperature: 0, topP: 1, maxTokens: 32 };

export type SamplingField = keyof SamplingSettings;

/** An input value outside its limits, with the limits to show in the error message. */
export interface SamplingProblem {
  field: SamplingField;
  min: number;
  max: number;
  /** True when the value must be a whole number. */
  integer: boolean;
}

/** Checks the text of the three sampling inputs; returns one problem per invalid field, in input order. */
export function findSamplingProblems(text: Record<SamplingField, string>): SamplingProblem[] {
  const problems: SamplingProblem[] = [];
  const fields: [SamplingField, { min: number; max: number }, boolean][] = [
    ['temperature', samplingLimits.temperature, false],
    ['topP', samplingLimits.topP, false],
    ['maxTokens', samplingLimits.maxTokens, true],
  ];
  for (const [field, limits, integer] of fields) {
    const raw = text[field].trim();
    const value = Number(raw);
    const valid = raw !== '' && Number.isFinite(value) && value >= limits.min && value <= limits.max && (!integer || Number.isInteger(value));
    if (!valid) problems.push({ field, min: limits.min, max: limits.max, integer });
  }
  return problems;
}

const probeScore = object({ passed: boolean, predicted: string });
export const probeRow = object({ prompt: string, answer: string, relation: string, withPack: probeScore, withoutPack: probeScore });
export type ProbeRow = Infer<typeof probeRow>;

export const hostToPlayground = tagged('type', {
  init: object({
    type: literal('init'),
    protocolVersion: integer,
    pack: nullable(string),
    model: nullable(string),
    sampling: samplingSettings,
    prompt: string,
  }),
  /** The attached pack or the loaded model changed. */
  runtime: object({ type: literal('runtime'), pack: nullable(string), model: nullable(string) }),
  /** All text generated so far on one side, not only the newest token. */
  partial: object({ type: literal('partial'), requestId: integer, side: oneOf(completionSides), text: string }),
  done: object({ type: literal('done'), requestId: integer, side: oneOf(completionSides), text: string }),
  failed: object({ type: literal('failed'), requestId: integer, message: string }),
  probesStarted: object({ type: literal('probesStarted'), file: string }),
  probes: object({ type: literal('probes'), file: string, rows: array(probeRow) }),
  probesFailed: object({ type: literal('probesFailed'), message: string }),
});
export type HostToPlayground = Infer<typeof hostToPlayground>;

export const playgroundToHost = tagged('type', {
  ready: object({ type: literal('ready'), protocolVersion: integer }),
  generate: object({
    type: literal('generate'),
    requestId: integer,
    prompt: maxLength(samplingLimits.promptLength),
    sampling: samplingSettings,
    seed: optional(integer),
  }),
  /** Asks the host to pick a `.tsv` probe file and score it. */
  runProbes: object({ type: literal('runProbes') }),
  /** A script error in the webview, for the log. */
  error: object({ type: literal('error'), message: maxLength(2_000) }),
});
export type PlaygroundToHost = Infer<typeof playgroundToHost>;

/** Localized playground text, filled by the host with `vscode.l10n.t`; `{0}` placeholders are replaced in the webview. */
export const playgroundStringKeys = [
  'prompt',
  'promptPlaceholder',
  'generate',
  'temperature',
  'topP',
  'maxTokens',
  'withPack',
  'withoutPack',
  'noPack',
  'packLabel',
  'generating',
  'failed',
  'invalidNumber',
  'invalidInteger',
  'emptyPrompt',
  'same',
  'different',
  'runProbes',
  'probesRunning',
  'probesSummary',
  'probesFailed',
  'probePrompt',
  'probeAnswer',
  'probeRelation',
  'passed',
  'notPassed',
] as const;
export type PlaygroundStrings = Record<(typeof playgroundStringKeys)[number], string>;
