import type { FastifyReply, FastifyRequest } from 'fastify';
import { RateLimitedError, SwitchboardError, type ErrorCode } from '../domain/errors.ts';

/** Every code a client may read in an error: the domain's, and the adapter's own. */
export type PublicErrorCode = ErrorCode | 'BAD_REQUEST' | 'INTERNAL_SERVER_ERROR';

/**
 * The HTTP status of each error code: the one place it is written. REST answers every error with it; GraphQL with
 * it for errors outside a document's execution (authentication, an unreadable body, a rate limit, the database
 * away), while resolver errors travel inside a document answer (see graphql/executor.ts).
 */
export const HTTP_STATUS: Readonly<Record<PublicErrorCode, number>> = {
  // The request cannot be read: malformed JSON, a wrong content type.
  BAD_REQUEST: 400,
  // A readable request that breaks a rule (a wrong type, an unknown field, a value out of range); names the field.
  BAD_USER_INPUT: 422,
  UNAUTHENTICATED: 401,
  NOT_FOUND: 404,
  CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
  QUERY_TOO_COMPLEX: 400,
  RATE_LIMITED: 429,
  INTERNAL_SERVER_ERROR: 500,
  SERVICE_UNAVAILABLE: 503,
};

// Connection-level failures (server down, restarting, refusing): the request may succeed later.
const UNAVAILABLE_ERRNOS = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN']);
const UNAVAILABLE_SQLSTATE = /^(08|57P0[1-3]|53)/;

function isDatabaseUnavailable(error: unknown): boolean {
  const candidate = error as { code?: unknown; message?: unknown } | undefined;
  if (!candidate) return false;
  const code = typeof candidate.code === 'string' ? candidate.code : '';
  if (UNAVAILABLE_ERRNOS.has(code) || UNAVAILABLE_SQLSTATE.test(code)) return true;
  const message = typeof candidate.message === 'string' ? candidate.message : '';
  return /Connection terminated|connection timeout|Client has encountered a connection error/i.test(message);
}

export interface PublicError {
  status: number;
  code: PublicErrorCode;
  message: string;
  field?: string;
  /** For RATE_LIMITED: when to try again (the Retry-After header). */
  retryAfterSeconds?: number;
}

/** One failed check of a JSON Schema (ajv's error object, as Fastify hands it over in `error.validation`). */
export interface SchemaViolation {
  instancePath: string;
  keyword: string;
  params: Record<string, unknown>;
  message?: string;
  parentSchema?: { properties?: Record<string, unknown> };
}

/** `/update/operations/0` → `update.operations[0]`, under `prefix` (e.g. `body`) when given. */
function pointerToField(pointer: string, prefix: string | undefined): string {
  let field = prefix ?? '';
  for (const raw of pointer.split('/').slice(1)) {
    const part = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    field = /^\d+$/.test(part) ? `${field}[${part}]` : field ? `${field}.${part}` : part;
  }
  return field;
}

const TYPE_NAMES: Record<string, string> = {
  string: 'a string',
  integer: 'a whole number',
  number: 'a number',
  boolean: 'true or false',
  object: 'an object',
  array: 'an array',
  null: 'null',
};

/**
 * A schema violation as our error: the field at fault (a dotted path; `prefix` names the root, e.g. `body`) and a
 * sentence a person reads. Fastify's route validation and the records' per-workspace body schemas both come here.
 */
export function schemaViolationError(violation: SchemaViolation, prefix?: string): SwitchboardError {
  const { keyword, params } = violation;
  const at = pointerToField(violation.instancePath, prefix);
  const child = (name: unknown) => pointerToField(`${violation.instancePath}/${String(name)}`, prefix);
  let field = at;
  let reason: string;
  switch (keyword) {
    case 'required':
      field = child(params.missingProperty);
      reason = 'is required';
      break;
    case 'additionalProperties': {
      field = child(params.additionalProperty);
      const known = Object.keys(violation.parentSchema?.properties ?? {});
      reason = `is not a known field${known.length > 0 ? ` (expected ${known.join(', ')})` : ''}`;
      break;
    }
    case 'type': {
      const types = (Array.isArray(params.type) ? params.type : String(params.type).split(',')) as string[];
      reason = `must be ${types.map((type) => TYPE_NAMES[type] ?? type).join(' or ')}`;
      break;
    }
    case 'enum':
      reason = `must be one of ${(params.allowedValues as unknown[]).filter((value) => value !== null).join(', ')}`;
      break;
    default:
      reason = violation.message ?? 'is not valid';
  }
  field ||= prefix ?? 'body';
  return new SwitchboardError('BAD_USER_INPUT', `${field}: ${reason}`, field);
}

