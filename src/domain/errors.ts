/**
 * Errors that carry a stable code and, where it applies, the input field at fault.
 * Adapters (GraphQL, REST) translate the code into their own status without string matching.
 */
export type ErrorCode =
  | 'BAD_USER_INPUT'
  | 'NOT_FOUND'
  | 'UNAUTHENTICATED'
  | 'PAYLOAD_TOO_LARGE'
  | 'CONFLICT'
  | 'RATE_LIMITED'
  | 'SERVICE_UNAVAILABLE'
  | 'QUERY_TOO_COMPLEX';

export class SwitchboardError extends Error {
  readonly code: ErrorCode;
  readonly field: string | undefined;

  constructor(code: ErrorCode, message: string, field?: string) {
    super(message);
    this.name = 'SwitchboardError';
    this.code = code;
    this.field = field;
  }
}

export function invalidInput(field: string, reason: string): SwitchboardError {
  return new SwitchboardError('BAD_USER_INPUT', `${field}: ${reason}`, field);
}

export function notFound(what: string, id: string): SwitchboardError {
  return new SwitchboardError('NOT_FOUND', `${what} ${id} not found`);
}

export function payloadTooLarge(message: string): SwitchboardError {
  return new SwitchboardError('PAYLOAD_TOO_LARGE', message);
}

/** Too many requests of some kind in a window: the caller may try again after `retryAfterSeconds`. */
export class RateLimitedError extends SwitchboardError {
  readonly retryAfterSeconds: number;

  constructor(message: string, retryAfterSeconds: number) {
    super('RATE_LIMITED', message);
    this.name = 'RateLimitedError';
    this.retryAfterSeconds = Math.max(1, Math.ceil(retryAfterSeconds));
  }
}

/** A GraphQL request that asks for more than a limit allows; the message names the limit and its variable. */
export function queryTooComplex(message: string): SwitchboardError {
  return new SwitchboardError('QUERY_TOO_COMPLEX', message);
}
