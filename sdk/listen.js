// The local receiver behind `switchboard-webhooks listen` (this package's bin) and `switchboard listen`:
// verifies every webhook it gets with this SDK, pretty-prints it, and answers as a receiver would.
import http from 'node:http';
import { parseArgs } from 'node:util';
import { checkWebhook, readRawBody, WebhookBodyTooLargeError } from './index.js';
const USAGE = 'Usage: switchboard-webhooks listen (or switchboard listen) [--port 4000] [--host 127.0.0.1] [--secret S ...] [--forward URL] [--fail-rate R] [--tolerance SECONDS]';
/** Hop-by-hop and length headers that must not be copied onto the forwarded request. */
const NOT_FORWARDED = new Set(['host', 'connection', 'content-length', 'transfer-encoding', 'keep-alive', 'upgrade', 'expect']);
export function parseListenArgs(args) {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      strict: true,
      allowPositionals: false,
      options: {
        port: { type: 'string', default: '4000' },
        host: { type: 'string', default: '127.0.0.1' },
        secret: { type: 'string', multiple: true },
        forward: { type: 'string' },
        'fail-rate': { type: 'string', default: '0' },
        tolerance: { type: 'string', default: '300' },
      },
    }));
  }
  catch (error) {
    throw new Error(`listen: ${error.message}\n${USAGE}`);
  }
  const port = Number(values.port);
  if (!/^\d+$/.test(values.port) || port > 65_535)
    throw new Error(`listen: --port must be a whole number from 0 to 65535 (got "${values.port}")`);
  const failRate = Number(values['fail-rate']);
  if (values['fail-rate'].trim() === '' || !Number.isFinite(failRate) || failRate < 0 || failRate > 1) {
    throw new Error(`listen: --fail-rate must be a number from 0 to 1, e.g. 0.25 (got "${values['fail-rate']}")`);
  }
  const toleranceSeconds = Number(values.tolerance);
  if (!/^\d+$/.test(values.tolerance))
    throw new Error(`listen: --tolerance must be whole seconds (got "${values.tolerance}")`);
  const secrets = values.secret ?? [];
  if (secrets.some((secret) => secret.length === 0))
    throw new Error('listen: --secret must not be empty');
  let forward;
  if (values.forward !== undefined) {
    try {
      forward = new URL(values.forward);
    }
    catch {
      throw new Error(`listen: --forward must be an absolute http(s) URL (got "${values.forward}")`);
    }
    if (forward.protocol !== 'http:' && forward.protocol !== 'https:') {
      throw new Error(`listen: --forward must be an http: or https: URL (got "${values.forward}")`);
    }
  }
  return { port, host: values.host, secrets, forward, failRate, toleranceSeconds };
}
/**
* Fails exactly `rate` of requests, evenly spread (request n fails when floor(n·rate) steps up), so a test
* knows which ones: rate 1 fails all, 0.5 every second one, 0 none.
*/
export function failureSchedule(rate) {
  let count = 0;
  return () => {
    count += 1;
    return Math.floor(count * rate) > Math.floor((count - 1) * rate);
  };
}
export function runListen(args) {
  const options = parseListenArgs(args);
  const server = createListenServer(options, (line) => process.stdout.write(`${line}\n`));
  return new Promise((resolve, reject) => {
    server.once('error', (error) => reject(new Error(error.code === 'EADDRINUSE' ? `listen: port ${options.port} is in use (try --port 0 for any free port)` : error.message)));
    server.listen(options.port, options.host, () => {
      const { port } = server.address();
      const host = options.host.includes(':') ? `[${options.host}]` : options.host;
      const lines = [`Listening for webhooks on http://${host}:${port}/`];
      lines.push(options.secrets.length > 0
        ? `Verifying signatures with ${options.secrets.length === 1 ? 'the given secret' : `${options.secrets.length} secrets`} (tolerance ${options.toleranceSeconds} s); bad ones get 401.`
        : 'No --secret given: signatures are NOT verified (every request is accepted).');
      if (options.forward)
        lines.push(`Forwarding verified requests to ${options.forward.href}`);
      if (options.failRate > 0)
        lines.push(`Simulating failures: answering 500 to ${Math.round(options.failRate * 100)}% of requests.`);
      process.stdout.write(`${lines.join('\n')}\n`);
      const stop = () => {
        server.close(() => process.exit(0));
        server.closeAllConnections();
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      resolve();
    });
  });
}
export function createListenServer(options, print) {
  const shouldFail = failureSchedule(options.failRate);
  return http.createServer((req, res) => {
    handle(req, res).catch((error) => {
      print(`  error: ${error instanceof Error ? error.message : String(error)}`);
      if (!res.headersSent)
        answer(res, 500, { error: 'listen_failed' });
    });
  });
  async function handle(req, res) {
    if (req.method !== 'POST') {
      answer(res, req.method === 'GET' || req.method === 'HEAD' ? 200 : 405, { listening: true, hint: 'POST webhooks here' });
      return;
    }
    const started = new Date();
    let rawBody;
    try {
      rawBody = await readRawBody(req);
    }
    catch (error) {
      if (!(error instanceof WebhookBodyTooLargeError))
        throw error;
      print(`[${clock(started)}] ${req.method} ${req.url}: body over ${error.limit} bytes, refused (413)`);
      answer(res, 413, { error: 'too_large' });
      return;
    }
    const check = options.secrets.length > 0
      ? checkWebhook({ rawBody, headers: req.headers, secret: options.secrets, toleranceSeconds: options.toleranceSeconds })
      : undefined;
    const payload = check?.ok ? check.payload : parseLoosely(rawBody);
    print(describeEvent(started, req.url ?? '/', payload));
    print(`  ${describeVerification(check, options.secrets.length)}`);
    for (const line of diffLines(payload))
      print(`  ${line}`);
    if (check && !check.ok) {
      answer(res, 401, { error: check.error.reason, message: check.error.message });
      print('  → 401');
      return;
    }
    if (shouldFail()) {
      answer(res, 500, { error: 'simulated_failure' });
      print('  → 500 (simulated failure, --fail-rate)');
      return;
    }
    if (options.forward) {
      await forward(req, rawBody, res, options.forward, print);
      return;
    }
    answer(res, 200, { received: true });
    print('  → 200');
  }
}
async function forward(req, rawBody, res, target, print) {
  const headers = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined && !NOT_FORWARDED.has(name))
      headers[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  const url = target;
  const started = performance.now();
  try {
    const response = await fetch(url, { method: 'POST', headers, body: Uint8Array.from(rawBody), signal: AbortSignal.timeout(30_000) });
    const body = Buffer.from(await response.arrayBuffer());
    res.statusCode = response.status;
    const contentType = response.headers.get('content-type');
    if (contentType)
      res.setHeader('content-type', contentType);
    res.end(body);
    print(`  → ${response.status} (forwarded to ${url.href}, ${Math.round(performance.now() - started)} ms)`);
  }
  catch (error) {
    const reason = error instanceof Error ? (error.cause?.message ?? error.message) : String(error);
    answer(res, 502, { error: 'forward_failed', message: reason });
    print(`  → 502 (forward to ${url.href} failed: ${reason})`);
  }
}
function answer(res, status, body) {
  res.statusCode = status;
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify(body));
}
function clock(date) {
  return date.toISOString().slice(11, 23);
}
function parseLoosely(rawBody) {
  try {
    const parsed = JSON.parse(rawBody.toString('utf8'));
    return parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? parsed : undefined;
  }
  catch {
    return undefined;
  }
}
function describeEvent(at, path, payload) {
  if (!payload)
    return `[${clock(at)}] POST ${path}: body is not a JSON object`;
  const record = payload.record;
  return [
    `[${clock(at)}] ${String(payload.operation ?? '(no operation)')}`,
    `event ${String(payload.id ?? '?')}`,
    `webhook ${String(payload.webhookId ?? '?')}`,
    `record ${String(record?.id ?? '?')}`,
  ].join('  ');
}
function describeVerification(check, secretCount) {
  if (!check)
    return 'signature: not verified (no --secret)';
  if (!check.ok)
    return `signature: REJECTED (${check.error.reason}): ${check.error.message}`;
  const header = check.scheme === 'twenty' ? 'X-Twenty-Signature' : 'webhook-signature';
  const which = secretCount > 1 ? ` with secret #${check.secretIndex + 1}` : '';
  return `signature: verified (${header}${which})`;
}
const SKIPPED_IN_DIFF = new Set(['updatedAt']);
/** `field: old → new` for every field that differs between previousRecord and record (created: every set field). */
export function diffLines(payload) {
  if (!payload)
    return [];
  const record = (payload.record ?? {});
  const previous = payload.previousRecord;
  const lines = [];
  if (!previous) {
    for (const [field, value] of Object.entries(record)) {
      if (value !== null && value !== undefined && field !== 'id')
        lines.push(`${field}: ${show(value)}`);
    }
    return lines;
  }
  const fields = new Set([...Object.keys(previous), ...Object.keys(record)]);
  for (const field of fields) {
    if (SKIPPED_IN_DIFF.has(field))
      continue;
    const before = previous[field];
    const after = record[field];
    if (JSON.stringify(before) !== JSON.stringify(after))
      lines.push(`${field}: ${show(before)} → ${show(after)}`);
  }
  if (lines.length === 0)
    lines.push('(no field changed)');
  return lines;
}
function show(value) {
  if (value === undefined)
    return '∅';
  const text = JSON.stringify(value);
  return text.length > 80 ? `${text.slice(0, 77)}…` : text;
}
