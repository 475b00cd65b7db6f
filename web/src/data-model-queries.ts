import { graphql } from './api.ts';

/** The data model's GraphQL documents (Twenty's metadata API, contract §9) and the shapes the pages use. */

// One list of field types for the server and the UI: the domain module is pure, so the UI bundles it as is.
export { FIELD_TYPES, type FieldType } from '../../src/domain/field-types.ts';
import type { FieldType } from '../../src/domain/field-types.ts';

export const FIELD_TYPE_LABELS: Record<FieldType, string> = {
  TEXT: 'Text',
  NUMBER: 'Number',
  BOOLEAN: 'True/False',
  DATE_TIME: 'Date and time',
  DATE: 'Date',
  SELECT: 'Select',
  MULTI_SELECT: 'Multi-select',
  CURRENCY: 'Currency',
  RAW_JSON: 'JSON',
  UUID: 'UUID',
  RELATION: 'Relation (many-to-one)',
};

export interface FieldOption {
  id?: string;
  value: string;
  label: string;
  color: string | null;
  position: number;
}

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

export interface DataField {
  id: string;
  objectMetadataId: string;
  type: FieldType;
  name: string;
  label: string;
  description: string | null;
  isCustom: boolean;
  isActive: boolean;
  isNullable: boolean;
  defaultValue: JsonValue;
  options: FieldOption[] | null;
  relationTargetObjectMetadataId: string | null;
}

export interface DataObject {
  id: string;
  nameSingular: string;
  namePlural: string;
  labelSingular: string;
  labelPlural: string;
  description: string | null;
  isCustom: boolean;
  isActive: boolean;
  fields: DataField[];
}

const OBJECT_SELECTION = 'id nameSingular namePlural labelSingular labelPlural description isCustom isActive';
const FIELD_SELECTION = 'id objectMetadataId type name label description isCustom isActive isNullable defaultValue options relationTargetObjectMetadataId';

/** Most objects a workspace may have: 3 standard ones and 100 custom ones. */
const OBJECTS_PAGE = 110;
/** Fields are read in pages of this many (an object may have 200, a workspace a hundred objects). */
const FIELDS_PAGE = 1000;

interface Connection<T> {
  edges: Array<{ node: T; cursor: string }>;
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
}

/** Every object of the workspace (standard first, then custom in creation order) with its fields. */
export async function fetchDataModel(): Promise<DataObject[]> {
  const { objects } = await graphql<{ objects: Connection<Omit<DataObject, 'fields'>> }>(
    `query DataModelObjects { objects(paging: { first: ${OBJECTS_PAGE} }) { edges { node { ${OBJECT_SELECTION} } cursor } pageInfo { hasNextPage endCursor } } }`,
  );
  const fields: DataField[] = [];
  let after: string | null = null;
  for (;;) {
    const page: { fields: Connection<DataField> } = await graphql(
      `query DataModelFields($after: String) { fields(paging: { first: ${FIELDS_PAGE}, after: $after }) { edges { node { ${FIELD_SELECTION} } cursor } pageInfo { hasNextPage endCursor } } }`,
      { after },
    );
    fields.push(...page.fields.edges.map((edge) => edge.node));
    if (!page.fields.pageInfo.hasNextPage || !page.fields.pageInfo.endCursor) break;
    after = page.fields.pageInfo.endCursor;
  }
  return objects.edges.map(({ node }) => ({ ...node, fields: fields.filter((field) => field.objectMetadataId === node.id) }));
}

export interface NewObjectInput {
  nameSingular: string;
  namePlural: string;
  labelSingular: string;
  labelPlural: string;
  description: string | null;
}

export async function createObject(object: NewObjectInput): Promise<Omit<DataObject, 'fields'>> {
  const data = await graphql<{ createOneObject: Omit<DataObject, 'fields'> }>(
    `mutation CreateOneObject($input: CreateOneObjectInput!) { createOneObject(input: $input) { ${OBJECT_SELECTION} } }`,
    { input: { object } },
  );
  return data.createOneObject;
}

export interface ObjectUpdate {
  labelSingular?: string;
  labelPlural?: string;
  description?: string | null;
  isActive?: boolean;
}

export async function updateObject(id: string, update: ObjectUpdate): Promise<Omit<DataObject, 'fields'>> {
  const data = await graphql<{ updateOneObject: Omit<DataObject, 'fields'> }>(
    `mutation UpdateOneObject($input: UpdateOneObjectInput!) { updateOneObject(input: $input) { ${OBJECT_SELECTION} } }`,
    { input: { id, update } },
  );
  return data.updateOneObject;
}

export async function deleteObject(id: string): Promise<void> {
  await graphql(`mutation DeleteOneObject($input: DeleteOneObjectInput!) { deleteOneObject(input: $input) { id } }`, { input: { id } });
}

export interface NewFieldInput {
  objectMetadataId: string;
  type: FieldType;
  name: string;
  label: string;
  description: string | null;
  isNullable: boolean;
  defaultValue?: JsonValue;
  options?: Array<Omit<FieldOption, 'id'>>;
  relationCreationPayload?: { targetObjectMetadataId: string; type: 'MANY_TO_ONE' };
}

export async function createField(field: NewFieldInput): Promise<DataField> {
  const data = await graphql<{ createOneField: DataField }>(
    `mutation CreateOneField($input: CreateOneFieldMetadataInput!) { createOneField(input: $input) { ${FIELD_SELECTION} } }`,
    { input: { field } },
  );
  return data.createOneField;
}

export interface FieldUpdate {
  label?: string;
  description?: string | null;
  isActive?: boolean;
  isNullable?: boolean;
  defaultValue?: JsonValue;
  options?: FieldOption[];
}

export async function updateField(id: string, update: FieldUpdate): Promise<DataField> {
  const data = await graphql<{ updateOneField: DataField }>(
    `mutation UpdateOneField($input: UpdateOneFieldMetadataInput!) { updateOneField(input: $input) { ${FIELD_SELECTION} } }`,
    { input: { id, update } },
  );
  return data.updateOneField;
}

export async function deleteField(id: string): Promise<void> {
  await graphql(`mutation DeleteOneField($input: DeleteOneFieldInput!) { deleteOneField(input: $input) { id } }`, { input: { id } });
}
