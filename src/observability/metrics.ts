import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Clock } from '../domain/clock.ts';

/** What the delivery worker and the record writes report; one instance per process. */
export interface Metrics {
  readonly registry: Registry;
  /** One HTTP attempt finished: success means a 2xx answer. */
  attemptFinished(success: boolean, durationMs: number): void;
  /** A delivery reached a final state, or was scheduled for a retry. */
  deliverySettled(outcome: 'succeeded' | 'failed' | 'retrying'): void;
  eventsEmitted(count: number): void;
  /** Prometheus text exposition. */
  render(): Promise<string>;
}

export interface QueueSnapshot {
  pending: number;
  oldestPendingCreatedAt: Date | null;
  /** Events written whose delivery rows no worker has created yet. */
  awaitingFanout: number;
}

export interface MetricsOptions {
  /** A database read younger than this serves the scrape, so scrapes, however many, cost at most one read per period. */
  maxAgeMs?: number;
}

/**
 * A registry per process (not prom-client's global one), so several servers in one test process do not
 * collide. Queue depth and oldest pending age are read from the database at scrape time: they are
 * shared by every worker, so no single process could count them.
 */
export function createMetrics(readQueue: () => Promise<QueueSnapshot>, clock: Clock, options: MetricsOptions = {}): Metrics {
  const maxAgeMs = options.maxAgeMs ?? 0;
  const registry = new Registry();
  // Their names already say process_ or nodejs_: the prefix only adds ours (switchboard_process_cpu_seconds_total).
  collectDefaultMetrics({ register: registry, prefix: 'switchboard_' });

  const attempts = new Counter({
    name: 'switchboard_delivery_attempts_total',
    help: 'HTTP delivery attempts by result (success = 2xx answer)',
    labelNames: ['result'] as const,
    registers: [registry],
  });
  const deliveries = new Counter({
    name: 'switchboard_deliveries_total',
    help: 'Deliveries settled by outcome: succeeded, failed (final) or retrying (another attempt scheduled)',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  const latency = new Histogram({
    name: 'switchboard_delivery_attempt_duration_seconds',
    help: 'Duration of one delivery attempt, from connect to the end of the answer or the timeout',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
  const events = new Counter({
    name: 'switchboard_events_emitted_total',
    help: 'Events written to the outbox by record writes in this process',
    registers: [registry],
  });
  let queue: Promise<QueueSnapshot> | undefined;
  let readAt = 0;
  let reading = false;
  // The gauges of one scrape, and every scrape within maxAgeMs, share one read; concurrent scrapes wait for the same one.
  // Measured on the monotonic clock: it bounds work done, whatever time the application clock shows.
  const snapshot = () => {
    if (queue && (reading || performance.now() - readAt < maxAgeMs)) return queue;
    reading = true;
    const read = readQueue().finally(() => {
      reading = false;
      readAt = performance.now();
    });
    queue = read;
    // A failed read is not kept: the next scrape tries again.
    read.catch(() => {
      if (queue === read) queue = undefined;
    });
    return read;
  };
  new Gauge({
    name: 'switchboard_delivery_queue_depth',
    help: 'Deliveries waiting for an attempt (PENDING), across all workers',
    registers: [registry],
    async collect() {
      this.set((await snapshot()).pending);
    },
  });
  new Gauge({
    name: 'switchboard_events_awaiting_fanout',
    help: 'Events written whose delivery rows no worker has created yet (grows when no worker runs)',
    registers: [registry],
    async collect() {
      this.set((await snapshot()).awaitingFanout);
    },
  });
  new Gauge({
    name: 'switchboard_delivery_oldest_pending_age_seconds',
    help: 'Age of the oldest PENDING delivery (0 when none)',
    registers: [registry],
    async collect() {
      const oldest = (await snapshot()).oldestPendingCreatedAt;
      this.set(oldest ? Math.max(0, (clock.now().getTime() - oldest.getTime()) / 1000) : 0);
    },
  });

  return {
    registry,
    attemptFinished(success, durationMs) {
      attempts.inc({ result: success ? 'success' : 'failure' });
      latency.observe(durationMs / 1000);
    },
    deliverySettled(outcome) {
      deliveries.inc({ outcome });
    },
    eventsEmitted(count) {
      if (count > 0) events.inc(count);
    },
    render: () => registry.metrics(),
  };
}
