import { createHash } from 'node:crypto';
import { invalidInput } from './errors.ts';
import { FIELD_TYPES, type FieldDescriptor, type FieldType } from './field-types.ts';
import { SYSTEM_FIELD_DESCRIPTORS } from './record-filter.ts';
import {
  isUuid,
  OBJECT_NAMES,
  OBJECTS,
  SHORT_TEXT_MAX,
  SYSTEM_FIELDS,
  validateFieldValue,
  type FieldKind,
  type FieldSpec,
  type FieldValue,
  type ObjectSpec,
  type StandardObjectName,
} from './records.ts';

/**
 * Twenty's data model: a workspace's objects (the standard person, company and opportunity, and custom ones) and
 * their fields, how metadata input is validated, and how the metadata becomes the ObjectSpecs that the records
 * service and the generated APIs work from.
 */

export interface ObjectMetadata {
  id: string;
  workspaceId: string;
  nameSingular: string;
  namePlural: string;
  labelSingular: string;
  labelPlural: string;
  description: string | null;
  icon: string | null;
  isCustom: boolean;
  isActive: boolean;
  isLabelSyncedWithName: boolean;
  createdAt: Date;
  updatedAt: Date;
}

export interface FieldOption {
  id: string;
  value: string;
  label: string;
  color: string | null;
  position: number;
}

export interface FieldMetadata {
  id: string;
  workspaceId: string;
  objectMetadataId: string;
  type: FieldType;
  name: string;
  label: string;
  description: string | null;
  icon: string | null;
  isCustom: boolean;
  isActive: boolean;
  isNullable: boolean;
  isLabelSyncedWithName: boolean;
  defaultValue: FieldValue | null;
  options: FieldOption[] | null;
  settings: Record<string, FieldValue> | null;
  /** For RELATION: the object its `{name}Id` points at (many-to-one). */
  relationTargetObjectMetadataId: string | null;
  createdAt: Date;
  updatedAt: Date;
}

/** A workspace's whole data model at one metadata version. */
export interface WorkspaceMetadata {
  workspaceId: string;
  version: number;
  objects: ObjectMetadata[];
  fields: FieldMetadata[];
}

export const MAX_NAME_LENGTH = 63;
export const MAX_LABEL_LENGTH = 255;
export const MAX_DESCRIPTION_LENGTH = 1_000;
export const MAX_ICON_LENGTH = 100;
export const MAX_OPTIONS = 200;
export const MAX_SETTINGS_BYTES = 8 * 1024;
/** Custom objects per workspace and fields per object: each one is schema every request of the workspace carries. */
export const MAX_CUSTOM_OBJECTS = 100;
export const MAX_FIELDS_PER_OBJECT = 200;

const CAMEL_CASE = /^[a-z][a-zA-Z0-9]*$/;
const OPTION_VALUE = /^[A-Za-z0-9_]{1,63}$/;

/**
 * Names no field may take: the record's system fields, the filter grammar's combinators, GraphQL's and SQL's
 * words that clients and generated code trip over.
 */
const RESERVED_FIELD_NAMES = new Set([
  ...SYSTEM_FIELDS,
  'and',
  'or',
  'not',
  'data',
  'filter',
  'orderBy',
  'first',
  'after',
  'cursor',
  'node',
  'edges',
  'pageInfo',
  'totalCount',
  'includeDeleted',
  'workspaceId',
  'objectMetadataId',
  'custom',
  'type',
  'query',
  'mutation',
  'subscription',
  'fragment',
  'on',
  'true',
  'false',
  'null',
  'select',
  'from',
  'where',
  'table',
  'order',
  'group',
  'limit',
  'offset',
  'user',
]);

/**
 * GraphQL types and root fields of the API outside the generated record API: an object whose generated names
 * (e.g. `Webhook`, `webhooks`) met one of these would break the schema. test/domain/metadata.test.ts checks that
 * these lists cover the static schema.
 */
