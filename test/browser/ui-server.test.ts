import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uiRoutes } from '../../src/api/ui.ts';
import { startTestApp, type TestApp } from '../helpers/app.ts';

describe('serving the UI', () => {
  let root: string;
  beforeAll(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'switchboard-ui-'));
    fs.mkdirSync(path.join(root, 'dist', 'assets'), { recursive: true });
    fs.writeFileSync(path.join(root, 'dist', 'index.html'), '<!doctype html><div id="root"></div>');
    fs.writeFileSync(path.join(root, 'dist', 'assets', 'index-abc123.js'), 'console.log(1)');
    fs.mkdirSync(path.join(root, 'empty'));
  });
  afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

  it('answers index.html for the app routes and hashed assets with long caching, and nothing else', async () => {
    const app = Fastify();
    await uiRoutes(path.join(root, 'dist'))(app);
    for (const url of ['/', '/sign-in', '/settings', '/settings/api-webhooks', '/settings/api-webhooks/webhooks/new', '/settings/api-webhooks/webhooks/9b1f']) {
      const response = await app.inject({ url });
      expect(response.statusCode, url).toBe(200);
      expect(response.headers['content-type']).toMatch(/^text\/html/);
      expect(response.headers['cache-control']).toBe('no-cache');
      expect(response.body).toContain('<div id="root">');
    }
    const asset = await app.inject({ url: '/assets/index-abc123.js' });
    expect(asset.statusCode).toBe(200);
    expect(asset.headers['cache-control']).toContain('immutable');
    expect((await app.inject({ url: '/assets/missing.js' })).statusCode).toBe(404);
    expect((await app.inject({ url: '/index.html.bak' })).statusCode).toBe(404);
    expect((await app.inject({ url: '/graphql' })).statusCode).toBe(404);
    await app.close();
  });

  it('says how to build the UI when it is not built', async () => {
    const app = Fastify({ logger: false });
    await uiRoutes(path.join(root, 'empty'))(app);
    const response = await app.inject({ url: '/settings/api-webhooks' });
    expect(response.statusCode).toBe(503);
    expect(response.body).toContain('npm run build:web');
    await app.close();
  });

  describe('mounted in the server', () => {
    let app: TestApp;
    beforeAll(async () => {
      app = await startTestApp('pglite');
    });
    afterAll(async () => app?.close());

    it('leaves /graphql, /rest, /healthz and /metrics to the API', async () => {
      expect((await fetch(`${app.url}/healthz`)).status).toBe(200);
      expect((await fetch(`${app.url}/metrics`)).headers.get('content-type')).toMatch(/^text\/plain/);
      expect((await fetch(`${app.url}/graphql`, { method: 'POST' })).status).toBe(401);
      expect((await fetch(`${app.url}/rest/webhooks`)).status).toBe(401);
      expect((await app.graphql('{ currentWorkspace { name } }')).data.currentWorkspace.name).toBe('default');
      const page = await fetch(`${app.url}/settings/api-webhooks`);
      expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    });
  });
});
