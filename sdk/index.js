// @switchboard/webhooks: verify Switchboard webhook deliveries. Plain ESM on node:crypto, no dependencies,
// so the file that the repository's tests import is exactly the file that `npm pack` ships.
import { createHmac, timingSafeEqual } from 'node:crypto';

export const DEFAULT_TOLERANCE_SECONDS = 300;
/** Switchboard refuses payloads over 1 MiB; twice that leaves room for other senders without inviting abuse. */
export const DEFAULT_MAX_BODY_BYTES = 2 * 1024 * 1024;

const SHA256_BYTES = 32;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

export class WebhookVerificationError extends Error {
  /**
   * @param {'missing_header'|'bad_format'|'stale'|'future'|'mismatch'|'bad_json'} reason
   * @param {string} message
   * @param {string} [header] the header at fault, when there is one
   */
  constructor(reason, message, header) {
    super(message);
    this.name = 'WebhookVerificationError';
    this.reason = reason;
    this.header = header;
  }
}

/** Thrown by readRawBody when the body exceeds maxBodyBytes. */
export class WebhookBodyTooLargeError extends Error {
  constructor(limit) {
    super(`The request body exceeds ${limit} bytes`);
    this.name = 'WebhookBodyTooLargeError';
    this.limit = limit;
    this.statusCode = 413;
  }
}

/**
 * Verifies one delivery and returns its parsed payload; throws WebhookVerificationError saying why not.
 * rawBody must be the bytes exactly as received: parsed-and-reserialised JSON is different bytes.
 */
export function verifyWebhook(options) {
  const result = checkWebhook(options);
  if (!result.ok) throw result.error;
  return result.payload;
}

/** Like verifyWebhook, but never throws for a bad delivery: returns { ok, payload, scheme, ... } or { ok: false, error }. */
export function checkWebhook({ rawBody, headers, secret, toleranceSeconds = DEFAULT_TOLERANCE_SECONDS, now }) {
  const body = toBytes(rawBody);
  const secrets = toSecrets(secret);
  if (!(Number.isFinite(toleranceSeconds) && toleranceSeconds >= 0)) {
    throw new TypeError('toleranceSeconds must be a number of seconds, 0 or more');
  }
  const header = headerReader(headers);
  const nowSeconds = Math.floor(toMillis(now) / 1000);

  const schemes = [];
  if (header('x-twenty-signature') !== undefined) schemes.push(verifyTwenty);
  if (header('webhook-signature') !== undefined) schemes.push(verifyStandard);
  if (schemes.length === 0) {
    return failure('missing_header', 'No signature header: expected X-Twenty-Signature or webhook-signature', 'X-Twenty-Signature');
  }

  // Either scheme alone proves the sender holds the secret; the first one's error is reported when none passes.
  let firstError;
  let verified;
  for (const scheme of schemes) {
    try {
      verified = scheme(header, body, secrets);
      break;
    } catch (error) {
      if (!(error instanceof WebhookVerificationError)) throw error;
      firstError ??= error;
    }
  }
  if (!verified) return { ok: false, error: firstError };

  // Checked after the signature so that "stale" means genuine but too old (a replay), never a forgery.
  const age = nowSeconds - verified.timestamp;
  if (age > toleranceSeconds) {
    return failure('stale', `${verified.timestampHeader} is ${age} s old; the tolerance is ${toleranceSeconds} s`, verified.timestampHeader);
  }
  if (-age > toleranceSeconds) {
    return failure('future', `${verified.timestampHeader} is ${-age} s in the future; the tolerance is ${toleranceSeconds} s`, verified.timestampHeader);
  }

  let payload;
  try {
    payload = JSON.parse(body.toString('utf8'));
  } catch (error) {
    return failure('bad_json', `The body is not valid JSON: ${error.message}`);
  }
  if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) {
    return failure('bad_json', 'The body is JSON but not an object');
  }
  return {
    ok: true,
    payload,
    scheme: verified.scheme,
    timestamp: verified.timestamp,
    secretIndex: verified.secretIndex,
    ...(verified.webhookId === undefined ? {} : { webhookMessageId: verified.webhookId }),
  };
}

function failure(reason, message, header) {
  return { ok: false, error: new WebhookVerificationError(reason, message, header) };
}