export const STATIC_TYPE_NAMES = new Set([
  'Query', 'Mutation', 'Subscription', 'UUID', 'DateTime', 'JSON', 'String', 'Int', 'Float', 'Boolean', 'ID',
  'Workspace', 'ApiKey', 'Webhook', 'WebhookStatus', 'CreateWebhookInput', 'UpdateWebhookInput', 'WebhookUpdateInput',
  'DeliveryStatus', 'HttpHeader', 'DeliveryAttempt', 'WebhookDelivery', 'WebhookDeliveryEdge', 'WebhookDeliveryPageInfo',
  'WebhookDeliveryConnection', 'TestWebhookAttempt', 'RecoverWebhookResult', 'WebhookStats', 'WebhookOrdering', 'WebhookReplay',
  'WebhookSeriesWindow', 'WebhookSeriesPoint', 'WebhookSeries', 'PageInfo', 'Currency',
  'CurrencyInput', 'OrderByDirection', 'FilterIs', 'StringFilter', 'FloatFilter', 'BooleanFilter', 'DateFilter',
  'SelectFilter', 'MultiSelectFilter', 'CurrencyFilter', 'RawJsonFilter', 'UUIDFilter', 'Object', 'Field', 'ObjectEdge', 'FieldEdge', 'ObjectConnection',
  'FieldConnection', 'MetadataPageInfo',
  'CreateOneObjectInput', 'CreateObjectInput', 'UpdateOneObjectInput', 'UpdateObjectPayload', 'DeleteOneObjectInput',
  'CreateOneFieldMetadataInput', 'CreateFieldInput', 'UpdateOneFieldMetadataInput', 'UpdateFieldInput',
  'DeleteOneFieldInput', 'objectFilter', 'fieldFilter', 'FieldMetadataType', 'CursorPaging', 'UUIDFilterComparison',
  'BooleanFieldComparison',
]);

export const STATIC_ROOT_FIELDS = new Set([
  'currentWorkspace', 'apiKeys', 'createApiKey', 'revokeApiKey', 'webhooks', 'webhook', 'createWebhook', 'updateWebhook',
  'deleteWebhook', 'rotateWebhookSecret', 'webhookDeliveries', 'webhookDelivery', 'webhookStats', 'redeliver',
  'recoverWebhook', 'sendTestWebhook', 'replayWebhookEvents', '_noop', 'objects', 'object', 'fields', 'field',
  'createOneObject', 'updateOneObject', 'deleteOneObject', 'createOneField', 'updateOneField', 'deleteOneField',
]);

/** Plural names that are REST paths of their own under /rest. */
const RESERVED_REST_NAMES = new Set(['webhooks', 'batch', 'openapi', 'metadata', 'apiKeys', 'events', 'deliveries']);

export function capitalise(name: string): string {
  return name.charAt(0).toUpperCase() + name.slice(1);
}

