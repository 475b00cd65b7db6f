import type { Kysely } from 'kysely';
import type { Clock } from '../domain/clock.ts';
import { decodeCursor, encodeCursor } from '../domain/cursor.ts';
import { invalidInput, notFound, SwitchboardError } from '../domain/errors.ts';
import { matchesOperation } from '../domain/operations.ts';
import { passesScreen, screenModelOf, STANDARD_SCREEN_MODEL } from '../domain/webhook-screen.ts';
import type { DataModel } from '../domain/metadata.ts';
import { buildPayload, serialisePayload } from '../domain/payload.ts';
import { INSTANT_RANGE, isStorableInstant, isUuid } from '../domain/records.ts';
import type { DB, DeliveryStatus } from '../storage/schema.ts';
import * as store from '../storage/delivery-log.ts';
import { findWebhook, type WebhookRow } from '../storage/webhooks.ts';
import type { TestAttempt, TestWebhookSender } from '../delivery/test-webhook.ts';

export type { AttemptRow, DeliveryRow, EventRow, WebhookStatsRow } from '../storage/delivery-log.ts';

export const DELIVERY_STATUSES: readonly DeliveryStatus[] = ['PENDING', 'SUCCEEDED', 'FAILED'];
export const MAX_DELIVERY_PAGE_SIZE = 100;
const OPERATION_PATTERN = /^[a-z][a-zA-Z0-9]{0,63}\.[a-z][a-zA-Z0-9]{0,63}$/;
export const DEFAULT_DELIVERY_PAGE_SIZE = 20;
const STATS_WINDOW_MS = 24 * 3_600_000;

export interface DeliveryWithAttempts extends store.DeliveryRow {
  attempts: store.AttemptRow[];
  event: store.EventRow | undefined;
  /** The body as sent to the endpoint (null once retention removed the event). */
  payload: string | null;
}

export interface ReplayLimits {
  /** Events one replay call queues at most; past it, the answer's `until` says where to go on from. */
  maxQueued: number;
  /** Events one replay call reads at most (matching or not), for the same reason. */
  maxScanned: number;
  /** Events read and queued per statement. */
  batch: number;
}

export const REPLAY_LIMITS: Readonly<ReplayLimits> = { maxQueued: 10_000, maxScanned: 100_000, batch: 500 };

export interface WebhookReplay {
  webhookId: string;
  since: Date;
  /** The end of the window replayed: the one asked for, or earlier when a bound stopped the call (go on from there). */
  until: Date;
  queued: number;
  /**
   * Set when the window starts before the oldest instant retention keeps (now minus SWITCHBOARD_RETENTION): events
   * written before it were removed and cannot be replayed. Null when the whole window is kept.
   */
  retainedSince: Date | null;
}

export type SeriesWindow = 'DAY' | 'WEEK';
export const SERIES_WINDOW_HOURS: Record<SeriesWindow, number> = { DAY: 24, WEEK: 168 };
export const SERIES_BUCKET_SECONDS = 3600;
export const MAX_SERIES_POINTS = SERIES_WINDOW_HOURS.WEEK;

export interface WebhookSeries {
  window: SeriesWindow;
  since: Date;
  bucketSeconds: number;
  summary: store.WebhookStatsRow;
  points: store.SeriesPointRow[];
}

export interface DeliveryPage {
  edges: Array<{ node: DeliveryWithAttempts; cursor: string }>;
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
  totalCount: number;
}

