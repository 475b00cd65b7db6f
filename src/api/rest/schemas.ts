import type { FastifyInstance } from 'fastify';
import { MAX_DELIVERY_PAGE_SIZE } from '../../delivery-log/service.ts';
import { MAX_PAGE_SIZE } from '../../records/service.ts';

/**
 * The JSON Schemas of the REST API that every route shares. Response shapes are registered once (`addSchema`) and
 * referenced by `$id` (they become the OpenAPI document's components); request parts are plain objects reused
 * inline, since they are checked by our own compiler (validation.ts).
 */

const nullable = (type: string, extra: Record<string, unknown> = {}) => ({ type: [type, 'null'], ...extra });
const instant = { type: 'string', format: 'date-time' };
const nullableInstant = nullable('string', { format: 'date-time' });
const uuid = { type: 'string', format: 'uuid' };

/** `{ "error": { code, message, field? } }`: every REST error. */
const ErrorEnvelope = {
  $id: 'Error',
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: {
        code: { type: 'string', description: 'BAD_REQUEST, BAD_USER_INPUT, UNAUTHENTICATED, NOT_FOUND, CONFLICT, PAYLOAD_TOO_LARGE, RATE_LIMITED, SERVICE_UNAVAILABLE, …' },
        message: { type: 'string' },
        field: { type: 'string', description: 'The input at fault, e.g. body.email, operations[1], limit' },
      },
    },
  },
};

const Webhook = {
  $id: 'Webhook',
  type: 'object',
  properties: {
    id: uuid,
    targetUrl: { type: 'string' },
    operations: { type: 'array', items: { type: 'string' } },
    description: nullable('string'),
    secret: nullable('string', { description: 'The plain secret: only in the answers to create and rotate-secret, else null' }),
    status: { type: 'string', enum: ['ACTIVE', 'DISABLED'] },
    filter: { description: 'A record filter (JSON), null: every record' },
    fields: nullable('array', { items: { type: 'string' } }),
    ordering: { type: 'string', enum: ['NONE', 'PER_RECORD'] },
    disabledReason: nullable('string'),
    disabledAt: nullableInstant,
    createdAt: instant,
    updatedAt: instant,
    deletedAt: nullableInstant,
  },
};

const Attempt = {
  $id: 'DeliveryAttempt',
  type: 'object',
  properties: {
    id: uuid,
    deliveryId: uuid,
    number: { type: 'integer' },
    startedAt: instant,
    durationMs: { type: 'number' },
    statusCode: nullable('integer'),
    responseBody: nullable('string', { description: 'The first 4 KiB of the answer' }),
    error: nullable('string'),
    requestHeaders: nullable('object', { additionalProperties: { type: 'string' } }),
  },
};

const Event = {
  $id: 'Event',
  type: 'object',
  properties: {
    id: uuid,
    workspaceId: uuid,
    operation: { type: 'string' },
    record: { type: 'object', additionalProperties: true },
    previousRecord: nullable('object', { additionalProperties: true }),
    updatedFields: nullable('array', { items: { type: 'string' } }),
    createdAt: instant,
  },
};

const Delivery = {
  $id: 'Delivery',
  type: 'object',
  properties: {
    id: uuid,
    workspaceId: uuid,
    webhookId: uuid,
    eventId: uuid,
    operation: { type: 'string' },
    status: { type: 'string', enum: ['PENDING', 'SUCCEEDED', 'FAILED'] },
    attemptCount: { type: 'integer' },
    nextAttemptAt: nullableInstant,
    lastAttemptAt: nullableInstant,
    heldBehind: nullable('string', { description: 'PER_RECORD: the earlier delivery of the same record this one waits for' }),
    leaseHeld: { type: 'boolean', description: 'An attempt is under way' },
    createdAt: instant,
    updatedAt: instant,
    attempts: { type: 'array', items: { $ref: 'DeliveryAttempt#' } },
    event: { $ref: 'Event#' },
    payload: nullable('string', { description: 'The body as sent (null once retention removed the event)' }),
  },
};

const TestAttempt = {
  $id: 'TestAttempt',
  type: 'object',
  properties: {
    number: { type: 'integer' },
    startedAt: instant,
    durationMs: { type: 'number' },
    statusCode: nullable('integer'),
    responseBody: nullable('string'),
    error: nullable('string'),
    requestHeaders: { type: 'object', additionalProperties: { type: 'string' } },
    operation: { type: 'string' },
    payload: { type: 'string' },
  },
};

const WebhookStats = {
  $id: 'WebhookStats',
  type: 'object',
  properties: {
    sent: { type: 'integer' },
    succeeded: { type: 'integer' },
    failed: { type: 'integer' },
    p50LatencyMs: nullable('number'),
    p95LatencyMs: nullable('number'),
    lastSuccessAt: nullableInstant,
    lastFailureAt: nullableInstant,
    filtered: { type: 'integer' },
  },
};

const PageInfo = {
  $id: 'PageInfo',
  type: 'object',
  properties: { hasNextPage: { type: 'boolean' }, endCursor: nullable('string', { description: 'Give it as `cursor` for the next page' }) },
};

/** Registers the shared response schemas on the REST scope (before its routes). */
export function addSharedSchemas(app: FastifyInstance): void {
  for (const schema of [ErrorEnvelope, Webhook, Attempt, Event, Delivery, TestAttempt, WebhookStats, PageInfo]) app.addSchema(schema);
}

export const ref = (id: string) => ({ $ref: `${id}#` });

/** `{ data: { <name>: <schema> } }`: Twenty's REST answer shape. */
export function dataOf(name: string, schema: object, extra: Record<string, object> = {}): object {
  return { type: 'object', properties: { data: { type: 'object', properties: { [name]: schema } }, ...extra } };
}

/** The error answers every REST route may give (the table-driven test checks each route answers them so). */
export const ERROR_RESPONSES = { '4xx': ref('Error'), '5xx': ref('Error') };

/** A list page: `{ data: { <name>: [...] }, pageInfo, totalCount }`. */
export function pageOf(name: string, item: object): object {
  return dataOf(name, { type: 'array', items: item }, { pageInfo: ref('PageInfo'), totalCount: { type: 'integer' } });
}

export const idParams = (...names: string[]) => ({
  type: 'object',
  required: names,
  properties: Object.fromEntries(names.map((name) => [name, { type: 'string', description: 'A UUID (any other value names nothing: 404)' }])),
});

/** The one pagination shape of every REST list: `limit` and `cursor` (a list's pageInfo.endCursor). */
export function paginationQuery(maxLimit: number, defaultLimit: number): Record<string, object> {
  return {
    limit: { type: 'integer', minimum: 1, maximum: maxLimit, description: `Page size, 1 to ${maxLimit} (default ${defaultLimit})` },
    cursor: { type: 'string', description: 'pageInfo.endCursor of the previous page' },
  };
}

export const RECORD_PAGE_LIMIT = MAX_PAGE_SIZE;
export const DELIVERY_PAGE_LIMIT = MAX_DELIVERY_PAGE_SIZE;
