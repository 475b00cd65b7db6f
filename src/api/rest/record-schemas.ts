import type { ValidateFunction } from 'ajv';
import {
  EMAIL_MAX,
  INTEGER_MAX,
  MAX_BATCH_SIZE,
  MULTI_SELECT_MAX,
  SHORT_TEXT_MAX,
  type FieldSpec,
  type ObjectSpec,
} from '../../domain/records.ts';
import { compileBody } from './validation.ts';

/**
 * JSON Schemas of one object's records, built from its spec (standard fields and the workspace's custom ones): the
 * record as answered, and the create and update bodies. They document `/rest/{namePlural}` in the OpenAPI document
 * and check those bodies' shape before the records service checks their rules (references, calendar dates,
 * storable text), which it does for GraphQL alike.
 */

type JsonSchema = Record<string, unknown>;

function valueSchema(field: FieldSpec): JsonSchema {
  switch (field.kind) {
    case 'text':
      return { type: 'string', maxLength: field.maxLength ?? SHORT_TEXT_MAX };
    case 'email':
      return { type: 'string', format: 'email', maxLength: field.maxLength ?? EMAIL_MAX };
    case 'integer':
      return { type: 'integer', minimum: 0, maximum: INTEGER_MAX };
    case 'number':
      return { type: 'number' };
    case 'boolean':
      return { type: 'boolean' };
    case 'datetime':
      return { type: 'string', format: 'date-time', description: 'ISO 8601 date or date-time' };
    case 'date':
      return { type: 'string', format: 'date' };
    case 'select':
      return { type: 'string', enum: [...(field.options ?? [])] };
    case 'multiSelect':
      return { type: 'array', items: { type: 'string', enum: [...(field.options ?? [])] }, maxItems: MULTI_SELECT_MAX, uniqueItems: true };
    case 'currency':
      return {
        type: 'object',
        properties: {
          amountMicros: { type: ['integer', 'null'], description: 'Millionths of the unit, e.g. 12500000 for 12.50' },
          // Three capital letters: checked by the records service, whose message says so.
          currencyCode: { type: ['string', 'null'], description: 'An ISO 4217 code of three capital letters, e.g. EUR' },
        },
        additionalProperties: false,
      };
    case 'json':
      return {};
    case 'uuid':
      return { type: 'string', format: 'uuid' };
    case 'reference':
      return { type: 'string', format: 'uuid', description: `The id of a ${field.references}` };
  }
}

/** The field's schema; null is allowed unless the field is not nullable. */
function fieldSchema(field: FieldSpec): JsonSchema {
  const schema = valueSchema(field);
  if (field.nullable === false) return schema;
  if ('enum' in schema) return { ...schema, type: [schema.type, 'null'], enum: [...(schema.enum as unknown[]), null] };
  if (typeof schema.type === 'string') return { ...schema, type: [schema.type, 'null'] };
  return schema;
}

const fieldProperties = (object: ObjectSpec) => Object.fromEntries(object.fields.map((field) => [field.name, fieldSchema(field)]));

export interface RecordSchemas {
  /** The record as the API answers it. */
  record: JsonSchema;
  /** A create body (one record). */
  create: JsonSchema;
  /** An update body. */
  update: JsonSchema;
}

export function recordSchemas(object: ObjectSpec): RecordSchemas {
  const instant = { type: 'string', format: 'date-time' };
  return {
    record: {
      type: 'object',
      properties: {
        id: { type: 'string', format: 'uuid' },
        ...fieldProperties(object),
        createdAt: instant,
        updatedAt: instant,
        deletedAt: { type: ['string', 'null'], format: 'date-time' },
      },
    },
    create: {
      type: 'object',
      properties: { id: { type: ['string', 'null'], format: 'uuid', description: 'Optional: chosen by the client' }, ...fieldProperties(object) },
      // A field that must hold a value and has no default must be given.
      required: object.fields.filter((field) => field.nullable === false && (field.defaultValue ?? null) === null).map((field) => field.name),
      additionalProperties: false,
    },
    update: { type: 'object', properties: fieldProperties(object), additionalProperties: false },
  };
}

/** The batch body: an array of creates. */
export function batchSchema(create: JsonSchema): JsonSchema {
  return { type: 'array', items: create, minItems: 1, maxItems: MAX_BATCH_SIZE };
}

export interface RecordValidators {
  create: ValidateFunction;
  batch: ValidateFunction;
  update: ValidateFunction;
}

// An ObjectSpec belongs to one data model, which is cached per (workspace, metadata version): a new version brings
// new specs, so validators are compiled once per object and version, and dropped with the model.
const validators = new WeakMap<ObjectSpec, RecordValidators>();

export function recordValidators(object: ObjectSpec): RecordValidators {
  let found = validators.get(object);
  if (!found) {
    const schemas = recordSchemas(object);
    found = { create: compileBody(schemas.create), batch: compileBody(batchSchema(schemas.create)), update: compileBody(schemas.update) };
    validators.set(object, found);
  }
  return found;
}
