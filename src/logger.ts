import { pino, type Logger } from 'pino';

/** Paths that may hold a secret or a whole payload: never written to logs. */
export const REDACTED_PATHS = [
  'secret',
  '*.secret',
  'previousSecret',
  '*.previousSecret',
  'apiKey',
  '*.apiKey',
  'key',
  '*.key',
  'req.headers.authorization',
  'headers.authorization',
  'payload',
  '*.payload',
  'body',
  '*.body',
];

export function createLogger(level: string): Logger {
  return pino({ level, redact: { paths: REDACTED_PATHS, censor: '[redacted]' } });
}