/** The GraphQL type names and root fields the record API generates for an object. */
export function generatedNames(nameSingular: string, namePlural: string): { types: string[]; rootFields: string[] } {
  const type = capitalise(nameSingular);
  const plural = capitalise(namePlural);
  return {
    types: [type, `${type}Edge`, `${type}Connection`, `${type}CreateInput`, `${type}UpdateInput`, `${type}FilterInput`, `${type}OrderByInput`],
    rootFields: [nameSingular, namePlural, ...['create', 'update', 'delete', 'restore', 'destroy'].map((verb) => `${verb}${type}`), `create${plural}`],
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Standard objects: described by code, with ids derived from the workspace so they are stable and need no rows.

/** A UUID (version 5 layout) derived from a name: the same name always gives the same id. */
export function derivedUuid(name: string): string {
  const bytes = createHash('sha1').update(`switchboard:${name}`).digest().subarray(0, 16);
  bytes[6] = (bytes[6]! & 0x0f) | 0x50;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

const STANDARD_LABELS: Record<StandardObjectName, [string, string, string]> = {
  person: ['Person', 'People', 'IconUser'],
  company: ['Company', 'Companies', 'IconBuildingSkyscraper'],
  opportunity: ['Opportunity', 'Opportunities', 'IconTargetArrow'],
};

function humanise(name: string): string {
  const words = name.replace(/Id$/, '').replace(/([a-z0-9])([A-Z])/g, '$1 $2');
  return capitalise(words.toLowerCase());
}

/** The metadata name of a standard field: a relation is named without its `Id` (Twenty's `company` stores `companyId`). */
function standardFieldName(field: FieldSpec): string {
  return field.kind === 'reference' ? field.name.replace(/Id$/, '') : field.name;
}

/** The standard objects and fields of a workspace, as the metadata API shows them (isCustom false). */
export function standardMetadata(workspaceId: string, createdAt: Date): { objects: ObjectMetadata[]; fields: FieldMetadata[] } {
  const objectId = (name: string) => derivedUuid(`${workspaceId}/object/${name}`);
  const objects = OBJECT_NAMES.map((name): ObjectMetadata => {
    const spec = OBJECTS[name];
    const [labelSingular, labelPlural, icon] = STANDARD_LABELS[name];
    return {
      id: objectId(name),
      workspaceId,
      nameSingular: spec.nameSingular,
      namePlural: spec.namePlural,
      labelSingular,
      labelPlural,
      description: null,
      icon,
      isCustom: false,
      isActive: true,
      isLabelSyncedWithName: false,
      createdAt,
      updatedAt: createdAt,
    };
  });
  const fields = OBJECT_NAMES.flatMap((name) =>
    OBJECTS[name].fields.map((field): FieldMetadata => ({
      id: derivedUuid(`${workspaceId}/field/${name}/${field.name}`),
      workspaceId,
      objectMetadataId: objectId(name),
      type: field.type,
      name: standardFieldName(field),
      label: humanise(field.name),
      description: null,
      icon: null,
      isCustom: false,
      isActive: true,
      isNullable: true,
      isLabelSyncedWithName: false,
      defaultValue: null,
      options: null,
      settings: null,
      relationTargetObjectMetadataId: field.references ? objectId(field.references) : null,
      createdAt,
      updatedAt: createdAt,
    })),
  );
  return { objects, fields };
}

// ---------------------------------------------------------------------------------------------------------------
// Metadata → ObjectSpec

const KIND_OF: Record<FieldType, FieldKind> = {
  TEXT: 'text',
  NUMBER: 'number',
  BOOLEAN: 'boolean',
  DATE_TIME: 'datetime',
  DATE: 'date',
  SELECT: 'select',
  MULTI_SELECT: 'multiSelect',
  CURRENCY: 'currency',
  RAW_JSON: 'json',
  UUID: 'uuid',
  RELATION: 'reference',
};

/** The API name of a field: a relation's value is its target's id, `{name}Id`. */
export function apiFieldName(field: Pick<FieldMetadata, 'name' | 'type'>): string {
  return field.type === 'RELATION' ? `${field.name}Id` : field.name;
}

/** The spec of a custom field (kept in the record's jsonb document), for validation and reading. */
export function customFieldSpec(field: FieldMetadata, objectsById: ReadonlyMap<string, ObjectMetadata>): FieldSpec {
  return {
    name: apiFieldName(field),
    kind: KIND_OF[field.type],
    type: field.type,
    maxLength: field.type === 'TEXT' ? SHORT_TEXT_MAX * 10 : undefined,
    references: field.relationTargetObjectMetadataId
      ? objectsById.get(field.relationTargetObjectMetadataId)?.nameSingular
      : undefined,
    options: field.options?.map((option) => option.value),
    nullable: field.isNullable,
    defaultValue: field.defaultValue ?? undefined,
  };
}

/**
 * The ObjectSpecs of a workspace's active objects with their active fields: standard fields first (their
 * columns), then custom fields in creation order.
 */
export function objectSpecs(metadata: WorkspaceMetadata): ObjectSpec[] {
  const objectsById = new Map(metadata.objects.map((object) => [object.id, object]));
  return specsOf(
    metadata,
    metadata.objects.filter((object) => object.isActive),
    (field) =>
      field.isActive &&
      // A relation to a deactivated object keeps its stored ids but leaves the API with its target.
      (field.type !== 'RELATION' || objectsById.get(field.relationTargetObjectMetadataId ?? '')?.isActive === true),
  );
}

/**
 * The ObjectSpecs of every object of a workspace, active or not, with every field, active or not: what stored
 * webhook filters were saved against (see webhook-screen.ts).
 */
export function allObjectSpecs(metadata: WorkspaceMetadata): ObjectSpec[] {
  return specsOf(metadata, metadata.objects, () => true);
}

function specsOf(metadata: WorkspaceMetadata, objects: readonly ObjectMetadata[], keepField: (field: FieldMetadata) => boolean): ObjectSpec[] {
  const objectsById = new Map(metadata.objects.map((object) => [object.id, object]));
  return objects.map((object) => {
    const custom = metadata.fields
      .filter((field) => field.objectMetadataId === object.id && field.isCustom && keepField(field))
      .map((field) => customFieldSpec(field, objectsById));
    if (!object.isCustom) {
      const standard = OBJECTS[object.nameSingular as StandardObjectName];
      return { ...standard, fields: [...standard.fields, ...custom] };
    }
    return {
      nameSingular: object.nameSingular,
      namePlural: object.namePlural,
      typeName: capitalise(object.nameSingular),
      typeNamePlural: capitalise(object.namePlural),
      table: 'custom_records',
      objectMetadataId: object.id,
      fields: custom,
    };
  });
}

/** The fields a record filter may name on an object: its own fields and the system timestamps and id. */
export function filterDescriptors(object: ObjectSpec): FieldDescriptor[] {
  return [
    ...object.fields.map((field) => ({ name: field.name, type: field.type, ...(field.options ? { options: field.options } : {}) })),
    ...SYSTEM_FIELD_DESCRIPTORS,
  ];
}

// ---------------------------------------------------------------------------------------------------------------
// Input validation (pure): every error names the input field at fault.

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'string') return value.length > 40 ? 'a string' : JSON.stringify(value);
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  return String(value);
}

function requireRecord(value: unknown, path: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalidInput(path, `must be an object, not ${describe(value)}`);
  return value as Record<string, unknown>;
}

export function validateName(value: unknown, path: string): string {
  if (typeof value !== 'string' || value.length === 0) throw invalidInput(path, `must be a camelCase name, not ${describe(value)}`);
  if (value.length > MAX_NAME_LENGTH) throw invalidInput(path, `must be at most ${MAX_NAME_LENGTH} characters (got ${value.length})`);
  if (!CAMEL_CASE.test(value)) {
    throw invalidInput(path, `must be camelCase: a lowercase letter, then letters and digits (e.g. invoice, leadSource), not ${describe(value)}`);
  }
  return value;
}

function validateText(value: unknown, path: string, max: number, required: boolean): string | null {
  if (value === null || value === undefined) {
    if (required) throw invalidInput(path, 'is required');
    return null;
  }
  if (typeof value !== 'string') throw invalidInput(path, `must be a string, not ${describe(value)}`);
  if (required && value.trim().length === 0) throw invalidInput(path, 'must not be empty');
  if (value.length > max) throw invalidInput(path, `must be at most ${max} characters (got ${value.length})`);
  if (value.includes('\u0000')) throw invalidInput(path, 'must not contain the NUL character (\\u0000)');
  return value;
}

function validateBoolean(value: unknown, path: string): boolean | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'boolean') throw invalidInput(path, `must be true or false, not ${describe(value)}`);
  return value;
}

