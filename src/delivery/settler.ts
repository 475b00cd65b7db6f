import type { Logger } from 'pino';
import type { Clock } from '../domain/clock.ts';
import type { Metrics } from '../observability/metrics.ts';
import type { Database } from '../storage/database.ts';
import { disableWebhooks, markWebhooksFailing, markWebhooksHealthy, type SettledAttempt } from '../storage/queue/index.ts';
import { settleWithFallbacks } from './settle-attempts.ts';

/** One finished attempt, with what the webhook's health needs. */
export interface FinishedAttempt {
  attempt: SettledAttempt;
  webhookId: string;
  /** The receiver answered 410 Gone. */
  gone: boolean;
  /** Its webhook orders deliveries PER_RECORD: settling it may free the next one of its record. */
  ordered: boolean;
}

export interface SettlerOptions {
  database: Database;
  clock: Clock;
  log: Logger;
  metrics?: Metrics;
  disableAfterMs: number;
  stopping(): boolean;
  /** The earliest retry the batch scheduled. */
  retryDueAt(at: Date): void;
}

/**
 * Stores a batch of finished attempts (moving their deliveries on) and then the webhooks' health: a success clears
 * failing_since, failures set it and disable a webhook failing for too long, 410 disables it at once.
 */
export function createSettler(options: SettlerOptions): (batch: FinishedAttempt[]) => Promise<void> {
  const { database, clock, log, metrics } = options;
  const db = database.db;
  return async function settle(batch) {
    const now = clock.now();
    const settled = await settleWithFallbacks(db, batch.map((item) => item.attempt), now, { log, stopping: options.stopping });
    const healthy = new Set<string>();
    const gone = new Set<string>();
    const failing: Array<{ webhookId: string; at: Date }> = [];
    let earliestRetry: Date | undefined;
    let freedOrdered = false;
    for (const item of batch) {
      if (!settled.has(item.attempt.deliveryId)) {
        log.warn({ deliveryId: item.attempt.deliveryId }, 'delivery lease was lost before its attempt was stored');
        continue;
      }
      const { status, nextAttemptAt: next, startedAt } = item.attempt;
      metrics?.deliverySettled(status === 'SUCCEEDED' ? 'succeeded' : status === 'FAILED' ? 'failed' : 'retrying');
      if (status === 'SUCCEEDED') healthy.add(item.webhookId);
      else failing.push({ webhookId: item.webhookId, at: startedAt });
      if (item.gone) gone.add(item.webhookId);
      if (next && (!earliestRetry || next < earliestRetry)) earliestRetry = next;
      if (item.ordered && status !== 'PENDING') freedOrdered = true;
    }
    // The next delivery of a PER_RECORD record is due already but was held back: claim it now, not at the next poll.
    if (freedOrdered && !options.stopping()) options.retryDueAt(now);
    if (earliestRetry) options.retryDueAt(earliestRetry);
    try {
      await markWebhooksHealthy(db, [...healthy]);
      const stillFailing = failing.filter((failure) => !healthy.has(failure.webhookId));
      const disableBefore = new Date(now.getTime() - options.disableAfterMs);
      for (const webhookId of await markWebhooksFailing(db, stillFailing, disableBefore, now)) {
        log.warn({ webhookId }, 'webhook disabled: every delivery failed for too long');
      }
      for (const webhookId of await disableWebhooks(db, [...gone], now)) {
        log.warn({ webhookId }, 'webhook disabled: the receiver answered 410 Gone');
      }
    } catch (error) {
      log.warn({ err: error }, 'updating webhook health failed');
    }
  };
}
