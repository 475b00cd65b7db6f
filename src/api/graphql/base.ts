import { DateTime, JSONScalar, UUID } from './scalars.ts';
import type { GraphQLModule } from './module.ts';

export const baseModule: GraphQLModule = {
  typeDefs: /* GraphQL */ `
    scalar UUID
    scalar DateTime
    scalar JSON

    type Workspace {
      id: UUID!
      name: String!
    }

    type Query {
      "The workspace of the API key making the call."
      currentWorkspace: Workspace!
    }

    type Mutation {
      _noop: Boolean
    }
  `,
  resolvers: {
    UUID,
    DateTime,
    JSON: JSONScalar,
    Query: {
      currentWorkspace: (_parent, _args, context) => context.services.workspaces.getWorkspace(context.workspaceId),
    },
  },
};
