import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Config } from '../config.ts';
import type { Clock } from '../domain/clock.ts';
import { invalidInput, notFound, SwitchboardError } from '../domain/errors.ts';
import { requireStorableText } from '../domain/stored-text.ts';
import { DEFAULT_OPERATIONS, EVENT_OBJECTS, validateOperations } from '../domain/operations.ts';
import { isUuid } from '../domain/records.ts';
import { normaliseTargetUrl, type TargetUrlRules } from '../domain/target-url.ts';
import { screenModelOf, STANDARD_SCREEN_MODEL, validateWebhookFields, validateWebhookFilter, type ScreenModel } from '../domain/webhook-screen.ts';
import type { DataModel } from '../domain/metadata.ts';
import type { DB, WebhookDisabledReason, WebhookOrdering, WebhookStatus } from '../storage/schema.ts';
import { updateWebhookAnnounced } from '../storage/operational-events.ts';
import * as store from '../storage/webhooks.ts';
import { createSecretBox, type SecretBox } from './secret-box.ts';
import {
  generateWebhookSecret,
  ROTATION_GRACE_PERIOD_MS,
  validateGivenSecret,
} from './secrets.ts';

export const MAX_DESCRIPTION_LENGTH = 1000;
export const WEBHOOK_STATUSES: readonly WebhookStatus[] = ['ACTIVE', 'DISABLED'];
export const WEBHOOK_ORDERINGS: readonly WebhookOrdering[] = ['NONE', 'PER_RECORD'];

/** A webhook as the API shows it. `secret` is the plain secret in the answers to create and rotate only, else null. */
export interface Webhook {
  id: string;
  targetUrl: string;
  operations: string[];
  description: string | null;
  secret: string | null;
  status: WebhookStatus;
  /** A record filter (contract §10) as given; null: every record. */
  filter: unknown | null;
  /** For updated events: deliver only when one of these fields changed; null: any change. */
  fields: string[] | null;
  /** PER_RECORD: one record's deliveries go strictly in commit order; NONE (default): as they can. */
  ordering: WebhookOrdering;
  /** Why it is DISABLED: GONE_410, FAILING_5_DAYS or BY_USER; null while ACTIVE. */
  disabledReason: WebhookDisabledReason | null;
  /** When it was disabled; null while ACTIVE. */
  disabledAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
  deletedAt: Date | null;
}

export interface CreateWebhookInput {
  /** A client-chosen id; a fresh UUID when absent. */
  id?: string | null;
  targetUrl: string;
  /** Defaults to ["*.*"]. */
  operations?: string[] | null;
  description?: string | null;
  /** Generated when absent or empty. */
  secret?: string | null;
  /** A record filter in the list filter grammar (contract §9), checked against the operations' objects. */
  filter?: unknown;
  fields?: string[] | null;
  /** Defaults to NONE. */
  ordering?: WebhookOrdering | null;
}

/** The changeable fields (Twenty's `WebhookUpdateInput`). Null means "leave as is", except description (null clears it). */
export interface WebhookFieldChanges {
  targetUrl?: string | null;
  operations?: string[] | null;
  description?: string | null;
  /** Replaces the secret at once; the previous one stops signing (use rotation for a grace period). Empty means "keep". */
  secret?: string | null;
  /** A new record filter; null clears it. */
  filter?: unknown;
  /** A new fields list; null clears it. */
  fields?: string[] | null;
  ordering?: WebhookOrdering | null;
}

/** Flat fields (the seed's form), a nested `update` (Twenty's form), or both when they agree. */
export interface UpdateWebhookInput extends WebhookFieldChanges {
  id: string;
  status?: WebhookStatus | null;
  update?: WebhookFieldChanges | null;
}

export interface WebhookService {
  list(workspaceId: string): Promise<Webhook[]>;
  /** The workspace's live webhook, or undefined (also for another workspace's id or a deleted one). */
  find(workspaceId: string, id: string): Promise<Webhook | undefined>;
  get(workspaceId: string, id: string): Promise<Webhook>;
  create(workspaceId: string, input: CreateWebhookInput): Promise<Webhook>;
  update(workspaceId: string, input: UpdateWebhookInput): Promise<Webhook>;
  /** Soft delete: the webhook gets no new deliveries from this moment and vanishes from lists. */
  delete(workspaceId: string, id: string): Promise<Webhook>;
  /** A new generated secret; the previous one keeps signing for ROTATION_GRACE_PERIOD_MS. */
  rotateSecret(workspaceId: string, id: string): Promise<Webhook>;
  /** Seals and opens secrets at rest (SWITCHBOARD_ENCRYPTION_KEY). */
  readonly secretBox: SecretBox;
}

export interface WebhookServiceDeps {
  db: Kysely<DB>;
  config: Pick<Config, 'encryptionKey' | 'production' | 'allowPrivateTargets' | 'maxWebhooksPerWorkspace'>;
  clock: Clock;
  logger: Logger;
  /**
   * The workspace's data model: its active objects are what operations may name, their fields what a filter or a
   * fields list may name (default: the standard objects alone).
   */
  dataModel?: (workspaceId: string) => Promise<DataModel>;
}

