/**
 * Validation from the schema source: every wire message is a TypeBox schema (a JSON Schema that is
 * also a TypeScript type); `checker(schema).parse(value, path)` checks a value once at the boundary
 * and hands back the typed value, or throws a SchemaError naming the field in our dotted form
 * ("data.rtpParameters.codecs", "data.list[2]"). Compiled on first use, so browser bundles that only
 * import the types never run the compiler. Browser-safe (no Node imports).
 */
import { FormatRegistry, Kind, OptionalKind, Static, TSchema, Type, TypeRegistry, type SchemaOptions, type TUnsafe } from '@sinclair/typebox';
import { TypeCheck, TypeCompiler } from '@sinclair/typebox/compiler';
import { ValueError, ValueErrorType } from '@sinclair/typebox/errors';

export class SchemaError extends Error {
  readonly path: string;
  constructor(path: string, expectation: string) {
    super(`${path || 'message'}: ${expectation}`);
    this.name = 'SchemaError';
    this.path = path;
  }
}

// ---------------------------------------------------------------------------------------------------
// Two kinds JSON Schema has no keyword for (registered with TypeBox, written out as plain JSON Schema).

const STRING_ENUM = 'StringEnum';
const OPAQUE_OBJECT = 'OpaqueObject';

TypeRegistry.Set<{ enum: string[] }>(STRING_ENUM, (schema, value) => typeof value === 'string' && schema.enum.includes(value));
TypeRegistry.Set<{ 'x-maxJsonBytes': number }>(OPAQUE_OBJECT, (schema, value) => isPlainObject(value) && JSON.stringify(value).length <= schema['x-maxJsonBytes']);

// JSON Schema formats TypeBox leaves to the application.
FormatRegistry.Set('date-time', (value) => /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(value) && !Number.isNaN(Date.parse(value)));

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** One of these strings: `{ type: 'string', enum: [...] }` in JSON Schema. */
export function StringEnum<const V extends readonly string[]>(values: V, options: SchemaOptions = {}): TUnsafe<V[number]> {
  return Type.Unsafe<V[number]>({ ...options, [Kind]: STRING_ENUM, type: 'string', enum: [...values] });
}

/**
 * A JSON object passed through as is — mediasoup validates RTP parameters itself — bounded in size
 * (`x-maxJsonBytes`: its JSON text length).
 */
export function OpaqueObject(maxJsonBytes: number, options: SchemaOptions = {}): TUnsafe<Record<string, unknown>> {
  return Type.Unsafe<Record<string, unknown>>({ ...options, [Kind]: OPAQUE_OBJECT, type: 'object', 'x-maxJsonBytes': maxJsonBytes });
}

// ---------------------------------------------------------------------------------------------------

export interface Checker<T> {
  readonly schema: TSchema;
  /** The value, typed; or a SchemaError naming the first wrong field under `path` ('' = the value itself). */
  parse(value: unknown, path?: string): T;
  check(value: unknown): value is T;
}

export function checker<S extends TSchema>(schema: S): Checker<Static<S>> {
  let compiled: TypeCheck<S> | undefined;
  const compile = (): TypeCheck<S> => (compiled ??= TypeCompiler.Compile(schema));
  return {
    schema,
    check: (value): value is Static<S> => (value === undefined && isOptional(schema)) || compile().Check(value),
    parse(value, path = '') {
      // An optional root (a request whose data may be left out) lets undefined through.
      if (value === undefined && isOptional(schema)) return value as Static<S>;
      const check = compile();
      if (check.Check(value)) return value;
      const first = check.Errors(value).First();
      throw first ? new SchemaError(joinPath(path, first.path), expectation(first)) : new SchemaError(path, 'is invalid');
    },
  };
}

export function isOptional(schema: TSchema): boolean {
  return (schema as unknown as Record<symbol, unknown>)[OptionalKind] === 'Optional';
}

/** "/data/codecs/0/mimeType" under "data" → "data.codecs[0].mimeType". */
function joinPath(base: string, pointer: string): string {
  let path = base;
  for (const raw of pointer.split('/').slice(1)) {
    const segment = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    path = /^\d+$/.test(segment) ? `${path}[${segment}]` : path ? `${path}.${segment}` : segment;
  }
  return path;
}

function expectation(error: ValueError): string {
  const schema = error.schema as TSchema & Record<string, unknown>;
  switch (error.type) {
    case ValueErrorType.ObjectAdditionalProperties:
      return 'is not a known field';
    case ValueErrorType.ObjectRequiredProperty:
      return 'is required';
    case ValueErrorType.Object:
      return 'must be an object';
    case ValueErrorType.String:
      return 'must be a string';
    case ValueErrorType.StringMinLength:
      return `must be at least ${schema.minLength} characters`;
    case ValueErrorType.StringMaxLength:
      return `must be at most ${schema.maxLength} characters`;
    case ValueErrorType.StringPattern:
      return `must match /${schema.pattern}/`;
    case ValueErrorType.Boolean:
      return 'must be a boolean';
    case ValueErrorType.Number:
      return 'must be a finite number';
    case ValueErrorType.Integer:
      return 'must be an integer';
    case ValueErrorType.NumberMinimum:
    case ValueErrorType.NumberMaximum:
    case ValueErrorType.IntegerMinimum:
    case ValueErrorType.IntegerMaximum:
      return `must be between ${schema.minimum ?? '-∞'} and ${schema.maximum ?? '∞'}`;
    case ValueErrorType.Array:
      return 'must be an array';
    case ValueErrorType.ArrayMaxItems:
      return `must have at most ${schema.maxItems} items`;
    case ValueErrorType.Literal:
      return `must be ${JSON.stringify(schema.const)}`;
    case ValueErrorType.Null:
      return 'must be null';
    case ValueErrorType.Kind:
      if (schema[Kind] === STRING_ENUM) return `must be one of ${(schema.enum as string[]).join(', ')}`;
      if (schema[Kind] === OPAQUE_OBJECT) {
        return isPlainObject(error.value) ? `must be at most ${schema['x-maxJsonBytes']} bytes of JSON` : 'must be an object';
      }
      return error.message;
    case ValueErrorType.Union:
      return `must be ${describeUnion(schema)}`;
    default:
      return error.message;
  }
}

function describeUnion(schema: Record<string, unknown>): string {
  const names = alternatives(schema);
  return names.length > 0 ? `one of: ${names.join(', ')}` : 'a valid value';
}

/** The alternatives of a union, flattened: literal values quoted, other variants by their type. */
function alternatives(schema: Record<string, unknown>): string[] {
  const variants = (schema.anyOf as Array<Record<string, unknown>> | undefined) ?? [];
  return variants.flatMap((variant) => {
    if (variant.anyOf) return alternatives(variant);
    if (variant.const !== undefined) return [JSON.stringify(variant.const)];
    if (Array.isArray(variant.enum)) return variant.enum.map((value) => JSON.stringify(value));
    const type = (variant.properties as Record<string, { const?: unknown }> | undefined)?.type?.const;
    if (variant.type === 'object' && typeof type === 'string') return [`${/^[aeiou]/.test(type) ? 'an' : 'a'} ${type} object`];
    if (variant.type === 'null') return ['null'];
    const name = String(variant.type ?? 'value');
    return [/^[aeiou]/.test(name) ? `an ${name}` : `a ${name}`];
  });
}
