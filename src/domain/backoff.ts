import type { Clock } from './clock.ts';

/**
 * Pauses after consecutive failures of one operation, doubling from `baseMs` up to `maxMs`, measured on the
 * injected clock: `ready()` says whether the pause is over, `failed()` starts the next (longer) one.
 */
export class Backoff {
  private failures = 0;
  private notBefore = 0;

  constructor(
    private readonly clock: Clock,
    private readonly baseMs = 100,
    private readonly maxMs = 5_000,
  ) {}

  /** Records a failure; returns the pause (ms) before the next try. */
  failed(): number {
    this.failures++;
    const pause = Math.min(this.maxMs, this.baseMs * 2 ** this.failures);
    this.notBefore = this.clock.now().getTime() + pause;
    return pause;
  }

  succeeded(): void {
    this.failures = 0;
    this.notBefore = 0;
  }

  get consecutiveFailures(): number {
    return this.failures;
  }

  /** Milliseconds left of the current pause (0 when none). */
  remainingMs(): number {
    return Math.max(0, this.notBefore - this.clock.now().getTime());
  }

  ready(): boolean {
    return this.remainingMs() === 0;
  }
}