/** Refuses an object name that another object of the workspace or the API itself already uses. */
function assertObjectNamesFree(name: string, plural: string, others: readonly ObjectMetadata[], path: string): void {
  for (const candidate of [name, plural]) {
    const field = candidate === name ? `${path}.nameSingular` : `${path}.namePlural`;
    const taken = others.find((object) => object.nameSingular === candidate || object.namePlural === candidate);
    if (taken) throw invalidInput(field, `${JSON.stringify(candidate)} is already used by the object ${taken.nameSingular}`);
    if (RESERVED_FIELD_NAMES.has(candidate) || RESERVED_REST_NAMES.has(candidate)) {
      throw invalidInput(field, `${JSON.stringify(candidate)} is reserved`);
    }
  }
  const generated = generatedNames(name, plural);
  const usedRootFields = new Set([...STATIC_ROOT_FIELDS, ...others.flatMap((object) => generatedNames(object.nameSingular, object.namePlural).rootFields)]);
  const usedTypes = new Set([...STATIC_TYPE_NAMES, ...others.flatMap((object) => generatedNames(object.nameSingular, object.namePlural).types)]);
  const rootClash = generated.rootFields.find((rootField) => usedRootFields.has(rootField));
  if (rootClash) throw invalidInput(`${path}.nameSingular`, `${JSON.stringify(name)} would generate the operation ${rootClash}, which the API already has`);
  const typeClash = generated.types.find((type) => usedTypes.has(type));
  if (typeClash) throw invalidInput(`${path}.nameSingular`, `${JSON.stringify(name)} would generate the type ${typeClash}, which the API already has`);
}

