const UNIT_BYTES: Record<string, number> = { b: 1, kib: 1024, mib: 1024 * 1024, gib: 1024 * 1024 * 1024 };

/** Parses "512", "64KiB", "4MiB", "1GiB" (a bare number means bytes) into a whole number of bytes. */
export function parseByteSize(text: string, name = 'size'): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(b|kib|mib|gib)?\s*$/i.exec(text);
  if (!match) throw new Error(`${name}: "${text}" is not a size (use a number of bytes, or KiB, MiB or GiB)`);
  const value = Math.floor(Number(match[1]) * UNIT_BYTES[(match[2] ?? 'b').toLowerCase()]);
  if (!Number.isSafeInteger(value) || value < 1) throw new Error(`${name}: "${text}" is out of range`);
  return value;
}
