import { invalidInput } from './errors.ts';

/** Objects that emit events, by their singular name (Twenty's `nameSingular`). */
export const EVENT_OBJECTS = ['person', 'company', 'opportunity'] as const;
/** Every action a record write can emit. */
export const EVENT_ACTIONS = ['created', 'updated', 'deleted', 'restored', 'destroyed'] as const;

export type EventObject = (typeof EVENT_OBJECTS)[number];
export type EventAction = (typeof EVENT_ACTIONS)[number];

export const WILDCARD = '*';
export const DEFAULT_OPERATIONS: readonly string[] = ['*.*'];
export const MAX_OPERATIONS = 50;

export interface OperationPattern {
  object: EventObject | typeof WILDCARD;
  action: EventAction | typeof WILDCARD;
}

const OBJECT_CHOICES = `${EVENT_OBJECTS.join(', ')} or *`;
const ACTION_CHOICES = `${EVENT_ACTIONS.join(', ')} or *`;

/** Why `entry` is not an `{object}.{action}` pattern, or undefined when it is one. */
export function operationProblem(entry: string): string | undefined {
  const parts = entry.split('.');
  if (parts.length !== 2) return 'expected {object}.{action}, e.g. person.created or company.*';
  const [object, action] = parts;
  if (object !== WILDCARD && !(EVENT_OBJECTS as readonly string[]).includes(object)) {
    return `object must be one of ${OBJECT_CHOICES}`;
  }
  if (action !== WILDCARD && !(EVENT_ACTIONS as readonly string[]).includes(action)) {
    return `action must be one of ${ACTION_CHOICES}`;
  }
  return undefined;
}

/** Parses one pattern; throws an input error naming the entry when it is not valid. */
export function parseOperation(entry: string, field = 'operation'): OperationPattern {
  const problem = operationProblem(entry);
  if (problem) throw invalidInput(field, `${JSON.stringify(entry)} is not a valid operation: ${problem}`);
  const [object, action] = entry.split('.');
  return { object, action } as OperationPattern;
}

/**
 * Validates a webhook's operation list and returns it deduplicated (first occurrence kept, order kept).
 * Errors name the bad entry by its index, e.g. `operations[1]: "person.exploded" is not a valid operation: …`.
 */
export function validateOperations(entries: readonly string[], field = 'operations'): string[] {
  if (entries.length === 0) throw invalidInput(field, 'must hold at least one operation, e.g. ["*.*"]');
  if (entries.length > MAX_OPERATIONS) throw invalidInput(field, `must hold at most ${MAX_OPERATIONS} operations (got ${entries.length})`);
  entries.forEach((entry, index) => parseOperation(entry, `${field}[${index}]`));
  return [...new Set(entries)];
}

/**
 * The patterns that match an event operation: exact, `{object}.*`, `*.{action}`, `*.*`.
 * The storage index is looked up with exactly these, so a webhook matches when it holds any of them.
 */
export function matchCandidates(operation: string): string[] {
  const { object, action } = parseOperation(operation);
  return [`${object}.${action}`, `${object}.*`, `*.${action}`, '*.*'];
}

/** Whether a webhook subscribed to `patterns` receives an event of `operation`. */
export function matchesOperation(patterns: readonly string[], operation: string): boolean {
  const candidates = matchCandidates(operation);
  return patterns.some((pattern) => candidates.includes(pattern));
}
