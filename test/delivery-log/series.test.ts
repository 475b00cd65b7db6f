import type { RootOperationNode } from 'kysely';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRequire } from 'node:module';
import { DATABASE_KINDS } from '../helpers/databases.ts';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { insertSampleEvents } from '../helpers/fixtures.ts';
import { checkDocumentCost } from '../../src/api/graphql/cost-limits.ts';
import { DEFAULT_GRAPHQL_LIMITS } from '../../src/config.ts';
import { typeDefs } from '../../src/api/graphql/schema.ts';

// The copy of graphql the server uses (see graphql-runtime.ts).
const { buildSchema, parse } = createRequire(import.meta.url)('graphql') as typeof import('graphql');

const HOUR = 3_600_000;

/** What the list page asks for each webhook: figures, a sparkline and the newest delivery. */
const LIST_PAGE = `{ webhooks { id
  day: series(window: DAY, first: 24) { stats { sent successRate } points { start succeeded failed } }
  lastDelivery { id status attempts { number statusCode } } } }`;

// The API role only: no worker runs, so the test decides every attempt.
describe.each(DATABASE_KINDS)('Webhook.series and the list page on %s', (kind) => {
  let app: TestApp;
  let statements = 0;
  let workspaceId: string;

  async function createWebhook(apiKey?: string): Promise<string> {
    const created = await app.graphql(
      'mutation ($input: CreateWebhookInput!) { createWebhook(input: $input) { id } }',
      { input: { targetUrl: 'http://127.0.0.1:9/hook', operations: ['person.*'] } },
      apiKey,
    );
    return created.data.createWebhook.id;
  }

  async function addAttempt(webhookId: string, inWorkspace: string, startedAt: Date, statusCode: number | null, durationMs: number) {
    const db = app.server.database.db;
    const delivery = await db
      .selectFrom('deliveries')
      .select('id')
      .where('webhook_id', '=', webhookId)
      .orderBy('created_at', 'desc')
      .executeTakeFirstOrThrow();
    const number = Number((await db.selectFrom('delivery_attempts').select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow()).n) + 1;
    await db
      .insertInto('delivery_attempts')
      .values({
        id: randomUUID(),
        delivery_id: delivery.id,
        workspace_id: inWorkspace,
        webhook_id: webhookId,
        number,
        started_at: startedAt,
        duration_ms: durationMs,
        status_code: statusCode,
        response_body: null,
        error: statusCode === null ? 'refused' : null,
        request_headers: null,
      })
      .execute();
  }

  beforeAll(async () => {
    // The metadata version's re-read is left out: it runs when a second has passed since the last one, not because
    // of what a request asks.
    const isVersionRecheck = (node: RootOperationNode) =>
      node.kind === 'RawNode' && node.sqlFragments.join('').startsWith('SELECT metadata_version AS version FROM workspaces');
    app = await startTestApp(kind, { role: 'api', onStatement: (node) => void (isVersionRecheck(node) || (statements += 1)) });
    workspaceId = (await app.graphql('{ currentWorkspace { id } }')).data.currentWorkspace.id;
  });
  afterAll(async () => {
    await app?.close();
  });

  it('gives the 24 h and 7 d figures and an hourly chart in one query', async () => {
    const webhookId = await createWebhook();
    await insertSampleEvents(app.server.database.db, workspaceId, 1);
    const now = Date.now();
    // At the start of the current hour: in the newest bucket whatever the minute the test runs at.
    const thisHour = new Date(Math.floor(now / HOUR) * HOUR);
    await addAttempt(webhookId, workspaceId, thisHour, 200, 100);
    await addAttempt(webhookId, workspaceId, thisHour, 500, 300);
    await addAttempt(webhookId, workspaceId, new Date(now - 5 * HOUR), null, 50);
    await addAttempt(webhookId, workspaceId, new Date(now - 3 * 24 * HOUR), 204, 20);
    await addAttempt(webhookId, workspaceId, new Date(now - 9 * 24 * HOUR), 200, 10);

    const result = await app.graphql(
      `query ($id: UUID!) { webhook(id: $id) {
        day: series(window: DAY) { window bucketSeconds stats { sent succeeded failed successRate p50LatencyMs } points { start succeeded failed p95LatencyMs } }
        week: series(window: WEEK) { stats { sent succeeded failed successRate } points { succeeded failed } }
        stats { sent } } }`,
      { id: webhookId },
    );
    expect(result.errors).toBeUndefined();
    const { day, week, stats } = result.data.webhook;
    expect(day.window).toBe('DAY');
    expect(day.bucketSeconds).toBe(3600);
    expect(day.stats).toMatchObject({ sent: 3, succeeded: 1, failed: 2, successRate: 1 / 3, p50LatencyMs: 100 });
    expect(stats.sent).toBe(3);
    expect(day.points).toHaveLength(24);
    const newest = day.points.at(-1);
    expect(newest).toMatchObject({ succeeded: 1, failed: 1 });
    expect(newest.p95LatencyMs).toBeGreaterThan(100);
    expect(Date.parse(newest.start)).toBe(Math.floor(now / HOUR) * HOUR);
    expect(day.points.at(-6)).toMatchObject({ succeeded: 0, failed: 1 });
    expect(day.points.reduce((sum: number, point: { failed: number }) => sum + point.failed, 0)).toBe(2);
    // Oldest first, one hour apart.
    expect(Date.parse(day.points[1].start) - Date.parse(day.points[0].start)).toBe(HOUR);
    expect(week.points).toHaveLength(168);
    expect(week.stats).toMatchObject({ sent: 4, succeeded: 2, failed: 2, successRate: 0.5 });
  });

  it('refuses a first outside 1 to 168, naming it', async () => {
    const webhookId = await createWebhook();
    for (const first of [0, 169, -1]) {
      const result = await app.graphql('query ($id: UUID!, $first: Int) { webhook(id: $id) { series(window: WEEK, first: $first) { since } } }', {
        id: webhookId,
        first,
      });
      expect(result.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
      expect(result.errors?.[0].message).toMatch(/first/);
    }
    const bad = await app.graphql('query ($id: UUID!) { webhook(id: $id) { series(window: MONTH) { since } } }', { id: webhookId });
    expect(bad.errors?.[0].message).toMatch(/MONTH/);
  });

  it("counts only the workspace's own attempts, and another workspace's webhook is not found", async () => {
    const other = await app.createWorkspace(`other-${randomUUID()}`);
    const theirs = await createWebhook(other.apiKey);
    await insertSampleEvents(app.server.database.db, other.workspaceId, 1);
    await addAttempt(theirs, other.workspaceId, new Date(Date.now() - 60_000), 200, 5);
    const fromHere = await app.graphql('query ($id: UUID!) { webhook(id: $id) { series { stats { sent } } } }', { id: theirs });
    expect(fromHere.errors).toBeUndefined();
    expect(fromHere.data.webhook).toBeNull();
    const list = await app.graphql(LIST_PAGE);
    expect(list.data.webhooks.map((webhook: { id: string }) => webhook.id)).not.toContain(theirs);
    const fromThere = await app.graphql(LIST_PAGE, {}, other.apiKey);
    expect(fromThere.data.webhooks).toHaveLength(1);
    expect(fromThere.data.webhooks[0].day.stats.sent).toBe(1);
  });

  it('fits the default cost limits with a week of points for every listed webhook', () => {
    const verdict = checkDocumentCost(
      parse('{ webhooks { id week: series(window: WEEK) { stats { sent } points { start succeeded failed p50LatencyMs p95LatencyMs } } } }'),
      buildSchema(typeDefs),
      DEFAULT_GRAPHQL_LIMITS,
    );
    expect(verdict.ok).toBe(true);
    // The declared default (168 points) is what the checker counts, not the generic list size.
    if (verdict.ok) expect(verdict.figures.cost).toBeGreaterThan(168 * 5);
  });

  it('answers the list page in as many statements for 8 webhooks as for 1', async () => {
    const fresh = await app.createWorkspace(`count-${randomUUID()}`);
    const listPage = async () => {
      statements = 0;
      const result = await app.graphql(LIST_PAGE, {}, fresh.apiKey);
      expect(result.errors).toBeUndefined();
      return { count: statements, webhooks: result.data.webhooks };
    };
    const ids = [await createWebhook(fresh.apiKey)];
    await insertSampleEvents(app.server.database.db, fresh.workspaceId, 1);
    await addAttempt(ids[0], fresh.workspaceId, new Date(), 200, 7);
    const one = await listPage();
    expect(one.webhooks[0].lastDelivery.attempts).toHaveLength(1);
    for (let i = 0; i < 7; i++) ids.push(await createWebhook(fresh.apiKey));
    await insertSampleEvents(app.server.database.db, fresh.workspaceId, 1);
    const eight = await listPage();
    expect(eight.webhooks).toHaveLength(8);
    expect(eight.webhooks.every((webhook: { lastDelivery: unknown }) => webhook.lastDelivery)).toBe(true);
    expect(one.count).toBeGreaterThan(0);
    expect(eight.count).toBe(one.count);
  });
});
