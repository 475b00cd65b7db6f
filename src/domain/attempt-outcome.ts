import { nextAttemptAt, parseRetryAfter } from './retry.ts';

/** What one attempt met: the receiver's status (null without an answer), the sender's error, Retry-After. */
export interface AttemptAnswer {
  statusCode: number | null;
  /** Why there was no usable answer (network, timeout, refused target, a secret that cannot be opened). */
  error: string | null;
  retryAfter?: string;
}

export interface AttemptOutcome {
  /** The delivery's status after this attempt. */
  status: 'SUCCEEDED' | 'PENDING' | 'FAILED';
  /** When the next attempt is due (PENDING only). */
  nextAttemptAt: Date | null;
  /** What to store as the attempt's error (null on success and for a plain HTTP failure status). */
  error: string | null;
  /** 410 Gone: the receiver asks never to be sent anything again. */
  gone: boolean;
}

/**
 * Classifies attempt number `attemptNumber` (1-based), ended at `endedAt`: 2xx succeeds; 410 ends the delivery
 * and disables the webhook; anything else is retried on the schedule (a longer Retry-After on 429/503 wins) until
 * the schedule is used up.
 */
export function classifyAttempt(
  answer: AttemptAnswer,
  attemptNumber: number,
  endedAt: Date,
  retryScheduleMs: readonly number[],
): AttemptOutcome {
  const { statusCode } = answer;
  if (statusCode !== null && statusCode >= 200 && statusCode < 300) {
    return { status: 'SUCCEEDED', nextAttemptAt: null, error: null, gone: false };
  }
  const error = answer.error ?? describeFailedStatus(statusCode);
  if (statusCode === 410) return { status: 'FAILED', nextAttemptAt: null, error, gone: true };
  const next = nextAttemptAt(retryScheduleMs, {
    attemptNumber,
    endedAt,
    statusCode: statusCode ?? undefined,
    retryAfterMs: parseRetryAfter(answer.retryAfter, endedAt),
  });
  return { status: next ? 'PENDING' : 'FAILED', nextAttemptAt: next, error, gone: false };
}

/** The stored error of an answer that is not a success: set only where the status alone does not say it. */
function describeFailedStatus(statusCode: number | null): string | null {
  if (statusCode === null) return 'no answer';
  if (statusCode >= 300 && statusCode < 400) return `HTTP ${statusCode}: redirects are not followed`;
  return null;
}
