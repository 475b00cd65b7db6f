import type { DeliveryStatus } from '../../storage/schema.ts';
import {
  DEFAULT_DELIVERY_PAGE_SIZE,
  MAX_SERIES_POINTS,
  type AttemptRow,
  type DeliveryWithAttempts,
  type SeriesWindow,
  type WebhookSeries,
  type WebhookStatsRow,
} from '../../delivery-log/service.ts';
import type { ApiContext } from '../context.ts';
import type { GraphQLModule } from './module.ts';
import { loadForWebhook } from './webhook-batch.ts';

function webhookSeries(context: ApiContext, webhookId: string, window: SeriesWindow, first: number | null | undefined): Promise<WebhookSeries> {
  return loadForWebhook(context, `series\u0000${window}\u0000${first ?? ''}`, webhookId, (ids) =>
    context.services.deliveryLog.series(context.workspaceId, ids, window, first),
  ) as Promise<WebhookSeries>;
}

const headerList = (parent: Pick<AttemptRow, 'requestHeaders'>) =>
  Object.entries(parent.requestHeaders ?? {}).map(([name, value]) => ({ name, value }));

/** Seeing and steering deliveries (CONTRACT.md section 6). */
export const deliveriesModule: GraphQLModule = {
  typeDefs: /* GraphQL */ `
    enum DeliveryStatus {
      PENDING
      SUCCEEDED
      FAILED
    }

    type HttpHeader {
      name: String!
      value: String!
    }

    type DeliveryAttempt {
      number: Int!
      startedAt: DateTime!
      durationMs: Int!
      "Null when no HTTP answer came (network error, timeout, refused target)."
      statusCode: Int
      "The first 4 KiB of the answer's body as text; a NUL byte, and each byte that is not valid UTF-8, reads as the escape \\\\xHH."
      responseBody: String
      error: String
      "The headers sent with this attempt (signatures included; never the secret)."
      requestHeaders: [HttpHeader!]!
    }

    type WebhookDelivery {
      id: UUID!
      webhookId: UUID!
      eventId: UUID!
      operation: String!
      status: DeliveryStatus!
      attemptCount: Int!
      "When the next attempt is due; null once SUCCEEDED or FAILED. While sending, when the attempt under way counts as lost."
      nextAttemptAt: DateTime
      "An attempt is under way now (a worker holds the delivery)."
      sending: Boolean!
      lastAttemptAt: DateTime
      "PER_RECORD ordering: the earlier delivery of the same record this one is held back behind (it goes once that one settles)."
      heldBehind: UUID
      createdAt: DateTime!
      "The JSON body sent to the endpoint."
      payload: String
      attempts: [DeliveryAttempt!]!
    }

    type WebhookDeliveryEdge {
      node: WebhookDelivery!
      cursor: String!
    }

    type WebhookDeliveryPageInfo {
      hasNextPage: Boolean!
      endCursor: String
    }

    type WebhookDeliveryConnection {
      edges: [WebhookDeliveryEdge!]!
      pageInfo: WebhookDeliveryPageInfo!
      totalCount: Int!
    }

    "The attempt made by sendTestWebhook with a sample event (not stored in the delivery log)."
    type TestWebhookAttempt {
      number: Int!
      startedAt: DateTime!
      durationMs: Int!
      statusCode: Int
      responseBody: String
      error: String
      requestHeaders: [HttpHeader!]!
      "The sample event's operation."
      operation: String!
      "The JSON body sent."
      payload: String!
    }

    type WebhookReplay {
      webhookId: UUID!
      since: DateTime!
      "The end of the window replayed: the one asked for, or earlier when a bound stopped the call (replay again from there)."
      until: DateTime!
      "How many deliveries were queued."
      queued: Int!
      "Set when since is earlier than the oldest events kept (now minus SWITCHBOARD_RETENTION): older events were removed and are not replayed."
      retainedSince: DateTime
    }

    type RecoverWebhookResult {
      webhookId: UUID!
      since: DateTime!
      "How many FAILED deliveries were queued again."
      queued: Int!
    }

    "Attempt figures of the last 24 hours (or of a series' window)."
    type WebhookStats {
      sent: Int!
      succeeded: Int!
      failed: Int!
      "succeeded / sent, from 0 to 1; null when nothing was sent."
      successRate: Float
      p50LatencyMs: Float
      p95LatencyMs: Float
      lastSuccessAt: DateTime
      lastFailureAt: DateTime
      "Events that matched the webhook's operations but not its filter or fields (no delivery), counted by the hour."
      filtered: Int!
    }

    enum WebhookSeriesWindow {
      "The last 24 hours."
      DAY
      "The last 7 days."
      WEEK
    }

    "One hour of attempts."
    type WebhookSeriesPoint {
      start: DateTime!
      "Attempts answered 2xx."
      succeeded: Int!
      "Attempts answered otherwise or not at all."
      failed: Int!
      p50LatencyMs: Float
      p95LatencyMs: Float
    }

    type WebhookSeries {
      window: WebhookSeriesWindow!
      since: DateTime!
      bucketSeconds: Int!
      "Figures over the whole window."
      stats: WebhookStats!
      "Hourly points, oldest first, every hour present (zero when nothing was sent)."
      points: [WebhookSeriesPoint!]!
    }

    extend type Webhook {
      stats: WebhookStats!
      "Attempt figures over a window; points are its newest \`first\` hours (at most the window's, ${MAX_SERIES_POINTS} at most)."
      series(window: WebhookSeriesWindow = DAY, first: Int = ${MAX_SERIES_POINTS}): WebhookSeries!
      "The newest delivery, if any."
      lastDelivery: WebhookDelivery
    }

    extend type Query {
      "One webhook's deliveries, newest first; each filter given narrows them (operation: exact, e.g. person.updated; createdAfter inclusive, createdBefore exclusive)."
      webhookDeliveries(
        webhookId: UUID!
        status: DeliveryStatus
        operation: String
        recordId: UUID
        eventId: UUID
        createdAfter: DateTime
        createdBefore: DateTime
        first: Int = ${DEFAULT_DELIVERY_PAGE_SIZE}
        after: String
      ): WebhookDeliveryConnection!
      webhookDelivery(id: UUID!): WebhookDelivery
      webhookStats(id: UUID!): WebhookStats!
    }

    extend type Mutation {
      "A new attempt now, whatever the delivery's status."
      redeliver(deliveryId: UUID!): WebhookDelivery!
      "Queues again every FAILED delivery of the webhook created since the given time."
      recoverWebhook(id: UUID!, since: DateTime!): RecoverWebhookResult!
      "Queues one delivery for every stored event in [since, until) that the webhook matches now, oldest first."
      replayWebhookEvents(id: UUID!, since: DateTime!, until: DateTime): WebhookReplay!
      "Signs and sends a sample event of the operation (default: from the webhook's operations) now."
      sendTestWebhook(id: UUID!, operation: String): TestWebhookAttempt!
    }
  `,
  resolvers: {
    DeliveryAttempt: { requestHeaders: headerList },
    TestWebhookAttempt: { requestHeaders: headerList },
    WebhookDelivery: {
      payload: (parent: DeliveryWithAttempts) => parent.payload ?? null,
      sending: (parent: DeliveryWithAttempts, _args, context) => context.services.deliveryLog.isSending(parent),
    },
    WebhookStats: {
      successRate: (parent: WebhookStatsRow) => (parent.sent === 0 ? null : parent.succeeded / parent.sent),
    },
    WebhookSeries: {
      stats: (parent: WebhookSeries) => parent.summary,
    },
    Webhook: {
      stats: async (parent: { id: string }, _args, context) => (await webhookSeries(context, parent.id, 'DAY', null)).summary,
      series: (parent: { id: string }, args: { window?: SeriesWindow | null; first?: number | null }, context) =>
        webhookSeries(context, parent.id, args.window ?? 'DAY', args.first),
      lastDelivery: async (parent: { id: string }, _args, context) =>
        (await loadForWebhook(context, 'lastDelivery', parent.id, (ids) => context.services.deliveryLog.latest(context.workspaceId, ids))) ??
        null,
    },
    Query: {
      webhookDeliveries: (
        _parent,
        args: {
          webhookId: string;
          status?: DeliveryStatus | null;
          operation?: string | null;
          recordId?: string | null;
          eventId?: string | null;
          createdAfter?: Date | null;
          createdBefore?: Date | null;
          first?: number | null;
          after?: string | null;
        },
        context,
      ) => context.services.deliveryLog.list(context.workspaceId, args),
      webhookDelivery: async (_parent, args: { id: string }, context) => {
        try {
          return await context.services.deliveryLog.get(context.workspaceId, args.id);
        } catch (error) {
          if ((error as { code?: string }).code === 'NOT_FOUND') return null;
          throw error;
        }
      },
      webhookStats: (_parent, args: { id: string }, context) => context.services.deliveryLog.stats(context.workspaceId, args.id),
    },
    Mutation: {
      redeliver: (_parent, args: { deliveryId: string }, context) =>
        context.services.deliveryLog.redeliver(context.workspaceId, args.deliveryId),
      sendTestWebhook: async (_parent, args: { id: string; operation?: string | null }, context) => {
        await context.takeTestSend();
        return context.services.deliveryLog.sendTest(context.workspaceId, args.id, args.operation);
      },
      replayWebhookEvents: (_parent, args: { id: string; since: Date; until?: Date | null }, context) =>
        context.services.deliveryLog.replay(context.workspaceId, args.id, args.since, args.until),
      recoverWebhook: async (_parent, args: { id: string; since: Date }, context) => ({
        webhookId: args.id,
        since: args.since,
        queued: await context.services.deliveryLog.recover(context.workspaceId, args.id, args.since),
      }),
    },
  },
};
