import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkWebhook, signWebhook, verifyWebhook, type PersonRecord } from '../../sdk/index.js';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { DATABASE_KINDS } from '../helpers/databases.ts';
import { REPO_ROOT, runNode } from '../helpers/processes.ts';

/** The code block that follows `<!-- snippet: name` in docs/receiving.md, so the test runs what the docs show. */
function docSnippet(name: string): string {
  const markdown = fs.readFileSync(path.join(REPO_ROOT, 'docs/receiving.md'), 'utf8');
  const match = new RegExp(`<!-- snippet: ${name}\\b[^\\n]*\\n\`\`\`\\w+\\n([\\s\\S]*?)\`\`\`\\n`).exec(markdown);
  if (!match) throw new Error(`docs/receiving.md has no snippet "${name}"`);
  return match[1];
}

interface Delivery {
  rawBody: Buffer;
  headers: Record<string, string>;
}

/** A real receiver on 127.0.0.1 that keeps every request's exact bytes and headers. */
async function captureServer(status = 200) {
  const deliveries: Delivery[] = [];
  const waiters: Array<() => void> = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(req.headers)) if (typeof value === 'string') headers[name] = value;
      deliveries.push({ rawBody: Buffer.concat(chunks), headers });
      res.statusCode = status;
      res.end();
      for (const wake of waiters.splice(0)) wake();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    deliveries,
    /** Resolves with the first delivery whose payload has this operation. */
    async next(operation: string): Promise<Delivery> {
      for (;;) {
        const found = deliveries.find((delivery) => JSON.parse(delivery.rawBody.toString()).operation === operation);
        if (found) return found;
        await new Promise<void>((resolve) => waiters.push(resolve));
      }
    },
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

interface SnippetCase {
  name: string;
  body: Buffer;
  headers: Record<string, string>;
  secret: string;
  /** Unix seconds the verifier's clock reads; default: the real clock. */
  now?: number;
  /** Python only: hash json.dumps(json.loads(body)) instead of the received bytes: the documented mistake. */
  reserialise?: 'default' | 'compact';
}
type SnippetResult = { ok: true; id: string; operation: string } | { ok: false; error: string };

const NODE_DRIVER = `
import { verifySwitchboardWebhook } from './verify.mjs';
const cases = JSON.parse(await new Response(process.stdin).text());
const realNow = Date.now;
const results = cases.map((c) => {
  Date.now = c.now ? () => c.now * 1000 : realNow;
  try {
    const event = verifySwitchboardWebhook(Buffer.from(c.body, 'base64'), c.headers, c.secret);
    return { ok: true, id: event.id, operation: event.operation };
  } catch (error) {
    return { ok: false, error: error.message };
  }
});
console.log(JSON.stringify(results));
`;

const PYTHON_DRIVER = `
import base64, sys

cases = json.load(sys.stdin)
real_time = time.time
results = []
for case in cases:
    time.time = (lambda fixed: (lambda: fixed))(case["now"]) if case.get("now") else real_time
    body = base64.b64decode(case["body"])
    if case.get("reserialise") == "default":
        body = json.dumps(json.loads(body)).encode()
    elif case.get("reserialise") == "compact":
        body = json.dumps(json.loads(body), separators=(",", ":")).encode()
    try:
        event = verify_switchboard_webhook(body, case["headers"], case["secret"])
        results.append({"ok": True, "id": event["id"], "operation": event["operation"]})
    except ValueError as error:
        results.append({"ok": False, "error": str(error)})
print(json.dumps(results))
`;

const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'switchboard-receiving-'));
fs.writeFileSync(path.join(workDir, 'verify.mjs'), docSnippet('node-verify'));
fs.writeFileSync(path.join(workDir, 'driver.mjs'), NODE_DRIVER);
fs.writeFileSync(path.join(workDir, 'verify.py'), `${docSnippet('python-verify')}\n${PYTHON_DRIVER}`);

function runSnippet(language: 'node' | 'python', cases: SnippetCase[]): SnippetResult[] {
  const input = JSON.stringify(cases.map((c) => ({ ...c, body: c.body.toString('base64') })));
  const [command, script] = language === 'node' ? [process.execPath, 'driver.mjs'] : ['python3', 'verify.py'];
  return JSON.parse(execFileSync(command, [script], { cwd: workDir, input, encoding: 'utf8' }));
}

const other = (secret: string) => `whsec_${Buffer.from(secret).toString('base64').slice(0, 43)}=`;

const CREATE_WEBHOOK = 'mutation ($input: CreateWebhookInput!) { createWebhook(input: $input) { id secret } }';
const CREATE_PERSON = 'mutation ($data: PersonCreateInput!) { createPerson(data: $data) { id } }';
const UPDATE_PERSON = 'mutation ($id: UUID!, $data: PersonUpdateInput!) { updatePerson(id: $id, data: $data) { id } }';
const ROTATE = 'mutation ($id: UUID!) { rotateWebhookSecret(id: $id) { secret } }';