interface FastifyClientError {
  statusCode?: unknown;
  message?: unknown;
  validation?: SchemaViolation[];
  validationContext?: string;
}

/**
 * Fastify's and its plugins' client errors (malformed JSON, a JSON key such as `__proto__`, a body too large, a
 * wrong content type, a route schema's refusal) as ours; undefined for any other error.
 */
function fastifyClientError(error: unknown): PublicError | undefined {
  const candidate = error as FastifyClientError | undefined;
  if (typeof candidate?.statusCode !== 'number' || candidate.statusCode < 400 || candidate.statusCode >= 500) return undefined;
  if (Array.isArray(candidate.validation) && candidate.validation.length > 0) {
    // Query and path parameters are named as they are; a body's fields by their path inside it (the body itself: `body`).
    return toPublicError(schemaViolationError(candidate.validation[0]));
  }
  const message = typeof candidate.message === 'string' ? candidate.message : 'bad request';
  if (candidate.statusCode === 413) return { status: 413, code: 'PAYLOAD_TOO_LARGE', message };
  return { status: candidate.statusCode, code: 'BAD_REQUEST', message };
}

/** What a client may see of an error: ours keep their message; anything else is masked (and logged by the caller). */
export function toPublicError(error: unknown): PublicError {
  if (error instanceof SwitchboardError) {
    return {
      status: HTTP_STATUS[error.code],
      code: error.code,
      message: error.message,
      ...(error.field ? { field: error.field } : {}),
      ...(error instanceof RateLimitedError ? { retryAfterSeconds: error.retryAfterSeconds } : {}),
    };
  }
  const clientError = fastifyClientError(error);
  if (clientError) return clientError;
  if (isDatabaseUnavailable(error)) {
    return { status: HTTP_STATUS.SERVICE_UNAVAILABLE, code: 'SERVICE_UNAVAILABLE', message: 'the database is unavailable; try again shortly' };
  }
  return { status: HTTP_STATUS.INTERNAL_SERVER_ERROR, code: 'INTERNAL_SERVER_ERROR', message: 'internal server error' };
}

/** REST's error envelope: `{ "error": { code, message, field? } }`. */
export function restErrorBody(error: PublicError): { error: { code: string; message: string; field?: string } } {
  return { error: { code: error.code, message: error.message, ...(error.field ? { field: error.field } : {}) } };
}

/** GraphQL's answer to a request that did not run: `{ data: null, errors: [{ message, extensions: { code, field? } }] }`. */
export function graphqlErrorBody(error: PublicError): { data: null; errors: Array<{ message: string; extensions: { code: string; field?: string } }> } {
  return { data: null, errors: [{ message: error.message, extensions: { code: error.code, ...(error.field ? { field: error.field } : {}) } }] };
}

const GRAPHQL_ROUTE = /^\/(graphql|metadata)(\/|$)/;

/**
 * Answers an error with its status (and Retry-After), in the shape of the route the request matched: GraphQL's
 * `errors` on /graphql and /metadata, REST's envelope everywhere else (unknown routes included). Errors a client
 * cannot act on (5xx but the database being away) are logged here.
 */
export function sendError(request: FastifyRequest, reply: FastifyReply, error: unknown): FastifyReply {
  const publicError = toPublicError(error);
  if (publicError.status >= 500 && publicError.status !== 503) request.log.error({ err: error }, 'request failed');
  if (publicError.retryAfterSeconds !== undefined) reply.header('retry-after', String(publicError.retryAfterSeconds));
  const body = GRAPHQL_ROUTE.test(request.routeOptions.url ?? '') ? graphqlErrorBody(publicError) : restErrorBody(publicError);
  return reply.code(publicError.status).send(body);
}
