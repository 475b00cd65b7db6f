import { RateLimitedError, SwitchboardError, type ErrorCode } from '../domain/errors.ts';

export const HTTP_STATUS: Record<ErrorCode, number> = {
  BAD_USER_INPUT: 400,
  NOT_FOUND: 404,
  UNAUTHENTICATED: 401,
  PAYLOAD_TOO_LARGE: 413,
  CONFLICT: 409,
  RATE_LIMITED: 429,
  SERVICE_UNAVAILABLE: 503,
  QUERY_TOO_COMPLEX: 400,
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
  code: ErrorCode | 'INTERNAL_SERVER_ERROR';
  message: string;
  field?: string;
  /** For RATE_LIMITED: when to try again (the Retry-After header). */
  retryAfterSeconds?: number;
}

/**
 * Fastify's and its plugins' client errors (malformed JSON, a JSON key such as `__proto__`, a body too large, a
 * wrong content type): their 4xx status and message are meant for the client. Undefined for any other error.
 */
export function fastifyClientError(error: unknown): { status: number; code: 'PAYLOAD_TOO_LARGE' | 'BAD_REQUEST'; message: string } | undefined {
  const candidate = error as { statusCode?: unknown; code?: unknown; message?: unknown } | undefined;
  if (typeof candidate?.statusCode !== 'number' || candidate.statusCode < 400 || candidate.statusCode >= 500) return undefined;
  return {
    status: candidate.statusCode,
    code: candidate.statusCode === 413 ? 'PAYLOAD_TOO_LARGE' : 'BAD_REQUEST',
    message: typeof candidate.message === 'string' ? candidate.message : 'bad request',
  };
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
  if (isDatabaseUnavailable(error)) {
    return { status: 503, code: 'SERVICE_UNAVAILABLE', message: 'the database is unavailable; try again shortly' };
  }
  return { status: 500, code: 'INTERNAL_SERVER_ERROR', message: 'internal server error' };
}
