import { INSTANT_RANGE, isUuid, parseIsoDateTime } from '../../domain/records.ts';
import { GraphQLError, GraphQLScalarType, Kind } from './graphql-runtime.ts';

function parseUuid(value: unknown): string {
  if (!isUuid(value)) {
    throw new GraphQLError(`UUID cannot represent ${JSON.stringify(value)}: expected a UUID like 3f2a…-…`, {
      extensions: { code: 'BAD_USER_INPUT' },
    });
  }
  return value.toLowerCase();
}

export const UUID = new GraphQLScalarType({
  name: 'UUID',
  description: 'A UUID in its canonical 36-character form.',
  serialize: (value) => String(value),
  parseValue: parseUuid,
  parseLiteral: (ast) => parseUuid(ast.kind === Kind.STRING ? ast.value : undefined),
});

function parseDateTime(value: unknown): Date {
  const iso = typeof value === 'string' ? parseIsoDateTime(value) : undefined;
  if (!iso) {
    throw new GraphQLError(
      `DateTime cannot represent ${JSON.stringify(value)}: expected ISO 8601 ${INSTANT_RANGE}, e.g. 2024-03-04T11:00:00Z`,
      { extensions: { code: 'BAD_USER_INPUT' } },
    );
  }
  return new Date(iso);
}

export const DateTime = new GraphQLScalarType({
  name: 'DateTime',
  description: 'An instant in ISO 8601 form, e.g. 2024-03-04T11:00:00.000Z.',
  serialize: (value) => (value instanceof Date ? value.toISOString() : new Date(String(value)).toISOString()),
  parseValue: parseDateTime,
  parseLiteral: (ast) => parseDateTime(ast.kind === Kind.STRING ? ast.value : undefined),
});

/** A GraphQL literal as the JSON value it spells (variables arrive as JSON already). */
function literalValue(ast: import('graphql').ValueNode, variables: Record<string, unknown> | null | undefined): unknown {
  switch (ast.kind) {
    case Kind.STRING:
    case Kind.BOOLEAN:
      return ast.value;
    case Kind.INT:
    case Kind.FLOAT:
      return Number(ast.value);
    case Kind.NULL:
      return null;
    case Kind.ENUM:
      // Twenty's documents write enum-like filter values bare, e.g. { is: NULL }.
      return ast.value;
    case Kind.LIST:
      return ast.values.map((value) => literalValue(value, variables));
    case Kind.OBJECT:
      return Object.fromEntries(ast.fields.map((field) => [field.name.value, literalValue(field.value, variables)]));
    case Kind.VARIABLE:
      return variables?.[ast.name.value];
  }
}

/** Any JSON value (Twenty's `JSON`): settings, default values, options, RAW_JSON fields, webhook filters. */
export const JSONScalar = new GraphQLScalarType({
  name: 'JSON',
  description: 'Any JSON value.',
  serialize: (value) => value,
  parseValue: (value) => value,
  parseLiteral: (ast, variables) => literalValue(ast, variables),
});
