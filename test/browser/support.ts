import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { TEST_API_KEY } from '../helpers/app.ts';
import { startReceiver, type Receiver } from '../helpers/receiver.ts';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const SCREENSHOT_DIR = path.resolve(import.meta.dirname, '../../docs/screenshots');
export const LAPTOP = { width: 1280, height: 800 };
export const PHONE = { width: 390, height: 844 };

export interface Browser {
  context: BrowserContext;
  close(): Promise<void>;
}

/** Debian's Chromium, headless, on a fresh profile that is removed on close. */
export async function launchBrowser(): Promise<Browser> {
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'switchboard-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    viewport: LAPTOP,
    args: [
      '--headless=new',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  return {
    context,
    async close() {
      await context.close();
      fs.rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}

/** Collects console errors and uncaught page errors, which a healthy UI never produces. */
export function watchConsole(page: Page): string[] {
  const problems: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`console: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  return problems;
}

/** True when the page is wider than the viewport (something overflows sideways). */
export async function overflowsSideways(page: Page): Promise<boolean> {
  return page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth + 1);
}

/**
 * Takes a full-page screenshot: into docs/screenshots (the README's pictures) when UPDATE_SCREENSHOTS=1,
 * else into a temporary folder, so a test run leaves the work tree as it was.
 */
export async function screenshot(page: Page, name: string): Promise<void> {
  const dir = process.env.UPDATE_SCREENSHOTS === '1' ? SCREENSHOT_DIR : path.join(os.tmpdir(), 'switchboard-screenshots');
  fs.mkdirSync(dir, { recursive: true });
  await page.screenshot({ path: path.join(dir, `${name}.png`), fullPage: true, animations: 'disabled' });
}

export interface SwitchableReceiver extends Receiver {
  /** What the next requests are answered with. */
  respondWith(status: number, body: string): void;
}

/** A webhook endpoint on 127.0.0.1 whose answer the test switches between success and failure. */
export async function startSwitchableReceiver(): Promise<SwitchableReceiver> {
  let answer = { status: 200, body: '{"ok":true}' };
  const receiver = await startReceiver((_request, response) => {
    response.writeHead(answer.status, { 'content-type': 'application/json' }).end(answer.body);
  });
  return {
    ...receiver,
    respondWith(status, body) {
      answer = { status, body };
    },
  };
}

/** Checks X-Twenty-Signature: hex HMAC-SHA256 keyed by the secret string over `${timestamp}.${body}`. */
export function twentySignatureMatches(request: { headers: http.IncomingHttpHeaders; body: string }, secret: string): boolean {
  const timestamp = String(request.headers['x-twenty-timestamp']);
  const expected = `sha256=${crypto.createHmac('sha256', secret).update(`${timestamp}.${request.body}`).digest('hex')}`;
  return request.headers['x-twenty-signature'] === expected;
}

const AXE_SOURCE = fs.readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

export interface Violation {
  id: string;
  impact: string | null;
  help: string;
  nodes: Array<{ target: unknown[] }>;
}

/** axe-core's serious and critical findings on the page as it is now. */
export async function seriousViolations(page: Page): Promise<Violation[]> {
  // Evaluated through the debugging protocol: the UI's Content-Security-Policy rightly refuses inline scripts.
  if (!(await page.evaluate(() => 'axe' in window))) await page.evaluate(`${AXE_SOURCE}\n;void 0`);
  const violations = await page.evaluate(async () => {
    const result = await (window as unknown as { axe: { run(): Promise<{ violations: Violation[] }> } }).axe.run();
    return result.violations.map((violation) => ({
      id: violation.id,
      impact: violation.impact,
      help: violation.help,
      nodes: violation.nodes.slice(0, 3).map((node) => ({ target: node.target })),
    }));
  });
  return violations.filter((violation) => violation.impact === 'serious' || violation.impact === 'critical');
}

/**
 * On a PER_RECORD webhook's page: expands a held delivery with the one it waits for, and replays from 2020 so the
 * answer shows the retention note (the page states that the accessibility and width checks look at).
 */
export async function showHeldDeliveryAndReplay(page: Page, webhookPageUrl: string): Promise<void> {
  await page.goto(webhookPageUrl);
  await page.getByRole('tab', { name: 'Deliveries' }).click();
  const held = page.locator('li.delivery[data-held]');
  await held.locator('button[aria-expanded]').first().click();
  await held.getByRole('button', { name: 'Show the delivery it waits for' }).click();
  await held.getByTestId('held-behind').waitFor();
  const replay = page.getByRole('region', { name: 'Replay events' });
  await replay.getByLabel('From').fill('2020-01-01T00:00:00');
  await replay.getByRole('button', { name: 'Replay events' }).click();
  await replay.getByTestId('replay-retention').waitFor();
}

/** A new page at `url`, signed in with the test key, with the console problems it logs from the start. */
export async function openSignedInPage(browser: Browser, url: string): Promise<{ page: Page; problems: string[] }> {
  const page = await browser.context.newPage();
  const problems = watchConsole(page);
  await page.goto(url);
  await page.getByLabel('API key').fill(TEST_API_KEY);
  await page.getByRole('button', { name: 'Sign in' }).click();
  return { page, problems };
}
