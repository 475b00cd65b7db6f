import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Config } from '../config.ts';
import type { Clock } from '../domain/clock.ts';
import { nextAttemptAt, parseRetryAfter } from '../domain/retry.ts';
import { signatureHeaders } from '../domain/signing.ts';
import type { Metrics } from '../observability/metrics.ts';
import type { Database } from '../storage/database.ts';
import {
  claimDueDeliveries,
  disableWebhooks,
  failWithoutAttempt,
  markWebhooksFailing,
  markWebhooksHealthy,
  nextDueAt,
  releaseLeases,
  settleAttempts,
  type ClaimedDelivery,
  type Lease,
  type SettledAttempt,
} from '../storage/deliveries.ts';
import { DELIVERY_CHANNEL, dispatchFanouts, NEW_DELIVERIES_ONLY, NEW_EVENTS } from '../storage/events.ts';
import { createSecretBox } from '../webhooks/secret-box.ts';
import { openSigningSecrets } from '../webhooks/secrets.ts';
import { deliveryBody } from './payload.ts';
import { BatchBuffer } from './settle-buffer.ts';
import { Sender } from './sender.ts';
import { WakeSignal } from './wake-signal.ts';

/** Without any wake-up, look for due work at least this often (retries scheduled by a worker that died). */
const IDLE_POLL_MS = 2_000;
const CLAIM_BATCH = 200;
/**
 * A worker holds up to this many times its in-flight limits (overall and per endpoint) in claims: a slot freed is
 * refilled from memory at once while the next claim is on its way, instead of waiting for that round trip.
 */
const CLAIM_AHEAD = 2;
const SETTLE_BATCH = 200;
const SETTLE_DELAY_MS = 5;
/** While busy with new events, claim due deliveries at least this often even if nothing said there are some. */
const RECHECK_DUE_MS = 100;
/** Events per fan-out statement: an event can match thousands of webhooks, so this stays small. */
const DISPATCH_BATCH = 100;

/** How long to wait before trying a failing statement again: 200 ms doubling, at most 5 s. */
function pauseAfterFailures(failures: number): number {
  return Math.min(5_000, 100 * 2 ** failures);
}

export interface DeliveryWorkerOptions {
  database: Database;
  config: Config;
  clock: Clock;
  logger: Logger;
  /** For the User-Agent. */
  version: string;
  metrics?: Metrics;
}

export interface DeliveryWorker {
  start(): Promise<void>;
  /** Stops claiming, lets requests in flight finish for up to graceMs, then gives every unfinished claim back. */
  stop(graceMs?: number): Promise<void>;
  /** Look for due work now (tests that move an injected clock). */
  wake(): void;
  /** Writes every finished attempt now. */
  flush(): Promise<void>;
  /** Requests in flight plus claimed deliveries waiting for an endpoint slot. */
  readonly active: number;
}

interface Endpoint {
  inFlight: number;
  queue: ClaimedDelivery[];
}

interface Finished {
  attempt: SettledAttempt;
  webhookId: string;
  gone: boolean;
  /** Its webhook orders deliveries PER_RECORD: settling it may free the next one of its record. */
  ordered: boolean;
}

/**
 * Claims due deliveries in batches, sends them with bounded concurrency (per endpoint and overall), and
 * settles the results in batches. Woken at once by new work (NOTIFY / in-process signal), by a freed slot,
 * and when the earliest retry or lease comes due.
 */
