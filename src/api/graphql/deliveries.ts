import type { DeliveryStatus } from '../../storage/schema.ts';
import { DEFAULT_DELIVERY_PAGE_SIZE, type AttemptRow, type DeliveryWithAttempts } from '../../delivery-log/service.ts';
import type { GraphQLModule } from './module.ts';

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
      "When the next attempt is due; null once SUCCEEDED or FAILED."
      nextAttemptAt: DateTime
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
    }

    type RecoverWebhookResult {
      webhookId: UUID!
      since: DateTime!
      "How many FAILED deliveries were queued again."
      queued: Int!
    }

    "Attempt figures of the last 24 hours."
    type WebhookStats {
      sent: Int!
      succeeded: Int!
      failed: Int!
      p50LatencyMs: Float
      p95LatencyMs: Float
      lastSuccessAt: DateTime
      lastFailureAt: DateTime
      "Events that matched the webhook's operations but not its filter or fields (no delivery), counted by the hour."
      filtered: Int!
    }

    extend type Webhook {
      stats: WebhookStats!
      "The newest delivery, if any."
      lastDelivery: WebhookDelivery
    }

    extend type Query {
      "One webhook's deliveries, newest first."
      webhookDeliveries(webhookId: UUID!, status: DeliveryStatus, first: Int = ${DEFAULT_DELIVERY_PAGE_SIZE}, after: String): WebhookDeliveryConnection!
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
    },
    Webhook: {
      stats: (parent: { id: string }, _args, context) => context.services.deliveryLog.stats(context.workspaceId, parent.id),
      lastDelivery: async (parent: { id: string }, _args, context) => {
        const page = await context.services.deliveryLog.list(context.workspaceId, { webhookId: parent.id, first: 1 });
        return page.edges[0]?.node ?? null;
      },
    },
    Query: {
      webhookDeliveries: (
        _parent,
        args: { webhookId: string; status?: DeliveryStatus | null; first?: number | null; after?: string | null },
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
