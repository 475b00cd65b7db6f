import path from 'node:path';
import { parseByteSize } from './domain/byte-size.ts';
import { parseDuration, parseDurationList } from './domain/duration.ts';
import { LOG_FORMAT_SETTINGS, type LogFormatSetting } from './logger.ts';

export type Role = 'all' | 'api' | 'worker';

/** The request limits of the API (README, Configuration); a count of 0 turns that limit off. */
export interface RequestLimits {
  /** The window of the per-key and per-address request counts. */
  windowMs: number;
  perKey: number;
  perAddress: number;
  /** Failed authentications (a key presented and refused) per address and window; then that address is refused. */
  authFailures: number;
  authFailureWindowMs: number;
  /** Test sends in one request (aliases of sendTestWebhook in one document). */
  testSendsPerRequest: number;
  /** Test sends per workspace and minute. */
  testSendsPerMinute: number;
}

/** What one GraphQL request may ask for (README, GraphQL limits); checked before execution, budgets while resolving. */
export interface GraphQLLimits {
  /** Request body of /graphql (query and variables), in bytes. */
  maxBodyBytes: number;
  /** The query text, in bytes (comments and whitespace are not tokens, so tokens alone do not bound the lexer). */
  maxDocumentBytes: number;
  /** Lexical tokens of the query text; parsing stops at the limit. */
  maxTokens: number;
  /** Field selections written in the document (validation compares selections pairwise). */
  maxFields: number;
  /** Aliased field selections written in the document. */
  maxAliases: number;
  /** Fields at the root of one operation, fragments included. */
  maxRootFields: number;
  /** Nesting of field selections, fragments included; a root field is depth 1. */
  maxDepth: number;
  /** Each field costs 1; a list multiplies what it selects by its page size (`first`) or by listSize. */
  maxCost: number;
  /** Assumed length of a list that takes no `first` argument and has no default page size. */
  listSize: number;
  /** Data read to build one answer, estimated as JSON bytes. */
  maxResponseBytes: number;
  /** Time one request may spend resolving; fields not started by then are refused. */
  timeoutMs: number;
}

/** The environment variable that sets each GraphQL limit: error messages name it so a refused caller knows what to change. */
export const GRAPHQL_LIMIT_VARIABLES: Record<keyof GraphQLLimits, string> = {
  maxBodyBytes: 'SWITCHBOARD_GRAPHQL_MAX_BODY',
  maxDocumentBytes: 'SWITCHBOARD_GRAPHQL_MAX_DOCUMENT',
  maxTokens: 'SWITCHBOARD_GRAPHQL_MAX_TOKENS',
  maxFields: 'SWITCHBOARD_GRAPHQL_MAX_FIELDS',
  maxAliases: 'SWITCHBOARD_GRAPHQL_MAX_ALIASES',
  maxRootFields: 'SWITCHBOARD_GRAPHQL_MAX_ROOT_FIELDS',
  maxDepth: 'SWITCHBOARD_GRAPHQL_MAX_DEPTH',
  maxCost: 'SWITCHBOARD_GRAPHQL_MAX_COST',
  listSize: 'SWITCHBOARD_GRAPHQL_LIST_SIZE',
  maxResponseBytes: 'SWITCHBOARD_GRAPHQL_MAX_RESPONSE',
  timeoutMs: 'SWITCHBOARD_GRAPHQL_TIMEOUT',
};

export const DEFAULT_GRAPHQL_LIMITS: Readonly<GraphQLLimits> = {
  // A batch of 500 records of a few KiB each, or one record at the 1 MiB event limit, fits.
  maxBodyBytes: 4 * 1024 * 1024,
  maxDocumentBytes: 256 * 1024,
  // An inline batch of 500 records of every field is about 13,000 tokens.
  maxTokens: 20_000,
  maxFields: 1_000,
  maxAliases: 50,
  maxRootFields: 50,
  // The standard introspection query (GraphQL tools) is depth 15 and costs about 52,000; the UI's documents at most 6 and 6,000.
  maxDepth: 15,
  maxCost: 100_000,
  listSize: 10,
  maxResponseBytes: 32 * 1024 * 1024,
  timeoutMs: 15_000,
};

