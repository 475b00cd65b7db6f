import type { GraphQLModule } from './module.ts';

export const apiKeysModule: GraphQLModule = {
  typeDefs: /* GraphQL */ `
    type ApiKey {
      id: UUID!
      name: String!
      "The first characters of the key, to tell keys apart."
      keyPrefix: String!
      "The plain key: only in the answer to createApiKey, else null."
      key: String
      createdAt: DateTime!
      lastUsedAt: DateTime
      revokedAt: DateTime
    }

    extend type Query {
      apiKeys: [ApiKey!]!
    }

    extend type Mutation {
      createApiKey(name: String): ApiKey!
      revokeApiKey(id: UUID!): ApiKey!
    }
  `,
  resolvers: {
    ApiKey: {
      key: (parent: { key?: string }) => parent.key ?? null,
    },
    Query: {
      apiKeys: (_parent, _args, context) => context.services.workspaces.listApiKeys(context.workspaceId),
    },
    Mutation: {
      createApiKey: (_parent, args: { name?: string | null }, context) =>
        context.services.workspaces.createApiKey(context.workspaceId, args.name ?? ''),
      revokeApiKey: (_parent, args: { id: string }, context) =>
        context.services.workspaces.revokeApiKey(context.workspaceId, args.id),
    },
  },
};