export interface DeliveryLogService {
  /** One webhook's deliveries, newest first, with their attempts. */
  list(
    workspaceId: string,
    query: {
      webhookId: string;
      status?: DeliveryStatus | null;
      /** An exact operation, e.g. person.updated. */
      operation?: string | null;
      eventId?: string | null;
      recordId?: string | null;
      /** Created at or after this time. */
      createdAfter?: Date | null;
      /** Created before this time. */
      createdBefore?: Date | null;
      first?: number | null;
      after?: string | null;
      /** How the caller's API names `first` and `after` (REST: limit, cursor), for errors. */
      argumentNames?: { first: string; after: string };
    },
  ): Promise<DeliveryPage>;
  get(workspaceId: string, deliveryId: string): Promise<DeliveryWithAttempts>;
  /** An attempt is under way: a worker holds the delivery and its lease has not run out. */
  isSending(delivery: store.DeliveryRow): boolean;
  /** A new attempt now, whatever the delivery's status. */
  redeliver(workspaceId: string, deliveryId: string): Promise<DeliveryWithAttempts>;
  /** Re-queues every FAILED delivery of the webhook created since `since`; returns how many. */
  recover(workspaceId: string, webhookId: string, since: Date): Promise<number>;
  /**
   * Queues one delivery for every stored event in [since, until) (until: now) that the webhook matches now
   * (operations, filter, fields), oldest first; see ReplayLimits for where it stops.
   */
  replay(workspaceId: string, webhookId: string, since: Date, until?: Date | null): Promise<WebhookReplay>;
  /** Attempt figures of the last 24 hours. */
  stats(workspaceId: string, webhookId: string): Promise<store.WebhookStatsRow>;
  /**
   * Attempt figures of these webhooks (already known to be the workspace's) over a window: the whole window and
   * its newest `points` hours (at most the window's), every hour present (zero when nothing was sent), oldest first. One statement.
   */
  series(workspaceId: string, webhookIds: string[], window: SeriesWindow, points?: number | null): Promise<Map<string, WebhookSeries>>;
  /** The newest delivery of each of these webhooks, with attempts; a constant number of statements. */
  latest(workspaceId: string, webhookIds: string[]): Promise<Map<string, DeliveryWithAttempts>>;
  /** Sends a sample event of `operation` (default: from the webhook's operations) now; stores nothing. */
  sendTest(workspaceId: string, webhookId: string, operation?: string | null): Promise<TestAttempt>;
  close(): Promise<void>;
}

export function encodeDeliveryCursor(position: store.DeliveryPosition): string {
  return encodeCursor({ createdAt: position.createdAt.toISOString(), id: position.id });
}

export function decodeDeliveryCursor(cursor: string, field = 'after'): store.DeliveryPosition {
  const position = decodeCursor(cursor, field);
  return { createdAt: new Date(position.createdAt), id: position.id.toLowerCase() };
}

