import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATABASE_KINDS } from '../helpers/databases.ts';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { insertSampleEvents } from '../helpers/fixtures.ts';
import { eventually, startReceiver, type Receiver } from '../helpers/receiver.ts';

function metricValue(text: string, series: string): number {
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : 0;
}

// A real worker and a real receiver: what the log shows and what the endpoint got must agree.
describe.each(DATABASE_KINDS)('steering real deliveries on %s', (kind) => {
  let app: TestApp;
  let receiver: Receiver;
  let failing = true;
  let workspaceId: string;
  let webhook: { id: string; secret: string };

  const deliveryStatuses = async () =>
    app.server.database.db.selectFrom('deliveries').select(['id', 'event_id', 'status', 'attempt_count']).where('webhook_id', '=', webhook.id).execute();
  const metrics = async () => (await fetch(`${app.url}/metrics`)).text();

  beforeAll(async () => {
    receiver = await startReceiver((_request, response) => {
      response.statusCode = failing ? 500 : 200;
      response.end(failing ? 'not today' : 'thanks');
    });
    // Two quick attempts, then FAILED: long enough to observe, short enough for a test.
    app = await startTestApp(kind, { env: { SWITCHBOARD_RETRY_SCHEDULE: '20ms' } });
    const created = await app.graphql(
      'mutation ($input: CreateWebhookInput!) { createWebhook(input: $input) { id secret } }',
      { input: { targetUrl: `${receiver.url}/hook`, operations: ['*.*'] } },
    );
    webhook = created.data.createWebhook;
    workspaceId = (await app.graphql('{ currentWorkspace { id } }')).data.currentWorkspace.id;
  });
  afterAll(async () => {
    await app?.close();
    await receiver?.close();
  });

  it('logs failed attempts, moves the metrics, and Resend succeeds once the endpoint recovers', async () => {
    const before = await metrics();
    const [event] = await insertSampleEvents(app.server.database.db, workspaceId, 1);
    const [failed] = await eventually(deliveryStatuses, (rows) => rows.length === 1 && rows[0].status === 'FAILED');
    expect(failed.attempt_count).toBe(2);
    const after = await metrics();
    expect(metricValue(after, 'switchboard_delivery_attempts_total{result="failure"}') - metricValue(before, 'switchboard_delivery_attempts_total{result="failure"}')).toBe(2);
    expect(metricValue(after, 'switchboard_deliveries_total{outcome="failed"}') - metricValue(before, 'switchboard_deliveries_total{outcome="failed"}')).toBe(1);
    expect(metricValue(after, 'switchboard_delivery_attempt_duration_seconds_count')).toBeGreaterThanOrEqual(2);

    const log = await app.graphql(
      'query ($id: UUID!) { webhookDeliveries(webhookId: $id) { edges { node { id status attemptCount attempts { number statusCode responseBody requestHeaders { name value } } } } } }',
      { id: webhook.id },
    );
    const node = log.data.webhookDeliveries.edges[0].node;
    expect(node.attempts.map((attempt: { statusCode: number }) => attempt.statusCode)).toEqual([500, 500]);
    expect(node.attempts[0].responseBody).toBe('not today');
    expect(node.attempts[0].requestHeaders.map((header: { name: string }) => header.name.toLowerCase())).toContain('x-twenty-signature');

    failing = false;
    const requestsBefore = receiver.requests.length;
    const resent = await app.graphql('mutation ($id: UUID!) { redeliver(deliveryId: $id) { status } }', { id: failed.id });
    expect(resent.data.redeliver.status).toBe('PENDING');
    const [succeeded] = await eventually(deliveryStatuses, (rows) => rows[0].status === 'SUCCEEDED');
    expect(succeeded.attempt_count).toBe(3);
    expect(receiver.requests.length).toBe(requestsBefore + 1);
    expect(receiver.requests.at(-1)!.headers['webhook-id']).toBe(event.id);
    const final = await metrics();
    expect(metricValue(final, 'switchboard_deliveries_total{outcome="succeeded"}')).toBeGreaterThanOrEqual(1);
    expect(metricValue(final, 'switchboard_delivery_queue_depth')).toBe(0);
  });

  it('recoverWebhook re-sends exactly the failed deliveries of the window', async () => {
    failing = true;
    const events = await insertSampleEvents(app.server.database.db, workspaceId, 4);
    await eventually(deliveryStatuses, (rows) => rows.filter((row) => row.status === 'FAILED').length === 4);
    // One failure from before the window.
    const old = events[0];
    await app.server.database.db
      .updateTable('deliveries')
      .set({ created_at: new Date(Date.now() - 7_200_000) })
      .where('event_id', '=', old.id)
      .execute();

    failing = false;
    const mark = receiver.requests.length;
    const recovered = await app.graphql(
      'mutation ($id: UUID!, $since: DateTime!) { recoverWebhook(id: $id, since: $since) { queued } }',
      { id: webhook.id, since: new Date(Date.now() - 3_600_000).toISOString() },
    );
    expect(recovered.data.recoverWebhook.queued).toBe(3);
    await receiver.waitForCount(mark + 3);
    const rows = await eventually(deliveryStatuses, (list) => list.filter((row) => row.status === 'SUCCEEDED').length === 4);
    expect(rows.find((row) => row.event_id === old.id)!.status).toBe('FAILED');
    const resentIds = receiver.requests.slice(mark).map((request) => request.headers['webhook-id']);
    expect(resentIds.sort()).toEqual(events.slice(1).map((event) => event.id).sort());
    // The worker has looked for work again and is idle: the FAILED one was not among those recovered.
    await app.server.worker!.idle();
    expect(receiver.requests.length).toBe(mark + 3);
  });

  it('sendTestWebhook signs and sends a sample event now and returns the attempt', async () => {
    failing = false;
    const mark = receiver.requests.length;
    const result = await app.graphql(
      'mutation ($id: UUID!) { sendTestWebhook(id: $id, operation: "company.updated") { number statusCode responseBody durationMs operation payload requestHeaders { name value } } }',
      { id: webhook.id },
    );
    expect(result.errors).toBeUndefined();
    const attempt = result.data.sendTestWebhook;
    expect(attempt).toMatchObject({ number: 1, statusCode: 200, responseBody: 'thanks', operation: 'company.updated' });
    expect(receiver.requests.length).toBe(mark + 1);
    const received = receiver.requests.at(-1)!;
    expect(received.body).toBe(attempt.payload);
    const payload = JSON.parse(received.body);
    expect(payload).toMatchObject({ webhookId: webhook.id, workspaceId, operation: 'company.updated', updatedFields: ['employees'] });
    expect(payload.previousRecord.employees).not.toBe(payload.record.employees);
    const timestamp = received.headers['x-twenty-timestamp'];
    const expected = createHmac('sha256', webhook.secret).update(`${timestamp}.${received.body}`).digest('hex');
    expect(received.headers['x-twenty-signature']).toBe(`sha256=${expected}`);
    // Nothing stored: the log holds only real events.
    const log = await app.graphql('query ($id: UUID!) { webhookDeliveries(webhookId: $id) { totalCount } }', { id: webhook.id });
    expect(log.data.webhookDeliveries.totalCount).toBe(5);

    const wildcard = await app.graphql('mutation ($id: UUID!) { sendTestWebhook(id: $id, operation: "person.*") { statusCode } }', { id: webhook.id });
    expect(wildcard.errors?.[0].message).toMatch(/operation: "person\.\*" must name one object and one action/);
  });

  it('counts the events record writes emit', async () => {
    failing = false;
    const before = metricValue(await metrics(), 'switchboard_events_emitted_total');
    const created = await app.graphql('mutation { createPeople(data: [{ firstName: "Ada" }, { firstName: "Grace" }]) { id } }');
    expect(created.errors).toBeUndefined();
    await app.graphql('mutation ($id: UUID!) { updatePerson(id: $id, data: { firstName: "Ada" }) { id } }', { id: created.data.createPeople[0].id });
    expect(metricValue(await metrics(), 'switchboard_events_emitted_total') - before).toBe(2);
  });
});
