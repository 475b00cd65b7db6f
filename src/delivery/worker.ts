import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Config } from '../config.ts';
import type { Clock } from '../domain/clock.ts';
import type { Metrics } from '../observability/metrics.ts';
import type { Database } from '../storage/database.ts';
import { claimDueDeliveries, failWithoutAttempt, nextDueAt, releaseLeases, type ClaimedDelivery, type Lease } from '../storage/queue/index.ts';
import { DELIVERY_CHANNEL, dispatchFanouts, NEW_DELIVERIES_ONLY, NEW_EVENTS } from '../storage/queue/index.ts';
import { cachingSecretBox, createSecretBox } from '../webhooks/secret-box.ts';
import { attemptDelivery, type AttemptDeps } from './attempt.ts';
import { FailureSummary } from './failure-summary.ts';
import { EndpointSlots } from './endpoint-slots.ts';
import { FetchLoop, type WorkSource } from './fetch-loop.ts';
import { startHeartbeat, type HeartbeatLoop } from './heartbeat.ts';
import { BatchBuffer } from './settle-buffer.ts';
import { createSettler, type FinishedAttempt } from './settler.ts';
import { Sender } from './sender.ts';

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

export interface DeliveryWorkerOptions {
  database: Database;
  config: Config;
  clock: Clock;
  logger: Logger;
  /** For the User-Agent. */
  version: string;
  metrics?: Metrics;
  /** Failed attempts are logged as one warning per endpoint per this interval (default 60 s). */
  failureSummaryMs?: number;
}

export interface DeliveryWorker {
  start(): Promise<void>;
  /** Stops claiming, lets requests in flight finish for up to graceMs, then gives every unfinished claim back. */
  stop(graceMs?: number): Promise<void>;
  /** Look for due work now (tests that move an injected clock). */
  wake(): void;
  /** Writes every finished attempt now. */
  flush(): Promise<void>;
  /**
   * Resolves once the worker has looked for work since this call and is quiet: nothing due at the clock's now,
   * nothing in flight or waiting for a slot, every finished attempt stored. Tests wait for it before asserting
   * that nothing more happened. Rejects if the worker stops first.
   */
  idle(): Promise<void>;
  /** Requests in flight plus claimed deliveries waiting for an endpoint slot. */
  readonly active: number;
}

