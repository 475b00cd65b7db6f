import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { launchBrowser, type Browser } from './support.ts';

// The page reads no stored data: one database is enough (the document per workspace is tested in test/api/openapi.test.ts).
describe('the API reference page at /docs', () => {
  let app: TestApp;
  let browser: Browser;
  beforeAll(async () => {
    app = await startTestApp('pglite', { role: 'api' });
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await app?.close();
  });

  it('renders the REST API under the content security policy, with no request to another origin and no console error', async () => {
    const page = await browser.context.newPage();
    const problems: string[] = [];
    const origins = new Set<string>();
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(message.text());
    });
    page.on('pageerror', (error) => problems.push(error.message));
    page.on('request', (request) => origins.add(new URL(request.url()).origin));
    const answer = await page.goto(`${app.url}/docs/`);
    expect(answer?.headers()['content-security-policy']).toContain("script-src 'self'");
    await page.getByText('Switchboard REST API').first().waitFor({ timeout: 20_000 });
    await page.getByText('/rest/people/{id}', { exact: true }).first().waitFor();
    expect(await page.getByText('/rest/webhooks/{id}/deliveries', { exact: true }).count()).toBeGreaterThan(0);
    expect(problems).toEqual([]);
    expect([...origins]).toEqual([new URL(app.url).origin]);
    await page.close();
  });
});