/** X-Twenty-Signature: sha256=<hex HMAC-SHA256(secret as UTF-8, `${timestamp}.${body}`)>. */
function verifyTwenty(header, body, secrets) {
  const signatureHeader = header('x-twenty-signature');
  const timestampHeader = header('x-twenty-timestamp');
  if (timestampHeader === undefined) {
    throw new WebhookVerificationError('missing_header', 'Missing header X-Twenty-Timestamp (sent with X-Twenty-Signature)', 'X-Twenty-Timestamp');
  }
  const timestamp = parseTimestamp(timestampHeader, 'X-Twenty-Timestamp');
  const candidates = [];
  // During a rotation Switchboard keeps X-Twenty-Signature to the current secret (so whole-header comparers keep
  // working) and sends the previous secret's signature in X-Twenty-Signature-Previous.
  const previousHeader = header('x-twenty-signature-previous') ?? '';
  for (const entry of `${signatureHeader} ${previousHeader}`.split(/[\s,]+/)) {
    const match = /^(?:sha256=)?([0-9a-fA-F]{64})$/.exec(entry);
    if (match) candidates.push(Buffer.from(match[1], 'hex'));
  }
  if (candidates.length === 0) {
    throw new WebhookVerificationError('bad_format', 'X-Twenty-Signature has no sha256=<64 hex digits> entry', 'X-Twenty-Signature');
  }
  const signed = Buffer.concat([Buffer.from(`${timestampHeader.trim()}.`, 'utf8'), body]);
  const secretIndex = matchingSecret(secrets, (secret) => Buffer.from(secret, 'utf8'), signed, candidates);
  if (secretIndex < 0) {
    throw new WebhookVerificationError('mismatch', mismatchMessage('X-Twenty-Signature', secrets.length), 'X-Twenty-Signature');
  }
  return { scheme: 'twenty', timestamp, timestampHeader: 'X-Twenty-Timestamp', secretIndex };
}

/** webhook-signature: v1,<base64 HMAC-SHA256(key, `${webhook-id}.${webhook-timestamp}.${body}`)>, space-separated. */
function verifyStandard(header, body, secrets) {
  const signatureHeader = header('webhook-signature');
  for (const name of ['webhook-id', 'webhook-timestamp']) {
    if (header(name) === undefined) {
      throw new WebhookVerificationError('missing_header', `Missing header ${name} (sent with webhook-signature)`, name);
    }
  }
  const id = header('webhook-id').trim();
  const timestampHeader = header('webhook-timestamp').trim();
  const timestamp = parseTimestamp(timestampHeader, 'webhook-timestamp');
  const candidates = [];
  // A comma ends a v1 entry only when a proxy joined repeated headers ("v1,a, v1,b"): base64 has no commas.
  for (const entry of signatureHeader.split(/\s+/)) {
    const match = /^v1,([A-Za-z0-9+/]+={0,2}),*$/.exec(entry);
    if (!match) continue;
    const decoded = Buffer.from(match[1], 'base64');
    if (decoded.length === SHA256_BYTES) candidates.push(decoded);
  }
  if (candidates.length === 0) {
    throw new WebhookVerificationError('bad_format', 'webhook-signature has no v1,<base64 HMAC-SHA256> entry', 'webhook-signature');
  }
  const signed = Buffer.concat([Buffer.from(`${id}.${timestampHeader}.`, 'utf8'), body]);
  const secretIndex = matchingSecret(secrets, standardWebhooksKey, signed, candidates);
  if (secretIndex < 0) {
    throw new WebhookVerificationError('mismatch', mismatchMessage('webhook-signature', secrets.length), 'webhook-signature');
  }
  return { scheme: 'standard', timestamp, timestampHeader: 'webhook-timestamp', secretIndex, webhookId: id };
}

/** The Standard Webhooks key: the base64 after `whsec_`, else (same rule as Switchboard's sender) the secret's UTF-8 bytes. */
export function standardWebhooksKey(secret) {
  const encoded = secret.startsWith('whsec_') ? secret.slice('whsec_'.length) : '';
  return encoded.length > 0 && BASE64.test(encoded) ? Buffer.from(encoded, 'base64') : Buffer.from(secret, 'utf8');
}

