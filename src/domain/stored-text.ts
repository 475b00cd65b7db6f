import { invalidInput } from './errors.ts';

/**
 * Text that comes from outside (a receiver's answer, an error raised by the network stack) made storable in a
 * PostgreSQL `text` column and readable as a JSON string, without losing what it said.
 *
 * The escaping rule, the same everywhere such text is stored or shown:
 * - a NUL byte (PostgreSQL text cannot hold it) becomes the four characters `\x00`;
 * - a byte that is not part of valid UTF-8 becomes `\xHH` (two lowercase hex digits), one escape per byte;
 * - a lone UTF-16 surrogate in a JavaScript string (it has no UTF-8 form) becomes `\uHHHH`;
 * - everything else, other control characters included, is kept as it is.
 * Decoding an escape gives the original bytes back; the one ambiguity is an answer that itself contained such an
 * escape sequence as plain text, which reads the same.
 */

/** How many bytes of a receiver's answer are kept (the contract's "first 4 KiB"). */
export const RESPONSE_BODY_LIMIT = 4096;
/** Longest error text stored for an attempt, in characters (network errors can quote what a receiver sent). */
export const ERROR_TEXT_LIMIT = 1024;

const HEX = '0123456789abcdef';

function byteEscape(byte: number): string {
  return `\\x${HEX[byte >> 4]}${HEX[byte & 15]}`;
}

/**
 * The length of the valid UTF-8 sequence starting at `index` (1 to 4), or 0 when the byte there does not start
 * one. The ranges are those of RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF.
 */
function validSequenceLength(bytes: Uint8Array, index: number): number {
  const lead = bytes[index];
  if (lead < 0x80) return 1;
  let length: number;
  let secondMin = 0x80;
  let secondMax = 0xbf;
  if (lead >= 0xc2 && lead <= 0xdf) length = 2;
  else if (lead >= 0xe0 && lead <= 0xef) {
    length = 3;
    if (lead === 0xe0) secondMin = 0xa0;
    if (lead === 0xed) secondMax = 0x9f;
  } else if (lead >= 0xf0 && lead <= 0xf4) {
    length = 4;
    if (lead === 0xf0) secondMin = 0x90;
    if (lead === 0xf4) secondMax = 0x8f;
  } else return 0;
  if (index + length > bytes.length) return 0;
  const second = bytes[index + 1];
  if (second < secondMin || second > secondMax) return 0;
  for (let offset = 2; offset < length; offset++) {
    const next = bytes[index + offset];
    if (next < 0x80 || next > 0xbf) return 0;
  }
  return length;
}

const decoder = new TextDecoder('utf-8', { fatal: true });

/** Bytes received from outside as storable text: valid UTF-8 as it reads, NUL and invalid bytes escaped. */
export function textFromBytes(bytes: Uint8Array): string {
  let text = '';
  let runStart = 0;
  let index = 0;
  const flushRun = (end: number) => {
    if (end > runStart) text += decoder.decode(bytes.subarray(runStart, end));
  };
  while (index < bytes.length) {
    const length = bytes[index] === 0 ? 0 : validSequenceLength(bytes, index);
    if (length > 0) {
      index += length;
      continue;
    }
    flushRun(index);
    text += byteEscape(bytes[index]);
    index++;
    runStart = index;
  }
  flushRun(index);
  return text;
}

// A NUL, or a surrogate not in a valid pair.
const UNSTORABLE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/**
 * A string from outside as storable text (same escapes as textFromBytes), cut to at most `maxLength` characters
 * (a cut never splits an escape or a surrogate pair). Text that needed no change comes back unchanged.
 */
export function storableText(text: string, maxLength = Infinity): string {
  const escaped = text.replace(UNSTORABLE, (found) =>
    found === '\u0000' ? '\\x00' : `\\u${found.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
  if (escaped.length <= maxLength) return escaped;
  let end = maxLength;
  // Never end on the first half of a surrogate pair.
  if (end > 0 && /[\ud800-\udbff]/.test(escaped[end - 1])) end--;
  // Never end inside an escape: back up to its backslash when the cut falls within one.
  const tail = escaped.slice(Math.max(0, end - 5), end);
  const partial = /\\(x[0-9a-f]?|u[0-9a-f]{0,3})$/.exec(tail);
  if (partial) end -= partial[0].length;
  return escaped.slice(0, end);
}

/** True when PostgreSQL can store `text` as it is (no NUL, no lone surrogate). */
export function isStorableText(text: string): boolean {
  UNSTORABLE.lastIndex = 0;
  const found = UNSTORABLE.test(text);
  UNSTORABLE.lastIndex = 0;
  return !found;
}

/**
 * Refuses caller text that PostgreSQL cannot store (a NUL) or would silently alter (a lone surrogate, kept as
 * U+FFFD): a caller's text is stored exactly as given, or refused naming the field. Returns the text.
 */
export function requireStorableText(value: string, field: string): string {
  UNSTORABLE.lastIndex = 0;
  const found = UNSTORABLE.exec(value);
  UNSTORABLE.lastIndex = 0;
  if (!found) return value;
  if (found[0] === '\u0000') throw invalidInput(field, `must not contain the NUL character (\\u0000, at index ${found.index})`);
  throw invalidInput(field, `must be valid Unicode text (a lone surrogate \\u${found[0].charCodeAt(0).toString(16)} at index ${found.index})`);
}
