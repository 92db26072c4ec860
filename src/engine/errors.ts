/**
 * Error raised for problems a user can fix: bad input files, wrong options, a pack made for
 * another model. The CLI and the extension show `message` without a stack trace.
 */
export class EngramError extends Error {
  constructor(
    readonly code: EngramErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'EngramError';
  }
}

export type EngramErrorCode =
  | 'invalid-argument'
  | 'not-found'
  | 'invalid-model'
  | 'unsupported-architecture'
  | 'invalid-safetensors'
  | 'invalid-corpus'
  | 'invalid-pack'
  | 'pack-mismatch'
  | 'pack-exists'
  | 'backend-unavailable'
  | 'non-finite-loss'
  | 'out-of-memory'
  | 'cancelled';

export function isEngramError(value: unknown): value is EngramError {
  return value instanceof EngramError;
}
