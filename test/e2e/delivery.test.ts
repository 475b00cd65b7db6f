import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Clock } from '../../src/domain/clock.ts';
import { appendEvents } from '../../src/storage/events.ts';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { DATABASE_KINDS } from '../helpers/databases.ts';
import { insertSampleEvents, insertWebhookRow } from '../helpers/fixtures.ts';
import { eventually, startReceiver, type Receiver } from '../helpers/receiver.ts';

/** X-Twenty-Signature as the contract states it, written here independently of src/. */
function verifyTwentySignature(secret: string, headers: Record<string, string | string[] | undefined>, body: string): boolean {
  const timestamp = String(headers['x-twenty-timestamp']);
  const expected = Buffer.from(`sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`);
  const given = Buffer.from(String(headers['x-twenty-signature']));
  return given.length === expected.length && timingSafeEqual(given, expected);
}

async function defaultWorkspaceId(app: TestApp): Promise<string> {
  const row = await app.server.database.db.selectFrom('workspaces').select('id').where('name', '=', 'default').executeTakeFirstOrThrow();
  return row.id;
}

async function deliveriesOf(app: TestApp, webhookId: string) {
  return app.server.database.db
    .selectFrom('deliveries')
    .selectAll()
    .where('webhook_id', '=', webhookId)
    .orderBy('created_at')
    .execute();
}

async function attemptsOf(app: TestApp, deliveryId: string) {
  return app.server.database.db
    .selectFrom('delivery_attempts')
    .selectAll()
    .where('delivery_id', '=', deliveryId)
    .orderBy('number')
    .execute();
}

