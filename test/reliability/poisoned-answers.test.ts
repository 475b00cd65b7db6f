import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { settleWithFallbacks } from '../../src/delivery/settle-attempts.ts';
import { claimDueDeliveries, type SettledAttempt } from '../../src/storage/queue/index.ts';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { createTestDatabase, DATABASE_KINDS, type TestDatabase } from '../helpers/databases.ts';
import { insertSampleEvents, insertWebhookRow, insertWorkspaceRow } from '../helpers/fixtures.ts';
import { eventually, startReceiver, type Receiver } from '../helpers/receiver.ts';

const EVENTS = 4;
/** Every byte value once: what a receiver answering binary may send. */
const ALL_BYTES = Buffer.from(Array.from({ length: 256 }, (_, index) => index));
const ALL_BYTES_SHOWN = [...ALL_BYTES]
  .map((byte) => (byte === 0 || byte >= 0x80 ? `\\x${byte.toString(16).padStart(2, '0')}` : String.fromCharCode(byte)))
  .join('');

/** A TCP server that answers every request on a connection with `answer` (raw bytes of a whole HTTP answer). */
async function rawReceiver(answer: Buffer): Promise<{ url: string; requests: number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const state = { url: '', requests: 0, close: async () => {} };
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
    let head = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      const length = Number(/content-length:\s*(\d+)/i.exec(head.subarray(0, end).toString('latin1'))?.[1] ?? 0);
      if (head.length < end + 4 + length) return;
      head = head.subarray(end + 4 + length);
      state.requests++;
      socket.write(answer);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  state.close = async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return state;
}

function httpAnswer(status: string, headers: string[], body: Buffer): Buffer {
  const head = [`HTTP/1.1 ${status}`, ...headers, `Content-Length: ${body.length}`, '', ''].join('\r\n');
  return Buffer.concat([Buffer.from(head, 'latin1'), body]);
}

describe.each(DATABASE_KINDS)('poisoned answers on %s: stored escaped, counted, never blocking others', (kind) => {
  let app: TestApp;
  const closers: Array<() => Promise<void>> = [];

  beforeAll(async () => {
    app = await startTestApp(kind, {
      env: { SWITCHBOARD_DELIVERY_TIMEOUT: '3s', SWITCHBOARD_RETRY_SCHEDULE: '1h', SWITCHBOARD_LEASE: '30s' },
    });
  });
  afterAll(async () => {
    await app?.close();
    await Promise.all(closers.map((close) => close()));
  });

  it('stores and shows NUL, invalid UTF-8, binary and oversized answers; another workspace settles in the same batches', async () => {
    const db = app.server.database.db;
    const hostileWorkspace = (await db.selectFrom('workspaces').select('id').where('name', '=', 'default').executeTakeFirstOrThrow()).id;
    const other = await app.createWorkspace('bystander');

    const receivers = {
      nul: await startReceiver((_request, response) => response.end('ok\u0000tail')),
      invalidUtf8: await rawReceiver(httpAnswer('500 Internal Server Error', [], Buffer.from([0x6f, 0x6b, 0x20, 0xff, 0xfe, 0x20, 0xc3, 0x28]))),
      binary: await rawReceiver(httpAnswer('200 OK', ['Content-Type: application/octet-stream'], ALL_BYTES)),
      // 64 KiB of headers: more than any HTTP client reads.
      hugeHeaders: await rawReceiver(httpAnswer('200 OK', Array.from({ length: 64 }, (_, i) => `X-Filler-${i}: ${'h'.repeat(1024)}`), Buffer.from('ok'))),
      // A NUL and invalid bytes in a header value and the reason phrase: the client refuses the answer.
      badHead: await rawReceiver(httpAnswer('200 \u0000\u00ff', ['X-Poison: a\u0000b\u00ff'], Buffer.from('ok'))),
    };
    const healthy: Receiver = await startReceiver();
    for (const receiver of [...Object.values(receivers), healthy]) closers.push(() => receiver.close());

    const hooks: Record<string, string> = {};
    for (const [name, receiver] of Object.entries(receivers)) {
      hooks[name] = (await insertWebhookRow(db, { workspaceId: hostileWorkspace, targetUrl: receiver.url, operations: ['person.created'] })).id;
    }
    const healthyHook = (await insertWebhookRow(db, { workspaceId: other.workspaceId, targetUrl: healthy.url, operations: ['person.created'] })).id;

    // Both workspaces' events at once: their attempts finish together and are settled in the same batches.
    await Promise.all([
      insertSampleEvents(db, hostileWorkspace, EVENTS),
      insertSampleEvents(db, other.workspaceId, EVENTS),
    ]);
    app.server.worker?.wake();

    const hookCount = Object.keys(hooks).length + 1;
    const rows = await eventually(
      () =>
        db
          .selectFrom('deliveries')
          .leftJoin('delivery_attempts', 'delivery_attempts.delivery_id', 'deliveries.id')
          .select(['deliveries.id', 'deliveries.webhook_id', 'deliveries.status', 'deliveries.attempt_count'])
          .select(['delivery_attempts.number', 'delivery_attempts.status_code', 'delivery_attempts.response_body', 'delivery_attempts.error'])
          .execute(),
      (all) => all.length === EVENTS * hookCount && all.every((row) => row.attempt_count === 1 && row.number === 1),
      30_000,
    );
    const of = (webhookId: string) => rows.filter((row) => row.webhook_id === webhookId);

    // The bystander's deliveries settled, each sent once.
    expect(of(healthyHook).map((row) => [row.status, row.status_code])).toEqual(Array(EVENTS).fill(['SUCCEEDED', 200]));
    expect(healthy.requests).toHaveLength(EVENTS);

    // Every hostile attempt is stored and counted: one attempt each, settled as its answer says.
    for (const row of of(hooks.nul)) expect([row.status, row.status_code, row.response_body]).toEqual(['SUCCEEDED', 200, 'ok\\x00tail']);
    for (const row of of(hooks.invalidUtf8)) {
      expect([row.status, row.status_code, row.response_body]).toEqual(['PENDING', 500, 'ok \\xff\\xfe \\xc3(']);
    }
    for (const row of of(hooks.binary)) expect([row.status, row.status_code, row.response_body]).toEqual(['SUCCEEDED', 200, ALL_BYTES_SHOWN]);
    for (const name of ['hugeHeaders', 'badHead']) {
      for (const row of of(hooks[name])) {
        expect(row.status, name).toBe('PENDING');
        expect(row.status_code, name).toBeNull();
        expect(row.error, name).toBeTruthy();
        expect(row.error, name).not.toContain('\u0000');
      }
    }
    // Sent once each: nothing stayed leased to be sent again.
    expect(receivers.invalidUtf8.requests + receivers.binary.requests).toBe(2 * EVENTS);
    expect(receivers.nul.requests).toHaveLength(EVENTS);

    // The log shows the answers as stored, over GraphQL and REST.
    const shown = await app.graphql(
      `query($id: UUID!) { webhookDeliveries(webhookId: $id) { edges { node { attemptCount attempts { statusCode responseBody } } } } }`,
      { id: hooks.binary },
    );
    expect(shown.errors).toBeUndefined();
    for (const { node } of shown.data.webhookDeliveries.edges) {
      expect(node.attemptCount).toBe(1);
      expect(node.attempts).toEqual([{ statusCode: 200, responseBody: ALL_BYTES_SHOWN }]);
    }
    const rest = await app.rest('GET', `/rest/webhooks/${hooks.nul}/deliveries`);
    expect(rest.status).toBe(200);
    for (const delivery of rest.body.data.webhookDeliveries) expect(delivery.attempts[0].responseBody).toBe('ok\\x00tail');
  });
});

