import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isStorableText, storableText, textFromBytes } from '../../src/domain/stored-text.ts';

/** The documented reading of the escapes back into bytes (for text whose original held no backslash). */
function bytesOf(text: string): Buffer {
  const parts: Buffer[] = [];
  let last = 0;
  for (const match of text.matchAll(/\\x([0-9a-f]{2})/g)) {
    parts.push(Buffer.from(text.slice(last, match.index), 'utf8'), Buffer.from([parseInt(match[1], 16)]));
    last = match.index + match[0].length;
  }
  parts.push(Buffer.from(text.slice(last), 'utf8'));
  return Buffer.concat(parts);
}

describe('textFromBytes', () => {
  it('keeps valid UTF-8 as it reads and escapes NUL and each invalid byte', () => {
    expect(textFromBytes(Buffer.from('ok\u0000tail'))).toBe('ok\\x00tail');
    expect(textFromBytes(Buffer.from('héllo ✓ 😀\n\t\u0001'))).toBe('héllo ✓ 😀\n\t\u0001');
    expect(textFromBytes(Buffer.from([0x6f, 0x6b, 0xff, 0xfe, 0xc3, 0x28]))).toBe('ok\\xff\\xfe\\xc3(');
    // Overlong form of '/', a UTF-16 surrogate coded in UTF-8, and a code point above U+10FFFF.
    expect(textFromBytes(Buffer.from([0xc0, 0xaf]))).toBe('\\xc0\\xaf');
    expect(textFromBytes(Buffer.from([0xed, 0xa0, 0x80]))).toBe('\\xed\\xa0\\x80');
    expect(textFromBytes(Buffer.from([0xf4, 0x90, 0x80, 0x80]))).toBe('\\xf4\\x90\\x80\\x80');
    // A character cut at the end of the kept bytes.
    expect(textFromBytes(Buffer.from('a€').subarray(0, 3))).toBe('a\\xe2\\x82');
  });

  it('always gives storable text that reads back as the bytes received', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        const text = textFromBytes(bytes);
        expect(isStorableText(text)).toBe(true);
        // The one documented ambiguity: a backslash in the original may start what reads as an escape.
        if (!bytes.includes(0x5c)) expect(bytesOf(text).equals(Buffer.from(bytes))).toBe(true);
      }),
      { numRuns: 2_000 },
    );
  });

  it('leaves valid UTF-8 without NUL exactly as the standard decoder reads it', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), (text) => {
        const clean = text.replaceAll('\u0000', '');
        expect(textFromBytes(Buffer.from(clean, 'utf8'))).toBe(clean);
      }),
    );
  });
});

describe('storableText', () => {
  it('escapes NUL and lone surrogates and keeps the rest', () => {
    expect(storableText('a\u0000b')).toBe('a\\x00b');
    expect(storableText('x\ud800y\udc00z')).toBe('x\\ud800y\\udc00z');
    expect(storableText('pair 😀 kept')).toBe('pair 😀 kept');
  });

  it('cuts to the limit without splitting an escape or a surrogate pair', () => {
    expect(storableText('ab\u0000', 4)).toBe('ab');
    expect(storableText('ab\u0000', 6)).toBe('ab\\x00');
    expect(storableText('a😀', 2)).toBe('a');
  });

  it('is storable, bounded and idempotent for any string', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 200 }), fc.integer({ min: 0, max: 300 }), (text, limit) => {
        const stored = storableText(text, limit);
        expect(isStorableText(stored)).toBe(true);
        expect(stored.length).toBeLessThanOrEqual(limit);
        expect(storableText(stored, limit)).toBe(stored);
      }),
      { numRuns: 1_000 },
    );
  });
});
