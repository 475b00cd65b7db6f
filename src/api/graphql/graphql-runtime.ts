import { createRequire } from 'node:module';

/**
 * graphql, loaded with require (as its CommonJS entry). An ESM import may resolve the package's "module"
 * field to a second copy (test runners and bundlers do), whose classes fail `instanceof` against the errors
 * and types created by the other copy: validation errors would then be masked as internal errors.
 */
const graphql = createRequire(import.meta.url)('graphql') as typeof import('graphql');

export const {
  GraphQLError,
  GraphQLScalarType,
  GraphQLObjectType,
  Kind,
  Location,
  SchemaMetaFieldDef,
  TypeMetaFieldDef,
  buildSchema,
  execute,
  getNamedType,
  isInterfaceType,
  isListType,
  isNonNullType,
  isObjectType,
  isScalarType,
  parse,
  specifiedRules,
  validate,
} = graphql;