/**
 * Composes the worker's parts: the fetch loop fills the endpoint slots from claims and fan-outs, each slot sends one
 * attempt, finished attempts are settled in batches, and the heartbeat lets others take over after a crash.
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
  const failures = new FailureSummary(log, clock, options.failureSummaryMs ?? 60_000);
  const attemptDeps: AttemptDeps = {
    sender, secretBox: cachingSecretBox(createSecretBox(config.encryptionKey)), clock, log, failures, metrics, retryScheduleMs: config.retryScheduleMs, version: options.version,
  };
  const workerId = randomUUID();
  const heldLimit = config.maxInFlight * CLAIM_AHEAD;
  const heldPerEndpoint = config.maxInFlightPerEndpoint * CLAIM_AHEAD;
  const slots = new EndpointSlots<ClaimedDelivery>(config.maxInFlightPerEndpoint);
  let stopping = false;
  let heartbeatLoop: HeartbeatLoop | undefined;
  let unlisten: (() => Promise<void>) | undefined;
  let drained: (() => void) | undefined;
  /** Where the next claim around full endpoints starts its round of webhooks. */
  let lastServedWebhookId: string | null = null;

  /** Callers of idle(), each checking whether the worker is quiet for its ticket. */
  const idleWaiters = new Set<{ check(): void; stopped(): void }>();
  const checkIdle = () => {
    for (const waiter of idleWaiters) waiter.check();
  };

  const settler = new BatchBuffer<FinishedAttempt>(
    createSettler({ database, clock, log, metrics, disableAfterMs: config.disableAfterMs, stopping: () => stopping, retryDueAt: (at) => loop.wantClaimAt(at) }),
    SETTLE_BATCH,
    SETTLE_DELAY_MS,
    checkIdle,
  );
  const releaser = new BatchBuffer<Lease>(release, SETTLE_BATCH, 0, checkIdle);

  const source: WorkSource = {
    room: () => ({ free: Math.min(CLAIM_BATCH, heldLimit - slots.total), fullEndpoints: slots.fullEndpoints(heldPerEndpoint) }),
    async claim(limit, fullEndpoints) {
      const now = clock.now();
      const claimed = await claimDueDeliveries(db, {
        leaseToken: randomUUID(), workerId, now, leaseUntil: new Date(now.getTime() + config.leaseMs), limit,
        excludeWebhookIds: fullEndpoints, afterWebhookId: lastServedWebhookId,
      });
      const roundStartedMidway = fullEndpoints.length > 0 && lastServedWebhookId !== null;
      // A full claim stopped partway through the round of webhooks; a short one went to its end.
      lastServedWebhookId = fullEndpoints.length > 0 && claimed.length === limit ? lastWebhookOf(claimed) : null;
      await enqueue(claimed);
      // A round that began after some webhooks: the ones before may have due work too.
      return { again: claimed.length === limit || roundStartedMidway };
    },
    async dispatch(limit, fullEndpoints) {
      const now = clock.now();
      // About as many events as free slots: each has at least one delivery, and the rest wait as fan-outs.
      const events = Math.max(1, Math.min(DISPATCH_BATCH, limit));
      const done = await dispatchFanouts(db, events, {
        leaseToken: randomUUID(), workerId, leaseUntil: new Date(now.getTime() + config.leaseMs), limit,
        perWebhookLimit: heldPerEndpoint, roomLeft: slots.partlyHeld(heldPerEndpoint), excludeWebhookIds: fullEndpoints,
      });
      await enqueue(done.claimed);
      return { more: done.fanouts === events };
    },
    nextDueAt: (fullEndpoints) => nextDueAt(db, fullEndpoints),
    failed(what, error) {
      if (stopping) return;
      const doing = { claim: 'claiming deliveries', dispatch: 'creating the deliveries of new events', nextDueAt: 'reading the next due delivery' };
      log.warn({ err: error }, `${doing[what]} failed`);
    },
  };
  const loop = new FetchLoop(source, {
    clock, lowWater: Math.max(1, Math.min(CLAIM_BATCH, Math.floor(config.maxInFlight / 4))),
    idlePollMs: IDLE_POLL_MS, recheckDueMs: RECHECK_DUE_MS, held: () => slots.total, onParked: checkIdle,
  });

  /** Hands claimed deliveries to their endpoints (ending those whose webhook went inactive). */
  async function enqueue(claimed: ClaimedDelivery[]): Promise<void> {
    // The webhook was disabled or deleted after the event (or its row or the event's is gone): it gets nothing more.
    const inactive = claimed.filter((delivery) => delivery.webhook.status !== 'ACTIVE' || delivery.webhook.deleted || delivery.orphaned);
    const active = inactive.length === 0 ? claimed : claimed.filter((delivery) => !inactive.includes(delivery));
    slots.add(active);
    for (const webhookId of new Set(active.map((delivery) => delivery.webhookId))) pump(webhookId);
    if (inactive.length > 0) {
      await failWithoutAttempt(db, inactive.map(leaseOf), clock.now()).catch((error) =>
        log.warn({ err: error }, 'ending deliveries of inactive webhooks failed'),
      );
    }
  }

  function pump(webhookId: string): void {
    for (let taken = slots.takeSendable(webhookId); !stopping && taken.length > 0; taken = slots.takeSendable(webhookId)) {
      let dropped = 0;
      for (const delivery of taken) {
        // Fresh claims pass (the lease is at least a second longer than the timeout); a long wait for a slot may not,
        // and sending then could outlive the lease and race another worker.
        if (delivery.leaseUntil.getTime() - clock.now().getTime() < config.deliveryTimeoutMs) {
          slots.drop(delivery);
          releaser.add(leaseOf(delivery));
          dropped++;
        } else {
          send(delivery);
        }
      }
      if (dropped === 0) break;
    }
  }

  function send(delivery: ClaimedDelivery): void {
    void attemptDelivery(delivery, attemptDeps)
      .then((finished) => (finished ? settler.add(finished) : releaser.add(leaseOf(delivery))))
      .finally(() => {
        slots.finished(delivery);
        pump(delivery.webhookId);
        if (slots.total === 0) drained?.();
        if (!stopping) loop.slotFreed(delivery.webhookId, slots.held(delivery.webhookId) < heldPerEndpoint);
        checkIdle();
      });
  }

  async function release(leases: Lease[]): Promise<void> {
    try {
      await releaseLeases(db, leases, clock.now());
      if (!stopping) loop.wantClaim();
    } catch (error) {
      // The leases run out by themselves.
      log.warn({ err: error, count: leases.length }, 'releasing deliveries failed');
    }
  }

  return {
    get active() {
      return slots.total;
    },
    async start() {
      if (heartbeatLoop) return;
      heartbeatLoop = await startHeartbeat({
        database, clock, logger: log, workerId, intervalMs: config.heartbeatMs,
        // Its claims were given back to the queue (and may be another worker's now): send none of those waiting.
        onDeclaredDead: () => void slots.takeAllWaiting(),
        onReleased: () => loop.wantClaim(),
      });
      unlisten = await database.listen(DELIVERY_CHANNEL, (payload) => {
        // "events" asks for a fan-out; anything else (a reconnect's wake-up has an empty payload) for both. New due
        // deliveries ("deliveries") are claimed when the wake-up ends an idle wait, and a busy worker finds them at
        // its next recheck: claiming at once on every one would cost a claim per fan-out, since a worker's own fan-out
        // announces the rows it left for others (those of its full endpoints, which it will not take itself).
        if (payload !== NEW_DELIVERIES_ONLY) loop.wantFanout();
        if (payload !== NEW_EVENTS && payload !== NEW_DELIVERIES_ONLY) loop.wantClaim();
        loop.nudge();
      });
      failures.start();
      void loop.start().catch((error) => log.error({ err: error }, 'delivery worker stopped unexpectedly'));
    },
    wake() {
      loop.wantClaim();
      loop.wantFanout();
    },
    async flush() {
      await settler.drain();
      await releaser.drain();
    },
    idle() {
      if (stopping || !heartbeatLoop) return Promise.reject(new Error('the delivery worker is not running'));
      const ticket = loop.requestRound();
      return new Promise<void>((resolve, reject) => {
        const waiter = {
          check() {
            if (!loop.parkedAfter(ticket) || slots.total > 0 || !settler.empty || !releaser.empty) return;
            idleWaiters.delete(waiter);
            resolve();
          },
          stopped() {
            idleWaiters.delete(waiter);
            reject(new Error('the delivery worker stopped before it was idle'));
          },
        };
        idleWaiters.add(waiter);
      });
    },
    async stop(graceMs = 5_000) {
      if (!heartbeatLoop || stopping) return;
      stopping = true;
      for (const waiter of idleWaiters) waiter.stopped();
      await unlisten?.().catch(() => {});
      await loop.stop();
      for (const delivery of slots.takeAllWaiting()) releaser.add(leaseOf(delivery));
      if (slots.total > 0) {
        const allDone = new Promise<void>((resolve) => (drained = resolve));
        let graceTimer: NodeJS.Timeout | undefined;
        await Promise.race([allDone, new Promise((resolve) => (graceTimer = setTimeout(resolve, graceMs)))]);
        clearTimeout(graceTimer);
        // Still running after the grace: cut them; they go back to the queue and will be sent again.
        sender.abortAll();
        // A cut attempt that still does not end must not hold the stop forever: its lease ends, and with this
        // worker's heartbeat gone another worker takes it back, so the delivery is sent again, not lost.
        if (slots.total > 0 && !(await settlesWithin(allDone, graceMs))) {
          log.error({ stillHeld: slots.total }, 'attempts did not end after being cut; their leases are left to expire');
        }
      }
      await settler.drain();
      await releaser.drain();
      await heartbeatLoop.stop();
      await sender.close();
      failures.stop();
    },
  };
}

/** Whether `promise` settles within `ms`. */
async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  const settled = await Promise.race([promise.then(() => true), timedOut]);
  clearTimeout(timer);
  return settled;
}

function leaseOf(delivery: ClaimedDelivery): Lease {
  return { deliveryId: delivery.id, leaseToken: delivery.leaseToken };
}

/** The highest webhook id among the claims: where the round of webhooks stopped (null if none). */
function lastWebhookOf(claimed: ClaimedDelivery[]): string | null {
  let last: string | null = null;
  for (const delivery of claimed) if (last === null || delivery.webhookId > last) last = delivery.webhookId;
  return last;
}
