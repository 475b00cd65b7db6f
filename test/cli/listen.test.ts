import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { signWebhook } from '../../sdk/index.js';
import { diffLines, failureSchedule, parseListenArgs } from '../../src/cli/listen.ts';
import { runCli, type RunningProcess } from '../helpers/processes.ts';

const SECRET = `whsec_${randomBytes(32).toString('base64')}`;
const running: RunningProcess[] = [];
const servers: http.Server[] = [];
afterAll(async () => {
  await Promise.all(running.map((process) => process.kill('SIGKILL')));
  for (const server of servers) server.close();
});

function listen(args: string[]): RunningProcess {
  const process = runCli(['listen', ...args]);
  running.push(process);
  return process;
}

function updateBody(): string {
  return JSON.stringify({
    id: `evt-${randomBytes(4).toString('hex')}`,
    workspaceId: 'ws-1',
    webhookId: 'hook-1',
    operation: 'person.updated',
    timestamp: new Date().toISOString(),
    record: { id: 'person-1', firstName: 'Ada', jobTitle: 'CTO', updatedAt: '2025-01-02T00:00:00.000Z' },
    previousRecord: { id: 'person-1', firstName: 'Ada', jobTitle: 'Engineer', updatedAt: '2025-01-01T00:00:00.000Z' },
    updatedFields: ['jobTitle'],
  });
}

interface Received {
  body: string;
  headers: http.IncomingHttpHeaders;
}

async function forwardTarget(status: number): Promise<{ url: string; received: Received[] }> {
  const received: Received[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      received.push({ body: Buffer.concat(chunks).toString('utf8'), headers: req.headers });
      res.statusCode = status;
      res.end('from the app');
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`, received };
}

async function post(url: string, body: string, headers: Record<string, string>) {
  const response = await fetch(url, { method: 'POST', body, headers });
  return { status: response.status, text: await response.text() };
}

describe('switchboard listen', () => {
  it('verifies, prints and forwards genuine requests, refuses tampered, wrong-secret and stale ones, simulates failures, and refuses bad flags', async () => {
    const target = await forwardTarget(202);
    const down = await forwardTarget(200);
    await new Promise((resolve) => servers.pop()!.close(resolve));
    // Three processes at once: each start pays for loading TypeScript.
    const verifying = listen(['--port', '0', '--secret', SECRET, '--forward', target.url]);
    const failing = listen(['--port', '0', '--fail-rate', '0.5', '--forward', down.url]);
    const badFlag = listen(['--fail-rate', '1.5']);
    const [[, url], [, failingUrl]] = await Promise.all([
      verifying.waitFor(/Listening for webhooks on (http:\/\/127\.0\.0\.1:\d+)\//),
      failing.waitFor(/Listening for webhooks on (http:\/\/127\.0\.0\.1:\d+)\//),
    ]);
    expect(failing.output()).toMatch(/signatures are NOT verified/);
    expect(failing.output()).toMatch(/answering 500 to 50% of requests/);

    const body = updateBody();
    const event = JSON.parse(body);
    const headers = signWebhook({ body, secret: SECRET });
    const genuine = await post(url, body, headers);
    expect(genuine).toEqual({ status: 202, text: 'from the app' });
    expect(target.received).toHaveLength(1);
    expect(target.received[0].body).toBe(body);
    expect(target.received[0].headers['x-twenty-signature']).toBe(headers['x-twenty-signature']);
    expect(target.received[0].headers['webhook-signature']).toBe(headers['webhook-signature']);
    await verifying.waitFor(/→ 202 \(forwarded/);
    const printed = verifying.output();
    expect(printed).toContain(`person.updated  event ${event.id}  webhook hook-1  record person-1`);
    expect(printed).toContain('signature: verified (X-Twenty-Signature)');
    expect(printed).toContain('jobTitle: "Engineer" → "CTO"');
    expect(printed).not.toMatch(/firstName: /);

    const tampered = await post(url, body.replace('CTO', 'CEO'), headers);
    expect(tampered.status).toBe(401);
    const wrongSecret = await post(url, body, signWebhook({ body, secret: 'whsec_' + randomBytes(32).toString('base64') }));
    expect(wrongSecret.status).toBe(401);
    const stale = await post(url, body, signWebhook({ body, secret: SECRET, timestamp: Math.floor(Date.now() / 1000) - 301 }));
    expect(stale.status).toBe(401);
    expect(JSON.parse(stale.text)).toMatchObject({ error: 'stale' });
    // 301 s before a whole second; the listener reads its clock a moment later, which may be in the next second.
    await verifying.waitFor(/REJECTED \(stale\): X-Twenty-Timestamp is 30[12] s old/);
    expect(verifying.output().match(/REJECTED \(mismatch\)/g)).toHaveLength(2);
    expect(target.received).toHaveLength(1);

    // --fail-rate 0.5: every second request gets 500; the others go to the (dead) forward target: 502.
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await post(failingUrl, body, headers)).status);
    expect(statuses).toEqual([502, 500, 502, 500]);
    await failing.waitFor(/(→ 500 \(simulated failure[\s\S]*){2}/);
    expect(failing.output()).toMatch(/→ 502 \(forward to .* failed/);
    expect(failing.output()).toContain('signature: not verified (no --secret)');

    expect(await badFlag.exited).toBe(2);
    expect(badFlag.output()).toMatch(/--fail-rate must be a number from 0 to 1/);
  });

  it('validates flags', () => {
    expect(() => parseListenArgs(['--port', '70000'])).toThrow(/--port must be a whole number from 0 to 65535/);
    expect(() => parseListenArgs(['--forward', 'localhost:3000'])).toThrow(/--forward must be an http: or https: URL/);
    expect(() => parseListenArgs(['--secret', ''])).toThrow(/--secret must not be empty/);
    expect(() => parseListenArgs(['--nope'])).toThrow(/Unknown option '--nope'[\s\S]*Usage/);
    expect(parseListenArgs(['--secret', 'a', '--secret', 'b'])).toMatchObject({ port: 4000, secrets: ['a', 'b'], failRate: 0 });
  });

  it('fails exactly the given fraction of requests, evenly', () => {
    const pattern = (rate: number) => {
      const next = failureSchedule(rate);
      return Array.from({ length: 8 }, () => (next() ? 'x' : '.')).join('');
    };
    expect(pattern(0)).toBe('........');
    expect(pattern(1)).toBe('xxxxxxxx');
    expect(pattern(0.5)).toBe('.x.x.x.x');
    expect(pattern(0.25)).toBe('...x...x');
  });

  it('diffs previousRecord against record, and lists the fields of a created record', () => {
    expect(diffLines({ record: { id: 'r', city: 'Paris', email: null }, previousRecord: null })).toEqual(['city: "Paris"']);
    expect(diffLines({ record: { id: 'r', city: 'Paris', deletedAt: '2025-01-01T00:00:00.000Z' }, previousRecord: { id: 'r', city: 'Lyon', deletedAt: null } })).toEqual([
      'city: "Lyon" → "Paris"',
      'deletedAt: null → "2025-01-01T00:00:00.000Z"',
    ]);
  });
});
