import type { IncomingMessage, ServerResponse } from 'node:http';

export declare const DEFAULT_TOLERANCE_SECONDS: 300;
export declare const DEFAULT_MAX_BODY_BYTES: number;

export type WebhookAction = 'created' | 'updated' | 'deleted' | 'restored' | 'destroyed';
export type WebhookObjectName = 'person' | 'company' | 'opportunity';
/** `{object}.{action}`, e.g. `person.updated`. */
export type WebhookOperation = `${WebhookObjectName}.${WebhookAction}` | `${string}.${WebhookAction}`;

interface RecordBase {
  id: string;
  createdAt: string;
  updatedAt: string;
  deletedAt: string | null;
  [field: string]: unknown;
}
export interface PersonRecord extends RecordBase {
  firstName?: string | null;
  lastName?: string | null;
  email?: string | null;
  jobTitle?: string | null;
  phone?: string | null;
  city?: string | null;
  companyId?: string | null;
}
export interface CompanyRecord extends RecordBase {
  name?: string | null;
  domainName?: string | null;
  employees?: number | null;
  address?: string | null;
}
export interface OpportunityRecord extends RecordBase {
  name?: string | null;
  amount?: unknown;
  stage?: string | null;
  closeDate?: string | null;
  companyId?: string | null;
  pointOfContactId?: string | null;
}
export type WebhookRecord = PersonRecord | CompanyRecord | OpportunityRecord | RecordBase;

/** The body of every delivery: exactly JSON.stringify of this. */
export interface WebhookEvent<TRecord = WebhookRecord> {
  /** The event id: the same for every webhook and every retry. Deduplicate on it. */
  id: string;
  workspaceId: string;
  webhookId: string;
  operation: WebhookOperation;
  /** ISO 8601 time of the record write. */
  timestamp: string;
  /** State after the operation (for deleted/destroyed: the last state). */
  record: TRecord;
  /** State before; null for created. */
  previousRecord: TRecord | null;
  /** The fields an update changed; null when the operation is not an update. */
  updatedFields: string[] | null;
}

export type WebhookVerificationReason = 'missing_header' | 'bad_format' | 'stale' | 'future' | 'mismatch' | 'bad_json';

export declare class WebhookVerificationError extends Error {
  readonly name: 'WebhookVerificationError';
  readonly reason: WebhookVerificationReason;
  /** The header at fault, when there is one (e.g. `X-Twenty-Timestamp`). */
  readonly header: string | undefined;
  constructor(reason: WebhookVerificationReason, message: string, header?: string);
}

export declare class WebhookBodyTooLargeError extends Error {
  readonly name: 'WebhookBodyTooLargeError';
  readonly limit: number;
  readonly statusCode: 413;
  constructor(limit: number);
}

/** fetch's Headers, a Map, or node's IncomingHttpHeaders; names are matched case-insensitively. */
export type HeadersLike =
  | { get(name: string): string | null | undefined }
  | Map<string, string | string[] | undefined>
  | Record<string, string | string[] | number | undefined>;

export interface VerifyWebhookOptions {
  /** The request body exactly as received. Never JSON.stringify(parsedBody): its bytes differ. */
  rawBody: Buffer | Uint8Array | ArrayBuffer | string;
  headers: HeadersLike;
  /** The webhook secret; several during a rotation (any one matching is enough). */
  secret: string | readonly string[];
  /** Refuse timestamps older or newer than this. Default 300. */
  toleranceSeconds?: number;
  /** The current time (Date, or milliseconds since the epoch). Default: the system clock. */
  now?: Date | number;
}

export type SignatureScheme = 'twenty' | 'standard';

export interface WebhookCheckSuccess<TRecord = WebhookRecord> {
  ok: true;
  payload: WebhookEvent<TRecord>;
  /** Which header proved the delivery: X-Twenty-Signature (`twenty`) or webhook-signature (`standard`). */
  scheme: SignatureScheme;
  /** The signed Unix timestamp, in seconds. */
  timestamp: number;
  /** Index into the given secrets of the one that matched. */
  secretIndex: number;
  /** The webhook-id header, when the Standard Webhooks signature was the one verified. */
  webhookMessageId?: string;
}
export interface WebhookCheckFailure {
  ok: false;
  error: WebhookVerificationError;
}
export type WebhookCheckResult<TRecord = WebhookRecord> = WebhookCheckSuccess<TRecord> | WebhookCheckFailure;