export function createDeliveryWorker(options: DeliveryWorkerOptions): DeliveryWorker {
  const { database, config, clock, logger, metrics } = options;
  const db = database.db;
  const log = logger.child({ component: 'delivery-worker' });
  const sender = new Sender({
    timeoutMs: config.deliveryTimeoutMs,
    allowPrivateTargets: config.allowPrivateTargets,
    requireHttps: config.production,
    // Many webhooks (endpoints) can share one origin: if the pool held fewer connections than the worker's
    // own limit, a hanging endpoint's requests would queue the healthy ones of the same host behind them.
    connectionsPerOrigin: config.maxInFlight,
  });
  const secretBox = createSecretBox(config.encryptionKey);
  const signal = new WakeSignal();
  const endpoints = new Map<string, Endpoint>();
  const lowWater = Math.max(1, Math.min(CLAIM_BATCH, Math.floor(config.maxInFlight / 4)));
  const heldLimit = config.maxInFlight * CLAIM_AHEAD;
  const heldPerEndpoint = config.maxInFlightPerEndpoint * CLAIM_AHEAD;

  let inFlight = 0;
  let queued = 0;
  let stopping = false;
  let loop: Promise<void> | undefined;
  let unlisten: (() => Promise<void>) | undefined;
  let waitingForCapacity = false;
  let idleExcluded: Set<string> | undefined;
  let dueTimer: NodeJS.Timeout | undefined;
  let dueTimerAt = Infinity;
  let drained: (() => void) | undefined;
  /** New events may be waiting for their delivery rows (a notification came, or a while passed). */
  let fanoutsWanted = true;
  /** After a failed fan-out, not before this time (ms); claiming goes on meanwhile. */
  let fanoutRetryAt = 0;
  let fanoutFailures = 0;
  /** Deliveries may have come due since the last claim came back short (see run). */
  let claimWanted = true;
  let lastClaimAt = 0;
  /** Where the next claim around full endpoints starts its round of webhooks. */
  let lastServedWebhookId: string | null = null;

  const settler = new BatchBuffer<Finished>(settle, SETTLE_BATCH, SETTLE_DELAY_MS);
  const releaser = new BatchBuffer<Lease>(release, SETTLE_BATCH, 0);

  function wakeAt(at: Date): void {
    const delay = at.getTime() - clock.now().getTime();
    if (delay <= 0) {
      claimWanted = true;
      return signal.wake();
    }
    if (at.getTime() >= dueTimerAt) return;
    clearTimeout(dueTimer);
    dueTimerAt = at.getTime();
    dueTimer = setTimeout(() => {
      dueTimer = undefined;
      dueTimerAt = Infinity;
      claimWanted = true;
      signal.wake();
    }, delay);
    dueTimer.unref();
  }

  function saturatedWebhooks(): string[] {
    const ids: string[] = [];
    for (const [id, endpoint] of endpoints) {
      if (endpoint.inFlight + endpoint.queue.length >= heldPerEndpoint) ids.push(id);
    }
    return ids;
  }

  async function run(): Promise<void> {
    let failures = 0;
    while (!stopping) {
      const active = inFlight + queued;
      const free = heldLimit - active;
      if (free < lowWater && active > 0) {
        waitingForCapacity = true;
        await signal.wait(IDLE_POLL_MS);
        waitingForCapacity = false;
        continue;
      }
      const excluded = saturatedWebhooks();
      const limit = Math.min(free, CLAIM_BATCH);
      const now = clock.now();
      signal.clear();
      // Deliveries already due go first (retries, and rows no worker could take at their fan-out); new events'
      // deliveries fill the slots left. A claim that came back short found everything due: until something says
      // otherwise (or a moment passes: other workers' retries and lapsed leases say nothing), asking again is a
      // wasted round trip in the loop that feeds the slots.
      let claimed: ClaimedDelivery[] = [];
      if (claimWanted || now.getTime() - lastClaimAt >= RECHECK_DUE_MS) {
        // Cleared first: a wake-up during the statement asks for another claim.
        claimWanted = false;
        lastClaimAt = now.getTime();
        try {
          claimed = await claimDueDeliveries(db, {
            leaseToken: randomUUID(),
            now,
            leaseUntil: new Date(now.getTime() + config.leaseMs),
            limit,
            excludeWebhookIds: excluded,
            afterWebhookId: lastServedWebhookId,
          });
          failures = 0;
        } catch (error) {
          claimWanted = true;
          if (stopping) break;
          failures++;
          log.warn({ err: error }, 'claiming deliveries failed');
          await signal.wait(pauseAfterFailures(failures));
          continue;
        }
        const roundStartedMidway = excluded.length > 0 && lastServedWebhookId !== null;
        // A full claim stopped partway through the round; a short one went to its end.
        lastServedWebhookId = excluded.length > 0 && claimed.length === limit ? lastWebhookOf(claimed) : null;
        if (claimed.length > 0) await enqueue(claimed);
        if (claimed.length === limit || roundStartedMidway) claimWanted = true;
        if (claimed.length === limit || stopping) continue;
        // The round of webhooks began after some of them: the ones before may have due work too.
        if (roundStartedMidway) continue;
      }
      if (stopping) break;
      if (fanoutsWanted && clock.now().getTime() >= fanoutRetryAt) {
        await dispatch(limit - claimed.length, excluded);
        if (fanoutsWanted) continue;
      }

      // Nothing more is due for this worker: sleep until new work, a freed slot or the next due time.
      idleExcluded = new Set(excluded);
      let wait = IDLE_POLL_MS;
      try {
        const due = await nextDueAt(db, excluded);
        if (due) wait = Math.min(wait, Math.max(1, due.getTime() - clock.now().getTime()));
      } catch (error) {
        log.warn({ err: error }, 'reading the next due delivery failed');
      }
      if (fanoutRetryAt > clock.now().getTime()) wait = Math.min(wait, fanoutRetryAt - clock.now().getTime());
      await signal.wait(wait);
      claimWanted = true;
      // Whatever woke it, look for fan-outs too (one cheap statement): relying on their notification alone, a
      // lost one (a reconnect) left events without deliveries for as long as other wake-ups kept coming.
      fanoutsWanted = true;
      idleExcluded = undefined;
    }
  }

  /**
   * Creates the delivery rows of pending fan-outs and takes up to `free` of them straight to sending (at most a
   * claim's batch, like a claim: a fan-out of 1,000 sent at once opened 1,000 connections to one host together,
   * more than its accept queue held, and the dropped ones waited a second for the SYN to be sent again).
   * Leaves fanoutsWanted set when more fan-outs may be waiting.
   */
  async function dispatch(free: number, excluded: string[]): Promise<void> {
    // Cleared first: a notification arriving during the statement asks for another round.
    fanoutsWanted = false;
    const now = clock.now();
    // About as many events as free slots: each has at least one delivery, and the rest wait as fan-outs.
    const events = Math.max(1, Math.min(DISPATCH_BATCH, free));
    try {
      const done = await dispatchFanouts(db, events, {
        leaseToken: randomUUID(),
        leaseUntil: new Date(now.getTime() + config.leaseMs),
        limit: free,
        perWebhookLimit: heldPerEndpoint,
        excludeWebhookIds: excluded,
      });
      fanoutFailures = 0;
      if (done.fanouts === events) fanoutsWanted = true;
      if (done.claimed.length > 0) await enqueue(done.claimed);
    } catch (error) {
      // Deliveries already created keep going out; the fan-out is tried again after a pause.
      fanoutsWanted = true;
      fanoutFailures++;
      fanoutRetryAt = clock.now().getTime() + pauseAfterFailures(fanoutFailures);
      if (!stopping) log.warn({ err: error }, 'creating the deliveries of new events failed');
    }
  }

  /** The highest webhook id among the claims: where the round of webhooks stopped (null if none). */
  function lastWebhookOf(claimed: ClaimedDelivery[]): string | null {
    let last: string | null = null;
    for (const delivery of claimed) if (last === null || delivery.webhookId > last) last = delivery.webhookId;
    return last;
  }

  /** Hands claimed deliveries to their endpoints' queues (ending those whose webhook went inactive). */
  async function enqueue(claimed: ClaimedDelivery[]): Promise<void> {
    const inactive: Lease[] = [];
    const touched = new Set<string>();
    for (const delivery of claimed) {
      // The webhook was disabled or deleted after the event: it gets nothing more.
      if (delivery.webhook.status !== 'ACTIVE' || delivery.webhook.deleted) {
        inactive.push({ deliveryId: delivery.id, leaseToken: delivery.leaseToken });
        continue;
      }
      let endpoint = endpoints.get(delivery.webhookId);
      if (!endpoint) endpoints.set(delivery.webhookId, (endpoint = { inFlight: 0, queue: [] }));
      endpoint.queue.push(delivery);
      queued++;
      touched.add(delivery.webhookId);
    }
    for (const webhookId of touched) pump(webhookId);
    if (inactive.length > 0) {
      await failWithoutAttempt(db, inactive, clock.now()).catch((error) =>
        log.warn({ err: error }, 'ending deliveries of inactive webhooks failed'),
      );
    }
  }

  function pump(webhookId: string): void {
    const endpoint = endpoints.get(webhookId);
    if (!endpoint) return;
    while (!stopping && endpoint.inFlight < config.maxInFlightPerEndpoint && endpoint.queue.length > 0) {
      const delivery = endpoint.queue.shift()!;
      queued--;
      // Fresh claims pass (the lease is at least a second longer than the timeout); a long wait for a slot may not.
      if (delivery.leaseUntil.getTime() - clock.now().getTime() < config.deliveryTimeoutMs) {
        // Waited too long for a slot: sending now could outlive the lease and race another worker.
        releaser.add({ deliveryId: delivery.id, leaseToken: delivery.leaseToken });
        continue;
      }
      endpoint.inFlight++;
      inFlight++;
      void attempt(delivery).finally(() => {
        endpoint.inFlight--;
        inFlight--;
        pump(webhookId);
        if (endpoint.inFlight === 0 && endpoint.queue.length === 0) endpoints.delete(webhookId);
        slotFreed(webhookId);
      });
    }
    if (endpoint.inFlight === 0 && endpoint.queue.length === 0) endpoints.delete(webhookId);
  }

  function slotFreed(webhookId: string): void {
    if (inFlight + queued === 0) drained?.();
    if (stopping) return;
    // An endpoint that was full when the loop went idle: wake only once it has room for new claims again.
    if (idleExcluded?.has(webhookId)) {
      const endpoint = endpoints.get(webhookId);
      if (!endpoint || endpoint.inFlight + endpoint.queue.length < heldPerEndpoint) return signal.wake();
    }
    if (waitingForCapacity && heldLimit - inFlight - queued >= lowWater) signal.wake();
  }

  async function attempt(delivery: ClaimedDelivery): Promise<void> {
    const number = delivery.attemptCount + 1;
    const startedAt = clock.now();
    const lease: Lease = { deliveryId: delivery.id, leaseToken: delivery.leaseToken };
    try {
      const body = deliveryBody(delivery);
      const secrets = openSigningSecrets(
        secretBox,
        {
          secret: delivery.webhook.secret,
          previousSecret: delivery.webhook.previousSecret,
          previousSecretExpiresAt: delivery.webhook.previousSecretExpiresAt,
        },
        startedAt,
      );
      const headers = signatureHeaders({
        secrets,
        eventId: delivery.eventId,
        timestamp: Math.floor(startedAt.getTime() / 1000),
        body,
        version: options.version,
      });
      const sent = await sender.send({ url: delivery.webhook.targetUrl, headers, body });
      if (sent.abortedByStop) {
        releaser.add(lease);
        return;
      }
      const endedAt = clock.now();
      const succeeded = sent.statusCode !== null && sent.statusCode >= 200 && sent.statusCode < 300;
      const gone = sent.statusCode === 410;
      const next =
        succeeded || gone
          ? null
          : nextAttemptAt(config.retryScheduleMs, {
              attemptNumber: number,
              endedAt,
              statusCode: sent.statusCode ?? undefined,
              retryAfterMs: parseRetryAfter(sent.retryAfter, endedAt),
            });
      const error = succeeded ? null : (sent.error ?? describeFailedStatus(sent.statusCode));
      metrics?.attemptFinished(succeeded, sent.durationMs);
      if (!succeeded) {
        log.warn(
          {
            webhookId: delivery.webhookId,
            deliveryId: delivery.id,
            attempt: number,
            reason: sent.error ?? `HTTP ${sent.statusCode}`,
            nextAttemptAt: next?.toISOString() ?? null,
          },
          'delivery attempt failed',
        );
      }
      settler.add({
        webhookId: delivery.webhookId,
        ordered: delivery.webhook.ordered,
        gone,
        attempt: {
          deliveryId: delivery.id,
          leaseToken: delivery.leaseToken,
          number,
          startedAt,
          durationMs: sent.durationMs,
          statusCode: sent.statusCode,
          responseBody: sent.responseBody,
          error,
          requestHeaders: headers,
          status: succeeded ? 'SUCCEEDED' : next ? 'PENDING' : 'FAILED',
          nextAttemptAt: next,
        },
      });
    } catch (error) {
      // Not the receiver's fault (e.g. a secret that cannot be opened): store it as a failed attempt.
      log.error({ err: error, webhookId: delivery.webhookId, deliveryId: delivery.id }, 'preparing a delivery failed');
      const endedAt = clock.now();
      const next = nextAttemptAt(config.retryScheduleMs, { attemptNumber: number, endedAt });
      settler.add({
        webhookId: delivery.webhookId,
        ordered: delivery.webhook.ordered,
        gone: false,
        attempt: {
          deliveryId: delivery.id,
          leaseToken: delivery.leaseToken,
          number,
          startedAt,
          durationMs: endedAt.getTime() - startedAt.getTime(),
          statusCode: null,
          responseBody: null,
          error: error instanceof Error ? error.message : String(error),
          requestHeaders: null,
          status: next ? 'PENDING' : 'FAILED',
          nextAttemptAt: next,
        },
      });
    }
  }

  async function settle(batch: Finished[], retries = 0): Promise<void> {
    const now = clock.now();
    let settled: Set<string>;
    try {
      settled = await settleAttempts(db, batch.map((item) => item.attempt), now);
    } catch (error) {
      if (retries < 3 && !stopping) {
        log.warn({ err: error, count: batch.length }, 'storing delivery attempts failed; retrying');
        await new Promise((resolve) => setTimeout(resolve, 200 * (retries + 1)));
        return settle(batch, retries + 1);
      }
      // Their leases will run out and the deliveries will be attempted again: at-least-once.
      log.error({ err: error, count: batch.length }, 'storing delivery attempts failed');
      return;
    }
    const healthy = new Set<string>();
    const gone = new Set<string>();
    const failing: Array<{ webhookId: string; at: Date }> = [];
    let earliestRetry: Date | undefined;
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
    }
    if (earliestRetry) wakeAt(earliestRetry);
    // The next delivery of a PER_RECORD record is due already but was held back: claim it now, not at the next poll.
    if (batch.some((item) => item.ordered && item.attempt.status !== 'PENDING' && settled.has(item.attempt.deliveryId)) && !stopping) {
      claimWanted = true;
      signal.wake();
    }
    try {
      await markWebhooksHealthy(db, [...healthy]);
      const stillFailing = failing.filter((failure) => !healthy.has(failure.webhookId));
      const disabled = await markWebhooksFailing(db, stillFailing, new Date(now.getTime() - config.disableAfterMs), now);
      for (const webhookId of disabled) log.warn({ webhookId }, 'webhook disabled: every delivery failed for too long');
      for (const webhookId of await disableWebhooks(db, [...gone], now)) {
        log.warn({ webhookId }, 'webhook disabled: the receiver answered 410 Gone');
      }
    } catch (error) {
      log.warn({ err: error }, 'updating webhook health failed');
    }
  }

  async function release(leases: Lease[]): Promise<void> {
    try {
      await releaseLeases(db, leases, clock.now());
      claimWanted = true;
      if (!stopping) signal.wake();
    } catch (error) {
      // The leases run out by themselves.
      log.warn({ err: error, count: leases.length }, 'releasing deliveries failed');
    }
  }

  return {
    get active() {
      return inFlight + queued;
    },
    async start() {
      if (loop) return;
      unlisten = await database.listen(DELIVERY_CHANNEL, (payload) => {
        // "events" asks for a fan-out; anything else (a reconnect's wake-up has an empty payload) for both. New due
        // deliveries ("deliveries") are claimed when the wake-up ends an idle wait, and a busy worker finds them at
        // its next recheck: claiming at once on every one cost a claim per fan-out, since a worker's own fan-out
        // announces the rows it left for others (those of its full endpoints, which it will not take itself).
        if (payload !== NEW_DELIVERIES_ONLY) fanoutsWanted = true;
        if (payload !== NEW_EVENTS && payload !== NEW_DELIVERIES_ONLY) claimWanted = true;
        signal.wake();
      });
      loop = run().catch((error) => log.error({ err: error }, 'delivery worker stopped unexpectedly'));
    },
    wake() {
      claimWanted = true;
      fanoutsWanted = true;
      signal.wake();
    },
    async flush() {
      await settler.drain();
      await releaser.drain();
    },
    async stop(graceMs = 5_000) {
      if (!loop || stopping) return;
      stopping = true;
      signal.wake();
      await unlisten?.().catch(() => {});
      await loop;
      clearTimeout(dueTimer);
      for (const endpoint of endpoints.values()) {
        for (const delivery of endpoint.queue) releaser.add({ deliveryId: delivery.id, leaseToken: delivery.leaseToken });
        queued -= endpoint.queue.length;
        endpoint.queue = [];
      }
      if (inFlight > 0) {
        const allDone = new Promise<void>((resolve) => (drained = resolve));
        let graceTimer: NodeJS.Timeout | undefined;
        await Promise.race([allDone, new Promise((resolve) => (graceTimer = setTimeout(resolve, graceMs)))]);
        clearTimeout(graceTimer);
        // Still running after the grace: cut them; they go back to the queue and will be sent again.
        sender.abortAll();
        if (inFlight > 0) await allDone;
      }
      await settler.drain();
      await releaser.drain();
      await sender.close();
    },
  };
}

function describeFailedStatus(statusCode: number | null): string | null {
  if (statusCode === null) return 'no answer';
  if (statusCode >= 300 && statusCode < 400) return `HTTP ${statusCode}: redirects are not followed`;
  return null;
}
