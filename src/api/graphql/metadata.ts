import { invalidInput } from '../../domain/errors.ts';
import { FIELD_TYPES } from '../../domain/field-types.ts';
import type { FieldMetadata, ObjectMetadata } from '../../domain/metadata.ts';
import type { ApiContext } from '../context.ts';
import { JSONScalar } from './scalars.ts';
import type { GraphQLModule } from './module.ts';

/** Most nodes one metadata list answers (Twenty's front-end asks for 1000). */
export const MAX_METADATA_PAGE = 1_000;

interface Paging {
  first?: number | null;
  after?: string | null;
}

interface UuidComparison {
  eq?: string | null;
  in?: string[] | null;
}
interface BooleanComparison {
  is?: boolean | null;
  isNot?: boolean | null;
}
interface MetadataFilter {
  id?: UuidComparison | null;
  isCustom?: BooleanComparison | null;
  isActive?: BooleanComparison | null;
  objectMetadataId?: UuidComparison | null;
}

function matchesUuid(value: string, comparison: UuidComparison | null | undefined): boolean {
  if (!comparison) return true;
  if (comparison.eq != null && comparison.eq !== value) return false;
  if (comparison.in != null && !comparison.in.includes(value)) return false;
  return true;
}

function matchesBoolean(value: boolean, comparison: BooleanComparison | null | undefined): boolean {
  if (!comparison) return true;
  if (comparison.is != null && comparison.is !== value) return false;
  if (comparison.isNot != null && comparison.isNot === value) return false;
  return true;
}

function applyFilter<T extends { id: string; isCustom: boolean; isActive: boolean; objectMetadataId?: string }>(
  items: readonly T[],
  filter: MetadataFilter | null | undefined,
): T[] {
  if (!filter) return [...items];
  return items.filter(
    (item) =>
      matchesUuid(item.id, filter.id) &&
      matchesBoolean(item.isCustom, filter.isCustom) &&
      matchesBoolean(item.isActive, filter.isActive) &&
      (item.objectMetadataId === undefined || matchesUuid(item.objectMetadataId, filter.objectMetadataId)),
  );
}

const encodeOffset = (offset: number) => Buffer.from(`offset:${offset}`).toString('base64url');

function decodeOffset(cursor: string, argument: string): number {
  const match = /^offset:(\d{1,9})$/.exec(Buffer.from(cursor, 'base64url').toString());
  if (!match) throw invalidInput(argument, 'is not a cursor this API gave');
  return Number(match[1]);
}

/** A page of a metadata list in Twenty's connection shape. */
function connection<T extends { id: string }>(items: readonly T[], paging: Paging | null | undefined, argument: string) {
  const first = paging?.first ?? MAX_METADATA_PAGE;
  if (!Number.isInteger(first) || first < 1 || first > MAX_METADATA_PAGE) {
    throw invalidInput(`${argument}.first`, `must be a whole number from 1 to ${MAX_METADATA_PAGE}`);
  }
  const start = paging?.after ? decodeOffset(paging.after, `${argument}.after`) + 1 : 0;
  const page = items.slice(start, start + first);
  const edges = page.map((node, index) => ({ node, cursor: encodeOffset(start + index) }));
  return {
    edges,
    totalCount: items.length,
    pageInfo: {
      hasNextPage: start + first < items.length,
      hasPreviousPage: start > 0,
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges.at(-1)?.cursor ?? null,
    },
  };
}

async function fieldsOf(context: ApiContext, objectId: string): Promise<FieldMetadata[]> {
  return (await context.services.metadata.listFields(context.workspaceId)).filter((field) => field.objectMetadataId === objectId);
}