function matchingSecret(secrets, keyOf, signed, candidates) {
  return secrets.findIndex((secret) => {
    const expected = createHmac('sha256', keyOf(secret)).update(signed).digest();
    // Every candidate is 32 bytes, like expected, so timingSafeEqual never throws on length.
    return candidates.some((candidate) => timingSafeEqual(candidate, expected));
  });
}

function mismatchMessage(headerName, secretCount) {
  const secrets = secretCount === 1 ? 'the secret' : `any of the ${secretCount} secrets`;
  return `${headerName} does not match the body signed with ${secrets}: wrong secret, or the body was changed (verify the raw body exactly as received)`;
}

function parseTimestamp(value, headerName) {
  const text = value.trim();
  if (!/^\d{1,12}$/.test(text)) {
    throw new WebhookVerificationError('bad_format', `${headerName} must be whole Unix seconds (got "${text.slice(0, 40)}")`, headerName);
  }
  return Number(text);
}

function toBytes(rawBody) {
  if (typeof rawBody === 'string') return Buffer.from(rawBody, 'utf8');
  if (Buffer.isBuffer(rawBody)) return rawBody;
  if (rawBody instanceof Uint8Array) return Buffer.from(rawBody.buffer, rawBody.byteOffset, rawBody.byteLength);
  if (rawBody instanceof ArrayBuffer) return Buffer.from(rawBody);
  throw new TypeError(
    'rawBody must be the request body exactly as received (Buffer, Uint8Array or string), not parsed JSON: ' +
      're-serialising JSON changes its bytes and the signature no longer matches',
  );
}

function toSecrets(secret) {
  const secrets = Array.isArray(secret) ? secret : [secret];
  if (secrets.length === 0 || secrets.some((each) => typeof each !== 'string' || each.length === 0)) {
    throw new TypeError('secret must be a non-empty string or a non-empty array of them');
  }
  return secrets;
}

function toMillis(now) {
  if (now === undefined) return Date.now();
  if (now instanceof Date) return now.getTime();
  if (typeof now === 'number' && Number.isFinite(now)) return now;
  throw new TypeError('now must be a Date or milliseconds since the epoch');
}

/** A case-insensitive reader over fetch Headers, a Map, or node's IncomingHttpHeaders (arrays are joined). */
function headerReader(headers) {
  if (headers === null || typeof headers !== 'object') throw new TypeError('headers must be an object');
  let lookup;
  if (typeof headers.get === 'function' && !(headers instanceof Map)) {
    lookup = (name) => headers.get(name);
  } else {
    const lowered = new Map();
    const entries = headers instanceof Map ? headers.entries() : Object.entries(headers);
    for (const [name, value] of entries) lowered.set(String(name).toLowerCase(), value);
    lookup = (name) => lowered.get(name);
  }
  return (name) => {
    const value = lookup(name);
    if (value === undefined || value === null) return undefined;
    return Array.isArray(value) ? value.join(', ') : String(value);
  };
}

/**
 * The signing headers Switchboard sends, for testing a receiver without a server. A list of secrets (current
 * first) signs as during a rotation: every secret in webhook-signature, the current one in X-Twenty-Signature
 * and the others in X-Twenty-Signature-Previous.
 */
export function signWebhook({ body, secret, id, timestamp }) {
  const bytes = toBytes(body);
  const secrets = toSecrets(secret);
  const seconds = String(timestamp ?? Math.floor(Date.now() / 1000));
  if (!/^\d+$/.test(seconds)) throw new TypeError('timestamp must be whole Unix seconds');
  const messageId = id ?? JSON.parse(bytes.toString('utf8')).id;
  if (typeof messageId !== 'string' || messageId === '') throw new TypeError('id is required (or a body with an "id")');
  const twentySigned = Buffer.concat([Buffer.from(`${seconds}.`), bytes]);
  const standardSigned = Buffer.concat([Buffer.from(`${messageId}.${seconds}.`), bytes]);
  const twenty = (each) => `sha256=${createHmac('sha256', each).update(twentySigned).digest('hex')}`;
  return {
    'content-type': 'application/json',
    'x-twenty-signature': twenty(secrets[0]),
    ...(secrets.length > 1 ? { 'x-twenty-signature-previous': secrets.slice(1).map(twenty).join(',') } : {}),
    'x-twenty-timestamp': seconds,
    'webhook-id': messageId,
    'webhook-timestamp': seconds,
    'webhook-signature': secrets
      .map((each) => `v1,${createHmac('sha256', standardWebhooksKey(each)).update(standardSigned).digest('base64')}`)
      .join(' '),
  };
}