export interface Config {
  host: string;
  port: number;
  /** postgres://… selects PostgreSQL; undefined selects PGlite in dataDir. */
  databaseUrl: string | undefined;
  dataDir: string;
  /** A DATA_DIR lock whose holder has not refreshed it for this long is taken over. */
  lockStaleMs: number;
  apiKey: string | undefined;
  encryptionKey: string | undefined;
  retryScheduleMs: number[];
  deliveryTimeoutMs: number;
  /** How long a claimed delivery stays reserved for its worker; then another worker may claim it (crash recovery). */
  leaseMs: number;
  /** How often a worker refreshes its heartbeat; one silent for 4 of these is dead and its leases are released. */
  heartbeatMs: number;
  /** Requests in flight per worker process, overall and per endpoint (webhook). */
  maxInFlight: number;
  maxInFlightPerEndpoint: number;
  allowPrivateTargets: boolean;
  /** Why allowPrivateTargets has its value, for the start-up banner. */
  privateTargetsDefault: PrivateTargetsReason;
  production: boolean;
  /** A webhook whose deliveries have all failed for this long is disabled. */
  disableAfterMs: number;
  /** Delivered events and attempts older than this are removed. */
  retentionMs: number;
  logLevel: string;
  /** Request rate limits of the API (0 turns one off). */
  limits: RequestLimits;
  /** Webhooks a workspace may have (not deleted). */
  maxWebhooksPerWorkspace: number;
  /** How long a client may take to send its headers, its whole request, or stay idle, before its connection is closed. */
  timeouts: { headersMs: number; requestMs: number; keepAliveMs: number; idleMs: number };
  /** Take the client's address from X-Forwarded-For (behind a reverse proxy), for the per-address limits. */
  trustProxy: boolean;
  /** A bearer token GET /metrics asks for; undefined: only loopback clients not going through a proxy may scrape. */
  metricsToken: string | undefined;
  /** How old the database figures of a scrape may be: one read serves every scrape within this time. */
  metricsMaxAgeMs: number;
  /** LOG_FORMAT: json, pretty, or auto (pretty on a terminal, json otherwise). */
  logFormat: LogFormatSetting;
  graphql: GraphQLLimits;
}

type Env = Record<string, string | undefined>;

/**
 * 'configured': SWITCHBOARD_ALLOW_PRIVATE_TARGETS was given; 'loopback': allowed by default because the server
 * listens on loopback only (local work); 'refused': refused by default (production, or reachable by others).
 */
export type PrivateTargetsReason = 'configured' | 'loopback' | 'refused';

/** Whether HOST accepts connections from this machine only. */
export function isLoopbackHost(host: string): boolean {
  const name = host.trim().toLowerCase().replace(/^\[(.*)\]$/, '$1');
  if (name === 'localhost' || name === '::1') return true;
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(name) || /^::ffff:127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(name);
}

function parseBoolean(value: string, name: string): boolean {
  if (/^(1|true|yes|on)$/i.test(value)) return true;
  if (/^(0|false|no|off)$/i.test(value)) return false;
  throw new Error(`${name}: "${value}" is not a boolean (use true or false)`);
}

function parsePositiveInteger(value: string, name: string): number {
  const number = Number(value);
  if (!Number.isInteger(number) || number < 1) throw new Error(`${name}: "${value}" is not a positive integer`);
  return number;
}

function parseCount(value: string, name: string): number {
  const number = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(number)) throw new Error(`${name}: "${value}" is not a whole number (0 turns the limit off)`);
  return number;
}

function parsePositiveDuration(value: string, name: string): number {
  const ms = parseDuration(value, name);
  if (ms < 1) throw new Error(`${name}: "${value}" must be longer than 0`);
  return ms;
}

function parsePort(value: string, name: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`${name}: "${value}" is not a port number`);
  return port;
}

