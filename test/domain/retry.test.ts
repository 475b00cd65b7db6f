import { describe, expect, it } from 'vitest';
import { isFinalAttempt, maxAttempts, MAX_RETRY_AFTER_MS, nextAttemptAt, parseRetryAfter } from '../../src/domain/retry.ts';

const SCHEDULE = [60_000, 300_000, 900_000, 3_600_000, 21_600_000];
const at = new Date('2024-03-04T11:00:00.000Z');

describe('retry schedule', () => {
  it('allows the first attempt plus one per step: 6 with the default schedule', () => {
    expect(maxAttempts(SCHEDULE)).toBe(6);
    expect(isFinalAttempt(SCHEDULE, 5)).toBe(false);
    expect(isFinalAttempt(SCHEDULE, 6)).toBe(true);
  });

  it('schedules attempt n+1 after step n, counted from the end of attempt n', () => {
    const due = [1, 2, 3, 4, 5].map((attemptNumber) => nextAttemptAt(SCHEDULE, { attemptNumber, endedAt: at })!.getTime() - at.getTime());
    expect(due).toEqual(SCHEDULE);
    expect(nextAttemptAt(SCHEDULE, { attemptNumber: 6, endedAt: at })).toBeNull();
  });

  it('honours a longer Retry-After on 429 and 503 only, never a shorter one', () => {
    expect(nextAttemptAt(SCHEDULE, { attemptNumber: 1, endedAt: at, statusCode: 429, retryAfterMs: 120_000 })!.getTime()).toBe(at.getTime() + 120_000);
    expect(nextAttemptAt(SCHEDULE, { attemptNumber: 1, endedAt: at, statusCode: 503, retryAfterMs: 120_000 })!.getTime()).toBe(at.getTime() + 120_000);
    expect(nextAttemptAt(SCHEDULE, { attemptNumber: 1, endedAt: at, statusCode: 429, retryAfterMs: 1_000 })!.getTime()).toBe(at.getTime() + 60_000);
    expect(nextAttemptAt(SCHEDULE, { attemptNumber: 1, endedAt: at, statusCode: 500, retryAfterMs: 120_000 })!.getTime()).toBe(at.getTime() + 60_000);
    expect(nextAttemptAt(SCHEDULE, { attemptNumber: 6, endedAt: at, statusCode: 429, retryAfterMs: 120_000 })).toBeNull();
  });
});

describe('parseRetryAfter', () => {
  it('reads seconds and HTTP dates, relative to now', () => {
    expect(parseRetryAfter('120', at)).toBe(120_000);
    expect(parseRetryAfter(' 0 ', at)).toBe(0);
    expect(parseRetryAfter('Mon, 04 Mar 2024 11:02:00 GMT', at)).toBe(120_000);
    expect(parseRetryAfter('Mon, 04 Mar 2024 10:00:00 GMT', at)).toBe(0);
  });

  it('ignores absent or unreadable values and caps huge ones', () => {
    expect(parseRetryAfter(undefined, at)).toBeUndefined();
    expect(parseRetryAfter('', at)).toBeUndefined();
    expect(parseRetryAfter('soon', at)).toBeUndefined();
    expect(parseRetryAfter('-5', at)).toBeUndefined();
    expect(parseRetryAfter('1.5', at)).toBeUndefined();
    expect(parseRetryAfter('99999999', at)).toBe(MAX_RETRY_AFTER_MS);
  });
});