afterAll(() => fs.rmSync(workDir, { recursive: true, force: true }));

describe.each(DATABASE_KINDS)('receiving real deliveries on %s', (kind) => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp(kind);
  });
  afterAll(async () => {
    await app?.close();
  });

  async function graphql(query: string, variables: Record<string, unknown>, apiKey?: string) {
    const result = await app.graphql(query, variables, apiKey);
    expect(result.errors).toBeUndefined();
    return result.data;
  }

  it('the SDK, the Node and the Python snippets of the docs verify real deliveries and refuse tampered, wrong-secret and stale ones', async () => {
    const receiver = await captureServer();
    try {
      const { createWebhook: webhook } = await graphql(CREATE_WEBHOOK, { input: { targetUrl: receiver.url, operations: ['person.*'] } });
      const secret: string = webhook.secret;
      const { createPerson: person } = await graphql(CREATE_PERSON, { data: { firstName: 'Zoë', lastName: 'Lovelace', city: 'Paris' } });
      const created = await receiver.next('person.created');
      const body = created.rawBody;
      const headers = created.headers;
      const sentAt = Number(headers['x-twenty-timestamp']);
      const tampered = Buffer.from(body.toString('utf8').replace('Paris', 'Paria'));
      const wrongSecret = other(secret);

      // The SDK: the typed payload, and the reason for each refusal.
      const event = verifyWebhook<PersonRecord>({ rawBody: body, headers, secret });
      expect(event).toMatchObject({ operation: 'person.created', webhookId: webhook.id, previousRecord: null });
      expect(event.record).toMatchObject({ id: person.id, firstName: 'Zoë', city: 'Paris' });
      expect(event.id).toBe(headers['webhook-id']);
      expect(headers['content-type']).toBe('application/json');
      expect(headers['user-agent']).toMatch(/^Switchboard-Webhooks\/\d+\.\d+\.\d+/);
      const sdk = (options: { rawBody?: Buffer; secret?: string; now?: number }) =>
        checkWebhook({ rawBody: options.rawBody ?? body, headers, secret: options.secret ?? secret, now: options.now });
      expect(sdk({ now: (sentAt + 300) * 1000 }).ok).toBe(true);
      expect(sdk({ rawBody: tampered })).toMatchObject({ ok: false, error: { reason: 'mismatch' } });
      expect(sdk({ secret: wrongSecret })).toMatchObject({ ok: false, error: { reason: 'mismatch' } });
      expect(sdk({ now: (sentAt + 301) * 1000 })).toMatchObject({ ok: false, error: { reason: 'stale', message: expect.stringMatching(/301 s old/) } });
      // Each scheme on its own verifies the real delivery.
      const { 'webhook-signature': _, ...twentyOnly } = headers;
      const { 'x-twenty-signature': __, ...standardOnly } = headers;
      expect(checkWebhook({ rawBody: body, headers: twentyOnly, secret })).toMatchObject({ ok: true, scheme: 'twenty' });
      expect(checkWebhook({ rawBody: body, headers: standardOnly, secret })).toMatchObject({ ok: true, scheme: 'standard' });
      // signWebhook reproduces the sender's signatures byte for byte; the official library agrees.
      const resigned = signWebhook({ body, secret, id: headers['webhook-id'], timestamp: sentAt });
      expect([resigned['x-twenty-signature'], resigned['webhook-signature']]).toEqual([headers['x-twenty-signature'], headers['webhook-signature']]);
      expect(new Webhook(secret).verify(body.toString('utf8'), headers)).toEqual(JSON.parse(body.toString('utf8')));

      // The docs' plain-crypto Node snippet and Python snippet, run as written.
      const cases: SnippetCase[] = [
        { name: 'genuine', body, headers, secret },
        { name: '300 s old', body, headers, secret, now: sentAt + 300 },
        { name: 'tampered body', body: tampered, headers, secret },
        { name: 'wrong secret', body, headers, secret: wrongSecret },
        { name: '301 s old', body, headers, secret, now: sentAt + 301 },
        { name: '301 s ahead', body, headers, secret, now: sentAt - 301 },
      ];
      const expected = [
        { ok: true, id: event.id, operation: 'person.created' },
        { ok: true, id: event.id, operation: 'person.created' },
        { ok: false, error: 'signature mismatch' },
        { ok: false, error: 'signature mismatch' },
        { ok: false, error: 'X-Twenty-Timestamp is too old or in the future' },
        { ok: false, error: 'X-Twenty-Timestamp is too old or in the future' },
      ];
      expect(runSnippet('node', cases)).toEqual(expected);
      const python = runSnippet('python', [
        ...cases,
        // The mistake the docs warn about: hashing re-serialised JSON refuses a genuine delivery.
        { name: 'json.dumps', body, headers, secret, reserialise: 'default' },
        { name: 'compact json.dumps', body, headers, secret, reserialise: 'compact' },
      ]);
      expect(python).toEqual([...expected, { ok: false, error: 'signature mismatch' }, { ok: false, error: 'signature mismatch' }]);

      // After a rotation, receivers still holding the previous secret keep verifying (all three ways).
      const { rotateWebhookSecret: rotated } = await graphql(ROTATE, { id: webhook.id });
      await graphql(UPDATE_PERSON, { id: person.id, data: { jobTitle: 'CTO' } });
      const updated = await receiver.next('person.updated');
      for (const each of [secret, rotated.secret]) {
        expect(verifyWebhook({ rawBody: updated.rawBody, headers: updated.headers, secret: each })).toMatchObject({
          operation: 'person.updated',
          updatedFields: ['jobTitle'],
          previousRecord: { jobTitle: null },
          record: { jobTitle: 'CTO' },
        });
      }
      const rotationCases = [secret, rotated.secret, wrongSecret].map((each) => ({ name: each, body: updated.rawBody, headers: updated.headers, secret: each }));
      for (const language of ['node', 'python'] as const) {
        expect(runSnippet(language, rotationCases).map((result) => result.ok)).toEqual([true, true, false]);
      }
    } finally {
      await receiver.close();
    }
  });

  it('the example receivers process real deliveries: chat line, warehouse row (once), copy in another workspace', async () => {
    const chat = await captureServer();
    const mirror = await app.createWorkspace(`mirror-${kind}`);
    const secret = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;
    const warehouseFile = path.join(workDir, `${kind}-changes.ndjson`);
    const examples = await Promise.all([
      startExample('notify-chat.mjs', { WEBHOOK_SECRET: secret, CHAT_WEBHOOK_URL: chat.url }),
      startExample('warehouse-append.mjs', { WEBHOOK_SECRET: secret, WAREHOUSE_FILE: warehouseFile }),
      startExample('sync-to-crm.mjs', { WEBHOOK_SECRET: secret, CRM_URL: app.url, CRM_API_KEY: mirror.apiKey, ID_MAP_FILE: path.join(workDir, `${kind}-ids.json`) }),
    ]);
    try {
      const [notify, warehouse, sync] = examples;
      for (const example of examples) {
        await graphql(CREATE_WEBHOOK, { input: { targetUrl: example.url, operations: ['person.*'], secret } });
      }
      const { createPerson: person } = await graphql(CREATE_PERSON, { data: { firstName: 'Ada', lastName: 'Lovelace' } });
      await graphql(UPDATE_PERSON, { id: person.id, data: { jobTitle: 'CTO' } });

      await notify.waitFor(/posted "person Ada Lovelace updated: jobTitle \(empty\) → CTO"/);
      expect(chat.deliveries.map((delivery) => JSON.parse(delivery.rawBody.toString()).text)).toEqual([
        'person Ada Lovelace created',
        'person Ada Lovelace updated: jobTitle (empty) → CTO',
      ]);

      await warehouse.waitFor(/person\.updated \S+ appended/);
      const rows = () => fs.readFileSync(warehouseFile, 'utf8').trim().split('\n').map((line) => JSON.parse(line));
      expect(rows().map((row) => [row.object, row.action, row.record_id, row.updated_fields])).toEqual([
        ['person', 'created', person.id, []],
        ['person', 'updated', person.id, ['jobTitle']],
      ]);

      await sync.waitFor(/updated \(jobTitle\)/);
      const copies = await app.rest('GET', '/rest/people', undefined, mirror.apiKey);
      expect(copies.body.data.people).toEqual([expect.objectContaining({ firstName: 'Ada', lastName: 'Lovelace', jobTitle: 'CTO' })]);
      expect(copies.body.data.people[0].id).not.toBe(person.id);

      // Replaying a genuine delivery (same event id) is acknowledged but not stored twice; a forged one is refused.
      const event = rows()[0];
      const replayBody = JSON.stringify({ id: event.event_id, operation: 'person.created', record: event.record, previousRecord: null });
      const replay = await fetch(warehouse.url, { method: 'POST', body: replayBody, headers: signWebhook({ body: replayBody, secret }) });
      expect(replay.status).toBe(200);
      await warehouse.waitFor(/already received, ignored/);
      const forged = await fetch(warehouse.url, { method: 'POST', body: replayBody, headers: signWebhook({ body: replayBody, secret: other(secret) }) });
      expect(forged.status).toBe(401);
      expect(rows()).toHaveLength(2);
    } finally {
      await Promise.all(examples.map((example) => example.stop()));
      await chat.close();
    }
  });
});

/** Runs `node docs/examples/<file>` on a free port and resolves once it listens. */
async function startExample(file: string, env: Record<string, string>) {
  const example = runNode([path.join(REPO_ROOT, 'docs/examples', file)], { PORT: '0', ...env }, workDir);
  const [, url] = await example.waitFor(/listening on (http:\/\/\S+)/, 20_000);
  return {
    url,
    waitFor: example.waitFor,
    async stop() {
      await example.kill('SIGTERM');
    },
  };
}
