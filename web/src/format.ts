export function formatDateTime(value: string | null | undefined): string {
  if (!value) return '—';
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? value : date.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
}

export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '—';
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(2)} s`;
}

/** Pretty-prints JSON when the text is JSON, else returns it unchanged. */
export function prettyJson(text: string | null | undefined): string {
  if (!text) return '';
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}

/** "5 min ago", "in 2 h": how far a time is from now, to the nearest sensible unit. */
export function formatRelative(value: string | null | undefined, now: number = Date.now()): string {
  if (!value) return '—';
  const time = new Date(value).getTime();
  if (Number.isNaN(time)) return value;
  const seconds = Math.round((time - now) / 1000);
  const magnitude = Math.abs(seconds);
  const units: Array<[number, string]> = [
    [86_400, 'd'],
    [3_600, 'h'],
    [60, 'min'],
  ];
  if (magnitude < 45) return seconds <= 0 ? 'just now' : 'in a few seconds';
  for (const [size, unit] of units) {
    if (magnitude >= size) {
      const count = Math.round(magnitude / size);
      return seconds < 0 ? `${count} ${unit} ago` : `in ${count} ${unit}`;
    }
  }
  return seconds < 0 ? '1 min ago' : 'in 1 min';
}

/** A datetime-local value (the browser's zone) as an ISO instant, or '' when empty or invalid. */
export function localToIso(value: string): string {
  if (!value) return '';
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? '' : date.toISOString();
}

/** An instant as a datetime-local value in the browser's zone, to the second. */
export function isoToLocal(value: string | number | Date): string {
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return '';
  const pad = (part: number) => String(part).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`;
}
