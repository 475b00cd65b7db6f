import { OBJECT_NAMES, OBJECTS, type FieldKind, type ObjectSpec } from '../../domain/records.ts';
import { DEFAULT_PAGE_SIZE } from '../../records/service.ts';
import type { FieldResolvers, GraphQLModule } from './module.ts';

const GRAPHQL_TYPE: Record<FieldKind, string> = {
  text: 'String',
  email: 'String',
  integer: 'Int',
  number: 'Float',
  datetime: 'DateTime',
  reference: 'UUID',
};

function capitalise(name: string): string {
  return name.charAt(0).toUpperCase() + name.slice(1);
}

function typeDefsFor(object: ObjectSpec): string {
  const { typeName: type, typeNamePlural: plural, nameSingular: one, namePlural: many } = object;
  const fields = object.fields.map((field) => `${field.name}: ${GRAPHQL_TYPE[field.kind]}`).join('\n      ');
  return /* GraphQL */ `
    type ${type} {
      id: UUID!
      ${fields}
      createdAt: DateTime!
      updatedAt: DateTime!
      "Set when soft-deleted (delete${type}); cleared by restore${type}."
      deletedAt: DateTime
    }
    type ${type}Edge { node: ${type}! cursor: String! }
    type ${type}Connection { edges: [${type}Edge!]! pageInfo: PageInfo! totalCount: Int! }
    input ${type}CreateInput {
      "Optional: a UUID chosen by the client."
      id: UUID
      ${fields}
    }
    input ${type}UpdateInput {
      ${fields}
    }

    extend type Query {
      "A ${one}, soft-deleted or not."
      ${one}(id: UUID!): ${type}
      "${capitalise(many)} oldest first; soft-deleted ones only with includeDeleted."
      ${many}(first: Int = ${DEFAULT_PAGE_SIZE}, after: String, includeDeleted: Boolean): ${type}Connection!
    }

    extend type Mutation {
      create${type}(data: ${type}CreateInput!): ${type}!
      "All or nothing, one ${one}.created event per record."
      create${plural}(data: [${type}CreateInput!]!): [${type}!]!
      update${type}(id: UUID!, data: ${type}UpdateInput!): ${type}!
      "Soft delete: sets deletedAt."
      delete${type}(id: UUID!): ${type}!
      restore${type}(id: UUID!): ${type}!
      "Hard delete, answering the last state. Refused while other records reference this one."
      destroy${type}(id: UUID!): ${type}!
    }
  `;
}

function resolversFor(object: ObjectSpec): { Query: FieldResolvers; Mutation: FieldResolvers } {
  const { typeName: type, typeNamePlural: plural, nameSingular: name } = object;
  return {
    Query: {
      [name]: (_parent, args: { id: string }, context) => context.services.records.get(context.workspaceId, name, args.id),
      [object.namePlural]: (_parent, args: { first?: number; after?: string; includeDeleted?: boolean }, context) =>
        context.services.records.list(context.workspaceId, name, args),
    },
    Mutation: {
      [`create${type}`]: (_parent, args: { data: unknown }, context) =>
        context.services.records.create(context.workspaceId, name, args.data),
      [`create${plural}`]: (_parent, args: { data: unknown }, context) =>
        context.services.records.createMany(context.workspaceId, name, args.data),
      [`update${type}`]: (_parent, args: { id: string; data: unknown }, context) =>
        context.services.records.update(context.workspaceId, name, args.id, args.data),
      [`delete${type}`]: (_parent, args: { id: string }, context) =>
        context.services.records.softDelete(context.workspaceId, name, args.id),
      [`restore${type}`]: (_parent, args: { id: string }, context) =>
        context.services.records.restore(context.workspaceId, name, args.id),
      [`destroy${type}`]: (_parent, args: { id: string }, context) =>
        context.services.records.destroy(context.workspaceId, name, args.id),
    },
  };
}

const perObject = OBJECT_NAMES.map((name) => resolversFor(OBJECTS[name]));

/** People, companies and opportunities with Twenty's operation names (CONTRACT.md section 3). */
export const recordsModule: GraphQLModule = {
  typeDefs: [
    /* GraphQL */ `type PageInfo { hasNextPage: Boolean! endCursor: String }`,
    ...OBJECT_NAMES.map((name) => typeDefsFor(OBJECTS[name])),
  ].join('\n'),
  resolvers: {
    Query: Object.assign({}, ...perObject.map((resolvers) => resolvers.Query)),
    Mutation: Object.assign({}, ...perObject.map((resolvers) => resolvers.Mutation)),
  },
};
