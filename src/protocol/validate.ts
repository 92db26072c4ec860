/**
 * Small runtime validators for messages that cross a process or webview boundary.
 * A validator returns a fresh value that holds only the declared fields, or throws
 * `ProtocolError` naming the path of the first field that does not match.
 */

export class ProtocolError extends Error {
  constructor(
    readonly path: string,
    readonly expected: string,
    readonly actual: unknown,
  ) {
    super(`Invalid message: ${path} should be ${expected}, got ${describe(actual)}.`);
    this.name = 'ProtocolError';
  }
}

export type Validator<T> = (value: unknown, path?: string) => T;
export type Infer<V> = V extends Validator<infer T> ? T : never;

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return value.length > 40 ? `a string of ${value.length} characters` : JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return typeof value === 'object' ? 'an object' : typeof value;
}

export const string: Validator<string> = (value, path = '$') => {
  if (typeof value !== 'string') throw new ProtocolError(path, 'a string', value);
  return value;
};

/** Finite number; JSON carries NaN and Infinity as null, so they never arrive as numbers. */
export const number: Validator<number> = (value, path = '$') => {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new ProtocolError(path, 'a finite number', value);
  return value;
};

export const integer: Validator<number> = (value, path = '$') => {
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) throw new ProtocolError(path, 'an integer', value);
  return value;
};

export const boolean: Validator<boolean> = (value, path = '$') => {
  if (typeof value !== 'boolean') throw new ProtocolError(path, 'a boolean', value);
  return value;
};

export function literal<const T extends string | number | boolean>(expected: T): Validator<T> {
  return (value, path = '$') => {
    if (value !== expected) throw new ProtocolError(path, JSON.stringify(expected), value);
    return expected;
  };
}

export function oneOf<const T extends readonly string[]>(choices: T): Validator<T[number]> {
  return (value, path = '$') => {
    if (typeof value !== 'string' || !choices.includes(value)) {
      throw new ProtocolError(path, `one of ${choices.map((choice) => JSON.stringify(choice)).join(', ')}`, value);
    }
    return value as T[number];
  };
}

export function array<T>(item: Validator<T>, maxLength = Number.MAX_SAFE_INTEGER): Validator<T[]> {
  return (value, path = '$') => {
    if (!Array.isArray(value)) throw new ProtocolError(path, 'an array', value);
    if (value.length > maxLength) throw new ProtocolError(path, `an array of at most ${maxLength} items`, value);
    return value.map((element, index) => item(element, `${path}[${index}]`));
  };
}

/** Marks an object field as optional: `undefined` or a missing key passes. */
export interface OptionalValidator<T> extends Validator<T | undefined> {
  readonly optional: true;
}

export function optional<T>(inner: Validator<T>): OptionalValidator<T> {
  const validator = (value: unknown, path = '$') => (value === undefined ? undefined : inner(value, path));
  return Object.assign(validator, { optional: true as const });
}

export function nullable<T>(inner: Validator<T>): Validator<T | null> {
  return (value, path = '$') => (value === null ? null : inner(value, path));
}

type Shape = Record<string, Validator<unknown>>;
type RequiredKeys<S extends Shape> = { [K in keyof S]: S[K] extends OptionalValidator<unknown> ? never : K }[keyof S];
type OptionalKeys<S extends Shape> = { [K in keyof S]: S[K] extends OptionalValidator<unknown> ? K : never }[keyof S];
type Flatten<T> = { [K in keyof T]: T[K] };
export type ObjectOf<S extends Shape> = Flatten<
  { [K in RequiredKeys<S>]: Infer<S[K]> } & { [K in OptionalKeys<S>]?: Exclude<Infer<S[K]>, undefined> }
>;

/** Object with the fields of `shape`; unknown fields are dropped from the result. */
export function object<S extends Shape>(shape: S): Validator<ObjectOf<S>> {
  return (value, path = '$') => {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ProtocolError(path, 'an object', value);
    const source = value as Record<string, unknown>;
    const result: Record<string, unknown> = {};
    for (const key of Object.keys(shape)) {
      const field = shape[key](source[key], `${path}.${key}`);
      if (field !== undefined) result[key] = field;
    }
    return result as ObjectOf<S>;
  };
}

/** Union of object types distinguished by the string field `tag`. */
export function tagged<const K extends string, M extends Record<string, Validator<unknown>>>(
  tag: K,
  variants: M,
): Validator<Infer<M[keyof M]>> {
  const names = Object.keys(variants);
  return (value, path = '$') => {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ProtocolError(path, 'an object', value);
    const name = (value as Record<string, unknown>)[tag];
    if (typeof name !== 'string' || !Object.prototype.hasOwnProperty.call(variants, name)) {
      throw new ProtocolError(`${path}.${tag}`, `one of ${names.map((entry) => JSON.stringify(entry)).join(', ')}`, name);
    }
    return variants[name](value, path) as Infer<M[keyof M]>;
  };
}

/** Runs `validator` and returns the error instead of throwing it. */
export function check<T>(validator: Validator<T>, value: unknown): { ok: true; value: T } | { ok: false; error: ProtocolError } {
  try {
    return { ok: true, value: validator(value) };
  } catch (error) {
    if (error instanceof ProtocolError) return { ok: false, error };
    throw error;
  }
}