export function createDeliveryLogService(
  db: Kysely<DB>,
  clock: Clock,
  testSender: TestWebhookSender,
  replayLimits: ReplayLimits = REPLAY_LIMITS,
  /** How long events are kept (config.retentionMs); replay answers say when a window reaches past it. */
  retentionMs: number | null = null,
  /** The workspace's data model, which replayed events' filters are read with (default: the standard objects). */
  dataModel?: (workspaceId: string) => Promise<DataModel>,
): DeliveryLogService {
  async function requireWebhook(workspaceId: string, webhookId: string): Promise<WebhookRow> {
    // An id that is not a UUID names nothing; PostgreSQL would refuse the cast with an error (a 500).
    if (!isUuid(webhookId)) throw notFound('webhook', webhookId);
    const found = await findWebhook(db, workspaceId, webhookId);
    if (!found || found.deletedAt) throw notFound('webhook', webhookId);
    return found;
  }

  async function withDetails(workspaceId: string, rows: store.DeliveryRow[]): Promise<DeliveryWithAttempts[]> {
    const [attempts, events] = await Promise.all([
      store.listAttempts(db, rows.map((row) => row.id)),
      store.findEvents(db, workspaceId, [...new Set(rows.map((row) => row.eventId))]),
    ]);
    const eventsById = new Map(events.map((event) => [event.id, event]));
    const attemptsByDelivery = new Map<string, store.AttemptRow[]>();
    for (const attempt of attempts) {
      const list = attemptsByDelivery.get(attempt.deliveryId);
      if (list) list.push(attempt);
      else attemptsByDelivery.set(attempt.deliveryId, [attempt]);
    }
    return rows.map((row) => {
      const event = eventsById.get(row.eventId);
      return {
        ...row,
        attempts: attemptsByDelivery.get(row.id) ?? [],
        event,
        payload: event ? serialisePayload(buildPayload(event, row.webhookId)) : null,
      };
    });
  }

  async function get(workspaceId: string, deliveryId: string): Promise<DeliveryWithAttempts> {
    if (!isUuid(deliveryId)) throw notFound('delivery', deliveryId);
    const row = await store.findDelivery(db, workspaceId, deliveryId);
    if (!row) throw notFound('delivery', deliveryId);
    const [delivery] = await withDetails(workspaceId, [row]);
    return delivery;
  }

  return {
    async list(workspaceId, query) {
      const names = query.argumentNames ?? { first: 'first', after: 'after' };
      const first = query.first ?? DEFAULT_DELIVERY_PAGE_SIZE;
      if (!Number.isInteger(first) || first < 1 || first > MAX_DELIVERY_PAGE_SIZE) {
        throw invalidInput(names.first, `must be an integer from 1 to ${MAX_DELIVERY_PAGE_SIZE}`);
      }
      const status = query.status ?? undefined;
      if (status && !DELIVERY_STATUSES.includes(status)) {
        throw invalidInput('status', `must be one of ${DELIVERY_STATUSES.join(', ')}`);
      }
      const operation = query.operation ?? undefined;
      if (operation !== undefined && !OPERATION_PATTERN.test(operation)) {
        throw invalidInput('operation', 'must be one operation, {object}.{action} in lower case (e.g. person.updated)');
      }
      for (const field of ['eventId', 'recordId'] as const) {
        const value = query[field];
        if (value !== undefined && value !== null && !isUuid(value)) throw invalidInput(field, 'must be a UUID');
      }
      for (const field of ['createdAfter', 'createdBefore'] as const) {
        const value = query[field];
        if (value && !isStorableInstant(value)) throw invalidInput(field, `must be a date ${INSTANT_RANGE}`);
      }
      if (query.createdAfter && query.createdBefore && query.createdAfter.getTime() >= query.createdBefore.getTime()) {
        throw invalidInput('createdBefore', 'must be later than createdAfter');
      }
      const after = query.after ? decodeDeliveryCursor(query.after, names.after) : undefined;
      await requireWebhook(workspaceId, query.webhookId);
      const filter: store.DeliveryFilter = {
        workspaceId,
        webhookId: query.webhookId,
        status,
        operation,
        eventId: query.eventId?.toLowerCase() ?? undefined,
        recordId: query.recordId?.toLowerCase() ?? undefined,
        createdAfter: query.createdAfter ?? undefined,
        createdBefore: query.createdBefore ?? undefined,
      };
      const [rows, totalCount] = await Promise.all([
        store.listDeliveries(db, { ...filter, after, limit: first + 1 }),
        store.countDeliveries(db, filter),
      ]);
      const page = await withDetails(workspaceId, rows.slice(0, first));
      const edges = page.map((node) => ({ node, cursor: encodeDeliveryCursor(node) }));
      return {
        edges,
        pageInfo: { hasNextPage: rows.length > first, endCursor: edges.at(-1)?.cursor ?? null },
        totalCount,
      };
    },

    get,

    isSending: (delivery) =>
      delivery.status === 'PENDING' && delivery.leaseHeld && (delivery.nextAttemptAt?.getTime() ?? 0) > clock.now().getTime(),

    async redeliver(workspaceId, deliveryId) {
      if (!isUuid(deliveryId)) throw notFound('delivery', deliveryId);
      const updated = await store.requeueDeliveries(db, { workspaceId, deliveryId }, clock.now());
      if (updated === 0) throw notFound('delivery', deliveryId);
      return get(workspaceId, deliveryId);
    },

    async recover(workspaceId, webhookId, since) {
      if (!isStorableInstant(since)) throw invalidInput('since', `must be a date ${INSTANT_RANGE}`);
      await requireWebhook(workspaceId, webhookId);
      return store.requeueDeliveries(db, { workspaceId, webhookId, onlyFailedSince: since }, clock.now());
    },

    async replay(workspaceId, webhookId, since, until) {
      const now = clock.now();
      const end = until ?? now;
      if (Number.isNaN(since.getTime())) throw invalidInput('since', 'must be a date');
      if (Number.isNaN(end.getTime())) throw invalidInput('until', 'must be a date');
      if (end <= since) throw invalidInput('until', 'must be later than since');
      const webhook = await requireWebhook(workspaceId, webhookId);
      if (webhook.status !== 'ACTIVE') {
        throw new SwitchboardError('CONFLICT', `webhook ${webhook.id} is ${webhook.status}: enable it before replaying events to it`);
      }
      const screen = { filterJson: webhook.filter === null ? null : JSON.stringify(webhook.filter), fields: webhook.fields };
      const screens = dataModel ? screenModelOf(await dataModel(workspaceId)) : STANDARD_SCREEN_MODEL;
      const matches = (event: store.EventRow) => matchesOperation(webhook.operations, event.operation) && passesScreen(screen, event, screens);
      let after: store.EventPosition | undefined;
      let queued = 0;
      let scanned = 0;
      let places = 0;
      let reached = end;
      for (;;) {
        const batch = await store.listEventsBetween(db, { workspaceId, since, until: end, after, limit: replayLimits.batch });
        // Past a bound, finish the events of the last instant read, so that [since, reached) is replayed whole.
        const bounded = queued >= replayLimits.maxQueued || scanned >= replayLimits.maxScanned;
        const taken = bounded ? batch.filter((event) => event.createdAt.getTime() === after!.createdAt.getTime()) : batch;
        const matching = taken.filter(matches);
        queued += await store.queueReplayDeliveries(db, { workspaceId, webhookId: webhook.id }, matching, now, places);
        places += matching.length;
        scanned += taken.length;
        if (taken.length < batch.length) {
          reached = batch[taken.length].createdAt;
          break;
        }
        if (batch.length < replayLimits.batch) break;
        after = batch[batch.length - 1];
      }
      const horizon = retentionMs === null ? null : new Date(now.getTime() - retentionMs);
      return { webhookId: webhook.id, since, until: reached, queued, retainedSince: horizon && since < horizon ? horizon : null };
    },

    async stats(workspaceId, webhookId) {
      await requireWebhook(workspaceId, webhookId);
      const stats = await store.webhookAttemptStats(db, webhookId, new Date(clock.now().getTime() - STATS_WINDOW_MS));
      return { ...stats, p50LatencyMs: roundLatency(stats.p50LatencyMs), p95LatencyMs: roundLatency(stats.p95LatencyMs) };
    },

    async series(workspaceId, webhookIds, window, points) {
      const hours = SERIES_WINDOW_HOURS[window];
      if (!hours) throw invalidInput('window', `must be one of ${Object.keys(SERIES_WINDOW_HOURS).join(', ')}`);
      const asked = points ?? hours;
      if (!Number.isInteger(asked) || asked < 1 || asked > MAX_SERIES_POINTS) {
        throw invalidInput('first', `must be an integer from 1 to ${MAX_SERIES_POINTS}`);
      }
      const wanted = Math.min(asked, hours);
      const bucketMs = SERIES_BUCKET_SECONDS * 1000;
      const now = clock.now().getTime();
      const since = new Date(now - hours * 3_600_000);
      const ids = webhookIds.filter(isUuid);
      const rows = await store.webhookAttemptSeries(db, workspaceId, ids, since, SERIES_BUCKET_SECONDS);
      const currentBucket = Math.floor(now / bucketMs);
      const result = new Map<string, WebhookSeries>();
      for (const id of webhookIds) {
        const row = rows.get(id);
        const byStart = new Map((row?.points ?? []).map((point) => [point.start.getTime(), point]));
        const dense: store.SeriesPointRow[] = [];
        for (let bucket = currentBucket - wanted + 1; bucket <= currentBucket; bucket++) {
          const start = bucket * bucketMs;
          dense.push(byStart.get(start) ?? { start: new Date(start), succeeded: 0, failed: 0, p50LatencyMs: null, p95LatencyMs: null });
        }
        result.set(id, { window, since, bucketSeconds: SERIES_BUCKET_SECONDS, summary: row?.summary ?? store.emptyStats(), points: dense });
      }
      return result;
    },

    async latest(workspaceId, webhookIds) {
      const rows = await store.latestDeliveries(db, workspaceId, webhookIds.filter(isUuid));
      const detailed = await withDetails(workspaceId, rows);
      return new Map(detailed.map((delivery) => [delivery.webhookId, delivery]));
    },

    async sendTest(workspaceId, webhookId, operation) {
      return testSender.send(await requireWebhook(workspaceId, webhookId), operation);
    },

    close: () => testSender.close(),
  };
}

/**
 * Durations are stored in whole milliseconds, so a percentile interpolated between two of them means something
 * to a tenth at most; beyond that are only floating-point leftovers (45.99999999999999).
 */
export function roundLatency(ms: number | null): number | null {
  return ms === null ? null : Math.round(ms * 10) / 10;
}
