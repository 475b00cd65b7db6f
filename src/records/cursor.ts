import { invalidInput } from '../domain/errors.ts';
import { isUuid, parseIsoDateTime } from '../domain/records.ts';

/** A sort key value of a listed record (see orderBy). */
export type SortValue = string | number | boolean | null;

/** A page position: the (createdAt, id) of the last record seen and, for an ordered list, its sort values. */
export interface CursorPosition {
  createdAt: string;
  id: string;
  values?: SortValue[];
}

/** Opaque to clients: base64url of `[createdAt, id, ...sortValues]`. */
export function encodeCursor(position: CursorPosition): string {
  return Buffer.from(JSON.stringify([position.createdAt, position.id, ...(position.values ?? [])])).toString('base64url');
}

const isSortValue = (value: unknown): value is SortValue =>
  value === null || typeof value === 'string' || typeof value === 'boolean' || (typeof value === 'number' && Number.isFinite(value));

/** Reads a cursor; `sortValues` is how many sort values the list's order needs (the cursor must carry exactly those). */
export function decodeCursor(cursor: string, field: string, sortValues = 0): CursorPosition {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    parsed = undefined;
  }
  if (Array.isArray(parsed) && parsed.length === 2 + sortValues && typeof parsed[0] === 'string' && isUuid(parsed[1])) {
    const createdAt = parseIsoDateTime(parsed[0]);
    const values = parsed.slice(2);
    if (createdAt && values.every(isSortValue)) return { createdAt, id: parsed[1], ...(sortValues > 0 ? { values } : {}) };
  }
  throw invalidInput(field, 'is not a cursor returned by this API for this order (use pageInfo.endCursor of the previous page, with the same orderBy)');
}
