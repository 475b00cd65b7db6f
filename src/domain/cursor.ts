import { invalidInput } from './errors.ts';
import { isUuid, parseIsoDateTime } from './records.ts';
import { isStorableText } from './stored-text.ts';

/** Longest cursor of a list in its default order (createdAt, id): far more than any this API writes. */
const MAX_CURSOR_LENGTH = 256;
/** Extra room a cursor gets per sort value it carries (an ordered list's text values travel inside it). */
const MAX_SORT_VALUE_CURSOR_LENGTH = 8192;

/** A sort key value of a listed record (see orderBy). */
export type SortValue = string | number | boolean | null;

/** A page position: the (createdAt, id) of the last record seen and, for an ordered list, its sort values. */
export interface CursorPosition {
  createdAt: string;
  id: string;
  values?: SortValue[];
}

/**
 * Opaque to clients: base64url of `[createdAt, id, ...sortValues]`. The one cursor codec of every list (records,
 * deliveries): whatever a client crafts decodes to a storable instant, a UUID and storable sort values, or is
 * refused naming the argument.
 */
export function encodeCursor(position: CursorPosition): string {
  return Buffer.from(JSON.stringify([position.createdAt, position.id, ...(position.values ?? [])])).toString('base64url');
}

const isSortValue = (value: unknown): value is SortValue =>
  value === null ||
  typeof value === 'boolean' ||
  (typeof value === 'string' && isStorableText(value)) ||
  (typeof value === 'number' && Number.isFinite(value));

/** The JSON inside a cursor, or undefined when there is none to read. */
function readCursor(cursor: string, sortValues: number): unknown {
  // Longer than any cursor this API writes for this order: not worth decoding.
  if (cursor.length > MAX_CURSOR_LENGTH + sortValues * MAX_SORT_VALUE_CURSOR_LENGTH) return undefined;
  try {
    return JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
}

/** Reads a cursor; `sortValues` is how many sort values the list's order needs (the cursor must carry exactly those). */
export function decodeCursor(cursor: string, field: string, sortValues = 0): CursorPosition {
  const parsed = readCursor(cursor, sortValues);
  if (Array.isArray(parsed) && parsed.length === 2 + sortValues && typeof parsed[0] === 'string' && isUuid(parsed[1])) {
    const createdAt = parseIsoDateTime(parsed[0]);
    const values = parsed.slice(2);
    if (createdAt && values.every(isSortValue)) return { createdAt, id: parsed[1], ...(sortValues > 0 ? { values } : {}) };
  }
  throw invalidInput(field, 'is not a cursor returned by this API for this order (use pageInfo.endCursor of the previous page, with the same orderBy)');
}
