import { describe, expect, it } from 'vitest';
import { Backoff } from '../../src/domain/backoff.ts';

describe('Backoff', () => {
  it('doubles its pause per consecutive failure up to the cap, on the injected clock, and resets on success', () => {
    let now = 0;
    const backoff = new Backoff({ now: () => new Date(now) }, 100, 1_000);
    expect(backoff.ready()).toBe(true);
    expect([backoff.failed(), backoff.failed(), backoff.failed(), backoff.failed()]).toEqual([200, 400, 800, 1_000]);
    expect(backoff.ready()).toBe(false);
    now += 999;
    expect(backoff.remainingMs()).toBe(1);
    now += 1;
    expect(backoff.ready()).toBe(true);
    backoff.succeeded();
    expect(backoff.consecutiveFailures).toBe(0);
    expect(backoff.failed()).toBe(200);
  });
});
