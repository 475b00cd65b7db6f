import type { Logger } from 'pino';
import type { Clock } from '../domain/clock.ts';

interface EndpointFailures {
  count: number;
  last: string;
  webhookIds: Set<string>;
}

/** Where a delivery went, for a log line: no query string or fragment, which may carry a token. */
export function endpointForLog(targetUrl: string): string {
  try {
    const url = new URL(targetUrl);
    return `${url.origin}${url.pathname}`;
  } catch {
    return '(invalid URL)';
  }
}

/**
 * Failed attempts counted per endpoint and written as one warning per endpoint per interval, so a receiver that
 * is down for an hour costs a line a minute instead of one per attempt (each attempt is still a debug line).
 */
export class FailureSummary {
  private failures = new Map<string, EndpointFailures>();
  private windowStart: Date;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly logger: Logger,
    private readonly clock: Clock,
    private readonly intervalMs: number,
  ) {
    this.windowStart = clock.now();
  }

  /** reason: the status code of the answer, or why there was none. */
  record(targetUrl: string, webhookId: string, reason: string): void {
    const endpoint = endpointForLog(targetUrl);
    let entry = this.failures.get(endpoint);
    if (!entry) this.failures.set(endpoint, (entry = { count: 0, last: reason, webhookIds: new Set() }));
    entry.count += 1;
    entry.last = reason;
    entry.webhookIds.add(webhookId);
  }

  /** Writes the lines of the window that ends now and starts the next one. */
  flush(): void {
    const now = this.clock.now();
    const seconds = Math.max(1, Math.round((now.getTime() - this.windowStart.getTime()) / 1000));
    for (const [endpoint, entry] of this.failures) {
      this.logger.warn(
        { endpoint, failures: entry.count, last: entry.last, webhookIds: [...entry.webhookIds], seconds },
        `${entry.count} ${entry.count === 1 ? 'failure' : 'failures'} to ${endpoint} in the last ${seconds} s, last: ${entry.last}`,
      );
    }
    this.failures.clear();
    this.windowStart = now;
  }

  start(): void {
    if (this.timer) return;
    this.windowStart = this.clock.now();
    this.timer = setInterval(() => this.flush(), this.intervalMs);
    this.timer.unref();
  }

  /** Stops the timer and writes what the last window counted. */
  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.flush();
  }
}