export interface NewObject {
  nameSingular: string;
  namePlural: string;
  labelSingular: string;
  labelPlural: string;
  description: string | null;
  icon: string | null;
  isLabelSyncedWithName: boolean;
}

/** Validates createOneObject's `input.object` against the workspace's current objects. */
export function validateNewObject(input: unknown, existing: readonly ObjectMetadata[], path = 'input.object'): NewObject {
  const object = requireRecord(input, path);
  const nameSingular = validateName(object.nameSingular, `${path}.nameSingular`);
  const namePlural = validateName(object.namePlural, `${path}.namePlural`);
  if (nameSingular === namePlural) throw invalidInput(`${path}.namePlural`, `must differ from nameSingular (both are ${JSON.stringify(nameSingular)})`);
  if (existing.filter((candidate) => candidate.isCustom).length >= MAX_CUSTOM_OBJECTS) {
    throw invalidInput(path, `a workspace holds at most ${MAX_CUSTOM_OBJECTS} custom objects`);
  }
  assertObjectNamesFree(nameSingular, namePlural, existing, path);
  return {
    nameSingular,
    namePlural,
    labelSingular: validateText(object.labelSingular, `${path}.labelSingular`, MAX_LABEL_LENGTH, true)!,
    labelPlural: validateText(object.labelPlural, `${path}.labelPlural`, MAX_LABEL_LENGTH, true)!,
    description: validateText(object.description, `${path}.description`, MAX_DESCRIPTION_LENGTH, false),
    icon: validateText(object.icon, `${path}.icon`, MAX_ICON_LENGTH, false),
    isLabelSyncedWithName: validateBoolean(object.isLabelSyncedWithName, `${path}.isLabelSyncedWithName`) ?? false,
  };
}

export type ObjectChanges = Partial<Pick<ObjectMetadata, 'labelSingular' | 'labelPlural' | 'description' | 'icon' | 'isActive' | 'isLabelSyncedWithName'>>;

/** What an object's and a field's update share: description, icon and boolean flags. */
interface SharedChanges {
  description?: string | null;
  icon?: string | null;
}

/**
 * Validates `key` into `changes` if it is one of the properties objects and fields share (description, icon,
 * or one of `flags`); false for any other key, which the caller handles.
 */
function applySharedChange<Flag extends string>(
  changes: SharedChanges & Partial<Record<Flag, boolean>>,
  key: string,
  value: unknown,
  fieldPath: string,
  flags: readonly Flag[],
): boolean {
  if (key === 'description') changes.description = validateText(value, fieldPath, MAX_DESCRIPTION_LENGTH, false);
  else if (key === 'icon') changes.icon = validateText(value, fieldPath, MAX_ICON_LENGTH, false);
  else if ((flags as readonly string[]).includes(key)) {
    const flag = validateBoolean(value, fieldPath);
    if (flag !== undefined) (changes as Partial<Record<string, boolean>>)[key] = flag;
  } else return false;
  return true;
}

/** Validates updateOneObject's `input.update`. Names cannot change: events, webhooks and clients hold them. */
export function validateObjectChanges(input: unknown, current: ObjectMetadata, path = 'input.update'): ObjectChanges {
  const update = requireRecord(input, path);
  const changes: ObjectChanges = {};
  for (const [key, value] of Object.entries(update)) {
    const fieldPath = `${path}.${key}`;
    if (value === undefined) continue;
    if (applySharedChange(changes, key, value, fieldPath, ['isActive', 'isLabelSyncedWithName'])) continue;
    switch (key) {
      case 'labelSingular':
      case 'labelPlural':
        changes[key] = validateText(value, fieldPath, MAX_LABEL_LENGTH, true)!;
        break;
      case 'nameSingular':
      case 'namePlural':
        // Twenty's settings page sends the names along with the labels; the same names are no change.
        if (value !== null && value !== current[key]) {
          throw invalidInput(fieldPath, 'cannot be changed: events, webhook operations and clients refer to the object by its names');
        }
        break;
      case 'labelIdentifierFieldMetadataId':
      case 'imageIdentifierFieldMetadataId':
      case 'shortcut':
        // Display settings of Twenty's UI, which this API has no use for: accepted and ignored.
        break;
      default:
        throw invalidInput(fieldPath, 'is not a property of an object that can be updated (labelSingular, labelPlural, description, icon, isActive)');
    }
  }
  if (!current.isCustom && Object.keys(changes).length > 0) {
    throw invalidInput(path, `${current.nameSingular} is a standard object: it cannot be changed (add custom fields to it instead)`);
  }
  return changes;
}