/** The start-up line saying that webhooks may target this machine and its network, or undefined when they may not. */
export function privateTargetsNotice(config: Pick<Config, 'allowPrivateTargets' | 'privateTargetsDefault' | 'host'>): string | undefined {
  if (!config.allowPrivateTargets) return undefined;
  return config.privateTargetsDefault === 'loopback'
    ? `Private targets allowed: listening on loopback (${config.host}) only, webhooks may target this machine and its network (set SWITCHBOARD_ALLOW_PRIVATE_TARGETS=false to refuse them).`
    : 'Private targets allowed (SWITCHBOARD_ALLOW_PRIVATE_TARGETS=true): webhooks may target this machine and its network.';
}

function parseLogFormat(value: string): LogFormatSetting {
  const setting = value.toLowerCase() as LogFormatSetting;
  if (!LOG_FORMAT_SETTINGS.includes(setting)) throw new Error(`LOG_FORMAT: "${value}" must be json, pretty or auto`);
  return setting;
}

function loadGraphQLLimits(env: Env): GraphQLLimits {
  const limits: GraphQLLimits = { ...DEFAULT_GRAPHQL_LIMITS };
  for (const key of Object.keys(GRAPHQL_LIMIT_VARIABLES) as Array<keyof GraphQLLimits>) {
    const name = GRAPHQL_LIMIT_VARIABLES[key];
    const value = env[name];
    if (value === undefined || value === '') continue;
    if (key === 'timeoutMs') limits[key] = parseDuration(value, name);
    else if (key.endsWith('Bytes')) limits[key] = parseByteSize(value, name);
    else limits[key] = parsePositiveInteger(value, name);
  }
  if (limits.timeoutMs < 1) throw new Error(`${GRAPHQL_LIMIT_VARIABLES.timeoutMs}: must be at least 1ms`);
  return limits;
}

/**
 * Reads the configuration from environment variables (CONTRACT.md section 1), then applies `overrides` (tests,
 * embedding) before the defaults that depend on other settings are filled in and every rule is checked: an
 * override is held to the same rules as the variable it stands for. Throws naming the bad variable.
 */