function toWebhook(row: store.WebhookRow, plainSecret: string | null = null): Webhook {
  return {
    id: row.id,
    targetUrl: row.targetUrl,
    operations: row.operations,
    description: row.description,
    secret: plainSecret,
    status: row.status,
    filter: row.filter,
    fields: row.fields,
    ordering: row.ordering,
    disabledReason: row.disabledReason,
    disabledAt: row.disabledAt,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
    deletedAt: row.deletedAt,
  };
}

function validateDescription(description: string | null, field: string): string | null {
  if (description === null) return null;
  if (description.length > MAX_DESCRIPTION_LENGTH) {
    throw invalidInput(field, `must be at most ${MAX_DESCRIPTION_LENGTH} characters (got ${description.length})`);
  }
  return requireStorableText(description, field);
}

function validateOrdering(ordering: string, field: string): WebhookOrdering {
  if (!(WEBHOOK_ORDERINGS as readonly string[]).includes(ordering)) {
    throw invalidInput(field, `${JSON.stringify(ordering)} is not an ordering: use NONE or PER_RECORD`);
  }
  return ordering as WebhookOrdering;
}

function validateStatus(status: string, field: string): WebhookStatus {
  if (!(WEBHOOK_STATUSES as readonly string[]).includes(status)) {
    throw invalidInput(field, `${JSON.stringify(status)} is not a status: use ACTIVE or DISABLED`);
  }
  return status as WebhookStatus;
}

/** An empty or absent secret means "none given"; Twenty's form sends "" when the field is left blank. */
function givenSecret(secret: string | null | undefined): string | undefined {
  return secret === null || secret === undefined || secret === '' ? undefined : secret;
}

const CHANGEABLE_FIELDS = ['targetUrl', 'operations', 'description', 'secret', 'filter', 'fields', 'ordering'] as const;
/** Fields where null is a value (it clears them) rather than "leave as is". */
const CLEARABLE_FIELDS: ReadonlySet<string> = new Set(['description', 'filter', 'fields']);

/**
 * Merges the flat fields with the nested `update`. A field given in both places must agree, so a
 * client never loses an edit to an unspoken precedence rule.
 */
function mergeChanges(input: UpdateWebhookInput): { changes: WebhookFieldChanges; fieldName: (key: string) => string } {
  const nested = input.update ?? {};
  const changes: WebhookFieldChanges = {};
  const source: Record<string, string> = {};
  for (const key of CHANGEABLE_FIELDS) {
    const flat = input[key];
    const inner = nested[key];
    const flatGiven = flat !== undefined && !(flat === null && !CLEARABLE_FIELDS.has(key));
    const innerGiven = inner !== undefined && !(inner === null && !CLEARABLE_FIELDS.has(key));
    if (flatGiven && innerGiven && JSON.stringify(flat) !== JSON.stringify(inner)) {
      throw invalidInput(`update.${key}`, `differs from the top-level ${key}; give it in one place only`);
    }
    if (innerGiven) {
      (changes as Record<string, unknown>)[key] = inner;
      source[key] = `update.${key}`;
    } else if (flatGiven) {
      (changes as Record<string, unknown>)[key] = flat;
      source[key] = key;
    }
  }
  return { changes, fieldName: (key) => source[key] ?? key };
}

