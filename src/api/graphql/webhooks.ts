import type { GraphQLModule } from './module.ts';
import { noteListedWebhooks } from './webhook-batch.ts';
import type { CreateWebhookInput, UpdateWebhookInput } from '../../webhooks/service.ts';

/** Webhook management, typed as CONTRACT.md section 3 so Twenty's front-end documents run unchanged. */
export const webhooksModule: GraphQLModule = {
  typeDefs: /* GraphQL */ `
    enum WebhookStatus {
      ACTIVE
      DISABLED
    }

    "NONE: deliveries go as they can (fastest). PER_RECORD: one record's deliveries go strictly in commit order."
    enum WebhookOrdering {
      NONE
      PER_RECORD
    }

    type Webhook {
      id: UUID!
      targetUrl: String!
      "Patterns {object}.{action}, where either part may be *."
      operations: [String!]!
      description: String
      "The plain secret: only in the answer to createWebhook / rotateWebhookSecret, else null."
      secret: String
      status: WebhookStatus!
      "A record filter in the list filter grammar; only events whose record matches are delivered. Null: every record."
      filter: JSON
      "For updated events: delivered only when one of these fields changed. Null: any change."
      fields: [String!]
      ordering: WebhookOrdering!
      "Why the webhook is DISABLED: GONE_410 (its endpoint answered 410), FAILING_5_DAYS, or BY_USER. Null while ACTIVE."
      disabledReason: String
      "When it was disabled. Null while ACTIVE."
      disabledAt: DateTime
      createdAt: DateTime!
      updatedAt: DateTime!
      deletedAt: DateTime
    }

    input CreateWebhookInput {
      id: UUID
      targetUrl: String!
      operations: [String!]
      description: String
      secret: String
      filter: JSON
      fields: [String!]
      ordering: WebhookOrdering
    }

    "Flat fields (seed) or update (Twenty); a field given in both must agree."
    input UpdateWebhookInput {
      id: UUID!
      targetUrl: String
      operations: [String!]
      description: String
      status: WebhookStatus
      filter: JSON
      fields: [String!]
      ordering: WebhookOrdering
      update: WebhookUpdateInput
    }

    input WebhookUpdateInput {
      targetUrl: String
      operations: [String!]
      description: String
      "Replaces the secret at once (rotateWebhookSecret keeps the old one valid for 24 h)."
      secret: String
      filter: JSON
      fields: [String!]
      ordering: WebhookOrdering
    }

    extend type Query {
      webhooks: [Webhook!]!
      "Null for an unknown, deleted or another workspace's id."
      webhook(id: UUID!): Webhook
    }

    extend type Mutation {
      createWebhook(input: CreateWebhookInput!): Webhook!
      updateWebhook(input: UpdateWebhookInput!): Webhook!
      deleteWebhook(id: UUID!): Webhook!
      rotateWebhookSecret(id: UUID!): Webhook!
    }
  `,
  resolvers: {
    Webhook: {
      secret: (parent: { secret?: string | null }) => parent.secret ?? null,
    },
    Query: {
      webhooks: async (_parent, _args, context) => {
        const webhooks = await context.services.webhooks.list(context.workspaceId);
        noteListedWebhooks(context, webhooks.map((webhook) => webhook.id));
        return webhooks;
      },
      webhook: async (_parent, args: { id: string }, context) => {
        const webhook = await context.services.webhooks.find(context.workspaceId, args.id);
        if (webhook) noteListedWebhooks(context, [webhook.id]);
        return webhook ?? null;
      },
    },
    Mutation: {
      createWebhook: (_parent, args: { input: CreateWebhookInput }, context) =>
        context.services.webhooks.create(context.workspaceId, args.input),
      updateWebhook: (_parent, args: { input: UpdateWebhookInput }, context) =>
        context.services.webhooks.update(context.workspaceId, args.input),
      deleteWebhook: (_parent, args: { id: string }, context) => context.services.webhooks.delete(context.workspaceId, args.id),
      rotateWebhookSecret: (_parent, args: { id: string }, context) =>
        context.services.webhooks.rotateSecret(context.workspaceId, args.id),
    },
  },
};
