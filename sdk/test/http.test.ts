import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Fastify from 'fastify';
import { afterAll, describe, expect, it } from 'vitest';
import { fastifyWebhooks, signWebhook, webhookMiddleware, type VerifiedRequest, type WebhookEvent } from '../index.js';

const SECRET = `whsec_${randomBytes(32).toString('base64')}`;
const SDK_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const closers: Array<() => Promise<unknown>> = [];
afterAll(async () => {
  for (const close of closers) await close();
});

function eventBody(overrides: Record<string, unknown> = {}): string {
  // Spaces after colons on purpose: only the exact received bytes verify.
  return `{"id": "evt-${randomBytes(4).toString('hex')}", "operation": "person.created", "webhookId": "h", "workspaceId": "w", "timestamp": "2025-01-01T00:00:00.000Z", "record": {"id": "r1", "firstName": "Ada"}, "previousRecord": null, "updatedFields": []${Object.keys(overrides).length ? `, ${JSON.stringify(overrides).slice(1, -1)}` : ''}}`;
}

async function post(url: string, body: string, headers: Record<string, string>) {
  const response = await fetch(url, { method: 'POST', body, headers });
  return { status: response.status, body: await response.text() };
}

describe('webhookMiddleware on plain node:http', () => {
  it('passes verified deliveries to next() and answers bad ones itself', async () => {
    const seen: WebhookEvent[] = [];
    const middleware = webhookMiddleware({ secret: SECRET, maxBodyBytes: 4096 });
    const server = http.createServer((req, res) => {
      middleware(req, res, (error) => {
        if (error) {
          res.statusCode = 500;
          res.end(String(error));
          return;
        }
        const verified = req as VerifiedRequest;
        seen.push(verified.webhook);
        res.end(`ok ${verified.webhookVerification.scheme} ${verified.rawBody.length}`);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    closers.push(() => new Promise((resolve) => server.close(resolve)));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;

    const body = eventBody();
    const good = await post(url, body, signWebhook({ body, secret: SECRET }));
    expect(good).toEqual({ status: 200, body: `ok twenty ${Buffer.byteLength(body)}` });
    expect(seen.map((event) => event.record.firstName)).toEqual(['Ada']);

    const tampered = await post(url, body.replace('Ada', 'Eve'), signWebhook({ body, secret: SECRET }));
    expect(tampered.status).toBe(401);
    expect(JSON.parse(tampered.body)).toMatchObject({ error: 'mismatch' });

    const old = await post(url, body, signWebhook({ body, secret: SECRET, timestamp: Math.floor(Date.now() / 1000) - 301 }));
    expect(old.status).toBe(401);
    expect(JSON.parse(old.body)).toMatchObject({ error: 'stale' });

    const unsigned = await post(url, body, { 'content-type': 'application/json' });
    expect(JSON.parse(unsigned.body)).toMatchObject({ error: 'missing_header' });

    const big = `{"pad": "${'x'.repeat(5000)}"}`;
    const tooLarge = await post(url, big, signWebhook({ body: big, secret: SECRET, id: 'big' }));
    expect(tooLarge.status).toBe(413);
    expect(seen).toHaveLength(1);
  });
});

describe('fastifyWebhooks plugin', () => {
  it('verifies over the raw bytes inside its scope while the rest of the app keeps parsing JSON', async () => {
    const app = Fastify();
    const seen: string[] = [];
    await app.register(fastifyWebhooks, {
      secret: [SECRET, 'previous-secret'],
      prefix: '/hooks',
      path: '/switchboard',
      handler: async (event: WebhookEvent) => {
        seen.push(event.id);
      },
    });
    app.post('/api/echo', async (request) => ({ parsed: request.body }));
    const url = await app.listen({ port: 0, host: '127.0.0.1' });
    closers.push(() => app.close());

    const body = eventBody();
    const good = await post(`${url}/hooks/switchboard`, body, signWebhook({ body, secret: 'previous-secret' }));
    expect(good.status).toBe(204);
    expect(seen).toEqual([JSON.parse(body).id]);

    const wrong = await post(`${url}/hooks/switchboard`, body, signWebhook({ body, secret: 'not-it' }));
    expect(wrong.status).toBe(401);
    expect(JSON.parse(wrong.body)).toMatchObject({ error: 'mismatch' });
    expect(seen).toHaveLength(1);

    const echo = await post(`${url}/api/echo`, '{"a": 1}', { 'content-type': 'application/json' });
    expect(JSON.parse(echo.body)).toEqual({ parsed: { a: 1 } });
  });
});

describe('the packed SDK', () => {
  it('installs from `npm pack`, verifies with the library and the switchboard-webhooks bin, and ships its types', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'switchboard-sdk-pack-'));
    closers.push(async () => fs.rmSync(dir, { recursive: true, force: true }));
    const tarball = execFileSync('npm', ['pack', '--silent', '--pack-destination', dir], { cwd: SDK_DIR, encoding: 'utf8' }).trim().split('\n').pop()!;
    const listing = execFileSync('tar', ['-tzf', path.join(dir, tarball)], { encoding: 'utf8' }).trim().split('\n').sort();
    expect(listing).toEqual([
      'package/README.md',
      'package/bin/switchboard-webhooks.js',
      'package/index.d.ts',
      'package/index.js',
      'package/listen.d.ts',
      'package/listen.js',
      'package/package.json',
    ]);

    fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
    execFileSync('npm', ['install', '--offline', '--no-audit', '--no-fund', '--silent', `./${tarball}`], { cwd: dir });
    const body = eventBody();
    const headers = signWebhook({ body, secret: SECRET });
    fs.writeFileSync(
      path.join(dir, 'check.mjs'),
      `import { verifyWebhook } from '@switchboard/webhooks';
       const [body, headers, secret] = JSON.parse(process.argv[2]);
       console.log(verifyWebhook({ rawBody: body, headers, secret }).record.firstName);
       try { verifyWebhook({ rawBody: body + ' ', headers, secret }); } catch (error) { console.log(error.reason); }`,
    );
    const output = execFileSync(process.execPath, ['check.mjs', JSON.stringify([body, headers, SECRET])], { cwd: dir, encoding: 'utf8' });
    expect(output.trim().split('\n')).toEqual(['Ada', 'mismatch']);
    const types = fs.readFileSync(path.join(dir, 'node_modules/@switchboard/webhooks/index.d.ts'), 'utf8');
    expect(types).toMatch(/export declare function verifyWebhook/);
    expect(fs.readFileSync(path.join(dir, 'node_modules/@switchboard/webhooks/listen.d.ts'), 'utf8')).toMatch(/export declare function runListen/);

    // The bin, run by npx in that project (no Switchboard checkout near it): verifies, refuses a forgery with 401.
    const listen = spawn('npx', ['--no-install', 'switchboard-webhooks', 'listen', '--port', '0', '--secret', SECRET], { cwd: dir });
    closers.push(async () => listen.kill('SIGKILL'));
    let printed = '';
    listen.stdout.on('data', (chunk: Buffer) => (printed += chunk.toString()));
    listen.stderr.on('data', (chunk: Buffer) => (printed += chunk.toString()));
    await expect.poll(() => printed, { timeout: 60_000 }).toMatch(/Listening for webhooks on http:\/\/127\.0\.0\.1:\d+\//);
    const url = printed.match(/Listening for webhooks on (http:\/\/127\.0\.0\.1:\d+)\//)![1]!;
    const good = await post(`${url}/hook`, body, headers);
    expect(good.status).toBe(200);
    const forged = await post(`${url}/hook`, body.replace('Ada', 'Eve'), headers);
    expect(forged.status).toBe(401);
    await expect.poll(() => printed).toMatch(/signature: verified[\s\S]*→ 200[\s\S]*signature: REJECTED \(mismatch\)[\s\S]*→ 401/);
    const exited = new Promise((resolve) => listen.once('exit', (code, signal) => resolve(code ?? signal)));
    listen.kill('SIGTERM');
    // npx may end by the signal itself before the listener's clean exit reaches it.
    expect([0, 'SIGTERM']).toContain(await exited);
  }, 180_000);
});