function validateOptions(value: unknown, path: string): FieldOption[] {
  if (!Array.isArray(value) || value.length === 0) throw invalidInput(path, 'must be a non-empty array of { value, label, color, position }');
  if (value.length > MAX_OPTIONS) throw invalidInput(path, `must hold at most ${MAX_OPTIONS} options (got ${value.length})`);
  const seen = new Set<string>();
  return value.map((entry, index) => {
    const optionPath = `${path}[${index}]`;
    const option = requireRecord(entry, optionPath);
    if (typeof option.value !== 'string' || !OPTION_VALUE.test(option.value)) {
      throw invalidInput(`${optionPath}.value`, `must be 1 to 63 letters, digits or _ (e.g. OPEN), not ${describe(option.value)}`);
    }
    if (seen.has(option.value)) throw invalidInput(`${optionPath}.value`, `repeats the option ${JSON.stringify(option.value)}`);
    seen.add(option.value);
    const position = option.position ?? index;
    if (typeof position !== 'number' || !Number.isFinite(position)) throw invalidInput(`${optionPath}.position`, `must be a number, not ${describe(position)}`);
    const id = option.id ?? null;
    if (id !== null && !isUuid(id)) throw invalidInput(`${optionPath}.id`, `must be a UUID, not ${describe(id)}`);
    return {
      id: (id as string | null)?.toLowerCase() ?? derivedUuid(`option/${option.value}/${index}`),
      value: option.value,
      label: validateText(option.label, `${optionPath}.label`, MAX_LABEL_LENGTH, true)!,
      color: validateText(option.color, `${optionPath}.color`, 50, false),
      position,
    };
  });
}

function validateSettings(value: unknown, path: string): Record<string, FieldValue> | null {
  if (value === undefined || value === null) return null;
  const settings = requireRecord(value, path);
  const text = JSON.stringify(settings);
  if (text.length > MAX_SETTINGS_BYTES) throw invalidInput(path, `must be at most ${MAX_SETTINGS_BYTES} characters as JSON`);
  return JSON.parse(text) as Record<string, FieldValue>;
}

/** Twenty's front-end writes text and select defaults as SQL-quoted strings (`"'OPEN'"`): they mean the inner value. */
function unquote(value: unknown, type: FieldType): unknown {
  if ((type === 'TEXT' || type === 'SELECT') && typeof value === 'string' && /^'.*'$/s.test(value)) return value.slice(1, -1);
  if (type === 'MULTI_SELECT' && Array.isArray(value)) return value.map((entry) => unquote(entry, 'SELECT'));
  return value;
}

function validateDefault(value: unknown, field: Pick<FieldMetadata, 'type' | 'name' | 'options'>, path: string): FieldValue | null {
  if (value === undefined || value === null) return null;
  if (field.type === 'RELATION' || field.type === 'UUID') throw invalidInput(path, `a ${field.type} field cannot have a default value`);
  const spec = customFieldSpec({ ...(field as FieldMetadata), isNullable: true, defaultValue: null, relationTargetObjectMetadataId: null }, new Map());
  return validateFieldValue(spec, unquote(value, field.type), path);
}

export interface NewField {
  objectMetadataId: string;
  type: FieldType;
  name: string;
  label: string;
  description: string | null;
  icon: string | null;
  isNullable: boolean;
  isLabelSyncedWithName: boolean;
  defaultValue: FieldValue | null;
  options: FieldOption[] | null;
  settings: Record<string, FieldValue> | null;
  relationTargetObjectMetadataId: string | null;
}

/** The API names (record keys) an object's fields take, for uniqueness checks. */
function takenApiNames(object: ObjectMetadata, fields: readonly FieldMetadata[]): Map<string, FieldMetadata> {
  const names = new Map<string, FieldMetadata>();
  for (const field of fields) {
    if (field.objectMetadataId !== object.id) continue;
    names.set(field.name, field);
    names.set(apiFieldName(field), field);
  }
  return names;
}

