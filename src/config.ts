import path from 'node:path';
import { parseDuration, parseDurationList } from './domain/duration.ts';

export type Role = 'all' | 'api' | 'worker';

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

/** Reads the configuration from environment variables (CONTRACT.md section 1); throws naming the bad variable. */
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
  };
  // A server others can reach must not become a proxy into the network it runs in; one listening on loopback
  // only is someone's local setup, where a receiver on localhost is the normal case.
  const allowPrivate = env.SWITCHBOARD_ALLOW_PRIVATE_TARGETS;
  if (allowPrivate !== undefined && allowPrivate !== '') {
    config.allowPrivateTargets = parseBoolean(allowPrivate, 'SWITCHBOARD_ALLOW_PRIVATE_TARGETS');
    config.privateTargetsDefault = 'configured';
  } else if (!production && isLoopbackHost(config.host)) {
    config.allowPrivateTargets = true;
    config.privateTargetsDefault = 'loopback';
  }
  if (config.lockStaleMs < 1_000) {
    throw new Error('SWITCHBOARD_DATA_DIR_LOCK_STALE: must be at least 1s (the holder refreshes its lock every third of it)');
  }
  // A lease must outlast a queued wait plus one whole attempt, or a slow attempt could be claimed twice.
  config.leaseMs = env.SWITCHBOARD_LEASE
    ? parseDuration(env.SWITCHBOARD_LEASE, 'SWITCHBOARD_LEASE')
    : 2 * config.deliveryTimeoutMs + 30_000;
  if (config.leaseMs < config.deliveryTimeoutMs + 1_000) {
    throw new Error(`SWITCHBOARD_LEASE: must be at least 1s longer than SWITCHBOARD_DELIVERY_TIMEOUT (${config.deliveryTimeoutMs} ms)`);
  }
  return { ...config, ...overrides };
}
