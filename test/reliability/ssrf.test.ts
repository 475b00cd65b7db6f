import type dns from 'node:dns';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Sender } from '../../src/delivery/sender.ts';
import type { Resolver } from '../../src/delivery/ssrf.ts';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { DATABASE_KINDS } from '../helpers/databases.ts';
import { insertSampleEvents, insertWebhookRow } from '../helpers/fixtures.ts';
import { eventually, startReceiver, type Receiver } from '../helpers/receiver.ts';

/** One address of every range the issue names, and the IPv6 forms that carry a private IPv4 address. */
const PRIVATE_ADDRESSES = [
  '127.0.0.1',
  '127.8.9.10',
  '10.0.0.1',
  '10.255.255.254',
  '172.16.0.1',
  '172.31.255.254',
  '192.168.0.1',
  '192.168.255.254',
  '169.254.169.254',
  '::1',
  'fc00::1',
  'fd12:3456:789a::1',
  '::ffff:127.0.0.1',
  '100.64.0.1', // CGNAT
  'fd00:ec2::254', // AWS metadata over IPv6
  '::ffff:7f00:1', // IPv4-mapped, hex
  '::ffff:0:7f00:1', // IPv4-translated
  '64:ff9b::a9fe:a9fe', // NAT64 of 169.254.169.254
  '2002:7f00:1::', // 6to4 of 127.0.0.1
  '2001:0:7f00:1::1', // Teredo with a loopback server
];

/** The error text an API caller may see names no address (a caller could otherwise map the network through DNS). */
function expectNoAddress(text: string | null, ...addresses: string[]): void {
  expect(text).not.toBeNull();
  for (const address of addresses) expect(text).not.toContain(address);
  expect(text).not.toMatch(/\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}/);
  expect(text).not.toMatch(/::/);
}
/** TEST-NET-1: public by every rule here, and never answers, so reaching it proves nothing leaked locally. */
const PUBLIC_ADDRESS = '192.0.2.10';

const literalHost = (address: string) => (address.includes(':') ? `[${address}]` : address);
const family = (address: string) => (address.includes(':') ? 6 : 4);

/** A resolver answering from a script: one answer per call, the last one repeated. */
function scriptedResolver(answers: string[][]): Resolver & { calls: string[] } {
  const calls: string[] = [];
  const resolve = ((hostname: string, _options: dns.LookupAllOptions, callback: (error: null, addresses: dns.LookupAddress[]) => void) => {
    const answer = answers[Math.min(calls.length, answers.length - 1)];
    calls.push(hostname);
    setImmediate(() => callback(null, answer.map((address) => ({ address, family: family(address) }))));
  }) as Resolver & { calls: string[] };
  resolve.calls = calls;
  return resolve;
}

