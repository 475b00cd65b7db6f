import { Ajv, type ValidateFunction } from 'ajv';
import type { FastifySchemaCompiler } from 'fastify';
import { schemaViolationError, type SchemaViolation } from '../errors.ts';

/**
 * The JSON Schema validators of the REST API: one for bodies, one for query and path parameters. Route schemas
 * reach them through Fastify's validator compiler; the records' per-workspace body schemas through compileBody.
 * `format` only describes (for the OpenAPI document): what a format would check (dates, UUIDs, emails) the domain
 * checks with its own rules and messages, the same for GraphQL.
 */
const common = {
  strict: false,
  validateFormats: false,
  // Unknown fields are refused (additionalProperties: false), never silently dropped.
  removeAdditional: false,
  // One error is enough to answer, and bounds the work a hostile body can cause.
  allErrors: false,
} as const;

/** Bodies are taken as sent: a number is never turned into a string, nor a missing field filled in. */
const bodies = new Ajv({ ...common, coerceTypes: false, useDefaults: false, verbose: true });
/** Query and path parameters arrive as text: `?limit=5` is read as the number its schema says. */
const parameters = new Ajv({ ...common, coerceTypes: true, useDefaults: true, verbose: true });

export const restValidatorCompiler: FastifySchemaCompiler<unknown> = ({ schema, httpPart }) =>
  (httpPart === 'body' ? bodies : parameters).compile(schema as object) as ReturnType<FastifySchemaCompiler<unknown>>;

/** Compiles a body schema built at run time (a workspace's record inputs); cache the result, compiling is costly. */
export function compileBody(schema: object): ValidateFunction {
  const validate = bodies.compile(schema);
  // ajv keeps every schema it compiled, keyed by the object: the caller's cache is the one that must decide.
  bodies.removeSchema(schema);
  return validate;
}

/** Throws the first violation of `validate` on `value` as BAD_USER_INPUT naming the field under `prefix`. */
export function assertValid(validate: ValidateFunction, value: unknown, prefix: string): void {
  if (validate(value)) return;
  throw schemaViolationError((validate.errors ?? [])[0] as SchemaViolation, prefix);
}
