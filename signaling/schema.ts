/**
 * A small runtime schema checker for signaling messages. Each schema both validates and narrows the
 * type; errors name the offending field path ("data.rtpParameters.codecs"), so a client sees which
 * field was wrong. Browser-safe (no Node imports).
 */

export class SchemaError extends Error {
  readonly path: string;
  constructor(path: string, expectation: string) {
    super(`${path || 'message'}: ${expectation}`);
    this.name = 'SchemaError';
    this.path = path;
  }
}

export interface Schema<T> {
  readonly description: string;
  parse(value: unknown, path?: string): T;
}

export type Infer<S> = S extends Schema<infer T> ? T : never;

function schema<T>(description: string, parse: (value: unknown, path: string) => T): Schema<T> {
  return { description, parse: (value, path = '') => parse(value, path) };
}

export function str(options: { min?: number; max?: number; pattern?: RegExp } = {}): Schema<string> {
  const { min = 0, max = 1024, pattern } = options;
  return schema(`string(${min}..${max})`, (value, path) => {
    if (typeof value !== 'string') throw new SchemaError(path, 'must be a string');
    if (value.length < min) throw new SchemaError(path, `must be at least ${min} characters`);
    if (value.length > max) throw new SchemaError(path, `must be at most ${max} characters`);
    if (pattern && !pattern.test(value)) throw new SchemaError(path, `must match ${pattern}`);
    return value;
  });
}

export function num(options: { min?: number; max?: number; integer?: boolean } = {}): Schema<number> {
  const { min = -Number.MAX_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER, integer = false } = options;
  return schema(`number(${min}..${max})`, (value, path) => {
    if (typeof value !== 'number' || !Number.isFinite(value)) throw new SchemaError(path, 'must be a finite number');
    if (integer && !Number.isInteger(value)) throw new SchemaError(path, 'must be an integer');
    if (value < min || value > max) throw new SchemaError(path, `must be between ${min} and ${max}`);
    return value;
  });
}

export function bool(): Schema<boolean> {
  return schema('boolean', (value, path) => {
    if (typeof value !== 'boolean') throw new SchemaError(path, 'must be a boolean');
    return value;
  });
}

export function oneOf<const V extends readonly string[]>(values: V): Schema<V[number]> {
  return schema(values.join('|'), (value, path) => {
    if (typeof value !== 'string' || !values.includes(value)) {
      throw new SchemaError(path, `must be one of ${values.join(', ')}`);
    }
    return value as V[number];
  });
}

export function optional<T>(inner: Schema<T>): Schema<T | undefined> {
  return schema(`${inner.description}?`, (value, path) => (value === undefined ? undefined : inner.parse(value, path)));
}

export function nullable<T>(inner: Schema<T>): Schema<T | null> {
  return schema(`${inner.description}|null`, (value, path) => (value === null ? null : inner.parse(value, path)));
}

export function arrayOf<T>(inner: Schema<T>, options: { max?: number } = {}): Schema<T[]> {
  const { max = 1000 } = options;
  return schema(`${inner.description}[]`, (value, path) => {
    if (!Array.isArray(value)) throw new SchemaError(path, 'must be an array');
    if (value.length > max) throw new SchemaError(path, `must have at most ${max} items`);
    return value.map((item, index) => inner.parse(item, `${path}[${index}]`));
  });
}

/** A JSON object passed through as is (mediasoup validates RTP parameters itself); size-bounded. */
export function opaqueObject(options: { maxJsonLength?: number } = {}): Schema<Record<string, unknown>> {
  const { maxJsonLength = 32 * 1024 } = options;
  return schema('object', (value, path) => {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw new SchemaError(path, 'must be an object');
    }
    if (JSON.stringify(value).length > maxJsonLength) throw new SchemaError(path, `must be at most ${maxJsonLength} bytes of JSON`);
    return value as Record<string, unknown>;
  });
}

type Shape = Record<string, Schema<unknown>>;
type OptionalKeys<S extends Shape> = { [K in keyof S]: undefined extends Infer<S[K]> ? K : never }[keyof S];
type RequiredKeys<S extends Shape> = Exclude<keyof S, OptionalKeys<S>>;
export type ObjectOf<S extends Shape> = { [K in RequiredKeys<S>]: Infer<S[K]> } & { [K in OptionalKeys<S>]?: Infer<S[K]> };

/** An object with exactly these fields: unknown fields are refused so typos surface. */
export function obj<S extends Shape>(shape: S): Schema<ObjectOf<S>> {
  return schema('object', (value, path) => {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw new SchemaError(path, 'must be an object');
    }
    const input = value as Record<string, unknown>;
    for (const key of Object.keys(input)) {
      if (!Object.prototype.hasOwnProperty.call(shape, key)) throw new SchemaError(join(path, key), 'is not a known field');
    }
    const output: Record<string, unknown> = {};
    for (const [key, fieldSchema] of Object.entries(shape)) {
      const parsed = fieldSchema.parse(input[key], join(path, key));
      if (parsed !== undefined) output[key] = parsed;
    }
    return output as ObjectOf<S>;
  });
}

function join(path: string, key: string): string {
  return path ? `${path}.${key}` : key;
}
