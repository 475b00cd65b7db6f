import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeCursor, encodeCursor } from '../../src/domain/cursor.ts';
import { SwitchboardError } from '../../src/domain/errors.ts';
import { EARLIEST_INSTANT, isUuid, LATEST_INSTANT } from '../../src/domain/records.ts';

/** Decodes, or returns the refusal (which must be bad input naming the argument). */
function decodeOrRefusal(cursor: string) {
  try {
    return decodeCursor(cursor, 'after');
  } catch (error) {
    expect(error).toBeInstanceOf(SwitchboardError);
    expect((error as SwitchboardError).code).toBe('BAD_USER_INPUT');
    expect((error as SwitchboardError).field).toBe('after');
    return undefined;
  }
}

const base64url = (text: string) => Buffer.from(text).toString('base64url');

describe('decodeCursor', () => {
  it('reads back every position it wrote', () => {
    fc.assert(
      fc.property(fc.date({ min: new Date(EARLIEST_INSTANT), max: new Date(LATEST_INSTANT), noInvalidDate: true }), fc.uuid(), (date, id) => {
        const position = { createdAt: date.toISOString(), id };
        expect(decodeCursor(encodeCursor(position), 'after')).toEqual(position);
      }),
    );
  });

  it('turns anything a client crafts into a storable position or a refusal naming the argument', () => {
    const crafted = fc.oneof(
      fc.string(),
      fc.string({ unit: 'binary' }).map(base64url),
      fc.jsonValue().map((value) => base64url(JSON.stringify(value))),
      fc
        .tuple(fc.oneof(fc.string(), fc.date().map((date) => (Number.isNaN(date.getTime()) ? 'x' : date.toISOString()))), fc.oneof(fc.uuid(), fc.string()))
        .map((pair) => base64url(JSON.stringify(pair))),
      fc.tuple(fc.date({ noInvalidDate: true }), fc.uuid()).map(([date, id]) => base64url(`${date.toISOString()}|${id}`)),
    );
    fc.assert(
      fc.property(crafted, (cursor) => {
        const position = decodeOrRefusal(cursor);
        if (!position) return;
        expect(isUuid(position.id)).toBe(true);
        const time = Date.parse(position.createdAt);
        expect(time).toBeGreaterThanOrEqual(EARLIEST_INSTANT);
        expect(time).toBeLessThanOrEqual(LATEST_INSTANT);
      }),
      { numRuns: 2_000 },
    );
  });
});
