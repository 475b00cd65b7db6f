import { Pool } from 'undici';
import { ERROR_TEXT_LIMIT, RESPONSE_BODY_LIMIT, storableText, textFromBytes } from '../domain/stored-text.ts';
import { createConnector, type Resolver } from './ssrf.ts';

export interface SenderOptions {
  /** Whole-request timeout: connect, send, headers and the (capped) body. */
  timeoutMs: number;
  allowPrivateTargets: boolean;
  /** Refuse `http:` targets at send time (production). */
  requireHttps: boolean;
  /** Upper bound of open connections per origin. */
  connectionsPerOrigin: number;
  /** Name resolution behind the private-target guard (default: the system's). */
  resolve?: Resolver;
}

export interface OutgoingRequest {
  url: string;
  headers: Record<string, string>;
  body: string;
}

export interface SendResult {
  /** The answer's status, when one came. */
  statusCode: number | null;
  /** First 4 KiB of the answer, as text with NUL and invalid UTF-8 bytes escaped (see domain/stored-text.ts). */
  responseBody: string | null;
  /** Why the attempt failed without an answer (network error, timeout, refused target), as storable text. */
  error: string | null;
  retryAfter: string | undefined;
  durationMs: number;
  /** The request was cut because the worker is stopping: not an outcome to store. */
  abortedByStop: boolean;
}

const STOPPING = Symbol('stopping');

/** Sends webhook POSTs with one keep-alive undici Pool per origin. */
export class Sender {
  private readonly pools = new Map<string, Pool>();
  private readonly inFlight = new Set<AbortController>();
  private readonly connector;

  constructor(private readonly options: SenderOptions) {
    this.connector = createConnector({
      allowPrivateTargets: options.allowPrivateTargets,
      connectTimeoutMs: Math.min(options.timeoutMs, 10_000),
      resolve: options.resolve,
    });
  }

  async send(request: OutgoingRequest): Promise<SendResult> {
    const started = performance.now();
    const result = (partial: Partial<SendResult>): SendResult => ({
      statusCode: null,
      responseBody: null,
      error: null,
      retryAfter: undefined,
      abortedByStop: false,
      ...partial,
      durationMs: performance.now() - started,
    });

    let url: URL;
    try {
      url = new URL(request.url);
    } catch {
      return result({ error: `invalid target URL` });
    }
    if (url.protocol !== 'https:' && (this.options.requireHttps || url.protocol !== 'http:')) {
      return result({ error: `target URL must use https: (got ${url.protocol})` });
    }

    const controller = new AbortController();
    this.inFlight.add(controller);
    const timer = setTimeout(() => controller.abort(new TimeoutError(this.options.timeoutMs)), this.options.timeoutMs);
    try {
      const response = await this.pool(url.origin).request({
        method: 'POST',
        path: `${url.pathname}${url.search}`,
        headers: request.headers,
        body: request.body,
        signal: controller.signal,
        headersTimeout: this.options.timeoutMs,
        bodyTimeout: this.options.timeoutMs,
      });
      const retryAfter = response.headers['retry-after'];
      const responseBody = await readCapped(response.body);
      return result({
        statusCode: response.statusCode,
        responseBody,
        retryAfter: Array.isArray(retryAfter) ? retryAfter[0] : retryAfter,
      });
    } catch (error) {
      const reason = controller.signal.aborted ? controller.signal.reason : error;
      if (reason === STOPPING) return result({ error: 'worker stopping', abortedByStop: true });
      // Parser errors can quote what the receiver sent: the text is escaped like an answer.
      return result({ error: storableText(describeError(reason), ERROR_TEXT_LIMIT) });
    } finally {
      clearTimeout(timer);
      this.inFlight.delete(controller);
    }
  }

  /** Cuts every request in flight (their results come back with abortedByStop). */
  abortAll(): void {
    for (const controller of this.inFlight) controller.abort(STOPPING);
  }

  async close(): Promise<void> {
    this.abortAll();
    const pools = [...this.pools.values()];
    this.pools.clear();
    await Promise.all(pools.map((pool) => pool.destroy().catch(() => {})));
  }

  private pool(origin: string): Pool {
    let pool = this.pools.get(origin);
    if (!pool) {
      pool = new Pool(origin, {
        connections: this.options.connectionsPerOrigin,
        pipelining: 1,
        connect: this.connector,
        headersTimeout: this.options.timeoutMs,
        bodyTimeout: this.options.timeoutMs,
      });
      this.pools.set(origin, pool);
    }
    return pool;
  }
}

class TimeoutError extends Error {
  constructor(timeoutMs: number) {
    super(`timed out after ${timeoutMs} ms`);
  }
}

async function readCapped(body: AsyncIterable<Buffer> & { destroy(): void }): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    chunks.push(chunk);
    size += chunk.length;
    // Leaving the loop destroys the stream: the rest of a large answer is never read.
    if (size >= RESPONSE_BODY_LIMIT) break;
  }
  return textFromBytes(Buffer.concat(chunks).subarray(0, RESPONSE_BODY_LIMIT));
}

function describeError(error: unknown): string {
  if (error instanceof TimeoutError) return error.message;
  if (error instanceof Error) {
    const code = (error as { code?: string }).code;
    const cause = (error as { cause?: unknown }).cause;
    const message = error.message || (cause instanceof Error ? cause.message : '') || error.name;
    return code && !message.includes(code) ? `${code}: ${message}` : message;
  }
  return String(error);
}
