/** A Retry-After longer than this is cut to it, so a receiver cannot park a delivery for months. */
export const MAX_RETRY_AFTER_MS = 24 * 3_600_000;

/** Attempts in all: the first one plus one per step of the schedule. */
export function maxAttempts(scheduleMs: readonly number[]): number {
  return scheduleMs.length + 1;
}

/** True when attempt number `attemptNumber` (1-based) was the last one the schedule allows. */
export function isFinalAttempt(scheduleMs: readonly number[], attemptNumber: number): boolean {
  return attemptNumber >= maxAttempts(scheduleMs);
}

/** Statuses whose Retry-After is honoured. */
export function honoursRetryAfter(statusCode: number | undefined): boolean {
  return statusCode === 429 || statusCode === 503;
}

/**
 * Parses a Retry-After header (delay in seconds, or an HTTP date) into milliseconds from `now`.
 * Returns undefined when absent or unreadable; a date in the past gives 0.
 */
export function parseRetryAfter(value: string | undefined, now: Date): number | undefined {
  if (value === undefined) return undefined;
  const text = value.trim();
  if (text === '') return undefined;
  if (/^\d+$/.test(text)) return Math.min(Number(text) * 1000, MAX_RETRY_AFTER_MS);
  // Only the HTTP-date forms (they name a weekday or a month); Date.parse alone also accepts "1" or "2024".
  if (!/[a-z]{3}/i.test(text)) return undefined;
  const at = Date.parse(text);
  if (Number.isNaN(at)) return undefined;
  return Math.min(Math.max(0, at - now.getTime()), MAX_RETRY_AFTER_MS);
}

export interface FailedAttempt {
  /** 1-based number of the attempt that just failed. */
  attemptNumber: number;
  /** When it ended: the next step counts from here. */
  endedAt: Date;
  statusCode?: number;
  /** Already parsed Retry-After, in milliseconds. */
  retryAfterMs?: number;
}

/**
 * When the next attempt is due after a failed one, or null when that was the last attempt.
 * A Retry-After on 429/503 wins when it asks for a longer wait than the schedule's step.
 */
export function nextAttemptAt(scheduleMs: readonly number[], failed: FailedAttempt): Date | null {
  if (isFinalAttempt(scheduleMs, failed.attemptNumber)) return null;
  let delay = scheduleMs[failed.attemptNumber - 1]!;
  if (honoursRetryAfter(failed.statusCode) && failed.retryAfterMs !== undefined && failed.retryAfterMs > delay) {
    delay = failed.retryAfterMs;
  }
  return new Date(failed.endedAt.getTime() + delay);
}
