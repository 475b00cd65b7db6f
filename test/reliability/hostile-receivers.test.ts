import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { insertSampleEvents, insertWebhookRow } from '../helpers/fixtures.ts';
import { eventually, startReceiver, type Receiver } from '../helpers/receiver.ts';

const TIMEOUT_MS = 1_500;
const EVENTS = 5;
const HUNDRED_MB = 100 * 1024 * 1024;

interface RawServer {
  url: string;
  connections: number;
  /** Bytes this server managed to write before the client went away. */
  bytesWritten: number;
  close(): Promise<void>;
}

/** A TCP server speaking (broken) HTTP by hand: handle(socket) decides what the client gets. */
async function rawServer(handle: (socket: net.Socket, server: RawServer) => void): Promise<RawServer> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    state.connections++;
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
    handle(socket, state);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const state: RawServer = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    connections: 0,
    bytesWritten: 0,
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return state;
}

/** Waits for the request head, then answers. */
function onRequest(socket: net.Socket, answer: () => void): void {
  let head = '';
  const listener = (chunk: Buffer) => {
    head += chunk.toString('latin1');
    if (head.includes('\r\n\r\n')) {
      socket.off('data', listener);
      answer();
    }
  };
  socket.on('data', listener);
}

describe('hostile receivers (pglite): cut, capped and isolated', () => {
  let app: TestApp;
  let workspaceId: string;
  const closers: Array<() => Promise<void>> = [];
  const timers: NodeJS.Timeout[] = [];

  beforeAll(async () => {
    app = await startTestApp('pglite', {
      env: { SWITCHBOARD_DELIVERY_TIMEOUT: `${TIMEOUT_MS}ms`, SWITCHBOARD_RETRY_SCHEDULE: '1h', SWITCHBOARD_LEASE: '10s' },
    });
    const row = await app.server.database.db.selectFrom('workspaces').select('id').where('name', '=', 'default').executeTakeFirstOrThrow();
    workspaceId = row.id;
  });
  afterAll(async () => {
    for (const timer of timers) clearInterval(timer);
    await app?.close();
    await Promise.all(closers.map((close) => close()));
  });

  it('cuts, caps or refuses each hostile receiver; the healthy endpoint and the API are not delayed; memory stays bounded', async () => {
    // 1. Accepts the connection and never answers.
    const silent = await rawServer(() => {});
    // 2. Answers its headers, then drips the body a byte a second.
    const drip = await rawServer((socket) =>
      onRequest(socket, () => {
        socket.write('HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n');
        timers.push(setInterval(() => socket.writable && socket.write('x'), 1_000));
      }),
    );
    // 3. Answers 200 with a 100 MB body, written as fast as the client reads.
    const huge = await rawServer((socket, state) =>
      onRequest(socket, () => {
        socket.write(`HTTP/1.1 200 OK\r\nContent-Length: ${HUNDRED_MB}\r\n\r\n`);
        const chunk = Buffer.alloc(64 * 1024, 'y');
        const pump = () => {
          while (state.bytesWritten < HUNDRED_MB && !socket.destroyed) {
            state.bytesWritten += chunk.length;
            if (!socket.write(chunk)) return void socket.once('drain', pump);
          }
        };
        pump();
      }),
    );
    // 4. Redirects to a private address where a receiver listens (it must never be reached).
    const privateTarget = await startReceiver();
    closers.push(() => privateTarget.close());
    const redirect = await startReceiver((_request, response) => {
      response.writeHead(302, { location: `${privateTarget.url}/metadata` }).end();
    });
    // 5. Closes the connection in the middle of its answer.
    const cut = await rawServer((socket) =>
      onRequest(socket, () => {
        socket.write('HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\npartial');
        setTimeout(() => socket.destroy(), 20);
      }),
    );
    // 6. Too many requests, come back in two hours.
    const limited = await startReceiver((_request, response) => {
      response.writeHead(429, { 'retry-after': '7200' }).end('slow down');
    });
    // And one healthy endpoint.
    const healthy: Receiver = await startReceiver();
    for (const server of [silent, drip, huge, cut]) closers.push(() => server.close());
    for (const receiver of [redirect, limited, healthy]) closers.push(() => receiver.close());

    const hooks: Record<string, string> = {};
    const targets = { silent: silent.url, drip: drip.url, huge: huge.url, redirect: redirect.url, cut: cut.url, limited: limited.url, healthy: healthy.url };
    for (const [name, targetUrl] of Object.entries(targets)) {
      hooks[name] = (await insertWebhookRow(app.server.database.db, { workspaceId, targetUrl, operations: ['person.created'] })).id;
    }

    // Memory of the server (this process) sampled through the run.
    const baseline = process.memoryUsage();
    let peakHeap = baseline.heapUsed;
    let peakRss = baseline.rss;
    const sampler = setInterval(() => {
      const usage = process.memoryUsage();
      peakHeap = Math.max(peakHeap, usage.heapUsed);
      peakRss = Math.max(peakRss, usage.rss);
    }, 10);
    timers.push(sampler);

    const inserted = performance.now();
    await insertSampleEvents(app.server.database.db, workspaceId, EVENTS);

    // The healthy endpoint gets every delivery while the hostile ones still hold their connections.
    await healthy.waitForCount(EVENTS, 10_000);
    const healthyDoneMs = healthy.requests[EVENTS - 1].at - inserted;
    // The API answers meanwhile, too.
    const apiStarted = performance.now();
    const answer = await app.graphql('{ webhooks { id } }');
    const apiMs = performance.now() - apiStarted;
    expect(answer.data.webhooks).toHaveLength(Object.keys(hooks).length);

    const db = app.server.database.db;
    const settled = () =>
      db
        .selectFrom('deliveries')
        .innerJoin('delivery_attempts', 'delivery_attempts.delivery_id', 'deliveries.id')
        .select(['deliveries.webhook_id', 'deliveries.status', 'deliveries.next_attempt_at', 'delivery_attempts.started_at'])
        .select(['delivery_attempts.status_code', 'delivery_attempts.error', 'delivery_attempts.duration_ms', 'delivery_attempts.response_body'])
        .execute();
    // Attempts and delivery states are settled in batches: wait until both are written for every delivery.
    const rows = await eventually(
      settled,
      (all) =>
        all.length === EVENTS * Object.keys(hooks).length &&
        all.every((row) => row.webhook_id !== hooks.healthy || row.status === 'SUCCEEDED'),
      30_000,
    );
    clearInterval(sampler);
    const of = (name: string) => rows.filter((row) => row.webhook_id === hooks[name]);

    // Nothing lost: every event reached the healthy endpoint, exactly once, and succeeded.
    expect(of('healthy').map((row) => [row.status, row.status_code, row.error])).toEqual(Array(EVENTS).fill(['SUCCEEDED', 200, null]));
    expect(new Set(healthy.requests.map((request) => request.headers['webhook-id'])).size).toBe(EVENTS);
    // ...and before any hostile attempt was cut at the timeout.
    expect(healthyDoneMs).toBeLessThan(TIMEOUT_MS);
    expect(apiMs).toBeLessThan(TIMEOUT_MS);

    for (const name of ['silent', 'drip']) {
      for (const row of of(name)) {
        expect(row.status_code, name).toBeNull();
        expect(row.error, name).toMatch(new RegExp(`timed out after ${TIMEOUT_MS} ms`));
        expect(row.duration_ms, name).toBeGreaterThanOrEqual(TIMEOUT_MS - 10);
        expect(row.duration_ms, name).toBeLessThan(TIMEOUT_MS + 1_500);
        expect(row.status, name).toBe('PENDING'); // retried later, not lost
      }
    }
    // At most 4 KiB kept; the 100 MB answer was abandoned long before its end.
    for (const row of of('huge')) {
      expect(row.status_code).toBe(200);
      expect(row.response_body).toBe('y'.repeat(4096));
      expect(row.status).toBe('SUCCEEDED');
    }
    // Five answers of 100 MB were offered; what left the receiver is only what socket buffers took in.
    expect(huge.bytesWritten).toBeLessThan(HUNDRED_MB);
    // The redirect is an answer like any 3xx: a failure, never followed to the private address.
    for (const row of of('redirect')) {
      expect(row.status_code).toBe(302);
      expect(row.status).toBe('PENDING');
    }
    expect(redirect.requests).toHaveLength(EVENTS);
    expect(privateTarget.requests).toHaveLength(0);
    // Cut mid-answer: a failed attempt with the reason, to be retried.
    for (const row of of('cut')) {
      expect(row.status_code).toBeNull();
      expect(row.error).toBeTruthy();
      expect(row.status).toBe('PENDING');
    }
    // 429 with Retry-After: 7200 s wins over the 1 h step.
    for (const row of of('limited')) {
      expect(row.status_code).toBe(429);
      expect(row.status).toBe('PENDING');
      const waitS = (row.next_attempt_at!.getTime() - row.started_at.getTime()) / 1000;
      expect(waitS).toBeGreaterThan(7_150);
      expect(waitS).toBeLessThan(7_260);
    }

    const heapGrowthMb = (peakHeap - baseline.heapUsed) / 2 ** 20;
    const rssGrowthMb = (peakRss - baseline.rss) / 2 ** 20;
    console.log(
      `hostile receivers: healthy done in ${healthyDoneMs.toFixed(0)} ms, API ${apiMs.toFixed(0)} ms, ` +
        `huge receiver wrote ${(huge.bytesWritten / 2 ** 20).toFixed(1)} MB, heap +${heapGrowthMb.toFixed(1)} MB, rss +${rssGrowthMb.toFixed(1)} MB`,
    );
    // Five 100 MB answers read whole would add 500 MB; bounded reading adds a few.
    expect(heapGrowthMb).toBeLessThan(64);
    expect(rssGrowthMb).toBeLessThan(128);
  });
});
