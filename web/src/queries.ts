import { graphql } from './api.ts';

export type WebhookStatus = 'ACTIVE' | 'DISABLED';
export type DeliveryStatus = 'PENDING' | 'SUCCEEDED' | 'FAILED';
export type WebhookOrdering = 'NONE' | 'PER_RECORD';

export interface HttpHeader {
  name: string;
  value: string;
}

export interface Attempt {
  number: number;
  startedAt: string;
  durationMs: number;
  statusCode: number | null;
  responseBody: string | null;
  error: string | null;
  requestHeaders: HttpHeader[];
}

export interface Delivery {
  id: string;
  eventId: string;
  operation: string;
  status: DeliveryStatus;
  attemptCount: number;
  /** An attempt is under way now. */
  sending: boolean;
  nextAttemptAt: string | null;
  lastAttemptAt: string | null;
  /** PER_RECORD ordering: the earlier delivery of the same record this PENDING one waits for. */
  heldBehind: string | null;
  createdAt: string;
  payload: string | null;
  attempts: Attempt[];
}

export interface LastDelivery {
  id: string;
  status: DeliveryStatus;
  operation: string;
  lastAttemptAt: string | null;
  createdAt: string;
  attempts: Array<{ number: number; statusCode: number | null; error: string | null }>;
}

export interface WebhookStats {
  sent: number;
  succeeded: number;
  failed: number;
  successRate: number | null;
  p50LatencyMs: number | null;
  p95LatencyMs: number | null;
}

export interface SeriesPoint {
  start: string;
  succeeded: number;
  failed: number;
  p50LatencyMs?: number | null;
  p95LatencyMs?: number | null;
}

export interface WebhookOverview {
  day: { stats: WebhookStats; points: SeriesPoint[] };
  week: { stats: WebhookStats };
}

export interface Webhook {
  id: string;
  targetUrl: string;
  operations: string[];
  description: string | null;
  /** A record filter (the records API's list filter grammar); null sends every matching event. */
  filter: unknown;
  /** For updated events: only those changing one of these fields (null: any change). */
  fields: string[] | null;
  ordering: WebhookOrdering;
  status: WebhookStatus;
  /** Why it is DISABLED: GONE_410, FAILING_5_DAYS or BY_USER (null while active). */
  disabledReason?: string | null;
  disabledAt?: string | null;
  createdAt: string;
  updatedAt: string;
  lastDelivery?: LastDelivery | null;
  /** The last 24 hours, for the list's sparkline. */
  recent?: { stats: Pick<WebhookStats, 'sent' | 'successRate'>; points: SeriesPoint[] };
}

