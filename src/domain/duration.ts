const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Parses "250ms", "30s", "5m", "1h", "5d" (a bare number means milliseconds) into milliseconds. */
export function parseDuration(text: string, name = 'duration'): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/.exec(text);
  if (!match) throw new Error(`${name}: "${text}" is not a duration (use a number with ms, s, m, h or d)`);
  const value = Number(match[1]) * UNIT_MS[match[2] ?? 'ms'];
  if (!Number.isFinite(value)) throw new Error(`${name}: "${text}" is out of range`);
  return Math.round(value);
}

/** Parses a comma-separated list of durations, e.g. the retry schedule "1m,5m,15m,1h,6h". */
export function parseDurationList(text: string, name = 'duration list'): number[] {
  const parts = text.split(',').map((part) => part.trim()).filter((part) => part.length > 0);
  if (parts.length === 0) throw new Error(`${name}: "${text}" holds no durations`);
  return parts.map((part) => parseDuration(part, name));
}
