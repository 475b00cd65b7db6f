import { invalidInput } from '../domain/errors.ts';
import { isUuid, parseIsoDateTime } from '../domain/records.ts';

/** A page position: the (createdAt, id) of the last record seen, the order lists are sorted in. */
export interface CursorPosition {
  createdAt: string;
  id: string;
}

/** Opaque to clients: base64url of `[createdAt, id]`. */
export function encodeCursor(position: CursorPosition): string {
  return Buffer.from(JSON.stringify([position.createdAt, position.id])).toString('base64url');
}

export function decodeCursor(cursor: string, field: string): CursorPosition {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    parsed = undefined;
  }
  if (Array.isArray(parsed) && parsed.length === 2 && typeof parsed[0] === 'string' && isUuid(parsed[1])) {
    const createdAt = parseIsoDateTime(parsed[0]);
    if (createdAt) return { createdAt, id: parsed[1] };
  }
  throw invalidInput(field, 'is not a cursor returned by this API (use pageInfo.endCursor of the previous page)');
}