export function loadConfig(env: Env = process.env, overrides: Partial<Config> = {}): Config {
  const production = env.NODE_ENV === 'production';
  const databaseUrl = env.DATABASE_URL?.trim() || undefined;
  if (databaseUrl && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    throw new Error(`DATABASE_URL: "${databaseUrl}" must start with postgres:// or postgresql://`);
  }
  const config: Config = {
    host: env.HOST || '127.0.0.1',
    port: parsePort(env.PORT || '3000', 'PORT'),
    databaseUrl,
    dataDir: path.resolve(env.DATA_DIR || './data'),
    lockStaleMs: parseDuration(env.SWITCHBOARD_DATA_DIR_LOCK_STALE || '15s', 'SWITCHBOARD_DATA_DIR_LOCK_STALE'),
    apiKey: env.SWITCHBOARD_API_KEY || undefined,
    encryptionKey: env.SWITCHBOARD_ENCRYPTION_KEY || undefined,
    retryScheduleMs: parseDurationList(env.SWITCHBOARD_RETRY_SCHEDULE || '1m,5m,15m,1h,6h', 'SWITCHBOARD_RETRY_SCHEDULE'),
    deliveryTimeoutMs: parseDuration(env.SWITCHBOARD_DELIVERY_TIMEOUT || '30s', 'SWITCHBOARD_DELIVERY_TIMEOUT'),
    leaseMs: 0, // set below: its default depends on the timeout
    heartbeatMs: parseDuration(env.SWITCHBOARD_HEARTBEAT || '2s', 'SWITCHBOARD_HEARTBEAT'),
    maxInFlight: parsePositiveInteger(env.SWITCHBOARD_MAX_IN_FLIGHT || '1024', 'SWITCHBOARD_MAX_IN_FLIGHT'),
    maxInFlightPerEndpoint: parsePositiveInteger(
      env.SWITCHBOARD_MAX_IN_FLIGHT_PER_ENDPOINT || '32',
      'SWITCHBOARD_MAX_IN_FLIGHT_PER_ENDPOINT',
    ),
    allowPrivateTargets: false, // set below: its default depends on the listen address
    privateTargetsDefault: 'refused',
    production,
    disableAfterMs: parseDuration(env.SWITCHBOARD_DISABLE_AFTER || '5d', 'SWITCHBOARD_DISABLE_AFTER'),
    retentionMs: parseDuration(env.SWITCHBOARD_RETENTION || '30d', 'SWITCHBOARD_RETENTION'),
    logLevel: env.LOG_LEVEL || 'info',
    limits: {
      windowMs: parsePositiveDuration(env.SWITCHBOARD_RATE_LIMIT_WINDOW || '10s', 'SWITCHBOARD_RATE_LIMIT_WINDOW'),
      perKey: parseCount(env.SWITCHBOARD_RATE_LIMIT_PER_KEY || '5000', 'SWITCHBOARD_RATE_LIMIT_PER_KEY'),
      perAddress: parseCount(env.SWITCHBOARD_RATE_LIMIT_PER_ADDRESS || '10000', 'SWITCHBOARD_RATE_LIMIT_PER_ADDRESS'),
      authFailures: parseCount(env.SWITCHBOARD_AUTH_FAILURE_LIMIT || '30', 'SWITCHBOARD_AUTH_FAILURE_LIMIT'),
      authFailureWindowMs: parsePositiveDuration(env.SWITCHBOARD_AUTH_FAILURE_WINDOW || '1m', 'SWITCHBOARD_AUTH_FAILURE_WINDOW'),
      testSendsPerRequest: parseCount(env.SWITCHBOARD_TEST_SENDS_PER_REQUEST || '5', 'SWITCHBOARD_TEST_SENDS_PER_REQUEST'),
      testSendsPerMinute: parseCount(env.SWITCHBOARD_TEST_SENDS_PER_MINUTE || '30', 'SWITCHBOARD_TEST_SENDS_PER_MINUTE'),
    },
    maxWebhooksPerWorkspace: parseCount(env.SWITCHBOARD_MAX_WEBHOOKS_PER_WORKSPACE || '100', 'SWITCHBOARD_MAX_WEBHOOKS_PER_WORKSPACE'),
    timeouts: {
      headersMs: parsePositiveDuration(env.SWITCHBOARD_HEADERS_TIMEOUT || '10s', 'SWITCHBOARD_HEADERS_TIMEOUT'),
      requestMs: parsePositiveDuration(env.SWITCHBOARD_REQUEST_TIMEOUT || '30s', 'SWITCHBOARD_REQUEST_TIMEOUT'),
      keepAliveMs: parsePositiveDuration(env.SWITCHBOARD_KEEP_ALIVE_TIMEOUT || '10s', 'SWITCHBOARD_KEEP_ALIVE_TIMEOUT'),
      idleMs: 0, // set below: its default depends on the delivery timeout
    },
    trustProxy: env.SWITCHBOARD_TRUST_PROXY ? parseBoolean(env.SWITCHBOARD_TRUST_PROXY, 'SWITCHBOARD_TRUST_PROXY') : false,
    metricsToken: env.SWITCHBOARD_METRICS_TOKEN || undefined,
    metricsMaxAgeMs: parseDuration(env.SWITCHBOARD_METRICS_MAX_AGE || '5s', 'SWITCHBOARD_METRICS_MAX_AGE'),
    logFormat: parseLogFormat(env.LOG_FORMAT || 'auto'),
    graphql: loadGraphQLLimits(env),
  };
  Object.assign(config, overrides);
  // Copied: the derived idle timeout below must not write into an object the caller passed in.
  config.timeouts = { ...config.timeouts };
  // A test send keeps its client's connection silent for up to one delivery timeout: the idle cut must outlast it.
  if (overrides.timeouts?.idleMs === undefined) {
    config.timeouts.idleMs = env.SWITCHBOARD_IDLE_TIMEOUT
      ? parsePositiveDuration(env.SWITCHBOARD_IDLE_TIMEOUT, 'SWITCHBOARD_IDLE_TIMEOUT')
      : config.deliveryTimeoutMs + 30_000;
  }
  // A server others can reach must not become a proxy into the network it runs in; one listening on loopback
  // only is someone's local setup, where a receiver on localhost is the normal case.
  const allowPrivate = env.SWITCHBOARD_ALLOW_PRIVATE_TARGETS;
  if (overrides.allowPrivateTargets !== undefined) {
    config.privateTargetsDefault = overrides.privateTargetsDefault ?? 'configured';
  } else if (allowPrivate !== undefined && allowPrivate !== '') {
    config.allowPrivateTargets = parseBoolean(allowPrivate, 'SWITCHBOARD_ALLOW_PRIVATE_TARGETS');
    config.privateTargetsDefault = 'configured';
  } else if (!config.production && isLoopbackHost(config.host)) {
    config.allowPrivateTargets = true;
    config.privateTargetsDefault = 'loopback';
  }
  // A lease must outlast a queued wait plus one whole attempt, or a slow attempt could be claimed twice.
  if (overrides.leaseMs === undefined) {
    config.leaseMs = env.SWITCHBOARD_LEASE
      ? parseDuration(env.SWITCHBOARD_LEASE, 'SWITCHBOARD_LEASE')
      : 2 * config.deliveryTimeoutMs + 30_000;
  }
  validateConfig(config);
  return config;
}