/**
 * The raw body of a node request. Uses a body a framework already kept as bytes (express.raw, rawBody),
 * else reads the stream. Refuses a body that some JSON parser already consumed: its bytes are gone.
 */
export function readRawBody(req, { maxBodyBytes = DEFAULT_MAX_BODY_BYTES } = {}) {
  if (Buffer.isBuffer(req.rawBody)) return Promise.resolve(req.rawBody);
  if (Buffer.isBuffer(req.body) || typeof req.body === 'string') return Promise.resolve(toBytes(req.body));
  // body-parser sets _body once it has consumed the stream.
  if (req.readableEnded || req._body === true) {
    return Promise.reject(
      new TypeError(
        'The request body was already parsed, so its exact bytes are gone: mount the webhook route before any JSON body parser (or use express.raw({ type: "application/json" }))',
      ),
    );
  }
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    const onData = (chunk) => {
      size += chunk.length;
      if (size > maxBodyBytes) {
        req.off('data', onData);
        req.resume(); // drain the rest so the reply can still be written
        reject(new WebhookBodyTooLargeError(maxBodyBytes));
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.once('end', () => {
      if (size <= maxBodyBytes) resolve(Buffer.concat(chunks, size));
    });
    req.once('error', reject);
  });
}

function statusFor(error) {
  return error.reason === 'bad_json' ? 400 : 401;
}

function sendJson(res, status, body) {
  res.statusCode = status;
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify(body));
}

/**
 * Express/Connect middleware (also plain node:http as `(req, res, next)`): reads the raw body, verifies it,
 * sets req.rawBody, req.webhook (the payload) and req.webhookVerification, then calls next().
 * A bad delivery is answered here: 401 for a signature problem, 400 for bad JSON, 413 for a body over the limit.
 */
export function webhookMiddleware({ secret, toleranceSeconds, maxBodyBytes, now } = {}) {
  toSecrets(secret);
  return function switchboardWebhook(req, res, next) {
    readRawBody(req, { maxBodyBytes }).then(
      (rawBody) => {
        req.rawBody = rawBody;
        const result = checkWebhook({ rawBody, headers: req.headers, secret, toleranceSeconds, now: now?.() });
        if (!result.ok) {
          sendJson(res, statusFor(result.error), { error: result.error.reason, message: result.error.message });
          return;
        }
        req.webhook = result.payload;
        req.webhookVerification = result;
        next();
      },
      (error) => {
        if (error instanceof WebhookBodyTooLargeError) sendJson(res, 413, { error: 'too_large', message: error.message });
        else next(error);
      },
    );
  };
}

/**
 * A Fastify plugin that registers `POST path` (default /webhooks), verifies each delivery over its raw bytes
 * and calls handler(payload, request, reply). Register it without fastify-plugin: its raw-body parser then
 * stays inside the plugin and the rest of the app keeps parsing JSON as usual.
 */
export async function fastifyWebhooks(fastify, options) {
  const { secret, path = '/webhooks', handler, toleranceSeconds, maxBodyBytes = DEFAULT_MAX_BODY_BYTES, now } = options ?? {};
  toSecrets(secret);
  if (typeof handler !== 'function') throw new TypeError('fastifyWebhooks needs a handler(payload, request, reply)');
  fastify.removeAllContentTypeParsers();
  fastify.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: maxBodyBytes }, (_request, body, done) => done(null, body));
  fastify.post(path, async (request, reply) => {
    const rawBody = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
    const result = checkWebhook({ rawBody, headers: request.headers, secret, toleranceSeconds, now: now?.() });
    if (!result.ok) {
      return reply.code(statusFor(result.error)).send({ error: result.error.reason, message: result.error.message });
    }
    request.rawBody = rawBody;
    request.webhookVerification = result;
    const answer = await handler(result.payload, request, reply);
    if (reply.sent) return reply;
    if (answer === undefined) return reply.code(204).send();
    return answer;
  });
}