export function createWebhookService(deps: WebhookServiceDeps): WebhookService {
  const { db, clock } = deps;
  const screenModel = async (workspaceId: string): Promise<ScreenModel> =>
    deps.dataModel ? screenModelOf(await deps.dataModel(workspaceId)) : STANDARD_SCREEN_MODEL;
  const objectNames = async (workspaceId: string): Promise<readonly string[]> =>
    deps.dataModel ? (await deps.dataModel(workspaceId)).objects.map((object) => object.nameSingular) : EVENT_OBJECTS;
  const secretBox = createSecretBox(deps.config.encryptionKey);
  const maxWebhooks = deps.config.maxWebhooksPerWorkspace;
  const urlRules: TargetUrlRules = {
    httpsOnly: deps.config.production,
    allowPrivateTargets: deps.config.allowPrivateTargets,
  };

  async function findRow(workspaceId: string, id: string): Promise<store.WebhookRow | undefined> {
    // An id that is not a UUID names no webhook; checking here keeps PostgreSQL's cast error out of the answer.
    if (!isUuid(id)) return undefined;
    return store.findWebhook(db, workspaceId, id.toLowerCase());
  }

  function requireFound<T>(row: T | undefined, id: string): T {
    if (!row) throw notFound('webhook', id);
    return row;
  }

  return {
    secretBox,

    async list(workspaceId) {
      return (await store.listWebhooks(db, workspaceId)).map((row) => toWebhook(row));
    },

    async find(workspaceId, id) {
      const row = await findRow(workspaceId, id);
      return row && toWebhook(row);
    },

    async get(workspaceId, id) {
      return toWebhook(requireFound(await findRow(workspaceId, id), id));
    },

    async create(workspaceId, input) {
      // Everything is validated before anything is written.
      let id: string = randomUUID();
      if (input.id !== undefined && input.id !== null) {
        if (!isUuid(input.id)) throw invalidInput('id', `${JSON.stringify(input.id)} is not a UUID`);
        id = input.id.toLowerCase();
      }
      const targetUrl = normaliseTargetUrl(input.targetUrl, urlRules);
      const operations = validateOperations(input.operations ?? DEFAULT_OPERATIONS, 'operations', await objectNames(workspaceId));
      const description = validateDescription(input.description ?? null, 'description');
      const given = givenSecret(input.secret);
      const secret = given === undefined ? generateWebhookSecret() : validateGivenSecret(given);
      const filter = input.filter ?? null;
      const screens = await screenModel(workspaceId);
      validateWebhookFilter(filter, operations, 'filter', screens);
      const fields = validateWebhookFields(input.fields, operations, 'fields', screens);
      const ordering = input.ordering === undefined || input.ordering === null ? 'NONE' : validateOrdering(input.ordering, 'ordering');

      const row = await store.insertWebhook(db, {
        id,
        workspaceId,
        targetUrl,
        operations,
        description,
        secret: secretBox.seal(secret),
        filter,
        fields,
        ordering,
        createdAt: clock.now(),
      }, maxWebhooks);
      if (row === 'taken') throw new SwitchboardError('CONFLICT', `id: a webhook with id ${id} already exists`, 'id');
      if (row === 'full') {
        throw new SwitchboardError(
          'CONFLICT',
          `this workspace has reached its limit of ${maxWebhooks} webhooks (SWITCHBOARD_MAX_WEBHOOKS_PER_WORKSPACE): delete one before creating another`,
        );
      }
      return toWebhook(row, secret);
    },

    async update(workspaceId, input) {
      const { changes, fieldName } = mergeChanges(input);
      const write: store.WebhookChanges = {};
      if (changes.targetUrl !== undefined && changes.targetUrl !== null) {
        write.targetUrl = normaliseTargetUrl(changes.targetUrl, urlRules, fieldName('targetUrl'));
      }
      if (changes.operations !== undefined && changes.operations !== null) {
        write.operations = validateOperations(changes.operations, fieldName('operations'), await objectNames(workspaceId));
      }
      if (changes.description !== undefined) {
        write.description = validateDescription(changes.description, fieldName('description'));
      }
      if (changes.ordering !== undefined && changes.ordering !== null) write.ordering = validateOrdering(changes.ordering, fieldName('ordering'));
      const secret = givenSecret(changes.secret);
      if (secret !== undefined) write.secret = secretBox.seal(validateGivenSecret(secret, fieldName('secret')));
      if (input.status !== undefined && input.status !== null) {
        write.status = validateStatus(input.status, 'status');
        // A re-enabled webhook gets a fresh failure window, or the next failure would disable it again at once.
        write.resetFailingSinceIfDisabled = write.status === 'ACTIVE';
      }

      if (!isUuid(input.id)) throw notFound('webhook', input.id);
      const id = input.id.toLowerCase();
      if (write.operations !== undefined || changes.filter !== undefined || changes.fields !== undefined) {
        // A screen may only name fields of the objects the operations match, so a change to either checks both.
        const current = requireFound(await store.findWebhook(db, workspaceId, id), id);
        const operations = write.operations ?? current.operations;
        const filter = changes.filter !== undefined ? changes.filter : current.filter;
        const screens = await screenModel(workspaceId);
        validateWebhookFilter(filter, operations, fieldName('filter'), screens);
        const fields = validateWebhookFields(changes.fields !== undefined ? changes.fields : current.fields, operations, fieldName('fields'), screens);
        if (changes.filter !== undefined) write.filter = changes.filter;
        if (changes.fields !== undefined) write.fields = fields;
      }
      if (Object.keys(write).length === 0) return toWebhook(requireFound(await store.findWebhook(db, workspaceId, id), id));
      const row = await updateWebhookAnnounced(db, workspaceId, id, write, clock.now());
      return toWebhook(requireFound(row, id));
    },

    async delete(workspaceId, id) {
      if (!isUuid(id)) throw notFound('webhook', id);
      const row = await store.softDeleteWebhook(db, workspaceId, id.toLowerCase(), clock.now());
      return toWebhook(requireFound(row, id));
    },

    async rotateSecret(workspaceId, id) {
      if (!isUuid(id)) throw notFound('webhook', id);
      const now = clock.now();
      const secret = generateWebhookSecret();
      const row = await store.rotateWebhookSecret(
        db,
        workspaceId,
        id.toLowerCase(),
        secretBox.seal(secret),
        new Date(now.getTime() + ROTATION_GRACE_PERIOD_MS),
        now,
      );
      return toWebhook(requireFound(row, id), secret);
    },
  };
}
