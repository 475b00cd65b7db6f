/**
 * The field types of Twenty's data model (contract §9). Both the records API (list filters, value validation) and
 * webhook filters describe the fields they may touch with these, so one filter grammar serves both.
 */
export const FIELD_TYPES = [
  'TEXT',
  'NUMBER',
  'BOOLEAN',
  'DATE_TIME',
  'DATE',
  'SELECT',
  'MULTI_SELECT',
  'CURRENCY',
  'RAW_JSON',
  'UUID',
  'RELATION',
] as const;

export type FieldType = (typeof FIELD_TYPES)[number];

/** What a filter needs to know of a field: its API name (camelCase, as in records and payloads) and its type. */
export interface FieldDescriptor {
  name: string;
  type: FieldType;
  /** For SELECT and MULTI_SELECT: the allowed option values. */
  options?: readonly string[];
}