/** Validates createOneField's `input.field` against the workspace's metadata. */
export function validateNewField(input: unknown, metadata: WorkspaceMetadata, path = 'input.field'): NewField {
  const field = requireRecord(input, path);
  const objectId = field.objectMetadataId;
  if (!isUuid(objectId)) throw invalidInput(`${path}.objectMetadataId`, `must be the id of an object, not ${describe(objectId)}`);
  const object = metadata.objects.find((candidate) => candidate.id === objectId.toLowerCase());
  if (!object) throw invalidInput(`${path}.objectMetadataId`, `no object ${objectId} exists in this workspace`);
  if (typeof field.type !== 'string' || !(FIELD_TYPES as readonly string[]).includes(field.type)) {
    throw invalidInput(`${path}.type`, `must be one of ${FIELD_TYPES.join(', ')}, not ${describe(field.type)}`);
  }
  const type = field.type as FieldType;
  const name = validateName(field.name, `${path}.name`);
  if (RESERVED_FIELD_NAMES.has(name)) throw invalidInput(`${path}.name`, `${JSON.stringify(name)} is reserved`);
  const taken = takenApiNames(object, metadata.fields);
  const apiName = apiFieldName({ name, type });
  for (const candidate of new Set([name, apiName])) {
    const holder = taken.get(candidate);
    if (holder) throw invalidInput(`${path}.name`, `${object.nameSingular} already has a field ${JSON.stringify(holder.name)} using the name ${JSON.stringify(candidate)}`);
    if (RESERVED_FIELD_NAMES.has(candidate)) throw invalidInput(`${path}.name`, `${JSON.stringify(candidate)} is reserved`);
  }
  if (metadata.fields.filter((candidate) => candidate.objectMetadataId === object.id).length >= MAX_FIELDS_PER_OBJECT) {
    throw invalidInput(`${path}.objectMetadataId`, `${object.nameSingular} already has the most fields an object may have (${MAX_FIELDS_PER_OBJECT})`);
  }

  const isSelect = type === 'SELECT' || type === 'MULTI_SELECT';
  let options: FieldOption[] | null = null;
  if (isSelect) options = validateOptions(field.options, `${path}.options`);
  else if (field.options !== undefined && field.options !== null) throw invalidInput(`${path}.options`, `only SELECT and MULTI_SELECT fields take options, not ${type}`);

  let relationTargetObjectMetadataId: string | null = null;
  if (type === 'RELATION') {
    const relation = requireRecord(field.relationCreationPayload, `${path}.relationCreationPayload`);
    const target = relation.targetObjectMetadataId;
    const targetPath = `${path}.relationCreationPayload.targetObjectMetadataId`;
    if (!isUuid(target)) throw invalidInput(targetPath, `must be the id of an object, not ${describe(target)}`);
    const targetObject = metadata.objects.find((candidate) => candidate.id === target.toLowerCase());
    if (!targetObject) throw invalidInput(targetPath, `no object ${target} exists in this workspace`);
    if (!targetObject.isActive) throw invalidInput(targetPath, `${targetObject.nameSingular} is deactivated`);
    if (relation.type !== undefined && relation.type !== null && relation.type !== 'MANY_TO_ONE') {
      throw invalidInput(`${path}.relationCreationPayload.type`, `only MANY_TO_ONE relations are supported, not ${describe(relation.type)}`);
    }
    relationTargetObjectMetadataId = targetObject.id;
  } else if (field.relationCreationPayload !== undefined && field.relationCreationPayload !== null) {
    throw invalidInput(`${path}.relationCreationPayload`, `only RELATION fields take a relationCreationPayload, not ${type}`);
  }

  if (validateBoolean(field.isUnique, `${path}.isUnique`) === true) {
    throw invalidInput(`${path}.isUnique`, 'unique fields are not supported: leave isUnique out or false');
  }
  const isNullable = validateBoolean(field.isNullable, `${path}.isNullable`) ?? true;
  const defaultValue = validateDefault(field.defaultValue, { type, name, options }, `${path}.defaultValue`);
  if (!isNullable && defaultValue === null) {
    throw invalidInput(`${path}.defaultValue`, 'is required when isNullable is false (records stored before the field existed take it)');
  }
  return {
    objectMetadataId: object.id,
    type,
    name,
    label: validateText(field.label, `${path}.label`, MAX_LABEL_LENGTH, true)!,
    description: validateText(field.description, `${path}.description`, MAX_DESCRIPTION_LENGTH, false),
    icon: validateText(field.icon, `${path}.icon`, MAX_ICON_LENGTH, false),
    isNullable,
    isLabelSyncedWithName: validateBoolean(field.isLabelSyncedWithName, `${path}.isLabelSyncedWithName`) ?? false,
    defaultValue,
    options,
    settings: validateSettings(field.settings, `${path}.settings`),
    relationTargetObjectMetadataId,
  };
}

