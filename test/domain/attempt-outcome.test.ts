import { describe, expect, it } from 'vitest';
import { classifyAttempt } from '../../src/domain/attempt-outcome.ts';

const SCHEDULE = [60_000, 300_000];
const ENDED = new Date('2026-01-01T00:00:00Z');
const after = (ms: number) => new Date(ENDED.getTime() + ms);

describe('classifyAttempt', () => {
  it('succeeds on any 2xx', () => {
    for (const statusCode of [200, 201, 204, 299]) {
      expect(classifyAttempt({ statusCode, error: null }, 1, ENDED, SCHEDULE)).toEqual({
        status: 'SUCCEEDED', nextAttemptAt: null, error: null, gone: false,
      });
    }
  });

  it('retries other statuses on the schedule, then fails', () => {
    expect(classifyAttempt({ statusCode: 500, error: null }, 1, ENDED, SCHEDULE)).toEqual({
      status: 'PENDING', nextAttemptAt: after(60_000), error: null, gone: false,
    });
    expect(classifyAttempt({ statusCode: 500, error: null }, 2, ENDED, SCHEDULE).nextAttemptAt).toEqual(after(300_000));
    expect(classifyAttempt({ statusCode: 500, error: null }, 3, ENDED, SCHEDULE)).toMatchObject({ status: 'FAILED', nextAttemptAt: null });
  });

  it('ends at once on 410 Gone and says so', () => {
    expect(classifyAttempt({ statusCode: 410, error: null }, 1, ENDED, SCHEDULE)).toEqual({
      status: 'FAILED', nextAttemptAt: null, error: null, gone: true,
    });
  });

  it('names a redirect and a missing answer, and keeps the sender’s error', () => {
    expect(classifyAttempt({ statusCode: 302, error: null }, 1, ENDED, SCHEDULE).error).toBe('HTTP 302: redirects are not followed');
    expect(classifyAttempt({ statusCode: null, error: null }, 1, ENDED, SCHEDULE).error).toBe('no answer');
    expect(classifyAttempt({ statusCode: null, error: 'timeout after 30000 ms' }, 1, ENDED, SCHEDULE)).toMatchObject({
      status: 'PENDING', error: 'timeout after 30000 ms',
    });
  });

  it('lets a longer Retry-After win on 429 and 503 only', () => {
    expect(classifyAttempt({ statusCode: 429, error: null, retryAfter: '120' }, 1, ENDED, SCHEDULE).nextAttemptAt).toEqual(after(120_000));
    expect(classifyAttempt({ statusCode: 503, error: null, retryAfter: '5' }, 1, ENDED, SCHEDULE).nextAttemptAt).toEqual(after(60_000));
    expect(classifyAttempt({ statusCode: 500, error: null, retryAfter: '120' }, 1, ENDED, SCHEDULE).nextAttemptAt).toEqual(after(60_000));
  });
});
