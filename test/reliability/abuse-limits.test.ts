import net from 'node:net';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { metricsRoute } from '../../src/api/metrics-route.ts';
import { systemClock } from '../../src/domain/clock.ts';
import { createMetrics, type QueueSnapshot } from '../../src/observability/metrics.ts';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { DATABASE_KINDS } from '../helpers/databases.ts';
import { startReceiver, type Receiver } from '../helpers/receiver.ts';

const WINDOW_S = 10;
const PER_ADDRESS = 20;
const PER_KEY = 10;
const AUTH_FAILURES = 3;
const MAX_WEBHOOKS = 3;
const TEST_SENDS_PER_REQUEST = 2;
const TEST_SENDS_PER_MINUTE = 3;

interface Answer {
  status: number;
  headers: Headers;
  body: any;
}

let addressCounter = 0;
/** A new client address: the app trusts X-Forwarded-For here, so each test's budget is its own. */
const newAddress = () => `203.0.113.${++addressCounter}`;

describe.each(DATABASE_KINDS)('abuse limits on %s', (kind) => {
  let app: TestApp;
  let receiver: Receiver;
  beforeAll(async () => {
    receiver = await startReceiver();
    app = await startTestApp(kind, {
      env: {
        SWITCHBOARD_TRUST_PROXY: 'true',
        SWITCHBOARD_RATE_LIMIT_WINDOW: `${WINDOW_S}s`,
        SWITCHBOARD_RATE_LIMIT_PER_ADDRESS: String(PER_ADDRESS),
        SWITCHBOARD_RATE_LIMIT_PER_KEY: String(PER_KEY),
        SWITCHBOARD_AUTH_FAILURE_LIMIT: String(AUTH_FAILURES),
        SWITCHBOARD_MAX_WEBHOOKS_PER_WORKSPACE: String(MAX_WEBHOOKS),
        SWITCHBOARD_TEST_SENDS_PER_REQUEST: String(TEST_SENDS_PER_REQUEST),
        SWITCHBOARD_TEST_SENDS_PER_MINUTE: String(TEST_SENDS_PER_MINUTE),
        SWITCHBOARD_DELIVERY_TIMEOUT: '1s',
        SWITCHBOARD_HEADERS_TIMEOUT: '400ms',
        SWITCHBOARD_REQUEST_TIMEOUT: '800ms',
        SWITCHBOARD_KEEP_ALIVE_TIMEOUT: '400ms',
        SWITCHBOARD_IDLE_TIMEOUT: '2s',
      },
    });
  });
  afterAll(async () => {
    await app?.close();
    await receiver?.close();
  });

  async function call(address: string, method: string, path: string, options: { key?: string; body?: unknown } = {}): Promise<Answer> {
    const response = await fetch(`${app.url}${path}`, {
      method,
      headers: {
        'x-forwarded-for': address,
        ...(options.key ? { authorization: `Bearer ${options.key}` } : {}),
        ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
    });
    const text = await response.text();
    return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : null };
  }
  const graphql = (address: string, key: string, query: string) => call(address, 'POST', '/graphql', { key, body: { query } });
  const newKey = async () => (await app.createWorkspace(`ws-${Math.random().toString(36).slice(2)}`)).apiKey;

  function expectRateLimited(answer: Answer, shape: 'graphql' | 'rest'): void {
    expect(answer.status).toBe(429);
    const retryAfter = Number(answer.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    const error = shape === 'graphql' ? answer.body.errors[0] : answer.body.error;
    expect(shape === 'graphql' ? error.extensions.code : error.code).toBe('RATE_LIMITED');
    expect(error.message).toMatch(/rate limited: .+; retry in \d+ s/);
  }

  it('limits requests per address, whatever the keys, and leaves other addresses alone', async () => {
    const address = newAddress();
    const keys = [await newKey(), await newKey(), await newKey()];
    for (let i = 0; i < PER_ADDRESS; i++) {
      expect((await call(address, 'GET', '/rest/people', { key: keys[i % keys.length] })).status).toBe(200);
    }
    const refused = await call(address, 'GET', '/rest/people', { key: keys[0] });
    expectRateLimited(refused, 'rest');
    expect(refused.body.error.message).toContain(`more than ${PER_ADDRESS} requests from this address in ${WINDOW_S} s`);
    // Requests without a key or to unknown routes count too; a flood of them is cut before any work.
    expect((await call(address, 'GET', '/rest/nothing')).status).toBe(429);
    expectRateLimited(await graphql(address, keys[1]!, '{ currentWorkspace { id } }'), 'graphql');
    expect((await call(newAddress(), 'GET', '/rest/people', { key: keys[0] })).status).toBe(200);
  });

  it('limits requests per API key, from any address, on GraphQL and REST', async () => {
    const key = await newKey();
    for (let i = 0; i < PER_KEY; i++) expect((await graphql(newAddress(), key, '{ currentWorkspace { id } }')).status).toBe(200);
    const refused = await graphql(newAddress(), key, '{ currentWorkspace { id } }');
    expectRateLimited(refused, 'graphql');
    expect(refused.body.data).toBeNull();
    expect(refused.body.errors[0].message).toContain(`more than ${PER_KEY} requests with this API key`);
    expectRateLimited(await call(newAddress(), 'GET', '/rest/people', { key }), 'rest');
    // Another key of the same address is served.
    expect((await graphql(newAddress(), await newKey(), '{ currentWorkspace { id } }')).status).toBe(200);
  });

  it('refuses an address that presented wrong keys too often, before looking up any key, and only that address', async () => {
    const guesser = newAddress();
    for (let i = 0; i < AUTH_FAILURES; i++) {
      const answer = await call(guesser, 'GET', '/rest/people', { key: `sb_guess_${i}` });
      expect(answer.status).toBe(401);
      expect(answer.body.error.code).toBe('UNAUTHENTICATED');
    }
    const refused = await call(guesser, 'GET', '/rest/people', { key: 'sb_guess_next' });
    expectRateLimited(refused, 'rest');
    expect(refused.body.error.message).toContain(`${AUTH_FAILURES} failed authentications from this address`);
    // Even the right key is refused from there: a guess that hits tells the guesser nothing until the window ends.
    expectRateLimited(await graphql(guesser, app.apiKey, '{ currentWorkspace { id } }'), 'graphql');
    expect((await graphql(newAddress(), app.apiKey, '{ currentWorkspace { id } }')).status).toBe(200);

    // A missing key costs no lookup and is no guess: it does not count.
    const forgetful = newAddress();
    for (let i = 0; i < AUTH_FAILURES * 3; i++) expect((await call(forgetful, 'GET', '/rest/people')).status).toBe(401);
    expect((await call(forgetful, 'GET', '/rest/people', { key: app.apiKey })).status).toBe(200);
  });

  it('caps the webhooks of a workspace with an error naming the limit, also inside one aliased mutation', async () => {
    const key = await newKey();
    const creates = Array.from(
      { length: MAX_WEBHOOKS + 2 },
      (_, i) => `w${i}: createWebhook(input: { targetUrl: "https://hooks.example.com/${i}" }) { id }`,
    ).join('\n');
    const answer = await graphql(newAddress(), key, `mutation { ${creates} }`);
    // createWebhook is non-null: the first refusal ends the serial mutation and nulls its data; the list shows the rest.
    expect(answer.body.data).toBeNull();
    expect(answer.body.errors).toHaveLength(1);
    for (const error of answer.body.errors) {
      expect(error.extensions.code).toBe('CONFLICT');
      expect(error.message).toContain(`limit of ${MAX_WEBHOOKS} webhooks (SWITCHBOARD_MAX_WEBHOOKS_PER_WORKSPACE)`);
    }
    const rest = await call(newAddress(), 'POST', '/rest/webhooks', { key, body: { targetUrl: 'https://hooks.example.com/rest' } });
    expect(rest.status).toBe(409);
    expect(rest.body.error.message).toContain(`limit of ${MAX_WEBHOOKS} webhooks`);
    const list = await call(newAddress(), 'GET', '/rest/webhooks', { key });
    expect(list.body.data.webhooks).toHaveLength(MAX_WEBHOOKS);

    // A deleted webhook frees its place; other workspaces have their own.
    expect((await call(newAddress(), 'DELETE', `/rest/webhooks/${list.body.data.webhooks[0].id}`, { key })).status).toBe(200);
    expect((await call(newAddress(), 'POST', '/rest/webhooks', { key, body: { targetUrl: 'https://hooks.example.com/again' } })).status).toBe(201);
    expect((await call(newAddress(), 'POST', '/rest/webhooks', { key: await newKey(), body: { targetUrl: 'https://hooks.example.com/b' } })).status).toBe(201);
  });

  it('caps test sends per request and per workspace and minute', async () => {
    const key = await newKey();
    const webhook = await call(newAddress(), 'POST', '/rest/webhooks', { key, body: { targetUrl: `${receiver.url}/test-sends` } });
    const id = webhook.body.data.createWebhook.id;
    const sends = (count: number) =>
      `mutation { ${Array.from({ length: count }, (_, i) => `t${i}: sendTestWebhook(id: "${id}") { statusCode }`).join('\n')} }`;
    const received = () => receiver.requests.filter((request) => request.path === '/test-sends').length;

    // A test send answers after its attempt, so what arrived by the answer is all that was sent.
    const first = await graphql(newAddress(), key, sends(TEST_SENDS_PER_REQUEST + 3));
    expect(first.status).toBe(200);
    // The first refused alias ends the serial mutation: the aliases after it are never run.
    expect(first.body.errors).toHaveLength(1);
    expect(first.body.errors[0].path).toEqual([`t${TEST_SENDS_PER_REQUEST}`]);
    for (const error of first.body.errors) {
      expect(error.extensions.code).toBe('BAD_USER_INPUT');
      expect(error.message).toBe(`sendTestWebhook: at most ${TEST_SENDS_PER_REQUEST} test sends per request`);
    }
    expect(received()).toBe(TEST_SENDS_PER_REQUEST);

    const second = await graphql(newAddress(), key, sends(TEST_SENDS_PER_REQUEST));
    expectRateLimited(second, 'graphql');
    expect(second.body.errors).toHaveLength(1);
    expect(second.body.errors[0].path).toEqual(['t1']);
    expect(second.body.errors[0].message).toContain(`more than ${TEST_SENDS_PER_MINUTE} test sends`);
    expect(received()).toBe(TEST_SENDS_PER_MINUTE);
  });

  /** Resolves with how long the server took to close the socket, timing from `start`. */
  const closedAfter = (socket: net.Socket, start: number) =>
    new Promise<number>((resolve) => {
      socket.on('close', () => resolve(performance.now() - start));
      socket.on('error', () => {});
      // Reading to the end is what lets the client see the server's close.
      socket.resume();
    });
  const connect = async () => {
    const { port } = new URL(app.url);
    const socket = net.connect(Number(port), '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    return socket;
  };

  it('closes a connection that sends its headers a byte at a time (slowloris)', async () => {
    const socket = await connect();
    const start = performance.now();
    const closed = closedAfter(socket, start);
    socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n');
    const drip = setInterval(() => socket.writable && socket.write('X-Slow: y\r\n'), 100);
    try {
      // 400 ms allowed, checked every 100 ms: closed well within the 2 s bound even on a loaded machine.
      expect(await closed).toBeLessThan(2_000);
    } finally {
      clearInterval(drip);
      socket.destroy();
    }
  });

  it('closes a connection that drips its body, and one that sends nothing', async () => {
    const slowBody = await connect();
    const start = performance.now();
    const closed = closedAfter(slowBody, start);
    slowBody.write('POST /rest/people HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{');
    const drip = setInterval(() => slowBody.writable && slowBody.write(' '), 100);
    const silent = await connect();
    const silentClosed = closedAfter(silent, performance.now());
    try {
      expect(await closed).toBeLessThan(3_000);
      expect(await silentClosed).toBeLessThan(3_000);
    } finally {
      clearInterval(drip);
      slowBody.destroy();
      silent.destroy();
    }
  });

  it('closes an idle keep-alive connection after its timeout', async () => {
    const socket = await connect();
    const answered = new Promise<void>((resolve) => socket.once('data', () => resolve()));
    socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n\r\n');
    await answered;
    const closed = await closedAfter(socket, performance.now());
    expect(closed).toBeLessThan(2_000);
  });

  it('answers the UI with a content security policy that forbids framing, with nosniff and no referrer', async () => {
    const response = await fetch(`${app.url}/settings/api-webhooks`);
    const csp = response.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("object-src 'none'");
    expect(csp).not.toContain('unsafe-inline');
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(response.headers.get('referrer-policy')).toBe('no-referrer');
    expect(response.headers.get('x-frame-options')).toBe('DENY');
    // JSON answers are never sniffed as a page either.
    expect((await fetch(`${app.url}/healthz`)).headers.get('x-content-type-options')).toBe('nosniff');
  });

  it('serves /metrics to loopback clients only, not through a proxy', async () => {
    expect((await fetch(`${app.url}/metrics`)).status).toBe(200);
    const proxied = await call(newAddress(), 'GET', '/metrics');
    expect(proxied.status).toBe(403);
    expect(proxied.body.error.message).toContain('SWITCHBOARD_METRICS_TOKEN');
  });
});

describe('metrics scrape protection and cost', () => {
  const snapshot: QueueSnapshot = { pending: 7, oldestPendingCreatedAt: null, awaitingFanout: 2 };

  it('asks for the token when one is set, from any address', async () => {
    const metrics = createMetrics(async () => snapshot, systemClock);
    const server = Fastify();
    metricsRoute(metrics, 'scrape-token-0123456789')(server);
    try {
      const remote = { remoteAddress: '198.51.100.7' };
      expect((await server.inject({ url: '/metrics', ...remote })).statusCode).toBe(401);
      expect((await server.inject({ url: '/metrics', ...remote, headers: { authorization: 'Bearer wrong' } })).statusCode).toBe(401);
      const served = await server.inject({ url: '/metrics', ...remote, headers: { authorization: 'Bearer scrape-token-0123456789' } });
      expect(served.statusCode).toBe(200);
      expect(served.body).toContain('switchboard_delivery_queue_depth 7');
      // Without a token only loopback peers are served.
      const open = Fastify();
      metricsRoute(metrics, undefined)(open);
      expect((await open.inject({ url: '/metrics', ...remote })).statusCode).toBe(403);
      expect((await open.inject({ url: '/metrics', remoteAddress: '127.0.0.1' })).statusCode).toBe(200);
      expect((await open.inject({ url: '/metrics', remoteAddress: '::1' })).statusCode).toBe(200);
      await open.close();
    } finally {
      await server.close();
    }
  });

  it('reads the database at most once per max age, however many scrapes', async () => {
    let reads = 0;
    const metrics = createMetrics(
      async () => {
        reads += 1;
        return { ...snapshot, pending: reads };
      },
      systemClock,
      { maxAgeMs: 60_000 },
    );
    const texts = await Promise.all(Array.from({ length: 50 }, () => metrics.render()));
    for (let i = 0; i < 50; i++) texts.push(await metrics.render());
    expect(reads).toBe(1);
    for (const text of texts) expect(text).toContain('switchboard_delivery_queue_depth 1');

    // With no max age, each scrape reads once (its three gauges share the read).
    let freshReads = 0;
    const fresh = createMetrics(async () => ({ ...snapshot, pending: ++freshReads }), systemClock);
    await fresh.render();
    expect(await fresh.render()).toContain('switchboard_delivery_queue_depth 2');
    expect(freshReads).toBe(2);
  });
});

describe('limit configuration', () => {
  it.each([
    [{ SWITCHBOARD_RATE_LIMIT_PER_KEY: '-1' }, /SWITCHBOARD_RATE_LIMIT_PER_KEY: "-1" is not a whole number/],
    [{ SWITCHBOARD_RATE_LIMIT_PER_ADDRESS: 'lots' }, /SWITCHBOARD_RATE_LIMIT_PER_ADDRESS/],
    [{ SWITCHBOARD_AUTH_FAILURE_LIMIT: '1.5' }, /SWITCHBOARD_AUTH_FAILURE_LIMIT/],
    [{ SWITCHBOARD_RATE_LIMIT_WINDOW: '0s' }, /SWITCHBOARD_RATE_LIMIT_WINDOW: "0s" must be longer than 0/],
    [{ SWITCHBOARD_AUTH_FAILURE_WINDOW: 'soon' }, /SWITCHBOARD_AUTH_FAILURE_WINDOW/],
    [{ SWITCHBOARD_MAX_WEBHOOKS_PER_WORKSPACE: '1e3' }, /SWITCHBOARD_MAX_WEBHOOKS_PER_WORKSPACE/],
    [{ SWITCHBOARD_TEST_SENDS_PER_REQUEST: 'x' }, /SWITCHBOARD_TEST_SENDS_PER_REQUEST/],
    [{ SWITCHBOARD_TEST_SENDS_PER_MINUTE: '' + -3 }, /SWITCHBOARD_TEST_SENDS_PER_MINUTE/],
    [{ SWITCHBOARD_HEADERS_TIMEOUT: '1m', SWITCHBOARD_REQUEST_TIMEOUT: '30s' }, /SWITCHBOARD_HEADERS_TIMEOUT: must not be longer than SWITCHBOARD_REQUEST_TIMEOUT/],
    [{ SWITCHBOARD_IDLE_TIMEOUT: '10s' }, /SWITCHBOARD_IDLE_TIMEOUT: must be at least 1s longer than SWITCHBOARD_DELIVERY_TIMEOUT/],
    [{ SWITCHBOARD_KEEP_ALIVE_TIMEOUT: '0' }, /SWITCHBOARD_KEEP_ALIVE_TIMEOUT/],
    [{ SWITCHBOARD_TRUST_PROXY: 'maybe' }, /SWITCHBOARD_TRUST_PROXY/],
    [{ SWITCHBOARD_METRICS_MAX_AGE: 'often' }, /SWITCHBOARD_METRICS_MAX_AGE/],
  ])('refuses %o', (env, message) => {
    expect(() => loadConfig(env)).toThrow(message);
  });

  it('has defaults that leave normal use alone, and 0 turns a limit off', () => {
    const config = loadConfig({});
    expect(config.limits).toEqual({
      windowMs: 10_000,
      perKey: 5_000,
      perAddress: 10_000,
      authFailures: 30,
      authFailureWindowMs: 60_000,
      testSendsPerRequest: 5,
      testSendsPerMinute: 30,
    });
    expect(config.maxWebhooksPerWorkspace).toBe(100);
    expect(config.timeouts).toEqual({ headersMs: 10_000, requestMs: 30_000, keepAliveMs: 10_000, idleMs: 60_000 });
    expect(config.metricsToken).toBeUndefined();
    expect(config.metricsMaxAgeMs).toBe(5_000);
    expect(loadConfig({ SWITCHBOARD_RATE_LIMIT_PER_KEY: '0' }).limits.perKey).toBe(0);
  });
});