export interface ApiKey {
  id: string;
  name: string;
  keyPrefix: string;
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

export interface TestAttempt extends Attempt {
  operation: string;
  payload: string;
}

const WEBHOOK_FIELDS = 'id targetUrl operations description filter fields ordering status disabledReason disabledAt createdAt updatedAt';
const LAST_DELIVERY = 'lastDelivery { id status operation lastAttemptAt createdAt attempts { number statusCode error } }';
const RECENT = 'recent: series(window: DAY, first: 24) { stats { sent successRate } points { start succeeded failed } }';
const STATS_FIELDS = 'sent succeeded failed successRate p50LatencyMs p95LatencyMs';
const ATTEMPT_FIELDS = 'number startedAt durationMs statusCode responseBody error requestHeaders { name value }';
const DELIVERY_FIELDS = `id eventId operation status sending attemptCount nextAttemptAt lastAttemptAt heldBehind createdAt payload attempts { ${ATTEMPT_FIELDS} }`;

export async function fetchWorkspace(apiKey?: string): Promise<{ id: string; name: string }> {
  const data = await graphql<{ currentWorkspace: { id: string; name: string } }>('{ currentWorkspace { id name } }', {}, apiKey);
  return data.currentWorkspace;
}

export type { FieldType } from '../../src/domain/field-types.ts';
import type { FieldType } from '../../src/domain/field-types.ts';

export interface FieldSummary {
  /** The name a record (and a filter, and updatedFields) uses: a relation's is `{name}Id`, the id it holds. */
  name: string;
  label: string;
  type: FieldType;
  /** SELECT and MULTI_SELECT: the allowed values. */
  options: Array<{ value: string; label: string }> | null;
}

export interface ObjectSummary {
  nameSingular: string;
  labelSingular: string;
  isActive: boolean;
  /** Its active fields, custom ones included. */
  fields: FieldSummary[];
}

interface FieldNode {
  objectMetadataId: string;
  name: string;
  label: string;
  type: FieldType;
  options: Array<{ value: string; label?: string }> | null;
  isActive: boolean;
}

type FieldPage = { edges: Array<{ node: FieldNode }>; pageInfo: { hasNextPage: boolean; endCursor: string | null } };

const FIELD_PAGE = 'edges { node { objectMetadataId name label type options isActive } } pageInfo { hasNextPage endCursor }';

/**
 * The workspace's objects (standard and custom) with their active fields, for the webhook form's pickers. Fields
 * come from the top-level list, page by page: asking for them inside each object would multiply the query's cost
 * by the objects' page size, past the GraphQL cost limit.
 */
export async function fetchObjects(): Promise<ObjectSummary[]> {
  const data = await graphql<{ objects: { edges: Array<{ node: Omit<ObjectSummary, 'fields'> & { id: string } }> }; fields: FieldPage }>(
    `{ objects(paging: { first: 1000 }) { edges { node { id nameSingular labelSingular isActive } } }
       fields(paging: { first: 1000 }) { ${FIELD_PAGE} } }`,
  );
  const nodes = data.fields.edges.map((edge) => edge.node);
  for (let page = data.fields.pageInfo; page.hasNextPage && page.endCursor; ) {
    const next = await graphql<{ fields: FieldPage }>(`query Fields($after: String) { fields(paging: { first: 1000, after: $after }) { ${FIELD_PAGE} } }`, {
      after: page.endCursor,
    });
    nodes.push(...next.fields.edges.map((edge) => edge.node));
    page = next.fields.pageInfo;
  }
  return data.objects.edges.map(({ node }) => ({
    nameSingular: node.nameSingular,
    labelSingular: node.labelSingular,
    isActive: node.isActive,
    fields: nodes
      .filter((field) => field.objectMetadataId === node.id && field.isActive)
      .map((field) => ({
        name: field.type === 'RELATION' ? `${field.name}Id` : field.name,
        label: field.label,
        type: field.type,
        options: Array.isArray(field.options) ? field.options.map((option) => ({ value: option.value, label: option.label ?? option.value })) : null,
      })),
  }));
}

export async function fetchWebhooks(): Promise<Webhook[]> {
  const data = await graphql<{ webhooks: Webhook[] }>(`{ webhooks { ${WEBHOOK_FIELDS} ${LAST_DELIVERY} ${RECENT} } }`);
  return data.webhooks;
}

export async function fetchWebhook(id: string): Promise<Webhook | null> {
  const data = await graphql<{ webhook: Webhook | null }>(
    `query Webhook($id: UUID!) { webhook(id: $id) { ${WEBHOOK_FIELDS} } }`,
    { id },
  );
  return data.webhook;
}

/** The overview's figures and chart, in one query. */
export async function fetchWebhookOverview(id: string): Promise<WebhookOverview | null> {
  const data = await graphql<{ webhook: WebhookOverview | null }>(
    `query WebhookOverview($id: UUID!) { webhook(id: $id) {
      day: series(window: DAY) { stats { ${STATS_FIELDS} } points { start succeeded failed p50LatencyMs p95LatencyMs } }
      week: series(window: WEEK, first: 1) { stats { ${STATS_FIELDS} } }
    } }`,
    { id },
  );
  return data.webhook;
}

/** What the webhook form edits. */
export interface WebhookSettings {
  targetUrl: string;
  description: string;
  operations: string[];
  filter: unknown;
  fields: string[] | null;
  ordering: WebhookOrdering;
}

export async function createWebhook(input: WebhookSettings): Promise<Webhook & { secret: string }> {
  const data = await graphql<{ createWebhook: Webhook & { secret: string } }>(
    `mutation CreateWebhook($input: CreateWebhookInput!) { createWebhook(input: $input) { ${WEBHOOK_FIELDS} secret } }`,
    { input: { ...input, description: input.description || null } },
  );
  return data.createWebhook;
}

export async function updateWebhook(input: {
  id: string;
  targetUrl?: string;
  description?: string;
  operations?: string[];
  filter?: unknown;
  fields?: string[] | null;
  ordering?: WebhookOrdering;
  status?: WebhookStatus;
}): Promise<Webhook> {
  const data = await graphql<{ updateWebhook: Webhook }>(
    `mutation UpdateWebhook($input: UpdateWebhookInput!) { updateWebhook(input: $input) { ${WEBHOOK_FIELDS} } }`,
    { input },
  );
  return data.updateWebhook;
}

export async function deleteWebhook(id: string): Promise<void> {
  await graphql(`mutation DeleteWebhook($id: UUID!) { deleteWebhook(id: $id) { id } }`, { id });
}

export async function rotateWebhookSecret(id: string): Promise<string> {
  const data = await graphql<{ rotateWebhookSecret: { secret: string } }>(
    `mutation Rotate($id: UUID!) { rotateWebhookSecret(id: $id) { id secret } }`,
    { id },
  );
  return data.rotateWebhookSecret.secret;
}

export interface DeliveryPage {
  deliveries: Delivery[];
  hasNextPage: boolean;
  endCursor: string | null;
  totalCount: number;
}

export interface DeliveryFilters {
  status?: DeliveryStatus;
  operation?: string;
  recordId?: string;
  eventId?: string;
  createdAfter?: string;
  createdBefore?: string;
}

export async function fetchDeliveries(webhookId: string, options: DeliveryFilters & { first: number; after?: string | null }): Promise<DeliveryPage> {
  const data = await graphql<{
    webhookDeliveries: { edges: Array<{ node: Delivery }>; pageInfo: { hasNextPage: boolean; endCursor: string | null }; totalCount: number };
  }>(
    `query Deliveries($webhookId: UUID!, $status: DeliveryStatus, $operation: String, $recordId: UUID, $eventId: UUID,
      $createdAfter: DateTime, $createdBefore: DateTime, $first: Int, $after: String) {
      webhookDeliveries(webhookId: $webhookId, status: $status, operation: $operation, recordId: $recordId, eventId: $eventId,
        createdAfter: $createdAfter, createdBefore: $createdBefore, first: $first, after: $after) {
        edges { node { ${DELIVERY_FIELDS} } cursor }
        pageInfo { hasNextPage endCursor }
        totalCount
      }
    }`,
    {
      webhookId,
      status: options.status ?? null,
      operation: options.operation || null,
      recordId: options.recordId || null,
      eventId: options.eventId || null,
      createdAfter: options.createdAfter || null,
      createdBefore: options.createdBefore || null,
      first: options.first,
      after: options.after ?? null,
    },
  );
  const connection = data.webhookDeliveries;
  return {
    deliveries: connection.edges.map((edge) => edge.node),
    hasNextPage: connection.pageInfo.hasNextPage,
    endCursor: connection.pageInfo.endCursor,
    totalCount: connection.totalCount,
  };
}

export async function fetchDelivery(id: string): Promise<Delivery | null> {
  const data = await graphql<{ webhookDelivery: Delivery | null }>(`query Delivery($id: UUID!) { webhookDelivery(id: $id) { ${DELIVERY_FIELDS} } }`, { id });
  return data.webhookDelivery;
}

export async function redeliver(deliveryId: string): Promise<Delivery> {
  const data = await graphql<{ redeliver: Delivery }>(
    `mutation Redeliver($deliveryId: UUID!) { redeliver(deliveryId: $deliveryId) { ${DELIVERY_FIELDS} } }`,
    { deliveryId },
  );
  return data.redeliver;
}

export interface ReplayResult {
  queued: number;
  since: string;
  /** Where the replay stopped: the asked end, or earlier when a bound stopped it (replay again from there). */
  until: string;
  /** Set when the window started before the oldest events kept: older ones were removed by retention. */
  retainedSince: string | null;
}

export async function replayWebhookEvents(id: string, since: string, until: string | null): Promise<ReplayResult> {
  const data = await graphql<{ replayWebhookEvents: ReplayResult }>(
    `mutation Replay($id: UUID!, $since: DateTime!, $until: DateTime) {
      replayWebhookEvents(id: $id, since: $since, until: $until) { queued since until retainedSince }
    }`,
    { id, since, until },
  );
  return data.replayWebhookEvents;
}

export async function sendTestWebhook(id: string, operation: string | null): Promise<TestAttempt> {
  const data = await graphql<{ sendTestWebhook: TestAttempt }>(
    `mutation SendTest($id: UUID!, $operation: String) { sendTestWebhook(id: $id, operation: $operation) { ${ATTEMPT_FIELDS} operation payload } }`,
    { id, operation },
  );
  return data.sendTestWebhook;
}

export async function fetchApiKeys(): Promise<ApiKey[]> {
  const data = await graphql<{ apiKeys: ApiKey[] }>('{ apiKeys { id name keyPrefix createdAt lastUsedAt revokedAt } }');
  return data.apiKeys;
}

export async function createApiKey(name: string): Promise<{ id: string; key: string; keyPrefix: string }> {
  const data = await graphql<{ createApiKey: { id: string; key: string; keyPrefix: string } }>(
    'mutation CreateApiKey($name: String) { createApiKey(name: $name) { id key keyPrefix } }',
    { name },
  );
  return data.createApiKey;
}

export async function revokeApiKey(id: string): Promise<void> {
  await graphql('mutation RevokeApiKey($id: UUID!) { revokeApiKey(id: $id) { id revokedAt } }', { id });
}
