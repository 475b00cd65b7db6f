import type dns from 'node:dns';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Sender } from '../../src/delivery/sender.ts';
import type { Resolver } from '../../src/delivery/ssrf.ts';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { startReceiver, type Receiver } from '../helpers/receiver.ts';

/** One address of every range the issue names, plus the IPv4-mapped form of loopback. */
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
];
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

describe('SSRF: private targets refused when they are not allowed', () => {
  let app: TestApp;
  let receiver: Receiver;
  const senders: Sender[] = [];
  const sender = (resolve?: Resolver) => {
    const created = new Sender({ timeoutMs: 1_000, allowPrivateTargets: false, requireHttps: false, connectionsPerOrigin: 2, resolve });
    senders.push(created);
    return created;
  };
  beforeAll(async () => {
    app = await startTestApp('pglite', { env: { SWITCHBOARD_ALLOW_PRIVATE_TARGETS: 'false' } });
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
      expect(result.error, address).toMatch(/loopback, private, link-local or metadata/);
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
        expect(result.error, answer.join(',')).toContain(`resolves to ${address}`);
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
    expect(retry.error).toContain('resolves to 127.0.0.1');
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