describe.each(DATABASE_KINDS)('settling a batch with a row the database refuses, on %s', (kind) => {
  let testDatabase: TestDatabase;
  beforeAll(async () => {
    testDatabase = await createTestDatabase(kind);
  });
  afterAll(async () => {
    await testDatabase?.dispose();
  });

  it('stores the others, then the refused attempt without its detail, still counted', async () => {
    const db = testDatabase.database.db;
    const poisoned = await insertWorkspaceRow(db);
    const bystander = await insertWorkspaceRow(db);
    await insertWebhookRow(db, { workspaceId: poisoned, targetUrl: 'https://poisoned.example.com/' });
    await insertWebhookRow(db, { workspaceId: bystander, targetUrl: 'https://bystander.example.com/' });
    await insertSampleEvents(db, poisoned, 2);
    await insertSampleEvents(db, bystander, 3);
    const now = new Date();
    const claimed = await claimDueDeliveries(db, { leaseToken: randomUUID(), workerId: randomUUID(), now, leaseUntil: new Date(now.getTime() + 60_000), limit: 10 });
    expect(claimed).toHaveLength(5);

    const retryAt = new Date(now.getTime() + 3_600_000);
    const attempts: SettledAttempt[] = claimed.map((delivery) => {
      const poison = delivery.workspaceId === poisoned;
      return {
        deliveryId: delivery.id,
        leaseToken: delivery.leaseToken,
        number: 1,
        startedAt: now,
        durationMs: 12,
        statusCode: poison ? 500 : 200,
        // Raw text a sanitiser did not see: the database refuses the NUL.
        responseBody: poison ? 'ok\u0000tail' : 'ok',
        error: poison ? 'bad\u0000error' : null,
        requestHeaders: { 'content-type': 'application/json' },
        status: poison ? 'PENDING' : 'SUCCEEDED',
        nextAttemptAt: poison ? retryAt : null,
      };
    });
    const settled = await settleWithFallbacks(db, attempts, now, { log: pino({ level: 'silent' }) });
    expect(settled).toEqual(new Set(claimed.map((delivery) => delivery.id)));

    const rows = await db
      .selectFrom('deliveries')
      .innerJoin('delivery_attempts', 'delivery_attempts.delivery_id', 'deliveries.id')
      .select(['deliveries.workspace_id', 'deliveries.status', 'deliveries.attempt_count', 'deliveries.next_attempt_at', 'deliveries.lease_token'])
      .select(['delivery_attempts.status_code', 'delivery_attempts.response_body', 'delivery_attempts.error', 'delivery_attempts.request_headers'])
      .execute();
    expect(rows).toHaveLength(5);
    for (const row of rows.filter((row) => row.workspace_id === bystander)) {
      expect([row.status, row.attempt_count, row.status_code, row.response_body, row.lease_token]).toEqual(['SUCCEEDED', 1, 200, 'ok', null]);
    }
    for (const row of rows.filter((row) => row.workspace_id === poisoned)) {
      // Counted toward the schedule, with what could be kept: status, timing, and why the rest is missing.
      expect([row.status, row.attempt_count, row.status_code, row.response_body, row.request_headers, row.lease_token]).toEqual([
        'PENDING', 1, 500, null, null, null,
      ]);
      expect(row.next_attempt_at?.getTime()).toBe(retryAt.getTime());
      expect(row.error).toMatch(/^the attempt's detail could not be stored \(.*0x00/);
    }
  });
});