/**
 * Verifies X-Twenty-Signature/X-Twenty-Timestamp or the Standard Webhooks headers in constant time and
 * returns the parsed payload. Throws WebhookVerificationError (with `reason`) when the delivery is not genuine
 * and fresh; throws TypeError for a programming error (e.g. a parsed object as rawBody, no secret).
 */
export declare function verifyWebhook<TRecord = WebhookRecord>(options: VerifyWebhookOptions): WebhookEvent<TRecord>;

/** Like verifyWebhook, but returns a result instead of throwing for a bad delivery. */
export declare function checkWebhook<TRecord = WebhookRecord>(options: VerifyWebhookOptions): WebhookCheckResult<TRecord>;

/** The Standard Webhooks HMAC key for a secret: the base64 after `whsec_`, else (not base64, or no prefix) its UTF-8 bytes. */
export declare function standardWebhooksKey(secret: string): Buffer;

export interface SignWebhookOptions {
  body: Buffer | Uint8Array | string;
  secret: string | readonly string[];
  /** The event id (webhook-id). Default: the body's `id`. */
  id?: string;
  /** Unix seconds. Default: now. */
  timestamp?: number;
}
export interface SignedWebhookHeaders {
  'content-type': 'application/json';
  'x-twenty-signature': string;
  'x-twenty-timestamp': string;
  'webhook-id': string;
  'webhook-timestamp': string;
  'webhook-signature': string;
  /** With several secrets, also 'x-twenty-signature-previous': the previous secrets' Twenty signatures. */
  [header: string]: string;
}
/** The headers Switchboard would send with this body: for testing a receiver. */
export declare function signWebhook(options: SignWebhookOptions): SignedWebhookHeaders;

export interface RawBodyOptions {
  /** Default 2 MiB (Switchboard never sends more than 1 MiB). */
  maxBodyBytes?: number;
}
/** The raw body of a node request (or one a framework kept as a Buffer/string). Rejects with WebhookBodyTooLargeError over the limit. */
export declare function readRawBody(req: IncomingMessage, options?: RawBodyOptions): Promise<Buffer>;

export interface WebhookMiddlewareOptions extends RawBodyOptions {
  secret: string | readonly string[];
  toleranceSeconds?: number;
  /** Clock for tests. */
  now?: () => Date | number;
}
export interface VerifiedRequest<TRecord = WebhookRecord> extends IncomingMessage {
  rawBody: Buffer;
  webhook: WebhookEvent<TRecord>;
  webhookVerification: WebhookCheckSuccess<TRecord>;
}
/**
 * Express/Connect-style middleware (also usable from plain node:http). Mount it before any JSON body parser.
 * On success sets req.rawBody, req.webhook and req.webhookVerification and calls next(); otherwise answers
 * 401 (signature), 400 (bad JSON) or 413 (too large) with `{ error: reason, message }`.
 */
export declare function webhookMiddleware(
  options: WebhookMiddlewareOptions,
): (req: IncomingMessage, res: ServerResponse, next: (error?: unknown) => void) => void;

export interface FastifyWebhooksOptions<TRecord = WebhookRecord> extends WebhookMiddlewareOptions {
  /** Route path inside the plugin's prefix. Default `/webhooks`. */
  path?: string;
  /** Called with the verified payload; its return value is the reply body (undefined → 204). */
  handler: (payload: WebhookEvent<TRecord>, request: any, reply: any) => unknown | Promise<unknown>;
  prefix?: string;
}
/** Fastify plugin: `app.register(fastifyWebhooks, { secret, path, handler })`. */
export declare function fastifyWebhooks(fastify: any, options: FastifyWebhooksOptions): Promise<void>;
