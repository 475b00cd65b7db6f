import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import type { Clock } from '../../src/domain/clock.ts';
import { FailureSummary } from '../../src/delivery/failure-summary.ts';
import { chooseLogFormat, createLogger } from '../../src/logger.ts';
import { copyPgliteTemplate } from '../helpers/databases.ts';
import { serverGroup } from '../helpers/processes.ts';
import { startReceiver } from '../helpers/receiver.ts';

const servers = serverGroup();
afterAll(() => servers.cleanup());

function collectingLogger(level = 'debug', format: 'json' | 'pretty' = 'json') {
  const lines: string[] = [];
  const logger = createLogger(level, { write: (chunk: string) => void lines.push(...chunk.split('\n').filter(Boolean)) }, format);
  return { logger, lines };
}

function movableClock(start = Date.parse('2026-01-01T00:00:00Z')) {
  let now = start;
  const clock: Clock = { now: () => new Date(now) };
  return { clock, advance: (ms: number) => (now += ms) };
}

describe('log format selection', () => {
  it('is pretty on a terminal and JSON otherwise, unless LOG_FORMAT says', () => {
    expect(chooseLogFormat('auto', true)).toBe('pretty');
    expect(chooseLogFormat('auto', false)).toBe('json');
    expect(chooseLogFormat('json', true)).toBe('json');
    expect(chooseLogFormat('pretty', false)).toBe('pretty');
  });

  it('reads LOG_FORMAT, defaulting to auto, and refuses other values naming the variable', () => {
    expect(loadConfig({}).logFormat).toBe('auto');
    expect(loadConfig({ LOG_FORMAT: 'JSON' }).logFormat).toBe('json');
    expect(() => loadConfig({ LOG_FORMAT: 'yaml' })).toThrow(/LOG_FORMAT: "yaml" must be json, pretty or auto/);
  });

  it('writes one readable line per event in the pretty format, with the same redaction as JSON', () => {
    const { logger, lines } = collectingLogger('info', 'pretty');
    logger.warn({ webhookId: 'w1', secret: 'whsec_do_not_show' }, 'webhook disabled');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^\[\d\d:\d\d:\d\d\] WARN: webhook disabled \{.*"webhookId":"w1"/);
    expect(lines[0]).not.toContain('whsec_do_not_show');
    expect(lines[0]).toContain('[redacted]');
    expect(() => JSON.parse(lines[0]!)).toThrow();
  });
});

describe('delivery failure summary', () => {
  it('writes one warning per endpoint per window with the count and the last reason, without query strings', () => {
    const { logger, lines } = collectingLogger();
    const { clock, advance } = movableClock();
    const summary = new FailureSummary(logger, clock, 60_000);
    summary.record('https://hooks.example.com/in?token=abc', 'w1', 'HTTP 500');
    summary.record('https://hooks.example.com/in?token=abc', 'w1', 'HTTP 502');
    summary.record('https://hooks.example.com/in?token=def', 'w2', 'HTTP 503');
    summary.record('https://other.example.com/', 'w3', 'connect ECONNREFUSED 10.0.0.1:443');
    advance(60_000);
    summary.flush();

    const entries = lines.map((line) => JSON.parse(line));
    expect(entries.map((entry) => [entry.level, entry.msg])).toEqual([
      [40, '3 failures to https://hooks.example.com/in in the last 60 s, last: HTTP 503'],
      [40, '1 failure to https://other.example.com/ in the last 60 s, last: connect ECONNREFUSED 10.0.0.1:443'],
    ]);
    expect(entries[0]).toMatchObject({ endpoint: 'https://hooks.example.com/in', failures: 3, webhookIds: ['w1', 'w2'] });
    expect(lines.join('\n')).not.toContain('token=');

    // A window without failures writes nothing; the next one counts from its own start.
    advance(60_000);
    summary.flush();
    expect(lines).toHaveLength(2);
    summary.record('https://other.example.com/', 'w3', 'HTTP 404');
    advance(30_000);
    summary.flush();
    expect(JSON.parse(lines[2]!).msg).toBe('1 failure to https://other.example.com/ in the last 30 s, last: HTTP 404');
  });

  it('writes its window on its timer, and what is left when stopped', async () => {
    const { logger, lines } = collectingLogger();
    const summary = new FailureSummary(logger, { now: () => new Date() }, 20);
    summary.start();
    summary.record('http://127.0.0.1:9/hook', 'w1', 'HTTP 503');
    await expect.poll(() => lines.length, { timeout: 5_000 }).toBe(1);
    summary.record('http://127.0.0.1:9/hook', 'w1', 'HTTP 504');
    summary.stop();
    expect(JSON.parse(lines.at(-1)!).msg).toMatch(/^1 failure to http:\/\/127\.0\.0\.1:9\/hook in the last \d+ s, last: HTTP 504$/);
  });
});

describe('switchboard serve with its output going to a pipe', () => {
  it('writes JSON log lines, keeps the banner whole, and summarises failed deliveries per endpoint', async () => {
    const receiver = await startReceiver((_request, response) => {
      response.statusCode = 503;
      response.end('down');
    });
    const dataDir = copyPgliteTemplate();
    servers.removeLater(dataDir);
    const apiKey = 'sb_logging_test_key_0123456789';
    const server = servers.serve({
      DATA_DIR: dataDir,
      DATABASE_URL: '',
      LOG_LEVEL: 'info',
      SWITCHBOARD_API_KEY: apiKey,
      SWITCHBOARD_RETRY_SCHEDULE: '50ms,50ms,50ms',
    });
    let stdout = '';
    server.child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    try {
      const [, url] = await server.waitFor(/UI:\s+(http:\/\/[^/]+)\//);
      const graphql = (query: string) =>
        fetch(`${url}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${apiKey}` },
          body: JSON.stringify({ query }),
        }).then((response) => response.json() as Promise<{ errors?: unknown }>);
      expect((await graphql(`mutation { createWebhook(input: {targetUrl: "${receiver.url}/hook"}) { id } }`)).errors).toBeUndefined();
      expect((await graphql('mutation { createPerson(data: {firstName: "Ada"}) { id } }')).errors).toBeUndefined();
      await receiver.waitForCount(4);
      expect(await server.kill('SIGTERM')).toBe(0);
    } finally {
      await receiver.close();
    }

    const banner = stdout.match(/Switchboard is running on [^\n]*\nUI: [^\n]*\nGraphQL: [^\n]*\nPrivate targets allowed: [^\n]*\nThe API key from SWITCHBOARD_API_KEY [^\n]*\n/);
    expect(banner, stdout).not.toBeNull();
    const logLines = stdout.replace(banner![0], '').split('\n').filter(Boolean);
    const entries = logLines.map((line) => JSON.parse(line) as { level: number; msg: string });
    // Each attempt is a debug line: at info only the summary, written when the worker stopped, tells of them.
    const failures = entries.filter((entry) => /fail/.test(entry.msg));
    expect(failures.map((entry) => entry.msg)).toEqual([
      expect.stringMatching(new RegExp(`^4 failures to ${receiver.url}/hook in the last \\d+ s, last: HTTP 503$`)),
    ]);
  });
});
