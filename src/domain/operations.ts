import { invalidInput } from './errors.ts';

/**
 * The standard objects that emit events, by their singular name (Twenty's `nameSingular`). A workspace's custom
 * objects emit events too: validation is given the workspace's object names.
 */
export const EVENT_OBJECTS = ['person', 'company', 'opportunity'] as const;
/** Every action a record write can emit. */
export const EVENT_ACTIONS = ['created', 'updated', 'deleted', 'restored', 'destroyed'] as const;

export type EventObject = (typeof EVENT_OBJECTS)[number];
export type EventAction = (typeof EVENT_ACTIONS)[number];

/**
 * Switchboard's own events (operational events), written when a webhook is disabled and when a delivery ends
 * FAILED. A webhook receives them only by naming them in full: no wildcard (`*.*`, `*.failed`, `webhook.*`)
 * matches them, so a subscription made for record events never starts receiving Switchboard's own.
 */
export const OPERATIONAL_OPERATIONS = ['webhook.disabled', 'delivery.failed'] as const;
export type OperationalOperation = (typeof OPERATIONAL_OPERATIONS)[number];
type OperationalAction = OperationalOperation extends `${string}.${infer A}` ? A : never;

export function isOperationalOperation(operation: string): operation is OperationalOperation {
  return (OPERATIONAL_OPERATIONS as readonly string[]).includes(operation);
}

const OPERATIONAL_HINT = `Switchboard's own events are named in full (${OPERATIONAL_OPERATIONS.join(', ')}): no wildcard matches them`;

export const WILDCARD = '*';
export const DEFAULT_OPERATIONS: readonly string[] = ['*.*'];
export const MAX_OPERATIONS = 50;

export interface OperationPattern {
  /** A standard or custom object's singular name, or `*`. */
  object: string;
  action: EventAction | typeof WILDCARD | OperationalAction;
}

/** Which objects an operation may name: the given names, or any object name (events of any workspace). */
export type KnownObjects = readonly string[] | 'any';

const OBJECT_NAME = /^[a-z][a-zA-Z0-9]*$/;
const ACTION_CHOICES = `${EVENT_ACTIONS.join(', ')} or *`;

/** Why `entry` is not an `{object}.{action}` pattern of one of `objects`, or undefined when it is one. */
export function operationProblem(entry: string, objects: KnownObjects = EVENT_OBJECTS): string | undefined {
  if (isOperationalOperation(entry)) return undefined;
  const parts = entry.split('.');
  if (parts.length !== 2) return 'expected {object}.{action}, e.g. person.created or company.*';
  const [object, action] = parts;
  const operational = OPERATIONAL_OPERATIONS.some((name) => name.startsWith(`${object}.`) || name.endsWith(`.${action}`));
  if (object !== WILDCARD && (objects === 'any' ? !OBJECT_NAME.test(object) : !objects.includes(object))) {
    const problem = objects === 'any' ? 'object must be an object name or *' : `object must be one of ${objects.join(', ')} or *`;
    return operational ? `${problem}; ${OPERATIONAL_HINT}` : problem;
  }
  if (action !== WILDCARD && !(EVENT_ACTIONS as readonly string[]).includes(action)) {
    return operational ? `action must be one of ${ACTION_CHOICES}; ${OPERATIONAL_HINT}` : `action must be one of ${ACTION_CHOICES}`;
  }
  return undefined;
}

/** Parses one pattern; throws an input error naming the entry when it is not valid. */
export function parseOperation(entry: string, field = 'operation', objects: KnownObjects = EVENT_OBJECTS): OperationPattern {
  const problem = operationProblem(entry, objects);
  if (problem) throw invalidInput(field, `${JSON.stringify(entry)} is not a valid operation: ${problem}`);
  const [object, action] = entry.split('.');
  return { object, action } as OperationPattern;
}

/**
 * Validates a webhook's operation list and returns it deduplicated (first occurrence kept, order kept).
 * Errors name the bad entry by its index, e.g. `operations[1]: "person.exploded" is not a valid operation: …`.
 */
export function validateOperations(entries: readonly string[], field = 'operations', objects: KnownObjects = EVENT_OBJECTS): string[] {
  if (entries.length === 0) throw invalidInput(field, 'must hold at least one operation, e.g. ["*.*"]');
  if (entries.length > MAX_OPERATIONS) throw invalidInput(field, `must hold at most ${MAX_OPERATIONS} operations (got ${entries.length})`);
  entries.forEach((entry, index) => parseOperation(entry, `${field}[${index}]`, objects));
  return [...new Set(entries)];
}

/**
 * The patterns that match an event operation: exact, `{object}.*`, `*.{action}`, `*.*`; for an operational event
 * its own name only. The storage index is looked up with exactly these, so a webhook matches when it holds any of them.
 */
export function matchCandidates(operation: string): string[] {
  if (isOperationalOperation(operation)) return [operation];
  const { object, action } = parseOperation(operation, 'operation', 'any');
  return [`${object}.${action}`, `${object}.*`, `*.${action}`, '*.*'];
}

/** Whether a webhook subscribed to `patterns` receives an event of `operation`. */
export function matchesOperation(patterns: readonly string[], operation: string): boolean {
  const candidates = matchCandidates(operation);
  return patterns.some((pattern) => candidates.includes(pattern));
}
