import { invalidInput } from './errors.ts';
import { isUuid, parseIsoDateTime } from './records.ts';

const MAX_CURSOR_LENGTH = 256;

/** A page position: the (createdAt, id) of the last record seen, the order lists are sorted in. */
export interface CursorPosition {
  createdAt: string;
  id: string;
}

/**
 * Opaque to clients: base64url of `[createdAt, id]`. The one cursor codec of every list (records, deliveries):
 * whatever a client crafts decodes to a storable instant and a UUID, or is refused naming the argument.
 */
export function encodeCursor(position: CursorPosition): string {
  return Buffer.from(JSON.stringify([position.createdAt, position.id])).toString('base64url');
}

/** The JSON inside a cursor, or undefined when there is none to read. */
function readCursor(cursor: string): unknown {
  // Far longer than any cursor this API writes: not worth decoding.
  if (cursor.length > MAX_CURSOR_LENGTH) return undefined;
  try {
    return JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
}

export function decodeCursor(cursor: string, field: string): CursorPosition {
  const parsed = readCursor(cursor);
  if (Array.isArray(parsed) && parsed.length === 2 && typeof parsed[0] === 'string' && isUuid(parsed[1])) {
    const createdAt = parseIsoDateTime(parsed[0]);
    if (createdAt) return { createdAt, id: parsed[1] };
  }
  throw invalidInput(field, 'is not a cursor returned by this API (use pageInfo.endCursor of the previous page)');
}