describe.each(DATABASE_KINDS)('SSRF on %s: private targets refused when they are not allowed', (kind) => {
  let app: TestApp;
  let receiver: Receiver;
  const senders: Sender[] = [];
  const sender = (resolve?: Resolver) => {
    const created = new Sender({ timeoutMs: 1_000, allowPrivateTargets: false, requireHttps: false, connectionsPerOrigin: 2, resolve });
    senders.push(created);
    return created;
  };
  beforeAll(async () => {
    app = await startTestApp(kind, { env: { SWITCHBOARD_ALLOW_PRIVATE_TARGETS: 'false' } });
    receiver = await startReceiver();
  });
  afterAll(async () => {
    await Promise.all(senders.map((created) => created.close()));
    await receiver?.close();
    await app?.close();
  });

  it('refuses every private literal at create time, over GraphQL and REST, and stores nothing', async () => {
    for (const address of PRIVATE_ADDRESSES) {
      const targetUrl = `http://${literalHost(address)}:8080/hook`;
      const graphql = await app.graphql('mutation($input: CreateWebhookInput!) { createWebhook(input: $input) { id } }', {
        input: { targetUrl },
      });
      expect(graphql.errors?.[0]?.extensions?.code, targetUrl).toBe('BAD_USER_INPUT');
      const rest = await app.rest('POST', '/rest/webhooks', { targetUrl });
      expect(rest.status, targetUrl).toBeGreaterThanOrEqual(400);
      expect(rest.status, targetUrl).toBeLessThan(500);
    }
    expect((await app.graphql('{ webhooks { id } }')).data.webhooks).toEqual([]);
    const stored = await app.server.database.db.selectFrom('webhooks').select('id').execute();
    expect(stored).toHaveLength(0);
    // A host name is not resolved at create time (its answer may change): it is accepted and checked at send time.
    const named = await app.graphql('mutation { createWebhook(input: { targetUrl: "https://hooks.example.com/x" }) { id } }');
    expect(named.errors).toBeUndefined();
  });

  it('refuses private literals at send time too (rows written while private targets were allowed)', async () => {
    const port = new URL(receiver.url).port;
    const guarded = sender();
    for (const address of PRIVATE_ADDRESSES) {
      const result = await guarded.send({ url: `http://${literalHost(address)}:${port}/`, headers: {}, body: '{}' });
      expect(result.statusCode, address).toBeNull();
      expect(result.error, address).toMatch(/target is a private address \(refused/);
      expectNoAddress(result.error, address);
    }
    expect(receiver.requests).toHaveLength(0);
  });

  it('refuses a host name resolving to any private address, or to a mix of public and private', async () => {
    const port = new URL(receiver.url).port;
    for (const address of PRIVATE_ADDRESSES) {
      for (const answer of [[address], [PUBLIC_ADDRESS, address]]) {
        const resolve = scriptedResolver([answer]);
        const result = await sender(resolve).send({ url: `http://victim.example:${port}/`, headers: {}, body: '{}' });
        expect(result.statusCode, answer.join(',')).toBeNull();
        expect(result.error, answer.join(',')).toContain('target resolves to a private address (refused');
        expectNoAddress(result.error, ...answer);
        expect(resolve.calls).toEqual(['victim.example']);
      }
    }
    expect(receiver.requests).toHaveLength(0);
  });

  it('DNS rebinding: a name answering public at the check and 127.0.0.1 next never reaches the local receiver', async () => {
    const port = new URL(receiver.url).port;
    // Public first, loopback on every later question: a guard that resolves twice (check, then connect) would
    // connect to 127.0.0.1 and the local receiver would see the request.
    const resolve = scriptedResolver([[PUBLIC_ADDRESS], ['127.0.0.1']]);
    const result = await sender(resolve).send({ url: `http://rebind.example:${port}/`, headers: {}, body: '{}' });
    expect(result.statusCode).toBeNull();
    expect(result.error).not.toBeNull();
    expect(receiver.requests).toHaveLength(0);
    // One question per connection: the address checked is the address connected to.
    expect(resolve.calls).toEqual(['rebind.example']);

    // Sent again (a retry), the name now answers loopback: refused by the guard before any connection.
    const retry = await sender(resolve).send({ url: `http://rebind.example:${port}/`, headers: {}, body: '{}' });
    expect(retry.error).toContain('resolves to a private address');
    expectNoAddress(retry.error, '127.0.0.1');
    expect(receiver.requests).toHaveLength(0);
  });

  it('the same sender reaches the receiver when private targets are allowed (the refusals above are the guard)', async () => {
    const open = new Sender({ timeoutMs: 1_000, allowPrivateTargets: true, requireHttps: false, connectionsPerOrigin: 2 });
    senders.push(open);
    const result = await open.send({ url: `${receiver.url}/allowed`, headers: {}, body: '{}' });
    expect(result.statusCode).toBe(200);
    expect(receiver.requests.map((request) => request.path)).toEqual(['/allowed']);
  });
});

describe.each(DATABASE_KINDS)('SSRF on %s: the default follows the listen address', (kind) => {
  let receiver: Receiver;
  const apps: TestApp[] = [];
  beforeAll(async () => {
    receiver = await startReceiver((_request, response) => response.end('internal answer'));
  });
  afterAll(async () => {
    await Promise.all(apps.map((app) => app.close()));
    await receiver?.close();
  });
  const start = async (env: Record<string, string>) => {
    const app = await startTestApp(kind, { env: { SWITCHBOARD_RETRY_SCHEDULE: '1h', ...env } });
    apps.push(app);
    return app;
  };
  const workspaceIdOf = async (app: TestApp) =>
    (await app.server.database.db.selectFrom('workspaces').select('id').where('name', '=', 'default').executeTakeFirstOrThrow()).id;

  it('a server listening beyond loopback refuses private targets with no setting, and tells no caller what a name resolves to', async () => {
    const app = await start({ HOST: '0.0.0.0' });
    expect(app.server.url).toMatch(/^http:\/\/0\.0\.0\.0:/);
    const internal = `${receiver.url}/internal`;
    const created = await app.graphql('mutation($input: CreateWebhookInput!) { createWebhook(input: $input) { id } }', { input: { targetUrl: internal } });
    expect(created.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    for (const literal of ['[::ffff:0:7f00:1]', '[2002:7f00:1::]', '[fd00:ec2::254]', '169.254.169.254']) {
      const refused = await app.rest('POST', '/rest/webhooks', { targetUrl: `http://${literal}/x` });
      expect(refused.status, literal).toBe(422);
      expect(refused.body.error, literal).toMatchObject({ code: 'BAD_USER_INPUT', field: 'targetUrl' });
    }

    // Names of this machine are refused at create time; any other name is checked by the sender once resolved,
    // here on a row written while private targets were allowed ("localhost" resolves to loopback).
    const byName = (await app.graphql('mutation($input: CreateWebhookInput!) { createWebhook(input: $input) { id } }', {
      input: { targetUrl: internal.replace('127.0.0.1', 'internal.localhost') },
    }));
    expect(byName.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    const workspaceId = await workspaceIdOf(app);
    const stored = await insertWebhookRow(app.server.database.db, { workspaceId, targetUrl: internal.replace('127.0.0.1', 'localhost') });
    const test = await app.graphql('mutation($id: UUID!) { sendTestWebhook(id: $id) { statusCode responseBody error } }', { id: stored.id });
    expect(test.errors).toBeUndefined();
    expect(test.data.sendTestWebhook.statusCode).toBeNull();
    expect(test.data.sendTestWebhook.responseBody).toBeNull();
    expect(test.data.sendTestWebhook.error).toContain('target resolves to a private address (refused');
    expectNoAddress(test.data.sendTestWebhook.error, '127.0.0.1', '::1');

    // The delivery log shows the same text.
    await insertSampleEvents(app.server.database.db, workspaceId, 1);
    const [delivery] = await eventually(
      () => app.server.database.db.selectFrom('deliveries').select(['id', 'attempt_count']).where('webhook_id', '=', stored.id).execute(),
      (rows) => rows[0]?.attempt_count === 1,
    );
    const log = await app.rest('GET', `/rest/webhooks/${stored.id}/deliveries/${delivery!.id}`);
    const logged = JSON.stringify(log.body);
    expect(logged).toContain('target resolves to a private address (refused');
    expect(logged).not.toContain('127.0.0.1');
    expect(receiver.requests).toHaveLength(0);
  });

  it('NODE_ENV=production refuses private targets even on loopback', async () => {
    const app = await start({ HOST: '127.0.0.1', NODE_ENV: 'production' });
    const created = await app.graphql('mutation($input: CreateWebhookInput!) { createWebhook(input: $input) { id } }', {
      input: { targetUrl: 'https://127.0.0.1/x' },
    });
    expect(created.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });

  it('a server on loopback only allows them for local work (the refusals above are the default, not the receiver)', async () => {
    const app = await start({ HOST: '127.0.0.1' });
    const created = await app.graphql('mutation($input: CreateWebhookInput!) { createWebhook(input: $input) { id } }', {
      input: { targetUrl: `${receiver.url}/local` },
    });
    expect(created.errors).toBeUndefined();
    const test = await app.graphql('mutation($id: UUID!) { sendTestWebhook(id: $id) { statusCode responseBody error } }', {
      id: created.data.createWebhook.id,
    });
    expect(test.data.sendTestWebhook).toMatchObject({ statusCode: 200, responseBody: 'internal answer', error: null });
    expect(receiver.requests.map((request) => request.path)).toEqual(['/local']);
  });

  it('errors of a refused connection name no address either', async () => {
    const open = new Sender({ timeoutMs: 1_000, allowPrivateTargets: true, requireHttps: false, connectionsPerOrigin: 1 });
    try {
      // Port 9 on loopback: nothing listens, the connection is refused.
      const result = await open.send({ url: 'http://127.0.0.1:9/', headers: {}, body: '{}' });
      expect(result.error).toMatch(/ECONNREFUSED/);
      expectNoAddress(result.error, '127.0.0.1');
    } finally {
      await open.close();
    }
  });
});