/** The rules every configuration meets, however its values were given; throws naming the variable. */
export function validateConfig(config: Config): void {
  if (!Number.isInteger(config.port) || config.port < 0 || config.port > 65_535) {
    throw new Error(`PORT: ${config.port} must be a whole number from 0 to 65535`);
  }
  if (config.retryScheduleMs.length === 0 || config.retryScheduleMs.some((ms) => !Number.isFinite(ms) || ms < 0)) {
    throw new Error('SWITCHBOARD_RETRY_SCHEDULE: must hold at least one duration, none negative');
  }
  if (!(config.deliveryTimeoutMs >= 1)) throw new Error('SWITCHBOARD_DELIVERY_TIMEOUT: must be at least 1ms');
  for (const [value, name] of [
    [config.maxInFlight, 'SWITCHBOARD_MAX_IN_FLIGHT'],
    [config.maxInFlightPerEndpoint, 'SWITCHBOARD_MAX_IN_FLIGHT_PER_ENDPOINT'],
  ] as const) {
    if (!Number.isInteger(value) || value < 1) throw new Error(`${name}: ${value} must be a whole number of at least 1`);
  }
  if (config.timeouts.headersMs > config.timeouts.requestMs) {
    throw new Error(`SWITCHBOARD_HEADERS_TIMEOUT: must not be longer than SWITCHBOARD_REQUEST_TIMEOUT (${config.timeouts.requestMs} ms)`);
  }
  if (config.timeouts.idleMs < config.deliveryTimeoutMs + 1_000) {
    throw new Error(`SWITCHBOARD_IDLE_TIMEOUT: must be at least 1s longer than SWITCHBOARD_DELIVERY_TIMEOUT (${config.deliveryTimeoutMs} ms)`);
  }
  if (config.lockStaleMs < 1_000) {
    throw new Error('SWITCHBOARD_DATA_DIR_LOCK_STALE: must be at least 1s (the holder refreshes its lock every third of it)');
  }
  if (config.leaseMs < config.deliveryTimeoutMs + 1_000) {
    throw new Error(`SWITCHBOARD_LEASE: must be at least 1s longer than SWITCHBOARD_DELIVERY_TIMEOUT (${config.deliveryTimeoutMs} ms)`);
  }
  if (config.heartbeatMs < 100) throw new Error('SWITCHBOARD_HEARTBEAT: must be at least 100ms');
}
