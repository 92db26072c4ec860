import { parseArgs, type ParseArgsConfig } from 'node:util';
import { EngramError } from '../engine/errors';

export type OptionSpec = NonNullable<ParseArgsConfig['options']>;

/** Parses `argv` with node:util's parseArgs, turning its errors into usage errors. */
export function parseCommandArgs<const T extends OptionSpec>(argv: string[], options: T, allowPositionals = true) {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (!allowPositionals && parsed.positionals.length > 0) {
    throw new UsageError(`Unexpected argument "${parsed.positionals[0]}".`);
  }
  return parsed;
}

/** A wrong command line: the CLI prints the message and the command's help, and exits with 2. */
export class UsageError extends Error {}

export function intOption(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const parsed = Number(value);
  if (!Number.isInteger(parsed)) throw new UsageError(`--${name} must be an integer, got "${value}".`);
  return parsed;
}

export function numberOption(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const parsed = Number(value);
  if (!Number.isFinite(parsed)) throw new UsageError(`--${name} must be a number, got "${value}".`);
  return parsed;
}

export function intListOption(name: string, value: string | undefined, fallback: number[]): number[] {
  if (value === undefined) return fallback;
  const pieces = value.split(',').map((part) => part.trim());
  const parts = pieces.map((part) => Number(part));
  if (pieces.some((part) => part === '') || parts.some((part) => !Number.isInteger(part))) {
    throw new UsageError(`--${name} must be a comma-separated list of integers such as 1,3, got "${value}".`);
  }
  return parts;
}

export function backendOption(value: string | undefined): 'auto' | 'tensorflow' | 'wasm' | 'cpu' {
  const choice = value ?? 'auto';
  if (choice !== 'auto' && choice !== 'tensorflow' && choice !== 'wasm' && choice !== 'cpu') {
    throw new UsageError(`--backend must be auto, tensorflow, wasm or cpu, got "${choice}".`);
  }
  return choice;
}

export { EngramError };