export type FieldChanges = Partial<
  Pick<FieldMetadata, 'label' | 'description' | 'icon' | 'isActive' | 'isNullable' | 'isLabelSyncedWithName' | 'defaultValue' | 'options' | 'settings'>
>;

/** Validates updateOneField's `input.update`. The name and type cannot change: stored values and clients hold them. */
export function validateFieldChanges(input: unknown, current: FieldMetadata, path = 'input.update'): FieldChanges {
  const update = requireRecord(input, path);
  const changes: FieldChanges = {};
  for (const [key, value] of Object.entries(update)) {
    const fieldPath = `${path}.${key}`;
    if (value === undefined) continue;
    if (applySharedChange(changes, key, value, fieldPath, ['isActive', 'isNullable', 'isLabelSyncedWithName'])) continue;
    switch (key) {
      case 'label':
        changes.label = validateText(value, fieldPath, MAX_LABEL_LENGTH, true)!;
        break;
      case 'options':
        if (current.type !== 'SELECT' && current.type !== 'MULTI_SELECT') {
          if (value !== null) throw invalidInput(fieldPath, `only SELECT and MULTI_SELECT fields take options, not ${current.type}`);
          break;
        }
        changes.options = validateOptions(value, fieldPath);
        break;
      case 'settings':
        changes.settings = validateSettings(value, fieldPath);
        break;
      case 'defaultValue':
        break;
      case 'isUnique':
        if (validateBoolean(value, fieldPath) === true) throw invalidInput(fieldPath, 'unique fields are not supported');
        break;
      case 'name':
      case 'type':
        if (value !== null && value !== current[key]) {
          throw invalidInput(fieldPath, 'cannot be changed: stored values, filters and clients refer to the field by it; create a new field instead');
        }
        break;
      default:
        throw invalidInput(fieldPath, 'is not a property of a field that can be updated (label, description, icon, isActive, isNullable, defaultValue, options, settings)');
    }
  }
  if ('defaultValue' in update && update.defaultValue !== undefined) {
    changes.defaultValue = validateDefault(update.defaultValue, { ...current, options: changes.options ?? current.options }, `${path}.defaultValue`);
  }
  const options = changes.options ?? current.options;
  const defaultValue = changes.defaultValue !== undefined ? changes.defaultValue : current.defaultValue;
  if (changes.options && defaultValue !== null && changes.defaultValue === undefined) {
    // The default must stay one of the options.
    validateDefault(defaultValue, { ...current, options }, `${path}.options`);
  }
  if ((changes.isNullable ?? current.isNullable) === false && defaultValue === null) {
    throw invalidInput(`${path}.defaultValue`, 'is required while isNullable is false');
  }
  if (!current.isCustom && Object.keys(changes).length > 0) {
    throw invalidInput(path, `${current.name} is a standard field: it cannot be changed`);
  }
  return changes;
}

/** A workspace's data model ready for use: its metadata and the specs of its active objects, by name. */
export interface DataModel {
  metadata: WorkspaceMetadata;
  objects: readonly ObjectSpec[];
  bySingular: ReadonlyMap<string, ObjectSpec>;
  byPlural: ReadonlyMap<string, ObjectSpec>;
}

export function buildDataModel(metadata: WorkspaceMetadata): DataModel {
  const objects = objectSpecs(metadata);
  return {
    metadata,
    objects,
    bySingular: new Map(objects.map((object) => [object.nameSingular, object])),
    byPlural: new Map(objects.map((object) => [object.namePlural, object])),
  };
}