describe.each(DATABASE_KINDS)('delivery end to end on %s', (kind) => {
  const receivers: Receiver[] = [];
  const receiver = async (...args: Parameters<typeof startReceiver>) => {
    const started = await startReceiver(...args);
    receivers.push(started);
    return started;
  };
  afterEach(async () => {
    await Promise.all(receivers.splice(0).map((r) => r.close()));
  });

  describe('with a retry schedule driven by the injected clock', () => {
    // Retries come due only when the test moves the clock: the schedule is checked step by step without waiting
    // for it. Real time still passes on that clock, so timeouts and durations are real.
    // The timeout is long enough that a busy machine does not turn a prompt answer into a timed-out attempt.
    const steps = [60_000, 120_000, 180_000, 240_000, 300_000];
    let offset = 0;
    const clock: Clock = { now: () => new Date(Date.now() + offset) };
    let app: TestApp;
    let workspaceId: string;
    /** Moves the clock to `at` (never back) and waits until the worker has done everything due by then. */
    async function moveClockTo(at: Date): Promise<void> {
      offset = Math.max(offset, at.getTime() - Date.now());
      await app.server.worker!.idle();
    }
    /** Moves the clock to the delivery's next attempt, as often as `times`, waiting for each attempt to be stored. */
    async function runRetries(deliveryId: string, times: number): Promise<void> {
      for (let i = 0; i < times; i++) {
        const row = await app.server.database.db.selectFrom('deliveries').select('next_attempt_at').where('id', '=', deliveryId).executeTakeFirstOrThrow();
        await moveClockTo(row.next_attempt_at!);
      }
    }
    beforeAll(async () => {
      app = await startTestApp(kind, {
        clock,
        env: { SWITCHBOARD_RETRY_SCHEDULE: steps.map((ms) => `${ms}ms`).join(','), SWITCHBOARD_DELIVERY_TIMEOUT: '3s', SWITCHBOARD_LEASE: '6s' },
      });
      workspaceId = await defaultWorkspaceId(app);
    });
    afterAll(async () => {
      await app?.close();
    });
    // Each test starts with no active webhook: what an earlier one left pending is not sent when the clock moves
    // (its receiver is closed, and a new receiver may be given the same port).
    afterEach(async () => {
      await app.server.database.db.updateTable('webhooks').set({ status: 'DISABLED' }).where('status', '=', 'ACTIVE').execute();
    });

    it('delivers a record write, signed as the contract says, verified by hand and by the standardwebhooks library', async () => {
      const target = await receiver();
      const created = await app.graphql(
        `mutation($input: CreateWebhookInput!) { createWebhook(input: $input) { id secret } }`,
        { input: { targetUrl: `${target.url}/hook`, operations: ['person.created'] } },
      );
      expect(created.errors).toBeUndefined();
      const { id: webhookId, secret } = created.data.createWebhook;
      const person = await app.graphql(`mutation { createPerson(data: { firstName: "Ada", lastName: "Lovelace" }) { id } }`);
      expect(person.errors).toBeUndefined();

      await target.waitForCount(1);
      const [request] = target.requests;
      expect(request.method).toBe('POST');
      expect(request.path).toBe('/hook');
      expect(request.headers['content-type']).toBe('application/json');
      expect(request.headers['user-agent']).toMatch(/^Switchboard-Webhooks\/\d+\.\d+\.\d+/);
      expect(verifyTwentySignature(secret, request.headers, request.body)).toBe(true);
      expect(verifyTwentySignature(`${secret}x`, request.headers, request.body)).toBe(false);
      const payload = new Webhook(secret).verify(request.body, {
        'webhook-id': String(request.headers['webhook-id']),
        'webhook-timestamp': String(request.headers['webhook-timestamp']),
        'webhook-signature': String(request.headers['webhook-signature']),
      }) as Record<string, any>;
      expect(Math.abs(Number(request.headers['x-twenty-timestamp']) - clock.now().getTime() / 1000)).toBeLessThan(10);
      expect(request.headers['webhook-timestamp']).toBe(request.headers['x-twenty-timestamp']);
      expect(Object.keys(payload)).toEqual(['id', 'workspaceId', 'webhookId', 'operation', 'timestamp', 'record', 'previousRecord', 'updatedFields']);
      expect(request.body).toBe(JSON.stringify(payload));
      expect(payload).toMatchObject({ id: request.headers['webhook-id'], workspaceId, webhookId, operation: 'person.created', previousRecord: null });
      expect(payload.record).toMatchObject({ id: person.data.createPerson.id, firstName: 'Ada', lastName: 'Lovelace' });

      const [delivery] = await eventually(() => deliveriesOf(app, webhookId), (rows) => rows[0]?.status === 'SUCCEEDED');
      expect(delivery.attempt_count).toBe(1);
      const [attempt] = await attemptsOf(app, delivery.id);
      expect(attempt).toMatchObject({ number: 1, status_code: 200, response_body: 'ok', error: null });
      expect(attempt.request_headers).toMatchObject({ 'webhook-id': payload.id });
      expect(target.requests).toHaveLength(1);
    });

    it('follows the retry schedule step by step: 6 attempts, then FAILED, every attempt stored', async () => {
      const target = await receiver((_request, response) => {
        response.statusCode = 500;
        response.end('broken');
      });
      const webhook = await insertWebhookRow(app.server.database.db, { workspaceId, targetUrl: target.url });
      await insertSampleEvents(app.server.database.db, workspaceId, 1);
      await app.server.worker!.idle();
      for (const [index, step] of steps.entries()) {
        const [delivery] = await deliveriesOf(app, webhook.id);
        const attempts = await attemptsOf(app, delivery.id);
        expect([delivery.status, delivery.attempt_count, attempts.length]).toEqual(['PENDING', index + 1, index + 1]);
        // The step counts from the attempt's end, on the injected clock: at least the step after its start, and
        // well short of the next step (they are a minute apart).
        const last = attempts.at(-1)!;
        const wait = delivery.next_attempt_at!.getTime() - last.started_at.getTime();
        expect(wait).toBeGreaterThanOrEqual(step);
        expect(wait).toBeLessThan(step + 60_000);
        // A second before it is due: nothing is sent.
        await moveClockTo(new Date(delivery.next_attempt_at!.getTime() - 1_000));
        expect(target.requests).toHaveLength(index + 1);
        await moveClockTo(delivery.next_attempt_at!);
        expect(target.requests).toHaveLength(index + 2);
      }
      const [delivery] = await deliveriesOf(app, webhook.id);
      expect(delivery).toMatchObject({ status: 'FAILED', attempt_count: 6, next_attempt_at: null });
      const attempts = await attemptsOf(app, delivery.id);
      expect(attempts.map((a) => [a.number, a.status_code, a.response_body])).toEqual(
        [1, 2, 3, 4, 5, 6].map((number) => [number, 500, 'broken']),
      );
      // The same event id on every retry; a fresh timestamp and signature each time.
      expect(new Set(target.requests.map((r) => r.headers['webhook-id'])).size).toBe(1);
      expect(new Set(target.requests.map((r) => r.headers['webhook-signature'])).size).toBe(6);
      // Past the last step, with the worker idle: nothing more.
      await moveClockTo(new Date(clock.now().getTime() + 2 * steps.at(-1)!));
      expect(target.requests).toHaveLength(6);
    });

    it('honours a Retry-After longer than the next step on 503', async () => {
      let calls = 0;
      const target = await receiver((_request, response) => {
        if (++calls === 1) {
          response.writeHead(503, { 'Retry-After': '600' });
          return void response.end();
        }
        response.end('ok');
      });
      const webhook = await insertWebhookRow(app.server.database.db, { workspaceId, targetUrl: target.url });
      await insertSampleEvents(app.server.database.db, workspaceId, 1);
      await app.server.worker!.idle();
      const [waiting] = await deliveriesOf(app, webhook.id);
      const [first] = await attemptsOf(app, waiting.id);
      expect(first!.status_code).toBe(503);
      const wait = waiting.next_attempt_at!.getTime() - first!.started_at.getTime();
      expect(wait).toBeGreaterThanOrEqual(600_000);
      expect(wait).toBeLessThan(600_000 + steps[0]!);
      // Past the schedule's first step, short of the Retry-After: still waiting.
      await moveClockTo(new Date(first!.started_at.getTime() + steps[0]! + 1_000));
      expect(target.requests).toHaveLength(1);
      await moveClockTo(waiting.next_attempt_at!);
      const [delivery] = await deliveriesOf(app, webhook.id);
      expect(delivery.status).toBe('SUCCEEDED');
      expect((await attemptsOf(app, delivery.id)).map((a) => a.status_code)).toEqual([503, 200]);
    });

    it('disables the webhook on 410 Gone and sends it nothing more', async () => {
      const target = await receiver((_request, response) => {
        response.statusCode = 410;
        response.end();
      });
      const webhook = await insertWebhookRow(app.server.database.db, { workspaceId, targetUrl: target.url });
      await insertSampleEvents(app.server.database.db, workspaceId, 1);
      await target.waitForCount(1);
      const [delivery] = await eventually(() => deliveriesOf(app, webhook.id), (rows) => rows[0]?.status === 'FAILED');
      // Compared as a list so that a failure shows what each attempt met.
      expect((await attemptsOf(app, delivery.id)).map((a) => [a.status_code, a.error])).toEqual([[410, null]]);
      expect(delivery.attempt_count).toBe(1);
      const row = await eventually(
        () => app.server.database.db.selectFrom('webhooks').select(['status', 'disabled_reason', 'disabled_at']).where('id', '=', webhook.id).executeTakeFirstOrThrow(),
        (value) => value.status === 'DISABLED',
      );
      expect(row).toMatchObject({ status: 'DISABLED', disabled_reason: 'GONE_410' });
      expect(row.disabled_at).toBeInstanceOf(Date);
      await insertSampleEvents(app.server.database.db, workspaceId, 1);
      await app.server.worker!.idle();
      expect(target.requests).toHaveLength(1);
      // The event came after the webhook was disabled: it matched nothing.
      expect(await deliveriesOf(app, webhook.id)).toHaveLength(1);
    });

    it('fails a 3xx answer without following the redirect', async () => {
      const target = await receiver((request, response) => {
        if (request.path === '/moved') return void response.end('should not be reached');
        response.writeHead(302, { Location: '/moved' });
        response.end();
      });
      const webhook = await insertWebhookRow(app.server.database.db, { workspaceId, targetUrl: `${target.url}/start` });
      await insertSampleEvents(app.server.database.db, workspaceId, 1);
      await app.server.worker!.idle();
      await runRetries((await deliveriesOf(app, webhook.id))[0]!.id, steps.length);
      const [delivery] = await deliveriesOf(app, webhook.id);
      expect(delivery.status).toBe('FAILED');
      const attempts = await attemptsOf(app, delivery.id);
      expect(attempts).toHaveLength(6);
      expect(attempts[0]).toMatchObject({ status_code: 302 });
      expect(attempts[0]!.error).toMatch(/redirect/);
      expect(target.requests.map((r) => r.path)).toEqual(Array(6).fill('/start'));
    });

    it('cuts a receiver that never answers at the timeout, and keeps only 4 KiB of an answer', async () => {
      const silent = await receiver(() => {});
      const silentHook = await insertWebhookRow(app.server.database.db, { workspaceId, targetUrl: silent.url, operations: ['person.created'] });
      const chatty = await receiver((_request, response) => response.end('x'.repeat(10_000)));
      const chattyHook = await insertWebhookRow(app.server.database.db, { workspaceId, targetUrl: chatty.url, operations: ['person.created'] });
      await insertSampleEvents(app.server.database.db, workspaceId, 1);

      const [silentDelivery] = await eventually(() => deliveriesOf(app, silentHook.id), (rows) => rows[0]?.attempt_count === 1);
      const [timedOut] = await attemptsOf(app, silentDelivery.id);
      expect(timedOut.status_code).toBeNull();
      expect(timedOut.error).toMatch(/timed out after 3000 ms/);
      expect(timedOut.duration_ms).toBeGreaterThanOrEqual(2990);

      const [chattyDelivery] = await eventually(() => deliveriesOf(app, chattyHook.id), (rows) => rows[0]?.status === 'SUCCEEDED');
      const [answered] = await attemptsOf(app, chattyDelivery.id);
      expect(answered.response_body).toBe('x'.repeat(4096));
    });

    it('does not send events to a webhook disabled or deleted before its delivery was attempted', async () => {
      const target = await receiver();
      const webhook = await insertWebhookRow(app.server.database.db, { workspaceId, targetUrl: target.url });
      // The webhook is deleted in the transaction that wrote the event: its delivery exists but must not be sent.
      const recordId = randomUUID();
      await app.server.database.db.transaction().execute(async (trx) => {
        await appendEvents(trx, [
          { id: randomUUID(), workspaceId, operation: 'person.created', recordId, record: { id: recordId }, previousRecord: null, updatedFields: null, createdAt: new Date() },
        ]);
        await trx.updateTable('webhooks').set({ deleted_at: new Date() }).where('id', '=', webhook.id).execute();
      });
      const [delivery] = await eventually(() => deliveriesOf(app, webhook.id), (rows) => rows[0]?.status === 'FAILED');
      expect(delivery.attempt_count).toBe(0);
      expect(target.requests).toHaveLength(0);
    });
  });

  it('refuses private targets when they are not allowed, also through a host name', async () => {
    const app = await startTestApp(kind, { env: { SWITCHBOARD_ALLOW_PRIVATE_TARGETS: 'false', SWITCHBOARD_RETRY_SCHEDULE: '1h' } });
    try {
      const target = await receiver();
      const workspaceId = await defaultWorkspaceId(app);
      const byAddress = await insertWebhookRow(app.server.database.db, { workspaceId, targetUrl: `${target.url}/a` });
      const byName = await insertWebhookRow(app.server.database.db, {
        workspaceId,
        targetUrl: `${target.url.replace('127.0.0.1', 'localhost')}/b`,
      });
      await insertSampleEvents(app.server.database.db, workspaceId, 1);
      for (const webhook of [byAddress, byName]) {
        const [delivery] = await eventually(() => deliveriesOf(app, webhook.id), (rows) => rows[0]?.attempt_count === 1);
        const [attempt] = await attemptsOf(app, delivery.id);
        expect(attempt.status_code).toBeNull();
        expect(attempt.error).toMatch(/private address \(refused/);
      }
      expect(target.requests).toHaveLength(0);
    } finally {
      await app.close();
    }
  });

  it('disables a webhook whose deliveries have all failed for the configured time (injected clock)', async () => {
    // Real time plus an offset the test moves forward: events written with real timestamps stay due.
    let offset = 0;
    const clock: Clock = { now: () => new Date(Date.now() + offset) };
    const app = await startTestApp(kind, { clock, env: { SWITCHBOARD_RETRY_SCHEDULE: '1h,1h,1h', SWITCHBOARD_DISABLE_AFTER: '5d' } });
    try {
      const target = await receiver((_request, response) => {
        response.statusCode = 500;
        response.end();
      });
      const workspaceId = await defaultWorkspaceId(app);
      const webhook = await insertWebhookRow(app.server.database.db, { workspaceId, targetUrl: target.url });
      const status = () =>
        app.server.database.db.selectFrom('webhooks').select(['status', 'failing_since']).where('id', '=', webhook.id).executeTakeFirstOrThrow();

      await insertSampleEvents(app.server.database.db, workspaceId, 1);
      const before = Date.now();
      const failingSince = await eventually(status, (row) => row.failing_since !== null);
      expect(failingSince.status).toBe('ACTIVE');
      expect(Math.abs(failingSince.failing_since!.getTime() - before)).toBeLessThan(5_000);

      // Four days on: the retry (due after 1 h) fails, still active.
      offset += 4 * 86_400_000;
      app.server.worker!.wake();
      await eventually(() => deliveriesOf(app, webhook.id), (rows) => rows[0]?.attempt_count === 2);
      expect((await status()).status).toBe('ACTIVE');

      // Past five days of failures: the next failure disables it.
      offset += 86_400_000;
      app.server.worker!.wake();
      await target.waitForCount(3);
      await eventually(status, (row) => row.status === 'DISABLED');
      const disabled = await app.graphql('query ($id: UUID!) { webhook(id: $id) { status disabledReason disabledAt } }', { id: webhook.id });
      expect(disabled.data.webhook).toMatchObject({ status: 'DISABLED', disabledReason: 'FAILING_5_DAYS' });
      expect(Date.parse(disabled.data.webhook.disabledAt)).toBeGreaterThan(before);
    } finally {
      await app.close();
    }
  });
});
