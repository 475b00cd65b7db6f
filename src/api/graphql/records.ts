import type { FieldType } from '../../domain/field-types.ts';
import { capitalise, filterDescriptors } from '../../domain/metadata.ts';
import { OBJECT_NAMES, OBJECTS, type FieldKind, type FieldSpec, type ObjectSpec } from '../../domain/records.ts';
import { DEFAULT_PAGE_SIZE } from '../../records/service.ts';
import type { FieldResolvers, GraphQLModule } from './module.ts';

const GRAPHQL_TYPE: Record<FieldKind, string> = {
  text: 'String',
  email: 'String',
  integer: 'Int',
  number: 'Float',
  datetime: 'DateTime',
  reference: 'UUID',
  boolean: 'Boolean',
  date: 'String',
  select: 'String',
  multiSelect: '[String!]',
  currency: 'Currency',
  json: 'JSON',
  uuid: 'UUID',
};

function fieldType(field: FieldSpec, input: boolean): string {
  return input && field.kind === 'currency' ? 'CurrencyInput' : GRAPHQL_TYPE[field.kind];
}

function describeField(field: FieldSpec): string {
  if (field.kind === 'select' || field.kind === 'multiSelect') return `"One of: ${(field.options ?? []).join(', ')}" `;
  if (field.kind === 'date') return '"A calendar day, YYYY-MM-DD." ';
  return '';
}

const FILTER_TYPE: Record<FieldType, string> = {
  TEXT: 'StringFilter',
  NUMBER: 'FloatFilter',
  BOOLEAN: 'BooleanFilter',
  DATE_TIME: 'DateFilter',
  DATE: 'DateFilter',
  SELECT: 'SelectFilter',
  MULTI_SELECT: 'MultiSelectFilter',
  CURRENCY: 'CurrencyFilter',
  RAW_JSON: 'RawJsonFilter',
  UUID: 'UUIDFilter',
  RELATION: 'UUIDFilter',
};
const UNORDERED_TYPES = new Set<FieldType>(['MULTI_SELECT', 'RAW_JSON']);

function filterTypeDefsFor(object: ObjectSpec): string {
  const fields = filterDescriptors(object);
  const { typeName: type } = object;
  return /* GraphQL */ `
    "Twenty's list filter: conditions on fields, joined with and / or / not."
    input ${type}FilterInput {
      and: [${type}FilterInput!]
      or: [${type}FilterInput!]
      not: ${type}FilterInput
      ${fields.map((field) => `${field.name}: ${FILTER_TYPE[field.type]}`).join('\n      ')}
    }
    input ${type}OrderByInput {
      ${fields.filter((field) => !UNORDERED_TYPES.has(field.type)).map((field) => `${field.name}: OrderByDirection`).join('\n      ')}
    }
  `;
}

function typeDefsFor(object: ObjectSpec): string {
  const { typeName: type, typeNamePlural: plural, nameSingular: one, namePlural: many } = object;
  const fields = (input: boolean) =>
    object.fields.map((field) => `${describeField(field)}${field.name}: ${fieldType(field, input)}`).join('\n      ');
  return /* GraphQL */ `
    type ${type} {
      id: UUID!
      ${fields(false)}
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
      ${fields(true)}
    }
    ${object.fields.length > 0 ? `input ${type}UpdateInput {\n      ${fields(true)}\n    }` : `"${type} has no fields to update yet." input ${type}UpdateInput { _: Boolean }`}

    extend type Query {
      "A ${one}, soft-deleted or not."
      ${one}(id: UUID!): ${type}
      "${capitalise(many)} in orderBy's order, then oldest first; soft-deleted ones only with includeDeleted."
      ${many}(filter: ${type}FilterInput, orderBy: [${type}OrderByInput!], first: Int = ${DEFAULT_PAGE_SIZE}, after: String, includeDeleted: Boolean): ${type}Connection!
    }
    ${filterTypeDefsFor(object)}

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
      [object.namePlural]: (
        _parent,
        args: { filter?: unknown; orderBy?: unknown; first?: number; after?: string; includeDeleted?: boolean },
        context,
      ) =>
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

/**
 * The record API of the given objects with Twenty's operation names (CONTRACT.md sections 3 and 9): generated
 * from a workspace's data model, custom objects and custom fields included.
 */
export function recordsModule(objects: readonly ObjectSpec[]): GraphQLModule {
  const perObject = objects.map(resolversFor);
  return {
    typeDefs: [
      /* GraphQL */ `
      type PageInfo { hasNextPage: Boolean! endCursor: String }
      "A CURRENCY field's value."
      type Currency { "Millionths of the unit: 12.50 is 12500000." amountMicros: Float currencyCode: String }
      input CurrencyInput { amountMicros: Float "ISO 4217, e.g. EUR." currencyCode: String }
      enum FilterIs { NULL NOT_NULL }
      enum OrderByDirection { AscNullsFirst AscNullsLast DescNullsFirst DescNullsLast }
      input StringFilter { eq: String neq: String in: [String!] gt: String gte: String lt: String lte: String like: String ilike: String is: FilterIs }
      input FloatFilter { eq: Float neq: Float in: [Float!] gt: Float gte: Float lt: Float lte: Float is: FilterIs }
      input BooleanFilter { eq: Boolean neq: Boolean is: FilterIs }
      "Instants in ISO 8601 (a DATE is its day's midnight UTC)."
      input DateFilter { eq: String neq: String in: [String!] gt: String gte: String lt: String lte: String is: FilterIs }
      input SelectFilter { eq: String neq: String in: [String!] is: FilterIs }
      input MultiSelectFilter { containsAny: [String!] is: FilterIs }
      input CurrencyFilter { amountMicros: FloatFilter currencyCode: StringFilter }
      input RawJsonFilter { is: FilterIs }
      input UUIDFilter { eq: UUID neq: UUID in: [UUID!] is: FilterIs }
      `,
      ...objects.map(typeDefsFor),
    ].join('\n'),
    resolvers: {
      Query: Object.assign({}, ...perObject.map((resolvers) => resolvers.Query)),
      Mutation: Object.assign({}, ...perObject.map((resolvers) => resolvers.Mutation)),
    },
  };
}

/** The standard objects without custom fields: the record API every workspace starts with. */
export const standardRecordsModule: GraphQLModule = recordsModule(OBJECT_NAMES.map((name) => OBJECTS[name]));