/** Twenty's metadata API (CONTRACT.md section 9), typed so its front-end documents run unchanged. */
export const metadataModule: GraphQLModule = {
  typeDefs: /* GraphQL */ `
    enum FieldMetadataType {
      ${FIELD_TYPES.join('\n      ')}
    }

    type MetadataPageInfo {
      hasNextPage: Boolean!
      hasPreviousPage: Boolean!
      startCursor: String
      endCursor: String
    }

    input CursorPaging {
      first: Int
      after: String
    }

    input UUIDFilterComparison {
      eq: UUID
      in: [UUID!]
    }

    input BooleanFieldComparison {
      is: Boolean
      isNot: Boolean
    }

    input objectFilter {
      id: UUIDFilterComparison
      isCustom: BooleanFieldComparison
      isActive: BooleanFieldComparison
    }

    input fieldFilter {
      id: UUIDFilterComparison
      isCustom: BooleanFieldComparison
      isActive: BooleanFieldComparison
      objectMetadataId: UUIDFilterComparison
    }

    "An object of the workspace's data model: standard (person, company, opportunity) or custom."
    type Object {
      id: UUID!
      "Always null: every object lives in the workspace's own database."
      dataSourceId: String
      nameSingular: String!
      namePlural: String!
      labelSingular: String!
      labelPlural: String!
      description: String
      icon: String
      isCustom: Boolean!
      isRemote: Boolean!
      isActive: Boolean!
      isSystem: Boolean!
      isSearchable: Boolean!
      createdAt: DateTime!
      updatedAt: DateTime!
      labelIdentifierFieldMetadataId: UUID
      imageIdentifierFieldMetadataId: UUID
      shortcut: String
      isLabelSyncedWithName: Boolean!
      fields(paging: CursorPaging, filter: fieldFilter): FieldConnection!
      fieldsList: [Field!]!
    }

    type Field {
      id: UUID!
      objectMetadataId: UUID!
      type: FieldMetadataType!
      name: String!
      label: String!
      description: String
      icon: String
      isCustom: Boolean!
      isActive: Boolean!
      isSystem: Boolean!
      isUnique: Boolean!
      isNullable: Boolean!
      createdAt: DateTime!
      updatedAt: DateTime!
      settings: JSON
      defaultValue: JSON
      options: JSON
      isLabelSyncedWithName: Boolean!
      "For RELATION: the object that {name}Id points at."
      relationTargetObjectMetadataId: UUID
    }

    type ObjectEdge { node: Object! cursor: String! }
    type ObjectConnection { edges: [ObjectEdge!]! pageInfo: MetadataPageInfo! totalCount: Int! }
    type FieldEdge { node: Field! cursor: String! }
    type FieldConnection { edges: [FieldEdge!]! pageInfo: MetadataPageInfo! totalCount: Int! }

    input CreateObjectInput {
      nameSingular: String!
      namePlural: String!
      labelSingular: String!
      labelPlural: String!
      description: String
      icon: String
      shortcut: String
      isLabelSyncedWithName: Boolean
      isRemote: Boolean
      dataSourceId: String
    }
    input CreateOneObjectInput { object: CreateObjectInput! }

    input UpdateObjectPayload {
      labelSingular: String
      labelPlural: String
      nameSingular: String
      namePlural: String
      description: String
      icon: String
      shortcut: String
      isActive: Boolean
      labelIdentifierFieldMetadataId: UUID
      imageIdentifierFieldMetadataId: UUID
      isLabelSyncedWithName: Boolean
    }
    input UpdateOneObjectInput { id: UUID! update: UpdateObjectPayload! }
    input DeleteOneObjectInput { id: UUID! }

    input CreateFieldInput {
      objectMetadataId: UUID!
      type: FieldMetadataType!
      name: String!
      label: String!
      description: String
      icon: String
      isCustom: Boolean
      isActive: Boolean
      isNullable: Boolean
      isUnique: Boolean
      isLabelSyncedWithName: Boolean
      isRemoteCreation: Boolean
      defaultValue: JSON
      options: JSON
      settings: JSON
      "RELATION: { targetObjectMetadataId, targetFieldLabel, targetFieldIcon, type: MANY_TO_ONE }"
      relationCreationPayload: JSON
    }
    input CreateOneFieldMetadataInput { field: CreateFieldInput! }

    input UpdateFieldInput {
      name: String
      label: String
      description: String
      icon: String
      isActive: Boolean
      isNullable: Boolean
      isUnique: Boolean
      isLabelSyncedWithName: Boolean
      defaultValue: JSON
      options: JSON
      settings: JSON
    }
    input UpdateOneFieldMetadataInput { id: UUID! update: UpdateFieldInput! }
    input DeleteOneFieldInput { id: UUID! }

    extend type Query {
      objects(paging: CursorPaging, filter: objectFilter): ObjectConnection!
      "Null for an unknown id or another workspace's."
      object(id: UUID!): Object
      fields(paging: CursorPaging, filter: fieldFilter): FieldConnection!
      field(id: UUID!): Field
    }

    extend type Mutation {
      createOneObject(input: CreateOneObjectInput!): Object!
      "Labels, description, icon, isActive (a deactivated object leaves the API; its records are kept)."
      updateOneObject(input: UpdateOneObjectInput!): Object!
      "A deactivated custom object, with its fields and records (no events)."
      deleteOneObject(input: DeleteOneObjectInput!): Object!
      createOneField(input: CreateOneFieldMetadataInput!): Field!
      updateOneField(input: UpdateOneFieldMetadataInput!): Field!
      "A deactivated custom field, with its stored values."
      deleteOneField(input: DeleteOneFieldInput!): Field!
    }
  `,
  resolvers: {
    JSON: JSONScalar,
    Object: {
      dataSourceId: () => null,
      isRemote: () => false,
      isSystem: () => false,
      isSearchable: () => false,
      shortcut: () => null,
      labelIdentifierFieldMetadataId: () => null,
      imageIdentifierFieldMetadataId: () => null,
      fields: async (parent: ObjectMetadata, args: { paging?: Paging; filter?: MetadataFilter }, context) =>
        connection(applyFilter(await fieldsOf(context, parent.id), args.filter), args.paging, 'paging'),
      fieldsList: (parent: ObjectMetadata, _args, context) => fieldsOf(context, parent.id),
    },
    Field: {
      isSystem: () => false,
      isUnique: () => false,
    },
    Query: {
      objects: async (_parent, args: { paging?: Paging; filter?: MetadataFilter }, context) =>
        connection(applyFilter(await context.services.metadata.listObjects(context.workspaceId), args.filter), args.paging, 'paging'),
      object: async (_parent, args: { id: string }, context) =>
        (await context.services.metadata.findObject(context.workspaceId, args.id)) ?? null,
      fields: async (_parent, args: { paging?: Paging; filter?: MetadataFilter }, context) =>
        connection(applyFilter(await context.services.metadata.listFields(context.workspaceId), args.filter), args.paging, 'paging'),
      field: async (_parent, args: { id: string }, context) =>
        (await context.services.metadata.findField(context.workspaceId, args.id)) ?? null,
    },
    Mutation: {
      createOneObject: (_parent, args: { input: unknown }, context) => context.services.metadata.createObject(context.workspaceId, args.input),
      updateOneObject: (_parent, args: { input: { id: string; update: unknown } }, context) =>
        context.services.metadata.updateObject(context.workspaceId, args.input),
      deleteOneObject: (_parent, args: { input: { id: string } }, context) =>
        context.services.metadata.deleteObject(context.workspaceId, args.input),
      createOneField: (_parent, args: { input: unknown }, context) => context.services.metadata.createField(context.workspaceId, args.input),
      updateOneField: (_parent, args: { input: { id: string; update: unknown } }, context) =>
        context.services.metadata.updateField(context.workspaceId, args.input),
      deleteOneField: (_parent, args: { input: { id: string } }, context) =>
        context.services.metadata.deleteField(context.workspaceId, args.input),
    },
  },
};
